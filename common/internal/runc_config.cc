#include "common/internal/runc_config.h"

#include <sched.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/internal/child_process.h"

namespace spoor::internal {
namespace {

using Json = nlohmann::json;

constexpr int64_t kNobody = 65534;
constexpr int64_t kMaxOpenFiles = 256;
constexpr size_t kMaxIdLength = 128;

bool IsSameOrUnder(absl::string_view path, absl::string_view dir) {
  return path == dir || absl::StartsWith(path, absl::StrCat(dir, "/"));
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

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

Json Mount(const char* destination, const char* type, const char* source,
           std::vector<std::string> options) {
  return {{"destination", destination},
          {"type", type},
          {"source", source},
          {"options", std::move(options)}};
}

Json Rlimit(const char* type, int64_t soft, int64_t hard) {
  return {{"type", type}, {"soft", soft}, {"hard", hard}};
}

}  // namespace

bool IsCleanAbsolutePath(absl::string_view path) {
  if (path.empty() || path[0] != '/' || absl::StrContains(path, '\0')) return false;
  if (path == "/") return true;
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
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

}  // namespace spoor::internal
