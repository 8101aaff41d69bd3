#include "algorithms/csv_reader.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace spoor {
namespace {

DataFrame MustParse(std::string_view text) {
  absl::StatusOr<DataFrame> frame = ParseCsv(text, "test.csv");
  INFO(frame.status().ToString());
  REQUIRE(frame.ok());
  return *std::move(frame);
}

const Column& Col(const DataFrame& frame, std::string_view name) {
  const Column* column = frame.Find(name);
  INFO("column " << name);
  REQUIRE(column != nullptr);
  return *column;
}

// Parses `text`, requires INVALID_ARGUMENT with exactly `message`, and
// requires that no piece of row content leaks into it.
void ExpectError(std::string_view text, const std::string& message) {
  absl::StatusOr<DataFrame> frame = ParseCsv(text, "test.csv");
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kInvalidArgument);
  const std::string actual(frame.status().message());
  CHECK(actual == message);
  CHECK_THAT(actual, !Catch::Contains("SECRET"));
  CHECK_THAT(actual, !Catch::Contains("123"));
}

TEST_CASE("Numeric columns are inferred", "[csv]") {
  DataFrame frame = MustParse("time,status,ph.ecog\n306,2,1\n455,2,0\n1010,1,2.5\n");
  CHECK(frame.num_rows() == 3);
  CHECK(frame.num_columns() == 3);
  CHECK(frame.columns()[0].name() == "time");
  CHECK(frame.columns()[2].name() == "ph.ecog");
  const Column& time = Col(frame, "time");
  CHECK(time.type() == ColumnType::kNumeric);
  CHECK(time.numbers() == std::vector<double>{306, 455, 1010});
  CHECK(Col(frame, "ph.ecog").numbers() == std::vector<double>{1, 0, 2.5});
  CHECK(Col(frame, "status").missing_count() == 0);
}

TEST_CASE("Number formats", "[csv]") {
  DataFrame frame = MustParse("x\n1e-3\n-2.5\n+4\n0\n-0.125\n1E3\n.5\n\"7\"\n");
  const Column& x = Col(frame, "x");
  REQUIRE(x.type() == ColumnType::kNumeric);
  CHECK(x.numbers() == std::vector<double>{1e-3, -2.5, 4, 0, -0.125, 1000, 0.5, 7});
}

TEST_CASE("Parsed numbers equal std::from_chars bit for bit", "[csv]") {
  std::vector<std::string> values = {"0.1",
                                     "0.2",
                                     "0.3",
                                     "-0.0",
                                     "1.",
                                     "007",
                                     "2.675",
                                     "1e308",
                                     "4.9e-324",
                                     "123456789012345",
                                     "1234567890123456",
                                     "0.000000000000001",
                                     "99999999999999.9",
                                     "-9007199254740993",
                                     "3.14159265358979"};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const uint64_t digits = rng() % 10'000'000'000'000'000ULL;
    std::string s = std::to_string(digits);
    const size_t point = rng() % (s.size() + 1);
    // Built by concatenation: GCC 12 gives a false -Wrestrict on insert().
    if (point < s.size()) s = absl::StrCat(s.substr(0, point), ".", s.substr(point));
    if (rng() % 2) s = absl::StrCat("-", s);
    values.push_back(s);
  }
  std::string text = "x\n";
  for (const std::string& v : values) absl::StrAppend(&text, v, "\n");
  DataFrame frame = MustParse(text);
  const Column& x = Col(frame, "x");
  REQUIRE(x.type() == ColumnType::kNumeric);
  REQUIRE(x.size() == values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    double expected = 0;
    std::from_chars(values[i].data(), values[i].data() + values[i].size(), expected);
    INFO(values[i]);
    CHECK(std::memcmp(&expected, &x.numbers()[i], sizeof(double)) == 0);
  }
}

