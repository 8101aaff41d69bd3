#include "algorithms/model_matrix.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "algorithms/csv_reader.h"

namespace spoor {
namespace {

using Strings = std::vector<std::string>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Formula Parse(std::string_view text) {
  absl::StatusOr<Formula> f = ParseFormula(text);
  REQUIRE(f.ok());
  return *std::move(f);
}

DataFrame Frame(std::vector<Column> columns) {
  absl::StatusOr<DataFrame> frame = DataFrame::Make(std::move(columns));
  REQUIRE(frame.ok());
  return *std::move(frame);
}

// A categorical column from strings ("" = missing), levels sorted by bytes
// as the CSV reader makes them.
Column Cat(std::string name, const Strings& values) {
  Strings levels;
  for (const std::string& v : values)
    if (!v.empty()) levels.push_back(v);
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  std::vector<int32_t> codes;
  for (const std::string& v : values) {
    codes.push_back(v.empty()
                        ? -1
                        : static_cast<int32_t>(std::lower_bound(levels.begin(), levels.end(), v) -
                                               levels.begin()));
  }
  return Column::Categorical(std::move(name), std::move(levels), std::move(codes));
}

ModelMatrix Build(std::string_view formula, const DataFrame& frame) {
  Formula f = Parse(formula);
  absl::StatusOr<FactorLevels> levels = LocalLevels(f, frame);
  REQUIRE(levels.ok());
  absl::StatusOr<ModelMatrix> m = BuildModelMatrix(f, frame, *levels);
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  return *std::move(m);
}

absl::Status BuildError(std::string_view formula, const DataFrame& frame,
                        const FactorLevels* levels = nullptr) {
  Formula f = Parse(formula);
  FactorLevels local;
  if (levels == nullptr) {
    absl::StatusOr<FactorLevels> l = LocalLevels(f, frame);
    REQUIRE(l.ok());
    local = *l;
    levels = &local;
  }
  absl::StatusOr<ModelMatrix> m = BuildModelMatrix(f, frame, *levels);
  REQUIRE_FALSE(m.ok());
  return m.status();
}

// ---- Against R -----------------------------------------------------------

// Fixtures from tests/reference/model_matrix.R; tests run from the repository
// root (ctest's WORKING_DIRECTORY).
constexpr char kReference[] = "tests/reference/";

struct Expected {
  Strings columns;                                    // R's order, then pseudo-columns
  std::vector<int> rows;                              // 1-based data rows kept
  std::map<std::string, std::vector<double>> values;  // column -> per kept row
};

TEST_CASE("model matrix: matches R's model.matrix on the reference data", "[model_matrix]") {
  absl::StatusOr<DataFrame> data = ReadCsvFile(std::string(kReference) + "model_matrix_data.csv");
  INFO("run the tests from the repository root: " << data.status().ToString());
  REQUIRE(data.ok());
  absl::StatusOr<DataFrame> expected_frame =
      ReadCsvFile(std::string(kReference) + "model_matrix_expected.csv");
  REQUIRE(expected_frame.ok());
  std::ifstream formulas_file(std::string(kReference) + "model_matrix_formulas.txt");
  REQUIRE(formulas_file);
  Strings formulas;
  for (std::string line; std::getline(formulas_file, line);) formulas.push_back(line);
  REQUIRE(formulas.size() >= 10);

  // Long format -> per formula, columns in order of appearance.
  const Column& index = *expected_frame->Find("formula_index");
  const Column& row = *expected_frame->Find("row");
  const Column& name = *expected_frame->Find("column_name");
  const Column& value = *expected_frame->Find("value");
  REQUIRE(name.type() == ColumnType::kCategorical);
  std::map<int, Expected> expected;
  for (size_t i = 0; i < expected_frame->num_rows(); ++i) {
    Expected& e = expected[static_cast<int>(index.numbers()[i])];
    const std::string& column = name.levels()[name.codes()[i]];
    if (e.values.count(column) == 0) e.columns.push_back(column);
    if (e.columns.size() == 1) e.rows.push_back(static_cast<int>(row.numbers()[i]));
    e.values[column].push_back(value.numbers()[i]);
  }
  REQUIRE(expected.size() == formulas.size());

  for (size_t k = 0; k < formulas.size(); ++k) {
    const std::string& text = formulas[k];
    const Expected& e = expected.at(static_cast<int>(k + 1));
    INFO("formula " << k + 1 << ": " << text);
    Formula f = Parse(text);
    absl::StatusOr<FactorLevels> levels = LocalLevels(f, *data);
    REQUIRE(levels.ok());
    absl::StatusOr<ModelMatrix> m = BuildModelMatrix(f, *data, *levels);
    INFO(m.status().ToString());
    REQUIRE(m.ok());

    Strings r_columns(e.columns.begin(), e.columns.end() - 2);
    REQUIRE(e.columns[e.columns.size() - 2] == "(response)");
    REQUIRE(e.columns.back() == "(offset)");
    CHECK(m->column_names == r_columns);
    CHECK(ModelColumnNames(f, *levels) == r_columns);

    // The rows na.omit keeps, worked out independently of the library.
    std::vector<int> complete;
    for (size_t r = 0; r < data->num_rows(); ++r) {
      bool ok = true;
      for (const std::string& v : f.Variables()) ok = ok && !data->Find(v)->is_missing(r);
      if (ok) complete.push_back(static_cast<int>(r + 1));
    }
    CHECK(complete == e.rows);
    CHECK(m->rows_dropped == static_cast<int64_t>(data->num_rows() - e.rows.size()));
    REQUIRE(m->x.rows() == static_cast<Eigen::Index>(e.rows.size()));
    REQUIRE(m->x.cols() == static_cast<Eigen::Index>(r_columns.size()));

    double worst = 0;
    for (size_t c = 0; c < r_columns.size(); ++c) {
      const std::vector<double>& want = e.values.at(r_columns[c]);
      for (size_t i = 0; i < want.size(); ++i) {
        worst = std::max(
            worst,
            std::abs(m->x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)) - want[i]));
      }
    }
    const std::vector<double>& y = e.values.at("(response)");
    const std::vector<double>& offset = e.values.at("(offset)");
    for (size_t i = 0; i < y.size(); ++i) {
      worst = std::max(worst, std::abs(m->y[static_cast<Eigen::Index>(i)] - y[i]));
      worst = std::max(worst, std::abs(m->offset[static_cast<Eigen::Index>(i)] - offset[i]));
    }
    CHECK(worst <= 1e-12);
  }
}

