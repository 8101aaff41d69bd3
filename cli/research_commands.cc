// spoor nodes | jobs | job | summary
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "algorithms/algorithm.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"

namespace spoor {
namespace {

absl::StatusOr<std::unique_ptr<ResearchClient>> Connect(const std::string& config_path) {
  absl::StatusOr<ClientConfig> config = LoadClientConfig(config_path);
  if (!config.ok()) {
    if (absl::IsNotFound(config.status())) {
      return absl::NotFoundError(absl::StrCat(
          config.status().message(),
          "; pass --config with the client.toml your consortium or `spoor sandbox start` gave you"));
    }
    return config.status();
  }
  return ResearchClient::Connect(*config);
}

// A finished job as a status: OK if it succeeded, else its reason.
absl::Status JobOutcome(const v1::Job& job) {
  if (job.state() == v1::JOB_STATE_SUCCEEDED) return absl::OkStatus();
  if (job.state() == v1::JOB_STATE_FAILED) {
    return absl::AbortedError(absl::StrCat("job ", job.job_id(), " failed: ", job.failure_reason()));
  }
  return absl::UnavailableError(absl::StrCat(
      "job ", job.job_id(), " is still running; follow it with `spoor job ", job.job_id(), "`"));
}

void PrintJson(const nlohmann::ordered_json& value) { std::cout << value.dump(2) << "\n"; }

}  // namespace

absl::Status ListNodesCommand(const std::string& config_path, const OutputOptions& output) {
  SPOOR_ASSIGN_OR_RETURN(auto client, Connect(config_path));
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
  SPOOR_ASSIGN_OR_RETURN(auto client, Connect(config_path));
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
  SPOOR_ASSIGN_OR_RETURN(auto client, Connect(config_path));
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
absl::StatusOr<v1::Job> RunAnalysis(const std::string& config_path, const v1::JobSpec& spec,
                                    const OutputOptions& output, v1::Result::KindCase kind) {
  SPOOR_ASSIGN_OR_RETURN(auto client, Connect(config_path));
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, client->RunJob(spec, ::isatty(STDERR_FILENO) && !output.json));
  SPOOR_RETURN_IF_ERROR(JobOutcome(job));
  if (job.result().kind_case() != kind) {
    return absl::InternalError(absl::StrCat("the coordinator returned no ", spec.algorithm(),
                                            " result; is it the same spoor version?"));
  }
  return job;
}

// The line above a result table: what ran where.
std::string Heading(const std::string& what, const v1::Job& job) {
  return absl::StrCat(what, " of dataset '", job.spec().dataset(), "' over ",
                      job.participants_size(), " node(s): ", absl::StrJoin(job.participants(), ", "),
                      "\n\n");
}

}  // namespace

absl::Status SummaryCommand(const std::string& config_path, const SummaryOptions& options,
                            const OutputOptions& output) {
  v1::JobSpec spec;
  spec.set_algorithm("summary");
  spec.set_dataset(options.dataset);
  SetTextList(*spec.mutable_parameters(), "vars", options.vars);
  for (const std::string& node : options.nodes) spec.add_nodes(node);
  SPOOR_ASSIGN_OR_RETURN(v1::Job job,
                         RunAnalysis(config_path, spec, output, v1::Result::kSummary));
  if (output.json) {
    PrintJson(SummaryToJson(job.result().summary()));
  } else {
    std::cout << Heading("summary", job) << SummaryToTable(job.result().summary());
  }
  return absl::OkStatus();
}

absl::Status GlmCommand(const std::string& config_path, const GlmOptions& options,
                        const OutputOptions& output) {
  v1::JobSpec spec;
  spec.set_algorithm("glm");
  spec.set_dataset(options.dataset);
  v1::Parameters& parameters = *spec.mutable_parameters();
  SetText(parameters, "formula", options.formula);
  SetText(parameters, "family", options.family);
  if (!options.weights.empty()) SetText(parameters, "weights", options.weights);
  if (options.max_iterations > 0) SetNumber(parameters, "max_iterations", options.max_iterations);
  for (const std::string& node : options.nodes) spec.add_nodes(node);
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, RunAnalysis(config_path, spec, output, v1::Result::kGlm));
  if (output.json) {
    PrintJson(GlmToJson(job.result().glm()));
  } else {
    std::cout << Heading(absl::StrCat("glm ", options.formula, " (", job.result().glm().family(),
                                      ", ", job.result().glm().link(), " link)"),
                         job)
              << GlmToText(job.result().glm());
  }
  return absl::OkStatus();
}

}  // namespace spoor
