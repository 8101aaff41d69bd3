// The task path's protections beyond the disclosure gate: the node's own
// policy ([policy]), the differencing guard and differential privacy with
// its budget ([privacy]), through TaskExecutor as the node runs them.
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "algorithms/algorithm.h"
#include "common/audit_log.h"
#include "common/file_util.h"
#include "node/dataset_cache.h"
#include "node/privacy_budget.h"
#include "node/release_history.h"
#include "node/release_policy.h"
#include "node/task_executor.h"

namespace spoor {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    path = (fs::temp_directory_path() /
            ("spoor-protections-" + std::to_string(std::random_device{}())))
               .string();
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

// `rows` records: id 1..rows, age 30.., sex F/M alternating, grp a/b/c in
// turn, so sex x grp has rows / 6 records in each cell.
std::string Csv(int rows, int age_offset = 0) {
  std::string out = "id,age,sex,grp\n";
  for (int i = 0; i < rows; ++i) {
    absl::StrAppend(&out, i + 1, ",", 30 + i + age_offset, ",", i % 2 ? "M" : "F", ",",
                    std::string(1, static_cast<char>('a' + i % 3)), "\n");
  }
  return out;
}

// Noise that is always the same draw, so that tests can predict it. Never
// for a real node: a predictable source can be subtracted.
class FixedNoiseSource final : public NoiseSource {
 public:
  explicit FixedNoiseSource(double u) : u_(u) {}
  double Uniform() override { return u_; }

 private:
  double u_;
};

struct Options {
  NodePolicy policy = {};
  bool guard = false;
  bool dp = false;
  double default_budget = 10.0;
  std::optional<double> dataset_budget = std::nullopt;  // DatasetConfig::privacy_budget
};

// A node as RunNode wires it, over a 60-record CSV, with a fake clock and
// the release history and budget in the temp dir.
struct Node {
  Node(const TempDir& dir, Options options, int rows = 60)
      : csv(dir.path + "/cohort.csv"), audit_path(dir.path + "/audit.jsonl"), noise(0.9) {
    REQUIRE(WriteFileAtomically(csv, Csv(rows)).ok());
    DatasetConfig dataset = CsvDataset("cohort", csv);
    dataset.privacy_budget = options.dataset_budget;
    cache = std::make_unique<DatasetCache>(std::vector<DatasetConfig>{dataset});
    algorithms = MakeBuiltinRegistry();
    audit = *AuditLog::Open(audit_path, clock);
    NodeProtections protections;
    protections.policy = options.policy;
    if (options.guard) {
      history = *ReleaseHistory::Open(dir.path + "/releases.db", clock);
      protections.history = history.get();
    }
    if (options.dp) {
      budget = *PrivacyBudget::Open(dir.path + "/privacy.db", clock);
      protections.budget = budget.get();
      protections.dp = {DpMechanism::kLaplace, 1.0, 1e-6};
      protections.default_budget = options.default_budget;
      protections.noise = &noise;
    }
    executor = std::make_unique<TaskExecutor>(*algorithms, *cache, gate, *audit, nullptr,
                                              std::move(protections));
  }

  // The audit log's records, oldest first.
  std::vector<nlohmann::json> Audit() const {
    std::vector<nlohmann::json> records;
    for (absl::string_view line : absl::StrSplit(*ReadFile(audit_path), '\n', absl::SkipEmpty())) {
      records.push_back(nlohmann::json::parse(std::string(line)));
    }
    return records;
  }

