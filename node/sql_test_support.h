// Helpers shared by the node's SQL, OMOP and dataset-source tests.
#ifndef SPOOR_NODE_SQL_TEST_SUPPORT_H_
#define SPOOR_NODE_SQL_TEST_SUPPORT_H_

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"

#ifdef SPOOR_SQL_TEST_POSTGRES
#include "tests/postgres_server.h"
#endif

namespace spoor::testing {

// A fresh directory under the system's temporary directory, removed with
// everything in it when the object goes.
struct TempDir {
  TempDir() {
    path = (std::filesystem::temp_directory_path() /
            absl::StrCat("spoor-node-test-", std::random_device{}()))
               .string();
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

// Creates (or extends) a SQLite database by running `sql` with a writable
// connection, as an ETL job would; the test fails with SQLite's message.
inline void MakeSqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
          SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error == nullptr ? "" : error;
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
}

#ifdef SPOOR_SQL_TEST_POSTGRES
// The process's PostgreSQL server (SharedPostgresServer), or nullptr with a
// warning when PostgreSQL is not installed: the test then passes without
// running. Fails the test when the server is installed but cannot start.
inline PostgresServer* PostgresOrSkip() {
  absl::StatusOr<PostgresServer*> server = SharedPostgresServer();
  if (!server.ok()) {
    if (server.status().code() == absl::StatusCode::kFailedPrecondition) {
      WARN("skipped: " << server.status().message());
      return nullptr;
    }
    FAIL("cannot start PostgreSQL: " << server.status().message());
  }
  return *server;
}

// Declares `server`, or returns from the test when PostgreSQL is missing.
#define SPOOR_NEED_POSTGRES(server)                                              \
  ::spoor::testing::PostgresServer* server = ::spoor::testing::PostgresOrSkip(); \
  if (server == nullptr) return
#endif

}  // namespace spoor::testing

#endif  // SPOOR_NODE_SQL_TEST_SUPPORT_H_
