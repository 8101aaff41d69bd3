// The program common/runc_sandbox_test.cc runs inside containers, linked
// statically so the test's root filesystem holds nothing else. The first
// argument picks what it does; checks exit 0 when the sandbox behaved as
// expected and print every deviation otherwise.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures = 0;

static void Expect(int ok, const char* what) {
  if (!ok) {
    printf("FAILED: %s\n", what);
    ++failures;
  }
}

// A file can be created for writing at `path`.
static int CanCreate(const char* path) {
  FILE* f = fopen(path, "w");
  if (f == NULL) {
    printf("cannot create %s: %s\n", path, strerror(errno));
    return 0;
  }
  fclose(f);
  return 1;
}

// Reads /data/input.txt (read-only mount), writes /io/output.txt (writable
// mount); the read-only mount, the rootfs and /proc/sys stay unwritable.
static int Files(void) {
  char input[256] = {0};
  FILE* in = fopen("/data/input.txt", "r");
  Expect(in != NULL, "open /data/input.txt");
  if (in != NULL) {
    Expect(fgets(input, sizeof(input), in) != NULL, "read /data/input.txt");
    fclose(in);
  }
  FILE* out = fopen("/io/output.txt", "w");
  Expect(out != NULL, "create /io/output.txt");
  if (out != NULL) {
    fprintf(out, "read: %s", input);
    Expect(fclose(out) == 0, "write /io/output.txt");
  }
  Expect(!CanCreate("/data/new.txt"), "/data is read-only");
  Expect(!CanCreate("/data/input.txt"), "/data/input.txt is read-only");
  Expect(!CanCreate("/new.txt"), "the rootfs is read-only");
  Expect(!CanCreate("/etc/new.txt"), "/etc is read-only");
  Expect(CanCreate("/tmp/scratch.txt"), "/tmp is writable");
  return failures;
}

// The value of `key` (e.g. "CapEff:") in /proc/self/status, or "".
static const char* StatusField(const char* key) {
  static char value[128];
  char line[256];
  value[0] = '\0';
  FILE* f = fopen("/proc/self/status", "r");
  if (f == NULL) return value;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, key, strlen(key)) == 0) {
      const char* v = line + strlen(key);
      while (*v == ' ' || *v == '\t') ++v;
      snprintf(value, sizeof(value), "%s", v);
      value[strcspn(value, "\n")] = '\0';
    }
  }
  fclose(f);
  return value;
}

static int Identity(void) {
  Expect(getuid() == 65534 && geteuid() == 65534, "uid is 65534");
  Expect(getgid() == 65534 && getegid() == 65534, "gid is 65534");
  const char* zero = "0000000000000000";
  const char* sets[] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
  for (int i = 0; i < 5; ++i) {
    const char* value = StatusField(sets[i]);
    if (strcmp(value, zero) != 0) printf("%s %s\n", sets[i], value);
    Expect(strcmp(value, zero) == 0, sets[i]);
  }
  Expect(strcmp(StatusField("NoNewPrivs:"), "1") == 0, "NoNewPrivs is 1");
  Expect(strcmp(StatusField("Seccomp:"), "2") == 0, "Seccomp is 2 (filter)");
  Expect(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "PR_GET_NO_NEW_PRIVS");
  char host[64] = {0};
  gethostname(host, sizeof(host) - 1);
  Expect(strcmp(host, "spoor-sandbox") == 0, "hostname is spoor-sandbox");
  Expect(getpid() == 1, "pid 1 in a new pid namespace");
  return failures;
}

