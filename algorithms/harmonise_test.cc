#include "algorithms/harmonise.h"

#include <algorithm>
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

DataFrame MakeFrame(std::vector<Column> columns) {
  auto frame = DataFrame::Make(std::move(columns));
  REQUIRE(frame.ok());
  return *std::move(frame);
}

// Equal to 1e-12 relative (exactly, for 0), or both missing.
bool Close(double actual, double expected) {
  if (std::isnan(actual) || std::isnan(expected)) return std::isnan(actual) && std::isnan(expected);
  return std::abs(actual - expected) <= 1e-12 * std::max(std::abs(actual), std::abs(expected));
}

void CheckSameFrame(const DataFrame& actual, const DataFrame& expected) {
  REQUIRE(actual.num_columns() == expected.num_columns());
  REQUIRE(actual.num_rows() == expected.num_rows());
  for (size_t i = 0; i < actual.num_columns(); ++i) {
    const Column& a = actual.columns()[i];
    const Column& e = expected.columns()[i];
    INFO("column " << i << ": " << a.name());
    CHECK(a.name() == e.name());
    REQUIRE(a.type() == e.type());
    CHECK(a.levels() == e.levels());
    CHECK(a.codes() == e.codes());
    for (size_t row = 0; row < a.numbers().size(); ++row) {
      INFO("row " << row << ": " << a.numbers()[row] << " vs " << e.numbers()[row]);
      CHECK(Close(a.numbers()[row], e.numbers()[row]));
    }
  }
}

DataFrame MustHarmonise(const DataFrame& frame, const std::vector<VariableMapping>& mappings,
                        HarmonisationReport* report = nullptr) {
  auto result = Harmonise(frame, mappings, "test.csv", report);
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *std::move(result);
}

std::vector<std::string> Names(const DataFrame& frame) {
  std::vector<std::string> names;
  for (const Column& column : frame.columns()) names.push_back(column.name());
  return names;
}

// `value` in `unit` converted to `to_unit` by Harmonise.
double Convert(double value, const std::string& unit, const std::string& to_unit,
               double molar_mass = 0) {
  VariableMapping mapping;
  mapping.name = "x";
  mapping.unit = unit;
  mapping.to_unit = to_unit;
  mapping.molar_mass = molar_mass;
  const DataFrame result = MustHarmonise(MakeFrame({Column::Numeric("x", {value})}), {mapping});
  REQUIRE(result.columns()[0].type() == ColumnType::kNumeric);
  return result.columns()[0].numbers()[0];
}

TEST_CASE("two sites coded differently harmonise to identical frames", "[harmonise]") {
  // Site A: sex 1 = male, 2 = female; glucose as "gluc" in mg/dL; weight in lb.
  const DataFrame site_a = MakeFrame({
      Column::Numeric("age", {54, 61, kNaN, 47}),
      Column::Numeric("sex", {1, 2, 2, kNaN}),
      Column::Numeric("gluc", {90, 126, 200.5, kNaN}),
      Column::Numeric("weight", {154, 200.5, 132, kNaN}),
  });
  // Site B: the same patients, sex as words, glucose in mmol/L, weight in kg
  // as "wt_kg". The numbers are 10 * mg/dL / 180.156 and lb * 0.45359237,
  // worked out in 30-digit decimal arithmetic (Python's decimal module).
  const DataFrame site_b = MakeFrame({
      Column::Numeric("age", {54, 61, kNaN, 47}),
      Column::Categorical("sex", {"female", "male"}, {1, 0, 0, -1}),
      Column::Numeric("glucose", {4.99567041897022580430293745421, 6.99393858655831612602411243589,
                                  11.1292435444836697084748773285, kNaN}),
      Column::Numeric("wt_kg", {69.85322498, 90.945270185, 59.87419284, kNaN}),
  });

  VariableMapping sex_a{.name = "sex", .codes = {{"1", "M"}, {"2", "F"}}};
  VariableMapping glucose_a{.name = "glucose",
                            .from = "gluc",
                            .unit = "mg/dL",
                            .to_unit = "mmol/L",
                            .molar_mass = 180.156};
  VariableMapping weight_a{.name = "weight", .unit = "lb", .to_unit = "kg"};
  VariableMapping sex_b{.name = "sex", .codes = {{"male", "M"}, {"female", "F"}}};
  VariableMapping glucose_b{.name = "glucose", .unit = "mmol/L", .to_unit = "mmol/L"};
  VariableMapping weight_b{.name = "weight", .from = "wt_kg"};

  HarmonisationReport report_a;
  HarmonisationReport report_b;
  const DataFrame a = MustHarmonise(site_a, {sex_a, glucose_a, weight_a}, &report_a);
  const DataFrame b = MustHarmonise(site_b, {weight_b, glucose_b, sex_b}, &report_b);
  CHECK(Names(a) == std::vector<std::string>{"age", "sex", "glucose", "weight"});
  CheckSameFrame(a, b);
  CHECK(a.columns()[1].levels() == std::vector<std::string>{"F", "M"});
  CHECK(a.columns()[1].codes() == std::vector<int32_t>{1, 0, 0, -1});
  CHECK(report_a.unmapped.empty());
  CHECK(report_b.unmapped.empty());
  // Glucose as the brief states it: 100 mg/dL = 5.5508 mmol/L.
  CHECK(Close(Convert(100, "mg/dL", "mmol/L", 180.156), 5.55074490996691756033659717134));
}

