// End-to-end: a real coordinator and real node processes on loopback, with
// certificates from a fresh consortium CA, driven through the `spoor` CLI.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "algorithms/csv_reader.h"
#include "common/audit_log.h"
#include "common/file_util.h"
#include "common/tls.h"
#include "grpcpp/create_channel.h"
#include "spoor/v1/research.grpc.pb.h"
#include "tests/integration/harness.h"

namespace spoor::testing {
namespace {

std::vector<std::string> ThreeHospitals(const Scratch& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"sandbox", "start",
                                   "--dir",   dir.path(),
                                   "--node",  "hospital-a=" + ExampleCsv("a"),
                                   "--node",  "hospital-b=" + ExampleCsv("b"),
                                   "--node",  "hospital-c=" + ExampleCsv("c")};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> Client(const Scratch& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"--config", dir / "client.toml"});
  return args;
}

// Mean and sd of `column` over the three example files, computed directly.
std::pair<double, double> PooledMeanSd(const std::string& column, int64_t* n) {
  std::vector<double> all;
  for (std::string h : {"a", "b", "c"}) {
    absl::StatusOr<DataFrame> frame = ReadCsvFile(ExampleCsv(h));
    REQUIRE(frame.ok());
    for (double v : frame->Find(column)->numbers())
      if (!std::isnan(v)) all.push_back(v);
  }
  long double sum = 0;
  for (double v : all) sum += v;
  long double mean = sum / all.size(), ss = 0;
  for (double v : all) ss += (v - mean) * (v - mean);
  *n = static_cast<int64_t>(all.size());
  return {static_cast<double>(mean), static_cast<double>(std::sqrt(ss / (all.size() - 1)))};
}

int CountInFile(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) count += line.find(needle) != std::string::npos;
  return count;
}

std::string RunningJobId(const Scratch& dir) {
  RunResult jobs = RunSpoor(Client(dir, {"jobs", "--json"}));
  if (jobs.exit_code != 0) return "";
  nlohmann::json list = jobs.Json();  // keep it alive across the loop
  for (const auto& job : list["jobs"]) {
    if (job["state"] == "running") return job["job_id"];
  }
  return "";
}

TEST_CASE("a summary job over three hospitals equals the pooled computation", "[integration]") {
  Scratch dir;
  RunResult start = RunSpoor(ThreeHospitals(dir));
  INFO(start.err);
  REQUIRE(start.exit_code == 0);

  RunResult nodes = RunSpoor(Client(dir, {"nodes", "--json"}));
  REQUIRE(nodes.exit_code == 0);
  REQUIRE(nodes.Json()["nodes"].size() == 3);
  nlohmann::json node_list = nodes.Json();
  for (const auto& node : node_list["nodes"]) CHECK(node["connected"] == true);

  RunResult summary =
      RunSpoor(Client(dir, {"summary", "--dataset", "cohort", "--vars", "age,bmi", "--json"}));
  INFO(summary.err);
  REQUIRE(summary.exit_code == 0);
  nlohmann::json result = summary.Json();
  for (const auto& variable : result["variables"]) {  // `result` outlives the loop
    int64_t n = 0;
    auto [mean, sd] = PooledMeanSd(variable["name"], &n);
    CHECK(variable["n"].get<int64_t>() == n);
    CHECK(variable["mean"].get<double>() == Approx(mean).epsilon(1e-14));
    CHECK(variable["sd"].get<double>() == Approx(sd).epsilon(1e-12));
    CHECK(variable["sites"] == 3);
  }
  CHECK(result["variables"][1]["missing"].get<int64_t>() > 0);  // bmi has missing values

  RunResult table = RunSpoor(Client(dir, {"summary", "--dataset", "cohort", "--vars", "age"}));
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("variable") && Catch::Contains("age"));

  RunResult jobs = RunSpoor(Client(dir, {"jobs", "--json"}));
  REQUIRE(jobs.exit_code == 0);
  REQUIRE(jobs.Json()["jobs"].size() == 2);
  CHECK(jobs.Json()["jobs"][0]["state"] == "succeeded");

  // Each node audited its release, and its chain verifies.
  for (std::string node : {"hospital-a", "hospital-b", "hospital-c"}) {
    std::string audit = dir / ("nodes/" + node + "/audit.jsonl");
    CHECK(CountInFile(audit, "\"task_released\"") == 2);
    CHECK(VerifyAuditLog(audit).ok());
  }
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

