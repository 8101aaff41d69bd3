#include "common/runc_sandbox.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// A fresh directory under the system's temporary directory, removed with
// everything in it when the object goes.
struct TempDir {
  TempDir() {
    path = (fs::temp_directory_path() / absl::StrCat("spoor-sandbox-test-", std::random_device{}()))
               .string();
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

// Why containers cannot run here, or "" when they can.
std::string SandboxUnavailableReason() {
  absl::StatusOr<std::string> runc = FindRunc("runc");
  if (!runc.ok()) return std::string(runc.status().message());
  if (::geteuid() != 0) return "not running as root; runc needs root";
  return "";
}

// Returns from the test, with a warning, when runc cannot run here.
#define SPOOR_NEED_RUNC()                                                                   \
  if (const std::string spoor_reason = SandboxUnavailableReason(); !spoor_reason.empty()) { \
    WARN("skipped: " << spoor_reason);                                                      \
    return;                                                                                 \
  }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Limits small enough that the tests stay fast.
SandboxLimits TestLimits() {
  SandboxLimits limits;
  limits.memory_bytes = int64_t{128} << 20;
  limits.max_processes = 32;
  limits.max_file_bytes = int64_t{16} << 20;
  limits.cpu_seconds = 10;
  limits.timeout = absl::Seconds(10);
  limits.max_log_bytes = 64 << 10;
  return limits;
}

// A root filesystem holding the probe as /prog, a read-only input dir and a
// writable output dir, and a runc state root, all in a temporary directory.
class Sandbox {
 public:
  Sandbox()
      : rootfs_(absl::StrCat(dir_.path, "/rootfs")), state_(absl::StrCat(dir_.path, "/state")) {
    for (const char* sub : {"/tmp", "/proc", "/dev", "/sys", "/data", "/io", "/etc"}) {
      fs::create_directories(rootfs_ + sub);
    }
    // runc gives the /tmp tmpfs the mode of the image's /tmp.
    fs::permissions(rootfs_ + "/tmp", fs::perms::all | fs::perms::sticky_bit);
    fs::copy_file(SANDBOX_PROBE, rootfs_ + "/prog");
    fs::permissions(rootfs_ + "/prog", fs::perms(0755));
    fs::create_directories(data_dir());
    fs::create_directories(io_dir());
    fs::permissions(io_dir(), fs::perms::all);  // nobody writes here
    std::ofstream(data_dir() + "/input.txt") << "synthetic input\n";
  }

  // Deletes any container a failed test left in the state root.
  ~Sandbox() {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(state_, error)) {
      std::system(absl::StrCat("runc --root ", state_, " delete --force ",
                               entry.path().filename().string(), " >/dev/null 2>&1")
                      .c_str());
    }
  }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  std::string data_dir() const { return absl::StrCat(dir_.path, "/data"); }
  std::string io_dir() const { return absl::StrCat(dir_.path, "/io"); }
  const std::string& state() const { return state_; }

  // A run of `/prog args...` with an id unique across test processes.
  SandboxRun MakeRun(std::vector<std::string> args) const {
    static std::atomic<int> counter{0};
    SandboxRun run;
    run.id = absl::StrCat("spoor-test-", ::getpid(), "-", ++counter);
    run.rootfs = rootfs_;
    run.args = {"/prog"};
    run.args.insert(run.args.end(), args.begin(), args.end());
    run.bundle_dir = absl::StrCat(dir_.path, "/bundle-", run.id);
    run.log_path = absl::StrCat(dir_.path, "/", run.id, ".log");
    return run;
  }

  absl::StatusOr<SandboxResult> Run(const SandboxRun& run,
                                    const SandboxLimits& limits = TestLimits(),
                                    const std::string& init = "") const {
    return RuncSandbox("runc", state_, limits, init).Run(run);
  }

  // Runs `/prog args...` and requires that runc started it.
  SandboxResult MustRun(std::vector<std::string> args, const SandboxLimits& limits = TestLimits(),
                        const std::string& init = "") {
    const SandboxRun run = MakeRun(std::move(args));
    absl::StatusOr<SandboxResult> result = Run(run, limits, init);
    INFO(result.status().ToString());
    REQUIRE(result.ok());
    log_ = ReadAll(run.log_path);
    INFO("log: " << log_);
    ExpectCleanedUp(run);
    return *result;
  }

  // The log of the last MustRun.
  const std::string& log() const { return log_; }

  // No trace of the container is left: bundle, runc state, cgroups.
  void ExpectCleanedUp(const SandboxRun& run) const {
    CHECK_FALSE(fs::exists(run.bundle_dir));
    CHECK_FALSE(fs::exists(absl::StrCat(state_, "/", run.id)));
    for (const char* cgroups :
         {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpuacct",
          "/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
      const std::string dir = absl::StrCat(cgroups, "/spoor/", run.id);
      INFO(dir);
      CHECK_FALSE(fs::exists(dir));
    }
  }

 private:
  TempDir dir_;
  const std::string rootfs_;
  const std::string state_;
  std::string log_;
};

// Processes on the host whose command line is exactly `args`.
int CountProcesses(const std::vector<std::string>& args) {
  const std::string wanted =
      absl::StrCat(absl::StrJoin(args, std::string(1, '\0')), std::string(1, '\0'));
  int count = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    if (ReadAll(absl::StrCat("/proc/", name, "/cmdline")) == wanted) ++count;
  }
  return count;
}

SandboxRun ConfigRun() {
  SandboxRun run;
  run.id = "task-7.attempt_1";
  run.rootfs = "/var/lib/spoor/images/abc/rootfs";
  run.args = {"/usr/bin/python3", "/algo/main.py"};
  run.env = {"LANG=C.UTF-8"};
  run.cwd = "/io";
  run.mounts = {{"/srv/data/cohort", "/data", false}, {"/var/lib/spoor/io/7", "/io", true}};
  run.bundle_dir = "/var/lib/spoor/bundles/task-7";
  run.log_path = "/var/lib/spoor/logs/task-7.log";
  return run;
}

TEST_CASE("MakeRuncConfig describes a locked-down container") {
  SandboxLimits limits;
  limits.memory_bytes = int64_t{256} << 20;
  limits.max_processes = 16;
  limits.max_file_bytes = int64_t{8} << 20;
  limits.cpu_seconds = 30;
  absl::StatusOr<std::string> text = MakeRuncConfig(ConfigRun(), limits);
  REQUIRE(text.ok());
  const Json config = Json::parse(*text);
  CHECK(config["ociVersion"] == "1.0.2");
  CHECK(config["root"]["readonly"] == true);
  CHECK(config["root"]["path"] == "/var/lib/spoor/images/abc/rootfs");
  CHECK(config["hostname"] == "spoor-sandbox");

  const Json& process = config["process"];
  CHECK(process["user"]["uid"] == 65534);
  CHECK(process["user"]["gid"] == 65534);
  CHECK(process["noNewPrivileges"] == true);
  CHECK(process["terminal"] == false);
  CHECK(process["cwd"] == "/io");
  for (const char* set : {"bounding", "effective", "permitted", "inheritable", "ambient"}) {
    INFO(set);
    CHECK(process["capabilities"][set] == Json::array());
  }
  CHECK(
      process["env"] ==
      Json({"LANG=C.UTF-8", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}));
  std::map<std::string, std::pair<int64_t, int64_t>> rlimits;
  for (const Json& r : process["rlimits"]) rlimits[r["type"]] = {r["soft"], r["hard"]};
  CHECK(rlimits["RLIMIT_FSIZE"] == std::make_pair(int64_t{8} << 20, int64_t{8} << 20));
  CHECK(rlimits["RLIMIT_CPU"] == std::make_pair(int64_t{30}, int64_t{31}));
  CHECK(rlimits["RLIMIT_NOFILE"] == std::make_pair(int64_t{256}, int64_t{256}));
  CHECK(rlimits["RLIMIT_CORE"] == std::make_pair(int64_t{0}, int64_t{0}));

  const Json& linux = config["linux"];
  std::vector<std::string> namespaces;
  for (const Json& ns : linux["namespaces"]) {
    CHECK_FALSE(ns.contains("path"));  // new namespaces, joined ones would leak
    namespaces.push_back(ns["type"]);
  }
  CHECK(namespaces == std::vector<std::string>{"pid", "network", "ipc", "uts", "mount", "cgroup"});
  CHECK(linux["cgroupsPath"] == "/spoor/task-7.attempt_1");
  CHECK(linux["resources"]["memory"]["limit"] == int64_t{256} << 20);
  CHECK(linux["resources"]["memory"]["swap"] == int64_t{256} << 20);
  CHECK(linux["resources"]["pids"]["limit"] == 16);
  CHECK(linux["resources"]["cpu"]["shares"] == 1024);
  CHECK(linux["resources"]["devices"] == Json::parse(R"([{"allow":false,"access":"rwm"}])"));
  const Json& masked = linux["maskedPaths"];
  CHECK(std::find(masked.begin(), masked.end(), "/proc/kcore") != masked.end());
  const Json& readonly = linux["readonlyPaths"];
  CHECK(std::find(readonly.begin(), readonly.end(), "/proc/sys") != readonly.end());

  std::map<std::string, Json> mounts;
  for (const Json& m : config["mounts"]) mounts[m["destination"]] = m;
  CHECK(mounts["/proc"]["type"] == "proc");
  CHECK(mounts["/sys"]["options"].dump() == R"(["nosuid","noexec","nodev","ro"])");
  CHECK(mounts["/tmp"]["type"] == "tmpfs");
  CHECK(absl::StrContains(mounts["/tmp"]["options"].dump(), "size=64m"));
  CHECK(mounts["/data"]["source"] == "/srv/data/cohort");
  CHECK(mounts["/data"]["options"].dump() ==
        R"(["rbind","rprivate","nosuid","nodev","noexec","rro"])");
  CHECK(mounts["/io"]["options"].dump() ==
        R"(["rbind","rprivate","nosuid","nodev","noexec","rw"])");

  const Json& seccomp = linux["seccomp"];
  CHECK(seccomp["defaultAction"] == "SCMP_ACT_ALLOW");
  std::vector<int> killed_families;
  bool denies_mount = false;
  for (const Json& rule : seccomp["syscalls"]) {
    if (rule["action"] == "SCMP_ACT_KILL_PROCESS") {
      CHECK(rule["names"] == Json({"socket", "socketpair"}));
      killed_families.push_back(rule["args"][0]["value"]);
    }
    for (const Json& name : rule["names"]) denies_mount |= name == "mount";
  }
  CHECK(killed_families == std::vector<int>{AF_INET, AF_INET6, AF_PACKET});
  CHECK(denies_mount);

  SECTION("no swap limit on hosts without swap accounting") {
    RuncConfigOptions options;
    options.limit_swap = false;
    absl::StatusOr<std::string> without = MakeRuncConfig(ConfigRun(), limits, options);
    REQUIRE(without.ok());
    CHECK_FALSE(Json::parse(*without)["linux"]["resources"]["memory"].contains("swap"));
  }
  SECTION("an init runs the program as its child") {
    RuncConfigOptions options;
    options.init = "/usr/bin/tini-static";
    absl::StatusOr<std::string> with_init = MakeRuncConfig(ConfigRun(), limits, options);
    REQUIRE(with_init.ok());
    const Json init_config = Json::parse(*with_init);
    CHECK(init_config["process"]["args"] ==
          Json({"/dev/spoor-init", "--", "/usr/bin/python3", "/algo/main.py"}));
    CHECK(init_config["mounts"].back() ==
          Json::parse(R"({"destination":"/dev/spoor-init","type":"bind",
                          "source":"/usr/bin/tini-static","options":["bind","ro","nosuid","nodev"]})"));
    options.init = "tini";
    CHECK(MakeRuncConfig(ConfigRun(), limits, options).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  SECTION("a given PATH is kept") {
    SandboxRun run = ConfigRun();
    run.env = {"PATH=/opt/bin"};
    absl::StatusOr<std::string> with_path = MakeRuncConfig(run, limits);
    REQUIRE(with_path.ok());
    CHECK(Json::parse(*with_path)["process"]["env"] == Json({"PATH=/opt/bin"}));
  }
}

TEST_CASE("MakeRuncConfig rejects malformed runs") {
  auto rejects = [](auto mutate) {
    SandboxRun run = ConfigRun();
    mutate(run);
    absl::StatusOr<std::string> config = MakeRuncConfig(run, SandboxLimits{});
    INFO(config.status().ToString());
    return config.status().code() == absl::StatusCode::kInvalidArgument;
  };
  CHECK(rejects([](SandboxRun& r) { r.id = ""; }));
  CHECK(rejects([](SandboxRun& r) { r.id = ".."; }));
  CHECK(rejects([](SandboxRun& r) { r.id = "a/b"; }));
  CHECK(rejects([](SandboxRun& r) { r.id = "a b"; }));
  CHECK(rejects([](SandboxRun& r) { r.id = std::string(129, 'a'); }));
  CHECK(rejects([](SandboxRun& r) { r.rootfs = "relative/rootfs"; }));
  CHECK(rejects([](SandboxRun& r) { r.rootfs = "/images/../etc"; }));
  CHECK(rejects([](SandboxRun& r) { r.args.clear(); }));
  CHECK(rejects([](SandboxRun& r) { r.env = {"NO_EQUALS_SIGN"}; }));
  CHECK(rejects([](SandboxRun& r) { r.env = {"=value"}; }));
  CHECK(rejects([](SandboxRun& r) { r.cwd = "io"; }));
  CHECK(rejects([](SandboxRun& r) { r.mounts.push_back({"/srv", "/proc/sys", false}); }));
  CHECK(rejects([](SandboxRun& r) { r.mounts.push_back({"/srv", "/", false}); }));
  CHECK(rejects([](SandboxRun& r) { r.mounts.push_back({"srv", "/x", false}); }));
  CHECK(rejects([](SandboxRun& r) { r.bundle_dir = ""; }));
  CHECK(rejects([](SandboxRun& r) { r.log_path = ""; }));
  CHECK_FALSE(rejects([](SandboxRun& r) {}));

  SandboxLimits no_memory;
  no_memory.memory_bytes = 0;
  CHECK(MakeRuncConfig(ConfigRun(), no_memory).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("DescribeOutcome tells a researcher what happened") {
  const SandboxLimits limits;  // defaults: 512 MiB, 32 processes, 256 MiB, 60 s, 60 s
  auto describe = [&](SandboxOutcome outcome, int exit_code = 0, int signal = 0) {
    SandboxResult result;
    result.outcome = outcome;
    result.exit_code = exit_code;
    result.signal = signal;
    return DescribeOutcome(result, limits);
  };
  CHECK(describe(SandboxOutcome::kExited) == "the container exited normally (code 0)");
  CHECK(describe(SandboxOutcome::kExited, 3) == "the container exited with code 3");
  CHECK(describe(SandboxOutcome::kTimedOut, 137, 9) ==
        "the container ran past its timeout (60 s) and was killed");
  CHECK(describe(SandboxOutcome::kMemoryLimit, 137, 9) ==
        "the container exceeded its memory limit (512 MiB) and was killed");
  CHECK(describe(SandboxOutcome::kProcessLimit, 137, 9) ==
        "the container tried to run more than its limit of 32 processes and threads");
  CHECK(describe(SandboxOutcome::kForbiddenSyscall, 159, 31) ==
        "the container tried a forbidden system call (network access is not allowed) and was "
        "killed");
  CHECK(describe(SandboxOutcome::kCpuLimit, 152, 24) ==
        "the container used up its CPU time limit (60 s) and was killed");
  CHECK(describe(SandboxOutcome::kFileSizeLimit, 153, 25) ==
        "the container tried to write a file larger than its limit (256 MiB) and was killed");
  CHECK(describe(SandboxOutcome::kSignalled, 139, 11) ==
        "the container was killed by signal 11 (SIGSEGV)");

  SandboxLimits odd;
  odd.timeout = absl::Milliseconds(1500);
  odd.memory_bytes = 1000;
  SandboxResult result;
  result.outcome = SandboxOutcome::kTimedOut;
  CHECK(DescribeOutcome(result, odd) ==
        "the container ran past its timeout (1.5 s) and was killed");
  result.outcome = SandboxOutcome::kMemoryLimit;
  CHECK(DescribeOutcome(result, odd) ==
        "the container exceeded its memory limit (1000 bytes) and was killed");
}

TEST_CASE("FindRunc says what to install") {
  absl::StatusOr<std::string> missing = FindRunc("/nonexistent/bin/runc");
  CHECK(missing.status().code() == absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<std::string> unknown = FindRunc("spoor-no-such-runtime");
  CHECK(unknown.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(unknown.status().message(), "install"));
}

TEST_CASE("CheckSandboxHost passes on a host that runs containers") {
  SPOOR_NEED_RUNC();
  const std::vector<SandboxCheck> checks = CheckSandboxHost("runc");
  std::vector<std::string> names;
  for (const SandboxCheck& check : checks) {
    INFO(check.name << ": " << check.detail);
    CHECK(check.ok);
    CHECK_FALSE(check.detail.empty());
    names.push_back(check.name);
  }
  CHECK(names == std::vector<std::string>{"runc", "root", "namespaces", "cgroup memory",
                                          "cgroup pids", "seccomp"});
  const std::vector<SandboxCheck> without = CheckSandboxHost("/nonexistent/runc");
  CHECK_FALSE(without[0].ok);
  CHECK(absl::StrContains(without[0].detail, "install"));
}

TEST_CASE("a program runs and its output is logged") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  const SandboxResult result = sandbox.MustRun({"hello"});
  CHECK(result.outcome == SandboxOutcome::kExited);
  CHECK(result.exit_code == 0);
  CHECK(result.signal == 0);
  CHECK_FALSE(result.log_truncated);
  CHECK(result.elapsed < absl::Seconds(3));
  CHECK(absl::StrContains(sandbox.log(), "hello from the sandbox\n"));
  CHECK(absl::StrContains(sandbox.log(), "and hello on stderr\n"));
}

TEST_CASE("exit codes are reported as they are") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  const SandboxResult result = sandbox.MustRun({"exit", "3"});
  CHECK(result.outcome == SandboxOutcome::kExited);
  CHECK(result.exit_code == 3);
  CHECK(DescribeOutcome(result, TestLimits()) == "the container exited with code 3");
}

TEST_CASE("bind mounts: read-only input, writable output, read-only rootfs") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  SandboxRun run = sandbox.MakeRun({"files"});
  run.mounts = {{sandbox.data_dir(), "/data", false}, {sandbox.io_dir(), "/io", true}};
  absl::StatusOr<SandboxResult> result = sandbox.Run(run);
  REQUIRE(result.ok());
  INFO("log: " << ReadAll(run.log_path));
  CHECK(result->outcome == SandboxOutcome::kExited);
  CHECK(result->exit_code == 0);
  CHECK(ReadAll(sandbox.io_dir() + "/output.txt") == "read: synthetic input\n");
  CHECK_FALSE(fs::exists(sandbox.data_dir() + "/new.txt"));
  CHECK(ReadAll(sandbox.data_dir() + "/input.txt") == "synthetic input\n");
  sandbox.ExpectCleanedUp(run);
}

TEST_CASE("the program runs as nobody without capabilities or new privileges") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  const SandboxResult result = sandbox.MustRun({"identity"});
  CHECK(result.outcome == SandboxOutcome::kExited);
  CHECK(result.exit_code == 0);
}

TEST_CASE("the network namespace holds only loopback") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  const SandboxResult result = sandbox.MustRun({"netdev"});
  CHECK(result.exit_code == 0);
  CHECK(absl::StrContains(sandbox.log(), "/proc/net/dev: lo\n"));
}

TEST_CASE("opening a network socket is a forbidden system call") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  // A listener on the host's loopback: the container must not reach it.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const std::string port = std::to_string(ntohs(address.sin_port));

  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"connect", "127.0.0.1", port},
                                             {"connect", "192.0.2.1", "80"},
                                             {"socket6"},
                                             {"packet"}}) {
    INFO(absl::StrJoin(args, " "));
    const SandboxResult result = sandbox.MustRun(args);
    CHECK(result.outcome == SandboxOutcome::kForbiddenSyscall);
    CHECK(result.signal == SIGSYS);
    CHECK_FALSE(absl::StrContains(sandbox.log(), "the filter let it through"));
    CHECK(DescribeOutcome(result, TestLimits()) ==
          "the container tried a forbidden system call (network access is not allowed) and was "
          "killed");
  }
  ::close(listener);
}

