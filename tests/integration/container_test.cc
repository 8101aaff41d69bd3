// Container algorithms end to end (label container): a sandbox of three
// nodes (the three-hospital example), the consortium's signing key, two
// reviewers of two organisations and an admin. An algorithm is packaged
// from a static executable built with the SDK, signed, registered, reviewed,
// approved by each node's data steward and run; its result equals the
// built-in equivalent. Then everything that must be refused is, each with
// a clear error and, at the nodes, an audit record.
//
// Needs root and runc (`apt-get install runc`); skips with a warning
// otherwise.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/integration/harness.h"

namespace spoor::testing {
namespace {

using ::Catch::Matchers::Contains;

const std::vector<std::string> kSites = {"a", "b", "c"};

bool CanRunContainers() {
  if (::geteuid() != 0 ||
      !(std::filesystem::exists("/usr/sbin/runc") || std::filesystem::exists("/usr/bin/runc"))) {
    WARN("skipped: container algorithms need root and runc (apt-get install runc)");
    return false;
  }
  return true;
}

void StartSandbox(const Scratch& dir) {
  RunResult started =
      RunSpoor({"sandbox", "start", "--dir", dir.path(), "--node", "a=" + ExampleCsv("a"), "--node",
                "b=" + ExampleCsv("b"), "--node", "c=" + ExampleCsv("c"), "--container-timeout",
                "5", "--container-memory-mb", "64", "--container-max-processes", "16"});
  INFO(started.err);
  REQUIRE(started.exit_code == 0);
}

std::vector<std::string> As(const Scratch& dir, const std::string& who,
                            std::vector<std::string> args) {
  args.insert(args.begin(), {"--config", dir / (who + ".toml")});
  return args;
}

RunResult Expect(const std::vector<std::string>& args, int code) {
  RunResult run = RunSpoor(args);
  INFO("spoor " << args.back() << "\n" << run.out << run.err);
  CHECK(run.exit_code == code);
  return run;
}

// Packages build/bin/algorithms/BINARY as NAME@VERSION into DIR/NAME-VERSION
// and returns the image's path.
std::string Package(const Scratch& dir, const std::string& binary, const std::string& name,
                    const std::string& version, const std::vector<std::string>& params) {
  std::string image = dir / (name + "-" + version);
  std::vector<std::string> args = {
      "algorithm", "package", "--binary",  std::string(SPOOR_ALGORITHM_DIR "/") + binary,
      "--name",    name,      "--version", version,
      "--out",     image};
  for (const std::string& param : params) {
    args.push_back("--param");
    args.push_back(param);
  }
  Expect(args, 0);
  return image;
}

void Sign(const Scratch& dir, const std::string& image, const std::string& key) {
  Expect(
      {"algorithm", "sign", "--key", key, "--signer", "Sandbox Signer (Sandbox Consortium)", image},
      0);
}

// Package, sign with the consortium key, register, two reviews, and each
// node's data steward's approval.
void Publish(const Scratch& dir, const std::string& binary, const std::string& name,
             const std::string& version, const std::vector<std::string>& params) {
  std::string image = Package(dir, binary, name, version, params);
  Sign(dir, image, dir / "pki/signer.key");
  std::string ref = name + "@" + version;
  Expect(As(dir, "client", {"algorithm", "register", image}), 0);
  Expect(As(dir, "reviewer-a", {"algorithm", "review", ref, "--approve"}), 0);
  Expect(As(dir, "reviewer-b", {"algorithm", "review", ref, "--approve"}), 0);
  // The data stewards approve ahead of the first job (the node looks the
  // image up at the registry and checks its signature itself).
  for (const std::string& site : kSites) {
    Expect({"node", "approvals", "approve", ref, "--config", dir / ("nodes/" + site + ".toml")}, 0);
  }
}

// Every audit record of `site` with `event`, as JSON.
std::vector<nlohmann::json> AuditRecords(const Scratch& dir, const std::string& site,
                                         const std::string& event) {
  std::ifstream in(dir / ("nodes/" + site + "/audit.jsonl"));
  std::vector<nlohmann::json> records;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json record = nlohmann::json::parse(line);
    if (record["event"] == event) records.push_back(std::move(record));
  }
  return records;
}

TEST_CASE("package, sign, register, review, approve and run a container algorithm", "[container]") {
  if (!CanRunContainers()) return;
  Scratch dir;
  StartSandbox(dir);
  std::string image = Package(dir, "colmean", "colmean", "1.0.0", {"vars:texts:required"});
  Sign(dir, image, dir / "pki/signer.key");
  RunResult verified =
      Expect({"algorithm", "verify", "--trusted", dir / "pki/signer.pub", image}, 0);
  CHECK_THAT(verified.out, Contains("colmean@1.0.0"));

  const std::string ref = "colmean@1.0.0";
  std::vector<std::string> run = {"run",          ref,     "--dataset", "cohort", "--param",
                                  "vars=age,bmi", "--json"};
  Expect(As(dir, "client", {"algorithm", "register", image}), 0);
  // Not runnable before the reviewers' policy (2 of 2 organisations) is met.
  RunResult early = Expect(As(dir, "client", run), 1);
  CHECK_THAT(early.err, Contains("awaits review"));
  RunResult self = Expect(As(dir, "client", {"algorithm", "review", ref, "--approve"}), 1);
  CHECK_THAT(self.err, Contains("reviewer"));
  Expect(As(dir, "reviewer-a", {"algorithm", "review", ref, "--approve"}), 0);
  Expect(As(dir, "client", run), 1);
  Expect(As(dir, "reviewer-b", {"algorithm", "review", ref, "--approve", "--comment", "ok"}), 0);
  RunResult listed = Expect(As(dir, "client", {"algorithm", "show", ref, "--json"}), 0);
  CHECK(listed.Json()["state"] == "approved");

  // Each data steward has the last word: refused until approved locally.
  RunResult waiting = Expect(As(dir, "client", run), 1);
  CHECK_THAT(waiting.err, Contains("local_approval"));
  for (const std::string& site : kSites) {
    std::string node_toml = dir / ("nodes/" + site + ".toml");
    RunResult queue = Expect({"node", "approvals", "list", "--config", node_toml, "--json"}, 0);
    CHECK_THAT(queue.out, Contains("pending"));
    CHECK(!AuditRecords(dir, site, "task_refused").empty());
    Expect({"node", "approvals", "approve", ref, "--config", node_toml}, 0);
  }

  RunResult result = Expect(As(dir, "client", run), 0);
  RunResult builtin = Expect(
      As(dir, "client", {"summary", "--dataset", "cohort", "--vars", "age,bmi", "--json"}), 0);
  const nlohmann::json values = result.Json()["values"];
  const nlohmann::json summary = builtin.Json()["variables"];
  for (size_t v = 0; v < 2; ++v) {
    CHECK(values["variable"][v] == summary[v]["name"]);
    CHECK(values["n"][v].get<double>() == summary[v]["n"].get<double>());
    CHECK(RelativeDifference(values["mean"][v], summary[v]["mean"]) < 1e-12);
    CHECK(RelativeDifference(values["sd"][v], summary[v]["sd"]) < 1e-12);
  }
  for (const std::string& site : kSites) {
    bool audited = false;
    for (const nlohmann::json& record : AuditRecords(dir, site, "task_released")) {
      if (record["algorithm"] == ref) {
        audited = record["algorithm_digest"].get<std::string>().rfind("sha256:", 0) == 0;
      }
    }
    CHECK(audited);
  }

  // Revoked: refused at once, and the reviewers cannot bring it back.
  Expect(As(dir, "reviewer-a", {"algorithm", "revoke", ref, "--reason", "x"}), 1);
  Expect(As(dir, "admin", {"algorithm", "revoke", ref, "--reason", "reads too much"}), 0);
  RunResult revoked = Expect(As(dir, "client", run), 1);
  CHECK_THAT(revoked.err, Contains("revoked"));
  Expect({"sandbox", "stop", "--dir", dir.path()}, 0);
}

TEST_CASE("a logistic regression container equals the built-in glm", "[container]") {
  if (!CanRunContainers()) return;
  Scratch dir;
  StartSandbox(dir);
  Publish(dir, "logreg", "logreg", "1.0.0",
          {"response:text:required", "covariates:texts:required", "max_iterations:number",
           "tolerance:number"});
  RunResult container =
      Expect(As(dir, "client",
                {"run", "logreg@1.0.0", "--dataset", "cohort", "--param", "response=event",
                 "--param", "covariates=age,bmi,sbp", "--json"}),
             0);
  RunResult builtin = Expect(As(dir, "client",
                                {"glm", "--dataset", "cohort", "--formula",
                                 "event ~ age + bmi + sbp", "--family", "binomial", "--json"}),
                             0);
  const nlohmann::json values = container.Json()["values"];
  const nlohmann::json glm = builtin.Json();
  REQUIRE(values["term"].size() == glm["coefficients"].size());
  for (size_t i = 0; i < values["term"].size(); ++i) {
    CHECK(values["term"][i] == glm["coefficients"][i]["term"]);
    CHECK(RelativeDifference(values["estimate"][i], glm["coefficients"][i]["estimate"]) < 1e-7);
    // R (and the built-in glm, which follows it) takes the standard errors
    // from the last IRLS iteration's weights, one step before its final
    // estimates; the container takes them at its converged estimates.
    CHECK(RelativeDifference(values["std_error"][i], glm["coefficients"][i]["std_error"]) < 1e-6);
  }
  CHECK(RelativeDifference(values["deviance"], glm["deviance"]) < 1e-9);
  CHECK(values["n"].get<double>() == glm["n"].get<double>());
  Expect({"sandbox", "stop", "--dir", dir.path()}, 0);
}

TEST_CASE("images that are unsigned, signed by a stranger or altered are refused", "[container]") {
  if (!CanRunContainers()) return;
  Scratch dir;
  StartSandbox(dir);
  std::string unsigned_image = Package(dir, "colmean", "colmean", "2.0.0", {"vars:texts"});
  RunResult nosig = Expect(As(dir, "client", {"algorithm", "register", unsigned_image}), 1);
  CHECK_THAT(nosig.err, Contains("not signed"));

  Expect({"algorithm", "keygen", "--out", dir / "stranger.key"}, 0);
  std::string stranger = Package(dir, "colmean", "colmean", "2.0.1", {"vars:texts"});
  Sign(dir, stranger, dir / "stranger.key");
  RunResult unknown = Expect(As(dir, "client", {"algorithm", "register", stranger}), 1);
  CHECK_THAT(unknown.err, Contains("unknown signer"));
  RunResult unknown_local =
      Expect({"algorithm", "verify", "--trusted", dir / "pki/signer.pub", stranger}, 1);
  CHECK_THAT(unknown_local.err, Contains("not given with --trusted"));

  // One byte of the layer changed after signing.
  std::string altered = Package(dir, "colmean", "colmean", "2.0.2", {"vars:texts"});
  Sign(dir, altered, dir / "pki/signer.key");
  std::string largest;
  uintmax_t size = 0;
  for (const auto& entry : std::filesystem::directory_iterator(altered + "/blobs/sha256")) {
    if (entry.file_size() > size) size = entry.file_size(), largest = entry.path();
  }
  {
    std::fstream layer(largest, std::ios::in | std::ios::out | std::ios::binary);
    layer.seekp(static_cast<std::streamoff>(size / 2));
    layer.put('\x5a');
  }
  RunResult tampered = Expect(As(dir, "client", {"algorithm", "register", altered}), 1);
  CHECK_THAT(tampered.err, Contains("does not match its digest"));
  Expect({"sandbox", "stop", "--dir", dir.path()}, 0);
}

TEST_CASE("containers that misbehave are stopped and their tasks refused", "[container]") {
  if (!CanRunContainers()) return;
  Scratch dir;
  StartSandbox(dir);
  Publish(dir, "misbehave", "misbehave", "1.0.0", {"mode:text"});
  auto run = [&](const std::string& mode) {
    return Expect(As(dir, "client",
                     {"run", "misbehave@1.0.0", "--dataset", "cohort", "--param", "mode=" + mode}),
                  1);
  };
  CHECK_THAT(run("network").err, Contains("forbidden system call"));
  CHECK_THAT(run("memory").err, Contains("memory limit"));
  CHECK_THAT(run("sleep").err, Contains("timeout"));
  CHECK_THAT(run("fork").err, Contains("process"));
  CHECK_THAT(run("garbage").err, Contains("not a valid message"));
  RunResult rows = run("rowlevel");
  CHECK_THAT(rows.err, Contains("row_level"));
  // No value of the data in the message (after the job id, whose time of
  // day may hold any digits).
  const size_t refused = rows.err.find("refused");
  REQUIRE(refused != std::string::npos);
  CHECK_THAT(rows.err.substr(refused), !Contains("62"));
  // The well-behaved mode runs: the sandbox itself is fine.
  Expect(As(dir, "client", {"run", "misbehave@1.0.0", "--dataset", "cohort"}), 0);
  for (const std::string& site : kSites) {
    CHECK(AuditRecords(dir, site, "task_failed").size() >= 5);
    CHECK(!AuditRecords(dir, site, "task_refused").empty());
  }
  // The operator can read a run's log.
  std::vector<nlohmann::json> failed = AuditRecords(dir, "a", "task_failed");
  REQUIRE(!failed.empty());
  std::string message = failed.front()["message"];
  size_t at = message.find("(run ");
  REQUIRE(at != std::string::npos);
  std::string run_id = message.substr(at + 5, message.find(';', at) - at - 5);
  Expect({"node", "logs", run_id, "--config", dir / "nodes/a.toml"}, 0);
  Expect({"sandbox", "stop", "--dir", dir.path()}, 0);
}

}  // namespace
}  // namespace spoor::testing
