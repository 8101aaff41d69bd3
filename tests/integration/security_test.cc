// The security model end to end (label security): real coordinator and node
// processes on loopback with certificates from a fresh consortium CA. Each
// attack is refused with a clear error and leaves an audit record.
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/audit_log.h"
#include "common/file_util.h"
#include "common/pki.h"
#include "common/tls.h"
#include "grpcpp/create_channel.h"
#include "nlohmann/json.hpp"
#include "spoor/v1/research.grpc.pb.h"
#include "tests/integration/harness.h"

namespace spoor::testing {
namespace {

using Catch::Matchers::Contains;

std::string Address(const Scratch& dir) {
  std::string address = *ReadFile(dir / "coordinator/address");
  return address.substr(0, address.find('\n'));
}

// `command` through the shell; its exit status and combined output.
std::pair<int, std::string> Shell(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The records of `log` whose event is `event`.
std::vector<nlohmann::json> Records(const std::string& log, const std::string& event) {
  std::vector<nlohmann::json> out;
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json record = nlohmann::json::parse(line);
    if (record["event"] == event) out.push_back(record);
  }
  return out;
}

std::string CoordinatorAudit(const Scratch& dir) { return dir / "coordinator/audit.jsonl"; }

TEST_CASE("the coordinator speaks TLS 1.3 only", "[security]") {
  Scratch dir;
  StartReferenceSites(dir, "summary");
  const std::string client = "openssl s_client -connect " + Address(dir) + " -CAfile " +
                             dir / "pki/ca.crt" + " -cert " + dir / "pki/researcher.crt" +
                             " -key " + dir / "pki/researcher.key" + " </dev/null";
  // s_client's exit status depends on how the server ends the connection
  // after the handshake (gRPC wants HTTP/2); its report says what was agreed.
  auto [tls13_exit, tls13] = Shell(client + " -tls1_3");
  INFO(tls13);
  CHECK_THAT(tls13, Contains("New, TLSv1.3"));
  CHECK_THAT(tls13, Contains("Verify return code: 0 (ok)"));
  auto [tls12_exit, tls12] = Shell(client + " -tls1_2");
  INFO(tls12);
  CHECK(tls12_exit != 0);
  CHECK_THAT(tls12, Contains("Cipher is (NONE)") || Contains("handshake failure") ||
                        Contains("protocol version"));
  CHECK_THAT(tls12, !Contains("New, TLSv1.2"));
}

TEST_CASE("a revoked researcher is refused at once, without a restart, and audited", "[security]") {
  Scratch dir;
  StartReferenceSites(dir, "summary");
  REQUIRE(RunSpoor(ClientArgs(dir, {"nodes"})).exit_code == 0);

  RunResult revoke =
      RunSpoor({"pki", "revoke", "--dir", dir / "pki", "--cert", dir / "pki/researcher.crt"});
  INFO(revoke.err);
  REQUIRE(revoke.exit_code == 0);
  CHECK_THAT(revoke.err, Contains("revoked researcher"));

  RunResult refused = RunSpoor(ClientArgs(dir, {"nodes"}));
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Contains("revoked"));
  std::vector<nlohmann::json> records = Records(CoordinatorAudit(dir), "call_refused");
  REQUIRE(!records.empty());
  CHECK(records.back()["who"] == "researcher");
  CHECK_THAT(records.back()["reason"].get<std::string>(), Contains("revoked"));
  CHECK(VerifyAuditLog(CoordinatorAudit(dir)).ok());

  // Revoking twice changes nothing; the other parties are unaffected.
  CHECK(RunSpoor({"pki", "revoke", "--dir", dir / "pki", "--cert", dir / "pki/researcher.crt"})
            .exit_code == 0);
  RunResult admin = RunSpoor({"--config", dir / "admin.toml", "nodes"});
  INFO(admin.err);
  CHECK(admin.exit_code == 0);
}

TEST_CASE("a revoked node is cut off from its open stream and cannot come back", "[security]") {
  Scratch dir;
  StartReferenceSites(dir, "summary");
  REQUIRE(RunSpoor({"pki", "revoke", "--dir", dir / "pki", "--cert", dir / "pki/site-2.crt"})
              .exit_code == 0);
  // The stream is re-checked on every message; heartbeats come every 5 s.
  std::string last;
  bool disconnected = Eventually(20, [&] {
    RunResult nodes = RunSpoor(ClientArgs(dir, {"nodes", "--json"}));
    last = nodes.out + nodes.err;
    if (nodes.exit_code != 0) return false;
    const nlohmann::json listed = nodes.Json();
    for (const nlohmann::json& node : listed["nodes"]) {
      if (node["node_id"] == "site-2") return node["connected"] == false;
    }
    return false;
  });
  INFO(last);
  CHECK(disconnected);
  bool audited = false;
  for (const nlohmann::json& record : Records(CoordinatorAudit(dir), "call_refused")) {
    audited = audited || record["who"] == "site-2";
  }
  CHECK(audited);
}

TEST_CASE("a node certificate used as a researcher is refused and audited", "[security]") {
  Scratch dir;
  StartReferenceSites(dir, "summary");
  std::string toml = "coordinator = \"" + Address(dir) + "\"\n[tls]\nca = \"" + dir / "pki/ca.crt" +
                     "\"\ncert = \"" + dir / "pki/site-1.crt" + "\"\nkey = \"" +
                     dir / "pki/site-1.key" + "\"\n";
  REQUIRE(WriteFileAtomically(dir / "impostor.toml", toml).ok());
  RunResult refused = RunSpoor({"--config", dir / "impostor.toml", "nodes"});
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Contains("role node"));
  std::vector<nlohmann::json> records = Records(CoordinatorAudit(dir), "call_refused");
  REQUIRE(!records.empty());
  CHECK(records.back()["who"] == "site-1");
  CHECK(records.back()["role"] == "node");
}

