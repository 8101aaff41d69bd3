#include "node/node_config.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/config.h"
#include "common/container_runner.h"
#include "common/file_util.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr int64_t kMaxLimit = 1'000'000'000;

// [disclosure]: every rule of the gate, each defaulting to DisclosureRules'
// value. Limits of 0 or below would switch a rule off silently, so each must
// be >= 1; an operator who wants a rule off sets it to its most lenient value.
absl::StatusOr<DisclosureRules> ReadDisclosureRules(const ConfigTable& table) {
  SPOOR_RETURN_IF_ERROR(table.CheckKnownKeys(
      {"min_records", "min_cell_count", "max_parameter_fraction", "max_levels", "min_sites",
       "allow_event_time_sums", "allow_extremes", "allow_quantiles", "min_time_bin"}));
  const DisclosureRules defaults;
  DisclosureRules rules;
  SPOOR_ASSIGN_OR_RETURN(rules.min_records,
                         table.OptionalInteger("min_records", defaults.min_records, 1, kMaxLimit));
  SPOOR_ASSIGN_OR_RETURN(
      rules.min_cell_count,
      table.OptionalInteger("min_cell_count", defaults.min_cell_count, 1, kMaxLimit));
  SPOOR_ASSIGN_OR_RETURN(
      rules.max_parameter_fraction,
      table.OptionalDouble("max_parameter_fraction", defaults.max_parameter_fraction));
  // 0 would refuse every matrix; above 1 would let a model have more
  // parameters than records, which no sound analysis needs.
  if (!(rules.max_parameter_fraction > 0 && rules.max_parameter_fraction <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        table.file(), ":", table.LineOf("max_parameter_fraction"),
        ": key 'disclosure.max_parameter_fraction' must be a number greater than 0 and at most "
        "1, found ",
        rules.max_parameter_fraction));
  }
  SPOOR_ASSIGN_OR_RETURN(rules.max_levels,
                         table.OptionalInteger("max_levels", defaults.max_levels, 1, kMaxLimit));
  SPOOR_ASSIGN_OR_RETURN(rules.min_sites,
                         table.OptionalInteger("min_sites", defaults.min_sites, 1, kMaxLimit));
  SPOOR_ASSIGN_OR_RETURN(
      rules.allow_event_time_sums,
      table.OptionalBool("allow_event_time_sums", defaults.allow_event_time_sums));
  SPOOR_ASSIGN_OR_RETURN(rules.allow_extremes,
                         table.OptionalBool("allow_extremes", defaults.allow_extremes));
  SPOOR_ASSIGN_OR_RETURN(rules.allow_quantiles,
                         table.OptionalBool("allow_quantiles", defaults.allow_quantiles));
  SPOOR_ASSIGN_OR_RETURN(rules.min_time_bin,
                         table.OptionalDouble("min_time_bin", defaults.min_time_bin));
  if (!(rules.min_time_bin >= 0 && std::isfinite(rules.min_time_bin))) {
    return absl::InvalidArgumentError(absl::StrCat(
        table.file(), ":", table.LineOf("min_time_bin"),
        ": key 'disclosure.min_time_bin' must be a number >= 0 (0: exact times), found ",
        rules.min_time_bin));
  }
  return rules;
}

absl::Status KeyError(const ConfigTable& table, std::string_view key, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat(table.file(), ":", table.LineOf(key), ": ", table.path(), ": ", what));
}

absl::StatusOr<DatasetMetadata> ReadMetadata(const ConfigTable& table) {
  SPOOR_RETURN_IF_ERROR(
      table.CheckKnownKeys({"title", "description", "contact", "licence", "keywords"}));
  DatasetMetadata metadata;
  SPOOR_ASSIGN_OR_RETURN(metadata.title, table.OptionalString("title", ""));
  SPOOR_ASSIGN_OR_RETURN(metadata.description, table.OptionalString("description", ""));
  SPOOR_ASSIGN_OR_RETURN(metadata.contact, table.OptionalString("contact", ""));
  SPOOR_ASSIGN_OR_RETURN(metadata.licence, table.OptionalString("licence", ""));
  SPOOR_ASSIGN_OR_RETURN(metadata.keywords, table.OptionalStringList("keywords"));
  return metadata;
}

