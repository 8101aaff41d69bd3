#include "algorithms/filter.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "algorithms/data_frame.h"

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Rows = std::vector<size_t>;

// Eight patients; the expected row sets below are worked out by hand from
// this table (NA = missing):
//
//   row  age  sex  bmi   ph.ecog  stage  `age at entry`  sex2
//   0    45   F    22.0  0        I      44              F
//   1    50   M    NA    1        II     50              F
//   2    62   F    30.5  NA       III    60              NA
//   3    NA   M    25.0  2        NA     NA              M
//   4    70   NA   NA    1        IV     71              M
//   5    38   F    19.0  0        II     39              F
//   6    55   M    27.5  3        I      54              X
//   7    80   F    31.0  1        IV     82              F
DataFrame Patients() {
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("age", {45, 50, 62, kNaN, 70, 38, 55, 80}));
  columns.push_back(Column::Categorical("sex", {"F", "M"}, {0, 1, 0, 1, -1, 0, 1, 0}));
  columns.push_back(Column::Numeric("bmi", {22.0, kNaN, 30.5, 25.0, kNaN, 19.0, 27.5, 31.0}));
  columns.push_back(Column::Numeric("ph.ecog", {0, 1, kNaN, 2, 1, 0, 3, 1}));
  columns.push_back(
      Column::Categorical("stage", {"I", "II", "III", "IV"}, {0, 1, 2, -1, 3, 1, 0, 3}));
  columns.push_back(Column::Numeric("age at entry", {44, 50, 60, kNaN, 71, 39, 54, 82}));
  // Levels in another order than sex's, so that codes differ for one label.
  columns.push_back(Column::Categorical("sex2", {"M", "F", "X"}, {1, 1, -1, 0, 0, 1, 2, 1}));
  auto frame = DataFrame::Make(std::move(columns));
  REQUIRE(frame.ok());
  return *std::move(frame);
}

Rows Select(const std::string& text, const DataFrame& frame) {
  INFO("filter: " << text);
  auto filter = RowFilter::Parse(text);
  INFO("parse status: " << filter.status().ToString());
  REQUIRE(filter.ok());
  auto rows = filter->Select(frame);
  INFO("select status: " << rows.status().ToString());
  REQUIRE(rows.ok());
  return *rows;
}

std::string ParseError(const std::string& text) {
  INFO("filter: " << text);
  auto filter = RowFilter::Parse(text);
  REQUIRE_FALSE(filter.ok());
  CHECK(filter.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(filter.status().message());
}

std::string SelectError(const std::string& text, const DataFrame& frame) {
  INFO("filter: " << text);
  auto filter = RowFilter::Parse(text);
  INFO("parse status: " << filter.status().ToString());
  REQUIRE(filter.ok());
  auto rows = filter->Select(frame);
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(rows.status().message());
}

TEST_CASE("Numeric comparisons drop missing values", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("age >= 50", frame) == Rows{1, 2, 4, 6, 7});
  CHECK(Select("age > 50", frame) == Rows{2, 4, 6, 7});
  CHECK(Select("age < 50", frame) == Rows{0, 5});
  CHECK(Select("age <= 50", frame) == Rows{0, 1, 5});
  CHECK(Select("age == 50", frame) == Rows{1});
  CHECK(Select("age != 50", frame) == Rows{0, 2, 4, 5, 6, 7});
  // A literal on the left mirrors the operator.
  CHECK(Select("50 <= age", frame) == Rows{1, 2, 4, 6, 7});
  CHECK(Select("50 > age", frame) == Rows{0, 5});
  CHECK(Select("bmi < 25", frame) == Rows{0, 5});
}

