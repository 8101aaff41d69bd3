#include "common/container_runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "common/status.h"

namespace spoor {
namespace {

// The sandbox runs the program as nobody.
constexpr uid_t kSandboxUid = 65534;

std::string NewRunId() {
  static thread_local std::mt19937_64 random(std::random_device{}());
  return absl::StrCat(absl::FormatTime("%Y%m%dT%H%M%S", absl::Now(), absl::UTCTimeZone()), "-",
                      absl::StrFormat("%08x", static_cast<uint32_t>(random())));
}

bool ValidRunId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
  }
  return true;
}

absl::Status MakeDirectory(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("create ", path));
  }
  if (::chmod(path.c_str(), mode) != 0) return ErrnoStatus(errno, absl::StrCat("chmod ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ContainerImage> PrepareContainerImage(const std::string& cache_dir,
                                                     const OciImage& image,
                                                     const ResolvedImage& resolved) {
  SPOOR_RETURN_IF_ERROR(CheckDigest(resolved.manifest_digest));
  std::error_code error;
  std::filesystem::path root = std::filesystem::absolute(cache_dir, error);
  std::filesystem::path dir = root / resolved.manifest_digest.substr(7);
  ContainerImage prepared{resolved.manifest_digest, (dir / "rootfs").string(), resolved.entrypoint,
                          resolved.env};
  if (prepared.entrypoint.empty()) {
    return absl::InvalidArgumentError(
        "the image names no entrypoint: set Entrypoint in its config (spoor algorithm package "
        "does)");
  }
  if (std::filesystem::is_directory(dir / "rootfs", error)) return prepared;
  std::filesystem::create_directories(root, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the image cache ", root.string(), ": ", error.message()));
  }
  std::filesystem::path temp =
      root / absl::StrCat(".unpack-", resolved.manifest_digest.substr(7, 16), "-", ::getpid(), "-",
                          std::hash<std::string>()(NewRunId()));
  std::filesystem::remove_all(temp, error);
  std::filesystem::create_directories(temp / "rootfs", error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", temp.string(), ": ", error.message()));
  }
  absl::Status unpacked = UnpackImage(image, resolved, (temp / "rootfs").string());
  if (unpacked.ok()) {
    std::filesystem::rename(temp, dir, error);
    // Another thread or process may have unpacked the same image first.
    if (error && std::filesystem::is_directory(dir / "rootfs")) error.clear();
  }
  std::error_code ignored;
  std::filesystem::remove_all(temp, ignored);
  SPOOR_RETURN_IF_ERROR(unpacked);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot move the unpacked image into ", dir.string(), ": ", error.message()));
  }
  return prepared;
}

SandboxContainerRunner::SandboxContainerRunner(ContainerImage image, const RuncSandbox& sandbox,
                                               std::string work_dir)
    : image_(std::move(image)), sandbox_(sandbox), work_dir_(std::move(work_dir)) {}