TEST_CASE("length and mass units", "[harmonise]") {
  CHECK(Close(Convert(1, "in", "cm"), 2.54));
  CHECK(Close(Convert(1, "ft", "in"), 12));
  CHECK(Close(Convert(1234, "mm", "m"), 1.234));
  CHECK(Close(Convert(5.5, "cm", "mm"), 55));
  CHECK(Close(Convert(6, "ft", "cm"), 182.88));
  CHECK(Close(Convert(1, "lb", "kg"), 0.45359237));
  CHECK(Close(Convert(0.45359237, "kg", "lb"), 1));
  CHECK(Close(Convert(1, "g", "mg"), 1000));
  CHECK(Close(Convert(2500, "mg", "kg"), 0.0025));
  CHECK(Close(Convert(1, "lb", "g"), 453.59237));
  CHECK(Close(Convert(70, "kg", "kg"), 70));
}

TEST_CASE("temperature uses the exact formulas and round-trips", "[harmonise]") {
  CHECK(Close(Convert(100, "C", "F"), 212));
  CHECK(Close(Convert(37, "C", "F"), 98.6));
  CHECK(Close(Convert(-40, "C", "F"), -40));
  CHECK(Convert(32, "F", "C") == 0);
  CHECK(Close(Convert(98.6, "F", "C"), 37));
  CHECK(Close(Convert(0, "K", "C"), -273.15));
  CHECK(Close(Convert(0, "C", "K"), 273.15));
  CHECK(Close(Convert(32, "F", "K"), 273.15));
  CHECK(Close(Convert(373.15, "K", "F"), 212));
  CHECK(Close(Convert(36.6, "\u00b0C", "\u00b0F"), 97.88));
  CHECK(Convert(98.7, "F", "\u00b0F") == 98.7);  // same unit: exactly unchanged
  for (double celsius : {-273.15, -40.0, -1.5, 0.5, 36.6, 41.2, 100.0}) {
    INFO("celsius " << celsius);
    CHECK(Close(Convert(Convert(celsius, "C", "F"), "F", "C"), celsius));
    CHECK(Close(Convert(Convert(celsius, "C", "K"), "K", "C"), celsius));
    CHECK(Close(Convert(Convert(celsius, "C", "F"), "F", "K"), celsius + 273.15));
  }
}

TEST_CASE("time units use the Julian year", "[harmonise]") {
  CHECK(Close(Convert(2, "weeks", "days"), 14));
  CHECK(Close(Convert(21, "d", "wk"), 3));
  CHECK(Close(Convert(1, "years", "days"), 365.25));
  CHECK(Close(Convert(1, "months", "days"), 30.4375));
  CHECK(Close(Convert(18, "mo", "y"), 1.5));
  CHECK(Close(Convert(2, "yr", "months"), 24));
  CHECK(Close(Convert(730.5, "days", "years"), 2));
  CHECK(Close(Convert(1, "y", "wk"), 365.25 / 7));
}