TEST_CASE("Numbers are read as R reads them", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("bmi > 30.5", frame) == Rows{7});
  CHECK(Select("bmi>=.305e2", frame) == Rows{2, 7});
  CHECK(Select("age > -3.5", frame) == Rows{0, 1, 2, 4, 5, 6, 7});
  CHECK(Select("age<=-1", frame).empty());
  CHECK(Select("age < 1e-3", frame).empty());
  CHECK(Select("age == 45.", frame) == Rows{0});
  CHECK(Select("age >= 5E1", frame) == Rows{1, 2, 4, 6, 7});
  CHECK(Select("age == +45", frame) == Rows{0});
}

TEST_CASE("Categorical comparisons match level labels", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("sex == 'F'", frame) == Rows{0, 2, 5, 7});
  CHECK(Select("sex == \"F\"", frame) == Rows{0, 2, 5, 7});
  CHECK(Select("sex != 'F'", frame) == Rows{1, 3, 6});
  CHECK(Select("'M' == sex", frame) == Rows{1, 3, 6});
  CHECK(Select("stage == 'IV'", frame) == Rows{4, 7});
}

TEST_CASE("A level absent at this node matches nothing", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("sex == 'X'", frame).empty());
  CHECK(Select("sex != 'X'", frame) == Rows{0, 1, 2, 3, 5, 6, 7});
  CHECK(Select("stage %in% c('V', 'VI')", frame).empty());
  CHECK(Select("stage %in% c('V', 'I')", frame) == Rows{0, 6});
  CHECK(Select("sex == 'f'", frame).empty());  // labels are case-sensitive
}

TEST_CASE("Column against column", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("age > `age at entry`", frame) == Rows{0, 2, 6});
  CHECK(Select("age == `age at entry`", frame) == Rows{1});
  CHECK(Select("age == age", frame) == Rows{0, 1, 2, 4, 5, 6, 7});
  // sex2's codes differ from sex's; comparison is by label, NA if either is.
  CHECK(Select("sex == sex2", frame) == Rows{0, 3, 5, 7});
  CHECK(Select("sex != sex2", frame) == Rows{1, 6});
}

TEST_CASE("Three-valued logic follows R", "[filter]") {
  const DataFrame frame = Patients();
  // Row 3 (age NA, sex M): NA && FALSE is FALSE, so its negation is TRUE;
  // row 4 (age 70, sex NA): TRUE && NA is NA, and !NA is NA.
  CHECK(Select("age > 30 && sex == 'F'", frame) == Rows{0, 2, 5, 7});
  CHECK(Select("!(age > 30 && sex == 'F')", frame) == Rows{1, 3, 6});
  // Row 3: NA || TRUE is TRUE; row 4: TRUE || NA is TRUE.
  CHECK(Select("age > 30 || sex == 'M'", frame) == Rows{0, 1, 2, 3, 4, 5, 6, 7});
  // Row 3: NA || FALSE is NA.
  CHECK(Select("age > 30 || sex == 'F'", frame) == Rows{0, 1, 2, 4, 5, 6, 7});
  // !NA is NA: a missing age is dropped both ways.
  CHECK(Select("!(age > 50)", frame) == Rows{0, 1, 5});
  CHECK(Select("!(sex == 'F')", frame) == Rows{1, 3, 6});
  CHECK(Select("!!(age > 50)", frame) == Rows{2, 4, 6, 7});
  CHECK(Select("!age > 50", frame) == Rows{0, 1, 5});  // R: ! binds looser than >
}

TEST_CASE("is.na is TRUE or FALSE", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("is.na(bmi)", frame) == Rows{1, 4});
  CHECK(Select("!is.na(bmi)", frame) == Rows{0, 2, 3, 5, 6, 7});
  CHECK(Select("is.na(sex)", frame) == Rows{4});
  CHECK(Select("is.na(stage) || is.na(age)", frame) == Rows{3});
  CHECK(Select("is.na(`age at entry`)", frame) == Rows{3});
  CHECK(Select("age >= 50 && sex == 'F' && !is.na(bmi)", frame) == Rows{2, 7});
}

