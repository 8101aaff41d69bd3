#include "algorithms/data_frame.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST_CASE("Numeric column reports values and missing", "[data_frame]") {
  Column column = Column::Numeric("age", {61.0, kNaN, 70.5, kNaN});
  CHECK(column.name() == "age");
  CHECK(column.type() == ColumnType::kNumeric);
  CHECK(column.size() == 4);
  CHECK(column.missing_count() == 2);
  CHECK_FALSE(column.is_missing(0));
  CHECK(column.is_missing(1));
  CHECK(column.numbers()[2] == 70.5);
  CHECK(column.codes().empty());
  CHECK(column.levels().empty());
  CHECK(column.memory_bytes() >= 4 * sizeof(double));
}

TEST_CASE("Categorical column reports codes, levels and missing", "[data_frame]") {
  Column column = Column::Categorical("sex", {"F", "M"}, {1, 0, -1, 1, 0});
  CHECK(column.type() == ColumnType::kCategorical);
  CHECK(column.size() == 5);
  CHECK(column.missing_count() == 1);
  CHECK(column.is_missing(2));
  CHECK_FALSE(column.is_missing(0));
  CHECK(column.levels() == std::vector<std::string>{"F", "M"});
  CHECK(column.codes() == std::vector<int32_t>{1, 0, -1, 1, 0});
  CHECK(column.numbers().empty());
  CHECK(column.memory_bytes() >= 5 * sizeof(int32_t) + 2);
}

TEST_CASE("Empty columns have no missing values", "[data_frame]") {
  CHECK(Column::Numeric("x", {}).missing_count() == 0);
  CHECK(Column::Categorical("y", {}, {}).missing_count() == 0);
  CHECK(Column::Numeric("x", {}).size() == 0);
}

TEST_CASE("memory_bytes grows with the data", "[data_frame]") {
  Column small = Column::Numeric("x", std::vector<double>(10, 1.0));
  Column large = Column::Numeric("x", std::vector<double>(10000, 1.0));
  CHECK(large.memory_bytes() >= small.memory_bytes() + 9990 * sizeof(double));

  Column short_levels = Column::Categorical("c", {"a"}, {0});
  Column long_levels = Column::Categorical("c", {std::string(1000, 'a')}, {0});
  CHECK(long_levels.memory_bytes() >= short_levels.memory_bytes() + 999);
}

TEST_CASE("DataFrame::Make builds an indexed frame", "[data_frame]") {
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("ph.ecog", {1, 2, kNaN}));
  columns.push_back(Column::Categorical("sex", {"F", "M"}, {0, 1, 1}));
  auto frame = DataFrame::Make(std::move(columns));
  REQUIRE(frame.ok());
  CHECK(frame->num_rows() == 3);
  CHECK(frame->num_columns() == 2);
  CHECK(frame->columns()[0].name() == "ph.ecog");
  CHECK(frame->columns()[1].name() == "sex");

  const Column* ecog = frame->Find("ph.ecog");
  REQUIRE(ecog != nullptr);
  CHECK(ecog->type() == ColumnType::kNumeric);
  CHECK(ecog->missing_count() == 1);
  const Column* sex = frame->Find("sex");
  REQUIRE(sex != nullptr);
  CHECK(sex->type() == ColumnType::kCategorical);
  CHECK(frame->Find("age") == nullptr);
  CHECK(frame->Find("") == nullptr);

  CHECK(frame->memory_bytes() >= ecog->memory_bytes() + sex->memory_bytes());

  // Copies keep a working index.
  DataFrame copy = *frame;
  REQUIRE(copy.Find("sex") != nullptr);
  CHECK(copy.Find("sex")->codes() == std::vector<int32_t>{0, 1, 1});
}

TEST_CASE("DataFrame::Make with no columns is empty", "[data_frame]") {
  auto frame = DataFrame::Make({});
  REQUIRE(frame.ok());
  CHECK(frame->num_rows() == 0);
  CHECK(frame->num_columns() == 0);
  CHECK(frame->Find("x") == nullptr);

  DataFrame default_frame;
  CHECK(default_frame.num_rows() == 0);
  CHECK(default_frame.num_columns() == 0);
}

TEST_CASE("DataFrame::Make rejects unequal lengths", "[data_frame]") {
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("time", {1, 2, 3}));
  columns.push_back(Column::Numeric("status", {1, 0}));
  auto frame = DataFrame::Make(std::move(columns));
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(frame.status().message()), Catch::Contains("status"));
}

TEST_CASE("DataFrame::Make rejects duplicate names", "[data_frame]") {
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("age", {1}));
  columns.push_back(Column::Categorical("age", {"x"}, {0}));
  auto frame = DataFrame::Make(std::move(columns));
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(frame.status().message()), Catch::Contains("'age'"));
}

}  // namespace
}  // namespace spoor