// ---- Levels --------------------------------------------------------------

TEST_CASE("model matrix: local levels among complete cases", "[model_matrix]") {
  DataFrame frame =
      Frame({Column::Numeric("y", {1, 2, 3, kNaN, 5}), Cat("sex", {"M", "F", "M", "X", "M"}),
             Column::Numeric("dose", {2.5, 10, 0.1, 7, 2})});
  absl::StatusOr<FactorLevels> levels = LocalLevels(Parse("y ~ sex + factor(dose)"), frame);
  REQUIRE(levels.ok());
  // "X" is only in the incomplete row; dose levels sort numerically.
  CHECK(*levels == FactorLevels{{"sex", {"F", "M"}}, {"dose", {"0.1", "2", "2.5", "10"}}});
  // A numeric variable not wrapped in factor() has no levels.
  CHECK(LocalLevels(Parse("y ~ dose"), frame)->empty());
}

TEST_CASE("model matrix: factor(<numeric>) levels formatted as R's as.character",
          "[model_matrix]") {
  DataFrame frame = Frame({Column::Numeric("y", {1, 2, 3, 4, 5, 6, 7, 8}),
                           Column::Numeric("x", {1, 2.5, 0.1, 1e5, 123456, 1e-4, 1.0 / 3, -1.5})});
  absl::StatusOr<FactorLevels> levels = LocalLevels(Parse("y ~ factor(x)"), frame);
  REQUIRE(levels.ok());
  CHECK(levels->at("x") ==
        Strings{"-1.5", "1e-04", "0.1", "0.333333333333333", "1", "2.5", "1e+05", "123456"});
}

TEST_CASE("model matrix: union of levels", "[model_matrix]") {
  FactorLevels a{{"sex", {"F"}}, {"stage", {"10", "2"}}, {"site", {"b", "a"}}};
  FactorLevels b{{"sex", {"M", "F"}}, {"stage", {"1", "2"}}, {"site", {"10", "c"}}};
  CHECK(UnionLevels({a, b}) == FactorLevels{{"sex", {"F", "M"}},
                                            {"stage", {"1", "2", "10"}},
                                            {"site", {"10", "a", "b", "c"}}});
  CHECK(UnionLevels({}).empty());
}

