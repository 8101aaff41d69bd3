// An owned SQLite prepared statement and a checked exec, for the stores that keep their state
// in SQLite (the coordinator's jobs and algorithm registry, the node's
// approval queue). Header only: the including target links SQLite.
#ifndef SPOOR_COMMON_SQLITE_STATEMENT_H_
#define SPOOR_COMMON_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace spoor {

// Finalizes the statement it holds. Pass out() to sqlite3_prepare_v2.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement() { sqlite3_finalize(stmt_); }
  sqlite3_stmt** out() { return &stmt_; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Column `column` of the current row as text ("" for NULL).
inline std::string SqliteText(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "";
}

// Binds `text` (copied) to parameter `index` (1-based).
inline void SqliteBind(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// Runs `sql` (statements without results). INTERNAL "<context>: <SQLite's
// message>" on failure.
inline absl::Status SqliteExec(sqlite3* db, const char* sql, const std::string& context) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return absl::OkStatus();
  absl::Status status =
      absl::InternalError(absl::StrCat(context, ": ", message != nullptr ? message : "error"));
  sqlite3_free(message);
  return status;
}

// Opens (creating) the database at `path` for use from several threads.
// FAILED_PRECONDITION "cannot open <what> <path>: <reason>".
inline absl::StatusOr<sqlite3*> SqliteOpen(const std::string& path, const std::string& what) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) == SQLITE_OK) {
    return db;
  }
  std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  sqlite3_close_v2(db);
  return absl::FailedPreconditionError(
      absl::StrCat("cannot open ", what, " ", path, ": ", message));
}

}  // namespace spoor

#endif  // SPOOR_COMMON_SQLITE_STATEMENT_H_
