// node.toml: see docs/operators.md for every key.
#ifndef SPOOR_NODE_NODE_CONFIG_H_
#define SPOOR_NODE_NODE_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "algorithms/algorithm.h"
#include "algorithms/disclosure_gate.h"
#include "algorithms/harmonise.h"
#include "common/runc_sandbox.h"
#include "common/tls.h"
#include "node/omop.h"

namespace spoor {

enum class DatasetSource { kCsv, kSqlite, kPostgres };

// One [[datasets]] entry: where the data come from, how they are harmonised,
// and how the catalogue describes them.
struct DatasetConfig {
  std::string name;
  DatasetSource source = DatasetSource::kCsv;
  std::string path;  // csv, sqlite: the file, resolved against the config's directory
  // postgresql: a libpq connection string. It may name a password file
  // (passfile=...), never hold a password: node.toml is not a secret store.
  // Never logged.
  std::string connection;
  // sqlite, postgresql: exactly one of table, query and omop.
  std::string table;
  std::string query;
  std::optional<OmopView> omop;
  // postgresql: the loaded frame is reused for this long, then read again
  // (a database has no modification time to watch). sqlite and csv are
  // re-read when their file changes.
  absl::Duration refresh = absl::Hours(1);
  // postgresql: the longest any statement of a read may run (timeout_seconds).
  absl::Duration timeout = absl::Minutes(10);
  DatasetMetadata metadata;                // [datasets.metadata]
  std::vector<VariableMapping> variables;  // [[datasets.variables]]: harmonisation
};

// A CSV dataset with nothing else configured (tests, benchmarks, sandbox).
inline DatasetConfig CsvDataset(std::string name, std::string path) {
  DatasetConfig dataset;
  dataset.name = std::move(name);
  dataset.path = std::move(path);
  return dataset;
}

// [containers]: which container algorithms this node runs, and the sandbox
// they run in. Deny by default: with no [containers] table (or enabled =
// false) the node runs built-in algorithms only; enabled, it runs an
// algorithm only if it is signed by one of trusted_signers, not revoked at
// the registry, and either listed in allow or approved by the data steward
// (require_local_approval; spoor node approvals).
struct ContainerPolicy {
  bool enabled = false;
  std::vector<std::string> trusted_signers;  // public key files (PEM)
  // NAME (any version), NAME@VERSION or a manifest digest sha256:...
  std::vector<std::string> allow;
  bool require_local_approval = false;
  std::string runc = "runc";
  std::string work_dir;  // default data_dir/containers: images, runs, logs
  SandboxLimits limits;  // memory_mb, max_processes, cpu_seconds,
                         // timeout_seconds, max_file_mb, max_log_kb
};

struct NodeConfig {
  std::string name;         // must equal the node certificate's CN
  std::string coordinator;  // host:port
  std::string data_dir;     // audit.jsonl
  TlsFiles tls;
  DisclosureRules disclosure;  // [disclosure]; absent keys keep their defaults
  std::vector<DatasetConfig> datasets;
  ContainerPolicy containers;  // [containers]
};

// INVALID_ARGUMENT with file:line for a malformed file (unknown keys, wrong
// types, out-of-range values such as a negative limit or a
// disclosure.max_parameter_fraction above 1, duplicate dataset names, no
// datasets, a dataset without its source's keys, a bad harmonisation
// mapping or OMOP view).
absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path);

}  // namespace spoor

#endif  // SPOOR_NODE_NODE_CONFIG_H_
