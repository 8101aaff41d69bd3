// The coordinator's domain logic: jobs -> rounds -> one task per node.
//
// Includes no gRPC header. The RPC adapters (node_link_service.h,
// research_service.h) parse and authorise, then call in here; the job
// manager talks back to nodes through NodeSink and to researchers through
// watcher callbacks. Thread-safe: every public method may be called from any
// thread. Sinks and watchers are always invoked with no lock held.
//
// State machine of a job:
//   Submit -> RUNNING (round 1 dispatched)
//   RUNNING, all results of round r in -> central step ->
//       done: SUCCEEDED (result stored)   more: RUNNING round r+1
//   RUNNING, a node refuses or fails a task -> FAILED (reason names node)
//   RUNNING, a participant disconnected for longer than node_timeout
//       -> FAILED (reason names node and timeout)
// Every transition (submit, next round, finish) is saved to the JobStore
// before it is announced, so a restarted coordinator resumes (Recover) at the
// round it was in. Results of an unfinished round live in memory only; after
// a restart the round's tasks are sent again and nodes answer them from
// their memory of the task id. No single node's aggregate is ever written to
// the coordinator's disk.
#ifndef SPOOR_COORDINATOR_JOB_MANAGER_H_
#define SPOOR_COORDINATOR_JOB_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "algorithms/algorithm.h"
#include "common/clock.h"
#include "coordinator/job_store.h"
#include "spoor/v1/job.pb.h"
#include "spoor/v1/node_link.pb.h"
#include "spoor/v1/research.pb.h"

namespace spoor {

// The way back to one connected node. Implementations queue the message and
// return at once; they must be safe to call after the node has gone (then
// the message is dropped).
class NodeSink {
 public:
  virtual ~NodeSink() = default;
  virtual void Send(const v1::CoordinatorMessage& message) = 0;
};

// Where jobs find container algorithms (NAME@VERSION): the coordinator's
// registry (registry_algorithms.h). Thread-safe.
class ContainerAlgorithmSource {
 public:
  virtual ~ContainerAlgorithmSource() = default;
  struct Found {
    std::shared_ptr<const Algorithm> algorithm;
    std::string manifest_digest;
  };
  // A runnable algorithm: registered, approved by the reviewers, not
  // revoked. NOT_FOUND for an unknown one; FAILED_PRECONDITION saying why
  // one may not run (pending review, rejected, revoked).
  virtual absl::StatusOr<Found> Find(const std::string& reference) = 0;
};

// Container algorithms may iterate, but not forever.
inline constexpr int kMaxContainerRounds = 100;

struct JobManagerOptions {
  // How long a running job waits for a participant that disconnected before
  // the job fails. Zero fails at once.
  absl::Duration node_timeout = absl::Seconds(60);
  // Heartbeat interval announced to nodes in the welcome.
  absl::Duration heartbeat_interval = absl::Seconds(5);
  // The fewest nodes a job may run over (coordinator.toml disclosure.min_sites).
  // Nodes re-check their own minimum, so this only refuses early and kindly.
  int64_t min_sites = 3;
};

class JobManager {
 public:
  using Watcher = std::function<void(const v1::JobEvent&)>;

  // `containers` null: built-in algorithms only.
  JobManager(const Clock& clock, JobStore& store, const AlgorithmRegistry& algorithms,
             JobManagerOptions options, ContainerAlgorithmSource* containers = nullptr);
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Loads running jobs from the store. Call once, before serving. Their
  // participants count as disconnected from now until they attach.
  absl::Status Recover();

  // A node completed its hello. Replaces any earlier session of the same
  // node, then re-sends every task of the node's running jobs that it has
  // not answered. Returns the session id to pass to DetachNode.
  // `sink` is shared: the RPC session and the manager both hold it, and it
  // must outlive whichever of them sends last.
  uint64_t AttachNode(const std::string& organisation, const v1::NodeHello& hello,
                      std::shared_ptr<NodeSink> sink);
  // The node's stream ended. Ignored if `session` is no longer current.
  void DetachNode(const std::string& node_id, uint64_t session);
  void NodeHeartbeat(const std::string& node_id);

