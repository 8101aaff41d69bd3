// Loaded datasets, cached between tasks and reloaded when the file changes
// (modification time or size). Thread-safe.
#ifndef SPOOR_NODE_DATASET_CACHE_H_
#define SPOOR_NODE_DATASET_CACHE_H_

#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "algorithms/data_frame.h"
#include "node/node_config.h"

namespace spoor {

class DatasetCache {
 public:
  explicit DatasetCache(std::vector<DatasetConfig> datasets);

  // The current frame of dataset `name`. NOT_FOUND for an undeclared
  // dataset; the reader's error (file:line, never a value) for a bad file.
  // Frames are shared: a running task keeps its frame alive while a reload
  // replaces the cached one.
  absl::StatusOr<std::shared_ptr<const DataFrame>> Get(const std::string& name);

  std::vector<std::string> Names() const;

 private:
  struct Entry {
    DatasetConfig config;
    std::shared_ptr<const DataFrame> frame;
    struct timespec mtime {};
    off_t size = -1;
  };

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spoor

#endif  // SPOOR_NODE_DATASET_CACHE_H_
