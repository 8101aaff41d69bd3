// Helpers shared by the node's SQL, OMOP and dataset-source tests.
#ifndef SPOOR_NODE_SQL_TEST_SUPPORT_H_
#define SPOOR_NODE_SQL_TEST_SUPPORT_H_

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "algorithms/algorithm.h"
#include "common/audit_log.h"
#include "common/clock.h"
#include "node/dataset_cache.h"
#include "node/task_executor.h"

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

// A node's task path without its link: the cache over `datasets`, the
// built-in algorithms, a gate with the default rules and an audit log in
// `dir` (a file of its own per node).
struct TestNode {
  TestNode(const std::string& dir, std::vector<DatasetConfig> datasets,
           const Clock* data_clock = nullptr)
      : audit_path(absl::StrCat(dir, "/audit-", ++count, ".jsonl")),
        gate(DisclosureRules{}),
        cache(std::move(datasets), data_clock),
        algorithms(MakeBuiltinRegistry()) {
    absl::StatusOr<std::unique_ptr<AuditLog>> opened = AuditLog::Open(audit_path, clock);
    REQUIRE(opened.ok());
    audit = *std::move(opened);
    executor = std::make_unique<TaskExecutor>(*algorithms, cache, gate, *audit);
  }
  static inline int count = 0;
  const std::string audit_path;
  FakeClock clock;
  DisclosureGate gate;
  DatasetCache cache;
  std::unique_ptr<AlgorithmRegistry> algorithms;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<TaskExecutor> executor;
};

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
