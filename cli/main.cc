// spoor: the one binary for every role.
//
//   spoor coordinator --config coordinator.toml     the coordinator daemon
//   spoor node --config node.toml                   a node daemon
//   spoor pki init|issue ...                        the consortium PKI
//   spoor sandbox start|stop ...                    a local federation
//   spoor [--config client.toml] nodes|jobs|job|catalogue|summary|glm|crosstab|km|cox|meta
//                                                   researchers
//
// Exit codes: 0 success, 1 the command failed (one line on stderr says why
// and what to do), 2 the command line itself was wrong.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "cli/commands.h"
#include "google/protobuf/stubs/common.h"

namespace {

std::string DefaultClientConfig() {
  const char* env = std::getenv("SPOOR_CONFIG");
  return env != nullptr ? env : "client.toml";
}

// --dataset, --nodes and --where: what every analysis runs on.
void AddJobTarget(CLI::App* command, spoor::JobTarget& target) {
  command->add_option("--dataset", target.dataset, "dataset name")->required();
  command->add_option("--nodes", target.nodes, "only these nodes (default: all)")->delimiter(',');
  command->add_option("--where", target.where,
                      "only the records where this holds, e.g. \"age >= 50 && sex == 'F'\" "
                      "(docs/researchers.md)");
}

int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  std::string message(status.message());
  std::fprintf(stderr, "spoor: error: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil keeps a lock graph for deadlock detection on every
  // mutex operation; it costs more than the locking itself on the hot path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{
      "spoor: federated analysis for health research. Data stay at each hospital; "
      "only aggregates that pass the hospital's disclosure rules leave it."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "spoor 0.1.0");
  std::string client_config = DefaultClientConfig();
  app.add_option("--config", client_config,
                 "client config for research commands (default: $SPOOR_CONFIG or client.toml)");
  spoor::OutputOptions output;
  absl::Status status;

  // Daemons.
  std::string daemon_config;
  CLI::App* coordinator = app.add_subcommand("coordinator", "run the coordinator daemon");
  coordinator->add_option("--config", daemon_config, "coordinator.toml")->required();
  coordinator->callback([&] { status = spoor::RunCoordinator(daemon_config); });
  CLI::App* node = app.add_subcommand("node", "run a node daemon next to a hospital's data");
  node->add_option("--config", daemon_config, "node.toml")->required();
  node->callback([&] { status = spoor::RunNode(daemon_config); });

  // PKI.
  CLI::App* pki = app.add_subcommand("pki", "manage the consortium's certificates");
  pki->require_subcommand(1);
  std::string pki_dir, consortium = "spoor consortium";
  CLI::App* pki_init = pki->add_subcommand("init", "create the consortium CA in --dir");
  pki_init->add_option("--dir", pki_dir, "directory for ca.crt and ca.key")->required();
  pki_init->add_option("--consortium", consortium, "consortium name (CA subject)");
  pki_init->callback([&] { status = spoor::PkiInit(pki_dir, consortium); });
  spoor::PkiIssueOptions issue;
  CLI::App* pki_issue = pki->add_subcommand("issue", "issue a certificate signed by the CA");
  pki_issue->add_option("--dir", issue.dir, "directory holding ca.crt and ca.key")->required();
  pki_issue->add_option("--name", issue.name, "party name (node id, researcher name)")->required();
  pki_issue->add_option("--org", issue.organisation, "organisation")->required();
  pki_issue->add_option("--role", issue.role, "coordinator, node, researcher or admin")->required();
  pki_issue->add_option("--dns", issue.dns_names, "DNS name clients dial (coordinator)");
  pki_issue->add_option("--ip", issue.ip_addresses, "IP address clients dial (coordinator)");
  pki_issue->add_option("--days", issue.days, "validity in days (default 365)");
  pki_issue->callback([&] { status = spoor::PkiIssue(issue); });

