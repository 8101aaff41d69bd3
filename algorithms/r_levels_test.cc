#include "algorithms/r_levels.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST_CASE("numbers format as R's as.character()", "[r_levels]") {
  // Each expected text is what R 4.2.2 prints for as.character(x).
  CHECK(FormatRNumber(1) == "1");
  CHECK(FormatRNumber(2.5) == "2.5");
  CHECK(FormatRNumber(-2.5) == "-2.5");
  CHECK(FormatRNumber(100) == "100");
  CHECK(FormatRNumber(1e5) == "1e+05");
  CHECK(FormatRNumber(123456) == "123456");
  CHECK(FormatRNumber(1e-20) == "1e-20");
  CHECK(FormatRNumber(-1e-20) == "-1e-20");
  CHECK(FormatRNumber(1e-4) == "1e-04");
  CHECK(FormatRNumber(0.0001234) == "0.0001234");
  CHECK(FormatRNumber(1e15) == "1e+15");
  CHECK(FormatRNumber(1e22) == "1e+22");
  CHECK(FormatRNumber(3e-300) == "3e-300");
  CHECK(FormatRNumber(-123.456) == "-123.456");
  // Fixed notation is narrower, so every integer digit of the double shows.
  CHECK(FormatRNumber(123456789012345678.0) == "123456789012345680");
  CHECK(FormatRNumber(1234567890123456.0) == "1234567890123456");
  // 15 significant digits.
  CHECK(FormatRNumber(0.1 + 0.2) == "0.3");
  CHECK(FormatRNumber(1.0 / 3) == "0.333333333333333");
  CHECK(FormatRNumber(-0.0) == "0");
  CHECK(FormatRNumber(0) == "0");
  CHECK(FormatRNumber(kInf) == "Inf");
  CHECK(FormatRNumber(-kInf) == "-Inf");
  CHECK(FormatRNumber(kNaN) == "NaN");
}

TEST_CASE("levels sort as factor() sorts them", "[r_levels]") {
  SECTION("numbers by value, duplicates removed") {
    // R: levels(factor(c(10, 2, 1.5, 2, -1)))
    std::vector<std::string> levels = {"10", "2", "1.5", "2", "-1"};
    SortLevels(levels);
    CHECK(levels == std::vector<std::string>{"-1", "1.5", "2", "10"});
  }
  SECTION("text by bytes once any level is not a number") {
    std::vector<std::string> levels = {"stage2", "M", "stage10", "F", "M"};
    SortLevels(levels);
    CHECK(levels == std::vector<std::string>{"F", "M", "stage10", "stage2"});
    std::vector<std::string> mixed = {"2.5", "1e+05", "NA", "1"};
    SortLevels(mixed);
    CHECK(mixed == std::vector<std::string>{"1", "1e+05", "2.5", "NA"});
  }
  SECTION("empty stays empty") {
    std::vector<std::string> levels;
    SortLevels(levels);
    CHECK(levels.empty());
  }
}

TEST_CASE("level texts and present levels follow R's names", "[r_levels]") {
  const Column dose = Column::Numeric("dose", {10, 2.5, -0.0, kNaN, 0, 10, 1e5});
  CHECK(LevelText(dose, 0) == "10");
  CHECK(LevelText(dose, 1) == "2.5");
  CHECK(LevelText(dose, 2) == "0");
  CHECK(LevelText(dose, 6) == "1e+05");
  CHECK(PresentLevels(dose, {0, 1, 2, 4, 5, 6}) ==
        std::vector<std::string>{"0", "2.5", "10", "1e+05"});
  CHECK(PresentLevels(dose, {0, 5}) == std::vector<std::string>{"10"});

  const Column sex = Column::Categorical("sex", {"F", "M"}, {1, -1, 1, 0});
  CHECK(LevelText(sex, 0) == "M");
  CHECK(PresentLevels(sex, {0, 2}) == std::vector<std::string>{"M"});
  CHECK(PresentLevels(sex, {0, 2, 3}) == std::vector<std::string>{"F", "M"});
  CHECK(PresentLevels(sex, {}).empty());
}

std::vector<int> Decode(const Column& column, SurvEventCoding coding) {
  std::vector<int> out;
  for (size_t r = 0; r < column.size(); ++r) {
    out.push_back(column.is_missing(r) ? -9 : DecodeSurvEvent(column, r, coding));
  }
  return out;
}

TEST_CASE("event columns decode as survival::Surv() reads them", "[r_levels]") {
  SECTION("0/1") {
    const Column status = Column::Numeric("status", {0, 1, kNaN, 1});
    REQUIRE(ChooseSurvEventCoding(status) == SurvEventCoding::kZeroOne);
    CHECK(Decode(status, SurvEventCoding::kZeroOne) == std::vector<int>{0, 1, -9, 1});
  }
  SECTION("1/2 when the largest value is 2") {
    const Column status = Column::Numeric("status", {1, 2, kNaN, 2});
    REQUIRE(ChooseSurvEventCoding(status) == SurvEventCoding::kOneTwo);
    CHECK(Decode(status, SurvEventCoding::kOneTwo) == std::vector<int>{0, 1, -9, 1});
  }
  SECTION("all 1: 0/1, so every record is an event") {
    const Column status = Column::Numeric("status", {1, 1});
    CHECK(ChooseSurvEventCoding(status) == SurvEventCoding::kZeroOne);
    CHECK(Decode(status, SurvEventCoding::kZeroOne) == std::vector<int>{1, 1});
  }
  SECTION("the coding is decided over the rows given") {
    const Column status = Column::Numeric("status", {1, 2, 1});
    CHECK(ChooseSurvEventCoding(status, {0, 2}) == SurvEventCoding::kZeroOne);
    CHECK(ChooseSurvEventCoding(status, {0, 1}) == SurvEventCoding::kOneTwo);
    CHECK(ChooseSurvEventCoding(status, {}) == SurvEventCoding::kZeroOne);
  }
  SECTION("other numbers are not valid codes") {
    const Column status = Column::Numeric("status", {0, 1, 3, 0.5, -1});
    CHECK(Decode(status, ChooseSurvEventCoding(status)) == std::vector<int>{0, 1, -1, -1, -1});
    // 0 under 1/2 coding is 0 - 1: not valid either (R: NA).
    const Column mixed = Column::Numeric("status", {0, 1, 2});
    CHECK(Decode(mixed, ChooseSurvEventCoding(mixed)) == std::vector<int>{-1, 0, 1});
  }
  SECTION("logical text, in read.csv's spellings") {
    const Column status = Column::Categorical(
        "status", {"F", "FALSE", "False", "T", "TRUE", "True", "false", "true", "yes"},
        {0, 1, 2, 3, 4, 5, 6, 7, 8, -1});
    REQUIRE(ChooseSurvEventCoding(status) == SurvEventCoding::kLogical);
    CHECK(Decode(status, SurvEventCoding::kLogical) ==
          std::vector<int>{0, 0, 0, 1, 1, 1, 0, 1, -1, -9});
  }
  CHECK(InvalidSurvEventMessage("status", 1) ==
        "event 'status' must be coded 0/1, 1/2 or FALSE/TRUE; 1 row is not");
  CHECK(InvalidSurvEventMessage("status", 3) ==
        "event 'status' must be coded 0/1, 1/2 or FALSE/TRUE; 3 rows are not");
}

}  // namespace
}  // namespace spoor
