// Runs an untrusted algorithm container with runc, inside limits.
//
// The image has already been unpacked into a root filesystem directory; this
// file only writes the OCI runtime config (config.json) and drives
// `runc run`. What the sandbox gives the contained program:
//   - a read-only root filesystem, uid/gid 65534 (nobody), no capabilities,
//     no new privileges, hostname "spoor-sandbox";
//   - new pid, network (loopback only), ipc, uts, mount and cgroup
//     namespaces;
//   - /proc, a minimal /dev, read-only /sys, a 64 MiB tmpfs /tmp (its pages
//     count against the memory limit; runc gives it the mode of the image's
//     /tmp, normally 1777), and the caller's bind mounts (read-only unless
//     marked writable; never executable, setuid or device nodes);
//   - cgroup limits on memory (no swap) and processes, rlimits on CPU time,
//     file size and open files, and no core dumps;
//   - a seccomp filter: kernel-administration calls (mount, ptrace, bpf,
//     unshare, namespace flags to clone, io_uring, ...) fail with EPERM, and
//     opening an IPv4, IPv6 or packet socket kills the process with SIGSYS,
//     so a network attempt shows up as kForbiddenSyscall. 32-bit x86 system
//     calls are not in the filter's architectures and kill the process too
//     (i386 programs cannot run).
// MakeRuncConfig shows the exact config; RuncSandbox::Run documents how an
// outcome is decided.
#ifndef SPOOR_COMMON_RUNC_SANDBOX_H_
#define SPOOR_COMMON_RUNC_SANDBOX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace spoor {

// Resource limits for one container run. All values must be positive.
struct SandboxLimits {
  // cgroup memory limit; swap is limited to the same value, i.e. no swap.
  int64_t memory_bytes = int64_t{512} << 20;
  // cgroup pids limit: processes and threads together.
  int64_t max_processes = 32;
  // RLIMIT_FSIZE: largest file any process may write (SIGXFSZ beyond).
  int64_t max_file_bytes = int64_t{256} << 20;
  // RLIMIT_CPU per process: SIGXCPU at this many CPU seconds, SIGKILL one
  // second later.
  int64_t cpu_seconds = 60;
  // Wall-clock limit counted from the start of `runc run`; the container is
  // killed when it passes.
  absl::Duration timeout = absl::Seconds(60);
  // Bytes of stdout+stderr kept in the log; the rest is read and dropped.
  int64_t max_log_bytes = 256 << 10;
};

// A host directory (or file) bind-mounted into the container.
struct SandboxMount {
  std::string source;       // absolute host path; must exist
  std::string destination;  // absolute path inside the container
  bool writable = false;    // read-only (recursively) unless set
};

// One run of a program in a container.
struct SandboxRun {
  // Container id, unique among concurrent runs on this host: 1-128 chars of
  // [A-Za-z0-9_.-], not "." or "..". Also names the cgroup "/spoor/<id>".
  std::string id;
  // Absolute path of the unpacked root filesystem; mounted read-only. runc
  // creates missing mount points (/proc, /dev, ...) in it.
  std::string rootfs;
  // argv inside the container; args[0] is resolved inside the rootfs.
  std::vector<std::string> args;
  // KEY=VALUE entries; a default PATH is added when none is given.
  std::vector<std::string> env;
  // Absolute working directory inside the container.
  std::string cwd = "/";
  std::vector<SandboxMount> mounts;
  // Absolute path of the directory config.json is written to. Created for
  // the run (its parent must exist) and removed afterwards. If it already
  // exists it may hold only files a previous run left (config.json,
  // runc.log).
  std::string bundle_dir;
  // Where stdout and stderr of the container go, interleaved, capped at
  // SandboxLimits::max_log_bytes; "\n[log truncated]\n" is appended when the
  // cap was reached. Created or truncated, mode 0640.
  std::string log_path;
};

// How a run ended. Exactly one applies; see RuncSandbox::Run for the rules.
enum class SandboxOutcome {
  kExited,            // the program exited on its own (any exit code)
  kTimedOut,          // still running at the timeout; killed by us
  kMemoryLimit,       // the memory cgroup OOM-killed it
  kProcessLimit,      // hit the pids limit, then failed, was killed or timed out
  kForbiddenSyscall,  // killed by the seccomp filter (SIGSYS): network access
  kCpuLimit,          // ran out of CPU time (SIGXCPU, or SIGKILL at the limit)
  kFileSizeLimit,     // wrote past RLIMIT_FSIZE (SIGXFSZ)
  kSignalled,         // killed by another signal (crash, abort, ...)
};

struct SandboxResult {
  SandboxOutcome outcome = SandboxOutcome::kExited;
  // The container's exit status as runc reports it: the program's exit code,
  // or 128 + signal when it was killed by a signal.
  int exit_code = 0;
  // The signal that ended the program, or 0 when it exited on its own. A
  // program that calls exit(128 + n) is indistinguishable from one killed by
  // signal n (runc reports both the same way).
  int signal = 0;
  // Wall-clock time from starting runc to the container's end, runc's own
  // start-up (tens of milliseconds) included.
  absl::Duration elapsed;
  // True when output beyond max_log_bytes was dropped.
  bool log_truncated = false;
};

// "kExited", "kTimedOut", ...: for logs and test messages.
const char* SandboxOutcomeName(SandboxOutcome outcome);

// One sentence for an operator or researcher, no trailing period, e.g.
// "the container exceeded its memory limit (512 MiB) and was killed",
// "the container ran past its timeout (60 s) and was killed",
// "the container exited with code 3".
std::string DescribeOutcome(const SandboxResult& result, const SandboxLimits& limits);

