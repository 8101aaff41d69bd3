#include "node/privacy_budget.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite_statement.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS spends (
  dataset TEXT NOT NULL,
  task_id TEXT NOT NULL UNIQUE,
  job_id  TEXT NOT NULL,
  epsilon REAL NOT NULL,
  delta   REAL NOT NULL,
  time    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS spends_by_dataset ON spends(dataset);
)sql";

bool IsFiniteNonNegative(double x) { return std::isfinite(x) && x >= 0; }

class SqlitePrivacyBudget final : public PrivacyBudget {
 public:
  SqlitePrivacyBudget(sqlite3* db, std::string path, const Clock& clock)
      : clock_(clock), path_(std::move(path)), db_(db) {}
  ~SqlitePrivacyBudget() override { sqlite3_close_v2(db_); }

  absl::Status Init() {
    absl::MutexLock lock(&mu_);
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA busy_timeout=5000"));
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    return Exec(kSchema);
  }

  absl::Status Spend(const std::string& dataset, double limit, const std::string& job_id,
                     const std::string& task_id, const DpSpend& spend) override {
    if (dataset.empty() || task_id.empty()) {
      return absl::InvalidArgumentError("a privacy spend needs a dataset and a task id");
    }
    if (!IsFiniteNonNegative(limit) || !IsFiniteNonNegative(spend.epsilon) ||
        !IsFiniteNonNegative(spend.delta)) {
      return absl::InvalidArgumentError(
          absl::StrCat("privacy budget of dataset '", dataset,
                       "': the limit, epsilon and delta must be finite numbers >= 0"));
    }
    absl::MutexLock lock(&mu_);
    // IMMEDIATE takes the write lock now, so no other process spends between
    // our sum and our insert.
    SPOOR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    absl::Status status = SpendLocked(dataset, limit, job_id, task_id, spend);
    if (!status.ok()) {
      Exec("ROLLBACK").IgnoreError();  // the error above is the one to report
      return status;
    }
    absl::Status committed = Exec("COMMIT");
    if (!committed.ok()) Exec("ROLLBACK").IgnoreError();
    return committed;
  }

  absl::StatusOr<double> Spent(const std::string& dataset) const override {
    absl::MutexLock lock(&mu_);
    return SpentLocked(dataset);
  }

  absl::StatusOr<std::vector<Entry>> List() const override {
    absl::MutexLock lock(&mu_);
    SqliteStatement st;
    SPOOR_RETURN_IF_ERROR(
        Prepare("SELECT dataset, TOTAL(epsilon), TOTAL(delta), COUNT(*), MAX(time) FROM spends "
                "GROUP BY dataset ORDER BY dataset",
                st));
    std::vector<Entry> entries;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      Entry entry;
      const unsigned char* name = sqlite3_column_text(st.get(), 0);
      entry.dataset = name != nullptr ? reinterpret_cast<const char*>(name) : "";
      entry.spent = sqlite3_column_double(st.get(), 1);
      entry.delta_spent = sqlite3_column_double(st.get(), 2);
      entry.releases = sqlite3_column_int64(st.get(), 3);
      entry.last = absl::FromUnixMicros(sqlite3_column_int64(st.get(), 4));
      entries.push_back(std::move(entry));
    }
    if (rc != SQLITE_DONE) return Error("list the spends");
    return entries;
  }

  absl::StatusOr<int64_t> Reset(const std::string& dataset) override {
    absl::MutexLock lock(&mu_);
    SqliteStatement st;
    SPOOR_RETURN_IF_ERROR(Prepare("DELETE FROM spends WHERE dataset = ?1", st));
    SqliteBind(st.get(), 1, dataset);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("reset a dataset's spends");
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

 private:
  absl::Status SpendLocked(const std::string& dataset, double limit, const std::string& job_id,
                           const std::string& task_id, const DpSpend& spend)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    {
      SqliteStatement st;
      SPOOR_RETURN_IF_ERROR(Prepare("SELECT 1 FROM spends WHERE task_id = ?1", st));
      SqliteBind(st.get(), 1, task_id);
      int rc = sqlite3_step(st.get());
      if (rc == SQLITE_ROW) return absl::OkStatus();  // spent once already
      if (rc != SQLITE_DONE) return Error("look up a task's spend");
    }
    SPOOR_ASSIGN_OR_RETURN(double spent, SpentLocked(dataset));
    // Tolerance for the rounding of many small epsilons adding up to the limit.
    double tolerance = 1e-9 * std::max(1.0, limit);
    if (spent + spend.epsilon > limit + tolerance) {
      return absl::ResourceExhaustedError(
          absl::StrCat("privacy budget of dataset '", dataset, "' is exhausted: spent ", spent,
                       " of ", limit, " (this task needs ", spend.epsilon,
                       "); the data steward can review it with spoor node budget"));
    }
    SqliteStatement st;
    SPOOR_RETURN_IF_ERROR(
        Prepare("INSERT INTO spends(dataset, task_id, job_id, epsilon, delta, time) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                st));
    SqliteBind(st.get(), 1, dataset);
    SqliteBind(st.get(), 2, task_id);
    SqliteBind(st.get(), 3, job_id);
    sqlite3_bind_double(st.get(), 4, spend.epsilon);
    sqlite3_bind_double(st.get(), 5, spend.delta);
    sqlite3_bind_int64(st.get(), 6, absl::ToUnixMicros(clock_.Now()));
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("record a spend");
    return absl::OkStatus();
  }

  absl::StatusOr<double> SpentLocked(const std::string& dataset) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    SqliteStatement st;
    // TOTAL is 0.0 (not NULL) over no rows.
    SPOOR_RETURN_IF_ERROR(Prepare("SELECT TOTAL(epsilon) FROM spends WHERE dataset = ?1", st));
    SqliteBind(st.get(), 1, dataset);
    if (sqlite3_step(st.get()) != SQLITE_ROW) return Error("sum a dataset's spends");
    return sqlite3_column_double(st.get(), 0);
  }

  absl::Status Error(const std::string& what) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::InternalError(
        absl::StrCat("privacy budget ", path_, ": ", what, ": ", sqlite3_errmsg(db_)));
  }

  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return SqliteExec(db_, sql, absl::StrCat("privacy budget ", path_));
  }

  absl::Status Prepare(const char* sql, SqliteStatement& st) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (sqlite3_prepare_v2(db_, sql, -1, st.out(), nullptr) != SQLITE_OK) return Error(sql);
    return absl::OkStatus();
  }

  const Clock& clock_;
  const std::string path_;
  mutable absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<PrivacyBudget>> PrivacyBudget::Open(const std::string& path,
                                                                   const Clock& clock) {
  SPOOR_ASSIGN_OR_RETURN(sqlite3 * db, SqliteOpen(path, "the privacy budget"));
  auto budget = std::make_unique<SqlitePrivacyBudget>(db, path, clock);
  SPOOR_RETURN_IF_ERROR(budget->Init());
  return budget;
}

}  // namespace spoor
