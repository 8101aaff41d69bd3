// node.toml: see docs/operators.md for every key.
#ifndef SPOOR_NODE_NODE_CONFIG_H_
#define SPOOR_NODE_NODE_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/disclosure_gate.h"
#include "common/tls.h"

namespace spoor {

struct DatasetConfig {
  std::string name;
  std::string path;  // CSV file, resolved against the config's directory
};

struct NodeConfig {
  std::string name;         // must equal the node certificate's CN
  std::string coordinator;  // host:port
  std::string data_dir;     // audit.jsonl
  TlsFiles tls;
  DisclosureRules disclosure;  // [disclosure]; absent keys keep their defaults
  std::vector<DatasetConfig> datasets;
};

// INVALID_ARGUMENT with file:line for a malformed file (unknown keys, wrong
// types, out-of-range values such as a negative limit or a
// disclosure.max_parameter_fraction above 1, duplicate dataset names, no
// datasets).
absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path);

}  // namespace spoor

#endif  // SPOOR_NODE_NODE_CONFIG_H_
