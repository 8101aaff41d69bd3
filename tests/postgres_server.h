// A throwaway PostgreSQL server for tests: its own cluster in a fresh
// temporary directory, listening only on a unix socket in that directory (no
// TCP port is opened, so the port number only names the socket and cannot
// clash), fsync off, trust authentication, and one database for the test.
//
// Needs Debian's server binaries (package postgresql: initdb and pg_ctl under
// /usr/lib/postgresql/VERSION/bin; the newest version is used). initdb
// refuses to run as root, so under root the server runs as the `postgres`
// system user that the package creates, with the directory chowned to it.
// The server's output goes to files in the directory (initdb.log,
// server.log), and a failed start quotes their tails.
//
// Not thread-safe; one instance per test process is plenty (start-up takes
// about a second), and instances in parallel processes do not interfere.
#ifndef SPOOR_TESTS_POSTGRES_SERVER_H_
#define SPOOR_TESTS_POSTGRES_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace spoor::testing {

class PostgresServer {
 public:
  // Creates the cluster, starts the server, waits until it accepts
  // connections and creates the database "spoor_test".
  // FAILED_PRECONDITION when PostgreSQL is not installed (or, under root,
  // there is no `postgres` user): the message says "install postgresql
  // (scripts/setup)", and callers skip their tests. UNAVAILABLE when the
  // server fails to start, with the logs' tails. Whatever was started is
  // stopped and removed on failure.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();

  // Stops the server (pg_ctl stop -m fast) and removes its directory.
  ~PostgresServer();

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A libpq connection string for the test database as the superuser,
  // e.g. "host=/tmp/spoor-pg-Ab12Cd port=5433 dbname=spoor_test user=postgres".
  const std::string& conninfo() const { return conninfo_; }
  // The same server, another database (which need not exist).
  std::string ConninfoFor(const std::string& database) const;

  // Runs `sql` (one or more statements) in the test database as the
  // superuser, for loading fixtures. The error quotes the server's message:
  // test fixtures hold no patient data.
  absl::Status Execute(const std::string& sql) const;

 private:
  PostgresServer() = default;
  absl::Status Create();
  // Runs argv (as the server user when root) in dir_, output appended to
  // dir_/`log`; the exit code, or -1 if it could not run.
  int Run(const std::vector<std::string>& argv, const std::string& log) const;
  std::string LogTail(const std::string& log) const;

  std::string dir_;      // the temporary directory; the socket lives here
  std::string bin_dir_;  // .../postgresql/VERSION/bin
  int port_ = 0;
  bool as_postgres_user_ = false;
  unsigned server_uid_ = 0;
  unsigned server_gid_ = 0;
  bool started_ = false;
  std::string conninfo_;
};

// One server per test process, started on first use and stopped at exit
// (ctest runs each TEST_CASE as its own process, so each case that needs a
// server starts one). The error is Start()'s: FAILED_PRECONDITION means
// PostgreSQL is not installed and the caller should skip.
absl::StatusOr<PostgresServer*> SharedPostgresServer();

}  // namespace spoor::testing

#endif  // SPOOR_TESTS_POSTGRES_SERVER_H_
