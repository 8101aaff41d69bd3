// RPC adapter for the researcher-facing Research service: authenticates the
// caller (role researcher or admin, through AccessControl), maps absl::Status to grpc::Status and
// delegates to the JobManager.
#ifndef SPOOR_COORDINATOR_RESEARCH_SERVICE_H_
#define SPOOR_COORDINATOR_RESEARCH_SERVICE_H_

#include "coordinator/access_control.h"
#include "coordinator/job_manager.h"
#include "spoor/v1/research.grpc.pb.h"

namespace spoor {

class ResearchService final : public v1::Research::CallbackService {
 public:
  // `manager` and `access` must outlive the service.
  ResearchService(JobManager& manager, AccessControl& access)
      : manager_(manager), access_(access) {}

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

 private:
  // The authorised caller (researcher or admin), or why not.
  absl::StatusOr<v1::Requester> Caller(grpc::CallbackServerContext* context);

  JobManager& manager_;
  AccessControl& access_;
};

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_RESEARCH_SERVICE_H_
