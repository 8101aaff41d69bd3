// What the node checks about a task beyond the disclosure gate, as pure
// functions for TaskExecutor (node/task_executor.h):
//
//   - the node's own policy (node.toml's [policy]): which studies it takes
//     part in, whose tasks it takes, which algorithms it runs;
//   - the inputs of the differencing guard (node/release_history.h): the
//     dataset's data version and the rows a query used.
#ifndef SPOOR_NODE_RELEASE_POLICY_H_
#define SPOOR_NODE_RELEASE_POLICY_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/data_frame.h"
#include "algorithms/disclosure_gate.h"
#include "node/node_config.h"
#include "node/release_history.h"
#include "spoor/v1/job.pb.h"

namespace spoor {

// nullopt when `policy` admits `task`; else a refusal with rule
// "node_policy" saying which list excluded it, checked in this order:
//   studies      "this node does not take part in study 'S'" (or, for a task
//                that names no study, that the node takes part only in the
//                studies its operator listed)
//   researchers  "this node does not take tasks from researcher 'R'"
//   algorithms   "this node does not run algorithm 'A'"
// A container algorithm (NAME@VERSION) is admitted by its NAME, by
// NAME@VERSION, or by the manifest digest the task names (which the node
// verifies against the image before it runs anything). The messages hold
// only what the task itself says. Thread-safe (pure).
std::optional<GateRefusal> CheckNodePolicy(const NodePolicy& policy, const v1::Task& task);

// The data version of the differencing guard: "sha256:" and the SHA-256 (hex)
// of the frame's content (each column's name, type and values; a categorical
// column's levels and codes) in row order. Equal frames read at different
// times or by different processes give the same version; any change to a
// value, a row's position or the columns gives another. Reads every value:
// about a second per GB of frame. INTERNAL if OpenSSL fails. Thread-safe.
absl::StatusOr<std::string> FrameDigest(const DataFrame& frame);

// The subset of a frame of `num_rows` rows that selects `rows` (indices
// below num_rows, any order, duplicates allowed).
RowSubset SubsetOfRows(size_t num_rows, const std::vector<size_t>& rows);

// Every row of a frame of `num_rows` rows.
RowSubset AllRows(size_t num_rows);

}  // namespace spoor

#endif  // SPOOR_NODE_RELEASE_POLICY_H_
