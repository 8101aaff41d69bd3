// spoor-bench roundtrip: see bench.h and bench/README.md.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "algorithms/algorithm.h"
#include "bench/bench.h"
#include "common/audit_log.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/pki.h"
#include "common/status.h"
#include "common/tls.h"
#include "coordinator/coordinator_server.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server_builder.h"
#include "nlohmann/json.hpp"
#include "node/coordinator_link.h"
#include "node/dataset_cache.h"
#include "node/task_executor.h"
#include "ping.grpc.pb.h"

namespace spoor::bench {
namespace {

namespace fs = std::filesystem;

class PingService final : public spoor::bench::Ping::CallbackService {
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context, const PingRequest* request,
                                 PingReply* reply) override {
    reply->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// An in-process node: its own dataset, audit log, executor and connection.
struct BenchNode {
  std::unique_ptr<DatasetCache> cache;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<DisclosureGate> gate;
  std::unique_ptr<TaskExecutor> executor;
  std::unique_ptr<CoordinatorLink> link;
  std::thread thread;
};

absl::Status WriteParty(const std::string& dir, const CertificateAndKey& ca,
                        const Identity& identity) {
  IssueOptions options;
  options.identity = identity;
  options.dns_names = {"localhost"};
  options.ip_addresses = {"127.0.0.1"};
  SPOOR_ASSIGN_OR_RETURN(CertificateAndKey issued, IssueCertificate(ca, options));
  SPOOR_RETURN_IF_ERROR(
      WriteFileAtomically(dir + "/" + identity.name + ".key", issued.private_key_pem, 0600));
  return WriteFileAtomically(dir + "/" + identity.name + ".crt", issued.certificate_pem);
}

TlsFiles Files(const std::string& dir, const std::string& name) {
  return {dir + "/ca.crt", dir + "/" + name + ".crt", dir + "/" + name + ".key"};
}

// Starts `spoor node --config CONFIG` from the directory of this binary.
absl::StatusOr<pid_t> SpawnNode(const std::string& config, const std::string& log) {
  std::error_code ec;
  fs::path spoor = fs::read_symlink("/proc/self/exe", ec).parent_path() / "spoor";
  if (ec || !fs::exists(spoor)) {
    return absl::NotFoundError("spoor binary not found next to spoor-bench; build it first");
  }
  pid_t pid = ::fork();
  if (pid < 0) return absl::ResourceExhaustedError("fork failed");
  if (pid == 0) {
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) ::dup2(out, 2);
    std::string path = spoor.string();
    ::execl(path.c_str(), path.c_str(), "node", "--config", config.c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}

double MicrosSince(absl::Time start) { return absl::ToDoubleMicroseconds(absl::Now() - start); }

// p50 of appending one audit-record-sized line to a file in `dir` and
// fdatasync()ing it, as AuditLog::Append does for every released aggregate.
absl::StatusOr<double> FdatasyncP50(const std::string& dir) {
  std::string path = dir + "/fdatasync-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot create ", path));
  std::string line(400, 'x');
  line.back() = '\n';
  std::vector<double> us;
  for (int i = 0; i < 200; ++i) {
    absl::Time start = absl::Now();
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
        ::fdatasync(fd) != 0) {
      ::close(fd);
      return absl::UnavailableError(absl::StrCat("cannot write ", path));
    }
    us.push_back(MicrosSince(start));
  }
  ::close(fd);
  fs::remove(path);
  return Percentile(std::move(us), 0.5);
}

}  // namespace