TEST_CASE("a node's disclosure gate refusal reaches the researcher by rule", "[integration]") {
  Scratch dir;
  REQUIRE(RunSpoor(ThreeHospitals(dir, {"--min-records", "5000"})).exit_code == 0);
  RunResult summary =
      RunSpoor(Client(dir, {"summary", "--dataset", "cohort", "--vars", "age", "--json"}));
  CHECK(summary.exit_code == 1);
  CHECK(summary.out.empty());
  CHECK_THAT(summary.err, Catch::Contains("refused") && Catch::Contains("min_records"));
  // One line, naming a node.
  CHECK(std::count(summary.err.begin(), summary.err.end(), '\n') == 1);
  CHECK_THAT(summary.err, Catch::Contains("hospital-"));
}

// True once `pid` has exited: no such process, or a zombie nobody reaped yet
// (a sandbox daemon's parent is long gone). A zombie holds no port or lock.
bool Exited(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren == std::string::npos || line.compare(paren, 3, ") Z") == 0;
}

bool AllConnected(const Scratch& dir, size_t nodes) {
  RunResult list = RunSpoor(Client(dir, {"nodes", "--json"}));
  if (list.exit_code != 0) return false;
  nlohmann::json json = list.Json();
  size_t connected = 0;
  for (const auto& node : json["nodes"]) connected += node["connected"] == true;
  return connected == nodes;
}

TEST_CASE("min_sites: the coordinator refuses too few nodes; a node refuses what gets past",
          "[integration]") {
  Scratch dir;
  REQUIRE(RunSpoor(ThreeHospitals(dir)).exit_code == 0);
  // The coordinator's default minimum is 3: two named nodes are refused at
  // submit, with what to do.
  RunResult two = RunSpoor(Client(dir, {"summary", "--dataset", "cohort", "--vars", "age",
                                        "--nodes", "hospital-a,hospital-b", "--json"}));
  CHECK(two.exit_code == 1);
  CHECK(two.out.empty());
  CHECK_THAT(two.err, Catch::Contains("min_sites") && Catch::Contains("2 node(s)") &&
                          Catch::Contains("--nodes"));
  CHECK(std::count(two.err.begin(), two.err.end(), '\n') == 1);

  // A coordinator whose operator set min_sites = 1 lets a one-node job
  // through; the node's own minimum (the default 3) still refuses it.
  pid_t coordinator = SandboxPid(dir.path(), "coordinator");
  ::kill(coordinator, SIGTERM);
  std::string address = *ReadFile(dir / "coordinator/address");
  address.erase(address.find_last_not_of("\n") + 1);
  std::string toml = *ReadFile(dir / "coordinator.toml");
  toml = std::regex_replace(toml, std::regex("127\\.0\\.0\\.1:0"), address);
  REQUIRE(
      WriteFileAtomically(dir / "coordinator.toml", toml + "\n[disclosure]\nmin_sites = 1\n").ok());
  REQUIRE(Eventually(10, [&] { return Exited(coordinator); }));
  pid_t again = StartSpoor({"coordinator", "--config", dir / "coordinator.toml"},
                           dir / "logs/coordinator.log");
  REQUIRE(Eventually(30, [&] { return AllConnected(dir, 3); }));
  RunResult one = RunSpoor(Client(
      dir, {"summary", "--dataset", "cohort", "--vars", "age", "--nodes", "hospital-a", "--json"}));
  CHECK(one.exit_code == 1);
  CHECK(one.out.empty());
  CHECK_THAT(one.err, Catch::Contains("hospital-a refused") && Catch::Contains("min_sites"));
  CHECK(std::count(one.err.begin(), one.err.end(), '\n') == 1);
  std::string audit = dir / "nodes/hospital-a/audit.jsonl";
  CHECK(CountInFile(audit, "\"task_refused\"") == 1);
  CHECK(CountInFile(audit, "\"min_sites\"") == 1);
  CHECK(CountInFile(audit, "\"task_released\"") == 0);
  CHECK(VerifyAuditLog(audit).ok());
  ::kill(again, SIGTERM);
  CHECK(WaitExit(again) == 0);
}