TEST_CASE("the seccomp filter denies kernel administration but not ordinary calls") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  const SandboxResult result = sandbox.MustRun({"seccomp"});
  CHECK(result.outcome == SandboxOutcome::kExited);
  CHECK(result.exit_code == 0);
#if defined(__x86_64__)
  // The i386 system call table is not in the filter's architectures, so it
  // cannot be used to get round the rules (SIGSEGV: no IA-32 emulation).
  const SandboxResult int80 = sandbox.MustRun({"int80"});
  CHECK_FALSE(absl::StrContains(sandbox.log(), "the filter let it through"));
  CHECK((int80.outcome == SandboxOutcome::kForbiddenSyscall || int80.signal == SIGSEGV));
#endif
}

TEST_CASE("a memory hog is stopped at the memory limit") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  SandboxLimits limits = TestLimits();
  limits.memory_bytes = int64_t{64} << 20;
  const SandboxResult result = sandbox.MustRun({"hog", "1024"}, limits);
  CHECK(result.outcome == SandboxOutcome::kMemoryLimit);
  CHECK(result.signal == SIGKILL);
  CHECK_FALSE(absl::StrContains(sandbox.log(), "allocated"));
  CHECK(DescribeOutcome(result, limits) ==
        "the container exceeded its memory limit (64 MiB) and was killed");
}

