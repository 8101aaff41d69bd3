#include "node/coordinator_link.h"

#include <algorithm>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"

namespace spoor {

using google::protobuf::util::TimeUtil;

CoordinatorLink::CoordinatorLink(LinkOptions options,
                                 std::shared_ptr<grpc::ChannelCredentials> credentials,
                                 v1::NodeHello hello, TaskExecutor& executor)
    : options_(std::move(options)),
      credentials_(std::move(credentials)),
      hello_(std::move(hello)),
      executor_(executor) {}

absl::Duration CoordinatorLink::BackoffDelay(const LinkOptions& options, int attempt, double unit) {
  absl::Duration d = options.initial_backoff;
  for (int i = 0; i < attempt && d < options.max_backoff; ++i) d *= 2;
  d = std::min(d, options.max_backoff);
  return d / 2 + (d / 2) * unit;
}

void CoordinatorLink::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

void CoordinatorLink::Run() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // see CoordinatorServer::Start
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options_.coordinator, credentials_, args);
  std::unique_ptr<v1::NodeLink::Stub> stub = v1::NodeLink::NewStub(channel);
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int attempt = 0;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (ServeOnce(*stub)) attempt = 0;
    absl::Duration delay = BackoffDelay(options_, attempt++, unit(rng));
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    LogInfo("reconnecting to ", options_.coordinator, " in ", absl::FormatDuration(delay));
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
  }
}

bool CoordinatorLink::ServeOnce(v1::NodeLink::Stub& stub) {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    context_ = &context;
  }
  std::unique_ptr<grpc::ClientReaderWriter<v1::NodeMessage, v1::CoordinatorMessage>> stream =
      stub.Connect(&context);

  absl::Mutex write_mu;
  auto write = [&](const v1::NodeMessage& message) {
    absl::MutexLock lock(&write_mu);
    return stream->Write(message);
  };

  v1::NodeMessage hello;
  *hello.mutable_hello() = hello_;
  bool welcomed = false;
  absl::Mutex hb_mu;
  bool stream_done = false;
  std::thread heartbeat;
  v1::CoordinatorMessage incoming;
  if (write(hello)) {
    while (stream->Read(&incoming)) {
      switch (incoming.kind_case()) {
        case v1::CoordinatorMessage::kWelcome: {
          if (welcomed) break;
          welcomed = true;
          LogInfo("connected to coordinator ", options_.coordinator, " (",
                  incoming.welcome().coordinator_version(), ")");
          absl::Duration interval = absl::Nanoseconds(
              TimeUtil::DurationToNanoseconds(incoming.welcome().heartbeat_interval()));
          if (interval <= absl::ZeroDuration()) interval = absl::Seconds(5);
          heartbeat = std::thread([&, interval] {
            absl::MutexLock lock(&hb_mu);
            while (!hb_mu.AwaitWithTimeout(absl::Condition(&stream_done), interval)) {
              v1::NodeMessage beat;
              *beat.mutable_heartbeat()->mutable_sent_at() = TimeUtil::GetCurrentTime();
              hb_mu.Unlock();
              bool ok = write(beat);
              hb_mu.Lock();
              if (!ok) break;
            }
          });
          break;
        }
        case v1::CoordinatorMessage::kTask: {
          v1::NodeMessage out;
          *out.mutable_result() = executor_.Execute(incoming.task());
          write(out);
          break;
        }
        case v1::CoordinatorMessage::kCancel:
          // Tasks run to completion one at a time; a cancel for a finished
          // task needs nothing, and the coordinator ignores late results.
          break;
        default:
          break;
      }
    }
  }
  {
    absl::MutexLock lock(&hb_mu);
    stream_done = true;
  }
  if (heartbeat.joinable()) heartbeat.join();
  grpc::Status status = stream->Finish();
  {
    absl::MutexLock lock(&mu_);
    context_ = nullptr;
    if (stopping_) return welcomed;
  }
  if (!status.ok()) {
    LogWarning("connection to coordinator ", options_.coordinator,
               " ended: ", status.error_message());
  } else {
    LogWarning("coordinator ", options_.coordinator, " closed the connection");
  }
  return welcomed;
}

}  // namespace spoor
