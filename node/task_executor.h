// Runs one task at the node: the node's domain logic, with no gRPC.
//
//   the node's own policy ([policy]: study, researcher, algorithm; before
//   anything else) -> a container algorithm (NAME@VERSION): the node's
//   container policy, signature and approval checks (node_containers.h) ->
//   gate's min_sites over the task's participants -> load the dataset
//   (cached) -> the task's cohort filter (--where; the filtered frame and the
//   rows it selected are cached too, for the next rounds) -> run the
//   algorithm's local step -> disclosure gate on the exact aggregate ->
//   differential privacy, when on: noise (refused for unbounded sums) ->
//   differencing guard, when on: the rows used against earlier releases ->
//   privacy budget, when DP is on: spend the release's epsilon -> audit
//   record -> result
//
// A refusal goes back as a Refusal naming the rule and is audited as
// task_refused: node_policy; container_policy, signature, ... (containers);
// min_sites and the gate's rules; differential_privacy; differencing;
// privacy_budget. The differencing guard records a query's rows when it
// passes, so a later refusal (budget, audit log) leaves them recorded, which
// errs on the safe side; the budget is spent only when everything else
// passed, just before the audit record.
//
// Results are idempotent by task id: a task seen before (re-sent after a
// reconnect or a coordinator restart) gets the same result again without
// running, auditing or spending privacy budget twice. The results are kept
// in memory only: after a node restart a re-sent task runs again, and under
// differential privacy its fresh noise is a new release that spends again
// (the budget is charged per task and released bytes). Thread-safe.
#ifndef SPOOR_NODE_TASK_EXECUTOR_H_
#define SPOOR_NODE_TASK_EXECUTOR_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "algorithms/algorithm.h"
#include "algorithms/disclosure_gate.h"
#include "common/audit_log.h"
#include "node/dataset_cache.h"
#include "node/differential_privacy.h"
#include "node/node_config.h"
#include "node/node_containers.h"
#include "node/privacy_budget.h"
#include "node/release_history.h"
#include "node/secure_masking.h"
#include "spoor/v1/job.pb.h"

namespace spoor {

// The node's protections beyond the disclosure gate (node.toml's [policy]
// and [privacy]). The default protects with nothing: every task is admitted,
// no history is kept, no noise is added. Pointers are not owned and must
// outlive the executor.
struct NodeProtections {
  NodePolicy policy;  // empty lists: any study, researcher, algorithm
  // The differencing guard (rule differencing); nullptr: off.
  ReleaseHistory* history = nullptr;
  // Differential privacy (rules differential_privacy, privacy_budget):
  // nullptr: off. On, every release is noised with `dp` and spends its
  // epsilon from its dataset's budget: DatasetConfig::privacy_budget, else
  // `default_budget`.
  PrivacyBudget* budget = nullptr;
  DpSettings dp;  // in DpSettings' ranges, or every task fails
  double default_budget = 10.0;
  // Where the noise comes from; nullptr: the OpenSSL CSPRNG
  // (MakeCryptoNoiseSource). Only tests pass another. Must be thread-safe.
  NoiseSource* noise = nullptr;
  // Secure aggregation: masks the released sums of a task that asks for it
  // (Task.secure); nullptr: this node cannot take part (such tasks fail).
  const SecureMasking* secure = nullptr;
  // [privacy] require_secure: refuse (rule secure_required) every task that
  // does not run under secure aggregation.
  bool require_secure = false;
};

class TaskExecutor {
 public:
  // Every dependency must outlive the executor. `containers` null: this
  // node runs built-in algorithms only. `protections`: see NodeProtections.
  TaskExecutor(const AlgorithmRegistry& algorithms, DatasetCache& datasets,
               const DisclosureGate& gate, AuditLog& audit, NodeContainers* containers = nullptr,
               NodeProtections protections = {});

  // Never fails as a call: problems become a refusal or an error inside the
  // result, which goes back to the coordinator.
  v1::TaskResult Execute(const v1::Task& task);

 private:
  // The records a task reads: its dataset's frame restricted to the rows
  // where `where` holds, and (with the differencing guard) which rows of the
  // dataset's frame those are.
  struct Cohort {
    std::shared_ptr<const DataFrame> frame;
    std::shared_ptr<const RowSubset> rows;  // nullptr without the guard
  };
  // What happened to an aggregate after the gate passed it.
  struct Protected {
    std::optional<GateRefusal> refusal;
    nlohmann::json privacy;  // the audit record's "privacy"; null without DP
  };

  v1::TaskResult Run(const v1::Task& task);
  // `frame` restricted to the rows where `where` holds (all of them when
  // `where` is empty).
  absl::StatusOr<Cohort> Filter(std::shared_ptr<const DataFrame> frame, const std::string& where);
  // Differential privacy, the differencing guard and the privacy budget, in
  // that order, on an aggregate the gate passed: `aggregate` is noised in
  // place. Errors (a failed database, noise source or digest) fail the task.
  absl::StatusOr<Protected> Protect(const v1::Task& task, const DataFrame& dataset,
                                    const Cohort& cohort, v1::Aggregate& aggregate);
  // The differencing guard's data version of `frame`, the frame of dataset
  // `name` (FrameDigest, remembered while the frame stays the same).
  absl::StatusOr<std::string> DataVersion(const std::string& name, const DataFrame& frame);

  const AlgorithmRegistry& algorithms_;
  DatasetCache& datasets_;
  const DisclosureGate& gate_;
  AuditLog& audit_;
  NodeContainers* const containers_;
  const NodeProtections protections_;
  // The crypto source, when DP is on and protections_.noise is null.
  std::unique_ptr<NoiseSource> own_noise_;
  NoiseSource* const noise_;  // null when DP is off

  absl::Mutex mu_;
  // The most recent results by task id, bounded (kRememberedResults), with
  // the SHA-256 of the task they answered: the same id for another request
  // is a replayed or altered task.
  struct Remembered {
    std::string fingerprint;
    v1::TaskResult result;
  };
  absl::flat_hash_map<std::string, Remembered> results_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);

  // The most recently filtered frames (kRememberedFilters), newest first: an
  // iterative job filters once, not once per round.
  struct FilteredFrame {
    uint64_t frame_id;
    std::string where;
    Cohort cohort;
  };
  absl::Mutex filters_mu_;
  std::deque<FilteredFrame> filtered_ ABSL_GUARDED_BY(filters_mu_);

  // Data versions by dataset name: the frame id they were computed for, and
  // the version.
  absl::Mutex versions_mu_;
  absl::flat_hash_map<std::string, std::pair<uint64_t, std::string>> versions_
      ABSL_GUARDED_BY(versions_mu_);
};

}  // namespace spoor

#endif  // SPOOR_NODE_TASK_EXECUTOR_H_
