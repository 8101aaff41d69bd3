// spoor: the one binary for every role.
//
//   spoor coordinator --config coordinator.toml     the coordinator daemon
//   spoor node --config node.toml                   a node daemon
//   spoor node approvals list|approve|reject|logs|doctor --config node.toml
//                                                   a node's data steward and operator
//   spoor pki init|issue|revoke ...                 the consortium PKI
//   spoor sandbox start|stop ...                    a local federation
//   spoor [--config client.toml] nodes|jobs|job|catalogue|summary|glm|crosstab|km|cox|meta
//                                                   researchers
//   spoor algorithm keygen|package|sign|verify ...  container algorithms: local images
//   spoor [--config client.toml] algorithm register|list|show|review|revoke ...
//                                                   ... and the consortium's registry
//   spoor [--config client.toml] run NAME@VERSION ...
//                                                   researchers: a registered algorithm
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

// What the container-algorithm and node-management commands parse into.
// main() owns it: CLI11 writes into it during parse, the callbacks read it.
struct ContainerCommandArgs {
  spoor::NodeDecisionOptions decision;
  std::string run_id;
  spoor::AlgorithmKeygenOptions keygen;
  spoor::AlgorithmPackageOptions package;
  spoor::AlgorithmSignOptions sign;
  spoor::AlgorithmVerifyOptions verify;
  std::string image;
  std::string reference;
  std::string reason;
  spoor::AlgorithmReviewOptions review;
  spoor::RunContainerOptions run;
};

// spoor node approvals|logs|doctor: each reads node.toml (`config`, node's
// own --config) and the node's files.
void AddNodeCommands(CLI::App* node, const std::string& config, ContainerCommandArgs& args,
                     spoor::OutputOptions& output, absl::Status& status) {
  CLI::App* approvals = node->add_subcommand(
      "approvals", "the data steward's queue of container algorithms awaiting local approval");
  approvals->require_subcommand(1);
  approvals->fallthrough();
  CLI::App* list = approvals->add_subcommand("list", "list what waits and what was decided");
  list->fallthrough();
  list->add_flag("--json", output.json, "print JSON");
  list->callback([&] { status = spoor::NodeApprovalsListCommand(config, output); });
  spoor::NodeDecisionOptions& decision = args.decision;
  for (const bool approve : {true, false}) {
    CLI::App* decide = approvals->add_subcommand(
        approve ? "approve" : "reject",
        approve ? "let this node run an algorithm image" : "refuse an algorithm image");
    decide->fallthrough();
    decide
        ->add_option("ALGORITHM", decision.reference,
                     "NAME@VERSION, a manifest digest, or a digest prefix (12+ hex digits) from "
                     "`spoor node approvals list`")
        ->required();
    decide->add_option("--note", decision.note, "why, for the record");
    decide->add_option("--by", decision.by, "who decides (default: $USER)");
    decide->callback([&, approve] {
      decision.approve = approve;
      status = spoor::NodeApprovalsDecideCommand(config, decision);
    });
  }
  std::string& run_id = args.run_id;
  CLI::App* logs = node->add_subcommand("logs", "print the log of one container run");
  logs->fallthrough();
  logs->add_option("RUN", run_id, "the run id a task's error names, e.g. 20260101T120000-1a2b3c4d")
      ->required();
  logs->callback([&] { status = spoor::NodeLogsCommand(config, run_id); });
  CLI::App* doctor = node->add_subcommand(
      "doctor",
      "check this host and node.toml: TLS files, sandbox, signers, directories, "
      "the coordinator");
  doctor->fallthrough();
  doctor->callback([&] { status = spoor::NodeDoctorCommand(config); });
}