TEST_CASE("mass and molar concentrations", "[harmonise]") {
  CHECK(Close(Convert(1, "g/dL", "mg/dL"), 1000));
  CHECK(Close(Convert(100, "mg/dL", "g/L"), 1));
  CHECK(Close(Convert(3, "ug/mL", "mg/L"), 3));
  CHECK(Close(Convert(3, "\u00b5g/mL", "mg/L"), 3));
  CHECK(Close(Convert(250, "mg/L", "g/L"), 0.25));
  CHECK(Close(Convert(140, "mg/dl", "g/l"), 1.4));  // lowercase litre
  CHECK(Close(Convert(1, "mmol/L", "umol/L"), 1000));
  CHECK(Close(Convert(1000, "nmol/L", "\u00b5mol/L"), 1));
  CHECK(Close(Convert(1000, "nmol/L", "\u03bcmol/L"), 1));  // Greek mu
  CHECK(Close(Convert(2, "mol/L", "mmol/l"), 2000));
  // Glucose, M = 180.156 g/mol, both ways.
  CHECK(Close(Convert(5.55074490996691756033659717134, "mmol/l", "mg/dL", 180.156), 100));
  // Creatinine, M = 113.12 g/mol: 88.4 umol/L = 88.4 * 113.12 / 10000 mg/dL.
  CHECK(Close(Convert(88.4, "umol/L", "mg/dL", 113.12), 0.9999808));
  CHECK(Close(Convert(18.0156, "g/L", "mol/L", 180.156), 0.1));
}

TEST_CASE("scale and offset follow any unit conversion", "[harmonise]") {
  const DataFrame frame = MakeFrame({Column::Numeric("t", {100, kNaN, 0})});
  VariableMapping chained{.name = "t", .unit = "C", .to_unit = "F", .scale = 2, .offset = 1};
  CHECK(MustHarmonise(frame, {chained}).columns()[0].numbers()[0] == 425);  // 212 * 2 + 1
  VariableMapping linear{.name = "t2", .from = "t", .scale = 0.5, .offset = -3};
  const DataFrame result = MustHarmonise(frame, {linear});
  CHECK(Names(result) == std::vector<std::string>{"t2"});
  CHECK(result.columns()[0].numbers()[0] == 47);
  CHECK(std::isnan(result.columns()[0].numbers()[1]));
  CHECK(result.columns()[0].numbers()[2] == -3);
  // A result that overflows is missing, not infinite.
  VariableMapping huge{.name = "t", .scale = 1e307};
  CHECK(std::isnan(MustHarmonise(frame, {huge}).columns()[0].numbers()[0]));
}

TEST_CASE("unmapped codes become missing and are counted", "[harmonise]") {
  const DataFrame frame = MakeFrame({
      Column::Categorical("smoker", {"current", "ex", "never", "unknown"}, {0, 1, 2, 3, -1, 0, 3}),
      Column::Numeric("stage", {1, 2, 2.5, 3, kNaN, 1, 4}),
      Column::Categorical("site", {"b", "B", "a"}, {0, 1, 2, 0, 1, 2, -1}),
  });
  VariableMapping smoker{.name = "smoker",
                         .codes = {{"current", "yes"}, {"ex", "yes"}, {"never", "no"}}};
  // "2.0" matches the number 2: numeric values match codes by value.
  VariableMapping stage{.name = "stage", .codes = {{"1", "I"}, {"2.0", "II"}, {"2.5", "IIa"}}};
  VariableMapping site{.name = "site", .codes = {{"b", "b"}, {"B", "B"}, {"a", "a"}}};
  HarmonisationReport report;
  report.unmapped.push_back({"stale", 9});  // overwritten
  const DataFrame result = MustHarmonise(frame, {stage, site, smoker}, &report);

  const Column& s = result.columns()[0];
  CHECK(s.levels() == std::vector<std::string>{"no", "yes"});
  CHECK(s.codes() == std::vector<int32_t>{1, 1, 0, -1, -1, 1, -1});
  const Column& st = result.columns()[1];
  REQUIRE(st.type() == ColumnType::kCategorical);
  CHECK(st.levels() == std::vector<std::string>{"I", "II", "IIa"});
  CHECK(st.codes() == std::vector<int32_t>{0, 1, 2, -1, -1, 0, -1});
  // Byte order: upper case first.
  CHECK(result.columns()[2].levels() == std::vector<std::string>{"B", "a", "b"});
  CHECK(result.columns()[2].codes() == std::vector<int32_t>{2, 0, 1, 2, 0, 1, -1});

  // In mapping order; only variables with unmapped values; missing ones are
  // not counted.
  REQUIRE(report.unmapped.size() == 2);
  CHECK(report.unmapped[0].variable == "stage");
  CHECK(report.unmapped[0].values == 2);  // 3 and 4
  CHECK(report.unmapped[1].variable == "smoker");
  CHECK(report.unmapped[1].values == 2);  // "unknown" twice
}

