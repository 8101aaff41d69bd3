// spoor sandbox start | stop: a coordinator and one node process per
// cohort on loopback, with a fresh consortium PKI, for trying spoor and for
// tests. Everything lives in DIR:
//   DIR/pki/            CA, coordinator, researcher, reviewer, admin and node
//                       certificates; signer.key/.pub, the consortium's
//                       algorithm signing key, trusted by the registry and
//                       every node
//   DIR/coordinator.toml, DIR/coordinator/ (jobs.db, registry/, address)
//   DIR/nodes/NAME.toml, DIR/nodes/NAME/ (audit.jsonl, approvals.db,
//                       containers/): container algorithms enabled, each
//                       waiting for the node's local approval
//   DIR/logs/*.log      each daemon's stderr
//   DIR/client.toml     for `spoor --config DIR/client.toml ...`
//   DIR/reviewer-a.toml, DIR/reviewer-b.toml   two reviewers of two
//                       organisations (the registry's 2-of-2 policy)
//   DIR/admin.toml      the consortium admin (revokes algorithms, manages studies;
//                       the sandbox makes one study, "sandbox", of every node and
//                       the researcher)
//   DIR/sandbox.pids    the daemons' process ids, for stop
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "algorithms/disclosure_gate.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "common/algorithm_signature.h"
#include "common/file_util.h"
#include "common/pki.h"
#include "common/status.h"

namespace spoor {
namespace {

namespace fs = std::filesystem;

constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr char kSandboxStudy[] = "sandbox";
constexpr absl::Duration kStopTimeout = absl::Seconds(10);

// `min_sites = N` for the coordinator's and every node's [disclosure] when
// the sandbox has fewer nodes than the default minimum, with a comment that
// says why; empty otherwise, so the defaults apply as in a real consortium.
// Without it a one- or two-node sandbox could run no job at all.
std::string SandboxMinSites(size_t nodes) {
  const int64_t default_min_sites = DisclosureRules().min_sites;
  if (static_cast<int64_t>(nodes) >= default_min_sites) return "";
  return absl::StrCat("# This sandbox has ", nodes, " node(s), fewer than the default minimum of ",
                      default_min_sites,
                      " sites per job;\n# lowered to match so that jobs can run. Keep the "
                      "default in a real consortium.\nmin_sites = ",
                      nodes, "\n");
}

struct Daemon {
  std::string name;  // "coordinator" or the node's name
  pid_t pid = 0;
};

absl::StatusOr<std::string> SelfExe() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return absl::InternalError("cannot find the spoor executable (/proc/self/exe)");
  return exe.string();
}

// Starts `spoor <args>` detached (own session), stdout and stderr to `log`.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& args, const std::string& log) {
  SPOOR_ASSIGN_OR_RETURN(std::string exe, SelfExe());
  pid_t pid = ::fork();
  if (pid < 0) return absl::ResourceExhaustedError("cannot start a process (fork failed)");
  if (pid == 0) {
    ::setsid();
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// Alive and not a zombie.
bool Alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  size_t close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

std::string LogTail(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok() || text->empty()) return "";
  absl::string_view view = absl::StripTrailingAsciiWhitespace(*text);
  size_t start = view.rfind('\n');
  return std::string(start == absl::string_view::npos ? view : view.substr(start + 1));
}

absl::Status WritePids(const std::string& dir, const std::vector<Daemon>& daemons) {
  std::string out;
  for (const Daemon& d : daemons) absl::StrAppend(&out, d.name, " ", d.pid, "\n");
  return WriteFileAtomically(dir + "/sandbox.pids", out);
}

absl::StatusOr<std::vector<Daemon>> ReadPids(const std::string& dir) {
  SPOOR_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/sandbox.pids"));
  std::vector<Daemon> daemons;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    Daemon d;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &d.pid)) continue;
    d.name = parts[0];
    daemons.push_back(d);
  }
  return daemons;
}

