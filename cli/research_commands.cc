// spoor nodes | jobs | job | catalogue | summary | glm | crosstab | km | cox | meta | run
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "algorithms/algorithm.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/forest_plot.h"
#include "cli/km_plot.h"
#include "cli/output.h"
#include "common/algorithm_reference.h"
#include "common/file_util.h"
#include "common/status.h"

namespace spoor {
namespace {

// A finished job as a status: OK if it succeeded, else its reason.
absl::Status JobOutcome(const v1::Job& job) {
  if (job.state() == v1::JOB_STATE_SUCCEEDED) return absl::OkStatus();
  if (job.state() == v1::JOB_STATE_FAILED) {
    return absl::AbortedError(
        absl::StrCat("job ", job.job_id(), " failed: ", job.failure_reason()));
  }
  return absl::UnavailableError(absl::StrCat(
      "job ", job.job_id(), " is still running; follow it with `spoor job ", job.job_id(), "`"));
}

}  // namespace

absl::Status ListNodesCommand(const std::string& config_path, const OutputOptions& output) {
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  SPOOR_ASSIGN_OR_RETURN(std::vector<v1::NodeStatus> nodes, client->ListNodes());
  if (output.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const v1::NodeStatus& node : nodes) list.push_back(NodeToJson(node));
    PrintJson({{"nodes", std::move(list)}});
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::NodeStatus& node : nodes) {
    rows.push_back({node.node_id(), node.organisation(),
                    node.connected() ? "connected" : "disconnected",
                    absl::StrJoin(node.datasets(), ",")});
  }
  std::cout << FormatTable({"node", "organisation", "status", "datasets"}, rows, {});
  return absl::OkStatus();
}

absl::Status ListJobsCommand(const std::string& config_path, int limit,
                             const OutputOptions& output) {
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  SPOOR_ASSIGN_OR_RETURN(std::vector<v1::Job> jobs, client->ListJobs(limit));
  if (output.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const v1::Job& job : jobs) list.push_back(JobToJson(job));
    PrintJson({{"jobs", std::move(list)}});
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::Job& job : jobs) {
    nlohmann::ordered_json j = JobToJson(job);
    rows.push_back({job.job_id(), job.spec().algorithm(), job.spec().dataset(),
                    JobStateName(job.state()), absl::StrCat(job.round()),
                    absl::StrCat(job.participants_size()), job.requester().name(),
                    j["created_at"].get<std::string>()});
  }
  std::cout << FormatTable(
      {"job", "algorithm", "dataset", "state", "round", "nodes", "requester", "created"}, rows,
      {Align::kLeft, Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight, Align::kRight});
  return absl::OkStatus();
}

absl::Status ShowJobCommand(const std::string& config_path, const std::string& job_id,
                            const OutputOptions& output) {
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, client->GetJob(job_id));
  nlohmann::ordered_json j = JobToJson(job);
  if (job.state() == v1::JOB_STATE_SUCCEEDED) j["result"] = ResultToJson(job.result());
  if (output.json) {
    PrintJson(j);
    return absl::OkStatus();
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "result") continue;
    std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump())
              << "\n";
  }
  std::string text = ResultToText(job.result());
  if (!text.empty()) std::cout << "\n" << text;
  return absl::OkStatus();
}

namespace {

// Submits `spec`, follows it (with progress on a terminal), and checks that
// it succeeded with a result of the expected kind.
absl::StatusOr<v1::Job> RunAnalysis(ResearchClient& client, v1::JobSpec spec,
                                    const OutputOptions& output, v1::Result::KindCase kind) {
  if (!output.study.empty()) spec.set_study(output.study);
  if (output.secure) spec.set_secure(true);
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, client.RunJob(spec, ::isatty(STDERR_FILENO) && !output.json));
  SPOOR_RETURN_IF_ERROR(JobOutcome(job));
  if (job.result().kind_case() != kind) {
    return absl::InternalError(absl::StrCat("the coordinator returned no ", spec.algorithm(),
                                            " result; is it the same spoor version?"));
  }
  return job;
}

absl::StatusOr<v1::Job> RunAnalysis(const std::string& config_path, const v1::JobSpec& spec,
                                    const OutputOptions& output, v1::Result::KindCase kind) {
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  return RunAnalysis(*client, spec, output, kind);
}

// The line above a result table: what ran where.
std::string Heading(const std::string& what, const v1::Job& job) {
  std::string where;
  if (!job.spec().where().empty()) where = absl::StrCat(", where ", job.spec().where());
  return absl::StrCat(what, " of dataset '", job.spec().dataset(), "'", where, " over ",
                      job.participants_size(),
                      " node(s): ", absl::StrJoin(job.participants(), ", "), "\n\n");
}