absl::StatusOr<v1::ContainerResponse> SandboxContainerRunner::Run(
    const v1::ContainerRequest& request, const v1::FrameData* frame) const {
  const std::string run_id = NewRunId();
  const std::string runs = absl::StrCat(work_dir_, "/runs");
  const std::string logs = absl::StrCat(work_dir_, "/logs");
  const std::string dir = absl::StrCat(runs, "/", run_id);
  for (const std::string& path : {work_dir_, runs, logs}) {
    SPOOR_RETURN_IF_ERROR(MakeDirectory(path, 0700));
  }
  SPOOR_RETURN_IF_ERROR(MakeDirectory(dir, 0700));
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{dir};
  const std::string io = absl::StrCat(dir, "/io");
  const std::string data = absl::StrCat(dir, "/data");
  SPOOR_RETURN_IF_ERROR(MakeDirectory(io, 0700));
  if (::chown(io.c_str(), kSandboxUid, kSandboxUid) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chown ", io));
  }
  SPOOR_RETURN_IF_ERROR(MakeDirectory(data, 0755));
  SPOOR_RETURN_IF_ERROR(
      WriteFileAtomically(absl::StrCat(io, "/request.pb"), request.SerializeAsString(), 0644));
  if (frame != nullptr) {
    SPOOR_RETURN_IF_ERROR(
        WriteFileAtomically(absl::StrCat(data, "/frame.pb"), frame->SerializeAsString(), 0644));
  }

  SandboxRun run;
  run.id = absl::StrCat("spoor-", run_id);
  run.rootfs = image_.rootfs;
  run.args = image_.entrypoint;
  run.env = image_.env;
  run.mounts = {{io, "/io", true}, {data, "/data", false}};
  run.bundle_dir = absl::StrCat(dir, "/bundle");
  run.log_path = absl::StrCat(logs, "/", run_id, ".log");
  absl::StatusOr<SandboxResult> result = sandbox_.Run(run);
  if (!result.ok()) {
    return absl::UnavailableError(absl::StrCat("the container sandbox failed (run ", run_id,
                                               "): ", result.status().message(),
                                               "; run spoor node doctor"));
  }
  if (result->outcome != SandboxOutcome::kExited || result->exit_code != 0) {
    return absl::FailedPreconditionError(absl::StrCat(DescribeOutcome(*result, sandbox_.limits()),
                                                      " (run ", run_id,
                                                      "; the node operator can read its log)"));
  }
  const std::string response_path = absl::StrCat(io, "/response.pb");
  struct stat st;
  if (::lstat(response_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the container wrote no response (run ", run_id, ")"));
  }
  if (st.st_size > kMaxContainerResponseBytes) {
    return absl::FailedPreconditionError(absl::StrCat("the container's response is larger than ",
                                                      kMaxContainerResponseBytes >> 20,
                                                      " MiB (run ", run_id, ")"));
  }
  SPOOR_ASSIGN_OR_RETURN(std::string bytes, ReadFile(response_path));
  v1::ContainerResponse response;
  if (!response.ParseFromString(bytes)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the container's response is not a valid message (run ", run_id, ")"));
  }
  return response;
}

absl::StatusOr<SandboxLimits> ReadSandboxLimits(const ConfigTable& table) {
  SandboxLimits limits;
  SPOOR_ASSIGN_OR_RETURN(
      int64_t memory_mb,
      table.OptionalInteger("memory_mb", limits.memory_bytes >> 20, 16, 1 << 20));
  limits.memory_bytes = memory_mb << 20;
  SPOOR_ASSIGN_OR_RETURN(limits.max_processes,
                         table.OptionalInteger("max_processes", limits.max_processes, 1, 4096));
  SPOOR_ASSIGN_OR_RETURN(limits.cpu_seconds,
                         table.OptionalInteger("cpu_seconds", limits.cpu_seconds, 1, 86400));
  SPOOR_ASSIGN_OR_RETURN(
      int64_t timeout_seconds,
      table.OptionalInteger("timeout_seconds", absl::ToInt64Seconds(limits.timeout), 1, 86400));
  limits.timeout = absl::Seconds(timeout_seconds);
  SPOOR_ASSIGN_OR_RETURN(
      int64_t file_mb,
      table.OptionalInteger("max_file_mb", limits.max_file_bytes >> 20, 1, 1 << 20));
  limits.max_file_bytes = file_mb << 20;
  SPOOR_ASSIGN_OR_RETURN(
      int64_t log_kb, table.OptionalInteger("max_log_kb", limits.max_log_bytes >> 10, 1, 1 << 20));
  limits.max_log_bytes = log_kb << 10;
  return limits;
}

absl::StatusOr<std::string> ReadContainerLog(const std::string& work_dir,
                                             const std::string& run_id) {
  if (!ValidRunId(run_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", run_id, "' is not a run id; they look like 20261123T090000-0a1b2c3d"));
  }
  absl::StatusOr<std::string> log = ReadFile(absl::StrCat(work_dir, "/logs/", run_id, ".log"));
  if (absl::IsNotFound(log.status())) {
    return absl::NotFoundError(absl::StrCat("no log for run ", run_id, " on this node"));
  }
  return log;
}

}  // namespace spoor
