#include "coordinator/job_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite_statement.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr int kSchemaVersion = 1;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  job_id      TEXT PRIMARY KEY,
  created_at  INTEGER NOT NULL,
  state       INTEGER NOT NULL,
  job         BLOB NOT NULL,
  round_state BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created_at);
)sql";

int64_t CreatedMicros(const v1::Job& job) {
  return job.created_at().seconds() * 1'000'000 + job.created_at().nanos() / 1000;
}

using Statement = SqliteStatement;

class SqliteJobStore final : public JobStore {
 public:
  explicit SqliteJobStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteJobStore() override { sqlite3_close_v2(db_); }

  absl::Status Init() {
    absl::MutexLock lock(&mu_);
    // One coordinator process owns the store: exclusive locking saves the
    // file-lock system calls on every transaction (and refuses a second
    // coordinator on the same data_dir).
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA locking_mode=EXCLUSIVE"));
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    // NORMAL in WAL mode: a commit survives a process crash; only a power
    // loss may lose the last commits, which nodes then recompute (results are
    // idempotent by task id).
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA busy_timeout=5000"));
    // Checkpoints run from Maintain() on the coordinator's timer, not inside
    // whichever commit crosses the threshold on the job hot path.
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA wal_autocheckpoint=0"));
    int version = 0;
    {
      Statement st;
      SPOOR_RETURN_IF_ERROR(Prepare("PRAGMA user_version", st));
      if (sqlite3_step(st.get()) == SQLITE_ROW) version = sqlite3_column_int(st.get(), 0);
    }
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("job store ", path_, " has schema version ", version,
                       " from a newer spoor; upgrade spoor or use another data_dir"));
    }
    SPOOR_RETURN_IF_ERROR(Exec(kSchema));
    SPOOR_RETURN_IF_ERROR(Exec(absl::StrCat("PRAGMA user_version=", kSchemaVersion)));
    SPOOR_RETURN_IF_ERROR(
        Prepare("INSERT OR REPLACE INTO jobs(job_id, created_at, state, job, round_state) "
                "VALUES (?, ?, ?, ?, ?)",
                save_job_));
    return absl::OkStatus();
  }

  absl::Status SaveJob(const v1::Job& job, const v1::Parameters& round_state) override {
    std::string job_bytes = job.SerializeAsString();
    std::string state_bytes = round_state.SerializeAsString();
    absl::MutexLock lock(&mu_);
    sqlite3_stmt* st = save_job_.get();
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, job.job_id().data(), static_cast<int>(job.job_id().size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, CreatedMicros(job));
    sqlite3_bind_int(st, 3, job.state());
    sqlite3_bind_blob(st, 4, job_bytes.data(), static_cast<int>(job_bytes.size()), SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, state_bytes.data(), static_cast<int>(state_bytes.size()),
                      SQLITE_STATIC);
    return StepDone(st, "save job");
  }

  absl::Status Maintain() override {
    absl::MutexLock lock(&mu_);
    return Exec("PRAGMA wal_checkpoint(PASSIVE)");
  }

  absl::StatusOr<std::vector<StoredJob>> LoadRunningJobs() override {
    absl::MutexLock lock(&mu_);
    std::vector<StoredJob> jobs;
    {
      Statement st;
      SPOOR_RETURN_IF_ERROR(
          Prepare("SELECT job, round_state FROM jobs WHERE state = ? ORDER BY created_at", st));
      sqlite3_bind_int(st.get(), 1, v1::JOB_STATE_RUNNING);
      while (sqlite3_step(st.get()) == SQLITE_ROW) {
        StoredJob stored;
        SPOOR_RETURN_IF_ERROR(ParseBlob(st.get(), 0, stored.job));
        SPOOR_RETURN_IF_ERROR(ParseBlob(st.get(), 1, stored.round_state));
        jobs.push_back(std::move(stored));
      }
    }
    return jobs;
  }

  absl::StatusOr<std::optional<v1::Job>> LoadJob(const std::string& job_id) override {
    absl::MutexLock lock(&mu_);
    Statement st;
    SPOOR_RETURN_IF_ERROR(Prepare("SELECT job FROM jobs WHERE job_id = ?", st));
    sqlite3_bind_text(st.get(), 1, job_id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st.get()) != SQLITE_ROW) return std::optional<v1::Job>();
    v1::Job job;
    SPOOR_RETURN_IF_ERROR(ParseBlob(st.get(), 0, job));
    return std::optional<v1::Job>(std::move(job));
  }

  absl::StatusOr<std::vector<v1::Job>> ListJobs(int limit) override {
    absl::MutexLock lock(&mu_);
    Statement st;
    SPOOR_RETURN_IF_ERROR(
        Prepare("SELECT job FROM jobs ORDER BY created_at DESC, job_id DESC LIMIT ?", st));
    sqlite3_bind_int(st.get(), 1, limit);
    std::vector<v1::Job> jobs;
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      v1::Job job;
      SPOOR_RETURN_IF_ERROR(ParseBlob(st.get(), 0, job));
      jobs.push_back(std::move(job));
    }
    return jobs;
  }

 private:
  absl::Status Exec(const std::string& sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      return absl::FailedPreconditionError(absl::StrCat("job store ", path_, ": ", message));
    }
    return absl::OkStatus();
  }

  absl::Status Prepare(const char* sql, Statement& st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (sqlite3_prepare_v2(db_, sql, -1, st.out(), nullptr) != SQLITE_OK) {
      return absl::InternalError(absl::StrCat("job store ", path_, ": ", sqlite3_errmsg(db_)));
    }
    return absl::OkStatus();
  }

  absl::Status StepDone(sqlite3_stmt* st, const char* what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
      // UNAVAILABLE: a full disk or a busy database may clear; the caller
      // decides whether to retry or fail the job.
      return absl::UnavailableError(
          absl::StrCat("job store ", path_, ": cannot ", what, ": ", sqlite3_errmsg(db_)));
    }
    return absl::OkStatus();
  }

  template <typename Message>
  absl::Status ParseBlob(sqlite3_stmt* st, int column, Message& out) {
    const void* data = sqlite3_column_blob(st, column);
    int size = sqlite3_column_bytes(st, column);
    if (!out.ParseFromArray(data, size)) {
      return absl::DataLossError(absl::StrCat("job store ", path_, " holds a corrupt record"));
    }
    return absl::OkStatus();
  }

  absl::Mutex mu_;
  sqlite3* db_;
  const std::string path_;
  Statement save_job_ ABSL_GUARDED_BY(mu_);
};

