// Running one step of a container algorithm: the ContainerRunner interface
// (algorithms/container_algorithm.h calls it) and its runc implementation.
//
// A run's files, under the runner's work directory:
//   runs/<run>/io/request.pb     the request; the container writes
//   runs/<run>/io/response.pb    its answer here (/io, writable)
//   runs/<run>/data/frame.pb     a local step's data frame (/data, read-only)
//   logs/<run>.log               the container's stdout and stderr, capped
// The run directory is removed after the run (the data with it); the log
// stays for the operator (`spoor node logs RUN`). Run ids are
// "<UTC yyyymmddThhmmss>-<8 hex>", unique and sortable.
#ifndef SPOOR_COMMON_CONTAINER_RUNNER_H_
#define SPOOR_COMMON_CONTAINER_RUNNER_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "common/oci_image.h"
#include "common/runc_sandbox.h"
#include "spoor/v1/container.pb.h"

namespace spoor {

// Runs one step of one container image. Thread-safe.
class ContainerRunner {
 public:
  virtual ~ContainerRunner() = default;

  // Runs the container on `request`; `frame` is the data of a local step
  // (nullptr for a central step). FAILED_PRECONDITION naming what happened
  // (and the run, for its log) when the sandbox stopped the container (a
  // limit, its timeout, a forbidden system call) or it ended without a valid
  // response; UNAVAILABLE when the sandbox could not be set up.
  virtual absl::StatusOr<v1::ContainerResponse> Run(const v1::ContainerRequest& request,
                                                    const v1::FrameData* frame) const = 0;
};

// A verified image unpacked and ready to run.
struct ContainerImage {
  std::string manifest_digest;
  std::string rootfs;  // absolute
  std::vector<std::string> entrypoint;
  std::vector<std::string> env;
};

// Unpacks `image` into `cache_dir`/<digest hex>/rootfs unless it is already
// there (unpacking goes to a temporary sibling first, then is renamed, so a
// crash leaves no half-unpacked image in the cache). The caller has verified
// the image and its signature.
absl::StatusOr<ContainerImage> PrepareContainerImage(const std::string& cache_dir,
                                                     const OciImage& image,
                                                     const ResolvedImage& resolved);

// The largest response a container may write.
inline constexpr int64_t kMaxContainerResponseBytes = int64_t{64} << 20;

class SandboxContainerRunner final : public ContainerRunner {
 public:
  // `sandbox` must outlive the runner. `work_dir` is created if missing.
  SandboxContainerRunner(ContainerImage image, const RuncSandbox& sandbox, std::string work_dir);

  absl::StatusOr<v1::ContainerResponse> Run(const v1::ContainerRequest& request,
                                            const v1::FrameData* frame) const override;

 private:
  ContainerImage image_;
  const RuncSandbox& sandbox_;
  std::string work_dir_;
};

// The sandbox's limits from a config table ([containers] of node.toml and
// coordinator.toml): memory_mb, max_processes, cpu_seconds, timeout_seconds,
// max_file_mb, max_log_kb, each optional (SandboxLimits' defaults). The
// caller checks the table's keys; these are kSandboxLimitKeys.
absl::StatusOr<SandboxLimits> ReadSandboxLimits(const ConfigTable& table);
inline const std::set<std::string> kSandboxLimitKeys = {
    "memory_mb", "max_processes", "cpu_seconds", "timeout_seconds", "max_file_mb", "max_log_kb"};

// The log of run `run_id` under `work_dir`; NOT_FOUND naming the run.
absl::StatusOr<std::string> ReadContainerLog(const std::string& work_dir,
                                             const std::string& run_id);

}  // namespace spoor

#endif  // SPOOR_COMMON_CONTAINER_RUNNER_H_