TEST_CASE("Things that are not finite decimal numbers make a column categorical", "[csv]") {
  for (const char* value : {"nan", "inf", "-inf", "Infinity", "+-3", "++3", "+", "-", "0x1A", " 12",
                            "12 ", "1.2.3", "1e999", "1,5" /* quoted below */}) {
    INFO(value);
    DataFrame frame = MustParse(absl::StrCat("x\n1\n\"", value, "\"\n"));
    const Column& x = Col(frame, "x");
    CHECK(x.type() == ColumnType::kCategorical);
    CHECK(x.levels().size() == 2);
  }
}

TEST_CASE("Categorical columns have sorted levels and codes", "[csv]") {
  DataFrame frame = MustParse("sex,arm\nM,b\nF,a\nM,c\nF,b\n");
  const Column& sex = Col(frame, "sex");
  REQUIRE(sex.type() == ColumnType::kCategorical);
  CHECK(sex.levels() == std::vector<std::string>{"F", "M"});
  CHECK(sex.codes() == std::vector<int32_t>{1, 0, 1, 0});
  const Column& arm = Col(frame, "arm");
  CHECK(arm.levels() == std::vector<std::string>{"a", "b", "c"});
  CHECK(arm.codes() == std::vector<int32_t>{1, 0, 2, 1});
}

TEST_CASE("Levels sort by byte order", "[csv]") {
  DataFrame frame = MustParse("g\nb\nB\n10\n9\n_\na\n");
  CHECK(Col(frame, "g").levels() == std::vector<std::string>{"10", "9", "B", "_", "a", "b"});
  CHECK(Col(frame, "g").codes() == std::vector<int32_t>{5, 2, 0, 1, 3, 4});
}

TEST_CASE("A mixed column becomes categorical", "[csv]") {
  DataFrame frame = MustParse("a,b\n1,1\n2,2\nx,3\n2,NA\n");
  const Column& a = Col(frame, "a");
  REQUIRE(a.type() == ColumnType::kCategorical);
  CHECK(a.levels() == std::vector<std::string>{"1", "2", "x"});
  CHECK(a.codes() == std::vector<int32_t>{0, 1, 2, 1});
  const Column& b = Col(frame, "b");
  REQUIRE(b.type() == ColumnType::kNumeric);
  CHECK(b.numbers()[2] == 3);
  CHECK(std::isnan(b.numbers()[3]));
}

TEST_CASE("A column that turns categorical late keeps every earlier value", "[csv]") {
  std::string text = "id,v,w\n";
  const int kRows = 5000;
  for (int i = 0; i < kRows; ++i) {
    absl::StrAppend(&text, i, ",", i % 7 == 0 ? "" : absl::StrCat(i % 10), ",\"w", i % 3, "\"\n");
  }
  absl::StrAppend(&text, kRows, ",other,w0\n");
  DataFrame frame = MustParse(text);
  REQUIRE(frame.num_rows() == kRows + 1);
  CHECK(Col(frame, "id").type() == ColumnType::kNumeric);
  const Column& v = Col(frame, "v");
  REQUIRE(v.type() == ColumnType::kCategorical);
  CHECK(v.levels() ==
        std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "other"});
  for (int i = 0; i < kRows; ++i) {
    INFO("row " << i);
    REQUIRE(v.codes()[i] == (i % 7 == 0 ? -1 : i % 10));
  }
  CHECK(v.codes()[kRows] == 10);
  CHECK(Col(frame, "w").levels() == std::vector<std::string>{"w0", "w1", "w2"});
}

TEST_CASE("Escaped quotes survive a late switch to categorical", "[csv]") {
  // Column a switches on row 3 with an escaped value while the rows re-read
  // for it hold escaped values in column b.
  DataFrame frame = MustParse("b,a\n\"p\"\"q\",1\n\"r\"\"s\",2\n\"t\",\"x\"\"y\"\n");
  const Column& a = Col(frame, "a");
  REQUIRE(a.type() == ColumnType::kCategorical);
  CHECK(a.levels() == std::vector<std::string>{"1", "2", "x\"y"});
  CHECK(a.codes() == std::vector<int32_t>{0, 1, 2});
  const Column& b = Col(frame, "b");
  CHECK(b.levels() == std::vector<std::string>{"p\"q", "r\"s", "t"});
  CHECK(b.codes() == std::vector<int32_t>{0, 1, 2});
}

