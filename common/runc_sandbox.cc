#include "common/runc_sandbox.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/internal/cgroup_counters.h"
#include "common/internal/child_process.h"
#include "common/internal/runc_config.h"
#include "common/log.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

using internal::CgroupCounters;
using internal::CgroupFile;
using internal::CgroupLayout;
using internal::CgroupPathFor;
using internal::ChildProcess;
using internal::CommandResult;
using internal::DetectCgroupLayout;
using internal::DrainPipe;
using internal::IsCleanAbsolutePath;
using internal::MakePipe;
using internal::Mounts;
using internal::Namespaces;
using internal::Process;
using internal::ReadCgroupCounters;
using internal::RunCommand;
using internal::ScopedFd;
using internal::SeccompProfile;
using internal::SwapAccountingAvailable;
using internal::ValidateLimits;
using internal::ValidateRun;
using internal::WaitForEvent;
using Json = nlohmann::json;

constexpr const char* kRuncFallbackDirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                             "/usr/bin",        "/sbin",          "/bin"};
constexpr char kConfigName[] = "config.json";
constexpr char kRuncLogName[] = "runc.log";
constexpr char kHostname[] = "spoor-sandbox";
constexpr char kInitPath[] = "/dev/spoor-init";
constexpr char kTruncationNote[] = "\n[log truncated]\n";
constexpr int64_t kCpuShares = 1024;
constexpr size_t kMaxRuncMessage = 300;
// How long runc's own short commands (kill, delete, --version) may take.
constexpr absl::Duration kRuncCommandTimeout = absl::Seconds(30);
// After `runc kill`, how long `runc run` gets to notice before it is killed.
constexpr absl::Duration kKillGrace = absl::Seconds(3);
// After the container is deleted, how long to wait for the log pipe to close.
constexpr absl::Duration kDrainGrace = absl::Milliseconds(500);

// ---------------------------------------------------------------------------
// Validation.

