// The OMOP view (node/omop.h) against a synthetic OMOP CDM sample whose
// expected person-level values are computed without SQL
// (tests/omop/omop_sample.h): through SQLite here, and through PostgreSQL in
// postgres_test (built with SPOOR_SQL_TEST_POSTGRES), where the PostgreSQL
// frame must also equal the SQLite one.
#include "node/omop.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "algorithms/algorithm.h"
#include "common/audit_log.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "node/dataset_cache.h"
#include "node/sql_source.h"
#include "node/sql_test_support.h"
#include "node/task_executor.h"
#include "tests/omop/omop_sample.h"

namespace spoor {
namespace {

using testing::MakeOmopSample;
using testing::SampleRow;
using testing::SampleView;

void CheckView(const DataFrame& frame, const std::vector<SampleRow>& rows) {
  REQUIRE(frame.num_rows() == rows.size());
  REQUIRE(frame.num_columns() == 7);
  auto numbers = [&](const char* name) -> const std::vector<double>& {
    const Column* column = frame.Find(name);
    INFO("column " << name);
    REQUIRE(column != nullptr);
    REQUIRE(column->type() == ColumnType::kNumeric);
    return column->numbers();
  };
  const Column* sex = frame.Find("sex");
  REQUIRE(sex != nullptr);
  REQUIRE(sex->type() == ColumnType::kCategorical);
  CHECK(sex->levels() == std::vector<std::string>{"F", "M"});
  for (size_t i = 0; i < rows.size(); ++i) {
    const SampleRow& row = rows[i];
    INFO("person " << row.person_id);
    CHECK(numbers("age")[i] == row.age);
    CHECK(sex->codes()[i] == (!row.sex ? -1 : (*row.sex == "F" ? 0 : 1)));
    CHECK(numbers("diabetes")[i] == row.diabetes);
    CHECK(numbers("metformin")[i] == row.metformin);
    if (row.hba1c) {
      CHECK(numbers("hba1c")[i] == Approx(*row.hba1c).epsilon(1e-12));
    } else {
      CHECK(std::isnan(numbers("hba1c")[i]));
    }
    CHECK(numbers("died")[i] == row.died);
    CHECK(numbers("followup")[i] == row.followup);
  }
}

using testing::TempDir;

std::string MakeSqliteSample(const std::string& dir, const testing::OmopSample& sample) {
  const std::string path = dir + "/omop.sqlite";
  testing::MakeSqlite(path, absl::StrCat("BEGIN;", sample.sql, "COMMIT;"));
  return path;
}

TEST_CASE("OMOP view declarations are checked", "[omop]") {
  auto error = [](const OmopView& view) {
    absl::StatusOr<std::string> sql = OmopViewSql(view, SqlDialect::kSqlite);
    REQUIRE_FALSE(sql.ok());
    CHECK(sql.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(sql.status().message());
  };
  CHECK_THAT(error({}), Catch::Contains("declares no variables"));
  CHECK_THAT(error({"", {{"x", OmopKind::kCondition, {}}}}), Catch::Contains("needs concepts"));
  CHECK_THAT(error({"", {{"x", OmopKind::kAge, {1}}}}), Catch::Contains("takes no concepts"));
  CHECK_THAT(error({"", {{"a b", OmopKind::kAge, {}}}}), Catch::Contains("not a plain name"));
  CHECK_THAT(error({"", {{"x\"; DROP", OmopKind::kAge, {}}}}), Catch::Contains("not a plain name"));
  CHECK_THAT(error({"cdm;", {{"x", OmopKind::kAge, {}}}}), Catch::Contains("schema"));
  CHECK_THAT(error({"", {{"x", OmopKind::kAge, {}}, {"x", OmopKind::kSex, {}}}}),
             Catch::Contains("declared twice"));
  absl::StatusOr<OmopKind> kind = ParseOmopKind("weight");
  REQUIRE_FALSE(kind.ok());
  CHECK_THAT(std::string(kind.status().message()), Catch::Contains("followup_days"));
  CHECK(*ParseOmopKind("followup_days") == OmopKind::kFollowupDays);
}

TEST_CASE("The OMOP view through SQLite equals the values computed without SQL", "[omop]") {
  TempDir dir;
  const testing::OmopSample sample = MakeOmopSample(300, 7);
  const std::string path = MakeSqliteSample(dir.path, sample);
  absl::StatusOr<std::string> sql = OmopViewSql(SampleView(), SqlDialect::kSqlite);
  REQUIRE(sql.ok());
  absl::StatusOr<DataFrame> frame = ReadSqlite(path, {"", *sql, "dataset 'omop'"});
  INFO(frame.status().ToString());
  REQUIRE(frame.ok());
  CheckView(*frame, sample.rows);
}

// The sample's expected view as a CSV file, as a hospital might export it.
std::string SampleCsv(const std::vector<SampleRow>& rows) {
  std::string csv = "age,sex,diabetes,metformin,hba1c,died,followup\n";
  for (const SampleRow& r : rows) {
    absl::StrAppend(&csv, r.age, ",", r.sex.value_or("NA"), ",", r.diabetes, ",", r.metformin, ",",
                    r.hba1c ? absl::StrFormat("%.17g", *r.hba1c) : std::string("NA"), ",", r.died,
                    ",", r.followup, "\n");
  }
  return csv;
}

// Every aggregate a node releases for a summary and for the first rounds of
// a logistic GLM of died on the view's covariates, through the node's own
// cache and executor.
std::vector<std::string> NodeAnswers(const DatasetConfig& dataset, const std::string& dir) {
  testing::TestNode node(dir, {dataset});
  TaskExecutor& executor = *node.executor;
  const AlgorithmRegistry* algorithms = node.algorithms.get();
  auto task = [](const std::string& id, const std::string& algorithm) {
    v1::Task t;
    t.set_task_id(id);
    t.set_algorithm(algorithm);
    t.set_dataset("cohort");
    t.set_round(1);
    for (const char* node : {"a", "b", "c"}) t.add_participants(node);
    return t;
  };
  std::vector<std::string> answers;
  v1::Task summary = task("s", "summary");
  SetTextList(*summary.mutable_parameters(), "vars", {"age", "hba1c", "followup"});
  v1::Task glm = task("g", "glm");
  SetText(*glm.mutable_parameters(), "formula", "died ~ age + sex + diabetes + hba1c");
  SetText(*glm.mutable_parameters(), "family", "binomial");
  v1::Task catalogue = task("c", "catalogue");
  for (v1::Task t : {summary, glm, catalogue}) {
    // Round 1's state, as the coordinator would send it.
    absl::StatusOr<v1::Parameters> state = algorithms->Find(t.algorithm())->Begin(t.parameters());
    REQUIRE(state.ok());
    *t.mutable_round_state() = *state;
    v1::TaskResult result = executor.Execute(t);
    INFO(dataset.name << ": " << result.DebugString());
    REQUIRE(result.has_aggregate());
    answers.push_back(result.aggregate().SerializeAsString());
    if (t.algorithm() != "glm") continue;
    // The GLM's first IRLS round too: X'WX, X'Wz and the deviance parts.
    const Algorithm& glm_algorithm = *algorithms->Find("glm");
    std::vector<NodeAggregate> round = {{"a", result.aggregate()}};
    absl::StatusOr<CentralStep> step =
        glm_algorithm.Central({t.parameters(), t.round_state(), 1, round});
    REQUIRE(step.ok());
    REQUIRE_FALSE(step->done);
    t.set_task_id("g2");
    t.set_round(2);
    *t.mutable_round_state() = step->next_round_state;
    result = executor.Execute(t);
    INFO(result.DebugString());
    REQUIRE(result.has_aggregate());
    REQUIRE(result.aggregate().blocks_size() == 3);  // xtwx, xtwz, stats
    answers.push_back(result.aggregate().SerializeAsString());
  }
  return answers;
}

DatasetConfig OmopDataset(const std::string& name, DatasetSource source, const OmopView& view) {
  DatasetConfig dataset;
  dataset.name = name;
  dataset.source = source;
  dataset.omop = view;
  return dataset;
}

TEST_CASE("A node gives the same answers from a CSV and from an OMOP view in SQLite", "[omop]") {
  TempDir dir;
  const testing::OmopSample sample = MakeOmopSample(300, 7);
  DatasetConfig csv = CsvDataset("cohort", dir.path + "/cohort.csv");
  REQUIRE(WriteFileAtomically(csv.path, SampleCsv(sample.rows)).ok());
  DatasetConfig lite = OmopDataset("cohort", DatasetSource::kSqlite, SampleView());
  lite.path = MakeSqliteSample(dir.path, sample);
  const std::vector<std::string> from_csv = NodeAnswers(csv, dir.path);
  CHECK(NodeAnswers(lite, dir.path) == from_csv);
}

#ifdef SPOOR_SQL_TEST_POSTGRES
TEST_CASE("The OMOP view through PostgreSQL equals SQLite's and the reference", "[omop]") {
  SPOOR_NEED_POSTGRES(server);
  const testing::OmopSample sample = MakeOmopSample(300, 7, "cdm");
  absl::Status loaded = server->Execute(absl::StrCat("CREATE SCHEMA cdm;", sample.sql));
  INFO(loaded.ToString());
  REQUIRE(loaded.ok());
  absl::StatusOr<std::string> sql = OmopViewSql(SampleView("cdm"), SqlDialect::kPostgres);
  REQUIRE(sql.ok());
  absl::StatusOr<DataFrame> frame = ReadPostgres(server->conninfo(), {"", *sql, "dataset 'omop'"});
  INFO(frame.status().ToString());
  REQUIRE(frame.ok());
  CheckView(*frame, sample.rows);

  TempDir dir;
  const std::string path = MakeSqliteSample(dir.path, MakeOmopSample(300, 7));
  absl::StatusOr<DataFrame> lite =
      ReadSqlite(path, {"", *OmopViewSql(SampleView(), SqlDialect::kSqlite), "dataset 'omop'"});
  REQUIRE(lite.ok());
  // And a node answers alike from CSV, SQLite and PostgreSQL.
  DatasetConfig csv = CsvDataset("cohort", dir.path + "/cohort.csv");
  REQUIRE(WriteFileAtomically(csv.path, SampleCsv(sample.rows)).ok());
  DatasetConfig pg = OmopDataset("cohort", DatasetSource::kPostgres, SampleView("cdm"));
  pg.connection = server->conninfo();
  DatasetConfig sqlite = OmopDataset("cohort", DatasetSource::kSqlite, SampleView());
  sqlite.path = path;
  const std::vector<std::string> from_csv = NodeAnswers(csv, dir.path);
  CHECK(NodeAnswers(sqlite, dir.path) == from_csv);
  CHECK(NodeAnswers(pg, dir.path) == from_csv);

  for (const Column& column : frame->columns()) {
    const Column* other = lite->Find(column.name());
    REQUIRE(other != nullptr);
    INFO("column " << column.name());
    CHECK(column.levels() == other->levels());
    CHECK(column.codes() == other->codes());
    REQUIRE(column.numbers().size() == other->numbers().size());
    for (size_t i = 0; i < column.numbers().size(); ++i) {
      const double a = column.numbers()[i];
      const double b = other->numbers()[i];
      CHECK(((std::isnan(a) && std::isnan(b)) || a == b));
    }
  }
}
#endif

}  // namespace
}  // namespace spoor