TEST_CASE("a fork bomb is stopped at the process limit and leaves nothing behind") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  SandboxLimits limits = TestLimits();
  limits.max_processes = 16;
  limits.timeout = absl::Seconds(1);
  SandboxRun run = sandbox.MakeRun({"forkbomb"});
  run.args.push_back(run.id);  // tells its processes from other tests' fork bombs
  const std::vector<std::string> cmdline = run.args;
  absl::StatusOr<SandboxResult> result = sandbox.Run(run, limits);
  REQUIRE(result.ok());
  CHECK(result->outcome == SandboxOutcome::kProcessLimit);
  CHECK(result->elapsed < absl::Seconds(5));
  CHECK(CountProcesses(cmdline) == 0);
  sandbox.ExpectCleanedUp(run);
  CHECK(DescribeOutcome(*result, limits) ==
        "the container tried to run more than its limit of 16 processes and threads");
}

TEST_CASE("a program past its timeout is killed and cleaned up") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  SandboxLimits limits = TestLimits();
  limits.timeout = absl::Seconds(1);
  SandboxRun run = sandbox.MakeRun({"sleep"});
  run.args.push_back(run.id);
  absl::StatusOr<SandboxResult> result = sandbox.Run(run, limits);
  REQUIRE(result.ok());
  CHECK(result->outcome == SandboxOutcome::kTimedOut);
  CHECK(result->signal == SIGKILL);
  CHECK(result->elapsed >= absl::Seconds(1));
  CHECK(result->elapsed < absl::Seconds(5));
  CHECK(DescribeOutcome(*result, limits) ==
        "the container ran past its timeout (1 s) and was killed");
  CHECK(CountProcesses(run.args) == 0);
  sandbox.ExpectCleanedUp(run);
}

