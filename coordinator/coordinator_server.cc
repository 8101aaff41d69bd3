#include "coordinator/coordinator_server.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/status.h"
#include "common/tls.h"
#include "coordinator/node_link_service.h"
#include "coordinator/registry_service.h"
#include "coordinator/research_service.h"
#include "grpcpp/server_builder.h"

namespace spoor {

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    const CoordinatorConfig& config, const Clock& clock, const AlgorithmRegistry& algorithms) {
  SPOOR_ASSIGN_OR_RETURN(TlsMaterial tls, LoadTlsMaterial(config.tls));
  if (tls.identity.role != Role::kCoordinator) {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate ", config.tls.cert, " has role ", std::string(RoleName(tls.identity.role)),
        "; the coordinator needs one issued with --role coordinator"));
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data_dir ", config.data_dir, ": ", ec.message()));
  }

  std::unique_ptr<CoordinatorServer> server(new CoordinatorServer());
  // Signed with the coordinator's own key at checkpoints (spoor audit verify).
  SPOOR_ASSIGN_OR_RETURN(server->audit_, AuditLog::Open(config.data_dir + "/audit.jsonl", clock,
                                                        AuditSigner{tls.key_pem, tls.cert_pem}));
  SPOOR_ASSIGN_OR_RETURN(server->revoked_, RevocationList::Load(tls.ca_pem, config.tls.crl));
  server->access_ =
      std::make_unique<AccessControl>(*server->revoked_, *server->audit_, clock, config.rate_limit);
  SPOOR_ASSIGN_OR_RETURN(server->store_, OpenSqliteJobStore(config.data_dir + "/jobs.db"));
  JobManagerOptions options;
  options.node_timeout = config.node_timeout;
  options.heartbeat_interval = config.heartbeat_interval;
  options.min_sites = config.min_sites;
  RegistryPolicy policy;
  policy.required_approvals = static_cast<int>(config.required_approvals);
  policy.required_organisations = static_cast<int>(config.required_organisations);
  SPOOR_ASSIGN_OR_RETURN(policy.trusted_signers, LoadTrustedSigners(config.trusted_signers));
  SPOOR_ASSIGN_OR_RETURN(server->algorithm_store_, OpenAlgorithmStore(config.data_dir + "/registry",
                                                                      std::move(policy), clock));
  server->registry_algorithms_ = std::make_unique<RegistryAlgorithms>(
      *server->algorithm_store_, config.runc,
      config.container_work_dir.empty() ? config.data_dir + "/containers"
                                        : config.container_work_dir,
      config.container_limits);
  server->manager_ = std::make_unique<JobManager>(clock, *server->store_, algorithms, options,
                                                  server->registry_algorithms_.get());
  SPOOR_RETURN_IF_ERROR(server->manager_->Recover());
  server->node_link_ = std::make_unique<NodeLinkService>(*server->manager_, *server->access_);
  SPOOR_ASSIGN_OR_RETURN(server->studies_,
                         StudyStore::Open(config.data_dir + "/studies.db", clock));
  server->research_ =
      std::make_unique<ResearchService>(*server->manager_, *server->access_, *server->studies_);
  server->registry_ =
      std::make_unique<RegistryService>(*server->algorithm_store_, *server->access_);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config.listen, MakeServerCredentials(tls), &port);
  builder.RegisterService(server->node_link_.get());
  builder.RegisterService(server->research_.get());
  builder.RegisterService(server->registry_.get());
  const int max_message = static_cast<int>(config.max_message_mb << 20);
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  // Find dead node connections within ~20 s even when idle, and let nodes
  // ping us as often as every 5 s.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // Bandwidth-delay probing sends an HTTP/2 PING with each burst of data:
  // an extra write, read and wake-up per task and per result for a
  // connection whose messages are small. Flow-control windows stay at their
  // (ample) defaults.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen,
                     "; is another process using the port? Change `listen` in the config"));
  }
  std::string host = config.listen.substr(0, config.listen.rfind(':'));
  if (host == "0.0.0.0" || host == "[::]") host = "127.0.0.1";
  server->address_ = absl::StrCat(host, ":", port);
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(config.data_dir + "/address", server->address_ + "\n"));

  CoordinatorServer* raw = server.get();
  server->ticker_ = std::thread([raw] {
    while (!raw->stop_.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      raw->manager_->Tick();
      if (absl::Status s = raw->store_->Maintain(); !s.ok()) LogWarning(s.message());
    }
  });
  LogInfo("listening on ", server->address_, " (mutual TLS)");
  return server;
}

void CoordinatorServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (ticker_.joinable()) ticker_.join();
}

CoordinatorServer::~CoordinatorServer() { Shutdown(); }

}  // namespace spoor