TEST_CASE("a sandbox of two nodes lowers min_sites to two, says why, and runs jobs",
          "[integration]") {
  Scratch dir;
  RunResult start =
      RunSpoor({"sandbox", "start", "--dir", dir.path(), "--node", "hospital-a=" + ExampleCsv("a"),
                "--node", "hospital-b=" + ExampleCsv("b")});
  INFO(start.err);
  REQUIRE(start.exit_code == 0);
  for (std::string toml : {"coordinator.toml", "nodes/hospital-a.toml", "nodes/hospital-b.toml"}) {
    std::string text = *ReadFile(dir / toml);
    INFO(toml << ":\n" << text);
    CHECK_THAT(text,
               Catch::Contains("\nmin_sites = 2\n") && Catch::Contains("# This sandbox has 2"));
  }
  RunResult summary =
      RunSpoor(Client(dir, {"summary", "--dataset", "cohort", "--vars", "age", "--json"}));
  INFO(summary.err);
  REQUIRE(summary.exit_code == 0);
  CHECK(summary.Json()["variables"][0]["sites"] == 2);
}

TEST_CASE("a node killed mid-job fails the job after node_timeout, naming the node",
          "[integration]") {
  Scratch dir;
  REQUIRE(RunSpoor(ThreeHospitals(dir, {"--node-timeout", "2"})).exit_code == 0);
  pid_t b = SandboxPid(dir.path(), "hospital-b");
  REQUIRE(b > 0);
  ::kill(b, SIGSTOP);  // frozen: connected, but never answers
  pid_t researcher = StartSpoor(
      Client(dir, {"summary", "--dataset", "cohort", "--vars", "age", "--json"}), dir / "r.log");
  REQUIRE(Eventually(10, [&] { return !RunningJobId(dir).empty(); }));
  ::kill(b, SIGKILL);
  int code = WaitExit(researcher);
  std::string log = *ReadFile(dir / "r.log");
  INFO(log);
  CHECK(code == 1);
  CHECK_THAT(log, Catch::Contains("node hospital-b disconnected") &&
                      Catch::Contains("did not come back within 2s"));
}

TEST_CASE("a node that restarts mid-job gets its task again and the job completes",
          "[integration]") {
  Scratch dir;
  REQUIRE(RunSpoor(ThreeHospitals(dir, {"--node-timeout", "30"})).exit_code == 0);
  pid_t b = SandboxPid(dir.path(), "hospital-b");
  ::kill(b, SIGSTOP);
  pid_t researcher = StartSpoor(
      Client(dir, {"summary", "--dataset", "cohort", "--vars", "age", "--json"}), dir / "r.json");
  REQUIRE(Eventually(10, [&] { return !RunningJobId(dir).empty(); }));
  ::kill(b, SIGKILL);
  pid_t restarted =
      StartSpoor({"node", "--config", dir / "nodes/hospital-b.toml"}, dir / "logs/hospital-b.log");
  int code = WaitExit(researcher);
  CHECK(code == 0);
  CHECK_THAT(*ReadFile(dir / "r.json"), Catch::Contains("\"variables\""));
  ::kill(restarted, SIGTERM);
  CHECK(WaitExit(restarted) == 0);
}