class MemoryJobStore final : public JobStore {
 public:
  absl::Status SaveJob(const v1::Job& job, const v1::Parameters& round_state) override {
    absl::MutexLock lock(&mu_);
    StoredJob& stored = jobs_[job.job_id()];
    stored.job = job;
    stored.round_state = round_state;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<StoredJob>> LoadRunningJobs() override {
    absl::MutexLock lock(&mu_);
    std::vector<StoredJob> out;
    for (const auto& [id, stored] : jobs_) {
      if (stored.job.state() != v1::JOB_STATE_RUNNING) continue;
      out.push_back(stored);
    }
    return out;
  }
  absl::StatusOr<std::optional<v1::Job>> LoadJob(const std::string& job_id) override {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return std::optional<v1::Job>();
    return std::optional<v1::Job>(it->second.job);
  }
  absl::StatusOr<std::vector<v1::Job>> ListJobs(int limit) override {
    absl::MutexLock lock(&mu_);
    std::vector<v1::Job> out;
    for (const auto& [id, stored] : jobs_) out.push_back(stored.job);
    std::sort(out.begin(), out.end(), [](const v1::Job& a, const v1::Job& b) {
      return CreatedMicros(a) != CreatedMicros(b) ? CreatedMicros(a) > CreatedMicros(b)
                                                  : a.job_id() > b.job_id();
    });
    if (static_cast<int>(out.size()) > limit) out.resize(static_cast<size_t>(limit));
    return out;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, StoredJob> jobs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<JobStore>> OpenSqliteJobStore(const std::string& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open job store ", path, ": ", message,
                     "; check that data_dir exists and is writable"));
  }
  auto store = std::make_unique<SqliteJobStore>(db, path);
  SPOOR_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<JobStore>(std::move(store));
}

std::unique_ptr<JobStore> MakeMemoryJobStore() { return std::make_unique<MemoryJobStore>(); }

}  // namespace spoor
