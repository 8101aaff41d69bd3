// Serialises writes on a callback-API gRPC stream.
//
// The callback API allows one outstanding write per stream and requires
// exactly one Finish, after which nothing may be written. StreamWriter
// queues messages from any thread, starts the next write when the previous
// one completes, and defers Finish until the queue has drained. It never
// calls into gRPC while holding its lock, so a reaction that runs inline
// cannot deadlock.
#ifndef SPOOR_COORDINATOR_INTERNAL_STREAM_WRITER_H_
#define SPOOR_COORDINATOR_INTERNAL_STREAM_WRITER_H_

#include <deque>
#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/status.h"

namespace spoor::internal {

template <typename Message>
class StreamWriter {
 public:
  using StartWriteFn = std::function<void(const Message*)>;
  using FinishFn = std::function<void(const grpc::Status&)>;

  StreamWriter(StartWriteFn start_write, FinishFn finish)
      : start_write_(std::move(start_write)), finish_(std::move(finish)) {}
  virtual ~StreamWriter() = default;

  // Queues `message`. Dropped if the stream is finishing or closed. With
  // `finish_after`, the stream finishes with OK once it has been written.
  void Write(Message message, bool finish_after = false) {
    {
      absl::MutexLock lock(&mu_);
      if (closed_ || finish_requested_) return;
      queue_.push_back(std::move(message));
      if (finish_after) {
        finish_requested_ = true;
        final_status_ = grpc::Status::OK;
      }
      if (writing_) return;
      writing_ = true;
      current_ = std::move(queue_.front());
      queue_.pop_front();
    }
    start_write_(&current_);
  }

  // Finishes the stream with `status` once queued writes are done. Only the
  // first call counts.
  void RequestFinish(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (closed_ || finish_requested_) return;
      finish_requested_ = true;
      final_status_ = status;
      if (writing_) return;
      finished_ = true;
    }
    finish_(status);
  }

  // Call from the reactor's OnWriteDone.
  void OnWriteDone(bool ok) {
    enum class Next { kNothing, kWrite, kFinish } next = Next::kNothing;
    grpc::Status finish_with;
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        // The stream is broken: nothing more will be delivered.
        queue_.clear();
        if (!finish_requested_) {
          finish_requested_ = true;
          final_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
        }
      }
      if (!queue_.empty() && !closed_) {
        current_ = std::move(queue_.front());
        queue_.pop_front();
        next = Next::kWrite;
      } else {
        writing_ = false;
        if (finish_requested_ && !finished_ && !closed_) {
          finished_ = true;
          finish_with = final_status_;
          next = Next::kFinish;
        }
      }
    }
    if (next == Next::kWrite) start_write_(&current_);
    if (next == Next::kFinish) finish_(finish_with);
  }

  // Call from the reactor's OnDone: the stream is gone; drop everything.
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    queue_.clear();
  }

 private:
  const StartWriteFn start_write_;
  const FinishFn finish_;
  absl::Mutex mu_;
  std::deque<Message> queue_ ABSL_GUARDED_BY(mu_);
  // Owned by whoever set writing_; gRPC reads it until OnWriteDone.
  Message current_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spoor::internal

#endif  // SPOOR_COORDINATOR_INTERNAL_STREAM_WRITER_H_
