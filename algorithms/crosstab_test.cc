#include "algorithms/crosstab.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "algorithms/csv_reader.h"
#include "algorithms/disclosure_gate.h"
#include "algorithms/test_rounds.h"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

using Strings = std::vector<std::string>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr char kApproximationWarning[] = "Chi-squared approximation may be incorrect";

v1::Parameters Params(const std::string& rows, const std::string& cols) {
  v1::Parameters p;
  SetText(p, "rows", rows);
  SetText(p, "cols", cols);
  return p;
}

// A categorical column from strings; "" is missing. Levels sorted by bytes,
// as the CSV reader sorts them.
Column Cat(const std::string& name, const Strings& values) {
  std::set<std::string> distinct;
  for (const std::string& v : values)
    if (!v.empty()) distinct.insert(v);
  Strings levels(distinct.begin(), distinct.end());
  std::vector<int32_t> codes;
  for (const std::string& v : values) {
    codes.push_back(v.empty()
                        ? -1
                        : static_cast<int32_t>(std::lower_bound(levels.begin(), levels.end(), v) -
                                               levels.begin()));
  }
  return Column::Categorical(name, std::move(levels), std::move(codes));
}

DataFrame Frame(std::vector<Column> columns) {
  absl::StatusOr<DataFrame> frame = DataFrame::Make(std::move(columns));
  REQUIRE(frame.ok());
  return *std::move(frame);
}

// What a coordinator does: Begin, then per round every node's Local and the
// central step. Stops at the first error.
struct Run {
  absl::Status status;
  std::vector<v1::Aggregate> levels_round;  // per node
  std::vector<v1::Aggregate> table_round;   // per node
  v1::CrosstabResult result;
};

Run RunCrosstab(const std::vector<const DataFrame*>& frames, const v1::Parameters& params,
                const DisclosureRules* rules = nullptr) {
  CrosstabAlgorithm crosstab;
  Run run;
  auto fail = [&run](absl::Status status) {
    run.status = std::move(status);
    return run;
  };
  if (absl::Status valid = crosstab.ValidateParameters(params); !valid.ok()) return fail(valid);
  absl::StatusOr<v1::Parameters> state = crosstab.Begin(params);
  if (!state.ok()) return fail(state.status());
  for (int round = 1; round <= 2; ++round) {
    std::vector<NodeAggregate> aggregates;
    for (size_t k = 0; k < frames.size(); ++k) {
      absl::StatusOr<v1::Aggregate> local =
          crosstab.Local({params, *state, round, *frames[k], rules});
      if (!local.ok()) return fail(local.status());
      (round == 1 ? run.levels_round : run.table_round).push_back(*local);
      aggregates.push_back({"node" + std::to_string(k + 1), *local});
    }
    absl::StatusOr<CentralStep> step = crosstab.Central({params, *state, round, aggregates});
    if (!step.ok()) return fail(step.status());
    if (step->done) {
      REQUIRE(round == 2);
      REQUIRE(step->result.has_crosstab());
      run.result = step->result.crosstab();
      return run;
    }
    *state = step->next_round_state;
  }
  FAIL("crosstab did not finish in two rounds");
  return run;
}

Strings ToStrings(const google::protobuf::RepeatedPtrField<std::string>& values) {
  return Strings(values.begin(), values.end());
}

std::vector<int64_t> ToInts(const google::protobuf::RepeatedField<int64_t>& values) {
  return std::vector<int64_t>(values.begin(), values.end());
}

double RelativeError(double actual, double expected) {
  return std::fabs(actual - expected) / std::fabs(expected);
}

// ---- Against R -----------------------------------------------------------

// Fixtures from tests/reference/crosstab.R, read by testing::ReferenceSites
// and ReferenceJson.

