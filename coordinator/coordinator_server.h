// Wires the coordinator together: job store, algorithm registry, job
// manager, the three gRPC services on one mTLS port, and the timer that enforces node timeouts.
// Used by `spoor coordinator` and by the benchmarks.
#ifndef SPOOR_COORDINATOR_COORDINATOR_SERVER_H_
#define SPOOR_COORDINATOR_COORDINATOR_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "algorithms/algorithm.h"
#include "common/audit_log.h"
#include "common/clock.h"
#include "common/revocation_list.h"
#include "coordinator/access_control.h"
#include "coordinator/algorithm_store.h"
#include "coordinator/coordinator_config.h"
#include "coordinator/job_manager.h"
#include "coordinator/job_store.h"
#include "coordinator/registry_algorithms.h"
#include "coordinator/study_store.h"
#include "grpcpp/server.h"

namespace spoor {

class NodeLinkService;
class RegistryService;
class ResearchService;

class CoordinatorServer {
 public:
  // Opens the store, recovers running jobs, starts listening and writes
  // data_dir/address. `clock` and `algorithms` must outlive the server.
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(
      const CoordinatorConfig& config, const Clock& clock, const AlgorithmRegistry& algorithms);
  ~CoordinatorServer();

  // host:port actually listened on.
  const std::string& address() const { return address_; }
  JobManager& manager() { return *manager_; }

  // Stops accepting, cancels open streams after `grace`, stops the timer.
  // Idempotent; also run by the destructor.
  void Shutdown(absl::Duration grace = absl::Seconds(2));

 private:
  CoordinatorServer() = default;

  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<RevocationList> revoked_;
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<StudyStore> studies_;
  std::unique_ptr<AlgorithmStore> algorithm_store_;
  std::unique_ptr<RegistryAlgorithms> registry_algorithms_;
  std::unique_ptr<JobManager> manager_;
  std::unique_ptr<NodeLinkService> node_link_;
  std::unique_ptr<ResearchService> research_;
  std::unique_ptr<RegistryService> registry_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  absl::Notification stop_;
  std::thread ticker_;
  bool shut_down_ = false;
};

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_COORDINATOR_SERVER_H_