// Only loopback in /proc/net/dev and /sys/class/net.
static int NetDevices(void) {
  char line[512];
  int devices = 0;
  FILE* f = fopen("/proc/net/dev", "r");
  Expect(f != NULL, "open /proc/net/dev");
  if (f != NULL) {
    for (int n = 0; fgets(line, sizeof(line), f) != NULL; ++n) {
      if (n < 2) continue;  // headers
      char name[64];
      if (sscanf(line, " %63[^:]:", name) != 1) continue;
      printf("/proc/net/dev: %s\n", name);
      Expect(strcmp(name, "lo") == 0, "only lo in /proc/net/dev");
      ++devices;
    }
    fclose(f);
  }
  Expect(devices == 1, "one device in /proc/net/dev");
  DIR* dir = opendir("/sys/class/net");
  Expect(dir != NULL, "open /sys/class/net");
  if (dir != NULL) {
    for (struct dirent* e; (e = readdir(dir)) != NULL;) {
      if (e->d_name[0] == '.') continue;
      printf("/sys/class/net: %s\n", e->d_name);
      Expect(strcmp(e->d_name, "lo") == 0, "only lo in /sys/class/net");
    }
    closedir(dir);
  }
  return failures;
}

// Tries to reach `address`:`port` over TCP; the socket call should kill us.
static int Connect(int family, const char* address, int port) {
  int fd = socket(family, SOCK_STREAM, 0);
  printf("socket(%d) returned %d (errno %d): the filter let it through\n", family, fd, errno);
  if (fd >= 0 && family == AF_INET) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, address, &sa.sin_addr);
    int rc = connect(fd, (struct sockaddr*)&sa, sizeof(sa));
    printf("connect returned %d (errno %d)\n", rc, errno);
  }
  return 0;
}

static int Errno(long rc, int expected, const char* what) {
  int ok = rc == -1 && errno == expected;
  if (!ok) printf("%s: rc %ld errno %d, want errno %d\n", what, rc, errno, expected);
  Expect(ok, what);
  return ok;
}

static void* Thread(void* arg) { return arg; }

// The filter denies what it should and leaves ordinary calls alone.
static int Seccomp(void) {
  int pair[2];
  Expect(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0, "socketpair(AF_UNIX) works");
  int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  Expect(nl >= 0, "socket(AF_NETLINK) works");
  Errno(socket(40 /*AF_VSOCK*/, SOCK_STREAM, 0), EPERM, "socket(AF_VSOCK)");
  Errno(socket(38 /*AF_ALG*/, SOCK_SEQPACKET, 0), EPERM, "socket(AF_ALG)");
  Errno(unshare(CLONE_NEWUSER), EPERM, "unshare(CLONE_NEWUSER)");
  Errno(mount("none", "/tmp", "tmpfs", 0, NULL), EPERM, "mount");
  Errno(umount2("/tmp", MNT_DETACH), EPERM, "umount2");
  Errno(ptrace(PTRACE_TRACEME, 0, NULL, NULL), EPERM, "ptrace");
  Errno(syscall(SYS_bpf, 0, NULL, 0), EPERM, "bpf");
  Errno(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM, "perf_event_open");
  Errno(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM, "keyctl");
  Errno(syscall(SYS_userfaultfd, 0), EPERM, "userfaultfd");
  Errno(syscall(SYS_io_uring_setup, 1, NULL), EPERM, "io_uring_setup");
  Errno(syscall(SYS_setns, 0, 0), EPERM, "setns");
  Errno(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0), EPERM, "clone(CLONE_NEWNET)");
  Errno(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM, "clone(CLONE_NEWUSER)");
  Errno(syscall(SYS_clone3, NULL, 0), ENOSYS, "clone3");
  Errno(personality(ADDR_NO_RANDOMIZE), EPERM, "personality(ADDR_NO_RANDOMIZE)");
  Expect(personality(PER_LINUX) != -1, "personality(PER_LINUX) works");
  pthread_t thread;
  Expect(pthread_create(&thread, NULL, Thread, NULL) == 0 && pthread_join(thread, NULL) == 0,
         "threads work");
  pid_t child = fork();
  if (child == 0) _exit(7);
  int status = 0;
  Expect(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
             WEXITSTATUS(status) == 7,
         "fork works");
  return failures;
}

