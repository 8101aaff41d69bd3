// The node's one connection: outbound to the coordinator, a single
// long-lived bidirectional stream. The node never listens.
//
// Run() connects, says hello, then executes tasks as they arrive and sends
// their results back, with a heartbeat on the side. When the stream breaks
// it reconnects with capped exponential backoff and jitter (200 ms doubling
// to 30 s, each wait drawn from [d/2, d]); the coordinator re-sends
// unfinished tasks on reconnect and the executor answers repeats from its
// memory, so nothing runs twice.
#ifndef SPOOR_NODE_COORDINATOR_LINK_H_
#define SPOOR_NODE_COORDINATOR_LINK_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "node/task_executor.h"
#include "spoor/v1/node_link.grpc.pb.h"

namespace spoor {

struct LinkOptions {
  std::string coordinator;  // host:port
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
};

class CoordinatorLink {
 public:
  // `executor` must outlive the link.
  CoordinatorLink(LinkOptions options, std::shared_ptr<grpc::ChannelCredentials> credentials,
                  v1::NodeHello hello, TaskExecutor& executor);

  // Serves until Stop(). Blocks the calling thread.
  void Run();
  // Ends Run() soon. Thread-safe; may be called from a signal-handling thread.
  void Stop();

  // The delay before reconnect attempt `attempt` (0-based), with `unit`
  // in [0, 1) supplying the jitter. Exposed for tests.
  static absl::Duration BackoffDelay(const LinkOptions& options, int attempt, double unit);

 private:
  // One connection, until the stream ends. True if it got as far as the
  // coordinator's welcome.
  bool ServeOnce(v1::NodeLink::Stub& stub);

  const LinkOptions options_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const v1::NodeHello hello_;
  TaskExecutor& executor_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace spoor

#endif  // SPOOR_NODE_COORDINATOR_LINK_H_
