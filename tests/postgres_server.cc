#include "tests/postgres_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"

namespace spoor::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDatabase = "spoor_test";
constexpr const char* kSuperuser = "postgres";

// The bin directory of the newest server under /usr/lib/postgresql, or "".
std::string FindServerBinDir() {
  std::error_code ec;
  std::string best;
  int best_version = -1;
  for (const fs::directory_entry& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string version_text = entry.path().filename().string();
    int version = 0;
    auto [end, err] =
        std::from_chars(version_text.data(), version_text.data() + version_text.size(), version);
    if (err != std::errc() || end != version_text.data() + version_text.size()) continue;
    const fs::path bin = entry.path() / "bin";
    if (version > best_version && ::access((bin / "initdb").c_str(), X_OK) == 0 &&
        ::access((bin / "pg_ctl").c_str(), X_OK) == 0) {
      best_version = version;
      best = bin.string();
    }
  }
  return best;
}

absl::Status SetupHint(const std::string& what) {
  return absl::FailedPreconditionError(
      absl::StrCat(what, "; install postgresql (scripts/setup) to run the PostgreSQL tests"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->bin_dir_ = FindServerBinDir();
  if (server->bin_dir_.empty()) {
    return SetupHint("no PostgreSQL server (initdb, pg_ctl) under /usr/lib/postgresql/*/bin");
  }
  if (::geteuid() == 0) {
    const struct passwd* user = ::getpwnam(kSuperuser);
    if (user == nullptr) {
      return SetupHint(
          "running as root, and there is no 'postgres' user to run the server as (initdb "
          "refuses root)");
    }
    server->as_postgres_user_ = true;
    server->server_uid_ = user->pw_uid;
    server->server_gid_ = user->pw_gid;
  }
  if (absl::Status status = server->Create(); !status.ok()) return status;  // ~server cleans up
  return server;
}

absl::Status PostgresServer::Create() {
  // A short base keeps the socket path within the 107 bytes unix sockets
  // allow.
  std::string base = fs::temp_directory_path().string();
  if (base.size() > 60) base = "/tmp";
  std::string pattern = base + "/spoor-pg-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a directory under ", base, ": ", std::strerror(errno)));
  }
  dir_ = pattern;
  if (as_postgres_user_ && ::chown(dir_.c_str(), server_uid_, server_gid_) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot hand ", dir_, " to the postgres user: ", std::strerror(errno)));
  }
  // No TCP listener, so any port number will do; vary it for readable logs.
  port_ = 20000 + static_cast<int>(::getpid() % 40000);
  const std::string data = dir_ + "/data";

  if (Run({bin_dir_ + "/initdb", "-D", data, "-U", kSuperuser, "-A", "trust", "-E", "UTF8",
           "--locale=C", "--no-sync"},
          "initdb.log") != 0) {
    return absl::UnavailableError(
        absl::StrCat("initdb failed; its log ends: ", LogTail("initdb.log")));
  }
  const std::string server_options =
      absl::StrCat("-c listen_addresses='' -k '", dir_, "' -p ", port_,
                   " -F -c full_page_writes=off -c synchronous_commit=off"
                   " -c shared_buffers=16MB -c max_connections=20");
  started_ = true;  // from here on the destructor stops it, even if the start half failed
  if (Run({bin_dir_ + "/pg_ctl", "-D", data, "-l", dir_ + "/server.log", "-o", server_options, "-w",
           "-t", "60", "-s", "start"},
          "pg_ctl.log") != 0) {
    return absl::UnavailableError(
        absl::StrCat("the PostgreSQL server did not start; pg_ctl: ", LogTail("pg_ctl.log"),
                     "; server log: ", LogTail("server.log")));
  }
  conninfo_ = ConninfoFor(kDatabase);
  PGconn* conn = PQconnectdb(ConninfoFor("postgres").c_str());
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(
        absl::StrCat("cannot connect to the test server: ", PQerrorMessage(conn)));
  } else {
    PGresult* result = PQexec(conn, absl::StrCat("CREATE DATABASE ", kDatabase).c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      status = absl::UnavailableError(
          absl::StrCat("cannot create the test database: ", PQresultErrorMessage(result)));
    }
    PQclear(result);
  }
  PQfinish(conn);
  return status;
}

PostgresServer::~PostgresServer() {
  if (started_) {
    Run({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "-t", "60", "-s", "stop"},
        "pg_ctl.log");
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

std::string PostgresServer::ConninfoFor(const std::string& database) const {
  return absl::StrCat("host=", dir_, " port=", port_, " dbname=", database, " user=", kSuperuser);
}

absl::Status PostgresServer::Execute(const std::string& sql) const {
  PGconn* conn = PQconnectdb(conninfo_.c_str());
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(
        absl::StrCat("cannot connect to the test server: ", PQerrorMessage(conn)));
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    const ExecStatusType state = PQresultStatus(result);
    if (state != PGRES_COMMAND_OK && state != PGRES_TUPLES_OK) {
      status = absl::InvalidArgumentError(
          absl::StrCat("fixture SQL failed: ", PQresultErrorMessage(result)));
    }
    PQclear(result);
  }
  PQfinish(conn);
  return status;
}

int PostgresServer::Run(const std::vector<std::string>& argv, const std::string& log) const {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int log_fd =
      ::open((dir_ + "/" + log).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    if (log_fd >= 0) ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return -1;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0 ||
        ::chdir(dir_.c_str()) != 0) {
      ::_exit(127);
    }
    if (as_postgres_user_ && (::setgroups(0, nullptr) != 0 || ::setgid(server_gid_) != 0 ||
                              ::setuid(server_uid_) != 0)) {
      ::_exit(126);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string PostgresServer::LogTail(const std::string& log) const {
  std::ifstream in(dir_ + "/" + log);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  constexpr size_t kTail = 1500;
  if (all.size() > kTail) all = "..." + all.substr(all.size() - kTail);
  return all.empty() ? "(empty)" : all;
}

absl::StatusOr<PostgresServer*> SharedPostgresServer() {
  // Destroyed at exit, which stops the server.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> server = PostgresServer::Start();
  if (!server.ok()) return server.status();
  return server->get();
}

}  // namespace spoor::testing
