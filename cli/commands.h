// The `spoor` subcommands. Each returns OK or a status whose message is the
// one line printed on stderr; main() maps it to the exit code.
#ifndef SPOOR_CLI_COMMANDS_H_
#define SPOOR_CLI_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

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

struct SandboxOptions {
  std::string dir;
  int nodes = 0;                        // --nodes N (synthetic data)
  std::vector<std::string> node_specs;  // --node NAME=FILE.csv
  int min_records = 10;
  int node_timeout_seconds = 60;
  bool allow_event_time_sums = false;  // every node's disclosure.allow_event_time_sums
};
absl::Status SandboxStart(const SandboxOptions& options);
absl::Status SandboxStop(const std::string& dir);

// Research commands, against the coordinator named in client.toml.
struct OutputOptions {
  bool json = false;
};
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

// Writes a synthetic cohort CSV (deterministic for a given seed) for the
// sandbox's --nodes N.
absl::Status WriteSyntheticCohort(const std::string& path, int rows, uint64_t seed);

}  // namespace spoor

#endif  // SPOOR_CLI_COMMANDS_H_