TEST_CASE("Missing values: empty, NA and quoted NA", "[csv]") {
  DataFrame frame = MustParse("n,c\n1,a\n,\nNA,NA\n\"NA\",\"NA\"\n\"\",\"\"\n2,b\n");
  const Column& n = Col(frame, "n");
  REQUIRE(n.type() == ColumnType::kNumeric);
  CHECK(n.size() == 6);
  CHECK(n.missing_count() == 4);
  CHECK(n.numbers()[0] == 1);
  CHECK(n.numbers()[5] == 2);
  for (size_t i = 1; i <= 4; ++i) CHECK(n.is_missing(i));
  const Column& c = Col(frame, "c");
  REQUIRE(c.type() == ColumnType::kCategorical);
  CHECK(c.levels() == std::vector<std::string>{"a", "b"});
  CHECK(c.codes() == std::vector<int32_t>{0, -1, -1, -1, -1, 1});
}

TEST_CASE("Only exactly NA is missing", "[csv]") {
  DataFrame frame = MustParse("c\nna\nNA\nN/A\n");
  const Column& c = Col(frame, "c");
  CHECK(c.levels() == std::vector<std::string>{"N/A", "na"});
  CHECK(c.codes() == std::vector<int32_t>{1, -1, 0});
}

TEST_CASE("An all-missing column is numeric", "[csv]") {
  DataFrame frame = MustParse("a,b\n,1\nNA,2\n");
  const Column& a = Col(frame, "a");
  CHECK(a.type() == ColumnType::kNumeric);
  CHECK(a.missing_count() == 2);
}

TEST_CASE("Quoted fields with commas, newlines and escaped quotes", "[csv]") {
  DataFrame frame = MustParse(
      "id,note,\"ph.ecog\"\n"
      "1,\"a, b\",0\n"
      "2,\"line1\nline2\",1\n"
      "3,\"say \"\"hi\"\"\",2\n"
      "4,\"\"\"\",3\n"
      "5,\"crlf\r\ninside\",4\n");
  CHECK(frame.num_rows() == 5);
  const Column& note = Col(frame, "note");
  REQUIRE(note.type() == ColumnType::kCategorical);
  CHECK(note.levels() ==
        std::vector<std::string>{"\"", "a, b", "crlf\r\ninside", "line1\nline2", "say \"hi\""});
  CHECK(note.codes() == std::vector<int32_t>{1, 3, 4, 0, 2});
  CHECK(Col(frame, "ph.ecog").numbers() == std::vector<double>{0, 1, 2, 3, 4});
}

TEST_CASE("CRLF line endings", "[csv]") {
  DataFrame frame = MustParse("a,b\r\n1,x\r\n2,\"y\"\r\n3,\r\n");
  CHECK(frame.num_rows() == 3);
  CHECK(Col(frame, "b").levels() == std::vector<std::string>{"x", "y"});
  CHECK(Col(frame, "b").codes() == std::vector<int32_t>{0, 1, -1});
  CHECK(Col(frame, "a").numbers() == std::vector<double>{1, 2, 3});
}

TEST_CASE("A byte-order mark is skipped", "[csv]") {
  DataFrame frame = MustParse(
      "\xEF\xBB\xBF"
      "age,sex\n50,F\n");
  REQUIRE(frame.Find("age") != nullptr);
  CHECK(Col(frame, "age").numbers() == std::vector<double>{50});
}

