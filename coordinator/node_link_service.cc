#include "coordinator/node_link_service.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/tls.h"
#include "coordinator/internal/stream_writer.h"
#include "google/protobuf/util/time_util.h"

namespace spoor {
namespace {

constexpr char kVersion[] = "spoor 0.1.0";

using Writer = internal::StreamWriter<v1::CoordinatorMessage>;

// The manager's handle on one node stream.
class SessionSink final : public NodeSink, public Writer {
 public:
  using Writer::Writer;
  void Send(const v1::CoordinatorMessage& message) override { Write(message); }
};

class NodeSession final : public grpc::ServerBidiReactor<v1::NodeMessage, v1::CoordinatorMessage> {
 public:
  NodeSession(grpc::CallbackServerContext* context, JobManager& manager, AccessControl& access)
      : manager_(manager), access_(access) {
    sink_ =
        std::make_shared<SessionSink>([this](const v1::CoordinatorMessage* m) { StartWrite(m); },
                                      [this](const grpc::Status& s) { Finish(s); });
    absl::StatusOr<Identity> node = access_.Authenticate(
        PeerCertificatePem(*context->auth_context()), {Role::kNode}, "connect as a node");
    if (!node.ok()) {
      sink_->RequestFinish(ToGrpcStatus(node.status()));
      return;
    }
    identity_ = *std::move(node);
    node_.set_name(identity_.name);
    node_.set_organisation(identity_.organisation);
    node_.set_role(std::string(RoleName(identity_.role)));
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      sink_->RequestFinish(grpc::Status::OK);
      return;
    }
    // Every message is authorised again (the stream lives for days): a
    // revoked node is cut off at its next heartbeat at the latest.
    if (absl::Status still = access_.Recheck(identity_, "stay connected as a node"); !still.ok()) {
      sink_->RequestFinish(ToGrpcStatus(still));
      return;
    }
    switch (incoming_.kind_case()) {
      case v1::NodeMessage::kHello:
        if (!OnHello(incoming_.hello())) return;
        break;
      case v1::NodeMessage::kResult:
        if (attached_) manager_.OnTaskResult(node_.name(), incoming_.result());
        break;
      case v1::NodeMessage::kHeartbeat:
        if (attached_) manager_.NodeHeartbeat(node_.name());
        break;
      default:
        break;  // Unknown kinds come from newer nodes: ignore.
    }
    if (!attached_) {
      sink_->RequestFinish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                        "the first message on the stream must be a hello"));
      return;
    }
    StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override { sink_->OnWriteDone(ok); }

  void OnCancel() override {
    sink_->RequestFinish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    if (attached_) manager_.DetachNode(node_.name(), session_);
    sink_->Close();
    delete this;
  }

 private:
  bool OnHello(const v1::NodeHello& hello) {
    if (attached_) return true;  // a repeated hello changes nothing
    if (hello.node_id() != node_.name()) {
      sink_->RequestFinish(
          ToGrpcStatus(access_.Refuse(node_, "connect as another node",
                                      absl::PermissionDeniedError(absl::StrCat(
                                          "this certificate is for node '", node_.name(),
                                          "'; set name = \"", node_.name(), "\" in node.toml")))));
      return false;
    }
    v1::CoordinatorMessage welcome;
    welcome.mutable_welcome()->set_coordinator_version(kVersion);
    *welcome.mutable_welcome()->mutable_heartbeat_interval() =
        google::protobuf::util::TimeUtil::NanosecondsToDuration(
            absl::ToInt64Nanoseconds(manager_.options().heartbeat_interval));
    sink_->Send(welcome);
    session_ = manager_.AttachNode(node_.organisation(), hello, sink_);
    attached_ = true;
    return true;
  }

  JobManager& manager_;
  AccessControl& access_;
  std::shared_ptr<SessionSink> sink_;
  Identity identity_;
  v1::Requester node_;
  v1::NodeMessage incoming_;
  bool attached_ = false;  // touched only by the read chain
  uint64_t session_ = 0;
};

}  // namespace

grpc::ServerBidiReactor<v1::NodeMessage, v1::CoordinatorMessage>* NodeLinkService::Connect(
    grpc::CallbackServerContext* context) {
  return new NodeSession(context, manager_, access_);
}

}  // namespace spoor