TEST_CASE("a secure GLM equals the plain one, and equals R, while the coordinator sees sums only",
          "[security]") {
  std::ifstream in(ReferenceFile("glm_expected.json"));
  REQUIRE(in.good());
  const nlohmann::json models = nlohmann::json::parse(in);
  Scratch dir;
  StartReferenceSites(dir, "glm");
  for (size_t index : {size_t{0}, size_t{2}}) {  // gaussian with a factor; logistic
    const nlohmann::json& want = models[index];
    std::vector<std::string> glm = {"glm",
                                    "--dataset",
                                    "cohort",
                                    "--formula",
                                    want["formula"].get<std::string>(),
                                    "--family",
                                    want["family"].get<std::string>(),
                                    "--json"};
    RunResult plain = RunSpoor(ClientArgs(dir, glm));
    glm.insert(glm.begin(), "--secure");
    RunResult secure = RunSpoor(ClientArgs(dir, glm));
    INFO(want["formula"].get<std::string>() << "\n" << plain.err << secure.err);
    REQUIRE(plain.exit_code == 0);
    REQUIRE(secure.exit_code == 0);
    const nlohmann::json p = plain.Json(), s = secure.Json();
    REQUIRE(s["coefficients"].size() == want["coefficients"].size());
    for (size_t i = 0; i < s["coefficients"].size(); ++i) {
      CHECK(RelativeDifference(s["coefficients"][i]["estimate"],
                               p["coefficients"][i]["estimate"]) <= 1e-9);
      CHECK(RelativeDifference(s["coefficients"][i]["std_error"],
                               p["coefficients"][i]["std_error"]) <= 1e-9);
      CHECK(RelativeDifference(s["coefficients"][i]["estimate"],
                               want["coefficients"][i]["estimate"]) <= 1e-8);
    }
    CHECK(RelativeDifference(s["deviance"], want["deviance"]) <= 1e-9);
    CHECK(s["n"] == want["n"]);
  }
  // What each node released under --secure: masked numbers, audited as such.
  for (const char* site : {"site-1", "site-2", "site-3"}) {
    std::string audit = dir / (std::string("nodes/") + site + "/audit.jsonl");
    bool masked = false;
    for (const nlohmann::json& record : Records(audit, "task_released")) {
      masked = masked || record.value("secure", false);
    }
    CHECK(masked);
    CHECK(VerifyAuditLog(audit).ok());
  }
  // An analysis whose central step needs each node's numbers refuses --secure.
  RunResult summary =
      RunSpoor(ClientArgs(dir, {"--secure", "summary", "--dataset", "cohort", "--vars", "age"}));
  CHECK(summary.exit_code != 0);
  CHECK_THAT(summary.err, Contains("does not run under --secure"));
}

TEST_CASE("a researcher outside the study is refused and audited", "[security]") {
  Scratch dir;
  StartReferenceSites(dir, "summary");
  // The admin creates a second study without the researcher.
  const std::vector<std::string> admin = {"--config", dir / "admin.toml"};
  auto as_admin = [&](std::vector<std::string> args) {
    args.insert(args.begin(), admin.begin(), admin.end());
    return RunSpoor(args);
  };
  REQUIRE(as_admin({"study", "create", "closed"}).exit_code == 0);
  REQUIRE(
      as_admin({"study", "add", "closed", "--org", "site-1", "--org", "site-2", "--org", "site-3"})
          .exit_code == 0);
  RunResult refused = RunSpoor(
      ClientArgs(dir, {"--study", "closed", "summary", "--dataset", "cohort", "--vars", "age"}));
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Contains("is not a researcher of study 'closed'"));
  std::vector<nlohmann::json> records = Records(CoordinatorAudit(dir), "call_refused");
  REQUIRE(!records.empty());
  CHECK(records.back()["who"] == "researcher");
  CHECK(records.back()["action"] == "submit a job");

  // A researcher may not manage studies; listing shows only their own.
  RunResult create = RunSpoor(ClientArgs(dir, {"study", "create", "mine"}));
  CHECK(create.exit_code != 0);
  CHECK_THAT(create.err, Contains("only consortium admins"));
  RunResult list = RunSpoor(ClientArgs(dir, {"study", "list", "--json"}));
  REQUIRE(list.exit_code == 0);
  CHECK(list.Json()["studies"].size() == 1);
  CHECK(list.Json()["studies"][0]["name"] == "sandbox");

  // Removed from the study, the researcher can no longer run jobs there.
  REQUIRE(as_admin({"study", "remove", "sandbox", "--researcher", "researcher"}).exit_code == 0);
  RunResult removed =
      RunSpoor(ClientArgs(dir, {"summary", "--dataset", "cohort", "--vars", "age"}));
  CHECK(removed.exit_code != 0);
  CHECK_THAT(removed.err, Contains("belongs to no study"));
  CHECK(VerifyAuditLog(CoordinatorAudit(dir)).ok());
}