// Allocates and touches `mib` MiB.
static int Hog(long mib) {
  const size_t chunk = 1 << 20;
  for (long i = 0; i < mib; ++i) {
    char* p = malloc(chunk);
    if (p == NULL) return 2;
    memset(p, 1, chunk);
  }
  printf("allocated %ld MiB\n", mib);
  return 0;
}

// Forks forever and keeps every child alive, retrying refused forks.
static _Noreturn void ForkBomb(void) {
  for (;;) {
    if (fork() < 0) usleep(1000);
  }
}

static int Spew(long bytes) {
  char line[1024];
  memset(line, 'x', sizeof(line) - 1);
  line[sizeof(line) - 1] = '\n';
  for (long written = 0; written < bytes; written += sizeof(line)) {
    if (fwrite(line, 1, sizeof(line), stdout) != sizeof(line)) return 2;
  }
  return fflush(stdout) == 0 ? 0 : 2;
}

static int WriteFile(const char* path, long bytes) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 2;
  char block[4096];
  memset(block, 'y', sizeof(block));
  for (long written = 0; written < bytes; written += sizeof(block)) {
    if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) return 3;
  }
  return close(fd) == 0 ? 0 : 4;
}

// A minimal init with tini's conventions: runs argv as its child, reaps
// every zombie, exits with the child's code or 128 + the signal that killed it.
static int Init(char** argv) {
  pid_t child = fork();
  if (child == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  if (child < 0) return 126;
  for (;;) {
    int status = 0;
    pid_t pid = wait(&status);
    if (pid < 0 && errno != EINTR) return 125;
    if (pid != child) continue;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "--") == 0 && argc > 2) return Init(argv + 2);
  if (strcmp(mode, "hello") == 0) {
    printf("hello from the sandbox\n");
    fprintf(stderr, "and hello on stderr\n");
    return 0;
  }
  if (strcmp(mode, "exit") == 0 && argc > 2) return atoi(argv[2]);
  if (strcmp(mode, "files") == 0) return Files();
  if (strcmp(mode, "identity") == 0) return Identity();
  if (strcmp(mode, "netdev") == 0) return NetDevices();
  if (strcmp(mode, "connect") == 0 && argc > 3) return Connect(AF_INET, argv[2], atoi(argv[3]));
  if (strcmp(mode, "socket6") == 0) return Connect(AF_INET6, "", 0);
  if (strcmp(mode, "packet") == 0) return Connect(AF_PACKET, "", 0);
  if (strcmp(mode, "seccomp") == 0) return Seccomp();
  if (strcmp(mode, "hog") == 0 && argc > 2) return Hog(atol(argv[2]));
  if (strcmp(mode, "forkbomb") == 0) ForkBomb();
  if (strcmp(mode, "sleep") == 0) {
    for (;;) pause();
  }
  if (strcmp(mode, "spew") == 0 && argc > 2) return Spew(atol(argv[2]));
  if (strcmp(mode, "cpu") == 0) {
    for (volatile unsigned long i = 0;; ++i) {
    }
  }
  if (strcmp(mode, "fsize") == 0 && argc > 2) return WriteFile("/tmp/big", atol(argv[2]));
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "cat") == 0 && argc > 2) {
    FILE* f = fopen(argv[2], "r");
    if (f == NULL) return 2;
    for (int c; (c = getc(f)) != EOF;) putchar(c);
    return 0;
  }
#if defined(__x86_64__)
  if (strcmp(mode, "int80") == 0) {
    // getpid through the i386 system call entry.
    long rc = 20;
    __asm__ volatile("int $0x80" : "+a"(rc) : : "memory");
    printf("i386 getpid returned %ld: the filter let it through\n", rc);
    return 0;
  }
#endif
  fprintf(stderr,
          "usage: %s -- PROGRAM ARGS (init)|hello|exit N|files|identity|netdev|connect ADDR "
          "PORT|socket6|"
          "packet|seccomp|hog MIB|forkbomb|sleep|spew BYTES|cpu|fsize BYTES|abort|int80|cat FILE\n",
          argv[0]);
  return 64;
}