TEST_CASE("%in% is FALSE, not NA, for missing values", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("stage %in% c('III', 'IV')", frame) == Rows{2, 4, 7});
  CHECK(Select("!(stage %in% c('III', 'IV'))", frame) == Rows{0, 1, 3, 5, 6});
  CHECK(Select("stage in ('I', 'II')", frame) == Rows{0, 1, 5, 6});
  CHECK(Select("stage in c('I')", frame) == Rows{0, 6});
  CHECK(Select("stage %in% ('II')", frame) == Rows{1, 5});
  CHECK(Select("age %in% c(45, 80, 99)", frame) == Rows{0, 7});
  CHECK(Select("!(age %in% c(45, 80))", frame) == Rows{1, 2, 3, 4, 5, 6});
  CHECK(Select("ph.ecog %in% c(TRUE, 3)", frame) == Rows{1, 4, 6, 7});
  // More than a handful of values takes the sorted-search path.
  CHECK(Select("age %in% c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 55, 45, 45)", frame) == Rows{0, 6});
  CHECK(Select("!(age %in% c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 55, 45))", frame) ==
        Rows{1, 2, 3, 4, 5, 7});
}

TEST_CASE("Names: dotted, backquoted, and c as a column", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("ph.ecog >= 2", frame) == Rows{3, 6});
  CHECK(Select("`ph.ecog` >= 2", frame) == Rows{3, 6});
  CHECK(Select("`age at entry` < 50", frame) == Rows{0, 5});

  std::vector<Column> columns;
  columns.push_back(Column::Numeric("c", {1, 2, 3}));
  columns.push_back(Column::Numeric("TRUE", {0, 1, 0}));
  columns.push_back(Column::Numeric("odd `name`\\", {5, 6, 7}));
  columns.push_back(Column::Numeric("_x", {1, 1, 2}));
  auto odd = DataFrame::Make(std::move(columns));
  REQUIRE(odd.ok());
  CHECK(Select("c %in% c(1, 3)", *odd) == Rows{0, 2});
  CHECK(Select("`TRUE` == TRUE", *odd) == Rows{1});
  CHECK(Select("`odd \\`name\\`\\\\` > 5", *odd) == Rows{1, 2});
  CHECK(Select("_x == 2", *odd) == Rows{2});
}

TEST_CASE("TRUE and FALSE", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("TRUE", frame) == Rows{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(Select("FALSE", frame).empty());
  CHECK(Select("!TRUE", frame).empty());
  CHECK(Select("TRUE && age > 60", frame) == Rows{2, 4, 7});
  CHECK(Select("FALSE || age > 60", frame) == Rows{2, 4, 7});
  // Against numbers they are 1 and 0.
  CHECK(Select("ph.ecog == TRUE", frame) == Rows{1, 4, 7});
  CHECK(Select("ph.ecog == FALSE", frame) == Rows{0, 5});
  CHECK(Select("TRUE > ph.ecog", frame) == Rows{0, 5});
  // Two literals fold to a constant.
  CHECK(Select("1 < 2", frame).size() == 8);
  CHECK(Select("TRUE == 1", frame).size() == 8);
  CHECK(Select("'a' == 'b'", frame).empty());
  CHECK(Select("'a' != 'b'", frame).size() == 8);
  CHECK(Select("2 %in% c(1, 2)", frame).size() == 8);
  CHECK(Select("'z' %in% c('a')", frame).empty());
}

TEST_CASE("&& binds tighter than ||; parentheses override", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("sex == 'M' || age > 60 && sex == 'F'", frame) == Rows{1, 2, 3, 6, 7});
  CHECK(Select("sex == 'M' || (age > 60 && sex == 'F')", frame) == Rows{1, 2, 3, 6, 7});
  // Row 4: (NA || TRUE) && NA is NA.
  CHECK(Select("(sex == 'M' || age > 60) && sex == 'F'", frame) == Rows{2, 7});
  CHECK(Select("sex == 'M' | age > 60 & sex == 'F'", frame) == Rows{1, 2, 3, 6, 7});
  CHECK(Select("((age > 60))", frame) == Rows{2, 4, 7});
  CHECK(Select(" \t age>60&&sex=='F'\n", frame) == Rows{2, 7});
}

