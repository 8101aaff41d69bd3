// spoor node approvals list|approve|reject, spoor node budget [list|reset],
// spoor node logs, spoor node doctor: a node's local state, for the data
// steward and the operator on the node's host. They read node.toml and the
// files under its data_dir; none needs the node daemon to run (the approvals
// and privacy budget databases are shared with it).
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/algorithm_signature.h"
#include "common/clock.h"
#include "common/container_runner.h"
#include "common/runc_sandbox.h"
#include "common/status.h"
#include "common/tls.h"
#include "grpcpp/create_channel.h"
#include "node/approvals.h"
#include "node/node_config.h"
#include "node/node_containers.h"
#include "node/privacy_budget.h"

namespace spoor {
namespace {

namespace fs = std::filesystem;

std::string ApprovalsPath(const NodeConfig& config) { return config.data_dir + "/approvals.db"; }

std::string FormatApprovalTime(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

nlohmann::ordered_json ApprovalToJson(const Approval& a) {
  const bool decided = a.state != ApprovalState::kPending;
  return {
      {"digest", a.digest},
      {"reference", a.reference},
      {"state", ApprovalStateName(a.state)},
      {"signer", a.signer},
      {"description", a.description},
      {"requested_by", a.requested_by},
      {"requested_at", FormatApprovalTime(a.requested_at)},
      {"decided_at", decided ? nlohmann::ordered_json(FormatApprovalTime(a.decided_at)) : nullptr},
      {"decided_by", decided ? nlohmann::ordered_json(a.decided_by) : nullptr},
      {"note", a.note}};
}

// A stderr note when the queue is not in use, so an empty list is not
// mistaken for "nothing asked".
void NoteApprovalPolicy(const ContainerPolicy& policy) {
  if (!policy.enabled) {
    std::cerr << "note: [containers] is not enabled in this node.toml; the node runs no "
                 "container algorithm, approved or not\n";
  } else if (!policy.require_local_approval) {
    std::cerr << "note: require_local_approval is off; the node runs only what [containers] "
                 "allow lists, and queues nothing\n";
  }
}

absl::StatusOr<NodeConfig> LoadNodeConfigFor(const std::string& config_path) {
  absl::StatusOr<NodeConfig> config = LoadNodeConfig(config_path);
  if (absl::IsNotFound(config.status())) {
    return absl::NotFoundError(
        absl::StrCat(config.status().message(), "; pass --config with this node's node.toml"));
  }
  return config;
}

}  // namespace

absl::Status NodeApprovalsListCommand(const std::string& config_path, const OutputOptions& output) {
  SPOOR_ASSIGN_OR_RETURN(NodeConfig config, LoadNodeConfigFor(config_path));
  NoteApprovalPolicy(config.containers);
  std::vector<Approval> approvals;
  std::error_code error;
  // Listing creates nothing: no database yet means nothing was queued.
  if (fs::exists(ApprovalsPath(config), error)) {
    SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<ApprovalStore> store,
                           ApprovalStore::Open(ApprovalsPath(config)));
    SPOOR_ASSIGN_OR_RETURN(approvals, store->List());
  }
  if (output.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Approval& a : approvals) list.push_back(ApprovalToJson(a));
    std::cout << nlohmann::ordered_json{{"approvals", std::move(list)}}.dump(2) << "\n";
    return absl::OkStatus();
  }
  if (approvals.empty()) {
    std::cout << "no algorithm has asked for approval at this node yet\n";
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> rows;
  int pending = 0;
  for (const Approval& a : approvals) {
    pending += a.state == ApprovalState::kPending;
    std::string decided;
    if (a.state != ApprovalState::kPending) {
      decided = absl::StrCat(FormatApprovalTime(a.decided_at), " by ", a.decided_by);
    }
    rows.push_back({a.reference, ShortDigest(a.digest), ApprovalStateName(a.state), a.signer,
                    a.requested_by, FormatApprovalTime(a.requested_at), decided, a.note});
  }
  std::cout << FormatTable(
      {"algorithm", "digest", "state", "signer", "requested by", "requested", "decided", "note"},
      rows, {});
  if (pending > 0) {
    std::cout << "\n"
              << pending
              << " pending; decide with `spoor node approvals approve|reject ALGORITHM --config "
              << config_path << "` (a digest prefix names one version)\n";
  }
  return absl::OkStatus();
}

// Queues NAME@VERSION as the registry describes it, for a data steward who
// decides before any task has asked: the record is fetched with the node's
// own certificate and its signature checked against the node's own trusted
// signers, as a task would.
absl::Status QueueFromRegistry(const NodeConfig& config, const std::string& reference,
                               const std::string& by, ApprovalStore& store) {
  SPOOR_ASSIGN_OR_RETURN(TlsMaterial tls, LoadTlsMaterial(config.tls));
  std::unique_ptr<RegistryClient> registry =
      MakeGrpcRegistryClient(grpc::CreateChannel(config.coordinator, MakeChannelCredentials(tls)));
  absl::StatusOr<v1::AlgorithmRecord> record = registry->GetAlgorithm(reference);
  if (!record.ok()) {
    return absl::Status(
        record.status().code(),
        absl::StrCat("nothing called '", reference, "' waits for approval, and the registry at ",
                     config.coordinator, " says: ", record.status().message()));
  }
  SPOOR_ASSIGN_OR_RETURN(std::vector<TrustedSigner> signers,
                         LoadTrustedSigners(config.containers.trusted_signers));
  absl::StatusOr<TrustedSigner> signer = VerifyRecordSignatures(*record, signers);
  if (!signer.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(reference, " cannot run at this node: ", signer.status().message()));
  }
  Approval pending;
  pending.digest = record->manifest_digest();
  pending.reference = reference;
  pending.signer = signer->name;
  pending.description = record->description();
  pending.requested_by = by;
  pending.requested_at = absl::Now();
  return store.FindOrQueue(pending).status();
}