  std::string csv;
  std::string audit_path;
  FakeClock clock;
  DisclosureGate gate{DisclosureRules{}};  // min_records 10, min_cell_count 5
  FixedNoiseSource noise;
  std::unique_ptr<DatasetCache> cache;
  std::unique_ptr<AlgorithmRegistry> algorithms;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<ReleaseHistory> history;
  std::unique_ptr<PrivacyBudget> budget;
  std::unique_ptr<TaskExecutor> executor;
};

v1::Task BaseTask(const std::string& id, const std::string& algorithm) {
  v1::Task task;
  task.set_task_id(id);
  task.set_job_id(id.substr(0, id.find('/')));
  task.set_round(1);
  task.set_algorithm(algorithm);
  task.set_dataset("cohort");
  task.set_study("diabetes-2026");
  task.mutable_requester()->set_name("alice");
  task.mutable_requester()->set_organisation("Uni");
  for (const char* node : {"a", "b", "c"}) task.add_participants(node);
  return task;
}

v1::Task SummaryTask(const std::string& id, const std::string& where = "") {
  v1::Task task = BaseTask(id, "summary");
  SetTextList(*task.mutable_parameters(), "vars", {"age"});
  task.set_where(where);
  return task;
}

// The table round of crosstab sex x grp, as the coordinator sends it after
// the levels round.
v1::Task CrosstabTableTask(const std::string& id, const std::string& where = "") {
  v1::Task task = BaseTask(id, "crosstab");
  SetText(*task.mutable_parameters(), "rows", "sex");
  SetText(*task.mutable_parameters(), "cols", "grp");
  task.set_round(2);
  SetText(*task.mutable_round_state(), "phase", "table");
  SetTextList(*task.mutable_round_state(), "row_levels", {"F", "M"});
  SetTextList(*task.mutable_round_state(), "col_levels", {"a", "b", "c"});
  task.set_where(where);
  return task;
}

void CheckRefused(const v1::TaskResult& result, const std::string& rule,
                  const std::string& message) {
  INFO(result.DebugString());
  REQUIRE(result.has_refusal());
  CHECK(result.refusal().rule() == rule);
  CHECK_THAT(result.refusal().message(), Catch::Contains(message));
}

// --- [policy] ---

TEST_CASE("a task outside the node's studies is refused before anything is read, and audited",
          "[protections][policy]") {
  TempDir dir;
  Node node(dir, {.policy = {.studies = {"diabetes-2026"}}});
  v1::Task task = SummaryTask("j1/1/a");
  task.set_study("cardio-2025");
  // A dataset this node does not have: the policy answers first.
  task.set_dataset("no-such-dataset");
  CheckRefused(node.executor->Execute(task), "node_policy",
               "this node does not take part in study 'cardio-2025'");
  std::vector<nlohmann::json> audit = node.Audit();
  REQUIRE(audit.size() == 1);
  CHECK(audit[0]["event"] == "task_refused");
  CHECK(audit[0]["rule"] == "node_policy");
  CHECK(audit[0]["study"] == "cardio-2025");
  CHECK(audit[0]["requester"] == "alice");

  // A task that names no study is not in a listed one.
  task.set_task_id("j1/1/b");
  task.clear_study();
  CheckRefused(node.executor->Execute(task), "node_policy", "names no study");

  // The study the node takes part in runs.
  CHECK(node.executor->Execute(SummaryTask("j2/1/a")).has_aggregate());
  CHECK(node.Audit().back()["study"] == "diabetes-2026");
}

TEST_CASE("a researcher outside the node's list is refused and audited", "[protections][policy]") {
  TempDir dir;
  Node node(dir, {.policy = {.researchers = {"alice", "bob"}}});
  v1::Task task = SummaryTask("j1/1/a");
  task.mutable_requester()->set_name("mallory");
  CheckRefused(node.executor->Execute(task), "node_policy",
               "this node does not take tasks from researcher 'mallory'");
  CHECK(node.Audit().back()["rule"] == "node_policy");
  CHECK(node.Audit().back()["requester"] == "mallory");
  task = SummaryTask("j2/1/a");
  task.mutable_requester()->set_name("bob");
  CHECK(node.executor->Execute(task).has_aggregate());
}

TEST_CASE("an algorithm outside the node's list is refused and audited", "[protections][policy]") {
  TempDir dir;
  Node node(dir, {.policy = {.algorithms = {"summary", "colmean"}}});
  CheckRefused(node.executor->Execute(CrosstabTableTask("j1/2/a")), "node_policy",
               "this node does not run algorithm 'crosstab'");
  CHECK(node.Audit().back()["event"] == "task_refused");
  CHECK(node.Audit().back()["rule"] == "node_policy");
  CHECK(node.executor->Execute(SummaryTask("j2/1/a")).has_aggregate());
  // A container algorithm listed by NAME passes the policy (and is then
  // refused by this node's container policy: it runs no containers).
  v1::TaskResult container = node.executor->Execute(BaseTask("j3/1/a", "colmean@1.0.0"));
  REQUIRE(container.has_refusal());
  CHECK(container.refusal().rule() == "container_policy");
  CheckRefused(node.executor->Execute(BaseTask("j4/1/a", "rowdump@1.0.0")), "node_policy",
               "'rowdump@1.0.0'");
}

TEST_CASE("the policy matches containers by name, reference or digest", "[protections][policy]") {
  NodePolicy policy{.algorithms = {"colmean", "km@2.0.0", "sha256:abc"}};
  v1::Task task = BaseTask("t", "colmean@1.0.0");
  CHECK_FALSE(CheckNodePolicy(policy, task).has_value());
  task.set_algorithm("km@2.0.0");
  CHECK_FALSE(CheckNodePolicy(policy, task).has_value());
  task.set_algorithm("km@2.0.1");
  CHECK(CheckNodePolicy(policy, task).has_value());
  task.set_algorithm_digest("sha256:abc");
  CHECK_FALSE(CheckNodePolicy(policy, task).has_value());
  task.set_algorithm("km");  // a built-in name is not a container's version
  task.clear_algorithm_digest();
  CHECK(CheckNodePolicy(policy, task).has_value());
  CHECK_FALSE(CheckNodePolicy(NodePolicy{}, task).has_value());  // empty admits all
}

// --- the differencing guard ---

TEST_CASE("a query one record from a released one is refused by the differencing guard",
          "[protections][differencing]") {
  TempDir dir;
  Node node(dir, {.guard = true});
  v1::TaskResult first = node.executor->Execute(SummaryTask("j1/1/a", "age > 50"));
  REQUIRE(first.has_aggregate());
  CHECK(first.aggregate().blocks(0).record_count() == 39);

  // The attack: the same cohort less one patient; the difference of the two
  // sums would be that patient's age.
  v1::TaskResult attack = node.executor->Execute(SummaryTask("j2/1/a", "age > 50 && id != 30"));
  CheckRefused(attack, "differencing", "differ from an earlier released query");
  CHECK_THAT(attack.refusal().message(), !Catch::Contains("30"));
  nlohmann::json record = node.Audit().back();
  CHECK(record["event"] == "task_refused");
  CHECK(record["rule"] == "differencing");
  CHECK(record["where"] == "age > 50 && id != 30");

  // The same rows again (a later round, or the same query rerun) pass, as do
  // rows that differ by min_records or more, and the whole dataset.
  CHECK(node.executor->Execute(SummaryTask("j3/1/a", "age > 50")).has_aggregate());
  CHECK(node.executor->Execute(SummaryTask("j3/2/a", "age >= 51")).has_aggregate());
  CHECK(node.executor->Execute(SummaryTask("j4/1/a", "age > 60")).has_aggregate());
  CHECK(node.executor->Execute(SummaryTask("j5/1/a")).has_aggregate());
  // ... and the whole dataset less one is now a difference from that.
  CheckRefused(node.executor->Execute(SummaryTask("j6/1/a", "id != 1")), "differencing",
               "fewer than the minimum of 10 records");
}

TEST_CASE("the guard's history survives a restart and restarts when the data change",
          "[protections][differencing]") {
  TempDir dir;
  {
    Node node(dir, {.guard = true});
    REQUIRE(node.executor->Execute(SummaryTask("j1/1/a", "age > 50")).has_aggregate());
  }
  {
    // A new node process over the same file: the same data version.
    Node node(dir, {.guard = true});
    CheckRefused(node.executor->Execute(SummaryTask("j2/1/a", "age > 50 && id != 30")),
                 "differencing", "differencing guard");
    // The data change (every age shifts): other people behind the same rows,
    // a new history.
    REQUIRE(WriteFileAtomically(node.csv, Csv(60, /*age_offset=*/1)).ok());
    CHECK(node.executor->Execute(SummaryTask("j3/1/a", "age > 50 && id != 30")).has_aggregate());
  }
}

TEST_CASE("without the guard the node keeps no history", "[protections][differencing]") {
  TempDir dir;
  Node node(dir, {});
  CHECK(node.executor->Execute(SummaryTask("j1/1/a", "age > 50")).has_aggregate());
  CHECK(node.executor->Execute(SummaryTask("j2/1/a", "age > 50 && id != 30")).has_aggregate());
  CHECK_FALSE(fs::exists(dir.path + "/releases.db"));
}

TEST_CASE("the data version is the frame's content", "[protections][differencing]") {
  auto frame = [](std::vector<double> ages) {
    std::vector<Column> columns;
    columns.push_back(Column::Numeric("age", std::move(ages)));
    return *DataFrame::Make(std::move(columns));
  };
  const std::string a = *FrameDigest(frame({40, 50, 60}));
  CHECK(a.rfind("sha256:", 0) == 0);
  CHECK(a.size() == 7 + 64);
  CHECK(*FrameDigest(frame({40, 50, 60})) == a);  // another frame, the same data
  CHECK(*FrameDigest(frame({50, 40, 60})) != a);  // the rows in another order
  CHECK(*FrameDigest(frame({40, 50, 61})) != a);
  std::vector<Column> renamed;
  renamed.push_back(Column::Numeric("years", {40, 50, 60}));
  CHECK(*FrameDigest(*DataFrame::Make(std::move(renamed))) != a);
}

// --- differential privacy and the budget ---

TEST_CASE("under differential privacy a count table comes back noised and spends budget",
          "[protections][dp]") {
  TempDir dir;
  Node node(dir, {.dp = true});
  v1::TaskResult result = node.executor->Execute(CrosstabTableTask("j1/2/a"));
  INFO(result.DebugString());
  REQUIRE(result.has_aggregate());
  const v1::Block& table = result.aggregate().blocks(0);
  // Exact: 10 per cell and 60 records. Two noised quantities (the table and
  // the record count), epsilon 0.5 each: Laplace scale 2, and the fixed draw
  // u = 0.9 is +2 ln 5 = +3.2, rounded to +3.
  REQUIRE(table.count_table().counts_size() == 6);
  for (int64_t count : table.count_table().counts()) CHECK(count == 13);
  CHECK(table.record_count() == 63);
  CHECK(*node.budget->Spent("cohort") == Approx(1.0));

  nlohmann::json record = node.Audit().back();
  CHECK(record["event"] == "task_released");
  CHECK(record["privacy"]["mechanism"] == "laplace");
  CHECK(record["privacy"]["epsilon"] == Approx(1.0));
  CHECK(record["privacy"]["spent_total"] == Approx(1.0));
  CHECK(record["privacy"]["limit"] == Approx(10.0));
  // The audit's digest is of what was sent: the noised aggregate.
  CHECK(record["released"]["sha256"] == Sha256Hex(result.aggregate().SerializeAsString()));

  // Another release spends again; a re-sent task id does not.
  REQUIRE(node.executor->Execute(CrosstabTableTask("j2/2/a")).has_aggregate());
  CHECK(*node.budget->Spent("cohort") == Approx(2.0));
  REQUIRE(node.executor->Execute(CrosstabTableTask("j2/2/a")).has_aggregate());
  CHECK(*node.budget->Spent("cohort") == Approx(2.0));
  std::vector<PrivacyBudget::Entry> entries = *node.budget->List();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].releases == 2);
}

