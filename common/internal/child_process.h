// Child-process plumbing for the runc sandbox (common/runc_sandbox.cc): owned
// file descriptors, non-blocking pipes, spawning and reaping a child, waiting
// on and draining its output, and running a short command to completion. Not
// a public API: include only from common/.
#ifndef SPOOR_COMMON_INTERNAL_CHILD_PROCESS_H_
#define SPOOR_COMMON_INTERNAL_CHILD_PROCESS_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace spoor::internal {

// The whole environment of a spawned child, and the PATH a container gets
// when its run names none.
inline constexpr char kDefaultPathEnv[] =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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
absl::StatusOr<std::pair<ScopedFd, ScopedFd>> MakePipe();

// A spawned child; the destructor kills and reaps it if it is still there.
class ChildProcess {
 public:
  // Starts argv[0] (a path) with stdin from /dev/null, stdout and stderr to
  // `output_fd`, default signal handling, its own process group and only a
  // default PATH in its environment.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                             int output_fd);

  ~ChildProcess();

  int pidfd() const { return pidfd_.get(); }
  bool reaped() const { return reaped_; }
  // The waitpid status; nullopt if someone else reaped the child (SIGCHLD
  // ignored process-wide).
  std::optional<int> wait_status() const { return wait_status_; }

  // Reaps the child if it has exited; true once reaped.
  bool TryReap();

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
void WaitForEvent(int pipe_fd, int pidfd, bool poll_child, absl::Time deadline);

// Reads what the non-blocking `fd` holds now (bounded, so callers stay
// responsive under a flood); false at end of file or on an error.
bool DrainPipe(int fd, absl::FunctionRef<void(const char*, size_t)> sink);

struct CommandResult {
  int wait_status = 0;
  std::string output;  // stdout and stderr, first 16 KiB
  bool succeeded() const { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }
};

// Runs a short command to completion; UNAVAILABLE if it outlives `timeout`.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout);

}  // namespace spoor::internal

#endif  // SPOOR_COMMON_INTERNAL_CHILD_PROCESS_H_
