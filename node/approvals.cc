#include "node/approvals.h"

#include <sqlite3.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite_statement.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS approvals (
  digest       TEXT PRIMARY KEY,
  reference    TEXT NOT NULL,
  signer       TEXT NOT NULL,
  description  TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  state        INTEGER NOT NULL,
  requested_at INTEGER NOT NULL,
  decided_at   INTEGER,
  decided_by   TEXT,
  note         TEXT
);
)sql";

constexpr char kColumns[] =
    "digest, reference, signer, description, requested_by, state, requested_at, decided_at, "
    "decided_by, note";

using Statement = SqliteStatement;

Approval Decode(sqlite3_stmt* st) {
  Approval approval;
  approval.digest = SqliteText(st, 0);
  approval.reference = SqliteText(st, 1);
  approval.signer = SqliteText(st, 2);
  approval.description = SqliteText(st, 3);
  approval.requested_by = SqliteText(st, 4);
  approval.state = static_cast<ApprovalState>(sqlite3_column_int(st, 5));
  approval.requested_at = absl::FromUnixMicros(sqlite3_column_int64(st, 6));
  approval.decided_at = sqlite3_column_type(st, 7) == SQLITE_NULL
                            ? absl::InfinitePast()
                            : absl::FromUnixMicros(sqlite3_column_int64(st, 7));
  approval.decided_by = SqliteText(st, 8);
  approval.note = SqliteText(st, 9);
  return approval;
}

class SqliteApprovalStore final : public ApprovalStore {
 public:
  SqliteApprovalStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteApprovalStore() override { sqlite3_close_v2(db_); }

  absl::Status Init() {
    absl::MutexLock lock(&mu_);
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA busy_timeout=5000"));
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    return Exec(kSchema);
  }

  absl::StatusOr<Approval> FindOrQueue(const Approval& pending) override {
    absl::MutexLock lock(&mu_);
    Statement st;
    SPOOR_RETURN_IF_ERROR(Prepare(
        "INSERT OR IGNORE INTO approvals(digest, reference, signer, description, requested_by, "
        "state, requested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        st));
    SqliteBind(st.get(), 1, pending.digest);
    SqliteBind(st.get(), 2, pending.reference);
    SqliteBind(st.get(), 3, pending.signer);
    SqliteBind(st.get(), 4, pending.description);
    SqliteBind(st.get(), 5, pending.requested_by);
    sqlite3_bind_int(st.get(), 6, static_cast<int>(ApprovalState::kPending));
    sqlite3_bind_int64(st.get(), 7, absl::ToUnixMicros(pending.requested_at));
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("queue an approval");
    return FindLocked(pending.digest);
  }

  absl::StatusOr<Approval> Find(const std::string& digest) override {
    absl::MutexLock lock(&mu_);
    return FindLocked(digest);
  }

  absl::StatusOr<std::vector<Approval>> List() override {
    absl::MutexLock lock(&mu_);
    Statement st;
    std::string sql =
        absl::StrCat("SELECT ", kColumns, " FROM approvals ORDER BY requested_at DESC");
    SPOOR_RETURN_IF_ERROR(Prepare(sql.c_str(), st));
    std::vector<Approval> approvals;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) approvals.push_back(Decode(st.get()));
    if (rc != SQLITE_DONE) return Error("list approvals");
    return approvals;
  }

  absl::StatusOr<Approval> Decide(const std::string& key, bool approve, const std::string& by,
                                  const std::string& note, absl::Time now) override {
    absl::MutexLock lock(&mu_);
    std::vector<Approval> matches;
    {
      Statement st;
      std::string sql = absl::StrCat("SELECT ", kColumns, " FROM approvals");
      SPOOR_RETURN_IF_ERROR(Prepare(sql.c_str(), st));
      int rc;
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        Approval approval = Decode(st.get());
        bool prefix = key.size() >= 19 && approval.digest.rfind(key, 0) == 0;
        if (approval.digest == key || approval.reference == key || prefix) {
          matches.push_back(std::move(approval));
        }
      }
      if (rc != SQLITE_DONE) return Error("find approvals");
    }
    if (matches.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "nothing called '", key, "' waits for approval; see spoor node approvals list"));
    }
    if (matches.size() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", key, "' matches ", matches.size(), " images; name one by its digest"));
    }
    Statement st;
    SPOOR_RETURN_IF_ERROR(
        Prepare("UPDATE approvals SET state = ?2, decided_at = ?3, decided_by = ?4, note = ?5 "
                "WHERE digest = ?1",
                st));
    SqliteBind(st.get(), 1, matches[0].digest);
    sqlite3_bind_int(
        st.get(), 2,
        static_cast<int>(approve ? ApprovalState::kApproved : ApprovalState::kRejected));
    sqlite3_bind_int64(st.get(), 3, absl::ToUnixMicros(now));
    SqliteBind(st.get(), 4, by);
    SqliteBind(st.get(), 5, note);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("record a decision");
    return FindLocked(matches[0].digest);
  }

 private:
  absl::StatusOr<Approval> FindLocked(const std::string& digest)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Statement st;
    std::string sql = absl::StrCat("SELECT ", kColumns, " FROM approvals WHERE digest = ?1");
    SPOOR_RETURN_IF_ERROR(Prepare(sql.c_str(), st));
    SqliteBind(st.get(), 1, digest);
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return Decode(st.get());
    if (rc != SQLITE_DONE) return Error("find an approval");
    return absl::NotFoundError(absl::StrCat("no approval entry for ", digest));
  }

  absl::Status Error(const std::string& what) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::InternalError(
        absl::StrCat("approvals ", path_, ": ", what, ": ", sqlite3_errmsg(db_)));
  }

  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return SqliteExec(db_, sql, absl::StrCat("approvals ", path_));
  }

  absl::Status Prepare(const char* sql, Statement& st) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (sqlite3_prepare_v2(db_, sql, -1, st.out(), nullptr) != SQLITE_OK) return Error(sql);
    return absl::OkStatus();
  }

  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  const std::string path_;
};

}  // namespace

const char* ApprovalStateName(ApprovalState state) {
  switch (state) {
    case ApprovalState::kPending:
      return "pending";
    case ApprovalState::kApproved:
      return "approved";
    case ApprovalState::kRejected:
      return "rejected";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<ApprovalStore>> ApprovalStore::Open(const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(sqlite3 * db, SqliteOpen(path, "the approval queue"));
  auto store = std::make_unique<SqliteApprovalStore>(db, path);
  SPOOR_RETURN_IF_ERROR(store->Init());
  return store;
}

}  // namespace spoor