// The paths Run needs must exist; MakeRuncConfig does not look at the disk.
absl::Status CheckPathsExist(const SandboxRun& run) {
  struct stat st;
  if (::stat(run.rootfs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("rootfs ", run.rootfs, " is not a directory; unpack the image first"));
  }
  for (const SandboxMount& mount : run.mounts) {
    if (::stat(mount.source.c_str(), &st) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("mount source ", mount.source, " does not exist"));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// runc's command line.

// The first line of `text`, trimmed and at most kMaxRuncMessage long.
std::string Shorten(absl::string_view text) {
  absl::string_view line = absl::StripAsciiWhitespace(text);
  line = line.substr(0, line.find('\n'));
  if (line.size() <= kMaxRuncMessage) return std::string(line);
  return absl::StrCat(line.substr(0, kMaxRuncMessage), "...");
}

// runc's command line for one state root.
class RuncCli {
 public:
  RuncCli(std::string runc, std::string state_root)
      : runc_(std::move(runc)), state_root_(std::move(state_root)) {}

  std::vector<std::string> Args(std::initializer_list<std::string> args) const {
    std::vector<std::string> argv = {runc_, "--root", state_root_};
    argv.insert(argv.end(), args);
    return argv;
  }

  // True while runc has state for `id` (a container, running or not).
  bool Exists(const std::string& id) const {
    return ::access(absl::StrCat(state_root_, "/", id).c_str(), F_OK) == 0;
  }

  void Kill(const std::string& id) const {
    absl::StatusOr<CommandResult> result =
        RunCommand(Args({"kill", id, "KILL"}), kRuncCommandTimeout);
    if (!result.ok() || !result->succeeded()) {
      LogDebug("sandbox ", id, ": runc kill failed: ",
               result.ok() ? Shorten(result->output) : result.status().ToString());
    }
  }

  // Deletes the container (killing what still runs in it) if runc knows it.
  void DeleteIfPresent(const std::string& id) const {
    if (!Exists(id)) return;
    absl::StatusOr<CommandResult> result =
        RunCommand(Args({"delete", "--force", id}), kRuncCommandTimeout);
    if (!result.ok() || !result->succeeded()) {
      LogWarning("sandbox ", id, ": runc delete failed: ",
                 result.ok() ? Shorten(result->output) : result.status().ToString());
    }
  }

 private:
  const std::string runc_;
  const std::string state_root_;
};

// ---------------------------------------------------------------------------
// Run's pieces.

// Keeps the first `cap` bytes written to it in `fd` and counts the rest.
class CappedLog {
 public:
  CappedLog(int fd, int64_t cap) : fd_(fd), cap_(static_cast<size_t>(cap)) {}

  void Append(const char* data, size_t size) {
    const size_t keep = std::min(size, cap_ - kept_);
    WriteAll(data, keep);
    kept_ += keep;
    if (keep < size) truncated_ = true;
  }
  void Finish() {
    if (truncated_) WriteAll(kTruncationNote, sizeof(kTruncationNote) - 1);
  }
  bool truncated() const { return truncated_; }

 private:
  void WriteAll(const char* data, size_t size) {
    while (size > 0 && !write_failed_) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        LogWarning("sandbox: cannot write the container log: ", std::strerror(errno));
        write_failed_ = true;
        return;
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
  }

  const int fd_;
  const size_t cap_;
  size_t kept_ = 0;
  bool truncated_ = false;
  bool write_failed_ = false;
};

absl::Status EnsureStateRoot(const std::string& state_root) {
  std::error_code error;
  std::filesystem::create_directories(state_root, error);
  if (error) {
    return ErrnoStatus(error.value(), absl::StrCat("cannot create runc state root ", state_root));
  }
  if (::chmod(state_root.c_str(), 0700) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot restrict runc state root ", state_root));
  }
  return absl::OkStatus();
}

absl::Status WriteNewFile(const std::string& path, absl::string_view contents) {
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrnoStatus(errno, absl::StrCat("cannot create ", path));
  while (!contents.empty()) {
    const ssize_t n = ::write(fd.get(), contents.data(), contents.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat("cannot write ", path));
    contents.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

void RemoveBundle(const std::string& dir) {
  for (const char* name : {kConfigName, kRuncLogName}) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      LogWarning("sandbox: cannot remove ", path, ": ", std::strerror(errno));
    }
  }
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    LogWarning("sandbox: cannot remove bundle dir ", dir, ": ", std::strerror(errno));
  }
}

// Creates the bundle dir holding config.json. A dir left by a crashed run is
// reused if it holds nothing but our files.
absl::Status PrepareBundle(const std::string& dir, const std::string& config) {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno != EEXIST) return ErrnoStatus(errno, absl::StrCat("cannot create bundle dir ", dir));
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      const std::string name = entry.path().filename().string();
      if (name != kConfigName && name != kRuncLogName) {
        return absl::FailedPreconditionError(absl::StrCat(
            "bundle dir ", dir, " already exists and holds ", name, "; choose an unused path"));
      }
    }
    if (error) return ErrnoStatus(error.value(), absl::StrCat("cannot list bundle dir ", dir));
    ::unlink(absl::StrCat(dir, "/", kRuncLogName).c_str());
  }
  absl::Status written = WriteNewFile(absl::StrCat(dir, "/", kConfigName), config);
  if (!written.ok()) RemoveBundle(dir);
  return written;
}

// runc's last error from its JSON log ({"level":"error","msg":...}), or "".
std::string RuncError(const std::string& runc_log) {
  std::string message;
  for (absl::string_view line : absl::StrSplit(runc_log, '\n', absl::SkipEmpty())) {
    const Json entry = Json::parse(line.begin(), line.end(), nullptr, false);
    if (entry.is_object() && entry.value("level", "") == "error") {
      message = entry.value("msg", "");
    }
  }
  absl::string_view shortened = message;
  absl::ConsumePrefix(&shortened, "runc run failed: ");
  return Shorten(shortened);
}