// [[datasets.variables]]: name, from, unit, to_unit, molar_mass, scale,
// offset, codes = { "1" = "M", ... }.
absl::StatusOr<std::vector<VariableMapping>> ReadMappings(const ConfigTable& dataset) {
  SPOOR_ASSIGN_OR_RETURN(std::vector<ConfigTable> tables, dataset.TableArray("variables"));
  std::vector<VariableMapping> mappings;
  for (const ConfigTable& table : tables) {
    SPOOR_RETURN_IF_ERROR(table.CheckKnownKeys(
        {"name", "from", "unit", "to_unit", "molar_mass", "scale", "offset", "codes"}));
    VariableMapping mapping;
    SPOOR_ASSIGN_OR_RETURN(mapping.name, table.RequiredString("name"));
    SPOOR_ASSIGN_OR_RETURN(mapping.from, table.OptionalString("from", ""));
    SPOOR_ASSIGN_OR_RETURN(mapping.unit, table.OptionalString("unit", ""));
    SPOOR_ASSIGN_OR_RETURN(mapping.to_unit, table.OptionalString("to_unit", ""));
    SPOOR_ASSIGN_OR_RETURN(mapping.molar_mass, table.OptionalDouble("molar_mass", 0));
    SPOOR_ASSIGN_OR_RETURN(mapping.scale, table.OptionalDouble("scale", 1));
    SPOOR_ASSIGN_OR_RETURN(mapping.offset, table.OptionalDouble("offset", 0));
    SPOOR_ASSIGN_OR_RETURN(ConfigTable codes, table.Table("codes"));
    for (const std::string& code : codes.Keys()) {
      SPOOR_ASSIGN_OR_RETURN(std::string level, codes.RequiredString(code));
      mapping.codes.emplace_back(code, std::move(level));
    }
    mappings.push_back(std::move(mapping));
  }
  if (absl::Status status = CheckMappings(mappings); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dataset.file(), ":", dataset.LineOf("variables"), ": ", status.message()));
  }
  return mappings;
}

// [datasets.omop]: schema, and [[datasets.omop.variables]] of name, kind,
// concepts.
absl::StatusOr<OmopView> ReadOmop(const ConfigTable& table, SqlDialect dialect) {
  SPOOR_RETURN_IF_ERROR(table.CheckKnownKeys({"schema", "variables"}));
  OmopView view;
  SPOOR_ASSIGN_OR_RETURN(view.schema, table.OptionalString("schema", ""));
  SPOOR_ASSIGN_OR_RETURN(std::vector<ConfigTable> variables, table.TableArray("variables"));
  for (const ConfigTable& entry : variables) {
    SPOOR_RETURN_IF_ERROR(entry.CheckKnownKeys({"name", "kind", "concepts"}));
    OmopVariable variable;
    SPOOR_ASSIGN_OR_RETURN(variable.name, entry.RequiredString("name"));
    SPOOR_ASSIGN_OR_RETURN(std::string kind, entry.RequiredString("kind"));
    absl::StatusOr<OmopKind> parsed = ParseOmopKind(kind);
    if (!parsed.ok()) return KeyError(entry, "kind", std::string(parsed.status().message()));
    variable.kind = *parsed;
    SPOOR_ASSIGN_OR_RETURN(variable.concepts, entry.OptionalIntegerList("concepts"));
    view.variables.push_back(std::move(variable));
  }
  // The SQL is made again at each load; made here too so that a bad view
  // stops the node at start-up, with the file and line.
  absl::StatusOr<std::string> sql = OmopViewSql(view, dialect);
  if (!sql.ok()) return KeyError(table, "variables", std::string(sql.status().message()));
  return view;
}