  // Sandbox.
  CLI::App* sandbox = app.add_subcommand("sandbox", "a coordinator and nodes on this machine");
  sandbox->require_subcommand(1);
  spoor::SandboxOptions sandbox_options;
  CLI::App* sandbox_start = sandbox->add_subcommand("start", "start a sandbox federation");
  sandbox_start->add_option("--dir", sandbox_options.dir, "sandbox directory")->required();
  sandbox_start->add_option("--nodes", sandbox_options.nodes, "N nodes with synthetic cohorts");
  sandbox_start->add_option("--node", sandbox_options.node_specs,
                            "NAME=FILE.csv: a node serving FILE.csv as dataset \"cohort\"");
  sandbox_start->add_option("--min-records", sandbox_options.min_records,
                            "each node's disclosure minimum (default 10)");
  sandbox_start->add_option("--node-timeout", sandbox_options.node_timeout_seconds,
                            "seconds a job waits for a node that went away (default 60)");
  sandbox_start->add_flag("--allow-event-time-sums", sandbox_options.allow_event_time_sums,
                          "let every node release per-event-time sums (for cox --pooled)");
  sandbox_start->callback([&] { status = spoor::SandboxStart(sandbox_options); });
  CLI::App* sandbox_stop = sandbox->add_subcommand("stop", "stop the sandbox in --dir");
  sandbox_stop->add_option("--dir", sandbox_options.dir, "sandbox directory")->required();
  sandbox_stop->callback([&] { status = spoor::SandboxStop(sandbox_options.dir); });

  // Research commands.
  CLI::App* nodes = app.add_subcommand("nodes", "list the nodes and what they serve");
  nodes->add_flag("--json", output.json, "print JSON");
  nodes->callback([&] { status = spoor::ListNodesCommand(client_config, output); });
  int limit = 50;
  CLI::App* jobs = app.add_subcommand("jobs", "list recent jobs");
  jobs->add_option("--limit", limit, "at most this many (default 50)");
  jobs->add_flag("--json", output.json, "print JSON");
  jobs->callback([&] { status = spoor::ListJobsCommand(client_config, limit, output); });
  std::string job_id;
  CLI::App* job = app.add_subcommand("job", "show one job and its result");
  job->add_option("JOB_ID", job_id, "job id from `spoor jobs`")->required();
  job->add_flag("--json", output.json, "print JSON");
  job->callback([&] { status = spoor::ShowJobCommand(client_config, job_id, output); });

  spoor::SummaryOptions summary_options;
  std::string vars;
  CLI::App* summary = app.add_subcommand(
      "summary", "n, missing, mean and sd (and quartiles, min, max) over all nodes");
  AddJobTarget(summary, summary_options.target);
  summary->add_option("--vars", vars, "comma-separated numeric variables")->required();
  summary->add_flag("--quantiles", summary_options.quantiles,
                    "also the quartiles (R's quantile type 7), by bisection over the nodes");
  summary->add_flag("--min-max", summary_options.extremes,
                    "also min and max (each node's policy must allow it)");
  summary->add_flag("--json", output.json, "print JSON");
  summary->callback([&] {
    summary_options.vars = absl::StrSplit(vars, ',', absl::SkipWhitespace());
    status = spoor::SummaryCommand(client_config, summary_options, output);
  });

  spoor::GlmOptions glm_options;
  CLI::App* glm = app.add_subcommand(
      "glm", "generalised linear model over all nodes, equal to R's glm on the pooled data");
  AddJobTarget(glm, glm_options.target);
  glm->add_option("--formula", glm_options.formula, "R formula, e.g. \"y ~ age + factor(stage)\"")
      ->required();
  glm->add_option("--family", glm_options.family, "gaussian (default), binomial or poisson")
      ->check(CLI::IsMember({"gaussian", "binomial", "poisson"}));
  glm->add_option("--weights", glm_options.weights, "numeric column of prior weights");
  glm->add_option("--max-iterations", glm_options.max_iterations,
                  "IRLS iterations at most (default 25, as glm.control)");
  glm->add_flag("--json", output.json, "print JSON");
  glm->callback([&] { status = spoor::GlmCommand(client_config, glm_options, output); });