SandboxOutcome ClassifyOutcome(bool timed_out, int exit_code, int signal,
                               const CgroupCounters& counters, const SandboxLimits& limits) {
  // A fork bomb usually ends at the timeout; the refused forks explain why.
  if (timed_out) {
    return counters.pids_limit_hits > 0 ? SandboxOutcome::kProcessLimit : SandboxOutcome::kTimedOut;
  }
  if (signal == SIGKILL && counters.oom_kills > 0) return SandboxOutcome::kMemoryLimit;
  if (signal == SIGSYS) return SandboxOutcome::kForbiddenSyscall;
  if (signal == SIGXCPU) return SandboxOutcome::kCpuLimit;
  if (signal == SIGXFSZ) return SandboxOutcome::kFileSizeLimit;
  const bool failed = exit_code != 0;
  if (failed && counters.pids_limit_hits > 0) return SandboxOutcome::kProcessLimit;
  // A child was OOM-killed and the program gave up.
  if (failed && counters.oom_kills > 0) return SandboxOutcome::kMemoryLimit;
  // RLIMIT_CPU's hard limit (a program ignoring SIGXCPU) sends SIGKILL.
  if (signal == SIGKILL && counters.cpu_time.has_value() &&
      *counters.cpu_time >= absl::Seconds(limits.cpu_seconds)) {
    return SandboxOutcome::kCpuLimit;
  }
  return signal != 0 ? SandboxOutcome::kSignalled : SandboxOutcome::kExited;
}

// Removes what a crash may have left under `id`: the container, and an
// empty cgroup of that name whose counters would otherwise carry over.
void RemoveLeftover(const RuncCli& cli, const std::string& id, const CgroupLayout& layout,
                    const std::string& cgroup_path) {
  cli.DeleteIfPresent(id);
  if (layout.unified) {
    ::rmdir(absl::StrCat("/sys/fs/cgroup", cgroup_path).c_str());
  } else {
    for (const std::string& mount_point : layout.v1_mount_points) {
      ::rmdir(absl::StrCat(mount_point, cgroup_path).c_str());
    }
  }
}

// How `runc run` ended.
struct RuncRunEnd {
  std::optional<int> wait_status;  // nullopt: lost (SIGCHLD ignored)
  bool timed_out = false;          // we killed the container
  absl::Time finished;
};

// Waits for `runc_run` while copying the container's output from `read_end`
// to `sink` (resetting `read_end` at end of file). At `deadline` kills the
// container; if runc has not returned kKillGrace later, kills runc too.
RuncRunEnd SuperviseRuncRun(ChildProcess& runc_run, const RuncCli& cli, const std::string& id,
                            absl::Time deadline, ScopedFd& read_end,
                            absl::FunctionRef<void(const char*, size_t)> sink) {
  RuncRunEnd end;
  bool runc_killed = false;
  absl::Time kill_deadline = absl::InfiniteFuture();
  while (!runc_run.TryReap()) {
    const absl::Time now = absl::Now();
    if (!end.timed_out && now >= deadline) {
      end.timed_out = true;
      cli.Kill(id);
      kill_deadline = absl::Now() + kKillGrace;
      continue;
    }
    if (end.timed_out && !runc_killed && now >= kill_deadline) {
      // runc did not get the container killed (it may still have been
      // starting); `runc delete --force` finishes the job.
      runc_run.Kill(SIGKILL);
      runc_killed = true;
    }
    const absl::Time wake = !end.timed_out ? deadline
                            : runc_killed  ? now + absl::Seconds(1)
                                           : kill_deadline;
    WaitForEvent(read_end.get(), runc_run.pidfd(), true, wake);
    if (read_end.get() >= 0 && !DrainPipe(read_end.get(), sink)) read_end.Reset();
  }
  end.finished = absl::Now();
  if (read_end.get() >= 0 && !DrainPipe(read_end.get(), sink)) read_end.Reset();
  end.wait_status = runc_run.wait_status();
  return end;
}