TEST_CASE("a coordinator killed and restarted resumes the job; no node computes twice",
          "[integration]") {
  Scratch dir;
  REQUIRE(RunSpoor(ThreeHospitals(dir)).exit_code == 0);
  pid_t b = SandboxPid(dir.path(), "hospital-b");
  ::kill(b, SIGSTOP);
  pid_t researcher =
      StartSpoor(Client(dir, {"summary", "--dataset", "cohort", "--vars", "age,bmi", "--json"}),
                 dir / "r.json");
  std::string job_id;
  REQUIRE(Eventually(10, [&] { return !(job_id = RunningJobId(dir)).empty(); }));
  // Wait until a and c have answered (their releases are audited).
  REQUIRE(Eventually(10, [&] {
    return CountInFile(dir / "nodes/hospital-a/audit.jsonl", job_id) == 1 &&
           CountInFile(dir / "nodes/hospital-c/audit.jsonl", job_id) == 1;
  }));
  pid_t coordinator = SandboxPid(dir.path(), "coordinator");
  ::kill(coordinator, SIGKILL);
  // Restart it on the same address (the sandbox let it pick a port).
  std::string address = *ReadFile(dir / "coordinator/address");
  address.erase(address.find_last_not_of("\n") + 1);
  std::string toml = *ReadFile(dir / "coordinator.toml");
  toml = std::regex_replace(toml, std::regex("127\\.0\\.0\\.1:0"), address);
  REQUIRE(WriteFileAtomically(dir / "coordinator.toml", toml).ok());
  pid_t again = StartSpoor({"coordinator", "--config", dir / "coordinator.toml"},
                           dir / "logs/coordinator.log");
  ::kill(b, SIGCONT);
  int code = WaitExit(researcher);
  INFO(*ReadFile(dir / "logs/coordinator.log"));
  CHECK(code == 0);
  CHECK_THAT(*ReadFile(dir / "r.json"), Catch::Contains("\"variables\""));
  CHECK_THAT(*ReadFile(dir / "logs/coordinator.log"), Catch::Contains("resumed job " + job_id));
  // a and c answered the re-sent task from memory: one release each, on
  // record once; b answered once.
  CHECK(CountInFile(dir / "nodes/hospital-a/audit.jsonl", job_id) == 1);
  CHECK(CountInFile(dir / "nodes/hospital-c/audit.jsonl", job_id) == 1);
  CHECK(CountInFile(dir / "nodes/hospital-b/audit.jsonl", job_id) == 1);
  ::kill(again, SIGTERM);
  CHECK(WaitExit(again) == 0);
}

// A client presenting `cert`/`key` and trusting `ca` for the server. Built
// from PEM directly so a test can present a certificate our CA never issued.
std::unique_ptr<v1::Research::Stub> Stub(const Scratch& dir, const std::string& ca,
                                         const std::string& cert, const std::string& key) {
  TlsMaterial tls;
  tls.ca_pem = *ReadFile(ca);
  tls.cert_pem = *ReadFile(cert);
  tls.key_pem = *ReadFile(key);
  std::string address = *ReadFile(dir / "coordinator/address");
  address.erase(address.find_last_not_of("\n") + 1);
  return v1::Research::NewStub(grpc::CreateChannel(address, MakeChannelCredentials(tls)));
}