TEST_CASE("the log is capped however much the program writes") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  SandboxLimits limits = TestLimits();
  limits.max_log_bytes = 64 << 10;
  const SandboxResult result = sandbox.MustRun({"spew", std::to_string(10 << 20)}, limits);
  CHECK(result.outcome == SandboxOutcome::kExited);
  CHECK(result.exit_code == 0);  // the program was not blocked or killed
  CHECK(result.log_truncated);
  const std::string note = "\n[log truncated]\n";
  CHECK(sandbox.log().size() == (64 << 10) + note.size());
  CHECK(absl::EndsWith(sandbox.log(), note));
}

TEST_CASE("CPU time, file size and crashes are told apart under an init") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  SandboxLimits limits = TestLimits();
  limits.cpu_seconds = 1;
  limits.max_file_bytes = 1 << 20;
  limits.timeout = absl::Seconds(30);      // CPU seconds take longer on a busy machine
  const std::string init = SANDBOX_PROBE;  // its "--" mode is a minimal init

  const SandboxResult cpu = sandbox.MustRun({"cpu"}, limits, init);
  CHECK(cpu.outcome == SandboxOutcome::kCpuLimit);
  CHECK(cpu.signal == SIGXCPU);
  CHECK(DescribeOutcome(cpu, limits) ==
        "the container used up its CPU time limit (1 s) and was killed");

  const SandboxResult big = sandbox.MustRun({"fsize", std::to_string(4 << 20)}, limits, init);
  CHECK(big.outcome == SandboxOutcome::kFileSizeLimit);
  CHECK(big.signal == SIGXFSZ);
  CHECK(DescribeOutcome(big, limits) ==
        "the container tried to write a file larger than its limit (1 MiB) and was killed");

  const SandboxResult crash = sandbox.MustRun({"abort"}, limits, init);
  CHECK(crash.outcome == SandboxOutcome::kSignalled);
  CHECK(crash.signal == SIGABRT);
  CHECK(crash.exit_code == 128 + SIGABRT);
  CHECK(DescribeOutcome(crash, limits) == "the container was killed by signal 6 (SIGABRT)");

  const SandboxResult hello = sandbox.MustRun({"hello"}, limits, init);
  CHECK(hello.outcome == SandboxOutcome::kExited);
  CHECK(absl::StrContains(sandbox.log(), "hello from the sandbox"));
}