// The result of a finished `runc run` (elapsed and log_truncated unset), or
// an error if runc itself failed: see RuncSandbox::Run.
absl::StatusOr<SandboxResult> InterpretRuncRun(const RuncRunEnd& end, const std::string& runc_error,
                                               const CgroupCounters& counters,
                                               const SandboxLimits& limits, const std::string& id) {
  const std::optional<int>& status = end.wait_status;
  SandboxResult result;
  if (end.timed_out && (!status.has_value() || !WIFEXITED(*status))) {
    result.exit_code = 128 + SIGKILL;  // we killed runc itself
  } else if (!status.has_value()) {
    return absl::UnavailableError(
        absl::StrCat("lost runc's exit status for container ", id, " (SIGCHLD ignored?)"));
  } else if (WIFSIGNALED(*status)) {
    return absl::UnavailableError(absl::StrCat("runc was killed by signal ", WTERMSIG(*status),
                                               " while running container ", id));
  } else {
    result.exit_code = WEXITSTATUS(*status);
  }
  // runc logs errors only when it fails, not when the program does.
  if (!end.timed_out && result.exit_code != 0 && !runc_error.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("runc could not start container ", id, ": ", runc_error));
  }
  if (result.exit_code > 128 && result.exit_code <= 128 + SIGRTMAX) {
    result.signal = result.exit_code - 128;
  }
  result.outcome =
      ClassifyOutcome(end.timed_out, result.exit_code, result.signal, counters, limits);
  return result;
}

std::string FormatBytes(int64_t bytes) {
  if (bytes >= (int64_t{1} << 30) && bytes % (int64_t{1} << 30) == 0) {
    return absl::StrCat(bytes >> 30, " GiB");
  }
  if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes >= (1 << 10) && bytes % (1 << 10) == 0) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " bytes");
}

std::string FormatSeconds(absl::Duration d) {
  if (d < absl::Seconds(1)) return absl::StrCat(absl::ToInt64Milliseconds(d), " ms");
  if (d == absl::Seconds(absl::ToInt64Seconds(d))) {
    return absl::StrCat(absl::ToInt64Seconds(d), " s");
  }
  return absl::StrFormat("%.1f s", absl::ToDoubleSeconds(d));
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

absl::StatusOr<std::string> MakeRuncConfig(const SandboxRun& run, const SandboxLimits& limits,
                                           const RuncConfigOptions& options) {
  SPOOR_RETURN_IF_ERROR(ValidateLimits(limits));
  SPOOR_RETURN_IF_ERROR(ValidateRun(run));
  if (!options.init.empty() && !IsCleanAbsolutePath(options.init)) {
    return absl::InvalidArgumentError(
        absl::StrCat("init \"", options.init, "\" must be a clean absolute path"));
  }
  Json process = Process(run, limits);
  Json mounts = Mounts(run);
  if (!options.init.empty()) {
    process["args"] = Json::array({kInitPath, "--"});
    for (const std::string& arg : run.args) process["args"].push_back(arg);
    // Executable, unlike the caller's mounts; the /dev tmpfs holds its mount
    // point, so the rootfs needs none.
    mounts.push_back({{"destination", kInitPath},
                      {"type", "bind"},
                      {"source", options.init},
                      {"options", {"bind", "ro", "nosuid", "nodev"}}});
  }
  Json memory = {{"limit", limits.memory_bytes}};
  if (options.limit_swap) memory["swap"] = limits.memory_bytes;  // memory + swap: no swap
  const Json config = {
      {"ociVersion", "1.0.2"},
      {"process", std::move(process)},
      {"root", {{"path", run.rootfs}, {"readonly", true}}},
      {"hostname", kHostname},
      {"mounts", std::move(mounts)},
      {"linux",
       {{"resources",
         {{"devices", {{{"allow", false}, {"access", "rwm"}}}},
          {"memory", std::move(memory)},
          {"pids", {{"limit", limits.max_processes}}},
          {"cpu", {{"shares", kCpuShares}}}}},
        {"cgroupsPath", CgroupPathFor(run.id)},
        {"namespaces", Namespaces()},
        // As `runc spec` generates them, plus powercap (Docker: RAPL
        // power readings leak what other processes compute).
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
          "/sys/firmware", "/sys/devices/virtual/powercap"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
        {"seccomp", SeccompProfile()}}},
  };
  return config.dump(2);
}

absl::StatusOr<std::string> FindRunc(const std::string& runc) {
  auto executable = [](const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
  };
  if (runc.empty()) return absl::InvalidArgumentError("no runc binary given");
  if (absl::StrContains(runc, '/')) {
    if (executable(runc)) return runc;
    return absl::FailedPreconditionError(
        absl::StrCat("runc binary ", runc,
                     " is missing or not executable; install runc (Debian: apt-get install runc) "
                     "or fix the path"));
  }
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    dirs = absl::StrSplit(path, ':', absl::SkipEmpty());
  }
  dirs.insert(dirs.end(), std::begin(kRuncFallbackDirs), std::end(kRuncFallbackDirs));
  for (const std::string& dir : dirs) {
    if (dir[0] != '/') continue;  // relative PATH entries depend on the cwd
    std::string candidate = absl::StrCat(dir, "/", runc);
    if (executable(candidate)) return candidate;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("runc not found (looked for \"", runc,
                   "\" in PATH and /usr/local/sbin, /usr/sbin, /sbin, /usr/bin); install it "
                   "(Debian: apt-get install runc)"));
}