absl::StatusOr<DatasetConfig> ReadDataset(const ConfigTable& table, const std::string& path) {
  SPOOR_RETURN_IF_ERROR(table.CheckKnownKeys({"name", "source", "path", "connection", "table",
                                              "query", "omop", "refresh_seconds", "timeout_seconds",
                                              "metadata", "variables", "privacy_budget"}));
  DatasetConfig dataset;
  SPOOR_ASSIGN_OR_RETURN(dataset.name, table.RequiredString("name"));
  SPOOR_ASSIGN_OR_RETURN(std::string source, table.OptionalString("source", "csv"));
  if (source == "csv") {
    dataset.source = DatasetSource::kCsv;
  } else if (source == "sqlite") {
    dataset.source = DatasetSource::kSqlite;
  } else if (source == "postgresql") {
    dataset.source = DatasetSource::kPostgres;
  } else {
    return KeyError(
        table, "source",
        absl::StrCat("key 'source' must be csv, sqlite or postgresql, found '", source, "'"));
  }
  const bool database = dataset.source != DatasetSource::kCsv;
  // Keys that belong to other sources are mistakes, not silently ignored.
  auto refuse_key = [&](std::string_view key, const std::string& why) -> absl::Status {
    if (table.Has(key)) return KeyError(table, key, why);
    return absl::OkStatus();
  };
  if (dataset.source == DatasetSource::kPostgres) {
    SPOOR_ASSIGN_OR_RETURN(dataset.connection, table.RequiredString("connection"));
    SPOOR_RETURN_IF_ERROR(refuse_key("path", "a postgresql dataset has a connection, not a path"));
    SPOOR_ASSIGN_OR_RETURN(int64_t refresh,
                           table.OptionalInteger("refresh_seconds", 3600, 1, 366 * 86400));
    dataset.refresh = absl::Seconds(refresh);
    SPOOR_ASSIGN_OR_RETURN(int64_t timeout,
                           table.OptionalInteger("timeout_seconds", 600, 1, 86400));
    dataset.timeout = absl::Seconds(timeout);
  } else {
    SPOOR_ASSIGN_OR_RETURN(dataset.path, table.RequiredString("path"));
    dataset.path = ResolveRelativeTo(path, dataset.path);
    SPOOR_RETURN_IF_ERROR(refuse_key("connection", "only a postgresql dataset has a connection"));
    SPOOR_RETURN_IF_ERROR(
        refuse_key("refresh_seconds",
                   "only a postgresql dataset has refresh_seconds; files are re-read "
                   "when they change"));
    SPOOR_RETURN_IF_ERROR(
        refuse_key("timeout_seconds", "only a postgresql dataset has timeout_seconds"));
  }
  SPOOR_ASSIGN_OR_RETURN(dataset.table, table.OptionalString("table", ""));
  SPOOR_ASSIGN_OR_RETURN(dataset.query, table.OptionalString("query", ""));
  if (table.Has("omop")) {
    SPOOR_ASSIGN_OR_RETURN(ConfigTable omop, table.Table("omop"));
    SPOOR_ASSIGN_OR_RETURN(dataset.omop, ReadOmop(omop, dataset.source == DatasetSource::kPostgres
                                                            ? SqlDialect::kPostgres
                                                            : SqlDialect::kSqlite));
  }
  const int what = !dataset.table.empty() + !dataset.query.empty() + dataset.omop.has_value();
  if (!database && what > 0) {
    return KeyError(table, dataset.omop ? "omop" : (dataset.table.empty() ? "query" : "table"),
                    "a csv dataset is the whole file; table, query and omop are for sqlite "
                    "and postgresql datasets");
  }
  if (database && what != 1) {
    return KeyError(table, "name",
                    absl::StrCat("a ", source,
                                 " dataset needs exactly one of table, query or [datasets.omop]"));
  }
  SPOOR_ASSIGN_OR_RETURN(ConfigTable metadata, table.Table("metadata"));
  SPOOR_ASSIGN_OR_RETURN(dataset.metadata, ReadMetadata(metadata));
  SPOOR_ASSIGN_OR_RETURN(dataset.variables, ReadMappings(table));
  if (table.Has("privacy_budget")) {
    SPOOR_ASSIGN_OR_RETURN(double budget, table.OptionalDouble("privacy_budget", 0));
    if (budget < 0) {
      return KeyError(table, "privacy_budget",
                      absl::StrCat("key 'privacy_budget' must be a number >= 0 (the dataset's "
                                   "epsilon limit; 0 releases nothing noised), found ",
                                   budget));
    }
    dataset.privacy_budget = budget;
  }
  return dataset;
}

