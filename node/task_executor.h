// Runs one task at the node: the node's domain logic, with no gRPC.
//
//   a container algorithm (NAME@VERSION): the node's container policy,
//   signature and approval checks (node_containers.h) -> gate's min_sites
//   over the task's participants -> load the dataset
//   (cached) -> the task's cohort filter (--where; the filtered frame is
//   cached too, for the next rounds) -> run the algorithm's local step ->
//   disclosure gate on the aggregate -> audit record -> result
//
// A refusal (min_sites before anything runs, or any rule of the gate
// afterwards) goes back as a Refusal naming the rule and is audited as
// task_refused.
//
// Results are idempotent by task id: a task seen before (re-sent after a
// reconnect or a coordinator restart) gets the same result again without
// running or auditing twice. Thread-safe.
#ifndef SPOOR_NODE_TASK_EXECUTOR_H_
#define SPOOR_NODE_TASK_EXECUTOR_H_

#include <deque>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "algorithms/algorithm.h"
#include "algorithms/disclosure_gate.h"
#include "common/audit_log.h"
#include "node/dataset_cache.h"
#include "node/node_containers.h"
#include "spoor/v1/job.pb.h"

namespace spoor {

class TaskExecutor {
 public:
  // Every dependency must outlive the executor. `containers` null: this
  // node runs built-in algorithms only.
  TaskExecutor(const AlgorithmRegistry& algorithms, DatasetCache& datasets,
               const DisclosureGate& gate, AuditLog& audit, NodeContainers* containers = nullptr);

  // Never fails as a call: problems become a refusal or an error inside the
  // result, which goes back to the coordinator.
  v1::TaskResult Execute(const v1::Task& task);

 private:
  v1::TaskResult Run(const v1::Task& task);
  // `frame` restricted to the rows where `where` holds (itself when empty).
  absl::StatusOr<std::shared_ptr<const DataFrame>> Filter(std::shared_ptr<const DataFrame> frame,
                                                          const std::string& where);

  const AlgorithmRegistry& algorithms_;
  DatasetCache& datasets_;
  const DisclosureGate& gate_;
  AuditLog& audit_;
  NodeContainers* const containers_;

  absl::Mutex mu_;
  // The most recent results by task id, bounded (kRememberedResults).
  absl::flat_hash_map<std::string, v1::TaskResult> results_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);

  // The most recently filtered frames (kRememberedFilters), newest first: an
  // iterative job filters once, not once per round.
  struct FilteredFrame {
    uint64_t frame_id;
    std::string where;
    std::shared_ptr<const DataFrame> frame;
  };
  absl::Mutex filters_mu_;
  std::deque<FilteredFrame> filtered_ ABSL_GUARDED_BY(filters_mu_);
};

}  // namespace spoor

#endif  // SPOOR_NODE_TASK_EXECUTOR_H_
