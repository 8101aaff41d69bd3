// Runs one task at the node: the node's domain logic, with no gRPC.
//
//   gate's min_sites over the task's participants -> load the dataset
//   (cached) -> run the algorithm's local step -> disclosure gate on the
//   aggregate -> audit record -> result
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
#include "spoor/v1/job.pb.h"

namespace spoor {

class TaskExecutor {
 public:
  // Every dependency must outlive the executor.
  TaskExecutor(const AlgorithmRegistry& algorithms, DatasetCache& datasets,
               const DisclosureGate& gate, AuditLog& audit);

  // Never fails as a call: problems become a refusal or an error inside the
  // result, which goes back to the coordinator.
  v1::TaskResult Execute(const v1::Task& task);

 private:
  v1::TaskResult Run(const v1::Task& task);

  const AlgorithmRegistry& algorithms_;
  DatasetCache& datasets_;
  const DisclosureGate& gate_;
  AuditLog& audit_;

  absl::Mutex mu_;
  // The most recent results by task id, bounded (kRememberedResults).
  absl::flat_hash_map<std::string, v1::TaskResult> results_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spoor

#endif  // SPOOR_NODE_TASK_EXECUTOR_H_
