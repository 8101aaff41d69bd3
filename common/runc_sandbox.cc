#include "common/runc_sandbox.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
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
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

using Json = nlohmann::json;

constexpr char kDefaultPathEnv[] =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr const char* kRuncFallbackDirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                             "/usr/bin",        "/sbin",          "/bin"};
constexpr char kConfigName[] = "config.json";
constexpr char kRuncLogName[] = "runc.log";
constexpr char kCgroupParent[] = "/spoor";
constexpr char kHostname[] = "spoor-sandbox";
constexpr char kInitPath[] = "/dev/spoor-init";
constexpr char kTruncationNote[] = "\n[log truncated]\n";
constexpr int64_t kNobody = 65534;
constexpr int64_t kMaxOpenFiles = 256;
constexpr int64_t kCpuShares = 1024;
constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxRuncMessage = 300;
// How long runc's own short commands (kill, delete, --version) may take.
constexpr absl::Duration kRuncCommandTimeout = absl::Seconds(30);
// After `runc kill`, how long `runc run` gets to notice before it is killed.
constexpr absl::Duration kKillGrace = absl::Seconds(3);
// After the container is deleted, how long to wait for the log pipe to close.
constexpr absl::Duration kDrainGrace = absl::Milliseconds(500);

// ---------------------------------------------------------------------------
// Validation.

bool IsCleanAbsolutePath(absl::string_view path) {
  if (path.empty() || path[0] != '/' || absl::StrContains(path, '\0')) return false;
  if (path == "/") return true;
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

bool IsSameOrUnder(absl::string_view path, absl::string_view dir) {
  return path == dir || absl::StartsWith(path, absl::StrCat(dir, "/"));
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

absl::Status ValidateLimits(const SandboxLimits& limits) {
  if (limits.memory_bytes <= 0 || limits.max_processes <= 0 || limits.max_file_bytes <= 0 ||
      limits.cpu_seconds <= 0 || limits.max_log_bytes < 0 ||
      limits.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sandbox limits must be positive");
  }
  return absl::OkStatus();
}

absl::Status ValidateRun(const SandboxRun& run) {
  if (!IsValidId(run.id)) {
    return absl::InvalidArgumentError(absl::StrCat("container id \"", run.id, "\" must be 1-",
                                                   kMaxIdLength, " characters of [A-Za-z0-9_.-]"));
  }
  if (!IsCleanAbsolutePath(run.rootfs) || run.rootfs == "/") {
    return absl::InvalidArgumentError(
        absl::StrCat("rootfs \"", run.rootfs, "\" must be a clean absolute path other than /"));
  }
  if (run.args.empty()) return absl::InvalidArgumentError("no program to run (args is empty)");
  for (size_t i = 0; i < run.env.size(); ++i) {
    const size_t eq = run.env[i].find('=');
    if (eq == 0 || eq == std::string::npos || absl::StrContains(run.env[i], '\0')) {
      // The value may be secret: name the position only.
      return absl::InvalidArgumentError(absl::StrCat("env entry ", i, " is not KEY=VALUE"));
    }
  }
  if (!IsCleanAbsolutePath(run.cwd)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cwd \"", run.cwd, "\" must be a clean absolute path"));
  }
  for (const SandboxMount& mount : run.mounts) {
    if (!IsCleanAbsolutePath(mount.source)) {
      return absl::InvalidArgumentError(
          absl::StrCat("mount source \"", mount.source, "\" must be a clean absolute path"));
    }
    if (!IsCleanAbsolutePath(mount.destination) || mount.destination == "/" ||
        IsSameOrUnder(mount.destination, "/proc") || IsSameOrUnder(mount.destination, "/sys") ||
        IsSameOrUnder(mount.destination, "/dev")) {
      return absl::InvalidArgumentError(
          absl::StrCat("mount destination \"", mount.destination,
                       "\" must be a clean absolute path outside /, /proc, /sys and /dev"));
    }
  }
  if (!IsCleanAbsolutePath(run.bundle_dir) || run.bundle_dir == "/") {
    return absl::InvalidArgumentError(absl::StrCat(
        "bundle dir \"", run.bundle_dir, "\" must be a clean absolute path other than /"));
  }
  if (run.log_path.empty()) return absl::InvalidArgumentError("log path is empty");
  return absl::OkStatus();
}

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
// The OCI runtime config.