TEST_CASE("an expired certificate is refused with a clear error", "[security]") {
  Scratch dir;
  StartReferenceSites(dir, "summary");
  // A researcher certificate from the consortium CA whose validity ended
  // yesterday.
  CertificateAndKey ca{*ReadFile(dir / "pki/ca.crt"), *ReadFile(dir / "pki/ca.key")};
  IssueOptions options;
  options.identity = {"late", "Sandbox University", Role::kResearcher};
  options.not_before = absl::Now() - absl::Hours(48);
  options.validity = absl::Hours(24);
  absl::StatusOr<CertificateAndKey> expired = IssueCertificate(ca, options);
  REQUIRE(expired.ok());
  REQUIRE(WriteFileAtomically(dir / "late.crt", expired->certificate_pem).ok());
  REQUIRE(WriteFileAtomically(dir / "late.key", expired->private_key_pem, 0600).ok());
  std::string toml = "coordinator = \"" + Address(dir) + "\"\n[tls]\nca = \"" + dir / "pki/ca.crt" +
                     "\"\ncert = \"" + dir / "late.crt" + "\"\nkey = \"" + dir / "late.key" +
                     "\"\n";
  REQUIRE(WriteFileAtomically(dir / "late.toml", toml).ok());
  // The CLI says so before dialling...
  RunResult refused = RunSpoor({"--config", dir / "late.toml", "nodes"});
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Contains("expired"));
  // ...and the coordinator refuses it at the TLS handshake, before any call
  // (so the refusal is in the coordinator's log, not its audit log), while
  // the same client with a current certificate gets through.
  auto list_nodes = [&](const std::string& cert, const std::string& key) {
    TlsMaterial tls;  // built by hand: LoadTlsMaterial would refuse it here
    tls.ca_pem = *ReadFile(dir / "pki/ca.crt");
    tls.cert_pem = *ReadFile(cert);
    tls.key_pem = *ReadFile(key);
    auto stub =
        v1::Research::NewStub(grpc::CreateChannel(Address(dir), MakeChannelCredentials(tls)));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ListNodesResponse response;
    return stub->ListNodes(&context, v1::ListNodesRequest(), &response).error_code();
  };
  CHECK(list_nodes(dir / "pki/researcher.crt", dir / "pki/researcher.key") == grpc::StatusCode::OK);
  CHECK(list_nodes(dir / "late.crt", dir / "late.key") == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("spoor audit verify proves both logs and names an edited record", "[security]") {
  Scratch dir;
  StartReferenceSites(dir, "summary");
  REQUIRE(
      RunSpoor(ClientArgs(dir, {"summary", "--dataset", "cohort", "--vars", "bmi"})).exit_code ==
      0);
  // Stop the daemons: they seal their logs with a signed checkpoint.
  REQUIRE(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
  const std::string node_log = dir / "nodes/site-1/audit.jsonl";
  for (const std::string& log : {node_log, CoordinatorAudit(dir)}) {
    RunResult verified =
        RunSpoor({"audit", "verify", "--log", log, "--ca", dir / "pki/ca.crt", "--json"});
    INFO(verified.out << verified.err);
    REQUIRE(verified.exit_code == 0);
    CHECK(verified.Json()["ok"] == true);
    CHECK(verified.Json()["checkpoints"].get<int>() >= 1);
  }
  RunResult dossier = RunSpoor({"audit", "export", "--log", node_log, "--ca", dir / "pki/ca.crt"});
  REQUIRE(dossier.exit_code == 0);
  CHECK_THAT(dossier.out, Contains("researcher") && Contains("cohort") && Contains("SHA-256"));

  // A data steward's "small correction" to the first release.
  std::string text = *ReadFile(node_log);
  size_t at = text.find("\"requester\":\"researcher\"");
  REQUIRE(at != std::string::npos);
  text.replace(at, std::string("\"requester\":\"researcher\"").size(),
               "\"requester\":\"somebody\"");
  REQUIRE(WriteFileAtomically(node_log, text).ok());
  size_t record = 1 + std::count(text.begin(), text.begin() + static_cast<long>(at), '\n');
  RunResult broken = RunSpoor({"audit", "verify", "--log", node_log, "--ca", dir / "pki/ca.crt"});
  CHECK(broken.exit_code != 0);
  CHECK_THAT(broken.out + broken.err,
             Contains("broken at record " + std::to_string(record)) && Contains("altered"));
}

}  // namespace
}  // namespace spoor::testing
