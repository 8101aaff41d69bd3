// RPC adapter for the node-facing NodeLink service: parses, authenticates
// (role "node", hello.node_id = certificate CN) and hands everything else to
// the JobManager. One reactor per connected node; no thread per node.
#ifndef SPOOR_COORDINATOR_NODE_LINK_SERVICE_H_
#define SPOOR_COORDINATOR_NODE_LINK_SERVICE_H_

#include "coordinator/access_control.h"
#include "coordinator/job_manager.h"
#include "spoor/v1/node_link.grpc.pb.h"

namespace spoor {

class NodeLinkService final : public v1::NodeLink::CallbackService {
 public:
  // `manager` and `access` must outlive the service.
  NodeLinkService(JobManager& manager, AccessControl& access)
      : manager_(manager), access_(access) {}

  grpc::ServerBidiReactor<v1::NodeMessage, v1::CoordinatorMessage>* Connect(
      grpc::CallbackServerContext* context) override;

 private:
  JobManager& manager_;
  AccessControl& access_;
};

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_NODE_LINK_SERVICE_H_