Json ArgEquals(uint64_t value) { return {{"index", 0}, {"value", value}, {"op", "SCMP_CMP_EQ"}}; }

// Matches when all of `bits` are set in argument 0. For MASKED_EQ, runc
// passes "value" as the mask and "valueTwo" as the datum.
Json ArgHasBits(uint64_t bits) {
  return {{"index", 0}, {"value", bits}, {"valueTwo", bits}, {"op", "SCMP_CMP_MASKED_EQ"}};
}

Json SyscallRule(std::vector<std::string> names, const char* action, int errno_ret,
                 std::optional<Json> arg = std::nullopt) {
  Json rule = {{"names", std::move(names)}, {"action", action}};
  if (errno_ret != 0) rule["errnoRet"] = errno_ret;
  if (arg.has_value()) rule["args"] = Json::array({*std::move(arg)});
  return rule;
}

// Calls that administer the kernel or escape the sandbox, after Docker's
// default profile (moby/profiles/seccomp/default.json): they fail with EPERM.
// Names unknown on the host architecture are skipped by runc.
constexpr char kDeniedSyscalls[] =
    "_sysctl acct add_key bpf chroot clock_adjtime clock_settime create_module delete_module "
    "fanotify_init finit_module fsconfig fsmount fsopen fspick get_kernel_syms init_module "
    "io_uring_enter io_uring_register io_uring_setup ioperm iopl kcmp kexec_file_load kexec_load "
    "keyctl lookup_dcookie mount mount_setattr move_mount name_to_handle_at nfsservctl "
    "open_by_handle_at open_tree perf_event_open pivot_root process_vm_readv process_vm_writev "
    "ptrace query_module quotactl quotactl_fd reboot request_key setdomainname sethostname setns "
    "settimeofday stime swapoff swapon sysfs syslog umount umount2 unshare uselib userfaultfd "
    "ustat vhangup vm86 vm86old";
// Network families: opening such a socket kills the process (SIGSYS), so a
// network attempt is reported as kForbiddenSyscall instead of a vague error.
constexpr uint64_t kNetworkFamilies[] = {AF_INET, AF_INET6, AF_PACKET};
// Rarely used families with a history of kernel bugs: EPERM. AF_UNIX and
// AF_NETLINK stay allowed (glibc uses netlink, e.g. in getifaddrs).
constexpr uint64_t kDeniedFamilies[] = {
    AF_AX25, AF_IPX,       AF_APPLETALK, AF_NETROM,  AF_X25,        AF_ROSE, AF_DECnet,
    AF_KEY,  AF_RDS,       AF_PPPOX,     AF_LLC,     AF_IB,         AF_MPLS, AF_CAN,
    AF_TIPC, AF_BLUETOOTH, AF_ISDN,      AF_PHONET,  AF_IEEE802154, AF_CAIF, AF_ALG,
    AF_NFC,  AF_VSOCK,     AF_KCM,       AF_QIPCRTR, AF_SMC,        AF_XDP,  AF_MCTP};
// clone() flags that create namespaces (CLONE_NEWTIME only exists for clone3).
constexpr uint64_t kNamespaceCloneFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS,
                                             CLONE_NEWIPC, CLONE_NEWUSER,   CLONE_NEWPID,
                                             CLONE_NEWNET};