  spoor::CrosstabOptions crosstab_options;
  CLI::App* crosstab = app.add_subcommand(
      "crosstab",
      "two-way table of counts with Pearson's chi-square test over all nodes, equal to R's "
      "table() and chisq.test(correct = FALSE) on the pooled data");
  AddJobTarget(crosstab, crosstab_options.target);
  crosstab->add_option("--rows", crosstab_options.rows, "variable whose levels label the rows")
      ->required();
  crosstab->add_option("--cols", crosstab_options.cols, "variable whose levels label the columns")
      ->required();
  crosstab->add_flag("--json", output.json, "print JSON");
  crosstab->callback(
      [&] { status = spoor::CrosstabCommand(client_config, crosstab_options, output); });

  spoor::KmOptions km_options;
  CLI::App* km = app.add_subcommand(
      "km",
      "Kaplan-Meier survival curves over all nodes, equal to R's summary(survfit()) on the "
      "pooled data");
  AddJobTarget(km, km_options.target);
  km->add_option("--time", km_options.time, "numeric follow-up time variable")->required();
  km->add_option("--event", km_options.event, "status variable: 0/1, 1/2 or FALSE/TRUE")
      ->required();
  km->add_option("--by", km_options.by, "one curve per level of this variable");
  km->add_option("--time-bin", km_options.time_bin,
                 "nodes round every time up to a multiple of this width (default: exact times)")
      ->check(CLI::PositiveNumber);
  km->add_flag("--json", output.json, "print JSON");
  km->add_option("--plot", km_options.plot, "also write the curves as an SVG figure to this file");
  km->callback([&] { status = spoor::KmCommand(client_config, km_options, output); });

  spoor::CoxOptions cox_options;
  CLI::App* cox = app.add_subcommand(
      "cox", "Cox proportional hazards over all nodes, equal to R's coxph on the pooled data");
  AddJobTarget(cox, cox_options.target);
  cox->add_option("--formula", cox_options.formula,
                  "R formula, e.g. \"Surv(time, status) ~ age + sex\"")
      ->required();
  cox->add_flag("--pooled", cox_options.pooled,
                "one baseline hazard across sites (default: one per site); the nodes must allow "
                "event-time sums");
  cox->add_option("--ties", cox_options.ties, "efron (default) or breslow")
      ->check(CLI::IsMember({"efron", "breslow"}));
  cox->add_option("--max-iterations", cox_options.max_iterations,
                  "Newton-Raphson iterations at most (default 20, as coxph.control)");
  cox->add_flag("--json", output.json, "print JSON");
  cox->callback([&] { status = spoor::CoxCommand(client_config, cox_options, output); });

  spoor::MetaOptions meta_options;
  CLI::App* meta = app.add_subcommand(
      "meta", "two-stage meta-analysis: the glm at each site, then fixed and random effects");
  AddJobTarget(meta, meta_options.target);
  meta->add_option("--formula", meta_options.formula, "R formula, e.g. \"y ~ age + sex\"")
      ->required();
  meta->add_option("--family", meta_options.family, "gaussian (default), binomial or poisson")
      ->check(CLI::IsMember({"gaussian", "binomial", "poisson"}));
  meta->add_option("--weights", meta_options.weights, "numeric column of prior weights");
  meta->add_option("--max-iterations", meta_options.max_iterations,
                   "IRLS iterations at most per site (default 25)");
  meta->add_flag("--json", output.json, "print JSON");
  meta->add_option("--plot", meta_options.plot, "also write a forest plot (SVG) to this file");
  meta->add_option("--term", meta_options.term,
                   "the term the forest plot shows (default: the first after the intercept)");
  meta->callback([&] { status = spoor::MetaCommand(client_config, meta_options, output); });

  std::string catalogue_dataset;
  CLI::App* catalogue = app.add_subcommand(
      "catalogue", "what each node holds: datasets, variables, levels, rounded counts");
  catalogue->add_option("--dataset", catalogue_dataset, "only this dataset (default: all)");
  catalogue->add_flag("--json", output.json, "print JSON");
  catalogue->callback(
      [&] { status = spoor::CatalogueCommand(client_config, catalogue_dataset, output); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  int code = Report(status);
  google::protobuf::ShutdownProtobufLibrary();
  return code;
}
