#include "coordinator/study_store.h"

#include <sqlite3.h>

#include <cctype>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/pki.h"
#include "common/sqlite_statement.h"
#include "common/status.h"
#include "google/protobuf/util/time_util.h"

namespace spoor {
namespace {

constexpr char kSchema[] = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS studies (
  name       TEXT PRIMARY KEY,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
  study TEXT NOT NULL REFERENCES studies(name),
  kind  TEXT NOT NULL,  -- 'organisation' or 'researcher'
  value TEXT NOT NULL,
  PRIMARY KEY (study, kind, value)
);
)sql";

constexpr char kOrganisation[] = "organisation";
constexpr char kResearcher[] = "researcher";

bool IsAdmin(const v1::Requester& requester) { return requester.role() == RoleName(Role::kAdmin); }

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

class SqliteStudyStore final : public StudyStore {
 public:
  SqliteStudyStore(sqlite3* db, const Clock& clock) : db_(db), clock_(clock) {}
  ~SqliteStudyStore() override { sqlite3_close_v2(db_); }

  absl::Status Init() { return SqliteExec(db_, kSchema, "cannot create the studies schema"); }

  absl::StatusOr<v1::Study> Create(const v1::Requester& by, const std::string& name) override {
    SPOOR_RETURN_IF_ERROR(RequireAdmin(by, "create studies"));
    if (!ValidName(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "study name '", name, "' is not usable; use 1-64 letters, digits, '.', '-' or '_'"));
    }
    SqliteStatement insert;
    sqlite3_prepare_v2(db_, "INSERT INTO studies (name, created_by, created_at) VALUES (?, ?, ?)",
                       -1, insert.out(), nullptr);
    SqliteBind(insert.get(), 1, name);
    SqliteBind(insert.get(), 2, by.name());
    sqlite3_bind_int64(insert.get(), 3, absl::ToUnixMicros(clock_.Now()));
    int rc = sqlite3_step(insert.get());
    if (rc == SQLITE_CONSTRAINT) {
      return absl::AlreadyExistsError(absl::StrCat("study '", name, "' already exists"));
    }
    if (rc != SQLITE_DONE) return Error("cannot create the study");
    return Get(name);
  }

  absl::StatusOr<v1::Study> Change(const v1::Requester& by,
                                   const v1::ChangeStudyRequest& change) override {
    SPOOR_RETURN_IF_ERROR(RequireAdmin(by, "change studies"));
    SPOOR_ASSIGN_OR_RETURN(v1::Study study, Get(change.study()));
    std::string kind, value;
    switch (change.member_case()) {
      case v1::ChangeStudyRequest::kOrganisation:
        kind = kOrganisation;
        value = change.organisation();
        break;
      case v1::ChangeStudyRequest::kResearcher:
        kind = kResearcher;
        value = change.researcher();
        break;
      default:
        break;
    }
    if (value.empty()) {
      return absl::InvalidArgumentError("name an organisation or a researcher to add or remove");
    }
    SqliteStatement statement;
    sqlite3_prepare_v2(db_,
                       change.remove()
                           ? "DELETE FROM members WHERE study = ? AND kind = ? AND value = ?"
                           : "INSERT OR IGNORE INTO members (study, kind, value) VALUES (?, ?, ?)",
                       -1, statement.out(), nullptr);
    SqliteBind(statement.get(), 1, change.study());
    SqliteBind(statement.get(), 2, kind);
    SqliteBind(statement.get(), 3, value);
    if (sqlite3_step(statement.get()) != SQLITE_DONE) return Error("cannot change the study");
    if (change.remove() && sqlite3_changes(db_) == 0) {
      return absl::NotFoundError(
          absl::StrCat(kind, " '", value, "' is not in study '", change.study(), "'"));
    }
    return Get(change.study());
  }

  absl::StatusOr<std::vector<v1::Study>> List(const v1::Requester& requester) const override {
    if (IsAdmin(requester)) return All();
    return Mine(requester.name());
  }