TEST_CASE("as PID 1 a program ignores SIGXCPU, SIGXFSZ and SIGABRT") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  SandboxLimits limits = TestLimits();
  limits.cpu_seconds = 1;
  limits.max_file_bytes = 1 << 20;
  limits.timeout = absl::Seconds(30);  // CPU seconds take longer on a busy machine

  // Killed at RLIMIT_CPU's hard limit; the cgroup's CPU time tells why.
  const SandboxResult cpu = sandbox.MustRun({"cpu"}, limits);
  CHECK(cpu.outcome == SandboxOutcome::kCpuLimit);
  CHECK(cpu.signal == SIGKILL);

  // The write fails with EFBIG; the probe reports that as exit code 3.
  const SandboxResult big = sandbox.MustRun({"fsize", std::to_string(4 << 20)}, limits);
  CHECK(big.outcome == SandboxOutcome::kExited);
  CHECK(big.exit_code == 3);

  // glibc's abort() falls back to a crash.
  const SandboxResult crash = sandbox.MustRun({"abort"}, limits);
  CHECK(crash.outcome == SandboxOutcome::kSignalled);
  CHECK(crash.signal == SIGSEGV);
}

TEST_CASE("runc failing to start the container is an error, and cleaned up") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  SandboxRun run = sandbox.MakeRun({});
  run.args = {"/no/such/program"};
  absl::StatusOr<SandboxResult> result = sandbox.Run(run);
  INFO(result.status().ToString());
  CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(result.status().message(), "/no/such/program"));
  CHECK(result.status().message().size() < 500);
  sandbox.ExpectCleanedUp(run);
}

