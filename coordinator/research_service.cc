#include "coordinator/research_service.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/tls.h"
#include "coordinator/internal/stream_writer.h"

namespace spoor {
namespace {

constexpr std::initializer_list<Role> kResearchers = {Role::kResearcher, Role::kAdmin};

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

class JobWatch final : public grpc::ServerWriteReactor<v1::JobEvent> {
 public:
  JobWatch(const absl::StatusOr<v1::Requester>& requester, JobManager& manager,
           const std::string& job_id)
      : manager_(manager) {
    writer_ = std::make_shared<internal::StreamWriter<v1::JobEvent>>(
        [this](const v1::JobEvent* e) { StartWrite(e); },
        [this](const grpc::Status& s) { Finish(s); });
    if (!requester.ok()) {
      writer_->RequestFinish(ToGrpcStatus(requester.status()));
      return;
    }
    // The watcher may be called from other threads after this reactor is
    // gone; it holds the writer, never `this`.
    std::shared_ptr<internal::StreamWriter<v1::JobEvent>> writer = writer_;
    absl::StatusOr<uint64_t> id = manager_.Watch(job_id, [writer](const v1::JobEvent& event) {
      writer->Write(event, /*finish_after=*/event.has_finished());
    });
    if (!id.ok()) {
      writer_->RequestFinish(ToGrpcStatus(id.status()));
      return;
    }
    watch_id_ = *id;
  }

  void OnWriteDone(bool ok) override { writer_->OnWriteDone(ok); }
  void OnCancel() override {
    writer_->RequestFinish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }
  void OnDone() override {
    if (watch_id_ != 0) manager_.Unwatch(watch_id_);
    writer_->Close();
    delete this;
  }

 private:
  JobManager& manager_;
  std::shared_ptr<internal::StreamWriter<v1::JobEvent>> writer_;
  uint64_t watch_id_ = 0;
};

}  // namespace

absl::StatusOr<v1::Requester> ResearchService::Caller(grpc::CallbackServerContext* context) {
  return access_.Authorize(PeerCertificatePem(*context->auth_context()), kResearchers,
                           "use the research service");
}

grpc::ServerUnaryReactor* ResearchService::SubmitJob(grpc::CallbackServerContext* context,
                                                     const v1::SubmitJobRequest* request,
                                                     v1::Job* response) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (!requester.ok()) return Done(context, requester.status());
  absl::StatusOr<v1::Job> job = manager_.Submit(*requester, request->spec());
  if (!job.ok()) return Done(context, job.status());
  LogInfo("job ", job->job_id(), " (", request->spec().algorithm(), " on ",
          request->spec().dataset(), ") submitted by ", requester->name(), " (",
          requester->organisation(), ") to ", job->participants_size(), " node(s)");
  *response = *std::move(job);
  return Done(context, absl::OkStatus());
}

grpc::ServerWriteReactor<v1::JobEvent>* ResearchService::WatchJob(
    grpc::CallbackServerContext* context, const v1::WatchJobRequest* request) {
  return new JobWatch(Caller(context), manager_, request->job_id());
}

grpc::ServerUnaryReactor* ResearchService::GetJob(grpc::CallbackServerContext* context,
                                                  const v1::GetJobRequest* request,
                                                  v1::Job* response) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (!requester.ok()) return Done(context, requester.status());
  absl::StatusOr<v1::Job> job = manager_.GetJob(request->job_id());
  if (!job.ok()) return Done(context, job.status());
  *response = *std::move(job);
  return Done(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ResearchService::ListJobs(grpc::CallbackServerContext* context,
                                                    const v1::ListJobsRequest* request,
                                                    v1::ListJobsResponse* response) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (!requester.ok()) return Done(context, requester.status());
  int limit = request->limit() > 0 ? std::min(request->limit(), 1000) : 50;
  absl::StatusOr<std::vector<v1::Job>> jobs = manager_.ListJobs(limit);
  if (!jobs.ok()) return Done(context, jobs.status());
  for (v1::Job& job : *jobs) *response->add_jobs() = std::move(job);
  return Done(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ResearchService::ListNodes(grpc::CallbackServerContext* context,
                                                     const v1::ListNodesRequest* request,
                                                     v1::ListNodesResponse* response) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (!requester.ok()) return Done(context, requester.status());
  for (v1::NodeStatus& node : manager_.ListNodes()) *response->add_nodes() = std::move(node);
  return Done(context, absl::OkStatus());
}

}  // namespace spoor