TEST_CASE("Hand-computed cross-checks", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(Select("(stage %in% c('I', 'II') || ph.ecog >= 2) && !is.na(bmi)", frame) ==
        Rows{0, 3, 5, 6});
  CHECK(Select("sex == 'F' && (bmi > 30 || age < 40)", frame) == Rows{2, 5, 7});
  CHECK(Select("!(sex == 'M') && stage != 'IV' && age >= `age at entry`", frame) == Rows{0, 2});
  CHECK(Select("is.na(ph.ecog) || ph.ecog == 0 || sex2 == 'X'", frame) == Rows{0, 2, 5, 6});
  CHECK(Select("age >= 40 & age < 60 | stage in c('III')", frame) == Rows{0, 1, 2, 6});
}

TEST_CASE("columns() lists the variables read, in order of first use", "[filter]") {
  auto filter = RowFilter::Parse(
      "age >= 50 && sex == 'F' && !is.na(bmi) || 50 < age || sex == sex2 || "
      "`age at entry` %in% c(1) || TRUE");
  REQUIRE(filter.ok());
  CHECK(filter->columns() == std::vector<std::string>{"age", "sex", "bmi", "sex2", "age at entry"});
  CHECK(filter->text() ==
        "age >= 50 && sex == 'F' && !is.na(bmi) || 50 < age || sex == sex2 || "
        "`age at entry` %in% c(1) || TRUE");

  auto constant = RowFilter::Parse("TRUE");
  REQUIRE(constant.ok());
  CHECK(constant->columns().empty());
}

TEST_CASE("RowFilter copies and moves", "[filter]") {
  const DataFrame frame = Patients();
  auto parsed = RowFilter::Parse("age > 60");
  REQUIRE(parsed.ok());
  RowFilter copy = *parsed;
  RowFilter moved = std::move(*parsed);
  CHECK(copy.text() == "age > 60");
  CHECK(*copy.Select(frame) == Rows{2, 4, 7});
  CHECK(*moved.Select(frame) == Rows{2, 4, 7});
  copy = moved;
  CHECK(*copy.Select(frame) == Rows{2, 4, 7});
}

TEST_CASE("Empty frames select nothing", "[filter]") {
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("age", {}));
  auto frame = DataFrame::Make(std::move(columns));
  REQUIRE(frame.ok());
  CHECK(Select("age > 1", *frame).empty());
  CHECK(Select("TRUE", *frame).empty());
}

TEST_CASE("Type errors name the column and how to write the comparison", "[filter]") {
  const DataFrame frame = Patients();
  CHECK(SelectError("bmii > 25", frame) == "filter: no variable 'bmii' in this dataset");
  // Every column is checked, even where the value would not matter.
  CHECK(SelectError("TRUE || is.na(bmii)", frame) == "filter: no variable 'bmii' in this dataset");
  CHECK(SelectError("sex %in% c('F') && sex == sexx", frame) ==
        "filter: no variable 'sexx' in this dataset");
  CHECK(SelectError("sex == 1", frame) ==
        "filter: 'sex' is categorical; compare it with a quoted level such as sex == '1'");
  CHECK(SelectError("stage != TRUE", frame) ==
        "filter: 'stage' is categorical; compare it with a quoted level such as stage != 'TRUE'");
  CHECK(SelectError("age >= '50'", frame) ==
        "filter: 'age' is numeric; compare it with an unquoted number such as age >= 50");
  CHECK(SelectError("'50' < `age at entry`", frame) ==
        "filter: 'age at entry' is numeric; compare it with an unquoted number such as "
        "`age at entry` > 50");
  CHECK(SelectError("age == \"old\"", frame) ==
        "filter: 'age' is numeric; compare it with an unquoted number, not the string \"old\"");
  CHECK(SelectError("stage < 'III'", frame) ==
        "filter: 'stage' is categorical and '<' compares numbers only; use ==, != or %in% with "
        "quoted levels, such as stage %in% c('a', 'b')");
  CHECK(SelectError("stage >= 3", frame).find("'>=' compares numbers only") != std::string::npos);
  CHECK(SelectError("sex <= sex2", frame).find("'sex' is categorical and '<='") !=
        std::string::npos);
  CHECK(SelectError("age == sex", frame) ==
        "filter: cannot compare 'age' (numeric) with 'sex' (categorical)");
  CHECK(SelectError("sex != age", frame) ==
        "filter: cannot compare 'sex' (categorical) with 'age' (numeric)");
  CHECK(SelectError("age %in% c(1, 'x')", frame) ==
        "filter: 'age' is numeric; list unquoted numbers after %in%, not the string 'x'");
  CHECK(SelectError("sex in ('F', 2)", frame) ==
        "filter: 'sex' is categorical; list quoted levels after %in%, such as '2'");
}