absl::Status NodeApprovalsDecideCommand(const std::string& config_path,
                                        const NodeDecisionOptions& options) {
  SPOOR_ASSIGN_OR_RETURN(NodeConfig config, LoadNodeConfigFor(config_path));
  NoteApprovalPolicy(config.containers);
  std::string key(absl::StripAsciiWhitespace(options.reference));
  // A bare hex prefix, as people copy it, is a digest prefix.
  if (!absl::StrContains(key, ':') && !absl::StrContains(key, '@') && key.size() >= 12 &&
      std::all_of(key.begin(), key.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
    key = absl::StrCat("sha256:", absl::AsciiStrToLower(key));
  }
  if (absl::StartsWith(key, "sha256:") && key.size() < 7 + 12) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", key, "' is too short to name an image; give at least 12 hex digits of the digest"));
  }
  std::string by = options.by;
  if (by.empty()) {
    const char* user = std::getenv("USER");
    by = user != nullptr && *user != '\0' ? user : "data steward";
  }
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<ApprovalStore> store,
                         ApprovalStore::Open(ApprovalsPath(config)));
  absl::StatusOr<Approval> decided =
      store->Decide(key, options.approve, by, options.note, absl::Now());
  if (absl::IsNotFound(decided.status()) && absl::StrContains(key, '@')) {
    // Not asked for yet: decide ahead of the first task.
    SPOOR_RETURN_IF_ERROR(QueueFromRegistry(config, key, by, *store));
    decided = store->Decide(key, options.approve, by, options.note, absl::Now());
  }
  if (!decided.ok()) return decided.status();
  std::cout << ApprovalStateName(decided->state) << " " << decided->reference << " ("
            << decided->digest << ") by " << decided->decided_by << "; "
            << (options.approve ? "the node runs it from its next task"
                                : "the node refuses its tasks")
            << "\n";
  return absl::OkStatus();
}

absl::Status NodeLogsCommand(const std::string& config_path, const std::string& run_id) {
  SPOOR_ASSIGN_OR_RETURN(NodeConfig config, LoadNodeConfigFor(config_path));
  SPOOR_ASSIGN_OR_RETURN(std::string log, ReadContainerLog(config.containers.work_dir, run_id));
  std::cout << log;
  if (!log.empty() && log.back() != '\n') std::cout << "\n";
  return absl::OkStatus();
}

namespace {

// Prints checks as they are made, and counts the failures.
class DoctorReport {
 public:
  void Add(bool ok, const std::string& name, const std::string& detail) {
    std::cout << (ok ? "ok    " : "FAIL  ") << name << ": " << detail << "\n";
    std::cout.flush();
    if (!ok) ++problems_;
  }
  void Add(const std::string& name, const absl::Status& status, const std::string& ok_detail) {
    Add(status.ok(), name, status.ok() ? ok_detail : std::string(status.message()));
  }
  int problems() const { return problems_; }