// personality() flags beyond the default execution domain. A filter cannot
// say "any value but these", so each flag is denied on its own, which denies
// the 0xffffffff query too.
constexpr uint64_t kPersonalityFlags[] = {
    ADDR_NO_RANDOMIZE, FDPIC_FUNCPTRS, MMAP_PAGE_ZERO, ADDR_COMPAT_LAYOUT, READ_IMPLIES_EXEC,
    ADDR_LIMIT_32BIT,  SHORT_INODE,    WHOLE_SECONDS,  STICKY_TIMEOUTS,    ADDR_LIMIT_3GB};

Json SeccompProfile() {
  Json syscalls = Json::array();
  syscalls.push_back(SyscallRule(absl::StrSplit(kDeniedSyscalls, ' '), "SCMP_ACT_ERRNO", EPERM));
  for (uint64_t family : kNetworkFamilies) {
    syscalls.push_back(
        SyscallRule({"socket", "socketpair"}, "SCMP_ACT_KILL_PROCESS", 0, ArgEquals(family)));
  }
  for (uint64_t family : kDeniedFamilies) {
    syscalls.push_back(
        SyscallRule({"socket", "socketpair"}, "SCMP_ACT_ERRNO", EPERM, ArgEquals(family)));
  }
  for (uint64_t flag : kNamespaceCloneFlags) {
    syscalls.push_back(SyscallRule({"clone"}, "SCMP_ACT_ERRNO", EPERM, ArgHasBits(flag)));
  }
  // clone3 passes its flags in memory a filter cannot read: ENOSYS makes
  // glibc fall back to clone, which is filtered above (as Docker does).
  syscalls.push_back(SyscallRule({"clone3"}, "SCMP_ACT_ERRNO", ENOSYS));
  for (uint64_t flag : kPersonalityFlags) {
    syscalls.push_back(SyscallRule({"personality"}, "SCMP_ACT_ERRNO", EPERM, ArgHasBits(flag)));
  }
  // 32-bit x86 (SCMP_ARCH_X86) is left out on purpose: there, socket() is
  // multiplexed through socketcall(), whose arguments a filter cannot read,
  // so libseccomp would have to kill every socket (AF_UNIX too) and refuses
  // to combine that with the EPERM rules. Left out, any i386 system call
  // (a 32-bit program, or int 0x80 from a 64-bit one) kills the process.
  return {{"defaultAction", "SCMP_ACT_ALLOW"},
          {"architectures",
           {"SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}},
          {"syscalls", std::move(syscalls)}};
}

Json Mount(const char* destination, const char* type, const char* source,
           std::vector<std::string> options) {
  return {{"destination", destination},
          {"type", type},
          {"source", source},
          {"options", std::move(options)}};
}

Json Mounts(const SandboxRun& run) {
  Json mounts = Json::array({
      Mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      Mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=64k"}),
      Mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
      Mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=16m"}),
      Mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      Mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      // The container's own cgroup, read-only: runtimes such as the JVM size
      // their heaps from it.
      Mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
      // tmpfs pages are charged to the container's memory cgroup as well.
      Mount("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777", "size=64m"}),
  });
  for (const SandboxMount& m : run.mounts) {
    // "rro" makes submounts of a read-only source read-only too.
    mounts.push_back(
        {{"destination", m.destination},
         {"type", "bind"},
         {"source", m.source},
         {"options",
          {"rbind", "rprivate", "nosuid", "nodev", "noexec", m.writable ? "rw" : "rro"}}});
  }
  return mounts;
}

Json Rlimit(const char* type, int64_t soft, int64_t hard) {
  return {{"type", type}, {"soft", soft}, {"hard", hard}};
}

Json Process(const SandboxRun& run, const SandboxLimits& limits) {
  std::vector<std::string> env = run.env;
  if (std::none_of(env.begin(), env.end(),
                   [](const std::string& e) { return absl::StartsWith(e, "PATH="); })) {
    env.push_back(kDefaultPathEnv);
  }
  const Json no_capabilities = Json::array();
  return {
      {"terminal", false},
      {"user", {{"uid", kNobody}, {"gid", kNobody}}},
      {"args", run.args},
      {"env", std::move(env)},
      {"cwd", run.cwd},
      {"capabilities",
       {{"bounding", no_capabilities},
        {"effective", no_capabilities},
        {"permitted", no_capabilities},
        {"inheritable", no_capabilities},
        {"ambient", no_capabilities}}},
      {"rlimits",
       {Rlimit("RLIMIT_FSIZE", limits.max_file_bytes, limits.max_file_bytes),
        // SIGXCPU at the limit; SIGKILL a second later if it is ignored.
        Rlimit("RLIMIT_CPU", limits.cpu_seconds, limits.cpu_seconds + 1),
        Rlimit("RLIMIT_NOFILE", kMaxOpenFiles, kMaxOpenFiles), Rlimit("RLIMIT_CORE", 0, 0)}},
      {"noNewPrivileges", true},
      // If the host runs out of memory, the untrusted program goes first.
      {"oomScoreAdj", 1000},
  };
}

Json Namespaces() {
  Json namespaces = Json::array();
  // A new network namespace without a path holds only loopback.
  for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
    namespaces.push_back({{"type", type}});
  }
  return namespaces;
}

