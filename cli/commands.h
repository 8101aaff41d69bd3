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
  int nodes = 0;                    // --nodes N (synthetic data)
  std::vector<std::string> node_specs;  // --node NAME=FILE.csv
  int min_records = 10;
  int node_timeout_seconds = 60;
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

struct SummaryOptions {
  std::string dataset;
  std::vector<std::string> vars;
  std::vector<std::string> nodes;
};
absl::Status SummaryCommand(const std::string& config_path, const SummaryOptions& options,
                            const OutputOptions& output);

struct GlmOptions {
  std::string dataset;
  std::string formula;
  std::string family = "gaussian";
  std::string weights;     // a numeric column of prior weights, optional
  int max_iterations = 0;  // 0: the algorithm's default (25)
  std::vector<std::string> nodes;
};
absl::Status GlmCommand(const std::string& config_path, const GlmOptions& options,
                        const OutputOptions& output);

// Writes a synthetic cohort CSV (deterministic for a given seed) for the
// sandbox's --nodes N.
absl::Status WriteSyntheticCohort(const std::string& path, int rows, uint64_t seed);

}  // namespace spoor

#endif  // SPOOR_CLI_COMMANDS_H_