// Runs containers with runc, one call per container. Thread-safe: several
// Run calls may proceed at once provided their ids (and bundle dirs) differ.
// Requires root (rootless runc is not supported).
//
// PID 1: without an init the program is PID 1 of its pid namespace, and the
// kernel drops signals PID 1 has no handler for, even the kernel's own: it
// does not die of SIGXFSZ (its write fails with EFBIG instead, so a file-size
// overrun shows as whatever exit code the program then chooses), of SIGXCPU
// (it runs on to RLIMIT_CPU's hard limit, one second later, and is killed
// with SIGKILL: still kCpuLimit), or of abort()'s SIGABRT (glibc then
// crashes with SIGSEGV). Zombies it does not reap count against the process
// limit. With an init (e.g. Debian's /usr/bin/tini-static) the program runs
// as its child and all of these behave as outside a container.
class RuncSandbox {
 public:
  // `runc`: the runc binary, a path or a name looked up in PATH and then in
  // /usr/local/sbin, /usr/sbin, /sbin, /usr/bin ("runc" usually). It is
  // resolved on every Run, so installing runc later needs no restart.
  // `state_root`: passed as `runc --root`; created (mode 0700) on first Run.
  // `init`: "" or the absolute host path of a statically linked init with
  // tini's conventions (`INIT -- PROGRAM ARGS...`, exits with the program's
  // exit code or 128 + the signal that killed it); see RuncConfigOptions.
  RuncSandbox(std::string runc, std::string state_root, SandboxLimits limits,
              std::string init = "");

  // Runs `run` to completion, or until a limit stops it, and returns how it
  // ended. Anything the contained program does (exit codes, crashes, limits,
  // forbidden calls) is a SandboxResult, never an error. Errors:
  //   INVALID_ARGUMENT     `run` is malformed (id, paths, env, empty args);
  //   FAILED_PRECONDITION  runc is missing, we are not root, the rootfs or a
  //                        mount source is missing, the bundle dir holds
  //                        foreign files, or runc failed to start the
  //                        container (message: runc's own error, shortened,
  //                        e.g. a missing executable);
  //   UNAVAILABLE          runc died while the container ran (retryable);
  //   other codes          the log file or bundle dir could not be written.
  //
  // The outcome, from runc's exit status (the program's exit code, or 128 +
  // signal) and the container's cgroup counters, read before deletion:
  //   killed by our timeout        kProcessLimit if the pids limit refused a
  //                                fork, else kTimedOut;
  //   SIGKILL + an OOM kill        kMemoryLimit;
  //   SIGSYS                       kForbiddenSyscall (the seccomp filter);
  //   SIGXCPU / SIGXFSZ            kCpuLimit / kFileSizeLimit;
  //   failed + refused forks       kProcessLimit;
  //   failed + an OOM kill         kMemoryLimit (a child was OOM-killed);
  //   SIGKILL + cgroup CPU time    kCpuLimit (RLIMIT_CPU's hard limit);
  //     at least cpu_seconds
  //   other signals                kSignalled; otherwise kExited.
  // ("failed" is any non-zero exit status.)
  //
  // Before the run, a leftover container with the same id (from a crash) is
  // deleted. Afterwards, on every path, the container, its cgroup and the
  // bundle dir are gone; the log file stays. Blocks for at most about the
  // timeout plus a few seconds of clean-up.
  absl::StatusOr<SandboxResult> Run(const SandboxRun& run) const;

  const SandboxLimits& limits() const { return limits_; }

 private:
  std::string runc_;
  std::string state_root_;
  SandboxLimits limits_;
  std::string init_;
};

// What MakeRuncConfig needs to know beyond the run and its limits.
struct RuncConfigOptions {
  // Also limit memory+swap (to the memory limit, i.e. no swap). False on
  // cgroup v1 hosts without swap accounting, where runc would fail.
  bool limit_swap = true;
  // "" or the host path of an init (see RuncSandbox): bind-mounted read-only
  // at /dev/spoor-init and run as `/dev/spoor-init -- args...`.
  std::string init;
};

// The OCI runtime config (config.json text, ociVersion 1.0.2) RuncSandbox::Run
// writes for `run`: exposed so tests and `spoor node doctor` can show it.
// INVALID_ARGUMENT when `run`, `limits` or the init path is malformed. Looks
// at no file; thread-safe.
absl::StatusOr<std::string> MakeRuncConfig(const SandboxRun& run, const SandboxLimits& limits,
                                           const RuncConfigOptions& options = {});

// Resolves `runc` as RuncSandbox does: `runc` itself if it holds a "/",
// else the first executable of that name in PATH's absolute entries and the
// fallback directories; FAILED_PRECONDITION saying what to install if none.
absl::StatusOr<std::string> FindRunc(const std::string& runc);

// One line of `spoor node doctor`.
struct SandboxCheck {
  std::string name;  // "runc", "root", "namespaces", "cgroup memory", ...
  bool ok = false;
  std::string detail;  // what was found, or what to fix
};

// Checks that this host can run sandboxes: runc found and `runc --version`
// runs; running as root; user, pid, net, mount, ipc, uts and cgroup
// namespaces available; cgroup memory and pids controllers available (v1 or
// v2); seccomp filtering with kill-process available. Never fails; each
// check says what is missing. Runs `runc --version`; thread-safe.
std::vector<SandboxCheck> CheckSandboxHost(const std::string& runc);

}  // namespace spoor

#endif  // SPOOR_COMMON_RUNC_SANDBOX_H_
