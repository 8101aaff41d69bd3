#include "coordinator/research_service.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status.h"
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
  absl::StatusOr<v1::JobSpec> spec = WithinStudy(*requester, request->spec());
  if (!spec.ok()) return Done(context, access_.Refuse(*requester, "submit a job", spec.status()));
  absl::StatusOr<v1::Job> job = manager_.Submit(*requester, *spec);
  if (!job.ok()) return Done(context, job.status());
  // The coordinator's own record of who ran what where; nodes keep theirs.
  access_
      .Audit("job_submitted", {{"job_id", job->job_id()},
                               {"who", requester->name()},
                               {"organisation", requester->organisation()},
                               {"study", spec->study()},
                               {"algorithm", spec->algorithm()},
                               {"dataset", spec->dataset()},
                               {"where", spec->where()},
                               {"secure", spec->secure()},
                               {"nodes", std::vector<std::string>(job->participants().begin(),
                                                                  job->participants().end())}})
      .IgnoreError();
  LogInfo("job ", job->job_id(), " (", request->spec().algorithm(), " on ",
          request->spec().dataset(), ") submitted by ", requester->name(), " (",
          requester->organisation(), ") to ", job->participants_size(), " node(s)");
  *response = *std::move(job);
  return Done(context, absl::OkStatus());
}

grpc::ServerWriteReactor<v1::JobEvent>* ResearchService::WatchJob(
    grpc::CallbackServerContext* context, const v1::WatchJobRequest* request) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (requester.ok()) {
    if (absl::StatusOr<v1::Job> job = VisibleJob(*requester, request->job_id()); !job.ok()) {
      requester = job.status();
    }
  }
  return new JobWatch(requester, manager_, request->job_id());
}

grpc::ServerUnaryReactor* ResearchService::GetJob(grpc::CallbackServerContext* context,
                                                  const v1::GetJobRequest* request,
                                                  v1::Job* response) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (!requester.ok()) return Done(context, requester.status());
  absl::StatusOr<v1::Job> job = VisibleJob(*requester, request->job_id());
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
  for (v1::Job& job : *jobs) {
    absl::StatusOr<bool> visible = studies_.MaySee(*requester, job);
    if (!visible.ok()) return Done(context, visible.status());
    if (*visible) *response->add_jobs() = std::move(job);
  }
  return Done(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ResearchService::ListNodes(grpc::CallbackServerContext* context,
                                                     const v1::ListNodesRequest* request,
                                                     v1::ListNodesResponse* response) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (!requester.ok()) return Done(context, requester.status());
  absl::StatusOr<StudyStore::Visible> visible = studies_.VisibleOrganisations(*requester);
  if (!visible.ok()) return Done(context, visible.status());
  for (v1::NodeStatus& node : manager_.ListNodes()) {
    if (visible->all || visible->organisations.count(node.organisation()) > 0) {
      *response->add_nodes() = std::move(node);
    }
  }
  return Done(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ResearchService::CreateStudy(grpc::CallbackServerContext* context,
                                                       const v1::CreateStudyRequest* request,
                                                       v1::Study* response) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (!requester.ok()) return Done(context, requester.status());
  absl::StatusOr<v1::Study> study = studies_.Create(*requester, request->name());
  if (!study.ok())
    return Done(context, access_.Refuse(*requester, "create a study", study.status()));
  access_.Audit("study_created", {{"who", requester->name()}, {"study", study->name()}})
      .IgnoreError();
  *response = *std::move(study);
  return Done(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ResearchService::ChangeStudy(grpc::CallbackServerContext* context,
                                                       const v1::ChangeStudyRequest* request,
                                                       v1::Study* response) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (!requester.ok()) return Done(context, requester.status());
  absl::StatusOr<v1::Study> study = studies_.Change(*requester, *request);
  if (!study.ok())
    return Done(context, access_.Refuse(*requester, "change a study", study.status()));
  access_
      .Audit("study_changed",
             {{"who", requester->name()},
              {"study", study->name()},
              {request->has_researcher() ? "researcher" : "organisation",
               request->has_researcher() ? request->researcher() : request->organisation()},
              {"change", request->remove() ? "removed" : "added"}})
      .IgnoreError();
  *response = *std::move(study);
  return Done(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ResearchService::ListStudies(grpc::CallbackServerContext* context,
                                                       const v1::ListStudiesRequest* request,
                                                       v1::ListStudiesResponse* response) {
  absl::StatusOr<v1::Requester> requester = Caller(context);
  if (!requester.ok()) return Done(context, requester.status());
  absl::StatusOr<std::vector<v1::Study>> studies = studies_.List(*requester);
  if (!studies.ok()) return Done(context, studies.status());
  for (v1::Study& study : *studies) *response->add_studies() = std::move(study);
  return Done(context, absl::OkStatus());
}

absl::StatusOr<v1::JobSpec> ResearchService::WithinStudy(const v1::Requester& requester,
                                                         v1::JobSpec spec) {
  SPOOR_ASSIGN_OR_RETURN(v1::Study study, studies_.ForJob(requester, spec.study()));
  spec.set_study(study.name());
  std::set<std::string> organisations(study.organisations().begin(), study.organisations().end());
  std::map<std::string, v1::NodeStatus> nodes;
  for (v1::NodeStatus& node : manager_.ListNodes()) nodes[node.node_id()] = std::move(node);
  if (spec.nodes().empty()) {
    for (const auto& [id, node] : nodes) {
      bool serves = std::find(node.datasets().begin(), node.datasets().end(), spec.dataset()) !=
                    node.datasets().end();
      if (node.connected() && serves && organisations.count(node.organisation()) > 0) {
        spec.add_nodes(id);
      }
    }
    if (spec.nodes().empty()) {
      return absl::FailedPreconditionError(absl::StrCat("no node of study '", study.name(),
                                                        "' serving dataset '", spec.dataset(),
                                                        "' is connected; see `spoor nodes`"));
    }
    return spec;
  }
  for (const std::string& id : spec.nodes()) {
    auto it = nodes.find(id);
    if (it != nodes.end() && organisations.count(it->second.organisation()) == 0) {
      return absl::PermissionDeniedError(absl::StrCat("node ", id, " (", it->second.organisation(),
                                                      ") is not part of study '", study.name(),
                                                      "'"));
    }
  }
  return spec;
}

absl::StatusOr<v1::Job> ResearchService::VisibleJob(const v1::Requester& requester,
                                                    const std::string& job_id) {
  SPOOR_ASSIGN_OR_RETURN(v1::Job job, manager_.GetJob(job_id));
  SPOOR_ASSIGN_OR_RETURN(bool visible, studies_.MaySee(requester, job));
  if (!visible) {
    return access_.Refuse(
        requester, "see a job",
        absl::PermissionDeniedError(absl::StrCat("job ", job_id, " belongs to a study ",
                                                 requester.name(), " is not part of")));
  }
  return job;
}

}  // namespace spoor