  // A node answered a task. Unknown, stale or repeated results are ignored
  // (results are idempotent by task id).
  void OnTaskResult(const std::string& node_id, const v1::TaskResult& result);

  // Validates, persists and dispatches a job. INVALID_ARGUMENT for a bad
  // spec, FAILED_PRECONDITION when no (or not every named) node can run it
  // or when fewer than options().min_sites nodes would take part.
  absl::StatusOr<v1::Job> Submit(const v1::Requester& requester, const v1::JobSpec& spec);

  // NOT_FOUND if there is no such job.
  absl::StatusOr<v1::Job> GetJob(const std::string& job_id);
  absl::StatusOr<std::vector<v1::Job>> ListJobs(int limit);
  std::vector<v1::NodeStatus> ListNodes();

  // Calls `watcher` with a progress event now and after every result, and
  // with exactly one finished event last (at once if the job has already
  // finished). Returns an id for Unwatch. NOT_FOUND for an unknown job.
  absl::StatusOr<uint64_t> Watch(const std::string& job_id, Watcher watcher);
  void Unwatch(uint64_t watch_id);

  // Fails jobs whose disconnected participants are past node_timeout.
  // The daemon calls this about once a second; tests call it after moving a
  // FakeClock.
  void Tick();

  const JobManagerOptions& options() const { return options_; }

 private:
  struct ActiveJob {
    v1::Job job;
    v1::Parameters round_state;
    const Algorithm* algorithm = nullptr;
    // A container algorithm: holds it for the job, with its image's digest.
    std::shared_ptr<const Algorithm> container;
    std::string algorithm_digest;
    std::map<std::string, v1::TaskResult> results;  // current round, by node
  };
  struct NodeEntry {
    std::string organisation;
    v1::NodeHello hello;
    std::shared_ptr<NodeSink> sink;  // null while disconnected
    uint64_t session = 0;
    absl::Time last_seen;
    absl::Time disconnected_since;
  };
  // Work to do once the lock is released.
  struct Effects {
    std::vector<std::pair<std::shared_ptr<NodeSink>, v1::CoordinatorMessage>> sends;
    std::vector<std::pair<Watcher, v1::JobEvent>> events;
  };

  // Sets active.algorithm for its spec (built in, or from containers_).
  // Reads only `active` and members set at construction: Submit calls it
  // before taking the lock (the registry may be slow).
  absl::Status ResolveAlgorithm(ActiveJob& active) const;
  void Dispatch(ActiveJob& active, Effects& effects) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::Task MakeTask(const ActiveJob& active, const std::string& node_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AdvanceIfComplete(ActiveJob& active, Effects& effects) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finish(ActiveJob& active, v1::JobState state, const std::string& reason, Effects& effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Saves and announces the job's current round and sends its tasks.
  void StartRound(ActiveJob& active, Effects& effects) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A secure job whose participant `lost` is gone: restarts from round 1
  // with the others (fresh masks), or fails when too few remain.
  void RestartWithout(ActiveJob& active, const std::string& lost, Effects& effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Save(const ActiveJob& active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Touch(v1::Job& job) const;
  void UpdateProgress(ActiveJob& active) const;
  void EmitProgress(const ActiveJob& active, Effects& effects) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Apply(Effects& effects);

  const Clock& clock_;
  JobStore& store_;
  const AlgorithmRegistry& algorithms_;
  const JobManagerOptions options_;
  ContainerAlgorithmSource* const containers_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, ActiveJob> active_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, NodeEntry> nodes_ ABSL_GUARDED_BY(mu_);
  uint64_t next_session_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_watch_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t job_counter_ ABSL_GUARDED_BY(mu_) = 0;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);  // job id suffixes
  // watch id -> (job id, watcher)
  std::map<uint64_t, std::pair<std::string, Watcher>> watchers_ ABSL_GUARDED_BY(mu_);
};

// Task ids are "<job id>/<round>/<node id>" ("<round>a<attempt>" once a
// secure job restarted without a node): unique, and stable across a
// coordinator restart, so a node recognises a re-sent task.
std::string MakeTaskId(const std::string& job_id, int round, const std::string& node_id,
                       int attempt = 0);

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_JOB_MANAGER_H_