TEST_CASE("The final line may lack a newline", "[csv]") {
  DataFrame frame = MustParse("a,b\n1,2\n3,4");
  CHECK(Col(frame, "b").numbers() == std::vector<double>{2, 4});
  DataFrame quoted = MustParse("a,b\n1,\"x\"");
  CHECK(Col(quoted, "b").levels() == std::vector<std::string>{"x"});
  DataFrame empty_last = MustParse("a,b\n1,");
  CHECK(Col(empty_last, "b").missing_count() == 1);
}

TEST_CASE("Trailing empty lines are ignored", "[csv]") {
  DataFrame frame = MustParse("a,b\n1,2\n\n\r\n\n");
  CHECK(frame.num_rows() == 1);
  DataFrame one_column = MustParse("x\n1\n2\n\n\n");
  CHECK(one_column.num_rows() == 2);
}

TEST_CASE("In a one-column file an inner empty line is a missing value", "[csv]") {
  DataFrame frame = MustParse("x\n1\n\n2\n");
  CHECK(frame.num_rows() == 3);
  CHECK(Col(frame, "x").missing_count() == 1);
}

TEST_CASE("A header-only file has zero rows", "[csv]") {
  for (const char* text : {"a,ph.ecog\n", "a,ph.ecog", "a,ph.ecog\r\n\r\n"}) {
    DataFrame frame = MustParse(text);
    CHECK(frame.num_rows() == 0);
    CHECK(frame.num_columns() == 2);
    CHECK(Col(frame, "ph.ecog").size() == 0);
  }
}

TEST_CASE("Empty input is an error", "[csv]") {
  for (const char* text : {"", "\n", "\r\n\n", "\xEF\xBB\xBF"}) {
    INFO(text);
    ExpectError(text, "test.csv: empty file; expected a header row");
  }
}

TEST_CASE("Wrong field count names the line, not the content", "[csv]") {
  ExpectError("a,b\n1,2\n3,SECRET123,4\n",
              "test.csv:3: expected 2 fields as in the header, found 3");
  ExpectError("a,b\n1,2\nSECRET123\n5,6\n",
              "test.csv:3: expected 2 fields as in the header, found 1");
  // Physical lines: a quoted newline in row 1 shifts the line of row 2.
  ExpectError("a,b\n\"x\ny\",1\n2,3,SECRET123\n",
              "test.csv:4: expected 2 fields as in the header, found 3");
  ExpectError("a,b\r\n1,2\r\n\r\n3,SECRET123\r\n",
              "test.csv:3: expected 2 fields as in the header, found 1");
  ExpectError("a,b\n1,2\n3,SECRET123,", "test.csv:3: expected 2 fields as in the header, found 3");
}

TEST_CASE("Unterminated quote names the line where the record starts", "[csv]") {
  ExpectError("a,b\n1,2\n3,\"SECRET123\n4,5\n6,7\n", "test.csv:3: unterminated quoted field");
  ExpectError("a,b\n1,\"SECRET123", "test.csv:2: unterminated quoted field");
  ExpectError("\"a,b\n", "test.csv:1: unterminated quoted field");
}

TEST_CASE("A quote inside an unquoted field is an error", "[csv]") {
  ExpectError("a,b\n1,2\n3,SEC\"RET123\n", "test.csv:3: quote character inside unquoted field 2");
  ExpectError("a,b\nSECRET123\",1\n", "test.csv:2: quote character inside unquoted field 1");
}

TEST_CASE("Text after a closing quote is an error", "[csv]") {
  ExpectError("a,b\n1,\"SECRET\"123\n",
              "test.csv:2: unexpected character after the closing quote of field 2");
  ExpectError("a,b\n\"x\ny\",1\n\"SECRET\" 123,2\n",
              "test.csv:4: unexpected character after the closing quote of field 1");
}