void StopDaemons(const std::vector<Daemon>& daemons) {
  // Nodes first, so the coordinator sees them leave; then the coordinator.
  for (const Daemon& d : daemons) {
    if (d.pid > 0 && Alive(d.pid)) {
      ::kill(d.pid, SIGTERM);
      ::kill(d.pid, SIGCONT);  // a stopped process acts on SIGTERM only once resumed
    }
  }
  absl::Time deadline = absl::Now() + kStopTimeout;
  for (const Daemon& d : daemons) {
    while (d.pid > 0 && Alive(d.pid) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (d.pid > 0 && Alive(d.pid)) ::kill(d.pid, SIGKILL);
  }
}

absl::Status WriteIdentity(const std::string& pki, const CertificateAndKey& ca,
                           const Identity& identity, std::vector<std::string> dns = {},
                           std::vector<std::string> ips = {}) {
  IssueOptions options;
  options.identity = identity;
  options.dns_names = std::move(dns);
  options.ip_addresses = std::move(ips);
  SPOOR_ASSIGN_OR_RETURN(CertificateAndKey issued, IssueCertificate(ca, options));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(pki, "/", identity.name, ".key"),
                                            issued.private_key_pem, 0600));
  return WriteFileAtomically(absl::StrCat(pki, "/", identity.name, ".crt"), issued.certificate_pem,
                             0644);
}

std::string TlsTable(const std::string& pki, const std::string& name) {
  return absl::StrCat("[tls]\nca = \"", pki, "/ca.crt\"\ncert = \"", pki, "/", name,
                      ".crt\"\nkey = \"", pki, "/", name, ".key\"\ncrl = \"", pki, "/crl.pem\"\n");
}

struct NodeSpec {
  std::string name;
  std::string csv;
};

absl::StatusOr<std::vector<NodeSpec>> ParseNodeSpecs(const SandboxOptions& options,
                                                     const std::string& dir) {
  std::vector<NodeSpec> specs;
  if (options.nodes > 0 && !options.node_specs.empty()) {
    return absl::InvalidArgumentError("use either --nodes N or --node NAME=FILE.csv, not both");
  }
  if (options.nodes > 0) {
    if (options.nodes > 64) return absl::InvalidArgumentError("--nodes is at most 64");
    fs::create_directories(dir + "/data");
    for (int i = 1; i <= options.nodes; ++i) {
      NodeSpec spec{absl::StrCat("node-", i), absl::StrCat(dir, "/data/node-", i, ".csv")};
      SPOOR_RETURN_IF_ERROR(WriteSyntheticCohort(spec.csv, 200 + 50 * i, 1000 + i));
      specs.push_back(spec);
    }
    return specs;
  }
  if (options.node_specs.empty()) {
    return absl::InvalidArgumentError(
        "no nodes given; pass --nodes N or one --node NAME=FILE.csv per node");
  }
  std::map<std::string, int> seen;
  for (const std::string& s : options.node_specs) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
      return absl::InvalidArgumentError(absl::StrCat("--node '", s, "' is not NAME=FILE.csv"));
    }
    NodeSpec spec{s.substr(0, eq), s.substr(eq + 1)};
    if (seen[spec.name]++) {
      return absl::InvalidArgumentError(absl::StrCat("node name '", spec.name, "' is used twice"));
    }
    std::error_code ec;
    fs::path csv = fs::absolute(spec.csv, ec);
    if (ec || !fs::is_regular_file(csv)) {
      return absl::NotFoundError(absl::StrCat("--node ", spec.name, ": no file ", spec.csv));
    }
    spec.csv = csv.string();
    specs.push_back(spec);
  }
  return specs;
}

absl::Status WaitForNodes(const std::string& client_toml, const std::vector<NodeSpec>& nodes,
                          const std::vector<Daemon>& daemons, const std::string& logs) {
  SPOOR_ASSIGN_OR_RETURN(ClientConfig config, LoadClientConfig(client_toml));
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<ResearchClient> client, ResearchClient::Connect(config));
  absl::Time deadline = absl::Now() + kStartTimeout;
  while (absl::Now() < deadline) {
    for (const Daemon& d : daemons) {
      if (!Alive(d.pid)) {
        std::string log = absl::StrCat(logs, "/", d.name, ".log");
        return absl::FailedPreconditionError(absl::StrCat(
            d.name, " exited during start-up: ", LogTail(log), " (full log: ", log, ")"));
      }
    }
    absl::StatusOr<std::vector<v1::NodeStatus>> status = client->ListNodes();
    if (status.ok()) {
      size_t connected = 0;
      for (const v1::NodeStatus& n : *status) connected += n.connected() ? 1 : 0;
      if (connected == nodes.size()) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "not every node attached within ", absl::FormatDuration(kStartTimeout), "; see ", logs));
}