TEST_CASE("Error messages never contain values from the frame", "[filter]") {
  std::vector<Column> columns;
  columns.push_back(Column::Categorical("site", {"SECRET-LEVEL"}, {0, 0}));
  columns.push_back(Column::Numeric("score", {123456.5, 654321.5}));
  auto frame = DataFrame::Make(std::move(columns));
  REQUIRE(frame.ok());
  for (const char* text : {"site < 'a'", "site == 1", "site == score", "score == 'a'",
                           "site %in% c(1)", "score %in% c('b')", "nosuch == 1", "site >= site"}) {
    const std::string message = SelectError(text, *frame);
    CHECK(message.find("SECRET") == std::string::npos);
    CHECK(message.find("123456") == std::string::npos);
    CHECK(message.find("654321") == std::string::npos);
  }
}

TEST_CASE("Syntax errors give the position", "[filter]") {
  CHECK(ParseError("age = 5") ==
        "filter: unknown operator '=' at position 5; use '==' for equality");
  CHECK(ParseError("age =< 5") ==
        "filter: unknown operator '=' at position 5; use '<=' for ordering");
  CHECK(ParseError("sex == 'F") == "filter: unterminated string at position 8");
  CHECK(ParseError("sex == \"F\\\"") == "filter: unterminated string at position 8");
  CHECK(ParseError("(age > 50 && sex == 'F'") == "filter: expected ')' at position 24");
  CHECK(ParseError("(age > 50 x") == "filter: expected ')' at position 11");
  CHECK(ParseError("age > 5)") == "filter: unmatched ')' at position 8");
  CHECK(ParseError("") == "filter: empty expression at position 1");
  CHECK(ParseError("   ") == "filter: empty expression at position 4");
  CHECK(ParseError("age") ==
        "filter: expected a comparison after 'age', found the end of the expression at position "
        "4; use ==, !=, <, <=, >, >=, %in% or is.na()");
  CHECK(ParseError("age && sex == 'F'").find("after 'age', found '&&' at position 5") !=
        std::string::npos);
  CHECK(ParseError("5").find("expected a comparison after '5'") != std::string::npos);
  CHECK(ParseError("!flag").find("expected a comparison after 'flag'") != std::string::npos);
  CHECK(ParseError("age > ") ==
        "filter: expected a column name or a value after '>', found the end of the expression at "
        "position 7");
  CHECK(ParseError("age > 50 &&") ==
        "filter: expected a condition, found the end of the expression at position 12");
  CHECK(ParseError("&& age > 1") == "filter: expected a condition, found '&&' at position 1");
  CHECK(ParseError("1 < age < 5") ==
        "filter: unexpected '<' at position 9; comparisons do not chain; join them with && or ||");
  CHECK(ParseError("age > 50 sex == 'F'") ==
        "filter: expected '&&', '||' or the end of the expression, found 'sex' at position 10");
  CHECK(ParseError("age<-3") ==
        "filter: unknown operator '<-' at position 4; assignment is not supported; to compare "
        "with a negative number put a space after '<'");
  CHECK(ParseError("age > 5 + 1") ==
        "filter: unknown operator '+' at position 9; arithmetic is not supported");
  CHECK(ParseError("age * 2 > 1").find("unknown operator '*' at position 5") != std::string::npos);
  CHECK(ParseError("age %like% 1") ==
        "filter: unknown operator '%like%' at position 5; the only %-operator is %in%");
  CHECK(ParseError("age % 1").find("unknown operator '%' at position 5") != std::string::npos);
  CHECK(ParseError("age > 1 # comment") == "filter: unexpected character '#' at position 9");
  CHECK(ParseError("age > 1 ;") == "filter: unexpected character ';' at position 9");
  CHECK(ParseError(std::string("age > 1\x01")) == "filter: unexpected character at position 8");
  CHECK(ParseError("12abc > 1") == "filter: malformed number '12abc' at position 1");
  CHECK(ParseError("age > 1.2.3") == "filter: malformed number '1.2.3' at position 7");
  CHECK(ParseError("age > 1e") == "filter: malformed number '1e' at position 7");
  CHECK(ParseError("age > 1e999") == "filter: number '1e999' is out of range at position 7");
  CHECK(ParseError("sex == 'a\\n'") ==
        "filter: unknown escape '\\n' at position 10; only \\', \\\" and \\\\ are allowed in a "
        "string");
  CHECK(ParseError("`age") == "filter: unterminated backquoted name at position 1");
  CHECK(ParseError("`` == 1") == "filter: empty backquoted name at position 1");
  CHECK(ParseError("`a\\'` == 1").find("unknown escape '\\'' at position 3") != std::string::npos);
}