 private:
  int problems_ = 0;
};

// OK if the process can create files in `dir`, or, when it does not exist
// yet, create it in its nearest existing ancestor (as the node does at
// start). Probes by creating and removing a file.
absl::Status CheckWritableDirectory(const std::string& dir, std::string& detail) {
  std::error_code error;
  fs::path path = fs::absolute(dir, error);
  if (!fs::exists(path, error)) {
    fs::path ancestor = path.parent_path();
    while (!ancestor.empty() && !fs::exists(ancestor, error) && ancestor != ancestor.root_path()) {
      ancestor = ancestor.parent_path();
    }
    if (::access(ancestor.c_str(), W_OK | X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir, " does not exist and ", ancestor.string(),
                       " is not writable; create it for the user the node runs as"));
    }
    detail = absl::StrCat(dir, " does not exist yet; the node creates it");
    return absl::OkStatus();
  }
  if (!fs::is_directory(path, error)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  }
  const std::string probe = (path / absl::StrCat(".spoor-doctor-", ::getpid())).string();
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not writable (",
                                                      std::strerror(errno),
                                                      "); give it to the user the node runs as"));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  detail = absl::StrCat(dir, " is writable");
  return absl::OkStatus();
}

// Resolves `address` ("host:port", "[v6]:port") and opens a TCP connection
// to one of its addresses within `timeout`. Says which address answered.
absl::StatusOr<std::string> CheckTcpConnect(const std::string& address, absl::Duration timeout) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("coordinator = \"", address, "\" is not host:port"));
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host, " (", ::gai_strerror(rc),
                                               "); check coordinator in node.toml and DNS"));
  }
  const absl::Time deadline = absl::Now() + timeout;
  std::string last_error = "no address";
  std::string answered;
  for (addrinfo* ai = found; ai != nullptr && answered.empty(); ai = ai->ai_next) {
    char numeric[NI_MAXHOST] = "";
    ::getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric), nullptr, 0,
                  NI_NUMERICHOST);
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
      rc = ::poll(&pfd, 1, static_cast<int>(ms));
      if (rc == 1) {
        int so_error = 0;
        socklen_t len = sizeof(so_error);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
        rc = so_error == 0 ? 0 : -1;
        if (so_error != 0) last_error = absl::StrCat(numeric, ": ", std::strerror(so_error));
      } else {
        rc = -1;
        last_error = absl::StrCat(numeric, ": no answer within ", absl::FormatDuration(timeout));
      }
    } else if (rc != 0) {
      last_error = absl::StrCat(numeric, ": ", std::strerror(errno));
    }
    ::close(fd);
    if (rc == 0) answered = numeric;
  }
  ::freeaddrinfo(found);
  if (answered.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", address, " (", last_error,
                     "); check that the coordinator runs and that the firewall lets this host "
                     "out to it"));
  }
  return answered;
}

void CheckContainers(const NodeConfig& config, DoctorReport& report) {
  const ContainerPolicy& policy = config.containers;
  if (!policy.enabled) {
    report.Add(true, "containers", "disabled in node.toml; the node runs built-in algorithms only");
    return;
  }
  for (const SandboxCheck& check : CheckSandboxHost(policy.runc)) {
    report.Add(check.ok, absl::StrCat("sandbox ", check.name), check.detail);
  }
  for (const std::string& path : policy.trusted_signers) {
    absl::StatusOr<TrustedSigner> signer = LoadTrustedSigner(path);
    report.Add(absl::StrCat("trusted signer ", path), signer.status(),
               signer.ok() ? absl::StrCat(signer->name, ", key ", signer->key_id) : "");
  }
  std::string detail;
  absl::Status writable = CheckWritableDirectory(policy.work_dir, detail);
  report.Add("containers work_dir", writable, detail);
}

}  // namespace