absl::Status Roundtrip(const RoundtripOptions& options) {
  if (options.nodes < 1 || options.rounds < 1) {
    return absl::InvalidArgumentError("--nodes and --rounds must be at least 1");
  }
  // Per-round log lines (job succeeded) would measure the terminal.
  SetLogLevel(LogLevel::kWarning);
  std::string tag = absl::StrCat("spoor-bench-", std::random_device{}());
  std::string dir = (fs::temp_directory_path() / tag).string();
  std::string node_parent = options.node_dir;
  if (node_parent.empty()) {
    node_parent = fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string();
  }
  std::string node_root = (fs::path(node_parent) / tag).string();
  std::error_code ec;
  fs::create_directories(dir + "/pki", ec);
  if (!ec) fs::create_directories(node_root, ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat("cannot create ", node_root, ": ", ec.message()));
  struct Cleanup {
    std::vector<std::string> dirs;
    ~Cleanup() {
      for (const std::string& d : dirs) fs::remove_all(d);
    }
  } cleanup{{dir, node_root}};
  SPOOR_ASSIGN_OR_RETURN(double fdatasync_p50, FdatasyncP50(dir));
  std::string pki = dir + "/pki";
  SPOOR_ASSIGN_OR_RETURN(CertificateAndKey ca, CreateCertificateAuthority(CaOptions()));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(pki + "/ca.crt", ca.certificate_pem));
  SPOOR_RETURN_IF_ERROR(WriteParty(pki, ca, {"coordinator", "Bench", Role::kCoordinator}));

  CoordinatorConfig config;
  config.listen = "127.0.0.1:0";
  config.data_dir = dir + "/coordinator";
  config.tls = Files(pki, "coordinator");
  // The benchmark measures any --nodes, one included: no minimum of sites,
  // here or at the nodes below.
  config.min_sites = 1;
  RealClock clock;
  std::unique_ptr<AlgorithmRegistry> algorithms = MakeBuiltinRegistry();
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<CoordinatorServer> server,
                         CoordinatorServer::Start(config, clock, *algorithms));

  std::string csv = dir + "/cohort.csv";
  std::string rows = "x\n";
  for (int i = 0; i < 50; ++i) absl::StrAppend(&rows, i, "\n");
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(csv, rows));
  std::vector<std::unique_ptr<BenchNode>> nodes;
  std::vector<pid_t> processes;
  struct Reaper {
    std::vector<pid_t>& pids;
    ~Reaper() {
      for (pid_t pid : pids) ::kill(pid, SIGTERM);
      for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
    }
  } reaper{processes};
  for (int i = 0; i < options.nodes; ++i) {
    std::string name = absl::StrCat("node-", i);
    SPOOR_RETURN_IF_ERROR(WriteParty(pki, ca, {name, name, Role::kNode}));
    if (options.mode == "processes") {
      std::string config = absl::StrCat(dir, "/", name, ".toml");
      SPOOR_RETURN_IF_ERROR(WriteFileAtomically(
          config, absl::StrCat("name = \"", name, "\"\ncoordinator = \"", server->address(),
                               "\"\ndata_dir = \"", node_root, "/", name, "\"\n[tls]\nca = \"", pki,
                               "/ca.crt\"\ncert = \"", pki, "/", name, ".crt\"\nkey = \"", pki, "/",
                               name, ".key\"\n[disclosure]\nmin_sites = 1\n",
                               "[[datasets]]\nname = \"cohort\"\npath = \"", csv, "\"\n")));
      SPOOR_ASSIGN_OR_RETURN(pid_t pid, SpawnNode(config, absl::StrCat(dir, "/", name, ".log")));
      processes.push_back(pid);
      continue;
    }
    SPOOR_ASSIGN_OR_RETURN(TlsMaterial tls, LoadTlsMaterial(Files(pki, name)));
    auto node = std::make_unique<BenchNode>();
    node->cache =
        std::make_unique<DatasetCache>(std::vector<DatasetConfig>{CsvDataset("cohort", csv)});
    SPOOR_ASSIGN_OR_RETURN(node->audit, AuditLog::Open(node_root + "/" + name + ".audit", clock));
    node->gate = std::make_unique<DisclosureGate>(DisclosureRules{.min_sites = 1});
    node->executor =
        std::make_unique<TaskExecutor>(*algorithms, *node->cache, *node->gate, *node->audit);
    v1::NodeHello hello;
    hello.set_node_id(name);
    hello.add_datasets()->set_name("cohort");
    LinkOptions link;
    link.coordinator = server->address();
    node->link = std::make_unique<CoordinatorLink>(link, MakeChannelCredentials(tls), hello,
                                                   *node->executor);
    CoordinatorLink* raw = node->link.get();
    node->thread = std::thread([raw] { raw->Run(); });
    nodes.push_back(std::move(node));
  }
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    int connected = 0;
    for (const v1::NodeStatus& n : server->manager().ListNodes()) connected += n.connected();
    if (connected == options.nodes) break;
    if (absl::Now() > deadline) return absl::DeadlineExceededError("nodes did not attach");
    absl::SleepFor(absl::Milliseconds(5));
  }

  // Federated rounds.
  v1::JobSpec spec;
  spec.set_algorithm("count");
  spec.set_dataset("cohort");
  v1::Requester requester;
  requester.set_name("bench");
  std::vector<double> round_us;
  round_us.reserve(static_cast<size_t>(options.rounds));
  for (int r = 0; r < options.warmup + options.rounds; ++r) {
    absl::Notification done;
    bool ok = false;
    absl::Time start = absl::Now();
    SPOOR_ASSIGN_OR_RETURN(v1::Job job, server->manager().Submit(requester, spec));
    SPOOR_RETURN_IF_ERROR(server->manager()
                              .Watch(job.job_id(),
                                     [&](const v1::JobEvent& event) {
                                       if (!event.has_finished()) return;
                                       ok = event.finished().state() == v1::JOB_STATE_SUCCEEDED;
                                       done.Notify();
                                     })
                              .status());
    done.WaitForNotification();
    double us = MicrosSince(start);
    if (!ok) return absl::InternalError("a benchmark job failed; see the log above");
    if (r >= options.warmup) round_us.push_back(us);
  }

  // The reference: a bare unary call over the same kind of mTLS channel.
  SPOOR_ASSIGN_OR_RETURN(TlsMaterial server_tls, LoadTlsMaterial(Files(pki, "coordinator")));
  SPOOR_ASSIGN_OR_RETURN(TlsMaterial client_tls, LoadTlsMaterial(Files(pki, "node-0")));
  PingService ping;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", MakeServerCredentials(server_tls), &port);
  builder.RegisterService(&ping);
  std::unique_ptr<grpc::Server> ping_server = builder.BuildAndStart();
  if (!ping_server) return absl::UnavailableError("cannot start the ping server");
  auto stub = Ping::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), MakeChannelCredentials(client_tls)));
  std::vector<double> ping_us;
  PingRequest request;
  request.set_payload("ping");
  for (int r = 0; r < options.warmup + options.rounds; ++r) {
    grpc::ClientContext context;
    PingReply reply;
    absl::Time start = absl::Now();
    grpc::Status status = stub->Ping(&context, request, &reply);
    double us = MicrosSince(start);
    if (!status.ok()) return absl::UnavailableError(status.error_message());
    if (r >= options.warmup) ping_us.push_back(us);
  }
  ping_server->Shutdown();

  for (auto& node : nodes) node->link->Stop();
  for (auto& node : nodes) node->thread.join();
  server->Shutdown(absl::Milliseconds(100));

  double p50 = Percentile(round_us, 0.5), p99 = Percentile(round_us, 0.99);
  double ping50 = Percentile(ping_us, 0.5);
  if (options.json) {
    nlohmann::ordered_json out = {{"mode", options.mode},
                                  {"nodes", options.nodes},
                                  {"rounds", options.rounds},
                                  {"p50_us", p50},
                                  {"p99_us", p99},
                                  {"grpc_ping_p50_us", ping50},
                                  {"ratio_p50", p50 / ping50},
                                  {"node_dir", node_parent},
                                  {"fdatasync_p50_us", fdatasync_p50}};
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("federated round, %d nodes (%s), %d rounds: p50 %.0f us, p99 %.0f us\n",
                options.nodes, options.mode.c_str(), options.rounds, p50, p99);
    std::printf("bare gRPC unary call (mTLS):       p50 %.0f us\n", ping50);
    std::printf("ratio p50: %.1fx (target <= 20x, p50 <= 1000 us)\n", p50 / ping50);
    std::printf("nodes' audit logs in %s; one audit fdatasync on %s: p50 %.0f us\n",
                node_parent.c_str(), fs::temp_directory_path().c_str(), fdatasync_p50);
  }
  return absl::OkStatus();
}

}  // namespace spoor::bench