std::string CgroupPathFor(const std::string& id) { return absl::StrCat(kCgroupParent, "/", id); }

// ---------------------------------------------------------------------------
// cgroups: where runc puts the container, and what the kernel counted there.

struct CgroupLayout {
  bool unified = false;                                        // cgroup v2 at /sys/fs/cgroup
  std::vector<std::pair<std::string, std::string>> v1_mounts;  // (controller, mount point)
  std::vector<std::string> v1_mount_points;                    // every v1 hierarchy
};

// mountinfo escapes blanks, tabs, newlines and backslashes as \ooo.
std::string UnescapeMountField(absl::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const absl::string_view octal = field.substr(i + 1, 3);
      if (std::all_of(octal.begin(), octal.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out.push_back(
            static_cast<char>((octal[0] - '0') * 64 + (octal[1] - '0') * 8 + (octal[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

// runc decides v1 or v2 the same way: is /sys/fs/cgroup itself cgroup2?
CgroupLayout DetectCgroupLayout() {
  CgroupLayout layout;
  struct statfs fs;
  if (::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
    layout.unified = true;
    return layout;
  }
  absl::StatusOr<std::string> mountinfo = ReadFile("/proc/self/mountinfo");
  if (!mountinfo.ok()) return layout;
  for (absl::string_view line : absl::StrSplit(*mountinfo, '\n', absl::SkipEmpty())) {
    // id parent major:minor root mount-point options [optional...] - type source super-options
    const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    if (dash[1] != "cgroup") continue;
    const std::string mount_point = UnescapeMountField(fields[4]);
    layout.v1_mount_points.push_back(mount_point);
    for (absl::string_view option : absl::StrSplit(dash[3], ',')) {
      layout.v1_mounts.emplace_back(std::string(option), mount_point);
    }
  }
  return layout;
}

// The file `name` of `cgroup_path` in the hierarchy holding `controller`,
// or "" when that controller is not mounted.
std::string CgroupFile(const CgroupLayout& layout, absl::string_view controller,
                       const std::string& cgroup_path, absl::string_view name) {
  if (layout.unified) return absl::StrCat("/sys/fs/cgroup", cgroup_path, "/", name);
  for (const auto& [found, mount_point] : layout.v1_mounts) {
    if (found == controller) return absl::StrCat(mount_point, cgroup_path, "/", name);
  }
  return "";
}

bool SwapAccountingAvailable(const CgroupLayout& layout) {
  if (layout.unified) return true;  // runc skips memory.swap.max if it is missing
  const std::string memsw = CgroupFile(layout, "memory", "", "memory.memsw.limit_in_bytes");
  return !memsw.empty() && ::access(memsw.c_str(), F_OK) == 0;
}

// The number after `key` in a file of "key value" lines, or after nothing
// when `key` is empty (a file holding one number); nullopt if there is none.
std::optional<int64_t> ReadCounter(const std::string& path, absl::string_view key = "") {
  if (path.empty()) return std::nullopt;
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    absl::string_view value = absl::StripAsciiWhitespace(line);
    if (!key.empty()) {
      if (!absl::ConsumePrefix(&value, key) || value.empty() || value[0] != ' ') continue;
      value = absl::StripAsciiWhitespace(value);
    }
    int64_t number = 0;
    if (absl::SimpleAtoi(value, &number)) return number;
  }
  return std::nullopt;
}

struct CgroupCounters {
  int64_t oom_kills = 0;        // processes the memory cgroup OOM-killed
  int64_t pids_limit_hits = 0;  // forks refused by the pids limit
  std::optional<absl::Duration> cpu_time;
};

// Must run before `runc delete`, which removes the cgroup.
CgroupCounters ReadCgroupCounters(const CgroupLayout& layout, const std::string& cgroup_path) {
  auto file = [&](absl::string_view controller, absl::string_view name) {
    return CgroupFile(layout, controller, cgroup_path, name);
  };
  CgroupCounters counters;
  counters.pids_limit_hits = ReadCounter(file("pids", "pids.events"), "max").value_or(0);
  if (layout.unified) {
    counters.oom_kills = ReadCounter(file("memory", "memory.events"), "oom_kill").value_or(0);
    if (std::optional<int64_t> usec = ReadCounter(file("cpu", "cpu.stat"), "usage_usec")) {
      counters.cpu_time = absl::Microseconds(*usec);
    }
    return counters;
  }
  if (std::optional<int64_t> kills =
          ReadCounter(file("memory", "memory.oom_control"), "oom_kill")) {
    counters.oom_kills = *kills;
  } else {
    // Kernels before 4.13 do not count OOM kills; a hit limit is the hint.
    counters.oom_kills = ReadCounter(file("memory", "memory.failcnt")).value_or(0) > 0;
  }
  if (std::optional<int64_t> nsec = ReadCounter(file("cpuacct", "cpuacct.usage"))) {
    counters.cpu_time = absl::Nanoseconds(*nsec);
  }
  return counters;
}

// ---------------------------------------------------------------------------
// Child processes.

class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd() { Reset(); }
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// A non-blocking pipe: [0] the read end, [1] the write end; both close-on-exec
// so that concurrent spawns elsewhere in the process do not inherit them.
absl::StatusOr<std::pair<ScopedFd, ScopedFd>> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus(errno, "cannot create a pipe");
  ScopedFd read_end(fds[0]);
  ScopedFd write_end(fds[1]);
  ::fcntl(read_end.get(), F_SETFL, ::fcntl(read_end.get(), F_GETFL) | O_NONBLOCK);
  return std::make_pair(std::move(read_end), std::move(write_end));
}

// A spawned child; the destructor kills and reaps it if it is still there.
class ChildProcess {
 public:
  // Starts argv[0] (a path) with stdin from /dev/null, stdout and stderr to
  // `output_fd`, default signal handling, its own process group and only a
  // default PATH in its environment.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                             int output_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, output_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, output_fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t signals;
    sigemptyset(&signals);
    posix_spawnattr_setsigmask(&attr, &signals);
    sigfillset(&signals);
    posix_spawnattr_setsigdefault(&attr, &signals);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    char* env[] = {const_cast<char*>(kDefaultPathEnv), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return ErrnoStatus(rc, absl::StrCat("cannot start ", argv[0]));
    // Without pidfds (Linux < 5.3) the waits below poll every 10 ms instead.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    return std::unique_ptr<ChildProcess>(new ChildProcess(pid, pidfd));
  }

  ~ChildProcess() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }

  int pidfd() const { return pidfd_.get(); }
  bool reaped() const { return reaped_; }
  // The waitpid status; nullopt if someone else reaped the child (SIGCHLD
  // ignored process-wide).
  std::optional<int> wait_status() const { return wait_status_; }

  // Reaps the child if it has exited; true once reaped.
  bool TryReap() {
    if (reaped_) return true;
    int status = 0;
    pid_t rc;
    do {
      rc = ::waitpid(pid_, &status, WNOHANG);
    } while (rc < 0 && errno == EINTR);
    if (rc == pid_) {
      wait_status_ = status;
      reaped_ = true;
    } else if (rc < 0) {
      reaped_ = true;  // ECHILD
    }
    return reaped_;
  }

  void Kill(int signal) {
    if (!reaped_) ::kill(pid_, signal);
  }

 private:
  ChildProcess(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}

  const pid_t pid_;
  const ScopedFd pidfd_;
  bool reaped_ = false;
  std::optional<int> wait_status_;
};

// Sleeps until `pipe_fd` is readable or closed, `pidfd` is readable (the
// child exited), or `deadline`; either fd may be -1. With pidfd -1 and a
// child to watch (`poll_child`), wakes every 10 ms to let the caller check.
void WaitForEvent(int pipe_fd, int pidfd, bool poll_child, absl::Time deadline) {
  pollfd fds[2];
  int count = 0;
  if (pipe_fd >= 0) fds[count++] = {pipe_fd, POLLIN, 0};
  if (pidfd >= 0) fds[count++] = {pidfd, POLLIN, 0};
  absl::Duration wait = std::max(deadline - absl::Now(), absl::ZeroDuration());
  if (poll_child && pidfd < 0) wait = std::min(wait, absl::Milliseconds(10));
  wait = std::min(wait, absl::Seconds(1));
  ::poll(fds, count,
         static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1)))));
}