// [policy]: three lists of names, each empty (any) by default.
absl::StatusOr<NodePolicy> ReadNodePolicy(const ConfigTable& table) {
  SPOOR_RETURN_IF_ERROR(table.CheckKnownKeys({"studies", "researchers", "algorithms"}));
  NodePolicy policy;
  SPOOR_ASSIGN_OR_RETURN(policy.studies, table.OptionalStringList("studies"));
  SPOOR_ASSIGN_OR_RETURN(policy.researchers, table.OptionalStringList("researchers"));
  SPOOR_ASSIGN_OR_RETURN(policy.algorithms, table.OptionalStringList("algorithms"));
  for (const auto& [key, list] :
       {std::pair{"studies", &policy.studies}, std::pair{"researchers", &policy.researchers},
        std::pair{"algorithms", &policy.algorithms}}) {
    for (const std::string& name : *list) {
      // An empty name would match a task that names nothing (no study).
      if (name.empty()) {
        return KeyError(table, key,
                        absl::StrCat("key 'policy.", key, "' holds an empty name; remove it"));
      }
    }
  }
  return policy;
}

// [privacy]: the differencing guard (on by default) and differential
// privacy (off unless a mechanism is named). Settings that only matter with
// a mechanism are refused without one, so that an operator who believes DP
// is on is told it is not.
absl::StatusOr<PrivacyConfig> ReadPrivacyConfig(const ConfigTable& table) {
  SPOOR_RETURN_IF_ERROR(table.CheckKnownKeys(
      {"differencing_guard", "require_secure", "mechanism", "epsilon", "delta", "budget"}));
  const PrivacyConfig defaults;
  PrivacyConfig privacy;
  SPOOR_ASSIGN_OR_RETURN(privacy.differencing_guard,
                         table.OptionalBool("differencing_guard", defaults.differencing_guard));
  SPOOR_ASSIGN_OR_RETURN(privacy.require_secure,
                         table.OptionalBool("require_secure", defaults.require_secure));
  if (table.Has("mechanism")) {
    SPOOR_ASSIGN_OR_RETURN(std::string name, table.RequiredString("mechanism"));
    absl::StatusOr<DpMechanism> mechanism = ParseDpMechanism(name);
    if (!mechanism.ok()) {
      return KeyError(table, "mechanism", std::string(mechanism.status().message()));
    }
    privacy.mechanism = *mechanism;
  } else {
    for (const char* key : {"epsilon", "delta", "budget"}) {
      if (table.Has(key)) {
        return KeyError(table, key,
                        absl::StrCat("key 'privacy.", key,
                                     "' has no effect without privacy.mechanism; set mechanism "
                                     "= \"laplace\" or \"gaussian\" to turn differential "
                                     "privacy on"));
      }
    }
    return privacy;
  }
  SPOOR_ASSIGN_OR_RETURN(privacy.epsilon, table.OptionalDouble("epsilon", defaults.epsilon));
  SPOOR_ASSIGN_OR_RETURN(privacy.delta, table.OptionalDouble("delta", defaults.delta));
  SPOOR_ASSIGN_OR_RETURN(privacy.budget, table.OptionalDouble("budget", defaults.budget));
  const bool gaussian = privacy.mechanism == DpMechanism::kGaussian;
  if (!(privacy.epsilon > 0) || (gaussian && !(privacy.epsilon < 1))) {
    return KeyError(table, "epsilon",
                    absl::StrCat("key 'privacy.epsilon' must be a number greater than 0",
                                 gaussian ? " and below 1 with mechanism = \"gaussian\" (the "
                                            "Gaussian mechanism's bound holds only there)"
                                          : "",
                                 ", found ", privacy.epsilon));
  }
  if (!(privacy.delta > 0 && privacy.delta < 1)) {
    return KeyError(table, "delta",
                    absl::StrCat("key 'privacy.delta' must be a number between 0 and 1 "
                                 "(exclusive), found ",
                                 privacy.delta));
  }
  if (!(privacy.budget >= 0)) {
    return KeyError(table, "budget",
                    absl::StrCat("key 'privacy.budget' must be a number >= 0 (each dataset's "
                                 "epsilon limit), found ",
                                 privacy.budget));
  }
  return privacy;
}
absl::StatusOr<ContainerPolicy> ReadContainerPolicy(const ConfigTable& table,
                                                    const std::string& path,
                                                    const std::string& data_dir) {
  std::set<std::string> known = {"enabled", "trusted_signers", "allow", "require_local_approval",
                                 "runc",    "work_dir"};
  known.insert(kSandboxLimitKeys.begin(), kSandboxLimitKeys.end());
  SPOOR_RETURN_IF_ERROR(table.CheckKnownKeys(known));
  ContainerPolicy policy;
  SPOOR_ASSIGN_OR_RETURN(policy.enabled, table.OptionalBool("enabled", false));
  SPOOR_ASSIGN_OR_RETURN(policy.trusted_signers, table.OptionalStringList("trusted_signers"));
  for (std::string& signer : policy.trusted_signers) signer = ResolveRelativeTo(path, signer);
  SPOOR_ASSIGN_OR_RETURN(policy.allow, table.OptionalStringList("allow"));
  SPOOR_ASSIGN_OR_RETURN(policy.require_local_approval,
                         table.OptionalBool("require_local_approval", false));
  SPOOR_ASSIGN_OR_RETURN(policy.runc, table.OptionalString("runc", "runc"));
  SPOOR_ASSIGN_OR_RETURN(policy.work_dir,
                         table.OptionalString("work_dir", absl::StrCat(data_dir, "/containers")));
  policy.work_dir = ResolveRelativeTo(path, policy.work_dir);
  SPOOR_ASSIGN_OR_RETURN(policy.limits, ReadSandboxLimits(table));
  if (policy.enabled && policy.trusted_signers.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        table.file(), ":", table.LineOf("enabled"),
        ": [containers] is enabled but trusts no signer; list the consortium's signing keys in "
        "trusted_signers"));
  }
  if (policy.enabled && policy.allow.empty() && !policy.require_local_approval) {
    return absl::InvalidArgumentError(absl::StrCat(
        table.file(), ":", table.LineOf("enabled"),
        ": [containers] is enabled but allows nothing; list algorithms in allow or set "
        "require_local_approval = true"));
  }
  return policy;
}

}  // namespace

absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(ConfigTable root, LoadConfig(path));
  SPOOR_RETURN_IF_ERROR(root.CheckKnownKeys({"name", "coordinator", "data_dir", "tls", "disclosure",
                                             "datasets", "containers", "policy", "privacy"}));
  NodeConfig config;
  SPOOR_ASSIGN_OR_RETURN(config.name, root.RequiredString("name"));
  SPOOR_ASSIGN_OR_RETURN(config.coordinator, root.RequiredString("coordinator"));
  SPOOR_ASSIGN_OR_RETURN(config.data_dir, root.RequiredString("data_dir"));
  config.data_dir = ResolveRelativeTo(path, config.data_dir);
  SPOOR_ASSIGN_OR_RETURN(config.tls, ReadTlsFiles(root, path));

  SPOOR_ASSIGN_OR_RETURN(ConfigTable disclosure, root.Table("disclosure"));
  SPOOR_ASSIGN_OR_RETURN(config.disclosure, ReadDisclosureRules(disclosure));

  SPOOR_ASSIGN_OR_RETURN(ConfigTable containers, root.Table("containers"));
  SPOOR_ASSIGN_OR_RETURN(config.containers, ReadContainerPolicy(containers, path, config.data_dir));

  SPOOR_ASSIGN_OR_RETURN(ConfigTable policy, root.Table("policy"));
  SPOOR_ASSIGN_OR_RETURN(config.policy, ReadNodePolicy(policy));

  SPOOR_ASSIGN_OR_RETURN(ConfigTable privacy, root.Table("privacy"));
  SPOOR_ASSIGN_OR_RETURN(config.privacy, ReadPrivacyConfig(privacy));

  SPOOR_ASSIGN_OR_RETURN(std::vector<ConfigTable> datasets, root.TableArray("datasets"));
  if (datasets.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no [[datasets]] configured; add one with name and path"));
  }
  absl::flat_hash_set<std::string> names;
  for (const ConfigTable& table : datasets) {
    SPOOR_ASSIGN_OR_RETURN(DatasetConfig dataset, ReadDataset(table, path));
    if (dataset.privacy_budget.has_value() && !config.privacy.mechanism.has_value()) {
      return KeyError(table, "privacy_budget",
                      "key 'privacy_budget' has no effect without [privacy] mechanism; set "
                      "mechanism = \"laplace\" or \"gaussian\" to turn differential privacy on");
    }
    if (!names.insert(dataset.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(table.file(), ":", table.LineOf("name"), ": dataset '", dataset.name,
                       "' is declared twice; dataset names must be unique"));
    }
    config.datasets.push_back(std::move(dataset));
  }
  return config;
}

}  // namespace spoor
