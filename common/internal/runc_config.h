// Pieces of the OCI runtime config the runc sandbox writes (MakeRuncConfig in
// common/runc_sandbox.cc): validation of a run and its limits, the process,
// mounts and namespaces sections, and the seccomp profile with its rule
// tables. Builds JSON only; looks at no file. Not a public API: include only
// from common/.
#ifndef SPOOR_COMMON_INTERNAL_RUNC_CONFIG_H_
#define SPOOR_COMMON_INTERNAL_RUNC_CONFIG_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/runc_sandbox.h"
#include "nlohmann/json.hpp"

namespace spoor::internal {

// Absolute, and free of empty, "." and ".." components and NULs.
bool IsCleanAbsolutePath(absl::string_view path);

// INVALID_ARGUMENT unless every limit is positive (max_log_bytes: >= 0).
absl::Status ValidateLimits(const SandboxLimits& limits);

// INVALID_ARGUMENT saying what is wrong with `run` (id, paths, env, empty
// args); never quotes an env value.
absl::Status ValidateRun(const SandboxRun& run);

// The config's "linux.seccomp" section.
nlohmann::json SeccompProfile();

// The config's "mounts": /proc, /dev, /sys, /tmp and friends, then the run's
// bind mounts.
nlohmann::json Mounts(const SandboxRun& run);

// The config's "process": user nobody, no capabilities, rlimits from
// `limits`, the run's args, env (plus a default PATH) and cwd.
nlohmann::json Process(const SandboxRun& run, const SandboxLimits& limits);

// The config's "linux.namespaces".
nlohmann::json Namespaces();

}  // namespace spoor::internal

#endif  // SPOOR_COMMON_INTERNAL_RUNC_CONFIG_H_