TEST_CASE("crosstab: matches R's table and chisq.test on the pooled reference data", "[crosstab]") {
  const std::vector<DataFrame> sites = testing::ReferenceSites("crosstab");
  std::vector<const DataFrame*> frames;
  for (const DataFrame& site : sites) frames.push_back(&site);
  const nlohmann::json cases = testing::ReferenceJson("crosstab_expected.json");
  REQUIRE(cases.size() == 3);

  bool saw_warning = false;
  for (const nlohmann::json& expected : cases) {
    const std::string rows = expected.at("rows").get<std::string>();
    const std::string cols = expected.at("cols").get<std::string>();
    INFO(rows << " x " << cols);
    Run run = RunCrosstab(frames, Params(rows, cols));
    INFO(run.status.ToString());
    REQUIRE(run.status.ok());
    const v1::CrosstabResult& r = run.result;
    CHECK(r.row_variable() == rows);
    CHECK(r.col_variable() == cols);
    CHECK(ToStrings(r.row_labels()) == expected.at("row_labels").get<Strings>());
    CHECK(ToStrings(r.col_labels()) == expected.at("col_labels").get<Strings>());
    CHECK(ToInts(r.counts()) == expected.at("counts").get<std::vector<int64_t>>());
    CHECK(ToInts(r.row_totals()) == expected.at("row_totals").get<std::vector<int64_t>>());
    CHECK(ToInts(r.col_totals()) == expected.at("col_totals").get<std::vector<int64_t>>());
    CHECK(r.total() == expected.at("total").get<int64_t>());
    CHECK(r.df() == expected.at("df").get<int64_t>());
    CHECK(RelativeError(r.chi_square(), expected.at("chi_square").get<double>()) <= 1e-12);
    CHECK(RelativeError(r.p_value(), expected.at("p_value").get<double>()) <= 1e-12);
    CHECK(ToStrings(r.warnings()) == expected.at("warnings").get<Strings>());
    saw_warning = saw_warning || r.warnings_size() > 0;
  }
  CHECK(saw_warning);  // the fixture covers R's small-expected-count warning
}

TEST_CASE("crosstab: what each node releases", "[crosstab]") {
  // Site 2 of the fixture never has dose 10: it reports the levels it has,
  // and in round 2 a zero row for the level others have.
  const std::vector<DataFrame> sites = testing::ReferenceSites("crosstab");
  const DataFrame* site1 = &sites[0];
  const DataFrame* site2 = &sites[1];
  Run run = RunCrosstab({site1, site2}, Params("dose", "stage"));
  REQUIRE(run.status.ok());

  auto complete = [](const DataFrame& frame) {
    int64_t n = 0;
    for (size_t r = 0; r < frame.num_rows(); ++r)
      n += !frame.Find("dose")->is_missing(r) && !frame.Find("stage")->is_missing(r);
    return n;
  };
  const v1::Aggregate& levels = run.levels_round[1];
  REQUIRE(levels.blocks_size() == 2);
  CHECK(levels.blocks(0).name() == "dose");
  CHECK(ToStrings(levels.blocks(0).levels().values()) == Strings{"0.5", "1", "2.5"});
  CHECK(levels.blocks(0).record_count() == complete(*site2));
  CHECK(levels.blocks(1).name() == "stage");
  CHECK(ToStrings(levels.blocks(1).levels().values()) == Strings{"1", "2", "3", "4"});
  CHECK(levels.blocks(1).record_count() == complete(*site2));

  const v1::Aggregate& table = run.table_round[1];
  REQUIRE(table.blocks_size() == 1);
  const v1::Block& block = table.blocks(0);
  CHECK(block.name() == "dose x stage");
  CHECK(block.record_count() == complete(*site2));
  REQUIRE(block.has_count_table());
  CHECK(ToStrings(block.count_table().row_labels()) == Strings{"0.5", "1", "2.5", "10"});
  REQUIRE(block.count_table().counts_size() == 16);
  for (int c = 0; c < 4; ++c) CHECK(block.count_table().counts(3 * 4 + c) == 0);
  CHECK(run.result.total() == complete(*site1) + complete(*site2));
}

// ---- Hand-computed tables -------------------------------------------------

