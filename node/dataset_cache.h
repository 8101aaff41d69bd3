// Loaded datasets, cached between tasks. A dataset is read from its source
// (CSV file, SQLite database, PostgreSQL table, query or OMOP view),
// harmonised (node.toml's [[datasets.variables]]) and kept until it changes:
// a file (CSV, SQLite) when its modification time or size changes, a
// PostgreSQL source when its refresh interval has passed. Thread-safe: each
// dataset has its own lock, so a slow read of one (a large PostgreSQL query)
// never holds up tasks on another.
#ifndef SPOOR_NODE_DATASET_CACHE_H_
#define SPOOR_NODE_DATASET_CACHE_H_

#include <sys/stat.h>

#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "algorithms/data_frame.h"
#include "common/clock.h"
#include "node/node_config.h"

namespace spoor {

class DatasetCache {
 public:
  // `clock` (for PostgreSQL refresh intervals) must outlive the cache;
  // nullptr means the real clock.
  explicit DatasetCache(std::vector<DatasetConfig> datasets, const Clock* clock = nullptr);

  // The current frame of dataset `name`, harmonised. NOT_FOUND for an
  // undeclared dataset; FAILED_PRECONDITION for a source the operator must
  // fix (the reader's message: file:line or SQLSTATE, never a value);
  // UNAVAILABLE for one to retry (a database down, a file being rewritten).
  // Frames are shared: a running task keeps its frame alive while a reload
  // replaces the cached one.
  absl::StatusOr<std::shared_ptr<const DataFrame>> Get(const std::string& name);

  // The dataset's configuration; nullptr for an undeclared dataset. Valid
  // for the cache's lifetime.
  const DatasetConfig* Config(const std::string& name) const;

  std::vector<std::string> Names() const;

 private:
  struct Entry {
    DatasetConfig config;  // fixed at construction
    absl::Mutex mu;
    std::shared_ptr<const DataFrame> frame ABSL_GUARDED_BY(mu);
    // Files: what the frame was read from. PostgreSQL: when.
    struct timespec mtime ABSL_GUARDED_BY(mu) {};
    off_t size ABSL_GUARDED_BY(mu) = -1;
    absl::Time loaded ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  };

  // Whether `entry`'s frame is still current; fills `stat_out` for files.
  absl::StatusOr<bool> Current(const Entry& entry, struct ::stat& stat_out) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(entry.mu);
  absl::StatusOr<DataFrame> Load(const DatasetConfig& config) const;

  const RealClock real_clock_;
  const Clock& clock_;
  // The map and every config are fixed at construction (read without a
  // lock); each entry's frame changes under its own mutex.
  std::map<std::string, Entry> entries_;
};

}  // namespace spoor

#endif  // SPOOR_NODE_DATASET_CACHE_H_