TEST_CASE("Header errors", "[csv]") {
  ExpectError("a,,c\n1,2,3\n", "test.csv:1: column 2 of the header has no name");
  ExpectError("a,b,\n1,2,3\n", "test.csv:1: column 3 of the header has no name");
  ExpectError("a,\"\"\n1,2\n", "test.csv:1: column 2 of the header has no name");
  ExpectError("age,sex,age\n1,2,3\n", "test.csv:1: duplicate column name 'age'");
  ExpectError("age,\"age\"\n", "test.csv:1: duplicate column name 'age'");
  ExpectError("a\"b\n", "test.csv:1: quote character inside unquoted field 1");
}

TEST_CASE("Quoted header names are unquoted", "[csv]") {
  DataFrame frame = MustParse("\"a,b\",\"say \"\"x\"\"\"\n1,2\n");
  CHECK(frame.Find("a,b") != nullptr);
  CHECK(frame.Find("say \"x\"") != nullptr);
}

class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              absl::StrCat("spoor_csv_test_", ::getpid())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(std::string_view name, std::string_view contents) const {
    std::string path = (path_ / std::string(name)).string();
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  std::string Path(std::string_view name) const { return (path_ / std::string(name)).string(); }

 private:
  std::filesystem::path path_;
};

// Every frame field by field (numbers bit for bit, NaN equal to NaN).
void RequireSameFrame(const DataFrame& a, const DataFrame& b) {
  REQUIRE(a.num_rows() == b.num_rows());
  REQUIRE(a.num_columns() == b.num_columns());
  for (size_t c = 0; c < a.num_columns(); ++c) {
    const Column& x = a.columns()[c];
    const Column& y = b.columns()[c];
    INFO("column " << x.name());
    REQUIRE(x.name() == y.name());
    REQUIRE(x.type() == y.type());
    CHECK(x.levels() == y.levels());
    CHECK(x.codes() == y.codes());
    REQUIRE(x.numbers().size() == y.numbers().size());
    for (size_t r = 0; r < x.numbers().size(); ++r) {
      const double u = x.numbers()[r];
      const double v = y.numbers()[r];
      REQUIRE(((std::isnan(u) && std::isnan(v)) || std::memcmp(&u, &v, sizeof u) == 0));
    }
  }
}

// Random but valid CSV: quoted and escaped fields with commas and line
// breaks, CRLF and LF, missing values, columns that turn categorical late,
// trailing blank lines.
std::string RandomCsv(std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(0, 99);
  const int columns = 1 + pick(rng) % 4;
  const std::string eol = pick(rng) < 50 ? "\n" : "\r\n";
  std::string text = pick(rng) < 20 ? "\xEF\xBB\xBF" : "";
  for (int c = 0; c < columns; ++c) absl::StrAppend(&text, c ? "," : "", "\"v.", c, "\"");
  text += eol;
  const int rows = pick(rng) % 60;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < columns; ++c) {
      if (c) text += ",";
      const int kind = pick(rng);
      if (kind < 10) {
        text += kind < 5 ? "" : "NA";
      } else if (kind < 70 || r < rows / 2) {
        absl::StrAppend(&text, pick(rng) - 50, ".", pick(rng) % 10);
      } else if (kind < 85) {
        absl::StrAppend(&text, "\"q", pick(rng) % 5, "\"\"x,", eol, "\"");
      } else {
        absl::StrAppend(&text, "lvl", pick(rng) % 7);
      }
    }
    if (columns > 1 || r + 1 < rows || pick(rng) < 50) text += eol;
  }
  if (pick(rng) < 30) text += eol + eol;
  return text;
}

TEST_CASE("Chunk boundaries anywhere give the same frame", "[csv]") {
  std::mt19937 rng(20261123);
  for (int trial = 0; trial < 300; ++trial) {
    std::string text = RandomCsv(rng);
    // A third cut short anywhere: unterminated quotes, short records.
    if (trial % 3 == 0) text.resize(std::uniform_int_distribution<size_t>(0, text.size())(rng));
    INFO("trial " << trial);
    absl::StatusOr<DataFrame> whole = ParseCsv(text, "test.csv");
    for (size_t chunk : {1, 2, 3, 5, 8, 13, 64}) {
      INFO("chunk " << chunk);
      absl::StatusOr<DataFrame> chunked = ParseCsv(text, "test.csv", {.chunk_bytes = chunk});
      REQUIRE(whole.ok() == chunked.ok());
      if (whole.ok()) {
        RequireSameFrame(*whole, *chunked);
      } else {
        CHECK(whole.status() == chunked.status());
      }
    }
  }
}