// The spec of a job that runs `algorithm` on `target`; the caller adds the
// parameters.
v1::JobSpec AnalysisSpec(const std::string& algorithm, const JobTarget& target) {
  v1::JobSpec spec;
  spec.set_algorithm(algorithm);
  spec.set_dataset(target.dataset);
  for (const std::string& node : target.nodes) spec.add_nodes(node);
  spec.set_where(target.where);
  return spec;
}

// A result on stdout: `json` alone with --json, else `heading` and `text`.
void PrintResult(const OutputOptions& output, const nlohmann::ordered_json& json,
                 const std::string& heading, const std::string& text) {
  if (output.json) {
    PrintJson(json);
  } else {
    std::cout << heading << text;
  }
}

// FAILED_PRECONDITION unless a file can be created at `path`: it is not a
// directory, and its directory exists and is writable. Checked before the
// job runs, so a typo does not cost a whole analysis.
absl::Status CheckPlotPath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path file(path);
  if (!file.has_filename() || fs::is_directory(file, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--plot ", path, " is a directory; give a file name, e.g. --plot ",
                     (file / "km.svg").lexically_normal().string()));
  }
  const std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
  if (!fs::is_directory(dir, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--plot: directory ", dir, " does not exist; create it or choose another path"));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--plot: directory ", dir, " is not writable; choose another path"));
  }
  return absl::OkStatus();
}

// Writes a figure the command checked with CheckPlotPath; the error says
// which --plot failed.
absl::Status WritePlot(const std::string& path, const std::string& svg) {
  absl::Status written = WriteFileAtomically(path, svg);
  if (written.ok()) return written;
  return absl::Status(written.code(), absl::StrCat("--plot: cannot write ", path, " (",
                                                   std::string(written.message()), ")"));
}

// The parameters glm and meta share.
void SetGlmParameters(const std::string& formula, const std::string& family,
                      const std::string& weights, int max_iterations, v1::Parameters& parameters) {
  SetText(parameters, "formula", formula);
  SetText(parameters, "family", family);
  if (!weights.empty()) SetText(parameters, "weights", weights);
  if (max_iterations > 0) SetNumber(parameters, "max_iterations", max_iterations);
}

}  // namespace

absl::Status SummaryCommand(const std::string& config_path, const SummaryOptions& options,
                            const OutputOptions& output) {
  v1::JobSpec spec = AnalysisSpec("summary", options.target);
  SetTextList(*spec.mutable_parameters(), "vars", options.vars);
  if (options.quantiles) (*spec.mutable_parameters()->mutable_values())["quantiles"].set_flag(true);
  if (options.extremes) (*spec.mutable_parameters()->mutable_values())["extremes"].set_flag(true);
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, RunAnalysis(config_path, spec, output, v1::Result::kSummary));
  const v1::SummaryResult& summary = job.result().summary();
  PrintResult(output, SummaryToJson(summary), Heading("summary", job), SummaryToTable(summary));
  return absl::OkStatus();
}

absl::Status GlmCommand(const std::string& config_path, const GlmOptions& options,
                        const OutputOptions& output) {
  v1::JobSpec spec = AnalysisSpec("glm", options.target);
  SetGlmParameters(options.formula, options.family, options.weights, options.max_iterations,
                   *spec.mutable_parameters());
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, RunAnalysis(config_path, spec, output, v1::Result::kGlm));
  const v1::GlmResult& glm = job.result().glm();
  PrintResult(
      output, GlmToJson(glm),
      Heading(absl::StrCat("glm ", options.formula, " (", glm.family(), ", ", glm.link(), " link)"),
              job),
      GlmToText(glm));
  return absl::OkStatus();
}

absl::Status CrosstabCommand(const std::string& config_path, const CrosstabOptions& options,
                             const OutputOptions& output) {
  v1::JobSpec spec = AnalysisSpec("crosstab", options.target);
  SetText(*spec.mutable_parameters(), "rows", options.rows);
  SetText(*spec.mutable_parameters(), "cols", options.cols);
  SPOOR_ASSIGN_OR_RETURN(v1::Job job,
                         RunAnalysis(config_path, spec, output, v1::Result::kCrosstab));
  const v1::CrosstabResult& crosstab = job.result().crosstab();
  PrintResult(output, CrosstabToJson(crosstab),
              Heading(absl::StrCat("crosstab of ", options.rows, " by ", options.cols), job),
              CrosstabToText(crosstab));
  return absl::OkStatus();
}