RuncSandbox::RuncSandbox(std::string runc, std::string state_root, SandboxLimits limits,
                         std::string init)
    : runc_(std::move(runc)),
      state_root_(std::move(state_root)),
      limits_(limits),
      init_(std::move(init)) {}

absl::StatusOr<SandboxResult> RuncSandbox::Run(const SandboxRun& run) const {
  SPOOR_RETURN_IF_ERROR(ValidateLimits(limits_));
  SPOOR_RETURN_IF_ERROR(ValidateRun(run));
  SPOOR_ASSIGN_OR_RETURN(const std::string runc, FindRunc(runc_));
  if (::geteuid() != 0) {
    return absl::FailedPreconditionError(
        "running containers needs root (rootless runc is not supported); run the node as root");
  }
  SPOOR_RETURN_IF_ERROR(CheckPathsExist(run));
  if (!init_.empty() && ::access(init_.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("init ", init_,
                     " is missing or not executable; install it (Debian: tini) or fix the path"));
  }
  SPOOR_RETURN_IF_ERROR(EnsureStateRoot(state_root_));
  const CgroupLayout layout = DetectCgroupLayout();
  RuncConfigOptions options;
  options.limit_swap = SwapAccountingAvailable(layout);
  options.init = init_;
  SPOOR_ASSIGN_OR_RETURN(const std::string config, MakeRuncConfig(run, limits_, options));
  const RuncCli cli(runc, state_root_);
  const std::string cgroup_path = CgroupPathFor(run.id);
  RemoveLeftover(cli, run.id, layout, cgroup_path);

  SPOOR_RETURN_IF_ERROR(PrepareBundle(run.bundle_dir, config));
  absl::Cleanup clean_up = [&] {
    cli.DeleteIfPresent(run.id);
    RemoveBundle(run.bundle_dir);
  };
  ScopedFd log_fd(::open(run.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (log_fd.get() < 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot create container log ", run.log_path));
  }
  CappedLog log(log_fd.get(), limits_.max_log_bytes);
  auto to_log = [&log](const char* data, size_t size) { log.Append(data, size); };
  SPOOR_ASSIGN_OR_RETURN(auto pipe, MakePipe());
  auto& [read_end, write_end] = pipe;

  // --keep: runc leaves the stopped container (and its cgroup counters) for
  // us to read; we delete it afterwards.
  const std::string runc_log = absl::StrCat(run.bundle_dir, "/", kRuncLogName);
  const absl::Time start = absl::Now();
  SPOOR_ASSIGN_OR_RETURN(
      std::unique_ptr<ChildProcess> runc_run,
      ChildProcess::Spawn(cli.Args({"--log", runc_log, "--log-format", "json", "run", "--bundle",
                                    run.bundle_dir, "--keep", run.id}),
                          write_end.get()));
  write_end.Reset();
  const RuncRunEnd end =
      SuperviseRuncRun(*runc_run, cli, run.id, start + limits_.timeout, read_end, to_log);

  // Counters and runc's log first: delete removes both.
  const CgroupCounters counters = ReadCgroupCounters(layout, cgroup_path);
  const std::string runc_error = RuncError(ReadFile(runc_log).value_or(""));
  std::move(clean_up).Invoke();
  // With the container gone nothing writes to the pipe any more.
  const absl::Time drain_deadline = absl::Now() + kDrainGrace;
  while (read_end.get() >= 0 && absl::Now() < drain_deadline) {
    WaitForEvent(read_end.get(), -1, false, drain_deadline);
    if (!DrainPipe(read_end.get(), to_log)) read_end.Reset();
  }
  log.Finish();

  SPOOR_ASSIGN_OR_RETURN(SandboxResult result,
                         InterpretRuncRun(end, runc_error, counters, limits_, run.id));
  result.elapsed = end.finished - start;
  result.log_truncated = log.truncated();
  LogDebug("sandbox ", run.id, ": ", SandboxOutcomeName(result.outcome), " (exit ",
           result.exit_code, ") after ", absl::FormatDuration(result.elapsed));
  return result;
}

const char* SandboxOutcomeName(SandboxOutcome outcome) {
  switch (outcome) {
    case SandboxOutcome::kExited:
      return "kExited";
    case SandboxOutcome::kTimedOut:
      return "kTimedOut";
    case SandboxOutcome::kMemoryLimit:
      return "kMemoryLimit";
    case SandboxOutcome::kProcessLimit:
      return "kProcessLimit";
    case SandboxOutcome::kForbiddenSyscall:
      return "kForbiddenSyscall";
    case SandboxOutcome::kCpuLimit:
      return "kCpuLimit";
    case SandboxOutcome::kFileSizeLimit:
      return "kFileSizeLimit";
    case SandboxOutcome::kSignalled:
      return "kSignalled";
  }
  return "unknown";
}

std::string DescribeOutcome(const SandboxResult& result, const SandboxLimits& limits) {
  switch (result.outcome) {
    case SandboxOutcome::kExited:
      if (result.exit_code == 0) return "the container exited normally (code 0)";
      return absl::StrCat("the container exited with code ", result.exit_code);
    case SandboxOutcome::kTimedOut:
      return absl::StrCat("the container ran past its timeout (", FormatSeconds(limits.timeout),
                          ") and was killed");
    case SandboxOutcome::kMemoryLimit:
      return absl::StrCat("the container exceeded its memory limit (",
                          FormatBytes(limits.memory_bytes), ") and was killed");
    case SandboxOutcome::kProcessLimit:
      return absl::StrCat("the container tried to run more than its limit of ",
                          limits.max_processes, " processes and threads");
    case SandboxOutcome::kForbiddenSyscall:
      return "the container tried a forbidden system call (network access is not allowed) and "
             "was killed";
    case SandboxOutcome::kCpuLimit:
      return absl::StrCat("the container used up its CPU time limit (", limits.cpu_seconds,
                          " s) and was killed");
    case SandboxOutcome::kFileSizeLimit:
      return absl::StrCat("the container tried to write a file larger than its limit (",
                          FormatBytes(limits.max_file_bytes), ") and was killed");
    case SandboxOutcome::kSignalled: {
      const char* name = sigabbrev_np(result.signal);
      return absl::StrCat("the container was killed by signal ", result.signal,
                          name == nullptr ? "" : absl::StrCat(" (SIG", name, ")"));
    }
  }
  return "the container ended in an unknown way";
}

std::vector<SandboxCheck> CheckSandboxHost(const std::string& runc) {
  std::vector<SandboxCheck> checks;

  absl::StatusOr<std::string> runc_path = FindRunc(runc);
  if (!runc_path.ok()) {
    checks.push_back({"runc", false, std::string(runc_path.status().message())});
  } else {
    absl::StatusOr<CommandResult> version =
        RunCommand({*runc_path, "--version"}, absl::Seconds(10));
    if (!version.ok() || !version->succeeded()) {
      checks.push_back(
          {"runc", false,
           absl::StrCat(*runc_path, " --version failed: ",
                        version.ok() ? Shorten(version->output) : version.status().ToString(),
                        "; reinstall runc")});
    } else if (!absl::StrContains(version->output, "libseccomp")) {
      checks.push_back({"runc", false,
                        absl::StrCat(*runc_path,
                                     " was built without seccomp support; install a runc "
                                     "built with libseccomp (Debian's is)")});
    } else {
      checks.push_back({"runc", true, absl::StrCat(Shorten(version->output), " at ", *runc_path)});
    }
  }

  if (::geteuid() == 0) {
    checks.push_back({"root", true, "running as root"});
  } else {
    checks.push_back({"root", false,
                      absl::StrCat("running as uid ", ::geteuid(),
                                   "; runc needs root (rootless runc is not supported): run the "
                                   "node as root")});
  }

  std::vector<std::string> missing;
  for (const char* ns : {"user", "pid", "net", "mnt", "ipc", "uts", "cgroup"}) {
    if (::access(absl::StrCat("/proc/self/ns/", ns).c_str(), F_OK) != 0) missing.push_back(ns);
  }
  if (missing.empty()) {
    checks.push_back({"namespaces", true, "user, pid, net, mnt, ipc, uts and cgroup available"});
  } else {
    checks.push_back({"namespaces", false,
                      absl::StrCat("missing ", absl::StrJoin(missing, ", "),
                                   " namespaces; use a kernel built with CONFIG_NAMESPACES and "
                                   "the matching CONFIG_*_NS options")});
  }

  const CgroupLayout layout = DetectCgroupLayout();
  std::string v2_controllers;
  if (layout.unified) v2_controllers = ReadFile("/sys/fs/cgroup/cgroup.controllers").value_or("");
  for (const char* controller : {"memory", "pids"}) {
    const std::string name = absl::StrCat("cgroup ", controller);
    if (layout.unified) {
      const std::vector<absl::string_view> available =
          absl::StrSplit(v2_controllers, absl::ByAnyChar(" \n"), absl::SkipEmpty());
      const bool ok = std::find(available.begin(), available.end(), controller) != available.end();
      checks.push_back({name, ok,
                        ok ? absl::StrCat("cgroup v2 ", controller, " controller at /sys/fs/cgroup")
                           : absl::StrCat("cgroup v2 without the ", controller,
                                          " controller; enable it (for memory: boot with "
                                          "cgroup_enable=memory)")});
    } else {
      std::string dir = CgroupFile(layout, controller, "", "");
      if (!dir.empty()) dir.pop_back();  // the trailing "/"
      checks.push_back({name, !dir.empty(),
                        !dir.empty()
                            ? absl::StrCat("cgroup v1 ", controller, " controller at ", dir)
                            : absl::StrCat("no ", controller,
                                           " cgroup controller mounted; mount it under "
                                           "/sys/fs/cgroup or boot with cgroup v2 "
                                           "(systemd.unified_cgroup_hierarchy=1)")});
    }
  }

  absl::StatusOr<std::string> actions = ReadFile("/proc/sys/kernel/seccomp/actions_avail");
  if (actions.ok()) {
    const bool ok = absl::StrContains(*actions, "kill_process");
    checks.push_back(
        {"seccomp", ok,
         ok ? absl::StrCat("seccomp filters available (", absl::StripAsciiWhitespace(*actions), ")")
            : "the kernel cannot kill a process from a seccomp filter; use Linux 4.14 or newer"});
  } else if (absl::StrContains(ReadFile("/proc/self/status").value_or(""), "Seccomp:")) {
    checks.push_back(
        {"seccomp", true, "seccomp available (actions not listed; Linux 4.14 or newer is needed)"});
  } else {
    checks.push_back(
        {"seccomp", false, "the kernel has no seccomp; use one built with CONFIG_SECCOMP_FILTER"});
  }
  return checks;
}

}  // namespace spoor