TEST_CASE("model matrix: levels absent at this node give zero columns", "[model_matrix]") {
  DataFrame frame = Frame({Column::Numeric("y", {1, 2, 3}), Cat("sex", {"F", "F", "F"}),
                           Column::Numeric("age", {30, 40, 50})});
  Formula f = Parse("y ~ age*sex");
  FactorLevels levels = UnionLevels({*LocalLevels(f, frame), {{"sex", {"M"}}}});
  absl::StatusOr<ModelMatrix> m = BuildModelMatrix(f, frame, levels);
  REQUIRE(m.ok());
  CHECK(m->column_names == Strings{"(Intercept)", "age", "sexM", "age:sexM"});
  CHECK(m->x.col(2).isZero());
  CHECK(m->x.col(3).isZero());
  CHECK(m->x.col(1) == Eigen::Vector3d(30, 40, 50));
}

// ---- Column names without data --------------------------------------------

TEST_CASE("model matrix: column names for the coordinator", "[model_matrix]") {
  FactorLevels levels{{"sex", {"F", "M"}}, {"stage", {"1", "2", "3"}}, {"g", {"A", "B"}}};
  CHECK(ModelColumnNames(Parse("y ~ age + sex + factor(stage)"), levels) ==
        Strings{"(Intercept)", "age", "sexM", "factor(stage)2", "factor(stage)3"});
  // No intercept: the first factor gets every level.
  CHECK(ModelColumnNames(Parse("y ~ age*sex - 1"), levels) ==
        Strings{"age", "sexF", "sexM", "age:sexM"});
  // factor:factor with both main effects: contrasts for both, first fastest.
  CHECK(ModelColumnNames(Parse("y ~ sex*factor(stage)"), levels) ==
        Strings{"(Intercept)", "sexM", "factor(stage)2", "factor(stage)3", "sexM:factor(stage)2",
                "sexM:factor(stage)3"});
  // Without the main effect the factor is coded by indicators (R's TermCode).
  CHECK(ModelColumnNames(Parse("y ~ age:sex"), levels) ==
        Strings{"(Intercept)", "age:sexF", "age:sexM"});
  // R's rule looks for the reduced term inside any earlier term:
  // in sex:g + sex:h, h is coded by contrasts because sex is in sex:g.
  FactorLevels three{{"sex", {"F", "M"}}, {"g", {"A", "B"}}, {"h", {"u", "v"}}};
  CHECK(ModelColumnNames(Parse("y ~ sex:g + sex:h"), three) ==
        Strings{"(Intercept)", "sexF:gA", "sexM:gA", "sexF:gB", "sexM:gB", "sexF:hv", "sexM:hv"});
  // Offsets and strata are not columns.
  CHECK(ModelColumnNames(Parse("Surv(t, d) ~ sex + offset(log(w)) + strata(g)"), levels) ==
        Strings{"(Intercept)", "sexM"});
  CHECK(ModelColumnNames(Parse("y ~ 0"), levels).empty());
}

// ---- Responses, offsets, strata ---------------------------------------------

TEST_CASE("model matrix: survival response and event codings", "[model_matrix]") {
  auto events = [](Column event) {
    DataFrame frame = Frame({Column::Numeric("time", {5, 6, 7, 8}), std::move(event),
                             Column::Numeric("age", {1, 2, 3, 4})});
    ModelMatrix m = Build("Surv(time, status) ~ age", frame);
    CHECK(m.time == Eigen::Vector4d(5, 6, 7, 8));
    CHECK(m.y.size() == 0);
    return Eigen::VectorXd(m.event);
  };
  CHECK(events(Column::Numeric("status", {0, 1, 1, 0})) == Eigen::Vector4d(0, 1, 1, 0));
  CHECK(events(Column::Numeric("status", {1, 2, 2, 1})) == Eigen::Vector4d(0, 1, 1, 0));
  // R's Surv(): 1/2 coding only when the largest code is 2, so all 1 = events.
  CHECK(events(Column::Numeric("status", {1, 1, 1, 1})) == Eigen::Vector4d(1, 1, 1, 1));
  CHECK(events(Cat("status", {"FALSE", "TRUE", "TRUE", "FALSE"})) == Eigen::Vector4d(0, 1, 1, 0));
}

TEST_CASE("model matrix: offsets are summed; log offsets", "[model_matrix]") {
  DataFrame frame = Frame({Column::Numeric("y", {1, 2, 3}), Column::Numeric("t", {1, 2, 4}),
                           Column::Numeric("b", {0.5, kNaN, 1})});
  ModelMatrix m = Build("y ~ offset(log(t)) + offset(b)", frame);
  CHECK(m.rows_dropped == 1);
  CHECK(m.column_names == Strings{"(Intercept)"});
  REQUIRE(m.offset.size() == 2);
  CHECK(m.offset[0] == Approx(0.5));
  CHECK(m.offset[1] == Approx(std::log(4.0) + 1));
  CHECK(Build("y ~ t", frame).offset.isZero());
}