// Reads what the non-blocking `fd` holds now (bounded, so callers stay
// responsive under a flood); false at end of file or on an error.
bool DrainPipe(int fd, absl::FunctionRef<void(const char*, size_t)> sink) {
  char buffer[64 << 10];
  for (int reads = 0; reads < 64; ++reads) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      sink(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      return false;
    } else if (errno == EAGAIN) {
      return true;
    } else if (errno != EINTR) {
      return false;
    }
  }
  return true;
}

struct CommandResult {
  int wait_status = 0;
  std::string output;  // stdout and stderr, first 16 KiB
  bool succeeded() const { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }
};

// Runs a short command to completion; UNAVAILABLE if it outlives `timeout`.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout) {
  constexpr size_t kMaxOutput = 16 << 10;
  SPOOR_ASSIGN_OR_RETURN(auto pipe, MakePipe());
  auto& [read_end, write_end] = pipe;
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> child,
                         ChildProcess::Spawn(argv, write_end.get()));
  write_end.Reset();
  CommandResult result;
  auto sink = [&](const char* data, size_t size) {
    result.output.append(data, std::min(size, kMaxOutput - result.output.size()));
  };
  const absl::Time deadline = absl::Now() + timeout;
  while (!child->TryReap() && absl::Now() < deadline) {
    WaitForEvent(read_end.get(), child->pidfd(), true, deadline);
    if (read_end.get() >= 0 && !DrainPipe(read_end.get(), sink)) read_end.Reset();
  }
  if (!child->reaped()) {
    return absl::UnavailableError(absl::StrCat(absl::StrJoin(argv, " "), " did not finish within ",
                                               absl::FormatDuration(timeout)));
  }
  if (read_end.get() >= 0) DrainPipe(read_end.get(), sink);
  if (!child->wait_status().has_value()) {
    return absl::InternalError(absl::StrCat("lost the exit status of ", argv[0]));
  }
  result.wait_status = *child->wait_status();
  return result;
}

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
