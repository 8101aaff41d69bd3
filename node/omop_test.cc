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
#include "node/sql_source.h"
#include "tests/omop/omop_sample.h"

#ifdef SPOOR_SQL_TEST_POSTGRES
#include "tests/postgres_server.h"
#endif

namespace spoor {
namespace {

namespace fs = std::filesystem;
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

struct TempDir {
  TempDir() {
    path =
        (fs::temp_directory_path() / absl::StrCat("spoor-omop-", std::random_device{}())).string();
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

std::string MakeSqliteSample(const std::string& dir, const testing::OmopSample& sample) {
  const std::string path = dir + "/omop.sqlite";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, absl::StrCat("BEGIN;", sample.sql, "COMMIT;").c_str(), nullptr,
                              nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
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

#ifdef SPOOR_SQL_TEST_POSTGRES
TEST_CASE("The OMOP view through PostgreSQL equals SQLite's and the reference", "[omop]") {
  absl::StatusOr<testing::PostgresServer*> server = testing::SharedPostgresServer();
  if (!server.ok() && server.status().code() == absl::StatusCode::kFailedPrecondition) {
    WARN("skipped: " << server.status().message());
    return;
  }
  INFO(server.status().ToString());
  REQUIRE(server.ok());
  const testing::OmopSample sample = MakeOmopSample(300, 7, "cdm");
  absl::Status loaded = (*server)->Execute(absl::StrCat("CREATE SCHEMA cdm;", sample.sql));
  INFO(loaded.ToString());
  REQUIRE(loaded.ok());
  absl::StatusOr<std::string> sql = OmopViewSql(SampleView("cdm"), SqlDialect::kPostgres);
  REQUIRE(sql.ok());
  absl::StatusOr<DataFrame> frame =
      ReadPostgres((*server)->conninfo(), {"", *sql, "dataset 'omop'"});
  INFO(frame.status().ToString());
  REQUIRE(frame.ok());
  CheckView(*frame, sample.rows);

  TempDir dir;
  const std::string path = MakeSqliteSample(dir.path, MakeOmopSample(300, 7));
  absl::StatusOr<DataFrame> lite =
      ReadSqlite(path, {"", *OmopViewSql(SampleView(), SqlDialect::kSqlite), "dataset 'omop'"});
  REQUIRE(lite.ok());
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