absl::Status KmCommand(const std::string& config_path, const KmOptions& options,
                       const OutputOptions& output) {
  if (!options.plot.empty()) SPOOR_RETURN_IF_ERROR(CheckPlotPath(options.plot));
  v1::JobSpec spec = AnalysisSpec("km", options.target);
  v1::Parameters& parameters = *spec.mutable_parameters();
  SetText(parameters, "time", options.time);
  SetText(parameters, "event", options.event);
  if (!options.by.empty()) SetText(parameters, "by", options.by);
  if (options.time_bin > 0) SetNumber(parameters, "time_bin", options.time_bin);
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, RunAnalysis(config_path, spec, output, v1::Result::kKm));
  const v1::KmResult& km = job.result().km();
  // The figure first: if it cannot be written, nothing reaches stdout.
  if (!options.plot.empty()) {
    KmPlotOptions plot;
    plot.x_label = options.time;
    SPOOR_RETURN_IF_ERROR(WritePlot(options.plot, KmPlotSvg(km, plot)));
  }
  std::string what =
      absl::StrCat("Kaplan-Meier curves of Surv(", options.time, ", ", options.event, ")");
  if (!options.by.empty()) absl::StrAppend(&what, " by ", options.by);
  PrintResult(output, KmToJson(km), Heading(what, job), KmToText(km));
  if (!options.plot.empty()) std::cerr << "Kaplan-Meier plot written to " << options.plot << "\n";
  return absl::OkStatus();
}

absl::Status CoxCommand(const std::string& config_path, const CoxOptions& options,
                        const OutputOptions& output) {
  v1::JobSpec spec = AnalysisSpec("cox", options.target);
  v1::Parameters& parameters = *spec.mutable_parameters();
  SetText(parameters, "formula", options.formula);
  SetText(parameters, "ties", options.ties);
  (*parameters.mutable_values())["pooled"].set_flag(options.pooled);
  if (options.max_iterations > 0) SetNumber(parameters, "max_iterations", options.max_iterations);
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, RunAnalysis(config_path, spec, output, v1::Result::kCox));
  const v1::CoxResult& cox = job.result().cox();
  PrintResult(output, CoxToJson(cox), Heading(absl::StrCat("cox ", options.formula), job),
              CoxToText(cox));
  return absl::OkStatus();
}

absl::Status MetaCommand(const std::string& config_path, const MetaOptions& options,
                         const OutputOptions& output) {
  if (!options.plot.empty()) SPOOR_RETURN_IF_ERROR(CheckPlotPath(options.plot));
  v1::JobSpec spec = AnalysisSpec("meta", options.target);
  SetGlmParameters(options.formula, options.family, options.weights, options.max_iterations,
                   *spec.mutable_parameters());
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, RunAnalysis(config_path, spec, output, v1::Result::kMeta));
  const v1::MetaResult& meta = job.result().meta();
  if (!options.plot.empty()) {
    std::string term = options.term;
    if (term.empty()) {
      for (const v1::MetaTerm& t : meta.terms()) {
        if (t.term() != "(Intercept)") {
          term = t.term();
          break;
        }
      }
    }
    bool known = false;
    for (const v1::MetaTerm& t : meta.terms()) known = known || t.term() == term;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("--term '", term,
                       "' is not a term of the model; the terms are named as R names them, "
                       "e.g. sexM or factor(stage)2"));
    }
    const bool ratio = meta.family() != "gaussian";  // odds or rate ratios
    SPOOR_RETURN_IF_ERROR(WritePlot(options.plot, ForestPlotSvg(meta, term, ratio)));
  }
  PrintResult(output, MetaToJson(meta),
              Heading(absl::StrCat("two-stage meta-analysis of glm ", options.formula, " (",
                                   meta.family(), ")"),
                      job),
              MetaToText(meta));
  if (!options.plot.empty()) std::cerr << "forest plot written to " << options.plot << "\n";
  return absl::OkStatus();
}

absl::Status CatalogueCommand(const std::string& config_path, const std::string& dataset,
                              const OutputOptions& output) {
  // One connection for the listing and every dataset's job.
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  std::vector<std::string> datasets;
  if (!dataset.empty()) {
    datasets.push_back(dataset);
  } else {
    SPOOR_ASSIGN_OR_RETURN(std::vector<v1::NodeStatus> nodes, client->ListNodes());
    std::set<std::string> names;
    for (const v1::NodeStatus& node : nodes) {
      if (node.connected()) names.insert(node.datasets().begin(), node.datasets().end());
    }
    if (names.empty()) {
      return absl::UnavailableError("no connected node serves a dataset; see `spoor nodes`");
    }
    datasets.assign(names.begin(), names.end());
  }
  // One job per dataset. A dataset some node refuses to describe (too few
  // records, too few sites) is reported and the others still listed.
  nlohmann::ordered_json json = nlohmann::ordered_json::array();
  std::string text;
  int failed = 0;
  for (const std::string& name : datasets) {
    JobTarget target;
    target.dataset = name;
    absl::StatusOr<v1::Job> job =
        RunAnalysis(*client, AnalysisSpec("catalogue", target), output, v1::Result::kCatalogue);
    if (!job.ok()) {
      ++failed;
      if (datasets.size() == 1) return job.status();
      json.push_back({{"dataset", name}, {"error", std::string(job.status().message())}});
      std::cerr << "spoor: dataset '" << name << "': " << job.status().message() << "\n";
      continue;
    }
    json.push_back(CatalogueToJson(name, job->result().catalogue()));
    if (!text.empty()) text += "\n";
    text += CatalogueToText(name, job->result().catalogue());
  }
  if (failed == static_cast<int>(datasets.size())) {
    return absl::AbortedError("no dataset could be described; see the errors above");
  }
  PrintResult(output, {{"datasets", std::move(json)}}, "", text);
  return absl::OkStatus();
}