TEST_CASE("Syntax errors in keywords and lists", "[filter]") {
  CHECK(ParseError("age == NA") ==
        "filter: NA is not a value to compare with at position 8; test for missing values with "
        "is.na(x) or !is.na(x)");
  CHECK(ParseError("NA").find("NA is not a value to compare with at position 1") !=
        std::string::npos);
  CHECK(ParseError("sex %in% c('F', NA)") ==
        "filter: NA is not allowed in a %in% list at position 17; add || is.na(x) to keep missing "
        "values");
  CHECK(ParseError("sex %in% 'F'") ==
        "filter: expected c(...) or (...) after '%in%', found 'F' at position 10");
  CHECK(ParseError("sex in c").find("expected c(...) or (...) after 'in', found 'c'") !=
        std::string::npos);
  CHECK(ParseError("sex %in% c()") ==
        "filter: expected a quoted string, a number, TRUE or FALSE in the list, found ')' at "
        "position 12");
  CHECK(ParseError("sex %in% c(age)").find("in the list, found 'age' at position 12") !=
        std::string::npos);
  CHECK(ParseError("sex %in% c('F' 'M')") ==
        "filter: expected ',' or ')' in the list, found 'M' at position 16");
  CHECK(ParseError("sex %in% c('F',").find("found the end of the expression at position 16") !=
        std::string::npos);
  CHECK(ParseError("is.na bmi") == "filter: expected '(' after is.na, found 'bmi' at position 7");
  CHECK(ParseError("is.na(1)") ==
        "filter: expected a column name inside is.na(), found '1' at position 7");
  CHECK(ParseError("is.na(TRUE)").find("inside is.na(), found 'TRUE'") != std::string::npos);
  CHECK(ParseError("is.na(bmi") == "filter: expected ')' at position 10");
  CHECK(ParseError("is.na(bmi, age)") == "filter: expected ')' at position 10");
  CHECK(ParseError("in == 1") == "filter: expected a condition, found 'in' at position 1");
  CHECK(ParseError("age == in").find("after '==', found 'in' at position 8") != std::string::npos);
  CHECK(ParseError("'a' == 1") ==
        "filter: cannot compare 'a' with '1' at position 5; a string never equals a number");
  CHECK(ParseError("'a' < 'b'") ==
        "filter: '<' cannot order strings at position 5; strings compare with == and != only");
  CHECK(ParseError("'a' %in% c(1)").find("cannot look for 'a'") != std::string::npos);
}