TEST_CASE("all-numeric target levels give a numeric column", "[harmonise]") {
  const DataFrame frame = MakeFrame({
      Column::Categorical("diabetes", {"no", "unknown", "yes"}, {2, 0, 1, -1, 2}),
      Column::Numeric("flag", {-0.0, 1, 9, 1, 0}),
  });
  // "NA" as a target makes "unknown" explicitly missing: not unmapped.
  VariableMapping diabetes{.name = "diabetes",
                           .codes = {{"yes", "1"}, {"no", "0"}, {"unknown", "NA"}}};
  VariableMapping flag{.name = "flag", .codes = {{"0", "0.5"}, {"1", "2"}, {"9", ""}}};
  HarmonisationReport report;
  const DataFrame result = MustHarmonise(frame, {diabetes, flag}, &report);
  const Column& d = result.columns()[0];
  REQUIRE(d.type() == ColumnType::kNumeric);
  CheckSameFrame(result, MakeFrame({Column::Numeric("diabetes", {1, 0, kNaN, kNaN, 1}),
                                    Column::Numeric("flag", {0.5, 2, kNaN, 2, 0.5})}));
  CHECK(report.unmapped.empty());

  // Every target missing: a numeric column of missing values, as the CSV
  // reader types an empty column.
  VariableMapping none{.name = "diabetes", .codes = {{"yes", "NA"}}};
  const DataFrame all_missing = MustHarmonise(frame, {none}, &report);
  const Column& empty = all_missing.columns()[0];
  CHECK(empty.type() == ColumnType::kNumeric);
  CHECK(empty.missing_count() == 5);
  REQUIRE(report.unmapped.size() == 1);
  CHECK(report.unmapped[0].values == 2);  // "no" and "unknown"
}

TEST_CASE("pass-through, drop rules and column order", "[harmonise]") {
  const DataFrame frame = MakeFrame({
      Column::Numeric("id", {1, 2}),
      Column::Numeric("gluc", {90, 100}),
      Column::Categorical("glucose", {"high", "normal"}, {1, 0}),  // a local flag
      Column::Categorical("sex", {"F", "M"}, {0, 1}),
      Column::Numeric("bmi", {22, 31}),
      Column::Numeric("wt", {70, 80}),
  });
  VariableMapping glucose{.name = "glucose", .from = "gluc"};
  VariableMapping weight{.name = "weight", .from = "wt"};
  VariableMapping sex{.name = "sex"};  // declared as already harmonised
  const DataFrame result = MustHarmonise(frame, {weight, glucose, sex});
  CHECK(Names(result) == std::vector<std::string>{"id", "glucose", "sex", "bmi", "weight"});
  CheckSameFrame(result, MakeFrame({
                             Column::Numeric("id", {1, 2}),
                             Column::Numeric("glucose", {90, 100}),
                             Column::Categorical("sex", {"F", "M"}, {0, 1}),
                             Column::Numeric("bmi", {22, 31}),
                             Column::Numeric("weight", {70, 80}),
                         }));

  // Mappings apply at once to the original columns: two columns swap names.
  const DataFrame pair = MakeFrame({Column::Numeric("a", {1}), Column::Numeric("b", {2})});
  VariableMapping a_from_b{.name = "a", .from = "b"};
  VariableMapping b_from_a{.name = "b", .from = "a"};
  CheckSameFrame(MustHarmonise(pair, {a_from_b, b_from_a}),
                 MakeFrame({Column::Numeric("b", {1}), Column::Numeric("a", {2})}));
}

