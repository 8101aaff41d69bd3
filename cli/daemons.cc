// spoor coordinator | spoor node: the two daemons. main() of each is here;
// this is the only place that wires real implementations together.
#include <malloc.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "algorithms/algorithm.h"
#include "algorithms/disclosure_gate.h"
#include "cli/commands.h"
#include "common/audit_log.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "common/tls.h"
#include "coordinator/coordinator_server.h"
#include "grpcpp/create_channel.h"
#include "node/coordinator_link.h"
#include "node/dataset_cache.h"
#include "node/node_config.h"
#include "node/node_containers.h"
#include "node/secure_masking.h"
#include "node/task_executor.h"

namespace spoor {
namespace {

constexpr char kVersion[] = "spoor 0.1.0";

// Blocks SIGINT and SIGTERM in every thread started after this call; the
// returned set is waited for with sigwait by one thread.
sigset_t BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForSignal(const sigset_t& set) {
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

}  // namespace

absl::Status RunCoordinator(const std::string& config_path) {
  SetLogComponent("coordinator");
  sigset_t signals = BlockTerminationSignals();
  SPOOR_ASSIGN_OR_RETURN(CoordinatorConfig config, LoadCoordinatorConfig(config_path));
  RealClock clock;
  std::unique_ptr<AlgorithmRegistry> algorithms = MakeBuiltinRegistry();
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<CoordinatorServer> server,
                         CoordinatorServer::Start(config, clock, *algorithms));
  int signal = WaitForSignal(signals);
  LogInfo("received signal ", signal, "; shutting down");
  server->Shutdown();
  LogInfo("stopped");
  return absl::OkStatus();
}

absl::Status RunNode(const std::string& config_path) {
  SetLogComponent("node");
  // Each round of a model fit allocates a few vectors of the data's length
  // (a few MB). glibc would serve each with a fresh mmap and every round
  // would fault in and zero new pages; from the heap they are reused. Larger
  // blocks (a dataset's columns, a model matrix) keep their own mappings, so
  // memory goes back to the system when a job's cache is dropped.
  // bench/README.md has the measurements behind the thresholds.
  ::mallopt(M_MMAP_THRESHOLD, 16 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
  sigset_t signals = BlockTerminationSignals();
  SPOOR_ASSIGN_OR_RETURN(NodeConfig config, LoadNodeConfig(config_path));
  SetLogComponent(absl::StrCat("node ", config.name));
  SPOOR_ASSIGN_OR_RETURN(TlsMaterial tls, LoadTlsMaterial(config.tls));
  if (tls.identity.role != Role::kNode) {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate ", config.tls.cert, " has role ", std::string(RoleName(tls.identity.role)),
        "; a node needs one issued with --role node"));
  }
  if (tls.identity.name != config.name) {
    return absl::FailedPreconditionError(
        absl::StrCat("certificate ", config.tls.cert, " is for '", tls.identity.name,
                     "' but node.toml says name = '", config.name, "'; make them equal"));
  }
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data_dir ", config.data_dir, ": ", ec.message()));
  }
  RealClock clock;
  // Signed with the node's own key at checkpoints (spoor audit verify).
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> audit,
                         AuditLog::Open(config.data_dir + "/audit.jsonl", clock,
                                        AuditSigner{tls.key_pem, tls.cert_pem}));
  DatasetCache datasets(config.datasets);
  // Load every dataset once now, so a broken file or query is reported at
  // start-up rather than to the first researcher. A source that is only
  // unavailable (a database down, a file being rewritten) does not stop the
  // node: each task tries it again.
  for (const DatasetConfig& dataset : config.datasets) {
    absl::Status loaded = datasets.Get(dataset.name).status();
    if (absl::IsUnavailable(loaded)) {
      LogWarning(loaded.message(), "; the node starts and tries again at each task");
    } else if (!loaded.ok()) {
      return loaded;
    }
  }
  std::unique_ptr<AlgorithmRegistry> algorithms = MakeBuiltinRegistry();
  DisclosureGate gate(config.disclosure);
  // Container algorithms, when the operator enabled them: the approval
  // queue, and the registry reached over a channel of its own.
  std::unique_ptr<ApprovalStore> approvals;
  std::unique_ptr<RegistryClient> registry;
  std::unique_ptr<NodeContainers> containers;
  if (config.containers.enabled) {
    SPOOR_ASSIGN_OR_RETURN(approvals, ApprovalStore::Open(config.data_dir + "/approvals.db"));
    registry = MakeGrpcRegistryClient(
        grpc::CreateChannel(config.coordinator, MakeChannelCredentials(tls)));
    SPOOR_ASSIGN_OR_RETURN(containers,
                           NodeContainers::Create(config.containers, *registry, *approvals, clock));
  }
  // The node's policy and privacy protections; the budget and the release
  // history live in data_dir, shared with `spoor node budget`.
  NodeProtections protections;
  protections.policy = config.policy;
  std::unique_ptr<ReleaseHistory> releases;
  if (config.privacy.differencing_guard) {
    SPOOR_ASSIGN_OR_RETURN(releases, ReleaseHistory::Open(config.data_dir + "/releases.db", clock));
    protections.history = releases.get();
  }
  std::unique_ptr<PrivacyBudget> budget;
  if (config.privacy.mechanism.has_value()) {
    SPOOR_ASSIGN_OR_RETURN(budget, PrivacyBudget::Open(config.data_dir + "/privacy.db", clock));
    protections.budget = budget.get();
    protections.dp = config.privacy.dp();
    protections.default_budget = config.privacy.budget;
  }
  // Secure aggregation: this node's X25519 key, announced in the hello.
  // A peer whose certificate the consortium revoked takes no part ([tls] crl).
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<RevocationList> revoked,
                         RevocationList::Load(tls.ca_pem, config.tls.crl));
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<SecureMasking> secure,
                         SecureMasking::Create(config.data_dir + "/secure_aggregation.key", tls,
                                               clock, revoked.get()));
  protections.secure = secure.get();
  protections.require_secure = config.privacy.require_secure;
  TaskExecutor executor(*algorithms, datasets, gate, *audit, containers.get(),
                        std::move(protections));

  v1::NodeHello hello;
  hello.set_node_id(config.name);
  hello.set_software_version(kVersion);
  for (const DatasetConfig& dataset : config.datasets) hello.add_datasets()->set_name(dataset.name);
  for (const std::string& name : algorithms->Names()) hello.add_algorithms(name);
  *hello.mutable_secure_key() = secure->announcement();

  LinkOptions options;
  options.coordinator = config.coordinator;
  CoordinatorLink link(options, MakeChannelCredentials(tls), hello, executor);
  std::thread watcher([&] {
    int signal = WaitForSignal(signals);
    LogInfo("received signal ", signal, "; shutting down");
    link.Stop();
  });
  LogInfo("starting; serving ", config.datasets.size(),
          " dataset(s), min_records = ", config.disclosure.min_records,
          config.containers.enabled ? ", container algorithms enabled" : "",
          config.privacy.differencing_guard ? ", differencing guard on" : "",
          config.privacy.mechanism.has_value()
              ? absl::StrCat(", differential privacy (",
                             std::string(DpMechanismName(*config.privacy.mechanism)), ", epsilon ",
                             config.privacy.epsilon, " per release)")
              : std::string(),
          ", connecting out to ", config.coordinator);
  link.Run();
  // Run() returns only after Stop(), which only the watcher calls.
  watcher.join();
  LogInfo("stopped");
  return absl::OkStatus();
}

}  // namespace spoor