absl::Status NodeDoctorCommand(const std::string& config_path) {
  DoctorReport report;
  absl::StatusOr<NodeConfig> loaded = LoadNodeConfigFor(config_path);
  if (!loaded.ok()) {
    report.Add(false, "config", std::string(loaded.status().message()));
    return absl::FailedPreconditionError(
        "1 problem(s) found; fix node.toml first, the other checks need it");
  }
  const NodeConfig& config = *loaded;
  report.Add(true, "config",
             absl::StrCat(config_path, " loads: node ", config.name, ", ", config.datasets.size(),
                          " dataset(s)"));

  absl::StatusOr<TlsMaterial> tls = LoadTlsMaterial(config.tls);
  report.Add("tls", tls.status(),
             absl::StrCat(config.tls.cert, " was issued by ", config.tls.ca, "; its key ",
                          config.tls.key, " is private (mode 0600)"));
  if (tls.ok()) {
    const Identity& identity = tls->identity;
    if (identity.role != Role::kNode) {
      report.Add(false, "certificate",
                 absl::StrCat(config.tls.cert, " has role ", std::string(RoleName(identity.role)),
                              "; a node needs one issued with --role node"));
    } else if (identity.name != config.name) {
      report.Add(false, "certificate",
                 absl::StrCat(config.tls.cert, " is for '", identity.name,
                              "' but node.toml says name = '", config.name, "'; make them equal"));
    } else {
      report.Add(true, "certificate",
                 absl::StrCat(identity.name, " (", identity.organisation, "), role node"));
    }
  }

  std::string detail;
  absl::Status data_dir = CheckWritableDirectory(config.data_dir, detail);
  report.Add("data_dir", data_dir, detail);

  CheckContainers(config, report);

  absl::StatusOr<std::string> answered = CheckTcpConnect(config.coordinator, absl::Seconds(3));
  report.Add("coordinator", answered.status(),
             answered.ok()
                 ? absl::StrCat(config.coordinator, " (", *answered, ") accepts TCP connections")
                 : "");

  if (report.problems() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(report.problems(), " problem(s) found; fix the lines marked FAIL above"));
  }
  std::cout << "no problems found\n";
  return absl::OkStatus();
}

}  // namespace spoor

// --- spoor node budget: the data steward's view of the privacy budget ---

