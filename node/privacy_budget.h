// The node's per-dataset privacy budget: every differentially private release
// (node/differential_privacy.h) spends some epsilon of its dataset's budget,
// and the node refuses a release that would take a dataset past the limit
// the data steward set. The steward reviews and resets the spends with
//   spoor node budget ...
// which opens the same SQLite file (data_dir/privacy.db) while the node runs.
//
// On disk, one table:
//   spends(dataset TEXT, task_id TEXT UNIQUE, job_id TEXT, epsilon REAL,
//          delta REAL, time INTEGER (Unix microseconds))
// one row per release. Epsilons add up (basic sequential composition); the
// limit is on epsilon only, delta is kept for the record.
#ifndef SPOOR_NODE_PRIVACY_BUDGET_H_
#define SPOOR_NODE_PRIVACY_BUDGET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "node/differential_privacy.h"

namespace spoor {

// Thread-safe; several processes (the node, the CLI) may share the file:
// each Spend is one SQLite write transaction.
class PrivacyBudget {
 public:
  // Opens (creating) the database at `path`. `clock` timestamps the spends;
  // it is not owned and must outlive the budget. FAILED_PRECONDITION when the
  // file cannot be opened, INTERNAL when its schema cannot be created.
  static absl::StatusOr<std::unique_ptr<PrivacyBudget>> Open(const std::string& path,
                                                             const Clock& clock);
  virtual ~PrivacyBudget() = default;

  // Records `spend` for `dataset` if Spent(dataset) + spend.epsilon <= limit
  // (with a relative tolerance of 1e-9 for rounding), atomically: the check
  // and the record are one transaction, so concurrent spends (from threads or
  // processes) cannot overshoot together.
  //
  // Idempotent per task_id: a task_id already recorded returns OK and spends
  // nothing more (a retried task, answered again, releases nothing new).
  //
  // Errors (nothing is recorded):
  //   RESOURCE_EXHAUSTED  "privacy budget of dataset 'D' is exhausted: spent S
  //                       of L (this task needs E); the data steward can
  //                       review it with spoor node budget"
  //   INVALID_ARGUMENT    limit, epsilon or delta negative or not finite, or
  //                       an empty dataset or task_id
  //   INTERNAL            SQLite failed (e.g. the file stayed locked by
  //                       another process for more than 5 s)
  virtual absl::Status Spend(const std::string& dataset, double limit, const std::string& job_id,
                             const std::string& task_id, const DpSpend& spend) = 0;

  // The epsilon spent on `dataset` so far (0 for a dataset never spent on).
  // INTERNAL when SQLite fails.
  virtual absl::StatusOr<double> Spent(const std::string& dataset) const = 0;

  struct Entry {
    std::string dataset;
    double spent = 0;        // epsilon
    double delta_spent = 0;  // for the record; not limited
    int64_t releases = 0;
    absl::Time last;  // the latest spend
  };
  // One entry per dataset with spends, sorted by name (bytewise). INTERNAL
  // when SQLite fails.
  virtual absl::StatusOr<std::vector<Entry>> List() const = 0;

  // The data steward's reset (e.g. after a new data release): removes all of
  // `dataset`'s spends and returns how many there were (0 for an unknown
  // dataset). Tasks recorded before may then spend again. INTERNAL when
  // SQLite fails.
  virtual absl::StatusOr<int64_t> Reset(const std::string& dataset) = 0;
};

}  // namespace spoor

#endif  // SPOOR_NODE_PRIVACY_BUDGET_H_