// Two nodes, rows "a", cols "b"; the counts of the pooled 2 x 2 table are
// [[n11, n12], [n21, n22]], split between the nodes.
Run TwoByTwo(int n11, int n12, int n21, int n22) {
  std::vector<DataFrame> frames;
  Strings a, b;
  auto add = [&](int n, const char* x, const char* y) {
    for (int i = 0; i < n; ++i) a.push_back(x), b.push_back(y);
  };
  add(n11, "no", "low");
  add(n12, "no", "high");
  add(n21, "yes", "low");
  add(n22, "yes", "high");
  // Split alternately, with one incomplete record per node.
  Strings a1{"yes"}, b1{""}, a2{""}, b2{"low"};
  for (size_t i = 0; i < a.size(); ++i) {
    (i % 2 ? a1 : a2).push_back(a[i]);
    (i % 2 ? b1 : b2).push_back(b[i]);
  }
  DataFrame f1 = Frame({Cat("a", a1), Cat("b", b1)});
  DataFrame f2 = Frame({Cat("a", a2), Cat("b", b2)});
  return RunCrosstab({&f1, &f2}, Params("a", "b"));
}

TEST_CASE("crosstab: Pearson's statistic on a hand-computed table", "[crosstab]") {
  Run run = TwoByTwo(10, 20, 30, 40);
  REQUIRE(run.status.ok());
  const v1::CrosstabResult& r = run.result;
  // Byte order: "high" < "low".
  CHECK(ToStrings(r.row_labels()) == Strings{"no", "yes"});
  CHECK(ToStrings(r.col_labels()) == Strings{"high", "low"});
  CHECK(ToInts(r.counts()) == std::vector<int64_t>{20, 10, 40, 30});
  CHECK(ToInts(r.row_totals()) == std::vector<int64_t>{30, 70});
  CHECK(ToInts(r.col_totals()) == std::vector<int64_t>{60, 40});
  CHECK(r.total() == 100);
  // E = [[18, 12], [42, 28]]; every |count - E| is 2.
  const double x2 = 4.0 / 18 + 4.0 / 12 + 4.0 / 42 + 4.0 / 28;
  CHECK(RelativeError(r.chi_square(), x2) <= 1e-15);
  CHECK(r.df() == 1);
  // Chi-square on 1 df is a squared standard normal.
  CHECK(RelativeError(r.p_value(), std::erfc(std::sqrt(x2 / 2))) <= 1e-13);
  CHECK(r.warnings().empty());  // no continuity correction, no warning
}

TEST_CASE("crosstab: warns as R does when an expected count is below 5", "[crosstab]") {
  // E = [[4.5, 4.5], [4.5, 4.5]] < 5.
  Run small = TwoByTwo(6, 3, 3, 6);
  REQUIRE(small.status.ok());
  CHECK(ToStrings(small.result.warnings()) == Strings{kApproximationWarning});
  CHECK(RelativeError(small.result.chi_square(), 2.0) <= 1e-15);
  // E = 5 exactly is not below 5.
  Run five = TwoByTwo(7, 3, 3, 7);
  REQUIRE(five.status.ok());
  CHECK(five.result.warnings().empty());
}

TEST_CASE("crosstab: numeric variables are factors labelled and sorted as R does", "[crosstab]") {
  // as.character() in R 4.2 of each value; 0.3 and 0.1 + 0.2 share a label,
  // and so do 0 and -0, so each pair is one level.
  const std::vector<double> x = {
      1,   2.5,    0.1, 1e5,       123456, 1e-4, 1.0 / 3, -1.5, 1234567890123456.0,
      2e5, 120000, 0.3, 0.1 + 0.2, 0.0,    -0.0, kNaN};
  Strings g(x.size(), "u");
  g[1] = "";  // incomplete: 2.5 is not a level
  DataFrame frame = Frame({Column::Numeric("x", x), Cat("g", g)});
  CrosstabAlgorithm crosstab;
  v1::Parameters params = Params("x", "g");
  absl::StatusOr<v1::Parameters> state = crosstab.Begin(params);
  REQUIRE(state.ok());
  absl::StatusOr<v1::Aggregate> levels = crosstab.Local({params, *state, 1, frame});
  REQUIRE(levels.ok());
  CHECK(ToStrings(levels->blocks(0).levels().values()) ==
        Strings{"-1.5", "0", "1e-04", "0.1", "0.3", "0.333333333333333", "1", "1e+05", "120000",
                "123456", "2e+05", "1234567890123456"});
  CHECK(levels->blocks(0).record_count() == static_cast<int64_t>(x.size()) - 2);
}