namespace spoor {
namespace {

std::string BudgetPath(const NodeConfig& config) { return config.data_dir + "/privacy.db"; }

double BudgetLimit(const NodeConfig& config, const DatasetConfig* dataset) {
  return dataset != nullptr && dataset->privacy_budget.has_value() ? *dataset->privacy_budget
                                                                   : config.privacy.budget;
}

const DatasetConfig* FindDataset(const NodeConfig& config, const std::string& name) {
  for (const DatasetConfig& dataset : config.datasets) {
    if (dataset.name == name) return &dataset;
  }
  return nullptr;
}

struct BudgetRow {
  std::string dataset;
  bool configured = false;  // declared in node.toml
  PrivacyBudget::Entry entry;
};

// Every dataset of node.toml (spent or not), then any other dataset with
// spends (one renamed or removed since), by name.
std::vector<BudgetRow> BudgetRows(const NodeConfig& config,
                                  const std::vector<PrivacyBudget::Entry>& entries) {
  std::map<std::string, BudgetRow> rows;
  for (const DatasetConfig& dataset : config.datasets) {
    BudgetRow& row = rows[dataset.name];
    row.dataset = dataset.name;
    row.configured = true;
    row.entry.dataset = dataset.name;
    row.entry.last = absl::InfinitePast();
  }
  for (const PrivacyBudget::Entry& entry : entries) {
    BudgetRow& row = rows[entry.dataset];
    row.dataset = entry.dataset;
    row.entry = entry;
  }
  std::vector<BudgetRow> out;
  for (auto& [name, row] : rows) out.push_back(std::move(row));
  return out;
}

void NotePrivacyOff(const NodeConfig& config) {
  if (!config.privacy.mechanism.has_value()) {
    std::cerr << "note: [privacy] mechanism is not set in this node.toml; the node adds no noise "
                 "and spends no privacy budget\n";
  }
}

}  // namespace

absl::Status NodeBudgetList(const std::string& config_path, const OutputOptions& output) {
  SPOOR_ASSIGN_OR_RETURN(NodeConfig config, LoadNodeConfigFor(config_path));
  NotePrivacyOff(config);
  std::vector<PrivacyBudget::Entry> entries;
  std::error_code error;
  // Listing creates nothing: no database yet means nothing was spent.
  if (fs::exists(BudgetPath(config), error)) {
    RealClock clock;
    SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<PrivacyBudget> budget,
                           PrivacyBudget::Open(BudgetPath(config), clock));
    SPOOR_ASSIGN_OR_RETURN(entries, budget->List());
  }
  const std::vector<BudgetRow> rows = BudgetRows(config, entries);
  if (output.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const BudgetRow& row : rows) {
      const double limit = BudgetLimit(config, FindDataset(config, row.dataset));
      list.push_back({{"dataset", row.dataset},
                      {"configured", row.configured},
                      {"spent", row.entry.spent},
                      {"limit", row.configured ? nlohmann::ordered_json(limit) : nullptr},
                      {"delta_spent", row.entry.delta_spent},
                      {"releases", row.entry.releases},
                      {"last", row.entry.releases > 0
                                   ? nlohmann::ordered_json(FormatApprovalTime(row.entry.last))
                                   : nullptr}});
    }
    nlohmann::ordered_json mechanism = nullptr;
    if (config.privacy.mechanism.has_value()) {
      mechanism = std::string(DpMechanismName(*config.privacy.mechanism));
    }
    std::cout << nlohmann::ordered_json{{"mechanism", mechanism},
                                        {"epsilon_per_release", config.privacy.epsilon},
                                        {"datasets", std::move(list)}}
                     .dump(2)
              << "\n";
    return absl::OkStatus();
  }
  std::vector<std::vector<std::string>> table;
  for (const BudgetRow& row : rows) {
    const double limit = BudgetLimit(config, FindDataset(config, row.dataset));
    table.push_back({row.dataset, FormatNumber(row.entry.spent),
                     row.configured ? FormatNumber(limit) : "- (not in node.toml)",
                     absl::StrCat(row.entry.releases),
                     row.entry.releases > 0 ? FormatApprovalTime(row.entry.last) : ""});
  }
  std::cout << FormatTable(
      {"dataset", "spent", "limit", "releases", "last"}, table,
      {Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kLeft});
  if (config.privacy.mechanism.has_value()) {
    std::cout << "\nepsilon per release: " << FormatNumber(config.privacy.epsilon) << " ("
              << DpMechanismName(*config.privacy.mechanism)
              << "); reset a dataset with `spoor node budget reset DATASET --config " << config_path
              << "`\n";
  }
  return absl::OkStatus();
}

absl::Status NodeBudgetReset(const std::string& config_path, const std::string& dataset) {
  SPOOR_ASSIGN_OR_RETURN(NodeConfig config, LoadNodeConfigFor(config_path));
  NotePrivacyOff(config);
  std::error_code error;
  std::vector<PrivacyBudget::Entry> entries;
  RealClock clock;
  std::unique_ptr<PrivacyBudget> budget;
  if (fs::exists(BudgetPath(config), error)) {
    SPOOR_ASSIGN_OR_RETURN(budget, PrivacyBudget::Open(BudgetPath(config), clock));
    SPOOR_ASSIGN_OR_RETURN(entries, budget->List());
  }
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const PrivacyBudget::Entry& e) { return e.dataset == dataset; });
  const DatasetConfig* configured = FindDataset(config, dataset);
  if (it == entries.end()) {
    if (configured == nullptr) {
      // Most likely a typo: say so rather than "reset" nothing.
      return absl::NotFoundError(absl::StrCat("this node has no dataset '", dataset,
                                              "' and no privacy spends for it; see `spoor node "
                                              "budget --config ",
                                              config_path, "`"));
    }
    std::cout << "dataset '" << dataset << "' has spent nothing; nothing to reset\n";
    return absl::OkStatus();
  }
  const PrivacyBudget::Entry before = *it;
  SPOOR_ASSIGN_OR_RETURN(int64_t removed, budget->Reset(dataset));
  std::cout << "reset the privacy budget of dataset '" << dataset << "': removed " << removed
            << " release(s) (epsilon spent before the reset: " << FormatNumber(before.spent)
            << ", the last release at " << FormatApprovalTime(before.last) << ")";
  if (configured != nullptr) {
    std::cout << "; it has " << FormatNumber(BudgetLimit(config, configured)) << " to spend again";
  }
  std::cout << "\n";
  return absl::OkStatus();
}

}  // namespace spoor
