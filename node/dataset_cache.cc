#include "node/dataset_cache.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "algorithms/csv_reader.h"
#include "common/log.h"

namespace spoor {

DatasetCache::DatasetCache(std::vector<DatasetConfig> datasets) {
  for (DatasetConfig& d : datasets) {
    std::string name = d.name;
    entries_[name].config = std::move(d);
  }
}

std::vector<std::string> DatasetCache::Names() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

absl::StatusOr<std::shared_ptr<const DataFrame>> DatasetCache::Get(const std::string& name) {
  // One lock over the load: two tasks asking for the same stale dataset
  // should read it once, not twice in parallel.
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat("this node has no dataset '", name, "'"));
  }
  Entry& entry = it->second;
  struct stat st;
  if (::stat(entry.config.path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "dataset '", name, "' cannot be read (", std::strerror(errno),
        "); the node operator should check its path in node.toml"));
  }
  if (entry.frame && st.st_mtim.tv_sec == entry.mtime.tv_sec &&
      st.st_mtim.tv_nsec == entry.mtime.tv_nsec && st.st_size == entry.size) {
    return entry.frame;
  }
  absl::StatusOr<DataFrame> frame = ReadCsvFile(entry.config.path);
  if (!frame.ok()) {
    LogError("dataset '", name, "': ", frame.status().message());
    return absl::FailedPreconditionError(absl::StrCat(
        "dataset '", name, "' could not be loaded at this node: ", frame.status().message()));
  }
  LogInfo("loaded dataset '", name, "': ", frame->num_rows(), " rows, ", frame->num_columns(),
          " columns");
  entry.frame = std::make_shared<const DataFrame>(*std::move(frame));
  entry.mtime = st.st_mtim;
  entry.size = st.st_size;
  return entry.frame;
}

}  // namespace spoor