TEST_CASE("setup problems are errors before anything runs") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  SandboxRun missing_rootfs = sandbox.MakeRun({"hello"});
  missing_rootfs.rootfs = "/nonexistent/rootfs";
  CHECK(sandbox.Run(missing_rootfs).status().code() == absl::StatusCode::kFailedPrecondition);

  SandboxRun foreign_bundle = sandbox.MakeRun({"hello"});
  fs::create_directories(foreign_bundle.bundle_dir);
  std::ofstream(foreign_bundle.bundle_dir + "/precious.txt") << "keep me";
  CHECK(sandbox.Run(foreign_bundle).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(fs::exists(foreign_bundle.bundle_dir + "/precious.txt"));

  const RuncSandbox no_runc("/nonexistent/runc", sandbox.state(), TestLimits());
  CHECK(no_runc.Run(sandbox.MakeRun({"hello"})).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a container left behind by a crash is replaced") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  // What a crashed node leaves: a running container with the run's id.
  const SandboxRun run = sandbox.MakeRun({"hello"});
  SandboxRun leftover = run;
  leftover.args = {"/prog", "sleep", run.id};
  leftover.bundle_dir += "-crashed";
  absl::StatusOr<std::string> config = MakeRuncConfig(leftover, TestLimits());
  REQUIRE(config.ok());
  fs::create_directories(leftover.bundle_dir);
  std::ofstream(leftover.bundle_dir + "/config.json") << *config;
  const std::string command =
      absl::StrCat(*FindRunc("runc"), " --root ", sandbox.state(), " run --detach --bundle ",
                   leftover.bundle_dir, " ", run.id, " </dev/null >/dev/null 2>&1");
  REQUIRE(std::system(command.c_str()) == 0);
  // `runc run --detach` returns before the program has been exec'd.
  const std::vector<std::string> sleeper = {"/prog", "sleep", run.id};
  for (int i = 0; i < 500 && CountProcesses(sleeper) == 0; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  REQUIRE(CountProcesses(sleeper) == 1);

  absl::StatusOr<SandboxResult> result = sandbox.Run(run);
  REQUIRE(result.ok());
  CHECK(result->outcome == SandboxOutcome::kExited);
  CHECK(absl::StrContains(ReadAll(run.log_path), "hello from the sandbox"));
  sandbox.ExpectCleanedUp(run);
  CHECK(CountProcesses(sleeper) == 0);
}

TEST_CASE("several containers run at once") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  constexpr int kRuns = 4;
  std::vector<SandboxRun> runs;
  for (int i = 0; i < kRuns; ++i) runs.push_back(sandbox.MakeRun({"exit", std::to_string(i)}));
  std::vector<absl::StatusOr<SandboxResult>> results(kRuns, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kRuns; ++i) {
    threads.emplace_back([&, i] { results[i] = sandbox.Run(runs[i]); });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kRuns; ++i) {
    INFO(i << ": " << results[i].status().ToString());
    REQUIRE(results[i].ok());
    CHECK(results[i]->outcome == SandboxOutcome::kExited);
    CHECK(results[i]->exit_code == i);
    sandbox.ExpectCleanedUp(runs[i]);
  }
}

TEST_CASE("a trivial run is quick") {
  SPOOR_NEED_RUNC();
  Sandbox sandbox;
  constexpr int kRuns = 20;
  std::vector<absl::Duration> totals;    // Run(): set-up, runc run, counters, runc delete
  std::vector<absl::Duration> elapseds;  // SandboxResult::elapsed: runc run alone
  for (int i = 0; i < kRuns; ++i) {
    const SandboxRun run = sandbox.MakeRun({"hello"});
    const absl::Time start = absl::Now();
    absl::StatusOr<SandboxResult> result = sandbox.Run(run);
    totals.push_back(absl::Now() - start);
    REQUIRE(result.ok());
    REQUIRE(result->outcome == SandboxOutcome::kExited);
    elapseds.push_back(result->elapsed);
  }
  std::sort(totals.begin(), totals.end());
  std::sort(elapseds.begin(), elapseds.end());
  WARN("trivial run over " << kRuns << " runs: Run() min " << absl::FormatDuration(totals.front())
                           << ", p50 " << absl::FormatDuration(totals[kRuns / 2]) << ", p90 "
                           << absl::FormatDuration(totals[kRuns * 9 / 10])
                           << "; runc run alone p50 " << absl::FormatDuration(elapseds[kRuns / 2]));
  CHECK(totals[kRuns / 2] < absl::Seconds(1));
}

}  // namespace
}  // namespace spoor