TEST_CASE("Positions count characters, not bytes", "[filter]") {
  // "âge" is four bytes but three characters.
  CHECK(ParseError("\xc3\xa2ge = 1") ==
        "filter: unknown operator '=' at position 5; use '==' for equality");
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("\xc3\xa2ge", {1, 2}));
  auto frame = DataFrame::Make(std::move(columns));
  REQUIRE(frame.ok());
  CHECK(Select("\xc3\xa2ge > 1", *frame) == Rows{1});
}

TEST_CASE("Nesting is limited to 64 levels", "[filter]") {
  const DataFrame frame = Patients();
  const std::string inner = "age > 60";
  CHECK(Select(std::string(64, '(') + inner + std::string(64, ')'), frame) == Rows{2, 4, 7});
  CHECK(ParseError(std::string(65, '(') + inner + std::string(65, ')')) ==
        "filter: expression nested more than 64 levels deep at position 65");
  CHECK(Select(std::string(64, '!') + inner, frame) == Rows{2, 4, 7});
  CHECK(ParseError(std::string(64, '!') + "(" + inner + ")") ==
        "filter: expression nested more than 64 levels deep at position 65");
  // Far deeper input is refused without recursing through it.
  CHECK(ParseError(std::string(4000, '(')).find("at position 65") != std::string::npos);
  CHECK(ParseError(std::string(4000, '!')).find("at position 65") != std::string::npos);
}

TEST_CASE("Text is limited to 4096 bytes", "[filter]") {
  const DataFrame frame = Patients();
  std::string text = "age > 60";
  text.resize(4096, ' ');
  CHECK(Select(text, frame) == Rows{2, 4, 7});
  text += ' ';
  CHECK(ParseError(text) == "filter: the expression is 4097 bytes; the limit is 4096");

  // A long flat chain parses and evaluates without deep recursion.
  std::string chain = "age > 60";
  while (chain.size() + 12 <= 4096) chain += " && age > 0";
  CHECK(Select(chain, frame) == Rows{2, 4, 7});
}

TEST_CASE("A million-row frame is filtered column at a time", "[filter]") {
  constexpr size_t kRows = 1000000;
  std::vector<double> age(kRows);
  std::vector<int32_t> sex(kRows);
  std::vector<double> bmi(kRows);
  for (size_t i = 0; i < kRows; ++i) {
    age[i] = i % 97 == 0 ? kNaN : static_cast<double>(i % 90);
    sex[i] = i % 11 == 0 ? -1 : static_cast<int32_t>(i % 3);
    bmi[i] = i % 13 == 0 ? kNaN : 15.0 + static_cast<double>(i % 25);
  }
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("age", age));
  columns.push_back(Column::Categorical("sex", {"F", "M", "X"}, sex));
  columns.push_back(Column::Numeric("bmi", bmi));
  auto frame = DataFrame::Make(std::move(columns));
  REQUIRE(frame.ok());

  Rows expected;
  for (size_t i = 0; i < kRows; ++i) {
    const bool age_ok = !std::isnan(age[i]) && age[i] >= 50;
    const bool sex_ok = sex[i] == 0 || sex[i] == 2;
    if (age_ok && sex_ok && !std::isnan(bmi[i])) expected.push_back(i);
  }
  const Rows rows = Select("age >= 50 && sex %in% c('F', 'X') && !is.na(bmi)", *frame);
  CHECK(rows.size() == expected.size());
  CHECK(rows == expected);

  // !(age < 50) keeps the same rows as age >= 50: missing ages are dropped.
  size_t old = 0;
  for (size_t i = 0; i < kRows; ++i) old += !std::isnan(age[i]) && age[i] >= 50;
  CHECK(Select("!(age < 50)", *frame).size() == old);
}

}  // namespace
}  // namespace spoor