// spoor algorithm ... and spoor run NAME@VERSION.
void AddAlgorithmCommands(CLI::App& app, const std::string& client_config,
                          ContainerCommandArgs& args, spoor::OutputOptions& output,
                          absl::Status& status) {
  CLI::App* algorithm = app.add_subcommand(
      "algorithm",
      "container algorithms: package, sign and verify images; register, review and revoke them");
  algorithm->require_subcommand(1);

  spoor::AlgorithmKeygenOptions& keygen_options = args.keygen;
  CLI::App* keygen = algorithm->add_subcommand(
      "keygen", "create an Ed25519 key pair for signing algorithm images");
  keygen->add_option("--out", keygen_options.out, "private key file (mode 0600); FILE.pub too")
      ->required();
  keygen->add_flag("--force", keygen_options.force, "replace existing key files");
  keygen->callback([&] { status = spoor::AlgorithmKeygenCommand(keygen_options); });

  spoor::AlgorithmPackageOptions& package_options = args.package;
  CLI::App* package = algorithm->add_subcommand(
      "package", "package a static executable (built with the SDK) as an OCI image");
  package->add_option("--binary", package_options.binary, "the algorithm's static executable")
      ->required();
  package->add_option("--name", package_options.name, "algorithm name, e.g. colmean")->required();
  package->add_option("--version", package_options.version, "version, e.g. 1.0.0")->required();
  package->add_option("--description", package_options.description, "one line for reviewers");
  package
      ->add_option("--param", package_options.parameters,
                   "a parameter, NAME:TYPE[:required][:DESCRIPTION] with TYPE number, text, "
                   "numbers or texts; repeat for more")
      ->take_all()
      ->expected(1)
      ->allow_extra_args(false);
  package
      ->add_option("--aggregates", package_options.aggregates,
                   "block types the algorithm returns: count_table,vector,matrix,histogram,levels")
      ->delimiter(',');
  package->add_option("--out", package_options.out, "image to write: a directory, or FILE.tar")
      ->required();
  package
      ->add_option("--format", package_options.format,
                   "dir or tar (default: tar if --out ends in .tar, else dir)")
      ->check(CLI::IsMember({"dir", "tar"}));
  package->callback([&] { status = spoor::AlgorithmPackageCommand(package_options); });

  spoor::AlgorithmSignOptions& sign_options = args.sign;
  CLI::App* sign = algorithm->add_subcommand(
      "sign", "sign an image's manifest with your key (the signature is added to IMAGE)");
  sign->add_option("--key", sign_options.key, "private key from `spoor algorithm keygen`")
      ->required();
  sign->add_option("--signer", sign_options.signer, "who signs, e.g. \"Alice Example (UMC)\"")
      ->required();
  sign->add_option("IMAGE", sign_options.image, "image directory or tar")->required();
  sign->callback([&] { status = spoor::AlgorithmSignCommand(sign_options); });

  spoor::AlgorithmVerifyOptions& verify_options = args.verify;
  CLI::App* verify = algorithm->add_subcommand(
      "verify", "check an image's blobs and that a trusted key signed it");
  verify->add_option("--trusted", verify_options.trusted, "a trusted public key (PEM); repeat")
      ->required()
      ->take_all()
      ->expected(1)
      ->allow_extra_args(false);
  verify->add_option("IMAGE", verify_options.image, "image directory or tar")->required();
  verify->callback([&] { status = spoor::AlgorithmVerifyCommand(verify_options); });

  std::string& image = args.image;
  std::string& reference = args.reference;
  std::string& reason = args.reason;
  CLI::App* reg = algorithm->add_subcommand(
      "register", "upload a signed image to the consortium's registry, for review");
  reg->add_option("IMAGE", image, "image directory or tar")->required();
  reg->add_flag("--json", output.json, "print JSON");
  reg->callback([&] { status = spoor::AlgorithmRegisterCommand(client_config, image, output); });

  CLI::App* list = algorithm->add_subcommand("list", "list the registered algorithms");
  list->add_flag("--json", output.json, "print JSON");
  list->callback([&] { status = spoor::AlgorithmListCommand(client_config, output); });

  CLI::App* show = algorithm->add_subcommand(
      "show", "one registered algorithm: parameters, signer, reviews, state");
  show->add_option("ALGORITHM", reference, "NAME@VERSION or a manifest digest")->required();
  show->add_flag("--json", output.json, "print JSON");
  show->callback([&] { status = spoor::AlgorithmShowCommand(client_config, reference, output); });

  spoor::AlgorithmReviewOptions& review_options = args.review;
  CLI::App* review = algorithm->add_subcommand(
      "review", "approve or reject a registered algorithm (reviewer or admin certificate)");
  review->add_option("ALGORITHM", review_options.reference, "NAME@VERSION or a manifest digest")
      ->required();
  CLI::Option* approve = review->add_flag("--approve", review_options.approve, "approve it");
  CLI::Option* reject = review->add_flag("--reject", review_options.reject, "reject it");
  approve->excludes(reject);
  review->add_option("--comment", review_options.comment, "what you checked, or what is wrong");
  review->add_flag("--json", output.json, "print JSON");
  review->callback(
      [&] { status = spoor::AlgorithmReviewCommand(client_config, review_options, output); });

  CLI::App* revoke = algorithm->add_subcommand(
      "revoke", "withdraw an algorithm for good; nodes refuse it at once (admin certificate)");
  revoke->add_option("ALGORITHM", reference, "NAME@VERSION or a manifest digest")->required();
  revoke->add_option("--reason", reason, "why, for the nodes' operators")->required();
  revoke->add_flag("--json", output.json, "print JSON");
  revoke->callback(
      [&] { status = spoor::AlgorithmRevokeCommand(client_config, reference, reason, output); });

  spoor::RunContainerOptions& run_options = args.run;
  CLI::App* run = app.add_subcommand(
      "run", "run a registered container algorithm (NAME@VERSION) over the nodes");
  run->add_option("ALGORITHM", run_options.algorithm, "NAME@VERSION, see `spoor algorithm list`")
      ->required();
  AddJobTarget(run, run_options.target);
  // A list option must not swallow ALGORITHM after it: `run --nodes a,b colmean@1.0.0`.
  run->get_option("--nodes")->allow_extra_args(false);
  run->add_option("--param", run_options.parameters,
                  "KEY=VALUE, repeat for more. VALUE is a number if it reads as one, a list if "
                  "it holds commas (numbers if all are, else texts; \"age,\" is a one-element "
                  "list), else text; a parameter the registry declares as text or texts is "
                  "read as such")
      ->take_all()
      ->expected(1)
      ->allow_extra_args(false);
  run->add_flag("--json", output.json, "print JSON");
  run->callback([&] { status = spoor::RunContainerCommand(client_config, run_options, output); });
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
  app.add_option("--study", output.study,
                 "study the job runs under (default: client.toml's `study`, or your only one)");
  app.add_flag("--secure", output.secure,
               "secure aggregation: nodes mask their sums so the coordinator sees only totals");
  absl::Status status;
  ContainerCommandArgs container_args;

  // Daemons.
  std::string daemon_config;
  CLI::App* coordinator = app.add_subcommand("coordinator", "run the coordinator daemon");
  coordinator->add_option("--config", daemon_config, "coordinator.toml")->required();
  coordinator->callback([&] { status = spoor::RunCoordinator(daemon_config); });
  CLI::App* node = app.add_subcommand(
      "node",
      "run a node daemon next to a hospital's data (without a subcommand), or look after one");
  node->add_option("--config", daemon_config, "node.toml")->required();
  // `spoor node approvals list --config node.toml`: the subcommands' unknown
  // options fall through to node's --config.
  node->fallthrough();
  node->callback([&] {
    if (node->get_subcommands().empty()) status = spoor::RunNode(daemon_config);
  });
  AddNodeCommands(node, daemon_config, container_args, output, status);
  // spoor node budget [list] [--json] | reset DATASET: the privacy budget
  // (data_dir/privacy.db).
  CLI::App* budget = node->add_subcommand(
      "budget", "the privacy budget each dataset has spent on differentially private releases");
  budget->fallthrough();
  budget->add_flag("--json", output.json, "print JSON");
  CLI::App* budget_list = budget->add_subcommand("list", "spent, limit, releases and the last");
  budget_list->fallthrough();
  budget_list->add_flag("--json", output.json, "print JSON");
  budget_list->callback([&] { status = spoor::NodeBudgetList(daemon_config, output); });
  std::string budget_dataset;
  CLI::App* budget_reset = budget->add_subcommand(
      "reset", "forget a dataset's spends (e.g. after a new data release); asks nothing");
  budget_reset->fallthrough();
  budget_reset->add_option("DATASET", budget_dataset, "the dataset, as node.toml names it")
      ->required();
  budget_reset->callback([&] { status = spoor::NodeBudgetReset(daemon_config, budget_dataset); });
  budget->callback([&] {
    if (budget->get_subcommands().empty()) status = spoor::NodeBudgetList(daemon_config, output);
  });

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
  pki_issue
      ->add_option("--role", issue.role,
                   "coordinator, node, researcher, reviewer (reviews container algorithms) "
                   "or admin")
      ->required();
  pki_issue->add_option("--dns", issue.dns_names, "DNS name clients dial (coordinator)");
  pki_issue->add_option("--ip", issue.ip_addresses, "IP address clients dial (coordinator)");
  pki_issue->add_option("--days", issue.days, "validity in days (default 365)");
  pki_issue->callback([&] { status = spoor::PkiIssue(issue); });

  std::string revoke_cert, revoke_serial;
  CLI::App* pki_revoke =
      pki->add_subcommand("revoke", "revoke a certificate: add it to DIR/crl.pem");
  pki_revoke->add_option("--dir", pki_dir, "directory holding ca.crt and ca.key")->required();
  pki_revoke->add_option("--cert", revoke_cert, "the certificate file to revoke");
  pki_revoke->add_option("--serial", revoke_serial, "or its serial number (hex)");
  pki_revoke->callback([&] { status = spoor::PkiRevoke(pki_dir, revoke_cert, revoke_serial); });

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
  sandbox_start->add_option("--container-timeout", sandbox_options.container_timeout_seconds,
                            "each node's container wall-clock limit in seconds (default 60)");
  sandbox_start->add_option("--container-memory-mb", sandbox_options.container_memory_mb,
                            "each node's container memory limit in MiB (default 512)");
  sandbox_start->add_option("--container-max-processes", sandbox_options.container_max_processes,
                            "each node's container process limit (default 32)");
  sandbox_start->callback([&] { status = spoor::SandboxStart(sandbox_options); });
  CLI::App* sandbox_stop = sandbox->add_subcommand("stop", "stop the sandbox in --dir");
  sandbox_stop->add_option("--dir", sandbox_options.dir, "sandbox directory")->required();
  sandbox_stop->callback([&] { status = spoor::SandboxStop(sandbox_options.dir); });

  spoor::AddAuditCommands(app, status);

  // Studies.
  spoor::StudyOptions study_options;
  CLI::App* study = app.add_subcommand("study", "studies: who may run jobs on which hospitals");
  study->require_subcommand(1);
  CLI::App* study_create = study->add_subcommand("create", "create a study (admin)");
  CLI::App* study_add = study->add_subcommand("add", "add organisations or researchers (admin)");
  CLI::App* study_remove =
      study->add_subcommand("remove", "remove organisations or researchers (admin)");
  for (CLI::App* sub : {study_create, study_add, study_remove}) {
    sub->add_option("STUDY", study_options.study, "study name")->required();
    sub->add_flag("--json", output.json, "print JSON");
  }
  for (CLI::App* sub : {study_add, study_remove}) {
    sub->add_option("--org", study_options.organisations, "an organisation (its nodes)");
    sub->add_option("--researcher", study_options.researchers, "a researcher (certificate name)");
  }
  CLI::App* study_list = study->add_subcommand("list", "list studies (yours, or all for admins)");
  study_list->add_flag("--json", output.json, "print JSON");
  for (auto [sub, action] : {std::pair{study_create, "create"}, std::pair{study_add, "add"},
                             std::pair{study_remove, "remove"}, std::pair{study_list, "list"}}) {
    sub->callback([&, action = std::string(action)] {
      study_options.action = action;
      status = spoor::StudyCommand(client_config, study_options, output);
    });
  }

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

  AddAlgorithmCommands(app, client_config, container_args, output, status);

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