TEST_CASE("crosstab: a variable numeric at one node and text at another", "[crosstab]") {
  // R would read the pooled column as text and sort by bytes: "1" "2" "IV".
  DataFrame f1 = Frame({Column::Numeric("stage", {1, 2, 2}), Cat("sex", {"F", "M", "F"})});
  DataFrame f2 = Frame({Cat("stage", {"IV", "1"}), Cat("sex", {"M", "M"})});
  Run run = RunCrosstab({&f1, &f2}, Params("stage", "sex"));
  REQUIRE(run.status.ok());
  CHECK(ToStrings(run.result.row_labels()) == Strings{"1", "2", "IV"});
  CHECK(ToInts(run.result.counts()) == std::vector<int64_t>{1, 1, 1, 1, 0, 1});
}

// ---- Degenerate tables, mirroring or departing from R ----------------------

TEST_CASE("crosstab: a zero margin gives NaN as R does", "[crosstab]") {
  // Only possible when the data change between the rounds: the state lists a
  // level no node has in round 2.
  CrosstabAlgorithm crosstab;
  v1::Parameters params = Params("a", "b");
  v1::Parameters state;
  SetText(state, "phase", "table");
  SetTextList(state, "row_levels", {"x", "y"});
  SetTextList(state, "col_levels", {"p", "q", "r"});
  DataFrame frame = Frame({Cat("a", {"x", "x", "y"}), Cat("b", {"p", "q", "p"})});
  absl::StatusOr<v1::Aggregate> table = crosstab.Local({params, state, 2, frame});
  REQUIRE(table.ok());
  absl::StatusOr<CentralStep> step = crosstab.Central({params, state, 2, {{"n1", *table}}});
  REQUIRE(step.ok());
  const v1::CrosstabResult& r = step->result.crosstab();
  CHECK(ToInts(r.col_totals()) == std::vector<int64_t>{2, 1, 0});
  CHECK(std::isnan(r.chi_square()));
  CHECK(std::isnan(r.p_value()));
  CHECK(r.df() == 2);
  CHECK(ToStrings(r.warnings()) == Strings{kApproximationWarning});
}

TEST_CASE("crosstab: a single row gets the table but no test", "[crosstab]") {
  DataFrame frame = Frame({Cat("a", {"x", "x", "x", "x"}), Cat("b", {"p", "q", "p", ""})});
  Run run = RunCrosstab({&frame}, Params("a", "b"));
  REQUIRE(run.status.ok());
  CHECK(ToInts(run.result.counts()) == std::vector<int64_t>{2, 1});
  CHECK(std::isnan(run.result.chi_square()));
  CHECK(std::isnan(run.result.p_value()));
  CHECK(run.result.df() == 0);
  REQUIRE(run.result.warnings_size() == 1);
  CHECK_THAT(run.result.warnings(0), Catch::Contains("at least two levels"));
}

// ---- Errors ---------------------------------------------------------------

