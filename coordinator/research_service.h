// RPC adapter for the researcher-facing Research service: authenticates the
// caller (role researcher or admin), maps absl::Status to grpc::Status and
// delegates to the JobManager.
#ifndef SPOOR_COORDINATOR_RESEARCH_SERVICE_H_
#define SPOOR_COORDINATOR_RESEARCH_SERVICE_H_

#include "coordinator/job_manager.h"
#include "spoor/v1/research.grpc.pb.h"

namespace spoor {

class ResearchService final : public v1::Research::CallbackService {
 public:
  // `manager` must outlive the service.
  explicit ResearchService(JobManager& manager) : manager_(manager) {}

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
  JobManager& manager_;
};

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_RESEARCH_SERVICE_H_