TEST_CASE("Lone CRs and line breaks at the end read alike at every chunk size", "[csv]") {
  // Found by the fuzzer (tests/fuzz/corpus/csv/crash-trailing-crs): the end
  // of input was trimmed of every CR and LF, back into an earlier record
  // when the whole text was one chunk, but not when it was not.
  const std::vector<std::string> texts = {"a\r2\r\r\n\r\r\r\n", "x,y\n1,2\r",     "x,y\n1,2\n\r\r",
                                          "x\n1\n\n\n",         "x\r\n1\r\n\r\n", "x\n\"a\r\"\r\r",
                                          "x\n1\n\n2\n\n"};
  for (const std::string& text : texts) {
    INFO(absl::CEscape(text));
    absl::StatusOr<DataFrame> whole = ParseCsv(text, "test.csv");
    for (size_t chunk = 1; chunk <= 9; ++chunk) {
      absl::StatusOr<DataFrame> chunked = ParseCsv(text, "test.csv", {.chunk_bytes = chunk});
      INFO("chunk " << chunk << ": " << chunked.status().ToString());
      REQUIRE(whole.ok() == chunked.ok());
      if (whole.ok()) RequireSameFrame(*whole, *chunked);
    }
  }
  DataFrame frame = MustParse("x,y\n1,2\r");
  CHECK(Col(frame, "y").numbers() == std::vector<double>{2});  // the CR ends the line
  frame = MustParse("x\n1\n\n2\n\n");
  CHECK(frame.num_rows() == 3);  // the inner blank line is a missing value
  frame = MustParse("a\r2\r\r\n\r\r\r\n");
  CHECK(frame.columns()[0].name() == "a\r2\r");  // lone CRs are data
  CHECK(frame.num_rows() == 1);
}

TEST_CASE("ReadCsvFile in small chunks re-reads the file for a late categorical column", "[csv]") {
  TempDir dir;
  std::string text = "id,v\n";
  for (int i = 0; i < 3000; ++i) absl::StrAppend(&text, i, ",", i % 9, "\n");
  text += "3000,\"late, level\"\n";
  const std::string path = dir.File("late.csv", text);
  absl::StatusOr<DataFrame> from_file = ReadCsvFile(path, {.chunk_bytes = 100});
  REQUIRE(from_file.ok());
  RequireSameFrame(MustParse(text), *from_file);
  CHECK(Col(*from_file, "v").levels().back() == "late, level");
}

TEST_CASE("ReadCsvFile reads a file", "[csv]") {
  TempDir dir;
  std::string path = dir.File("cohort.csv", "age,sex\n61,M\n70,F\n");
  absl::StatusOr<DataFrame> frame = ReadCsvFile(path);
  REQUIRE(frame.ok());
  CHECK(frame->num_rows() == 2);
  CHECK(Col(*frame, "sex").levels() == std::vector<std::string>{"F", "M"});
}

TEST_CASE("ReadCsvFile errors name the path", "[csv]") {
  TempDir dir;
  std::string bad = dir.File("bad.csv", "a,b\n1,SECRET123,3\n");
  absl::StatusOr<DataFrame> frame = ReadCsvFile(bad);
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(frame.status().message() ==
        absl::StrCat(bad, ":2: expected 2 fields as in the header, found 3"));

  std::string missing = dir.Path("missing.csv");
  frame = ReadCsvFile(missing);
  REQUIRE_FALSE(frame.ok());
  CHECK(frame.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(frame.status().message()), Catch::Contains(missing));
}

}  // namespace
}  // namespace spoor