namespace {

// A finite number, or nullopt.
std::optional<double> ParseNumber(const std::string& text) {
  double value;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value)) return std::nullopt;
  return value;
}

// One --param KEY=VALUE of `run`, into `parameters`. `declared_type` is the
// registry's type for KEY ("number", "text", "numbers", "texts"), or empty
// when unknown: the value's form decides then.
absl::Status SetRunParameter(const std::string& key, const std::string& value,
                             const std::string& declared_type, v1::Parameters& parameters) {
  v1::Value& out = (*parameters.mutable_values())[key];
  if (declared_type == "text") {
    out.set_text(value);
    return absl::OkStatus();
  }
  const bool list = value.find(',') != std::string::npos;
  std::vector<std::string> items;
  if (list) {
    items = absl::StrSplit(value, ',', absl::SkipEmpty());
    if (items.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--param ", key, "=", value, ": an empty list; give at least one value"));
    }
  } else {
    items = {value};
  }
  std::vector<double> numbers;
  for (const std::string& item : items) {
    if (std::optional<double> number = ParseNumber(item)) numbers.push_back(*number);
  }
  const bool numeric = numbers.size() == items.size();
  if ((declared_type == "number" || declared_type == "numbers") && !numeric) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--param ", key, ": the algorithm takes ",
        declared_type == "number" ? "a number" : "numbers", " here, not '", value, "'"));
  }
  if (declared_type == "number" && list) {
    return absl::InvalidArgumentError(
        absl::StrCat("--param ", key, ": the algorithm takes one number here, not a list"));
  }
  if (declared_type == "texts" || (declared_type.empty() && list && !numeric)) {
    for (const std::string& item : items) out.mutable_texts()->add_values(item);
  } else if (list || declared_type == "numbers") {
    for (double number : numbers) out.mutable_numbers()->add_values(number);
  } else if (numeric) {
    out.set_number(numbers[0]);
  } else {
    out.set_text(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Parameters> RunParameters(const std::vector<std::string>& arguments,
                                             const v1::AlgorithmRecord* record) {
  std::map<std::string, std::string> declared;
  if (record != nullptr) {
    for (const v1::AlgorithmParameter& p : record->parameters()) declared[p.name()] = p.type();
  }
  v1::Parameters parameters;
  for (const std::string& argument : arguments) {
    const size_t eq = argument.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--param '", argument, "': write KEY=VALUE, e.g. --param vars=age,bmi"));
    }
    const std::string key = argument.substr(0, eq);
    if (parameters.values().count(key) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--param ", key, " is given twice; give a list as ", key, "=a,b,c"));
    }
    auto it = declared.find(key);
    SPOOR_RETURN_IF_ERROR(SetRunParameter(key, argument.substr(eq + 1),
                                          it == declared.end() ? "" : it->second, parameters));
  }
  return parameters;
}

}  // namespace

absl::Status RunContainerCommand(const std::string& config_path, const RunContainerOptions& options,
                                 const OutputOptions& output) {
  if (!IsContainerReference(options.algorithm)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", options.algorithm,
        "' is not NAME@VERSION; `spoor run` runs registered container algorithms (see `spoor "
        "algorithm list`), built-in ones have their own commands (`spoor summary`, ...)"));
  }
  SPOOR_RETURN_IF_ERROR(ParseAlgorithmReference(options.algorithm).status());
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  // The declared parameter types, when the registry tells them; the
  // coordinator checks the parameters either way.
  absl::StatusOr<v1::AlgorithmRecord> record = client->GetAlgorithm(options.algorithm);
  if (!record.ok() && (absl::IsNotFound(record.status()) || absl::IsUnavailable(record.status()))) {
    return record.status();
  }
  v1::JobSpec spec = AnalysisSpec(options.algorithm, options.target);
  SPOOR_ASSIGN_OR_RETURN(*spec.mutable_parameters(),
                         RunParameters(options.parameters, record.ok() ? &*record : nullptr));
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, RunAnalysis(*client, spec, output, v1::Result::kContainer));
  const v1::ContainerResult& result = job.result().container();
  PrintResult(output, ContainerResultToJson(result, options.algorithm),
              Heading(options.algorithm, job), ContainerResultToText(result));
  return absl::OkStatus();
}

}  // namespace spoor
