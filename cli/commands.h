// The `spoor` subcommands. Each returns OK or a status whose message is the
// one line printed on stderr; main() maps it to the exit code.
#ifndef SPOOR_CLI_COMMANDS_H_
#define SPOOR_CLI_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace spoor {

// Daemons: run until SIGINT or SIGTERM.
absl::Status RunCoordinator(const std::string& config_path);
absl::Status RunNode(const std::string& config_path);

struct PkiIssueOptions {
  std::string dir;
  std::string name;
  std::string organisation;
  std::string role;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  int days = 365;
};
absl::Status PkiInit(const std::string& dir, const std::string& consortium);
absl::Status PkiIssue(const PkiIssueOptions& options);
// Adds a certificate (its file, or its serial in hex) to DIR/crl.pem, signed
// by the CA in DIR.
absl::Status PkiRevoke(const std::string& dir, const std::string& certificate, std::string serial);

struct SandboxOptions {
  std::string dir;
  int nodes = 0;                        // --nodes N (synthetic data)
  std::vector<std::string> node_specs;  // --node NAME=FILE.csv
  int min_records = 10;
  int node_timeout_seconds = 60;
  bool allow_event_time_sums = false;  // every node's disclosure.allow_event_time_sums
  // Every node's container sandbox limits ([containers]); 0 keeps the
  // default.
  int container_timeout_seconds = 0;
  int container_memory_mb = 0;
  int container_max_processes = 0;
};
absl::Status SandboxStart(const SandboxOptions& options);
absl::Status SandboxStop(const std::string& dir);

// Research commands, against the coordinator named in client.toml.
// How a research command runs and prints (the global flags).
struct OutputOptions {
  bool json = false;
  // --study: the study jobs run under (overrides client.toml's `study`).
  std::string study;
  // --secure: secure aggregation (the coordinator sees only sums).
  bool secure = false;
};
// spoor node budget [list] | reset DATASET: the node's privacy budget
// (data_dir/privacy.db of the node.toml at `config_path`).
absl::Status NodeBudgetList(const std::string& config_path, const OutputOptions& output);
absl::Status NodeBudgetReset(const std::string& config_path, const std::string& dataset);

struct StudyOptions {
  std::string action;  // create, add, remove, list
  std::string study;
  std::vector<std::string> organisations;
  std::vector<std::string> researchers;
};
// spoor study ...: admins create and change studies; everyone lists theirs.
absl::Status StudyCommand(const std::string& config_path, const StudyOptions& options,
                          const OutputOptions& output);

absl::Status ListNodesCommand(const std::string& config_path, const OutputOptions& output);
absl::Status ListJobsCommand(const std::string& config_path, int limit,
                             const OutputOptions& output);
absl::Status ShowJobCommand(const std::string& config_path, const std::string& job_id,
                            const OutputOptions& output);

// Where an analysis runs: a dataset, optionally only some nodes, optionally
// only the records a cohort filter keeps (--where, algorithms/filter.h).
struct JobTarget {
  std::string dataset;
  std::vector<std::string> nodes;  // empty: every node serving the dataset
  std::string where;
};

struct SummaryOptions {
  JobTarget target;
  std::vector<std::string> vars;
  bool quantiles = false;  // q1, median, q3 (R's quantile type 7)
  bool extremes = false;   // min and max, where every node's policy allows them
};
absl::Status SummaryCommand(const std::string& config_path, const SummaryOptions& options,
                            const OutputOptions& output);

struct GlmOptions {
  JobTarget target;
  std::string formula;
  std::string family = "gaussian";
  std::string weights;     // a numeric column of prior weights, optional
  int max_iterations = 0;  // 0: the algorithm's default (25)
};
absl::Status GlmCommand(const std::string& config_path, const GlmOptions& options,
                        const OutputOptions& output);

struct CrosstabOptions {
  JobTarget target;
  std::string rows;  // the variable whose levels label the rows
  std::string cols;  // ... and the columns
};
absl::Status CrosstabCommand(const std::string& config_path, const CrosstabOptions& options,
                             const OutputOptions& output);

struct KmOptions {
  JobTarget target;
  std::string time;
  std::string event;
  std::string by;       // optional: one curve per level
  double time_bin = 0;  // > 0: the nodes round times up to multiples of it
  std::string plot;     // optional: write the curves as SVG to this file
};
// With `plot`, checks before the job runs that its directory exists and is
// writable, writes the figure atomically once the job has succeeded and
// before anything is printed (so a failure leaves stdout empty), and says on
// stderr where it went.
absl::Status KmCommand(const std::string& config_path, const KmOptions& options,
                       const OutputOptions& output);

struct CoxOptions {
  JobTarget target;
  std::string formula;
  std::string ties = "efron";
  bool pooled = false;     // one baseline across sites (needs the nodes' permission)
  int max_iterations = 0;  // 0: the algorithm's default (20, as coxph.control)
};
absl::Status CoxCommand(const std::string& config_path, const CoxOptions& options,
                        const OutputOptions& output);

