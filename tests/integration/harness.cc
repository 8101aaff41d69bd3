#include "tests/integration/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace spoor::testing {
namespace {

namespace fs = std::filesystem;

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(SPOOR_BINARY));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

RunResult RunSpoor(const std::vector<std::string>& args) {
  // Capture through files: simple, and no risk of a full pipe blocking.
  char out_path[] = "/tmp/spoor-out-XXXXXX";
  char err_path[] = "/tmp/spoor-err-XXXXXX";
  int out_fd = ::mkstemp(out_path), err_fd = ::mkstemp(err_path);
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    std::vector<char*> argv = Argv(args);
    ::execv(SPOOR_BINARY, argv.data());
    ::_exit(127);
  }
  RunResult result;
  result.exit_code = WaitExit(pid);
  ::lseek(out_fd, 0, SEEK_SET);
  ::lseek(err_fd, 0, SEEK_SET);
  result.out = ReadAll(out_fd);
  result.err = ReadAll(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  ::unlink(out_path);
  ::unlink(err_path);
  return result;
}

pid_t StartSpoor(const std::vector<std::string>& args, const std::string& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::vector<char*> argv = Argv(args);
    ::execv(SPOOR_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

Scratch::Scratch() {
  path_ =
      (fs::temp_directory_path() / ("spoor-it-" + std::to_string(std::random_device{}()))).string();
  fs::create_directories(path_);
}

Scratch::~Scratch() {
  if (fs::exists(path_ + "/sandbox.pids")) RunSpoor({"sandbox", "stop", "--dir", path_});
  std::error_code ec;
  fs::remove_all(path_, ec);
}

pid_t SandboxPid(const std::string& dir, const std::string& name) {
  std::ifstream in(dir + "/sandbox.pids");
  std::string who;
  pid_t pid;
  while (in >> who >> pid) {
    if (who == name) return pid;
  }
  return -1;
}

std::string ExampleCsv(const std::string& hospital) {
  return std::string(SPOOR_SOURCE_DIR) + "/examples/three-hospitals/hospital-" + hospital + ".csv";
}

std::string ReferenceFile(const std::string& file) {
  return std::string(SPOOR_SOURCE_DIR) + "/tests/reference/" + file;
}

void StartReferenceSites(const Scratch& dir, const std::string& prefix,
                         const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"sandbox", "start",
                                   "--dir",   dir.path(),
                                   "--node",  "site-1=" + ReferenceFile(prefix + "_site1.csv"),
                                   "--node",  "site-2=" + ReferenceFile(prefix + "_site2.csv"),
                                   "--node",  "site-3=" + ReferenceFile(prefix + "_site3.csv")};
  args.insert(args.end(), extra.begin(), extra.end());
  RunResult start = RunSpoor(args);
  INFO(start.err);
  REQUIRE(start.exit_code == 0);
}

std::vector<std::string> ClientArgs(const Scratch& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"--config", dir / "client.toml"});
  return args;
}

double RelativeDifference(double a, double b) {
  return a == b ? 0 : std::abs(a - b) / std::max(std::abs(a), std::abs(b));
}

bool Eventually(double seconds, const std::function<bool()>& predicate) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return predicate();
}

}  // namespace spoor::testing
