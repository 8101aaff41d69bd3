#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "algorithms/algorithm.h"
#include "common/audit_log.h"
#include "common/file_util.h"
#include "common/pki.h"
#include "common/revocation_list.h"
#include "node/coordinator_link.h"
#include "node/dataset_cache.h"
#include "node/node_config.h"
#include "node/secure_masking.h"
#include "node/task_executor.h"

namespace spoor {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    path = (fs::temp_directory_path() / ("spoor-node-" + std::to_string(std::random_device{}())))
               .string();
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

std::string Csv(int rows, double offset = 0) {
  std::string out = "age,sex\n";
  for (int i = 0; i < rows; ++i) {
    out += std::to_string(40 + i + offset) + "," + (i % 2 ? "F" : "M") + "\n";
  }
  return out;
}

v1::Task SummaryTask(const std::string& id, const std::string& dataset = "cohort") {
  v1::Task task;
  task.set_task_id(id);
  task.set_job_id("j1");
  task.set_round(1);
  task.set_algorithm("summary");
  task.set_dataset(dataset);
  task.mutable_requester()->set_name("alice");
  task.mutable_requester()->set_organisation("Uni");
  SetTextList(*task.mutable_parameters(), "vars", {"age"});
  // Three sites, the default min_sites.
  for (const char* node : {"a", "b", "c"}) task.add_participants(node);
  return task;
}

struct Executor {
  explicit Executor(const TempDir& dir, int rows, DisclosureRules rules = {})
      : csv(dir.path + "/cohort.csv"), gate(rules) {
    REQUIRE(WriteFileAtomically(csv, Csv(rows)).ok());
    cache = std::make_unique<DatasetCache>(std::vector<DatasetConfig>{CsvDataset("cohort", csv)});
    algorithms = MakeBuiltinRegistry();
    audit = *AuditLog::Open(dir.path + "/audit.jsonl", clock);
    executor = std::make_unique<TaskExecutor>(*algorithms, *cache, gate, *audit);
  }
  std::string csv;
  FakeClock clock;
  DisclosureGate gate;
  std::unique_ptr<DatasetCache> cache;
  std::unique_ptr<AlgorithmRegistry> algorithms;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<TaskExecutor> executor;
};

TEST_CASE("the executor releases an aggregate and audits it", "[node]") {
  TempDir dir;
  Executor e(dir, 20);
  v1::TaskResult result = e.executor->Execute(SummaryTask("j1/1/a"));
  REQUIRE(result.has_aggregate());
  CHECK(result.aggregate().blocks(0).record_count() == 20);
  CHECK(e.audit->size() == 1);
  std::string log = *ReadFile(dir.path + "/audit.jsonl");
  CHECK_THAT(log, Catch::Contains("task_released"));
  CHECK_THAT(log, Catch::Contains("alice"));
  CHECK_THAT(log, Catch::Contains("sha256"));
  CHECK(VerifyAuditLog(dir.path + "/audit.jsonl").ok());
}

TEST_CASE("the executor answers a repeated task id from memory, once audited", "[node]") {
  TempDir dir;
  Executor e(dir, 20);
  v1::TaskResult first = e.executor->Execute(SummaryTask("j1/1/a"));
  v1::TaskResult again = e.executor->Execute(SummaryTask("j1/1/a"));
  CHECK(first.SerializeAsString() == again.SerializeAsString());
  CHECK(e.audit->size() == 1);
}

TEST_CASE("a replayed task id with another request is refused and audited", "[node][security]") {
  TempDir dir;
  Executor e(dir, 20);
  REQUIRE(e.executor->Execute(SummaryTask("j1/1/a")).has_aggregate());
  // The same task id, now asking for another variable (or another requester):
  // not run, not answered from memory.
  v1::Task altered = SummaryTask("j1/1/a");
  SetTextList(*altered.mutable_parameters(), "vars", {"bmi"});
  v1::TaskResult replayed = e.executor->Execute(altered);
  REQUIRE(replayed.has_refusal());
  CHECK(replayed.refusal().rule() == "replay");
  CHECK(e.audit->size() == 2);
  std::string log = *ReadFile(dir.path + "/audit.jsonl");
  CHECK_THAT(log, Catch::Contains("\"rule\":\"replay\""));
  CHECK(VerifyAuditLog(dir.path + "/audit.jsonl").ok());
}

TEST_CASE("secure masking refuses a participant whose certificate was revoked",
          "[node][security]") {
  TempDir dir;
  CertificateAndKey ca = *CreateCertificateAuthority(CaOptions());
  auto material = [&](const std::string& id) {
    IssueOptions options;
    options.identity = {id, absl::StrCat("Org ", id), Role::kNode};
    CertificateAndKey cert = *IssueCertificate(ca, options);
    TlsMaterial tls;
    tls.ca_pem = ca.certificate_pem;
    tls.cert_pem = cert.certificate_pem;
    tls.key_pem = cert.private_key_pem;
    tls.identity = *IdentityFromCertificate(cert.certificate_pem);
    return tls;
  };
  TlsMaterial a = material("a"), b = material("b");
  const std::string crl = dir.path + "/crl.pem";
  REQUIRE(WriteFileAtomically(crl, *CreateRevocationList(ca, {}, absl::Now())).ok());
  std::unique_ptr<RevocationList> revoked = *RevocationList::Load(ca.certificate_pem, crl);
  RealClock clock;  // certificates are checked at the clock's time
  std::unique_ptr<SecureMasking> node_a =
      *SecureMasking::Create(dir.path + "/a.key", a, clock, revoked.get());
  std::unique_ptr<SecureMasking> node_b = *SecureMasking::Create(dir.path + "/b.key", b, clock);
  v1::Task task = SummaryTask("j1/1/a");
  task.mutable_secure()->set_fraction_bits(32);
  *task.mutable_secure()->add_participants() = node_a->announcement();
  *task.mutable_secure()->add_participants() = node_b->announcement();
  v1::Aggregate aggregate;
  aggregate.add_blocks()->mutable_vector()->add_values(1.0);
  CHECK(node_a->Mask(task, aggregate).ok());

  REQUIRE(WriteFileAtomically(
              crl, *CreateRevocationList(ca, {{b.identity.serial, absl::Now()}}, absl::Now()))
              .ok());
  absl::StatusOr<v1::MaskedAggregate> refused = node_a->Mask(task, aggregate);
  CHECK(refused.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("revoked"));
}

TEST_CASE("the gate's refusal goes back with the rule and is audited", "[node]") {
  TempDir dir;
  Executor e(dir, 5);
  v1::TaskResult result = e.executor->Execute(SummaryTask("j1/1/a"));
  REQUIRE(result.has_refusal());
  CHECK(result.refusal().rule() == "min_records");
  CHECK_THAT(*ReadFile(dir.path + "/audit.jsonl"), Catch::Contains("task_refused"));
}

TEST_CASE("a task over fewer sites than min_sites is refused before it runs, and audited",
          "[node]") {
  TempDir dir;
  Executor e(dir, 20);
  v1::Task task = SummaryTask("j1/1/a");
  task.clear_participants();
  for (const char* node : {"a", "b", "b"}) task.add_participants(node);  // two sites
  v1::TaskResult result = e.executor->Execute(task);
  REQUIRE(result.has_refusal());
  CHECK(result.refusal().rule() == "min_sites");
  CHECK_THAT(result.refusal().message(), Catch::Contains("(3)") && !Catch::Contains("2"));
  CHECK(e.audit->size() == 1);
  std::string log = *ReadFile(dir.path + "/audit.jsonl");
  CHECK_THAT(log, Catch::Contains("task_refused") && Catch::Contains("\"min_sites\""));
  CHECK_THAT(log, !Catch::Contains("task_released"));
  CHECK(VerifyAuditLog(dir.path + "/audit.jsonl").ok());

  // No participants at all (a coordinator that does not send them) is no site.
  task.set_task_id("j1/1/b");
  task.clear_participants();
  CHECK(e.executor->Execute(task).refusal().rule() == "min_sites");

  // Nothing was read: the refusal comes first even for a broken dataset.
  REQUIRE(WriteFileAtomically(e.csv, "age\n41,F\n").ok());
  task.set_task_id("j1/1/c");
  task.add_participants("a");
  CHECK(e.executor->Execute(task).refusal().rule() == "min_sites");
}

TEST_CASE("an operator's min_sites of 1 lets a single-site task run", "[node]") {
  TempDir dir;
  Executor e(dir, 20, {.min_sites = 1});
  v1::Task task = SummaryTask("j1/1/a");
  task.clear_participants();
  task.add_participants("a");
  CHECK(e.executor->Execute(task).has_aggregate());
}

TEST_CASE("unknown datasets and algorithms become errors, audited", "[node]") {
  TempDir dir;
  Executor e(dir, 20);
  v1::TaskResult result = e.executor->Execute(SummaryTask("j1/1/a", "other"));
  REQUIRE(result.has_error());
  CHECK(result.error().code() == static_cast<int>(absl::StatusCode::kNotFound));
  v1::Task task = SummaryTask("j1/1/b");
  task.set_algorithm("nope");
  CHECK(e.executor->Execute(task).has_error());
  CHECK(e.audit->size() == 2);
}

TEST_CASE("the dataset cache reloads a file that changed", "[node]") {
  TempDir dir;
  Executor e(dir, 20);
  auto first = e.cache->Get("cohort");
  REQUIRE(first.ok());
  CHECK((*first)->num_rows() == 20);
  CHECK(e.cache->Get("cohort")->get() == first->get());  // cached
  REQUIRE(WriteFileAtomically(e.csv, Csv(30)).ok());
  auto second = e.cache->Get("cohort");
  REQUIRE(second.ok());
  CHECK((*second)->num_rows() == 30);
  CHECK((*first)->num_rows() == 20);  // a running task keeps its frame
}

TEST_CASE("a broken dataset gives the reader's line, never a value", "[node]") {
  TempDir dir;
  Executor e(dir, 20);
  REQUIRE(WriteFileAtomically(e.csv, "age,sex\n41,F\n42,M,SECRET99\n").ok());
  auto frame = e.cache->Get("cohort");
  REQUIRE(!frame.ok());
  CHECK_THAT(std::string(frame.status().message()), Catch::Contains(":3"));
  CHECK_THAT(std::string(frame.status().message()), !Catch::Contains("SECRET99"));
}

TEST_CASE("reconnect backoff doubles, is capped and jittered", "[node]") {
  LinkOptions options;
  options.initial_backoff = absl::Milliseconds(200);
  options.max_backoff = absl::Seconds(30);
  CHECK(CoordinatorLink::BackoffDelay(options, 0, 0.0) == absl::Milliseconds(100));
  CHECK(CoordinatorLink::BackoffDelay(options, 0, 0.999) < absl::Milliseconds(200));
  CHECK(CoordinatorLink::BackoffDelay(options, 3, 0.0) == absl::Milliseconds(800));
  CHECK(CoordinatorLink::BackoffDelay(options, 30, 0.0) == absl::Seconds(15));
  CHECK(CoordinatorLink::BackoffDelay(options, 30, 0.999) <= absl::Seconds(30));
}

TEST_CASE("node config errors name the file and line", "[node][config]") {
  TempDir dir;
  std::string path = dir.path + "/node.toml";
  REQUIRE(WriteFileAtomically(path,
                              "name = \"a\"\ncoordinator = \"x:1\"\ndata_dir = \"d\"\n"
                              "[tls]\nca = \"ca\"\ncert = \"c\"\nkey = \"k\"\n"
                              "[disclosure]\nmin_records = \"ten\"\n"
                              "[[datasets]]\nname = \"cohort\"\npath = \"c.csv\"\n")
              .ok());
  absl::StatusOr<NodeConfig> config = LoadNodeConfig(path);
  REQUIRE(absl::IsInvalidArgument(config.status()));
  CHECK_THAT(std::string(config.status().message()), Catch::Contains("node.toml:9"));
  CHECK_THAT(std::string(config.status().message()), Catch::Contains("min_records"));

  REQUIRE(WriteFileAtomically(path,
                              "name = \"a\"\ncoordinator = \"x:1\"\ndata_dir = \"d\"\n"
                              "[tls]\nca = \"ca\"\ncert = \"c\"\nkey = \"k\"\n"
                              "[[datasets]]\nname = \"cohort\"\npath = \"c.csv\"\n")
              .ok());
  config = LoadNodeConfig(path);
  REQUIRE(config.ok());
  CHECK(config->disclosure.min_records == 10);
  CHECK(config->disclosure.min_cell_count == 5);
  CHECK(config->disclosure.max_parameter_fraction == 0.33);
  CHECK(config->disclosure.max_levels == 40);
  CHECK(config->disclosure.min_sites == 3);
  CHECK_FALSE(config->disclosure.allow_extremes);
  CHECK(config->disclosure.allow_quantiles);
  CHECK(config->datasets[0].path == dir.path + "/c.csv");
  CHECK(config->tls.key == dir.path + "/k");
}

// A node.toml whose [disclosure] table (line 8) holds `disclosure`, one key
// per line from line 9 on.
std::string NodeToml(const std::string& disclosure) {
  return "name = \"a\"\ncoordinator = \"x:1\"\ndata_dir = \"d\"\n"
         "[tls]\nca = \"ca\"\ncert = \"c\"\nkey = \"k\"\n"
         "[disclosure]\n" +
         disclosure + "[[datasets]]\nname = \"cohort\"\npath = \"c.csv\"\n";
}

TEST_CASE("node config reads every disclosure rule", "[node][config]") {
  TempDir dir;
  std::string path = dir.path + "/node.toml";
  REQUIRE(WriteFileAtomically(path, NodeToml("min_records = 20\nmin_cell_count = 3\n"
                                             "max_parameter_fraction = 0.2\nmax_levels = 12\n"
                                             "min_sites = 1\nallow_event_time_sums = true\n"
                                             "allow_extremes = true\nallow_quantiles = false\n"
                                             "min_time_bin = 30\n"))
              .ok());
  absl::StatusOr<NodeConfig> config = LoadNodeConfig(path);
  REQUIRE(config.ok());
  CHECK(config->disclosure.min_records == 20);
  CHECK(config->disclosure.min_cell_count == 3);
  CHECK(config->disclosure.max_parameter_fraction == 0.2);
  CHECK(config->disclosure.max_levels == 12);
  CHECK(config->disclosure.min_sites == 1);
  CHECK(config->disclosure.allow_event_time_sums);
  CHECK(config->disclosure.min_time_bin == 30);
  CHECK(config->disclosure.allow_extremes);
  CHECK_FALSE(config->disclosure.allow_quantiles);

  // A whole number is a fraction too, and 1 is allowed.
  REQUIRE(WriteFileAtomically(path, NodeToml("max_parameter_fraction = 1\n")).ok());
  config = LoadNodeConfig(path);
  REQUIRE(config.ok());
  CHECK(config->disclosure.max_parameter_fraction == 1.0);
}

TEST_CASE("bad disclosure values name the file, the line and the key", "[node][config]") {
  TempDir dir;
  std::string path = dir.path + "/node.toml";
  struct Case {
    std::string text;
    std::string key;
  };
  // The bad key is always on line 10, after a valid one on line 9.
  std::vector<Case> cases = {
      {"min_records = 10\nmin_cell_count = -1\n", "disclosure.min_cell_count"},
      {"min_records = 10\nmin_cell_count = 0\n", "disclosure.min_cell_count"},
      {"min_records = 10\nmax_levels = -40\n", "disclosure.max_levels"},
      {"min_records = 10\nmax_levels = \"forty\"\n", "disclosure.max_levels"},
      {"min_records = 10\nmin_sites = 0\n", "disclosure.min_sites"},
      {"min_records = 10\nmin_sites = -3\n", "disclosure.min_sites"},
      {"min_records = 10\nmax_parameter_fraction = 1.5\n", "disclosure.max_parameter_fraction"},
      {"min_records = 10\nmax_parameter_fraction = 0\n", "disclosure.max_parameter_fraction"},
      {"min_records = 10\nmax_parameter_fraction = -0.33\n", "disclosure.max_parameter_fraction"},
      {"min_records = 10\nmax_parameter_fraction = \"a third\"\n",
       "disclosure.max_parameter_fraction"},
      {"min_records = 10\nallow_event_time_sums = 1\n", "disclosure.allow_event_time_sums"},
      {"min_records = 10\nmin_time_bin = -30\n", "disclosure.min_time_bin"},
      {"min_records = 10\nallow_extremes = \"yes\"\n", "disclosure.allow_extremes"},
      {"min_records = 10\nallow_quantiles = 0\n", "disclosure.allow_quantiles"},
      {"min_records = 10\nmin_site = 1\n", "min_site"},  // a typo is not a default
  };
  for (const Case& c : cases) {
    INFO(c.text);
    REQUIRE(WriteFileAtomically(path, NodeToml(c.text)).ok());
    absl::StatusOr<NodeConfig> config = LoadNodeConfig(path);
    REQUIRE(absl::IsInvalidArgument(config.status()));
    std::string message(config.status().message());
    CHECK_THAT(message, Catch::Contains("node.toml:10:"));
    CHECK_THAT(message, Catch::Contains(c.key));
  }
}

// A node.toml with `tables` (e.g. a [privacy] table) after the [tls] table,
// starting at line 8, and one dataset whose table holds `dataset_keys`.
std::string NodeTomlWith(const std::string& tables, const std::string& dataset_keys = "") {
  return "name = \"a\"\ncoordinator = \"x:1\"\ndata_dir = \"d\"\n"
         "[tls]\nca = \"ca\"\ncert = \"c\"\nkey = \"k\"\n" +
         tables + "[[datasets]]\nname = \"cohort\"\npath = \"c.csv\"\n" + dataset_keys;
}

TEST_CASE("node config reads [policy] and [privacy], off by default but the guard",
          "[node][config]") {
  TempDir dir;
  std::string path = dir.path + "/node.toml";
  REQUIRE(WriteFileAtomically(path, NodeTomlWith("")).ok());
  absl::StatusOr<NodeConfig> config = LoadNodeConfig(path);
  REQUIRE(config.ok());
  CHECK(config->policy.studies.empty());
  CHECK(config->policy.researchers.empty());
  CHECK(config->policy.algorithms.empty());
  CHECK(config->privacy.differencing_guard);
  CHECK_FALSE(config->privacy.mechanism.has_value());
  CHECK_FALSE(config->datasets[0].privacy_budget.has_value());

  REQUIRE(WriteFileAtomically(
              path, NodeTomlWith("[policy]\nstudies = [\"diabetes-2026\"]\n"
                                 "researchers = [\"alice\", \"bob\"]\n"
                                 "algorithms = [\"summary\", \"colmean@1.0.0\"]\n"
                                 "[privacy]\ndifferencing_guard = false\nmechanism = \"gaussian\"\n"
                                 "epsilon = 0.5\ndelta = 1e-7\nbudget = 4\n",
                                 "privacy_budget = 2.5\n"))
              .ok());
  config = LoadNodeConfig(path);
  REQUIRE(config.ok());
  CHECK(config->policy.studies == std::vector<std::string>{"diabetes-2026"});
  CHECK(config->policy.researchers == std::vector<std::string>{"alice", "bob"});
  CHECK(config->policy.algorithms == std::vector<std::string>{"summary", "colmean@1.0.0"});
  CHECK_FALSE(config->privacy.differencing_guard);
  CHECK(config->privacy.mechanism == DpMechanism::kGaussian);
  CHECK(config->privacy.epsilon == 0.5);
  CHECK(config->privacy.delta == 1e-7);
  CHECK(config->privacy.budget == 4.0);
  CHECK(config->datasets[0].privacy_budget == 2.5);
  CHECK(config->privacy.dp().mechanism == DpMechanism::kGaussian);
  CHECK(config->privacy.dp().epsilon == 0.5);

  REQUIRE(WriteFileAtomically(path, NodeTomlWith("[privacy]\nmechanism = \"laplace\"\n")).ok());
  config = LoadNodeConfig(path);
  REQUIRE(config.ok());
  CHECK(config->privacy.mechanism == DpMechanism::kLaplace);
  CHECK(config->privacy.epsilon == 1.0);
  CHECK(config->privacy.delta == 1e-6);
  CHECK(config->privacy.budget == 10.0);
}

TEST_CASE("bad [policy] and [privacy] values name the file, the line and the key",
          "[node][config]") {
  TempDir dir;
  std::string path = dir.path + "/node.toml";
  struct Case {
    std::string tables;
    std::string dataset_keys;
    std::string line;
    std::string says;
  };
  std::vector<Case> cases = {
      {"[policy]\nstudies = \"diabetes\"\n", "", "node.toml:9:", "policy.studies"},
      {"[policy]\nresearcher = [\"alice\"]\n", "", "node.toml:9:", "researcher"},
      {"[policy]\nalgorithms = [\"\"]\n", "", "node.toml:9:", "empty name"},
      {"[privacy]\nmechanism = \"laplacian\"\n", "", "node.toml:9:", "laplace"},
      {"[privacy]\nepsilon = 0.5\n", "", "node.toml:9:", "without privacy.mechanism"},
      {"[privacy]\nbudget = 5\n", "", "node.toml:9:", "without privacy.mechanism"},
      {"[privacy]\nmechanism = \"gaussian\"\n", "", "node.toml:8:", "below 1"},
      {"[privacy]\nmechanism = \"laplace\"\nepsilon = 0\n", "", "node.toml:10:", "privacy.epsilon"},
      {"[privacy]\nmechanism = \"laplace\"\nepsilon = -1\n", "",
       "node.toml:10:", "privacy.epsilon"},
      {"[privacy]\nmechanism = \"gaussian\"\nepsilon = 0.5\ndelta = 1\n", "",
       "node.toml:11:", "privacy.delta"},
      {"[privacy]\nmechanism = \"laplace\"\nbudget = -2\n", "", "node.toml:10:", "privacy.budget"},
      {"[privacy]\ndifferencing_guard = \"yes\"\n", "", "node.toml:9:", "differencing_guard"},
      {"", "privacy_budget = 2\n", "node.toml:11:", "without [privacy] mechanism"},
      {"[privacy]\nmechanism = \"laplace\"\n", "privacy_budget = -1\n",
       "node.toml:13:", "privacy_budget"},
  };
  for (const Case& c : cases) {
    INFO(c.tables << c.dataset_keys);
    REQUIRE(WriteFileAtomically(path, NodeTomlWith(c.tables, c.dataset_keys)).ok());
    absl::StatusOr<NodeConfig> config = LoadNodeConfig(path);
    REQUIRE(absl::IsInvalidArgument(config.status()));
    std::string message(config.status().message());
    CHECK_THAT(message, Catch::Contains(c.line));
    CHECK_THAT(message, Catch::Contains(c.says));
  }
}

}  // namespace
}  // namespace spoor