struct MetaOptions {
  JobTarget target;
  std::string formula;
  std::string family = "gaussian";
  std::string weights;
  int max_iterations = 0;
  std::string plot;  // optional: a forest plot of `term` as SVG
  std::string term;  // default: the first term after the intercept
};
// With `plot`, as KmCommand: the path is checked first and the figure is
// written before anything is printed.
absl::Status MetaCommand(const std::string& config_path, const MetaOptions& options,
                         const OutputOptions& output);

// The catalogue of `dataset` (every dataset the nodes serve when empty): per
// node, the operator's metadata, the variables, and rounded counts.
absl::Status CatalogueCommand(const std::string& config_path, const std::string& dataset,
                              const OutputOptions& output);

// --- Container algorithms (cli/algorithm_commands.cc). ---
// The image commands (keygen, package, sign, verify) work on local files
// only; register, list, show, review, revoke and run talk to the
// coordinator named in client.toml.

struct AlgorithmKeygenOptions {
  std::string out;     // the private key (mode 0600); the public key is out + ".pub"
  bool force = false;  // replace existing files
};
// Prints the key id.
absl::Status AlgorithmKeygenCommand(const AlgorithmKeygenOptions& options);

struct AlgorithmPackageOptions {
  std::string binary;  // a static x86-64 executable built with the SDK
  std::string name;
  std::string version;
  std::string description;
  std::vector<std::string> parameters;  // NAME:TYPE[:required][:DESCRIPTION]
  std::vector<std::string> aggregates;  // block payload types
  std::string out;
  std::string format;  // "dir", "tar", or empty: tar when `out` ends in .tar
};
// Writes the image and prints its manifest digest (alone, on stdout).
absl::Status AlgorithmPackageCommand(const AlgorithmPackageOptions& options);

struct AlgorithmSignOptions {
  std::string key;     // private key PEM, mode 0600
  std::string signer;  // "NAME (ORGANISATION)"
  std::string image;   // rewritten in place, in its format, atomically
};
absl::Status AlgorithmSignCommand(const AlgorithmSignOptions& options);

struct AlgorithmVerifyOptions {
  std::vector<std::string> trusted;  // public key files
  std::string image;
};
// OK, printing who signed, when a signature of a trusted key matches the
// image; else the reason (unsigned, unknown signer, altered image).
absl::Status AlgorithmVerifyCommand(const AlgorithmVerifyOptions& options);

// Uploads the image's blobs, then registers it; prints the record.
absl::Status AlgorithmRegisterCommand(const std::string& config_path, const std::string& image,
                                      const OutputOptions& output);
absl::Status AlgorithmListCommand(const std::string& config_path, const OutputOptions& output);
// `reference`: NAME@VERSION or a manifest digest.
absl::Status AlgorithmShowCommand(const std::string& config_path, const std::string& reference,
                                  const OutputOptions& output);

struct AlgorithmReviewOptions {
  std::string reference;  // NAME@VERSION or a manifest digest
  bool approve = false;   // exactly one of approve and reject
  bool reject = false;
  std::string comment;
};
absl::Status AlgorithmReviewCommand(const std::string& config_path,
                                    const AlgorithmReviewOptions& options,
                                    const OutputOptions& output);
absl::Status AlgorithmRevokeCommand(const std::string& config_path, const std::string& reference,
                                    const std::string& reason, const OutputOptions& output);

struct RunContainerOptions {
  std::string algorithm;  // NAME@VERSION
  JobTarget target;
  // KEY=VALUE: a number if VALUE parses as one, a list if it holds a comma
  // (numbers if every element is one, else texts; "a," is a one-element
  // list), else text. Where the registry declares the parameter's type, the
  // value is read as that type (a "text" parameter keeps "2024" as text).
  std::vector<std::string> parameters;
};
absl::Status RunContainerCommand(const std::string& config_path, const RunContainerOptions& options,
                                 const OutputOptions& output);

// --- A node's local state (cli/node_commands.cc), for its data steward and
// operator on the node's host; `config_path` is node.toml. ---

absl::Status NodeApprovalsListCommand(const std::string& config_path, const OutputOptions& output);
struct NodeDecisionOptions {
  std::string reference;  // NAME@VERSION, a digest, or a digest prefix (12+ hex digits)
  bool approve = false;   // false: reject
  std::string note;
  std::string by;  // empty: $USER, else "data steward"
};
absl::Status NodeApprovalsDecideCommand(const std::string& config_path,
                                        const NodeDecisionOptions& options);
// Prints the log of container run `run_id` (as a task's error names it).
absl::Status NodeLogsCommand(const std::string& config_path, const std::string& run_id);
// Prints one line per check of the node's host and config; FAILED_PRECONDITION
// "N problem(s) found" when any check failed.
absl::Status NodeDoctorCommand(const std::string& config_path);

// spoor audit verify|export (cli/audit_commands.cc): adds the `audit`
// subcommand to `app`; its callbacks set `status`, which must outlive parsing.
void AddAuditCommands(CLI::App& app, absl::Status& status);

// Writes a synthetic cohort CSV (deterministic for a given seed) for the
// sandbox's --nodes N.
absl::Status WriteSyntheticCohort(const std::string& path, int rows, uint64_t seed);

}  // namespace spoor

#endif  // SPOOR_CLI_COMMANDS_H_