TEST_CASE("crosstab: a variable missing at one node", "[crosstab]") {
  DataFrame f1 = Frame({Cat("sex", {"F", "M"}), Cat("outcome", {"a", "b"})});
  DataFrame f2 = Frame({Cat("sex", {"F", "M"})});
  Run run = RunCrosstab({&f1, &f2}, Params("sex", "outcome"));
  CHECK(run.status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(run.status.message() == "dataset has no variable 'outcome'");
}

// Level texts that must never appear in an error.
Strings Identifiers(int n, const std::string& prefix) {
  Strings ids;
  for (int i = 0; i < n; ++i) ids.push_back(prefix + std::to_string(1000 + i));
  return ids;
}

TEST_CASE("crosstab: more than 40 levels are refused, naming the variable only", "[crosstab]") {
  SECTION("at a node") {
    Strings ids = Identifiers(41, "P");
    DataFrame frame = Frame({Cat("patient", ids), Cat("sex", Strings(ids.size(), "F"))});
    Run run = RunCrosstab({&frame}, Params("sex", "patient"));
    CHECK(run.status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(run.status.message()), Catch::Contains("'patient' has 41 levels"));
    CHECK_THAT(std::string(run.status.message()), !Catch::Contains("P10"));
    CHECK(run.levels_round.empty());  // nothing left the node
  }
  SECTION("over all nodes") {
    Strings a = Identifiers(30, "A"), b = Identifiers(30, "B");
    DataFrame f1 = Frame({Cat("patient", a), Cat("sex", Strings(a.size(), "F"))});
    DataFrame f2 = Frame({Cat("patient", b), Cat("sex", Strings(b.size(), "M"))});
    Run run = RunCrosstab({&f1, &f2}, Params("patient", "sex"));
    CHECK(run.status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(run.status.message()),
               Catch::Contains("'patient' has 60 levels over all nodes"));
    CHECK_THAT(std::string(run.status.message()), !Catch::Contains("A10"));
  }
  SECTION("exactly 40 are fine") {
    Strings ids = Identifiers(40, "P");
    DataFrame frame = Frame({Cat("patient", ids), Cat("sex", Strings(ids.size(), "F"))});
    CHECK(RunCrosstab({&frame}, Params("sex", "patient")).status.ok());
  }
}

TEST_CASE("crosstab: parameters", "[crosstab]") {
  CrosstabAlgorithm crosstab;
  CHECK(crosstab.ValidateParameters(Params("sex", "outcome")).ok());
  v1::Parameters list;
  SetTextList(list, "rows", {"sex"});
  SetTextList(list, "cols", {"outcome"});
  CHECK(crosstab.ValidateParameters(list).ok());

  v1::Parameters missing;
  SetText(missing, "rows", "sex");
  absl::Status status = crosstab.ValidateParameters(missing);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("'cols'"));

  v1::Parameters two;
  SetTextList(two, "rows", {"sex", "stage"});
  SetText(two, "cols", "outcome");
  CHECK(crosstab.ValidateParameters(two).code() == absl::StatusCode::kInvalidArgument);
  CHECK(crosstab.ValidateParameters(Params("sex", "sex")).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(crosstab.ValidateParameters(Params("", "sex")).code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("crosstab: malformed aggregates name the node", "[crosstab]") {
  CrosstabAlgorithm crosstab;
  v1::Parameters params = Params("a", "b");
  v1::Parameters state;
  SetText(state, "phase", "table");
  SetTextList(state, "row_levels", {"x", "y"});
  SetTextList(state, "col_levels", {"p", "q"});
  DataFrame frame = Frame({Cat("a", {"x", "y"}), Cat("b", {"p", "q"})});
  absl::StatusOr<v1::Aggregate> good = crosstab.Local({params, state, 2, frame});
  REQUIRE(good.ok());

  v1::Aggregate relabelled = *good;
  relabelled.mutable_blocks(0)->mutable_count_table()->set_row_labels(1, "z");
  v1::Aggregate miscounted = *good;
  miscounted.mutable_blocks(0)->set_record_count(5);
  v1::Aggregate negative = *good;
  negative.mutable_blocks(0)->mutable_count_table()->set_counts(0, -1);
  for (const v1::Aggregate& bad : {relabelled, miscounted, negative, v1::Aggregate()}) {
    absl::StatusOr<CentralStep> step =
        crosstab.Central({params, state, 2, {{"n1", *good}, {"n2", bad}}});
    CHECK(step.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(step.status().message()), Catch::Contains("node n2"));
  }

  // A record whose level is not in the state (data changed between rounds).
  DataFrame changed = Frame({Cat("a", {"x", "w"}), Cat("b", {"p", "q"})});
  absl::StatusOr<v1::Aggregate> local = crosstab.Local({params, state, 2, changed});
  CHECK(local.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(local.status().message()), Catch::Contains("'a'"));
}

TEST_CASE("crosstab: a node suppresses small cells and one more; the result withholds them",
          "[crosstab]") {
  // Node 1: sex x smoker with one small cell (M, yes) = 2; node 2 and 3
  // have every cell >= 5.
  auto site = [](int f_no, int f_yes, int m_no, int m_yes) {
    Strings sex, smoker;
    auto add = [&](const char* s, const char* k, int n) {
      for (int i = 0; i < n; ++i) {
        sex.push_back(s);
        smoker.push_back(k);
      }
    };
    add("F", "no", f_no);
    add("F", "yes", f_yes);
    add("M", "no", m_no);
    add("M", "yes", m_yes);
    return Frame({Cat("sex", sex), Cat("smoker", smoker)});
  };
  const DataFrame a = site(20, 9, 14, 2), b = site(11, 7, 9, 6), c = site(8, 5, 12, 10);
  DisclosureRules rules;  // min_cell_count 5
  Run run = RunCrosstab({&a, &b, &c}, Params("sex", "smoker"), &rules);
  REQUIRE(run.status.ok());

  // Node 1 withholds (M, yes) = 2 and the smallest cell >= 5, (F, yes) = 9;
  // it counts only the released records, and the gate lets it pass.
  const v1::Aggregate& released = run.table_round[0];
  REQUIRE(released.blocks_size() == 2);
  CHECK(ToInts(released.blocks(0).count_table().counts()) == std::vector<int64_t>{20, 0, 14, 0});
  CHECK(released.blocks(0).record_count() == 34);
  CHECK(std::vector<double>(released.blocks(1).vector().values().begin(),
                            released.blocks(1).vector().values().end()) ==
        std::vector<double>{1, 3});
  CHECK_FALSE(DisclosureGate(rules).Check(released).has_value());
  // The others release everything, as before.
  CHECK(run.table_round[1].blocks_size() == 1);
  // Without suppression node 1's table is refused.
  v1::Aggregate whole = released;
  whole.mutable_blocks()->RemoveLast();
  whole.mutable_blocks(0)->mutable_count_table()->set_counts(3, 2);
  REQUIRE(DisclosureGate(rules).Check(whole).has_value());

  const v1::CrosstabResult& result = run.result;
  CHECK(std::vector<bool>(result.suppressed().begin(), result.suppressed().end()) ==
        std::vector<bool>{false, true, false, true});
  CHECK(result.counts(0) == 39);
  CHECK(result.counts(2) == 35);
  CHECK(std::vector<bool>(result.row_total_suppressed().begin(),
                          result.row_total_suppressed().end()) == std::vector<bool>{true, true});
  CHECK(std::vector<bool>(result.col_total_suppressed().begin(),
                          result.col_total_suppressed().end()) == std::vector<bool>{false, true});
  CHECK(result.col_totals(0) == 74);
  CHECK(result.total_suppressed());
  CHECK(result.df() == 0);
  CHECK(std::isnan(result.chi_square()));
  REQUIRE(result.warnings_size() == 1);
  CHECK_THAT(result.warnings(0), Catch::Contains("suppressed"));

  // A table with a small cell and no cell to withhold beside it is left
  // whole to the gate, which refuses it.
  const DataFrame few = site(12, 0, 0, 3);
  Run left = RunCrosstab({&few, &b, &c}, Params("sex", "smoker"), &rules);
  REQUIRE(left.status.ok());
  REQUIRE(left.table_round[0].blocks_size() == 2);  // 3 and the 12 withheld
  const DataFrame only_small = site(0, 0, 0, 3);
  Run refused = RunCrosstab({&only_small, &b, &c}, Params("sex", "smoker"), &rules);
  REQUIRE(refused.status.ok());
  CHECK(refused.table_round[0].blocks_size() == 1);
  std::optional<GateRefusal> refusal = DisclosureGate(rules).Check(refused.table_round[0]);
  REQUIRE(refusal.has_value());
}

TEST_CASE("crosstab: registered as a built-in algorithm", "[crosstab]") {
  CHECK(MakeBuiltinRegistry()->Find("crosstab") != nullptr);
}

}  // namespace
}  // namespace spoor
