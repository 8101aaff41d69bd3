// A node keeps what it derives from its data for a job (the model matrix of
// a GLM or Cox model) between the job's rounds, so that each round is one
// pass over it instead of a rebuild. One entry per algorithm: a node holds
// its data and at most one derived copy per algorithm, and the entry is
// dropped before the next one is built.
//
// The key is the frame's id (a reloaded dataset has a new one) and a text
// the algorithm makes of everything the derived data depend on. Thread-safe.
#ifndef SPOOR_ALGORITHMS_LOCAL_CACHE_H_
#define SPOOR_ALGORITHMS_LOCAL_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace spoor {

template <typename T>
class LocalCache {
 public:
  absl::StatusOr<std::shared_ptr<const T>> GetOrBuild(
      uint64_t frame_id, const std::string& key,
      const std::function<absl::StatusOr<T>()>& build) const {
    {
      absl::MutexLock lock(&mu_);
      if (value_ != nullptr && frame_id_ == frame_id && key_ == key) return value_;
      value_.reset();  // free the old entry before building the new one
    }
    absl::StatusOr<T> built = build();
    if (!built.ok()) return built.status();
    auto value = std::make_shared<const T>(*std::move(built));
    absl::MutexLock lock(&mu_);
    frame_id_ = frame_id;
    key_ = key;
    value_ = value;
    return value;
  }

 private:
  mutable absl::Mutex mu_;
  mutable uint64_t frame_id_ ABSL_GUARDED_BY(mu_) = 0;
  mutable std::string key_ ABSL_GUARDED_BY(mu_);
  mutable std::shared_ptr<const T> value_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_LOCAL_CACHE_H_