absl::Status CreateSandboxStudy(const std::string& admin_toml, const std::vector<NodeSpec>& nodes) {
  SPOOR_ASSIGN_OR_RETURN(ClientConfig config, LoadClientConfig(admin_toml));
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<ResearchClient> admin, ResearchClient::Connect(config));
  SPOOR_RETURN_IF_ERROR(admin->CreateStudy(kSandboxStudy).status());
  v1::ChangeStudyRequest change;
  change.set_study(kSandboxStudy);
  change.set_researcher("researcher");
  SPOOR_RETURN_IF_ERROR(admin->ChangeStudy(change).status());
  for (const NodeSpec& node : nodes) {
    change.set_organisation(node.name);  // a sandbox node's organisation is its name
    SPOOR_RETURN_IF_ERROR(admin->ChangeStudy(change).status());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SandboxStart(const SandboxOptions& options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("--dir is required");
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", options.dir, ": ", ec.message()));
  }
  std::string dir = fs::canonical(options.dir).string();
  if (absl::StatusOr<std::vector<Daemon>> running = ReadPids(dir); running.ok()) {
    for (const Daemon& d : *running) {
      if (Alive(d.pid)) {
        return absl::AlreadyExistsError(absl::StrCat("a sandbox is already running in ", dir,
                                                     "; stop it with `spoor sandbox stop --dir ",
                                                     dir, "`"));
      }
    }
  }
  SPOOR_ASSIGN_OR_RETURN(std::vector<NodeSpec> nodes, ParseNodeSpecs(options, dir));

  // A fresh consortium PKI.
  std::string pki = dir + "/pki", logs = dir + "/logs";
  fs::remove_all(pki);
  fs::remove_all(dir + "/coordinator");
  fs::remove_all(dir + "/nodes");
  fs::create_directories(pki);
  fs::create_directories(logs);
  fs::create_directories(dir + "/nodes");
  CaOptions ca_options;
  ca_options.consortium = "spoor sandbox";
  SPOOR_ASSIGN_OR_RETURN(CertificateAndKey ca, CreateCertificateAuthority(ca_options));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(pki + "/ca.key", ca.private_key_pem, 0600));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(pki + "/ca.crt", ca.certificate_pem, 0644));
  // Every party re-reads it on each call: `spoor pki revoke --dir PKI` takes
  // effect in the sandbox at once.
  SPOOR_ASSIGN_OR_RETURN(std::string crl, CreateRevocationList(ca, {}, absl::Now()));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(pki + "/crl.pem", crl, 0644));
  SPOOR_RETURN_IF_ERROR(WriteIdentity(pki, ca,
                                      {"coordinator", "Sandbox Consortium", Role::kCoordinator},
                                      {"localhost"}, {"127.0.0.1"}));
  SPOOR_RETURN_IF_ERROR(
      WriteIdentity(pki, ca, {"researcher", "Sandbox University", Role::kResearcher}));
  SPOOR_RETURN_IF_ERROR(
      WriteIdentity(pki, ca, {"reviewer-a", "Sandbox Hospital A", Role::kReviewer}));
  SPOOR_RETURN_IF_ERROR(
      WriteIdentity(pki, ca, {"reviewer-b", "Sandbox Hospital B", Role::kReviewer}));
  SPOOR_RETURN_IF_ERROR(WriteIdentity(pki, ca, {"admin", "Sandbox Consortium", Role::kAdmin}));
  SPOOR_ASSIGN_OR_RETURN(SigningKeyPair signer, GenerateSigningKey());
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(pki + "/signer.key", signer.private_pem, 0600));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(pki + "/signer.pub", signer.public_pem, 0644));
  for (const NodeSpec& node : nodes) {
    SPOOR_RETURN_IF_ERROR(WriteIdentity(pki, ca, {node.name, node.name, Role::kNode}));
  }

  std::vector<Daemon> daemons;
  auto fail = [&](absl::Status status) {
    StopDaemons(daemons);
    (void)WritePids(dir, {});
    return status;
  };

  // The coordinator, on a port of its choosing.
  std::string coordinator_toml = dir + "/coordinator.toml";
  std::string min_sites = SandboxMinSites(nodes.size());
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(
      coordinator_toml,
      absl::StrCat("listen = \"127.0.0.1:0\"\ndata_dir = \"", dir, "/coordinator\"\n\n",
                   TlsTable(pki, "coordinator"), "\n[jobs]\nnode_timeout_seconds = ",
                   options.node_timeout_seconds, "\n", "\n[registry]\ntrusted_signers = [\"", pki,
                   "/signer.pub\"]\n", "required_approvals = 2\nrequired_organisations = 2\n",
                   min_sites.empty() ? "" : "\n[disclosure]\n", min_sites)));
  SPOOR_ASSIGN_OR_RETURN(pid_t coordinator, Spawn({"coordinator", "--config", coordinator_toml},
                                                  logs + "/coordinator.log"));
  daemons.push_back({"coordinator", coordinator});
  SPOOR_RETURN_IF_ERROR(WritePids(dir, daemons));
  std::string address;
  absl::Time deadline = absl::Now() + kStartTimeout;
  while (address.empty()) {
    if (absl::StatusOr<std::string> a = ReadFile(dir + "/coordinator/address"); a.ok()) {
      address = std::string(absl::StripAsciiWhitespace(*a));
      break;
    }
    if (!Alive(coordinator)) {
      return fail(absl::FailedPreconditionError(absl::StrCat(
          "the coordinator exited during start-up: ", LogTail(logs + "/coordinator.log"))));
    }
    if (absl::Now() > deadline) {
      return fail(absl::DeadlineExceededError("the coordinator did not start listening in time"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }

  std::string container_limits;
  if (options.container_timeout_seconds > 0) {
    absl::StrAppend(&container_limits, "timeout_seconds = ", options.container_timeout_seconds,
                    "\n");
  }
  if (options.container_memory_mb > 0) {
    absl::StrAppend(&container_limits, "memory_mb = ", options.container_memory_mb, "\n");
  }
  if (options.container_max_processes > 0) {
    absl::StrAppend(&container_limits, "max_processes = ", options.container_max_processes, "\n");
  }
  for (const NodeSpec& node : nodes) {
    std::string toml = absl::StrCat(dir, "/nodes/", node.name, ".toml");
    absl::Status written = WriteFileAtomically(
        toml,
        absl::StrCat("name = \"", node.name, "\"\ncoordinator = \"", address, "\"\ndata_dir = \"",
                     dir, "/nodes/", node.name, "\"\n\n", TlsTable(pki, node.name),
                     "\n[disclosure]\nmin_records = ", options.min_records, "\n", min_sites,
                     options.allow_event_time_sums ? "allow_event_time_sums = true\n" : "",
                     "\n[containers]\nenabled = true\ntrusted_signers = [\"", pki,
                     "/signer.pub\"]\nrequire_local_approval = true\n", container_limits,
                     "\n[[datasets]]\nname = \"cohort\"\npath = \"", node.csv, "\"\n"));
    if (!written.ok()) return fail(written);
    absl::StatusOr<pid_t> pid =
        Spawn({"node", "--config", toml}, absl::StrCat(logs, "/", node.name, ".log"));
    if (!pid.ok()) return fail(pid.status());
    daemons.push_back({node.name, *pid});
  }
  SPOOR_RETURN_IF_ERROR(WritePids(dir, daemons));

  std::string client_toml = dir + "/client.toml";
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(
      client_toml,
      absl::StrCat("coordinator = \"", address, "\"\n\n", TlsTable(pki, "researcher"))));
  for (const char* person : {"reviewer-a", "reviewer-b", "admin"}) {
    SPOOR_RETURN_IF_ERROR(WriteFileAtomically(
        absl::StrCat(dir, "/", person, ".toml"),
        absl::StrCat("coordinator = \"", address, "\"\n\n", TlsTable(pki, person))));
  }
  // One study, "sandbox", with every node's organisation and the researcher,
  // so that research commands work without --study.
  if (absl::Status study = CreateSandboxStudy(dir + "/admin.toml", nodes); !study.ok()) {
    return fail(study);
  }
  absl::Status ready = WaitForNodes(client_toml, nodes, daemons, logs);
  if (!ready.ok()) return fail(ready);
  std::cerr << "sandbox running in " << dir << ": coordinator at " << address << ", "
            << nodes.size() << " node(s) attached\n"
            << "try: spoor --config " << client_toml << " nodes\n";
  return absl::OkStatus();
}

absl::Status SandboxStop(const std::string& dir) {
  absl::StatusOr<std::vector<Daemon>> daemons = ReadPids(dir);
  if (!daemons.ok()) {
    return absl::NotFoundError(absl::StrCat("no sandbox in ", dir, " (no sandbox.pids)"));
  }
  // Nodes first, coordinator last.
  std::vector<Daemon> ordered;
  for (const Daemon& d : *daemons)
    if (d.name != "coordinator") ordered.push_back(d);
  for (const Daemon& d : *daemons)
    if (d.name == "coordinator") ordered.push_back(d);
  StopDaemons(ordered);
  std::filesystem::remove(dir + "/sandbox.pids");
  std::cerr << "sandbox in " << dir << " stopped\n";
  return absl::OkStatus();
}

}  // namespace spoor
