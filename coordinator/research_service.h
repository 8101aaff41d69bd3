// RPC adapter for the researcher-facing Research service: authenticates the
// caller (role researcher or admin, through AccessControl), applies the
// study rules (study_store.h), maps absl::Status to grpc::Status and
// delegates to the JobManager.
#ifndef SPOOR_COORDINATOR_RESEARCH_SERVICE_H_
#define SPOOR_COORDINATOR_RESEARCH_SERVICE_H_

#include "coordinator/access_control.h"
#include "coordinator/job_manager.h"
#include "coordinator/study_store.h"
#include "spoor/v1/research.grpc.pb.h"

namespace spoor {

class ResearchService final : public v1::Research::CallbackService {
 public:
  // Every dependency must outlive the service.
  ResearchService(JobManager& manager, AccessControl& access, StudyStore& studies)
      : manager_(manager), access_(access), studies_(studies) {}

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* context,
                                      const v1::SubmitJobRequest* request,
                                      v1::Job* response) override;
  grpc::ServerWriteReactor<v1::JobEvent>* WatchJob(grpc::CallbackServerContext* context,
                                                   const v1::WatchJobRequest* request) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request, v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* ListNodes(grpc::CallbackServerContext* context,
                                      const v1::ListNodesRequest* request,
                                      v1::ListNodesResponse* response) override;
  grpc::ServerUnaryReactor* CreateStudy(grpc::CallbackServerContext* context,
                                        const v1::CreateStudyRequest* request,
                                        v1::Study* response) override;
  grpc::ServerUnaryReactor* ChangeStudy(grpc::CallbackServerContext* context,
                                        const v1::ChangeStudyRequest* request,
                                        v1::Study* response) override;
  grpc::ServerUnaryReactor* ListStudies(grpc::CallbackServerContext* context,
                                        const v1::ListStudiesRequest* request,
                                        v1::ListStudiesResponse* response) override;

 private:
  // The authorised caller (researcher or admin), or why not.
  absl::StatusOr<v1::Requester> Caller(grpc::CallbackServerContext* context);

  JobManager& manager_;
  // `spec` with its study resolved and its nodes restricted to the study's
  // organisations (every connected one serving the dataset when it names
  // none), or why the requester may not run it there.
  absl::StatusOr<v1::JobSpec> WithinStudy(const v1::Requester& requester, v1::JobSpec spec);
  // The job, if the requester may see it (PERMISSION_DENIED otherwise).
  absl::StatusOr<v1::Job> VisibleJob(const v1::Requester& requester, const std::string& job_id);

  AccessControl& access_;
  StudyStore& studies_;
};

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_RESEARCH_SERVICE_H_
