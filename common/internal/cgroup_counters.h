// cgroups for the runc sandbox (common/runc_sandbox.cc): where runc puts a
// container (cgroup v1 or v2), and what the kernel counted there (OOM kills,
// refused forks, CPU time). Not a public API: include only from common/.
#ifndef SPOOR_COMMON_INTERNAL_CGROUP_COUNTERS_H_
#define SPOOR_COMMON_INTERNAL_CGROUP_COUNTERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace spoor::internal {

// The cgroup path of container `id`: "/spoor/<id>".
std::string CgroupPathFor(const std::string& id);

struct CgroupLayout {
  bool unified = false;                                        // cgroup v2 at /sys/fs/cgroup
  std::vector<std::pair<std::string, std::string>> v1_mounts;  // (controller, mount point)
  std::vector<std::string> v1_mount_points;                    // every v1 hierarchy
};

// runc decides v1 or v2 the same way: is /sys/fs/cgroup itself cgroup2?
CgroupLayout DetectCgroupLayout();

// The file `name` of `cgroup_path` in the hierarchy holding `controller`,
// or "" when that controller is not mounted.
std::string CgroupFile(const CgroupLayout& layout, absl::string_view controller,
                       const std::string& cgroup_path, absl::string_view name);

// Whether runc may limit memory+swap: always on v2, on v1 only with swap
// accounting (memory.memsw.*).
bool SwapAccountingAvailable(const CgroupLayout& layout);

struct CgroupCounters {
  int64_t oom_kills = 0;        // processes the memory cgroup OOM-killed
  int64_t pids_limit_hits = 0;  // forks refused by the pids limit
  std::optional<absl::Duration> cpu_time;
};

// Must run before `runc delete`, which removes the cgroup.
CgroupCounters ReadCgroupCounters(const CgroupLayout& layout, const std::string& cgroup_path);

}  // namespace spoor::internal

#endif  // SPOOR_COMMON_INTERNAL_CGROUP_COUNTERS_H_