TEST_CASE("certificates from another CA and the wrong role are refused", "[integration]") {
  Scratch dir;
  REQUIRE(RunSpoor(ThreeHospitals(dir)).exit_code == 0);
  // A second consortium's researcher, trusting our CA for the server.
  REQUIRE(RunSpoor({"pki", "init", "--dir", dir / "other"}).exit_code == 0);
  REQUIRE(RunSpoor({"pki", "issue", "--dir", dir / "other", "--name", "mallory", "--org",
                    "Elsewhere", "--role", "researcher"})
              .exit_code == 0);
  // It trusts our coordinator, but our CA never issued its certificate.
  auto stranger =
      Stub(dir, dir / "pki/ca.crt", dir / "other/mallory.crt", dir / "other/mallory.key");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ListNodesResponse response;
  grpc::Status status = stranger->ListNodes(&context, v1::ListNodesRequest(), &response);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);  // handshake refused

  // A node's certificate used as a researcher.
  auto node = Stub(dir, dir / "pki/ca.crt", dir / "pki/hospital-a.crt", dir / "pki/hospital-a.key");
  grpc::ClientContext context2;
  status = node->ListNodes(&context2, v1::ListNodesRequest(), &response);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_THAT(status.error_message(), Catch::Contains("role node"));

  // A foreign node daemon (trusting its own CA) never attaches either.
  std::string toml = "name = \"mallory\"\ncoordinator = \"" +
                     [&] {
                       std::string a = *ReadFile(dir / "coordinator/address");
                       return a.substr(0, a.find('\n'));
                     }() +
                     "\"\ndata_dir = \"" + dir / "mallory" + "\"\n[tls]\nca = \"" +
                     dir / "other/ca.crt" + "\"\ncert = \"" + dir / "other/mallory-node.crt" +
                     "\"\nkey = \"" + dir / "other/mallory-node.key" +
                     "\"\n[[datasets]]\nname = \"cohort\"\npath = \"" + ExampleCsv("a") + "\"\n";
  REQUIRE(RunSpoor({"pki", "issue", "--dir", dir / "other", "--name", "mallory-node", "--org",
                    "Elsewhere", "--role", "node"})
              .exit_code == 0);
  toml = std::regex_replace(toml, std::regex("name = \"mallory\""), "name = \"mallory-node\"");
  REQUIRE(WriteFileAtomically(dir / "mallory.toml", toml).ok());
  pid_t intruder = StartSpoor({"node", "--config", dir / "mallory.toml"}, dir / "mallory.log");
  std::this_thread::sleep_for(std::chrono::seconds(2));
  RunResult nodes = RunSpoor(Client(dir, {"nodes", "--json"}));
  REQUIRE(nodes.exit_code == 0);
  CHECK(nodes.Json()["nodes"].size() == 3);
  ::kill(intruder, SIGTERM);
  WaitExit(intruder);
  CHECK_THAT(*ReadFile(dir / "logs/coordinator.log"), !Catch::Contains("mallory-node attached"));
}

TEST_CASE("malformed configs give one clear line and a non-zero exit", "[integration]") {
  Scratch dir;
  REQUIRE(WriteFileAtomically(dir / "node.toml",
                              "name = \"a\"\ncoordinator = \"127.0.0.1:1\"\ndata_dir = \"d\"\n"
                              "[tls]\nca = \"ca\"\ncert = \"c\"\nkey = \"k\"\n"
                              "[disclosure]\nmin_record = 10\n")
              .ok());
  RunResult node = RunSpoor({"node", "--config", dir / "node.toml"});
  CHECK(node.exit_code == 1);
  CHECK_THAT(node.err, Catch::Contains("node.toml:9") && Catch::Contains("min_record"));
  CHECK(std::count(node.err.begin(), node.err.end(), '\n') == 1);

  REQUIRE(WriteFileAtomically(dir / "coordinator.toml", "listen = 127.0.0.1\n").ok());
  RunResult coordinator = RunSpoor({"coordinator", "--config", dir / "coordinator.toml"});
  CHECK(coordinator.exit_code == 1);
  CHECK_THAT(coordinator.err, Catch::Contains("coordinator.toml:1"));

  RunResult missing = RunSpoor({"coordinator", "--config", dir / "nope.toml"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("nope.toml"));

  RunResult usage = RunSpoor({"summary", "--dataset"});
  CHECK(usage.exit_code == 2);

  RunResult no_sandbox = RunSpoor({"--config", dir / "client.toml", "nodes"});
  CHECK(no_sandbox.exit_code == 1);
  CHECK_THAT(no_sandbox.err, Catch::Contains("--config"));
}

}  // namespace
}  // namespace spoor::testing
