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
#include "node/differential_privacy.h"
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
  // privacy_budget: this dataset's epsilon limit under differential privacy
  // (>= 0); absent: PrivacyConfig::budget. Only with [privacy] mechanism.
  std::optional<double> privacy_budget;
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

// [policy]: the studies, researchers and algorithms this node takes tasks
// for, checked before anything else (rule node_policy). An empty list admits
// any; the default admits everything. Names are matched exactly.
struct NodePolicy {
  std::vector<std::string> studies = {};      // Task.study
  std::vector<std::string> researchers = {};  // Task.requester.name
  // A built-in algorithm's name, a container algorithm's NAME (any
  // version) or NAME@VERSION, or its manifest digest sha256:...
  std::vector<std::string> algorithms = {};
};

// [privacy]: the differencing guard (node/release_history.h) and
// differential privacy (node/differential_privacy.h, node/privacy_budget.h).
struct PrivacyConfig {
  bool differencing_guard = true;
  // Refuse (rule secure_required) every task not under secure aggregation.
  bool require_secure = false;
  // Absent: no noise, no budget. Present: every release is noised with
  // (epsilon, delta) and spends its epsilon from its dataset's budget.
  std::optional<DpMechanism> mechanism;
  double epsilon = 1.0;  // per release; > 0, and < 1 with kGaussian
  double delta = 1e-6;   // per release, kGaussian only; in (0, 1)
  double budget = 10.0;  // per dataset, unless DatasetConfig::privacy_budget; >= 0

  // The settings for AddNoise; meaningful only with a mechanism.
  DpSettings dp() const { return {mechanism.value_or(DpMechanism::kLaplace), epsilon, delta}; }
};

struct NodeConfig {
  std::string name;         // must equal the node certificate's CN
  std::string coordinator;  // host:port
  std::string data_dir;     // audit.jsonl
  TlsFiles tls;
  DisclosureRules disclosure;  // [disclosure]; absent keys keep their defaults
  std::vector<DatasetConfig> datasets;
  ContainerPolicy containers;  // [containers]
  NodePolicy policy;           // [policy]
  PrivacyConfig privacy;       // [privacy]
};

// INVALID_ARGUMENT with file:line for a malformed file (unknown keys, wrong
// types, out-of-range values such as a negative limit or a
// disclosure.max_parameter_fraction above 1, duplicate dataset names, no
// datasets, a dataset without its source's keys, a bad harmonisation
// mapping or OMOP view, a [privacy] mechanism other than laplace or
// gaussian, an epsilon, delta or budget out of range, or epsilon, delta,
// budget or a dataset's privacy_budget without a mechanism).
absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path);

}  // namespace spoor

#endif  // SPOOR_NODE_NODE_CONFIG_H_
