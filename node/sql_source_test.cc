// Tests of the SQL dataset reader. One file, two binaries (node/CMakeLists.txt):
// node_sql_test holds the SQLite cases; postgres_test, built with
// SPOOR_SQL_TEST_POSTGRES, the cases that need a PostgreSQL server, including
// CSV = SQLite = PostgreSQL on one cohort.
#include "node/sql_source.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "algorithms/csv_reader.h"
#include "node/sql_test_support.h"

namespace spoor {
namespace {

namespace fs = std::filesystem;

using testing::MakeSqlite;
using testing::TempDir;

SqlRead Table(const std::string& table) { return {table, "", "dataset 'cohort'"}; }
SqlRead Query(const std::string& query) { return {"", query, "dataset 'cohort'"}; }

const Column& Col(const DataFrame& frame, const std::string& name) {
  const Column* column = frame.Find(name);
  INFO("column " << name);
  REQUIRE(column != nullptr);
  return *column;
}

// Numbers with NaN (missing) equal to NaN.
bool SameNumbers(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return false;
    if (!std::isnan(a[i]) && a[i] != b[i]) return false;
  }
  return true;
}

void CheckNumbers(const Column& column, const std::vector<double>& expected) {
  INFO("column " << column.name());
  REQUIRE(column.type() == ColumnType::kNumeric);
  CHECK(SameNumbers(column.numbers(), expected));
}

void CheckCategorical(const Column& column, const std::vector<std::string>& levels,
                      const std::vector<int32_t>& codes) {
  INFO("column " << column.name());
  REQUIRE(column.type() == ColumnType::kCategorical);
  CHECK(column.levels() == levels);
  CHECK(column.codes() == codes);
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

constexpr double kNA = std::numeric_limits<double>::quiet_NaN();

// One small cohort as CSV; the SQL sources below hold the same values with
// their natural column types.
constexpr const char* kCohortCsv =
    "id,age,sex,smoker,bmi,site,visit,code\n"
    "1,54,M,1,27.5,A,2020-01-03,007\n"
    "2,61,F,0,NA,B,2020-02-11,12\n"
    "3,,F,1,31.25,A,NA,\n"
    "4,47,M,,22,C,2021-07-30,5\n"
    "5,70,NA,0,19.125,b,2019-12-31,NA\n";

#ifndef SPOOR_SQL_TEST_POSTGRES

// ---------------------------------------------------------------- SQLite

TEST_CASE("ReadSqlite reads a table: numbers, text digits, categories, missing values",
          "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/cohort.db";
  MakeSqlite(db,
             "CREATE TABLE person (id INTEGER, weight REAL, sex TEXT, zip TEXT, note TEXT);"
             "INSERT INTO person VALUES (1, 70.5, 'M', '1000', 'x');"
             "INSERT INTO person VALUES (2, NULL, 'F', '2000', NULL);"
             "INSERT INTO person VALUES (3, 82.25, 'NA', '', '');"
             "INSERT INTO person VALUES (4, 60, '', '+4000', 'NA');");
  absl::StatusOr<DataFrame> frame = ReadSqlite(db, Table("person"));
  REQUIRE(frame.ok());
  REQUIRE(frame->num_rows() == 4);
  REQUIRE(frame->num_columns() == 5);
  CHECK(frame->columns()[0].name() == "id");  // the result's column order
  CheckNumbers(Col(*frame, "id"), {1, 2, 3, 4});
  CheckNumbers(Col(*frame, "weight"), {70.5, kNA, 82.25, 60});
  CheckCategorical(Col(*frame, "sex"), {"F", "M"}, {1, 0, -1, -1});
  // Text digits are numbers, exactly as in CSV ('+4000' included).
  CheckNumbers(Col(*frame, "zip"), {1000, 2000, kNA, 4000});
  CheckCategorical(Col(*frame, "note"), {"x"}, {0, -1, -1, -1});
}

TEST_CASE("ReadSqlite reads a query, a schema-qualified table and quoted names", "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/cohort.db";
  MakeSqlite(db,
             "CREATE TABLE person (id INTEGER, age INTEGER);"
             "INSERT INTO person VALUES (1, 30), (2, 40), (3, 50);"
             "CREATE TABLE \"odd \"\"name\" (x INTEGER); INSERT INTO \"odd \"\"name\" VALUES (7);"
             "CREATE VIEW adults AS SELECT id FROM person WHERE age >= 40;");

  absl::StatusOr<DataFrame> query = ReadSqlite(
      db, Query("SELECT id, age * 2 AS double_age FROM person WHERE age > 35 ORDER BY id;\n"));
  REQUIRE(query.ok());
  CheckNumbers(Col(*query, "id"), {2, 3});
  CheckNumbers(Col(*query, "double_age"), {80, 100});

  absl::StatusOr<DataFrame> qualified = ReadSqlite(db, Table("main.adults"));
  REQUIRE(qualified.ok());
  CheckNumbers(Col(*qualified, "id"), {2, 3});

  absl::StatusOr<DataFrame> odd = ReadSqlite(db, Table("odd \"name"));
  REQUIRE(odd.ok());
  CheckNumbers(Col(*odd, "x"), {7});
}

TEST_CASE("ReadSqlite types integers, reals and mixed storage as the CSV reader would",
          "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/types.db";
  // SQLite types each value, not each column: `mixed` holds an integer, two
  // reals and text, so it is categorical and every value gives its text.
  MakeSqlite(db,
             "CREATE TABLE t (n, r, mixed, big, lead_zero);"
             "INSERT INTO t VALUES (1, 0.5, 3, 9007199254740993, '007');"
             "INSERT INTO t VALUES (2, 2.0, 0.1, 1, '12');"
             "INSERT INTO t VALUES (3, 1e20, 1e20, 2, 'x');"
             "INSERT INTO t VALUES (NULL, NULL, 'abc', NULL, NULL);"
             "INSERT INTO t VALUES (5, -1.25, 1000000000000000, 3, 'NA');");
  absl::StatusOr<DataFrame> frame = ReadSqlite(db, Table("t"));
  REQUIRE(frame.ok());
  CheckNumbers(Col(*frame, "n"), {1, 2, 3, kNA, 5});
  CheckNumbers(Col(*frame, "r"), {0.5, 2, 1e20, kNA, -1.25});
  // Integers print as %lld, reals in shortest round-trip form; byte order.
  CheckCategorical(Col(*frame, "mixed"), {"0.1", "1000000000000000", "1e+20", "3", "abc"},
                   {3, 0, 2, 4, 1});
  // Beyond 2^53 an integer is the nearest double, as "9007199254740993" in a
  // CSV would be.
  CheckNumbers(Col(*frame, "big"), {9007199254740992.0, 1, 2, kNA, 3});
  // Number-like text keeps its own spelling once the column is categorical.
  CheckCategorical(Col(*frame, "lead_zero"), {"007", "12", "x"}, {0, 1, 2, -1, -1});
}

TEST_CASE("ReadSqlite sorts levels by byte order and codes missing values -1", "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/levels.db";
  MakeSqlite(db,
             "CREATE TABLE t (g TEXT);"
             "INSERT INTO t VALUES ('b'), ('B'), ('a'), (NULL), ('\xc3\xa9'), ('a'), ('Z'), ('');");
  absl::StatusOr<DataFrame> frame = ReadSqlite(db, Table("t"));
  REQUIRE(frame.ok());
  CheckCategorical(Col(*frame, "g"), {"B", "Z", "a", "b", "\xc3\xa9"}, {3, 0, 2, -1, 4, 2, 1, -1});
}

TEST_CASE("ReadSqlite reads zero rows and all-missing columns as numeric", "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/empty.db";
  MakeSqlite(db,
             "CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (NULL, 'NA'), (NULL, '');");
  absl::StatusOr<DataFrame> none = ReadSqlite(db, Query("SELECT a, b FROM t WHERE 0"));
  REQUIRE(none.ok());
  CHECK(none->num_rows() == 0);
  REQUIRE(none->num_columns() == 2);
  CHECK(none->columns()[0].type() == ColumnType::kNumeric);

  absl::StatusOr<DataFrame> missing = ReadSqlite(db, Table("t"));
  REQUIRE(missing.ok());
  CheckNumbers(Col(*missing, "a"), {kNA, kNA});
  CheckNumbers(Col(*missing, "b"), {kNA, kNA});
}

TEST_CASE("ReadSqlite refuses binary data and non-finite numbers, naming the column only",
          "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/blob.db";
  MakeSqlite(db,
             "CREATE TABLE t (id INTEGER, scan BLOB, r REAL);"
             "INSERT INTO t VALUES (1, NULL, 1.0), (2, x'53454352455431', 9e999);");
  absl::StatusOr<DataFrame> frame = ReadSqlite(db, Table("t"));
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Message(frame.status()) ==
        "dataset 'cohort': column 'scan' holds binary data; select it out or cast it in the "
        "query");
  CHECK_THAT(Message(frame.status()), !Catch::Contains("SECRET1"));

  absl::StatusOr<DataFrame> cast = ReadSqlite(db, Query("SELECT id, CAST(scan AS TEXT) AS scan "
                                                        "FROM t WHERE id = 1"));
  CHECK(cast.ok());

  absl::StatusOr<DataFrame> infinite = ReadSqlite(db, Query("SELECT r FROM t"));
  REQUIRE_FALSE(infinite.ok());
  CHECK_THAT(Message(infinite.status()), Catch::Contains("column 'r'"));
}

TEST_CASE("ReadSqlite names a missing table and a bad query", "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/cohort.db";
  MakeSqlite(db, "CREATE TABLE person (id INTEGER);");
  absl::StatusOr<DataFrame> table = ReadSqlite(db, Table("persons"));
  REQUIRE_FALSE(table.ok());
  CHECK(table.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(Message(table.status()), Catch::StartsWith("dataset 'cohort': "));
  CHECK_THAT(Message(table.status()), Catch::Contains("no such table: persons"));

  absl::StatusOr<DataFrame> syntax = ReadSqlite(db, Query("SELEC id FROM person"));
  REQUIRE_FALSE(syntax.ok());
  CHECK_THAT(Message(syntax.status()), Catch::Contains("syntax error"));

  absl::StatusOr<DataFrame> two =
      ReadSqlite(db, Query("SELECT id FROM person; SELECT id FROM person"));
  REQUIRE_FALSE(two.ok());
  CHECK_THAT(Message(two.status()), Catch::Contains("more than one statement"));

  absl::StatusOr<DataFrame> duplicate = ReadSqlite(db, Query("SELECT id, id FROM person"));
  REQUIRE_FALSE(duplicate.ok());
  CHECK_THAT(Message(duplicate.status()), Catch::Contains("two columns named 'id'"));
}

TEST_CASE("ReadSqlite keeps values out of messages for errors while stepping", "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/json.db";
  MakeSqlite(db, "CREATE TABLE t (doc TEXT); INSERT INTO t VALUES ('{\"ssn\": 123-45');");
  absl::StatusOr<DataFrame> frame = ReadSqlite(db, Query("SELECT json_extract(doc, '$.a') FROM t"));
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(Message(frame.status()), !Catch::Contains("123-45"));
  CHECK_THAT(Message(frame.status()), Catch::Contains("SQLite code"));
}

TEST_CASE("ReadSqlite refuses a statement that writes", "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/cohort.db";
  MakeSqlite(db, "CREATE TABLE person (id INTEGER); INSERT INTO person VALUES (1), (2);");
  for (const char* sql : {"DELETE FROM person", "INSERT INTO person VALUES (3) RETURNING id",
                          "CREATE TABLE other (x)", "PRAGMA user_version = 3"}) {
    INFO(sql);
    absl::StatusOr<DataFrame> frame = ReadSqlite(db, Query(sql));
    REQUIRE_FALSE(frame.ok());
    CHECK(frame.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(Message(frame.status()), Catch::Contains("the query tried to write"));
  }
  absl::StatusOr<DataFrame> after = ReadSqlite(db, Table("person"));
  REQUIRE(after.ok());
  CHECK(after->num_rows() == 2);
}

TEST_CASE("ReadSqlite does not create a missing database file", "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/nope.db";
  absl::StatusOr<DataFrame> frame = ReadSqlite(db, Table("person"));
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(Message(frame.status()), Catch::Contains(db));
  CHECK_THAT(Message(frame.status()), Catch::Contains("No such file"));
  CHECK_FALSE(fs::exists(db));

  // A file that is not a database.
  const std::string csv = dir.path + "/cohort.csv";
  std::ofstream(csv) << kCohortCsv;
  absl::StatusOr<DataFrame> not_db = ReadSqlite(csv, Table("person"));
  REQUIRE_FALSE(not_db.ok());
  CHECK_THAT(Message(not_db.status()), Catch::Contains("not a database"));
}

TEST_CASE("ReadSqlite wants exactly one of table or query, and a plain table name",
          "[sql][sqlite]") {
  TempDir dir;
  const std::string db = dir.path + "/cohort.db";
  MakeSqlite(db, "CREATE TABLE person (id INTEGER);");
  SqlRead both{"person", "SELECT 1", "dataset 'cohort'"};
  absl::StatusOr<DataFrame> frame = ReadSqlite(db, both);
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(Message(frame.status()), Catch::Contains("both a table and a query"));

  absl::StatusOr<DataFrame> neither = ReadSqlite(db, SqlRead{"", "  ", "dataset 'cohort'"});
  REQUIRE_FALSE(neither.ok());
  CHECK_THAT(Message(neither.status()), Catch::Contains("neither a table nor a query"));

  for (const char* bad : {"a.b.c", ".person", "main."}) {
    absl::StatusOr<DataFrame> name = ReadSqlite(db, Table(bad));
    REQUIRE_FALSE(name.ok());
    CHECK_THAT(Message(name.status()), Catch::Contains("is not a name or schema.name"));
  }
}

#else  // SPOOR_SQL_TEST_POSTGRES

// ---------------------------------------------------------------- PostgreSQL

using testing::PostgresServer;

// Same column names in the same order, types, numbers, levels and codes.
void CheckSameFrame(const DataFrame& a, const DataFrame& b) {
  REQUIRE(a.num_rows() == b.num_rows());
  REQUIRE(a.num_columns() == b.num_columns());
  for (size_t i = 0; i < a.num_columns(); ++i) {
    const Column& x = a.columns()[i];
    const Column& y = b.columns()[i];
    INFO("column " << x.name());
    CHECK(x.name() == y.name());
    REQUIRE(x.type() == y.type());
    CHECK(SameNumbers(x.numbers(), y.numbers()));
    CHECK(x.levels() == y.levels());
    CHECK(x.codes() == y.codes());
  }
}

void Exec(const PostgresServer& server, const std::string& sql) {
  absl::Status status = server.Execute(sql);
  INFO(status.message());
  REQUIRE(status.ok());
}

TEST_CASE("ReadPostgres reads a table of the common column types", "[sql][postgres]") {
  SPOOR_NEED_POSTGRES(server);
  Exec(*server,
       "CREATE TABLE types_t (i int4, s int2, b8 int8, f float8, r real, n numeric(10,3), "
       "flag bool, t text, v varchar(10), d date, digits text);"
       "INSERT INTO types_t VALUES "
       "(1, 2, 9000000000, 0.1, 1.5, 12.345, true, 'M', 'x', '2020-01-03', '10'),"
       "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
       "(-3, 4, -1, 1e300, -2.25, -0.5, false, 'NA', '', '1999-12-31', '+2.5');");
  absl::StatusOr<DataFrame> frame = ReadPostgres(server->conninfo(), Table("types_t"));
  INFO(frame.status().message());
  REQUIRE(frame.ok());
  REQUIRE(frame->num_rows() == 3);
  CheckNumbers(Col(*frame, "i"), {1, kNA, -3});
  CheckNumbers(Col(*frame, "s"), {2, kNA, 4});
  CheckNumbers(Col(*frame, "b8"), {9000000000.0, kNA, -1});
  CheckNumbers(Col(*frame, "f"), {0.1, kNA, 1e300});
  CheckNumbers(Col(*frame, "r"), {1.5, kNA, -2.25});
  CheckNumbers(Col(*frame, "n"), {12.345, kNA, -0.5});
  CheckNumbers(Col(*frame, "flag"), {1, kNA, 0});
  CheckCategorical(Col(*frame, "t"), {"M"}, {0, -1, -1});
  CheckCategorical(Col(*frame, "v"), {"x"}, {0, -1, -1});
  CheckCategorical(Col(*frame, "d"), {"1999-12-31", "2020-01-03"}, {1, -1, 0});
  CheckNumbers(Col(*frame, "digits"), {10, kNA, 2.5});
}

TEST_CASE("ReadPostgres reads a schema-qualified view and a query", "[sql][postgres]") {
  SPOOR_NEED_POSTGRES(server);
  Exec(*server,
       "CREATE SCHEMA cdm;"
       "CREATE TABLE cdm.person (person_id int8, year_of_birth int4, gender text);"
       "INSERT INTO cdm.person VALUES (1, 1950, 'F'), (2, 1980, 'M'), (3, 1990, 'F');"
       "CREATE VIEW cdm.older AS SELECT * FROM cdm.person WHERE year_of_birth < 1985;"
       "CREATE TABLE \"Mixed Case\" (x int4); INSERT INTO \"Mixed Case\" VALUES (5);");
  absl::StatusOr<DataFrame> view = ReadPostgres(server->conninfo(), Table("cdm.older"));
  INFO(view.status().message());
  REQUIRE(view.ok());
  CheckNumbers(Col(*view, "person_id"), {1, 2});
  CheckCategorical(Col(*view, "gender"), {"F", "M"}, {0, 1});

  absl::StatusOr<DataFrame> query =
      ReadPostgres(server->conninfo(),
                   Query("SELECT person_id AS id, 2020 - year_of_birth AS age FROM cdm.person "
                         "WHERE gender = 'F' ORDER BY person_id;"));
  INFO(query.status().message());
  REQUIRE(query.ok());
  CheckNumbers(Col(*query, "id"), {1, 3});
  CheckNumbers(Col(*query, "age"), {70, 30});

  absl::StatusOr<DataFrame> quoted = ReadPostgres(server->conninfo(), Table("Mixed Case"));
  REQUIRE(quoted.ok());
  CheckNumbers(Col(*quoted, "x"), {5});

  absl::StatusOr<DataFrame> none =
      ReadPostgres(server->conninfo(), Query("SELECT * FROM cdm.person WHERE false"));
  REQUIRE(none.ok());
  CHECK(none->num_rows() == 0);
  CHECK(none->num_columns() == 3);
}

TEST_CASE("ReadPostgres fetches a result larger than one batch", "[sql][postgres]") {
  SPOOR_NEED_POSTGRES(server);
  // 120,000 rows: three FETCHes. `label` holds number-like text until the
  // last row, so it turns categorical in the last batch and must recover the
  // text of the first two.
  absl::StatusOr<DataFrame> frame = ReadPostgres(
      server->conninfo(), Query("SELECT g AS id, g * 0.5 AS half, "
                                "CASE WHEN g = 120000 THEN 'last' ELSE (g % 7)::text END AS label, "
                                "CASE WHEN g % 10 = 0 THEN NULL ELSE g % 3 END AS mod3 "
                                "FROM generate_series(1, 120000) AS g ORDER BY g"));
  INFO(frame.status().message());
  REQUIRE(frame.ok());
  REQUIRE(frame->num_rows() == 120000);
  const Column& id = Col(*frame, "id");
  REQUIRE(id.type() == ColumnType::kNumeric);
  double sum = 0;
  for (double v : id.numbers()) sum += v;
  CHECK(sum == 120000.0 * 120001.0 / 2);
  CHECK(id.numbers().back() == 120000);
  CHECK(Col(*frame, "half").numbers()[99999] == 50000);
  const Column& label = Col(*frame, "label");
  REQUIRE(label.type() == ColumnType::kCategorical);
  CHECK(label.levels() == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "last"});
  CHECK(label.codes()[0] == 1);       // 1 % 7
  CHECK(label.codes()[60000] == 4);   // 60001 % 7 = 4
  CHECK(label.codes()[119999] == 7);  // 'last'
  CHECK(Col(*frame, "mod3").missing_count() == 12000);
}

TEST_CASE("ReadPostgres refuses a query that writes", "[sql][postgres]") {
  SPOOR_NEED_POSTGRES(server);
  Exec(*server,
       "CREATE TABLE guarded (x int4); INSERT INTO guarded VALUES (1);"
       "CREATE SEQUENCE guarded_seq;");
  for (const char* sql :
       {"INSERT INTO guarded VALUES (2)", "INSERT INTO guarded VALUES (2) RETURNING x",
        "DELETE FROM guarded", "WITH d AS (DELETE FROM guarded RETURNING x) SELECT * FROM d",
        "SELECT nextval('guarded_seq')", "CREATE TABLE other (x int)"}) {
    INFO(sql);
    absl::StatusOr<DataFrame> frame = ReadPostgres(server->conninfo(), Query(sql));
    REQUIRE_FALSE(frame.ok());
    CHECK(frame.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(Message(frame.status()) ==
          "dataset 'cohort': the query tried to write; datasets are read through read-only "
          "transactions, so the query must only read (SQLSTATE 25006)");
  }
  absl::StatusOr<DataFrame> after = ReadPostgres(server->conninfo(), Table("guarded"));
  REQUIRE(after.ok());
  CheckNumbers(Col(*after, "x"), {1});

  // A read-only statement that is not a cursor's SELECT.
  absl::StatusOr<DataFrame> show = ReadPostgres(server->conninfo(), Query("SHOW work_mem"));
  REQUIRE_FALSE(show.ok());
  CHECK_THAT(Message(show.status()), Catch::Contains("cannot be read through a cursor"));
}

TEST_CASE("ReadPostgres passes on syntax and undefined-object messages", "[sql][postgres]") {
  SPOOR_NEED_POSTGRES(server);
  absl::StatusOr<DataFrame> syntax =
      ReadPostgres(server->conninfo(), Query("SELEC 1 FROM generate_series(1, 2)"));
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Message(syntax.status()) ==
        "dataset 'cohort': PostgreSQL rejected the query: syntax error at or near \"SELEC\" "
        "(SQLSTATE 42601); fix it in node.toml");

  absl::StatusOr<DataFrame> table = ReadPostgres(server->conninfo(), Table("cdm.missing"));
  REQUIRE_FALSE(table.ok());
  CHECK_THAT(Message(table.status()),
             Catch::Contains("relation \"cdm.missing\" does not exist (SQLSTATE 42P01)"));

  absl::StatusOr<DataFrame> two = ReadPostgres(server->conninfo(), Query("SELECT 1; SELECT 2"));
  REQUIRE_FALSE(two.ok());
  CHECK_THAT(Message(two.status()), Catch::Contains("SQLSTATE 42601"));

  absl::StatusOr<DataFrame> duplicate =
      ReadPostgres(server->conninfo(), Query("SELECT 1 AS a, 2 AS a"));
  REQUIRE_FALSE(duplicate.ok());
  CHECK_THAT(Message(duplicate.status()), Catch::Contains("two columns named 'a'"));
}

TEST_CASE("ReadPostgres keeps data values out of data-exception messages", "[sql][postgres]") {
  SPOOR_NEED_POSTGRES(server);
  Exec(*server, "CREATE TABLE secrets (v text); INSERT INTO secrets VALUES ('1'), ('xyzzy-42');");
  absl::StatusOr<DataFrame> literal = ReadPostgres(server->conninfo(), Query("select 'abc'::int"));
  REQUIRE_FALSE(literal.ok());
  CHECK(literal.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(Message(literal.status()), !Catch::Contains("abc"));
  CHECK_THAT(Message(literal.status()), Catch::Contains("query failed (SQLSTATE 22P02)"));

  // The failing value comes from a row, found while fetching.
  absl::StatusOr<DataFrame> row =
      ReadPostgres(server->conninfo(), Query("SELECT v::int AS v FROM secrets"));
  REQUIRE_FALSE(row.ok());
  CHECK_THAT(Message(row.status()), !Catch::Contains("xyzzy"));
  CHECK_THAT(Message(row.status()), Catch::Contains("SQLSTATE 22P02"));
}

TEST_CASE("ReadPostgres refuses binary and non-finite values, naming the column",
          "[sql][postgres]") {
  SPOOR_NEED_POSTGRES(server);
  absl::StatusOr<DataFrame> bytes =
      ReadPostgres(server->conninfo(), Query("SELECT 1 AS id, '\\x5345'::bytea AS scan"));
  REQUIRE_FALSE(bytes.ok());
  CHECK(Message(bytes.status()) ==
        "dataset 'cohort': column 'scan' holds binary data; select it out or cast it in the "
        "query");
  absl::StatusOr<DataFrame> nan =
      ReadPostgres(server->conninfo(), Query("SELECT 'NaN'::float8 AS ratio"));
  REQUIRE_FALSE(nan.ok());
  CHECK_THAT(Message(nan.status()), Catch::Contains("column 'ratio' holds a NaN"));
}

TEST_CASE("ReadPostgres reports connection failures as UNAVAILABLE", "[sql][postgres]") {
  SPOOR_NEED_POSTGRES(server);
  absl::StatusOr<DataFrame> frame =
      ReadPostgres(server->ConninfoFor("no_such_db"), Query("SELECT 1 AS x"));
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(Message(frame.status()), Catch::StartsWith("dataset 'cohort': cannot connect"));
  CHECK_THAT(Message(frame.status()), Catch::Contains("database \"no_such_db\" does not exist"));
  CHECK(Message(frame.status()).find('\n') == std::string::npos);

  absl::StatusOr<DataFrame> malformed =
      ReadPostgres("host=/tmp password secret", Query("SELECT 1 AS x"));
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(Message(malformed.status()), !Catch::Contains("secret"));
}

TEST_CASE("ReadPostgres cancels a statement past the timeout", "[sql][postgres]") {
  SPOOR_NEED_POSTGRES(server);
  absl::StatusOr<DataFrame> frame = ReadPostgres(
      server->conninfo(), Query("SELECT pg_sleep(5) AS slept"), absl::Milliseconds(200));
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(Message(frame.status()), Catch::Contains("statement timeout of 200ms"));
  CHECK_THAT(Message(frame.status()), Catch::Contains("SQLSTATE 57014"));
}

TEST_CASE("a CSV, a SQLite table and a PostgreSQL table of one cohort give equal frames",
          "[sql][postgres][sqlite]") {
  SPOOR_NEED_POSTGRES(server);
  absl::StatusOr<DataFrame> csv = ParseCsv(kCohortCsv, "cohort.csv");
  REQUIRE(csv.ok());

  // The same rows for both; smoker is spelled 1/0 in SQLite, true/false in
  // PostgreSQL.
  auto values = [](const std::string& yes, const std::string& no) {
    return absl::StrCat("(1, 54, 'M', ", yes, ", 27.5, 'A', '2020-01-03', '007'),", "(2, 61, 'F', ",
                        no, ", NULL, 'B', '2020-02-11', '12'),", "(3, NULL, 'F', ", yes,
                        ", 31.25, 'A', NULL, NULL),",
                        "(4, 47, 'M', NULL, 22, 'C', '2021-07-30', '5'),", "(5, 70, NULL, ", no,
                        ", 19.125, 'b', '2019-12-31', 'NA')");
  };

  TempDir dir;
  const std::string db = dir.path + "/cohort.db";
  MakeSqlite(db, absl::StrCat("CREATE TABLE cohort (id INTEGER, age INTEGER, sex TEXT, "
                              "smoker INTEGER, bmi REAL, site TEXT, visit TEXT, code TEXT);"
                              "INSERT INTO cohort VALUES ",
                              values("1", "0"), ";"));
  absl::StatusOr<DataFrame> sqlite = ReadSqlite(db, Table("cohort"));
  INFO(sqlite.status().message());
  REQUIRE(sqlite.ok());

  Exec(*server, absl::StrCat("CREATE TABLE cohort (id int4, age int2, sex text, smoker bool, "
                             "bmi float8, site varchar(4), visit date, code text);"
                             "INSERT INTO cohort VALUES ",
                             values("true", "false"), ";"));
  absl::StatusOr<DataFrame> postgres = ReadPostgres(server->conninfo(), Table("cohort"));
  INFO(postgres.status().message());
  REQUIRE(postgres.ok());

  CheckSameFrame(*csv, *sqlite);
  CheckSameFrame(*csv, *postgres);
  // And the frame is what the CSV reader documents.
  CheckCategorical(Col(*postgres, "site"), {"A", "B", "C", "b"}, {0, 1, 0, 2, 3});
  CheckCategorical(Col(*postgres, "visit"),
                   {"2019-12-31", "2020-01-03", "2020-02-11", "2021-07-30"}, {1, 2, -1, 3, 0});
  CheckNumbers(Col(*postgres, "code"), {7, 12, kNA, 5, kNA});
  CheckNumbers(Col(*postgres, "smoker"), {1, 0, 1, kNA, 0});
}

#endif  // SPOOR_SQL_TEST_POSTGRES

}  // namespace
}  // namespace spoor
