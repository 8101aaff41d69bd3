#include "common/internal/cgroup_counters.h"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"

namespace spoor::internal {
namespace {

constexpr char kCgroupParent[] = "/spoor";

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

}  // namespace

std::string CgroupPathFor(const std::string& id) { return absl::StrCat(kCgroupParent, "/", id); }

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

}  // namespace spoor::internal
