// Durable job state behind an interface, so the job manager's tests can use
// an in-memory store and the daemon a SQLite one.
//
// A job is stored as its v1::Job message plus the state of its current round,
// at every round boundary and when it finishes. Individual nodes' aggregates
// are never stored: the coordinator's disk holds only combined state and
// final results. A restarted coordinator resumes a job at its current round
// and sends that round's tasks again; nodes answer a task id they have seen
// from memory, without running or auditing it twice.
#ifndef SPOOR_COORDINATOR_JOB_STORE_H_
#define SPOOR_COORDINATOR_JOB_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "spoor/v1/job.pb.h"
#include "spoor/v1/values.pb.h"

namespace spoor {

// A job as stored, with what is needed to resume it.
struct StoredJob {
  v1::Job job;
  v1::Parameters round_state;
};

// Implementations are thread-safe.
class JobStore {
 public:
  virtual ~JobStore() = default;

  // Inserts or replaces the job and its round state.
  virtual absl::Status SaveJob(const v1::Job& job, const v1::Parameters& round_state) = 0;
  // Periodic housekeeping (for SQLite: a WAL checkpoint). Called about once
  // a second from the coordinator's timer thread.
  virtual absl::Status Maintain() { return absl::OkStatus(); }
  // Every job in state RUNNING.
  virtual absl::StatusOr<std::vector<StoredJob>> LoadRunningJobs() = 0;
  // nullopt if there is no such job.
  virtual absl::StatusOr<std::optional<v1::Job>> LoadJob(const std::string& job_id) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<v1::Job>> ListJobs(int limit) = 0;
};

// Opens (creating if needed) a SQLite database in WAL mode at `path`.
// FAILED_PRECONDITION naming the path if it cannot be opened or its schema is
// from an unknown version.
absl::StatusOr<std::unique_ptr<JobStore>> OpenSqliteJobStore(const std::string& path);

// A store that keeps everything in memory (tests, benchmarks of the
// in-memory path).
std::unique_ptr<JobStore> MakeMemoryJobStore();

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_JOB_STORE_H_