TEST_CASE("model matrix: strata indices and sorted levels", "[model_matrix]") {
  DataFrame frame =
      Frame({Column::Numeric("time", {1, 2, 3, 4, 5}), Column::Numeric("d", {1, 0, 1, 1, 0}),
             Cat("center", {"b", "a", "", "b", "c"}), Column::Numeric("grade", {10, 2, 2, 2, 10})});
  ModelMatrix m = Build("Surv(time, d) ~ strata(center)", frame);
  CHECK(m.rows_dropped == 1);
  CHECK(m.strata_levels == Strings{"a", "b", "c"});
  CHECK(m.strata == std::vector<int32_t>{1, 0, 1, 2});

  ModelMatrix numeric = Build("Surv(time, d) ~ strata(grade)", frame);
  CHECK(numeric.strata_levels == Strings{"2", "10"});
  CHECK(numeric.strata == std::vector<int32_t>{1, 0, 0, 0, 1});

  ModelMatrix both = Build("Surv(time, d) ~ strata(center, grade)", frame);
  CHECK(both.strata_levels == Strings{"a, 2", "b, 2", "b, 10", "c, 10"});
  CHECK(both.strata == std::vector<int32_t>{2, 0, 1, 3});
}

// ---- Errors -------------------------------------------------------------------

TEST_CASE("model matrix: errors", "[model_matrix]") {
  DataFrame frame = Frame(
      {Column::Numeric("y", {1, 2, 3, 4}), Cat("group", {"Zebra_secret", "b", "b", "a"}),
       Column::Numeric("status", {0, 1, 7, 1}), Column::Numeric("t", {1, 0, -2.5, 3}),
       Cat("flag", {"TRUE", "maybe_secret", "FALSE", "TRUE"}), Cat("one", {"a", "a", "a", "a"})});
  auto no_secrets = [](const absl::Status& s) {
    const std::string message(s.message());
    CHECK(message.find("secret") == std::string::npos);
    CHECK(message.find("2.5") == std::string::npos);
    CHECK(message.find('7') == std::string::npos);
  };

  SECTION("missing variable") {
    Formula f = Parse("y ~ nope");
    absl::StatusOr<FactorLevels> levels = LocalLevels(f, frame);
    REQUIRE_FALSE(levels.ok());
    CHECK(levels.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(levels.status().message()).find("'nope'") != std::string::npos);
    FactorLevels none;
    absl::Status s = BuildError("y ~ nope", frame, &none);
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  }
  SECTION("level not among the model's levels names the variable, not the level") {
    FactorLevels levels{{"group", {"a", "b"}}};
    absl::Status s = BuildError("y ~ group", frame, &levels);
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(s.message()).find("'group'") != std::string::npos);
    no_secrets(s);
  }
  SECTION("factor without levels") {
    FactorLevels levels;
    CHECK(BuildError("y ~ group", frame, &levels).code() == absl::StatusCode::kFailedPrecondition);
  }
  SECTION("non-numeric response") {
    absl::Status s = BuildError("group ~ y", frame);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() == "response 'group' is categorical; it must be numeric");
  }
  SECTION("bad event coding") {
    absl::Status s = BuildError("Surv(y, status) ~ 1", frame);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() == "event 'status' must be coded 0/1, 1/2 or FALSE/TRUE; 1 row is not");
    no_secrets(s);
    absl::Status c = BuildError("Surv(y, flag) ~ 1", frame);
    CHECK(c.code() == absl::StatusCode::kInvalidArgument);
    no_secrets(c);
    CHECK(BuildError("Surv(group, status) ~ 1", frame).code() ==
          absl::StatusCode::kInvalidArgument);
  }
  SECTION("non-positive values under a log offset") {
    absl::Status s = BuildError("y ~ offset(log(t))", frame);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() == "offset(log(t)) needs positive values; 2 rows are not");
    no_secrets(s);
    CHECK(BuildError("y ~ offset(group)", frame).code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("a factor with one level") {
    absl::Status s = BuildError("y ~ one", frame);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() == "factor 'one' has 1 level; a factor needs at least two");
  }
  SECTION("a categorical variable both plain and in factor()") {
    CHECK(BuildError("y ~ group + factor(group)", frame).code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace spoor
