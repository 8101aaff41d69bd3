// Datasets from every source, as a node serves them: node.toml's dataset
// keys, SQLite and PostgreSQL sources through the cache, harmonisation of
// two differently coded hospitals to one answer, cohort filters and the
// catalogue through the task executor. Built into node_sql_test, and into
// postgres_test (SPOOR_SQL_TEST_POSTGRES) for the PostgreSQL refresh.
#include <sqlite3.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "algorithms/algorithm.h"
#include "common/audit_log.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "node/dataset_cache.h"
#include "node/node_config.h"
#include "node/sql_test_support.h"
#include "node/task_executor.h"

namespace spoor {
namespace {

using testing::TempDir;

void Sqlite(const std::string& path, const std::string& sql) { testing::MakeSqlite(path, sql); }

// node.toml with the given [[datasets]] tables (line 8 on).
std::string NodeToml(const std::string& datasets) {
  return absl::StrCat(
      "name = \"a\"\ncoordinator = \"x:1\"\ndata_dir = \"d\"\n"
      "[tls]\nca = \"ca\"\ncert = \"c\"\nkey = \"k\"\n",
      datasets);
}

absl::StatusOr<NodeConfig> Load(const TempDir& dir, const std::string& datasets) {
  const std::string path = dir.path + "/node.toml";
  REQUIRE(WriteFileAtomically(path, NodeToml(datasets)).ok());
  return LoadNodeConfig(path);
}

TEST_CASE("node config reads every dataset source and its extras", "[node][config]") {
  TempDir dir;
  absl::StatusOr<NodeConfig> config = Load(dir, R"([[datasets]]
name = "lite"
source = "sqlite"
path = "cohort.sqlite"
table = "cohort"
[datasets.metadata]
title = "Cohort A"
description = "Adults since 1990"
contact = "steward@a.example"
licence = "CC-BY-4.0"
keywords = ["cardiology", "cohort"]
[[datasets.variables]]
name = "sex"
codes = { "1" = "M", "2" = "F" }
[[datasets.variables]]
name = "glucose"
from = "gluc"
unit = "mg/dL"
to_unit = "mmol/L"
molar_mass = 180.156

[[datasets]]
name = "pg"
source = "postgresql"
connection = "host=/run/postgresql dbname=research"
query = "SELECT age, sex FROM cohort"
refresh_seconds = 600
timeout_seconds = 120

[[datasets]]
name = "omop"
source = "postgresql"
connection = "dbname=cdm"
[datasets.omop]
schema = "cdm"
[[datasets.omop.variables]]
name = "age"
kind = "age"
[[datasets.omop.variables]]
name = "diabetes"
kind = "condition"
concepts = [201826]
)");
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  REQUIRE(config->datasets.size() == 3);
  const DatasetConfig& lite = config->datasets[0];
  CHECK(lite.source == DatasetSource::kSqlite);
  CHECK(lite.path == dir.path + "/cohort.sqlite");
  CHECK(lite.table == "cohort");
  CHECK(lite.metadata.title == "Cohort A");
  CHECK(lite.metadata.keywords == std::vector<std::string>{"cardiology", "cohort"});
  REQUIRE(lite.variables.size() == 2);
  CHECK(lite.variables[0].codes ==
        std::vector<std::pair<std::string, std::string>>{{"1", "M"}, {"2", "F"}});
  CHECK(lite.variables[1].from == "gluc");
  CHECK(lite.variables[1].molar_mass == 180.156);
  const DatasetConfig& pg = config->datasets[1];
  CHECK(pg.source == DatasetSource::kPostgres);
  CHECK(pg.connection == "host=/run/postgresql dbname=research");
  CHECK(pg.query == "SELECT age, sex FROM cohort");
  CHECK(pg.refresh == absl::Seconds(600));
  CHECK(pg.timeout == absl::Seconds(120));
  const DatasetConfig& omop = config->datasets[2];
  REQUIRE(omop.omop.has_value());
  CHECK(omop.omop->schema == "cdm");
  REQUIRE(omop.omop->variables.size() == 2);
  CHECK(omop.omop->variables[1].kind == OmopKind::kCondition);
  CHECK(omop.omop->variables[1].concepts == std::vector<int64_t>{201826});
  CHECK(omop.refresh == absl::Hours(1));
}

TEST_CASE("bad dataset declarations name the file, the line and what to do", "[node][config]") {
  struct Case {
    std::string datasets;
    std::string where;
    std::string what;
  };
  const std::vector<Case> cases = {
      {"[[datasets]]\nname = \"c\"\nsource = \"excel\"\npath = \"x\"\n", "node.toml:10",
       "csv, sqlite or postgresql"},
      {"[[datasets]]\nname = \"c\"\npath = \"x.csv\"\ntable = \"t\"\n", "node.toml:11",
       "a csv dataset is the whole file"},
      {"[[datasets]]\nname = \"c\"\nsource = \"sqlite\"\npath = \"x\"\n", "node.toml:9",
       "exactly one of table, query or [datasets.omop]"},
      {"[[datasets]]\nname = \"c\"\nsource = \"sqlite\"\npath = \"x\"\ntable = \"t\"\n"
       "query = \"select 1\"\n",
       "node.toml:9", "exactly one of"},
      {"[[datasets]]\nname = \"c\"\nsource = \"postgresql\"\ntable = \"t\"\n", "node.toml:8",
       "connection"},
      {"[[datasets]]\nname = \"c\"\npath = \"x.csv\"\nrefresh_seconds = 5\n", "node.toml:11",
       "files are re-read when they change"},
      {"[[datasets]]\nname = \"c\"\npath = \"x.csv\"\n[[datasets.variables]]\nname = \"g\"\n"
       "unit = \"mg/dL\"\n",
       "node.toml:", "to_unit"},
      {"[[datasets]]\nname = \"c\"\nsource = \"sqlite\"\npath = \"x\"\n[datasets.omop]\n"
       "[[datasets.omop.variables]]\nname = \"w\"\nkind = \"weight\"\n",
       "node.toml:15", "followup_days"},
      {"[[datasets]]\nname = \"c\"\nsource = \"sqlite\"\npath = \"x\"\n[datasets.omop]\n"
       "[[datasets.omop.variables]]\nname = \"d\"\nkind = \"condition\"\n",
       "node.toml:", "needs concepts"},
      {"[[datasets]]\nname = \"c\"\npath = \"x.csv\"\n[datasets.metadata]\ntitel = \"x\"\n",
       "node.toml:12", "titel"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    absl::StatusOr<NodeConfig> config = Load(dir, c.datasets);
    INFO(c.datasets);
    REQUIRE_FALSE(config.ok());
    CHECK(absl::IsInvalidArgument(config.status()));
    CHECK_THAT(std::string(config.status().message()), Catch::Contains(c.where));
    CHECK_THAT(std::string(config.status().message()), Catch::Contains(c.what));
  }
}

v1::Task MakeTask(const std::string& id, const std::string& algorithm, const std::string& dataset) {
  v1::Task task;
  task.set_task_id(id);
  task.set_job_id("j");
  task.set_round(1);
  task.set_algorithm(algorithm);
  task.set_dataset(dataset);
  task.mutable_requester()->set_name("alice");
  for (const char* node : {"a", "b", "c"}) task.add_participants(node);
  return task;
}

using testing::TestNode;

// Two hospitals hold the same 60 patients coded differently: A in SQLite
// with sex 1/2 and glucose in mg/dL (column gluc), B in CSV with sex
// male/female and glucose in mmol/L. Their node.toml mappings harmonise both
// to sex F/M and glucose in mmol/L.
struct TwoHospitals {
  explicit TwoHospitals(const TempDir& dir) {
    std::string inserts;
    std::string csv = "age,sex,glucose,smoker\n";
    for (int i = 0; i < 60; ++i) {
      const double mmol = 4 + (i % 17) * 0.25;
      const bool female = i % 3 == 0;
      const char* smoker = i % 4 == 0 ? "yes" : "no";
      absl::StrAppend(&inserts, "INSERT INTO cohort VALUES (", 40 + i % 30, ", ", female ? 2 : 1,
                      ", ", absl::StrFormat("%.17g", mmol * 180.156 / 10), ", '", smoker, "');\n");
      absl::StrAppend(&csv, 40 + i % 30, ",", female ? "female" : "male", ",", mmol, ",", smoker,
                      "\n");
    }
    a.name = "cohort";
    a.source = DatasetSource::kSqlite;
    a.path = dir.path + "/a.sqlite";
    a.table = "cohort";
    Sqlite(a.path,
           "CREATE TABLE cohort (age INTEGER, sex INTEGER, gluc REAL, smoker TEXT);" + inserts);
    VariableMapping sex_a;
    sex_a.name = "sex";
    sex_a.codes = {{"1", "M"}, {"2", "F"}};
    VariableMapping glucose;
    glucose.name = "glucose";
    glucose.from = "gluc";
    glucose.unit = "mg/dL";
    glucose.to_unit = "mmol/L";
    glucose.molar_mass = 180.156;
    a.variables = {sex_a, glucose};

    b = CsvDataset("cohort", dir.path + "/b.csv");
    REQUIRE(WriteFileAtomically(b.path, csv).ok());
    VariableMapping sex_b;
    sex_b.name = "sex";
    sex_b.codes = {{"male", "M"}, {"female", "F"}};
    b.variables = {sex_b};
  }
  DatasetConfig a;
  DatasetConfig b;
};

TEST_CASE("two differently coded hospitals answer one harmonised query alike", "[node]") {
  TempDir dir;
  TwoHospitals hospitals(dir);
  TestNode a(dir.path, {hospitals.a});
  TestNode b(dir.path, {hospitals.b});

  v1::Task crosstab = MakeTask("x1", "crosstab", "cohort");
  SetText(*crosstab.mutable_parameters(), "rows", "sex");
  SetText(*crosstab.mutable_parameters(), "cols", "smoker");
  // Round 1: the levels each node holds (after harmonisation).
  SetText(*crosstab.mutable_round_state(), "phase", "levels");
  v1::TaskResult from_a = a.executor->Execute(crosstab);
  v1::TaskResult from_b = b.executor->Execute(crosstab);
  INFO(from_a.DebugString() << from_b.DebugString());
  REQUIRE(from_a.has_aggregate());
  CHECK(from_a.aggregate().SerializeAsString() == from_b.aggregate().SerializeAsString());

  v1::Task summary = MakeTask("s1", "summary", "cohort");
  SetTextList(*summary.mutable_parameters(), "vars", {"age", "glucose"});
  from_a = a.executor->Execute(summary);
  from_b = b.executor->Execute(summary);
  REQUIRE(from_a.has_aggregate());
  REQUIRE(from_b.has_aggregate());
  // Glucose converted from mg/dL equals the mmol/L values to rounding.
  const v1::Aggregate& x = from_a.aggregate();
  const v1::Aggregate& y = from_b.aggregate();
  REQUIRE(x.blocks_size() == y.blocks_size());
  for (int i = 0; i < x.blocks_size(); ++i) {
    INFO("block " << x.blocks(i).name());
    CHECK(x.blocks(i).record_count() == y.blocks(i).record_count());
    REQUIRE(x.blocks(i).vector().values_size() == y.blocks(i).vector().values_size());
    for (int k = 0; k < x.blocks(i).vector().values_size(); ++k) {
      CHECK(x.blocks(i).vector().values(k) ==
            Approx(y.blocks(i).vector().values(k)).epsilon(1e-12).margin(1e-9));
    }
  }
}

TEST_CASE("a filtered task reads only the records its --where keeps", "[node]") {
  TempDir dir;
  TwoHospitals hospitals(dir);
  TestNode a(dir.path, {hospitals.a});
  v1::Task task = MakeTask("f1", "summary", "cohort");
  SetTextList(*task.mutable_parameters(), "vars", {"age"});
  task.set_where("age >= 50 && sex == 'F'");
  v1::TaskResult result = a.executor->Execute(task);
  INFO(result.DebugString());
  REQUIRE(result.has_aggregate());
  int expected = 0;
  for (int i = 0; i < 60; ++i) expected += (40 + i % 30 >= 50 && i % 3 == 0);
  CHECK(result.aggregate().blocks(0).record_count() == expected);
  CHECK_THAT(*ReadFile(a.audit_path), Catch::Contains("age >= 50 && sex == 'F'"));

  // The next round reuses the filtered frame; a type error is the task's error.
  task.set_task_id("f2");
  task.set_where("sex == 1");
  result = a.executor->Execute(task);
  REQUIRE(result.has_error());
  CHECK_THAT(result.error().message(), Catch::Contains("'sex' is categorical"));

  // Too few records left: the gate refuses, as for any aggregate.
  task.set_task_id("f3");
  task.set_where("age > 68");
  result = a.executor->Execute(task);
  REQUIRE(result.has_refusal());
  CHECK(result.refusal().rule() == "min_records");
}

TEST_CASE("the catalogue describes a harmonised dataset with its metadata", "[node]") {
  TempDir dir;
  TwoHospitals hospitals(dir);
  hospitals.a.metadata.title = "Cohort A";
  hospitals.a.metadata.licence = "CC-BY-4.0";
  TestNode a(dir.path, {hospitals.a});
  v1::TaskResult result = a.executor->Execute(MakeTask("c1", "catalogue", "cohort"));
  INFO(result.DebugString());
  REQUIRE(result.has_aggregate());
  const v1::Block& block = result.aggregate().blocks(0);
  CHECK(block.record_count() == 60);
  CHECK(block.description().title() == "Cohort A");
  REQUIRE(block.description().variables_size() == 4);
  CHECK(block.description().variables(1).name() == "sex");
  CHECK(block.description().variables(1).levels_size() == 2);
  CHECK(block.description().variables(2).name() == "glucose");
}

TEST_CASE("a SQLite dataset is re-read when its file changes", "[node]") {
  TempDir dir;
  DatasetConfig config;
  config.name = "cohort";
  config.source = DatasetSource::kSqlite;
  config.path = dir.path + "/c.sqlite";
  config.query = "SELECT x FROM t WHERE x > 1";
  Sqlite(config.path, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);");
  DatasetCache cache({config});
  absl::StatusOr<std::shared_ptr<const DataFrame>> first = cache.Get("cohort");
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK((*first)->num_rows() == 2);
  CHECK(*cache.Get("cohort") == *first);  // cached
  Sqlite(config.path, "INSERT INTO t VALUES (4);");
  absl::StatusOr<std::shared_ptr<const DataFrame>> second = cache.Get("cohort");
  REQUIRE(second.ok());
  CHECK((*second)->num_rows() == 3);
}

#ifdef SPOOR_SQL_TEST_POSTGRES
TEST_CASE("a PostgreSQL dataset is re-read after its refresh interval", "[node]") {
  SPOOR_NEED_POSTGRES(server);
  REQUIRE(server->Execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);").ok());
  DatasetConfig config;
  config.name = "cohort";
  config.source = DatasetSource::kPostgres;
  config.connection = server->conninfo();
  config.table = "t";
  config.refresh = absl::Minutes(10);
  FakeClock clock;
  DatasetCache cache({config}, &clock);
  REQUIRE((*cache.Get("cohort"))->num_rows() == 2);
  REQUIRE(server->Execute("INSERT INTO t VALUES (3);").ok());
  clock.Advance(absl::Minutes(9));
  CHECK((*cache.Get("cohort"))->num_rows() == 2);  // still within the interval
  clock.Advance(absl::Minutes(2));
  CHECK((*cache.Get("cohort"))->num_rows() == 3);
}

TEST_CASE("a slow database read does not hold up tasks on another dataset", "[node]") {
  SPOOR_NEED_POSTGRES(server);
  REQUIRE(server->Execute("CREATE TABLE s (x int); INSERT INTO s VALUES (1), (2);").ok());
  TempDir dir;
  DatasetConfig slow;
  slow.name = "slow";
  slow.source = DatasetSource::kPostgres;
  slow.connection = server->conninfo();
  slow.query = "SELECT x FROM s, (SELECT pg_sleep(2)) AS pause";
  DatasetConfig fast = CsvDataset("fast", dir.path + "/fast.csv");
  REQUIRE(WriteFileAtomically(fast.path, "x\n1\n2\n").ok());
  DatasetCache cache({slow, fast});
  std::atomic<bool> slow_done{false};
  std::thread reader([&] {
    CHECK(cache.Get("slow").ok());
    slow_done = true;
  });
  absl::SleepFor(absl::Milliseconds(200));  // let the slow read start
  CHECK(cache.Get("fast").ok());
  CHECK_FALSE(slow_done.load());  // the fast dataset did not wait for it
  reader.join();
  CHECK(slow_done.load());
}
#endif

}  // namespace
}  // namespace spoor