  absl::StatusOr<v1::Study> ForJob(const v1::Requester& requester,
                                   const std::string& name) const override {
    if (!name.empty()) {
      SPOOR_ASSIGN_OR_RETURN(v1::Study study, Get(name));
      if (!HasResearcher(study, requester.name())) {
        return absl::PermissionDeniedError(
            absl::StrCat(requester.name(), " is not a researcher of study '", name,
                         "'; ask a consortium admin to add you (spoor study add)"));
      }
      return study;
    }
    SPOOR_ASSIGN_OR_RETURN(std::vector<v1::Study> mine, Mine(requester.name()));
    if (mine.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat(requester.name(),
                       " belongs to no study; ask a consortium admin to add you to one "
                       "(spoor study add STUDY --researcher ",
                       requester.name(), ")"));
    }
    if (mine.size() > 1) {
      std::string names;
      for (const v1::Study& study : mine)
        absl::StrAppend(&names, names.empty() ? "" : ", ", study.name());
      return absl::InvalidArgumentError(absl::StrCat(
          requester.name(), " belongs to several studies (", names, "); name one with --study"));
    }
    return std::move(mine.front());
  }

  absl::StatusOr<bool> MaySee(const v1::Requester& requester, const v1::Job& job) const override {
    if (IsAdmin(requester) || job.requester().name() == requester.name()) return true;
    if (job.spec().study().empty()) return false;
    absl::StatusOr<v1::Study> study = Get(job.spec().study());
    if (absl::IsNotFound(study.status())) return false;
    if (!study.ok()) return study.status();
    return HasResearcher(*study, requester.name());
  }

  absl::StatusOr<Visible> VisibleOrganisations(const v1::Requester& requester) const override {
    Visible visible;
    if (IsAdmin(requester)) {
      visible.all = true;
      return visible;
    }
    SPOOR_ASSIGN_OR_RETURN(std::vector<v1::Study> mine, List(requester));
    for (const v1::Study& study : mine) {
      visible.organisations.insert(study.organisations().begin(), study.organisations().end());
    }
    return visible;
  }

 private:
  // The studies that list `researcher`, sorted.
  absl::StatusOr<std::vector<v1::Study>> Mine(const std::string& researcher) const {
    SPOOR_ASSIGN_OR_RETURN(std::vector<v1::Study> all, All());
    std::vector<v1::Study> mine;
    for (v1::Study& study : all) {
      if (HasResearcher(study, researcher)) mine.push_back(std::move(study));
    }
    return mine;
  }

  static bool HasResearcher(const v1::Study& study, const std::string& name) {
    for (const std::string& researcher : study.researchers()) {
      if (researcher == name) return true;
    }
    return false;
  }

  static absl::Status RequireAdmin(const v1::Requester& by, const char* what) {
    if (IsAdmin(by)) return absl::OkStatus();
    return absl::PermissionDeniedError(
        absl::StrCat(by.name(), " has role ", by.role(), "; only consortium admins may ", what));
  }

  absl::Status Error(const std::string& what) const {
    return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(db_)));
  }

  absl::StatusOr<v1::Study> Get(const std::string& name) const {
    SPOOR_ASSIGN_OR_RETURN(std::vector<v1::Study> all, All(name));
    if (all.empty()) {
      return absl::NotFoundError(
          absl::StrCat("no study '", name, "'; see the studies with `spoor study list`"));
    }
    return std::move(all.front());
  }

  // Every study, or the one named `only`; sorted by name, members sorted.
  absl::StatusOr<std::vector<v1::Study>> All(const std::string& only = "") const {
    SqliteStatement statement;
    sqlite3_prepare_v2(db_,
                       "SELECT s.name, s.created_by, s.created_at, m.kind, m.value "
                       "FROM studies s LEFT JOIN members m ON m.study = s.name "
                       "WHERE ?1 = '' OR s.name = ?1 ORDER BY s.name, m.kind, m.value",
                       -1, statement.out(), nullptr);
    SqliteBind(statement.get(), 1, only);
    std::vector<v1::Study> out;
    int rc;
    while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
      std::string name = SqliteText(statement.get(), 0);
      if (out.empty() || out.back().name() != name) {
        v1::Study& study = out.emplace_back();
        study.set_name(name);
        study.set_created_by(SqliteText(statement.get(), 1));
        *study.mutable_created_at() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
            sqlite3_column_int64(statement.get(), 2));
      }
      std::string kind = SqliteText(statement.get(), 3);
      std::string value = SqliteText(statement.get(), 4);
      if (kind == kOrganisation) out.back().add_organisations(value);
      if (kind == kResearcher) out.back().add_researchers(value);
    }
    if (rc != SQLITE_DONE) return Error("cannot read the studies");
    return out;
  }

  sqlite3* const db_;
  const Clock& clock_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StudyStore>> StudyStore::Open(const std::string& path,
                                                             const Clock& clock) {
  SPOOR_ASSIGN_OR_RETURN(sqlite3 * db, SqliteOpen(path, "study database"));
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteStudyStore>(db, clock);
  SPOOR_RETURN_IF_ERROR(store->Init());
  return store;
}

}  // namespace spoor
