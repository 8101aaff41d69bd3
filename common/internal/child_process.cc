#include "common/internal/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "common/status.h"

namespace spoor::internal {

absl::StatusOr<std::pair<ScopedFd, ScopedFd>> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus(errno, "cannot create a pipe");
  ScopedFd read_end(fds[0]);
  ScopedFd write_end(fds[1]);
  ::fcntl(read_end.get(), F_SETFL, ::fcntl(read_end.get(), F_GETFL) | O_NONBLOCK);
  return std::make_pair(std::move(read_end), std::move(write_end));
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(
    const std::vector<std::string>& argv, int output_fd) {
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
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
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

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

bool ChildProcess::TryReap() {
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

}  // namespace spoor::internal
