#include "node/node_config.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
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

}  // namespace

absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(ConfigTable root, LoadConfig(path));
  SPOOR_RETURN_IF_ERROR(
      root.CheckKnownKeys({"name", "coordinator", "data_dir", "tls", "disclosure", "datasets"}));
  NodeConfig config;
  SPOOR_ASSIGN_OR_RETURN(config.name, root.RequiredString("name"));
  SPOOR_ASSIGN_OR_RETURN(config.coordinator, root.RequiredString("coordinator"));
  SPOOR_ASSIGN_OR_RETURN(config.data_dir, root.RequiredString("data_dir"));
  config.data_dir = ResolveRelativeTo(path, config.data_dir);
  SPOOR_ASSIGN_OR_RETURN(config.tls, ReadTlsFiles(root, path));

  SPOOR_ASSIGN_OR_RETURN(ConfigTable disclosure, root.Table("disclosure"));
  SPOOR_ASSIGN_OR_RETURN(config.disclosure, ReadDisclosureRules(disclosure));

  SPOOR_ASSIGN_OR_RETURN(std::vector<ConfigTable> datasets, root.TableArray("datasets"));
  if (datasets.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no [[datasets]] configured; add one with name and path"));
  }
  absl::flat_hash_set<std::string> names;
  for (const ConfigTable& table : datasets) {
    SPOOR_RETURN_IF_ERROR(table.CheckKnownKeys({"name", "path"}));
    DatasetConfig dataset;
    SPOOR_ASSIGN_OR_RETURN(dataset.name, table.RequiredString("name"));
    SPOOR_ASSIGN_OR_RETURN(dataset.path, table.RequiredString("path"));
    dataset.path = ResolveRelativeTo(path, dataset.path);
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