TEST_CASE("a task re-sent after a restart spends again only if its noise differs",
          "[protections][dp]") {
  TempDir dir;
  {
    Node node(dir, {.dp = true});
    REQUIRE(node.executor->Execute(CrosstabTableTask("j1/2/a")).has_aggregate());
  }
  {
    // The same draw: the same bytes again, nothing new released or spent.
    Node node(dir, {.dp = true});
    REQUIRE(node.executor->Execute(CrosstabTableTask("j1/2/a")).has_aggregate());
    CHECK(*node.budget->Spent("cohort") == Approx(1.0));
  }
  {
    // A fresh draw of the same task is a second release of the table.
    Node node(dir, {.dp = true});
    node.noise = FixedNoiseSource(0.1);
    v1::TaskResult again = node.executor->Execute(CrosstabTableTask("j1/2/a"));
    REQUIRE(again.has_aggregate());
    CHECK(again.aggregate().blocks(0).count_table().counts(0) == 7);  // 10 - 3
    CHECK(*node.budget->Spent("cohort") == Approx(2.0));
  }
}

TEST_CASE("an exhausted privacy budget refuses the release, audited", "[protections][dp]") {
  TempDir dir;
  // The dataset's own limit wins over the node's default.
  Node node(dir, {.dp = true, .default_budget = 10.0, .dataset_budget = 1.5});
  REQUIRE(node.executor->Execute(CrosstabTableTask("j1/2/a")).has_aggregate());
  v1::TaskResult refused = node.executor->Execute(CrosstabTableTask("j2/2/a"));
  CheckRefused(refused, "privacy_budget", "privacy budget of dataset 'cohort' is exhausted");
  CHECK_THAT(refused.refusal().message(), Catch::Contains("spent 1 of 1.5"));
  nlohmann::json record = node.Audit().back();
  CHECK(record["event"] == "task_refused");
  CHECK(record["rule"] == "privacy_budget");
  CHECK_FALSE(record.contains("privacy"));
  CHECK(*node.budget->Spent("cohort") == Approx(1.0));  // the refusal spent nothing

  // The data steward's reset lets the dataset spend again.
  CHECK(*node.budget->Reset("cohort") == 1);
  CHECK(node.executor->Execute(CrosstabTableTask("j3/2/a")).has_aggregate());
}

TEST_CASE("under differential privacy unbounded sums are refused", "[protections][dp]") {
  TempDir dir;
  Node node(dir, {.guard = true, .dp = true});
  CheckRefused(node.executor->Execute(SummaryTask("j1/1/a", "age > 50")), "differential_privacy",
               "sums of unbounded values");
  nlohmann::json record = node.Audit().back();
  CHECK(record["event"] == "task_refused");
  CHECK(record["rule"] == "differential_privacy");
  CHECK(*node.budget->Spent("cohort") == 0);
  // Refused before the guard: the query left nothing in the history.
  CHECK(*node.history->Count("cohort") == 0);
  // Count tables pass, through the guard too.
  CHECK(node.executor->Execute(CrosstabTableTask("j2/2/a", "age > 50")).has_aggregate());
  CHECK(*node.history->Count("cohort") == 1);
  CheckRefused(node.executor->Execute(CrosstabTableTask("j3/2/a", "age > 50 && id != 30")),
               "differencing", "differencing guard");
  CHECK(*node.budget->Spent("cohort") == Approx(1.0));  // the refused one spent nothing
}

}  // namespace
}  // namespace spoor