TEST_CASE("an empty mapping list returns the frame unchanged", "[harmonise]") {
  const DataFrame frame =
      MakeFrame({Column::Numeric("x", {1, kNaN}), Column::Categorical("y", {"a", "b"}, {1, -1})});
  HarmonisationReport report;
  report.unmapped.push_back({"stale", 1});
  const DataFrame result = MustHarmonise(frame, {}, &report);
  CHECK(result.id() == frame.id());
  CheckSameFrame(result, frame);
  CHECK(report.unmapped.empty());
}

// The message of CheckMappings' INVALID_ARGUMENT for `mappings`.
std::string CheckError(const std::vector<VariableMapping>& mappings) {
  const absl::Status status = CheckMappings(mappings);
  INFO(status.ToString());
  REQUIRE(status.code() == absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

TEST_CASE("CheckMappings accepts valid mappings", "[harmonise]") {
  CHECK(CheckMappings({}).ok());
  CHECK(
      CheckMappings(
          {{.name = "x"},
           {.name = "g", .from = "gl", .unit = "mg/dL", .to_unit = "mmol/L", .molar_mass = 180.156},
           {.name = "t", .unit = "F", .to_unit = "C", .scale = 2, .offset = -1},
           {.name = "s", .codes = {{"1", "M"}, {"2", "M"}, {"3", "NA"}}}})
          .ok());
}

TEST_CASE("CheckMappings refuses every invalid mapping", "[harmonise]") {
  using Catch::Matchers::Contains;
  CHECK_THAT(CheckError({{.name = "x"}, {.from = "y"}}), Contains("mapping 2 has an empty name"));
  CHECK_THAT(CheckError({{.name = "x"}, {.name = "x", .from = "y"}}),
             Contains("variable 'x' is mapped twice"));
  CHECK_THAT(CheckError({{.name = "x"}, {.name = "y", .from = "x"}}),
             Contains("variables 'x' and 'y' both come from local column 'x'"));
  CHECK_THAT(CheckError({{.name = "a", .from = "z"}, {.name = "b", .from = "z"}}),
             Contains("local column 'z'"));
  CHECK_THAT(CheckError({{.name = "w", .unit = "lb"}}), Contains("variable 'w': unit 'lb' needs"));
  CHECK_THAT(CheckError({{.name = "w", .to_unit = "kg"}}),
             Contains("variable 'w': to_unit 'kg' needs"));
  CHECK_THAT(CheckError({{.name = "w", .unit = "stone", .to_unit = "kg"}}),
             Contains("variable 'w': unknown unit 'stone'"));
  CHECK_THAT(CheckError({{.name = "w", .unit = "kg", .to_unit = "KG"}}),
             Contains("unknown unit 'KG'"));
  CHECK_THAT(CheckError({{.name = "g", .unit = "mg/dL", .to_unit = "kg"}}),
             Contains("variable 'g': cannot convert mg/dL (mass concentration) to kg (mass)"));
  CHECK_THAT(CheckError({{.name = "t", .unit = "C", .to_unit = "days"}}),
             Contains("cannot convert"));
  CHECK_THAT(CheckError({{.name = "g", .unit = "mg/dL", .to_unit = "mmol/L"}}),
             Contains("variable 'g': converting mg/dL to mmol/L needs the substance's molar_mass"));
  CHECK_THAT(CheckError({{.name = "g", .unit = "mmol/L", .to_unit = "g/L", .molar_mass = -180}}),
             Contains("molar_mass"));
  CHECK_THAT(CheckError({{.name = "g", .unit = "mmol/L", .to_unit = "g/L", .molar_mass = kNaN}}),
             Contains("molar_mass"));
  CHECK_THAT(CheckError({{.name = "g", .unit = "mg/dL", .to_unit = "g/L", .molar_mass = 180}}),
             Contains("variable 'g': molar_mass is used only between mass and molar"));
  CHECK_THAT(CheckError({{.name = "g", .molar_mass = 180}}), Contains("variable 'g': molar_mass"));
  CHECK_THAT(CheckError({{.name = "s", .scale = 0}}),
             Contains("variable 's': scale must be finite and non-zero"));
  CHECK_THAT(CheckError({{.name = "s", .scale = std::numeric_limits<double>::infinity()}}),
             Contains("scale must be finite"));
  CHECK_THAT(CheckError({{.name = "s", .scale = kNaN}}), Contains("scale must be finite"));
  CHECK_THAT(CheckError({{.name = "s", .offset = kNaN}}),
             Contains("variable 's': offset must be finite"));
  CHECK_THAT(CheckError({{.name = "c", .unit = "kg", .to_unit = "g", .codes = {{"1", "a"}}}}),
             Contains("variable 'c': codes cannot be combined"));
  CHECK_THAT(CheckError({{.name = "c", .scale = 2, .codes = {{"1", "a"}}}}),
             Contains("codes cannot be combined"));
  CHECK_THAT(CheckError({{.name = "c", .offset = 1, .codes = {{"1", "a"}}}}),
             Contains("codes cannot be combined"));
  CHECK_THAT(CheckError({{.name = "c", .codes = {{"x", "a"}, {"y", "b"}, {"x", "a"}}}}),
             Contains("variable 'c': codes 1 and 3 are for the same local value"));
  CHECK_THAT(CheckError({{.name = "c", .codes = {{"1", "a"}, {"1.0", "b"}}}}),
             Contains("codes 1 and 2 are for the same local value"));
}

TEST_CASE("Harmonise errors name the variable and dataset, never a value", "[harmonise]") {
  // Distinctive values that must not leak into any message.
  const DataFrame frame = MakeFrame({
      Column::Numeric("weight", {987654.321}),
      Column::Categorical("sex", {"Zebediah4471"}, {0}),
  });
  auto error = [&](const std::vector<VariableMapping>& mappings) {
    HarmonisationReport report;
    report.unmapped.push_back({"stale", 1});
    auto result = Harmonise(frame, mappings, "site_x.csv", &report);
    REQUIRE(!result.ok());
    CHECK(report.unmapped.empty());
    const std::string message(result.status().message());
    CHECK(message.find("987654") == std::string::npos);
    CHECK(message.find("Zebediah") == std::string::npos);
    return result.status();
  };
  using Catch::Matchers::Contains;

  absl::Status status = error({{.name = "glucose", .from = "gluc"}});
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(
      std::string(status.message()),
      Contains("dataset 'site_x.csv': variable 'glucose': its local column 'gluc' is absent"));

  status = error({{.name = "sex", .unit = "kg", .to_unit = "lb"}});
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(status.message()),
             Contains("dataset 'site_x.csv': variable 'sex': local column 'sex' is categorical"));
  CHECK_THAT(std::string(status.message()), Contains("from kg to lb"));

  status = error({{.name = "female", .from = "sex", .scale = -1, .offset = 1}});
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(status.message()),
             Contains("variable 'female': local column 'sex' is categorical, so a scale"));

  // Invalid mappings are refused as CheckMappings refuses them.
  status = error({{.name = "weight", .scale = 0}});
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);

  // Codes apply to both column types.
  VariableMapping numeric_codes{.name = "weight", .codes = {{"1", "a"}}};
  VariableMapping text_codes{.name = "sex", .codes = {{"F", "a"}}};
  HarmonisationReport report;
  CHECK(Harmonise(frame, {numeric_codes, text_codes}, "site_x.csv", &report).ok());
  REQUIRE(report.unmapped.size() == 2);
  CHECK(report.unmapped[0].values == 1);
  CHECK(report.unmapped[1].values == 1);
}

}  // namespace
}  // namespace spoor
