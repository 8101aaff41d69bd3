#include "algorithms/summary.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "algorithms/csv_reader.h"
#include "algorithms/disclosure_gate.h"
#include "algorithms/test_rounds.h"
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

using testing::RelativeDifference;

DataFrame Frame(std::vector<double> x, std::vector<std::string> levels = {},
                std::vector<int32_t> codes = {}) {
  std::vector<Column> columns;
  size_t n = x.size();
  columns.push_back(Column::Numeric("x", std::move(x)));
  if (codes.empty()) codes.assign(n, 0), levels = {"a"};
  columns.push_back(Column::Categorical("g", std::move(levels), std::move(codes)));
  return *DataFrame::Make(std::move(columns));
}

v1::Parameters Vars(std::vector<std::string> vars) {
  v1::Parameters p;
  SetTextList(p, "vars", vars);
  return p;
}

// Pooled reference by the textbook two-pass formulas, in long double.
std::pair<double, double> PooledMeanSd(const std::vector<std::vector<double>>& parts) {
  long double sum = 0;
  long double n = 0;
  for (const auto& p : parts)
    for (double v : p)
      if (!std::isnan(v)) sum += v, n += 1;
  long double mean = sum / n, ss = 0;
  for (const auto& p : parts)
    for (double v : p)
      if (!std::isnan(v)) ss += (v - mean) * (v - mean);
  return {static_cast<double>(mean), static_cast<double>(std::sqrt(ss / (n - 1)))};
}

TEST_CASE("summary over three nodes equals the pooled mean and sd", "[summary]") {
  std::mt19937_64 rng(7);
  // Large offset, small spread: the case where naive sum-of-squares fails.
  std::normal_distribution<double> dist(1e6, 3.0);
  std::vector<std::vector<double>> parts = {{}, {}, {}};
  std::vector<size_t> sizes = {1000, 37, 5000};
  for (size_t k = 0; k < 3; ++k) {
    for (size_t i = 0; i < sizes[k]; ++i) {
      parts[k].push_back(i % 17 == 0 ? std::nan("") : dist(rng));
    }
  }
  SummaryAlgorithm summary;
  v1::Parameters params = Vars({"x"});
  REQUIRE(summary.ValidateParameters(params).ok());
  std::vector<NodeAggregate> aggregates;
  for (size_t k = 0; k < 3; ++k) {
    DataFrame frame = Frame(parts[k]);
    v1::Parameters state;
    absl::StatusOr<v1::Aggregate> local = summary.Local({params, state, 1, frame});
    REQUIRE(local.ok());
    aggregates.push_back({"node" + std::to_string(k), *local});
  }
  v1::Parameters state;
  absl::StatusOr<CentralStep> step = summary.Central({params, state, 1, aggregates});
  REQUIRE(step.ok());
  REQUIRE(step->done);
  const v1::VariableSummary& v = step->result.summary().variables(0);
  auto [mean, sd] = PooledMeanSd(parts);
  int64_t missing = 0;
  for (size_t k = 0; k < 3; ++k) missing += static_cast<int64_t>((sizes[k] + 16) / 17);
  CHECK(v.missing() == missing);
  CHECK(v.n() == 6037 - missing);
  CHECK(v.mean() == Approx(mean).epsilon(1e-15));
  CHECK(v.sd() == Approx(sd).epsilon(1e-12));
  CHECK(v.sites() == 3);
}

TEST_CASE("summary names the problem variable, never a value", "[summary]") {
  SummaryAlgorithm summary;
  DataFrame frame = Frame({1, 2, 3}, {"a", "b"}, {0, 1, 0});
  v1::Parameters state;
  v1::Parameters missing = Vars({"nope"});
  absl::StatusOr<v1::Aggregate> r = summary.Local({missing, state, 1, frame});
  REQUIRE(absl::IsFailedPrecondition(r.status()));
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("'nope'"));
  v1::Parameters categorical = Vars({"g"});
  r = summary.Local({categorical, state, 1, frame});
  REQUIRE(absl::IsInvalidArgument(r.status()));
  CHECK_THAT(std::string(r.status().message()), Catch::Contains("categorical"));
  CHECK(absl::IsInvalidArgument(summary.ValidateParameters(Vars({}))));
  CHECK(absl::IsInvalidArgument(summary.ValidateParameters(Vars({"x", "x"}))));
  CHECK(absl::IsInvalidArgument(summary.ValidateParameters(v1::Parameters())));
}

TEST_CASE("summary of a single record has no sd", "[summary]") {
  SummaryAlgorithm summary;
  DataFrame frame = Frame({4.0});
  v1::Parameters params = Vars({"x"}), state;
  std::vector<NodeAggregate> aggregates = {{"a", *summary.Local({params, state, 1, frame})}};
  absl::StatusOr<CentralStep> step = summary.Central({params, state, 1, aggregates});
  REQUIRE(step.ok());
  CHECK(step->result.summary().variables(0).mean() == 4.0);
  CHECK(std::isnan(step->result.summary().variables(0).sd()));
}

TEST_CASE("summary rejects a malformed aggregate from a node", "[summary]") {
  SummaryAlgorithm summary;
  v1::Parameters params = Vars({"x"}), state;
  v1::Aggregate bad;
  bad.add_blocks()->set_name("x");
  std::vector<NodeAggregate> aggregates = {{"evil", bad}};
  absl::StatusOr<CentralStep> step = summary.Central({params, state, 1, aggregates});
  REQUIRE(absl::IsInvalidArgument(step.status()));
  CHECK_THAT(std::string(step.status().message()), Catch::Contains("evil"));
}

// --- Extremes and quantiles. ---

// Fixtures from tests/reference/summary.R (R on the pooled data of three
// sites); read by testing::ReferenceSites and ReferenceJson.

std::vector<DataFrame> ReferenceSites() { return testing::ReferenceSites("summary"); }

nlohmann::json ReferenceExpected() { return testing::ReferenceJson("summary_expected.json"); }

v1::Parameters Options(std::vector<std::string> vars, bool extremes, bool quantiles) {
  v1::Parameters p = Vars(std::move(vars));
  if (extremes) (*p.mutable_values())["extremes"].set_flag(true);
  if (quantiles) (*p.mutable_values())["quantiles"].set_flag(true);
  return p;
}

// The job's rounds as the coordinator runs them, every aggregate through a
// gate with `rules`; `site_data(round)` gives the sites' data in that round.
absl::StatusOr<v1::Result> RunFederated(const v1::Parameters& params,
                                        const std::function<std::vector<DataFrame>(int)>& site_data,
                                        DisclosureRules rules, int* rounds = nullptr) {
  return testing::RunRounds(SummaryAlgorithm(), params, site_data, rules, 100, rounds);
}

absl::StatusOr<v1::Result> RunFederated(const v1::Parameters& params,
                                        const std::vector<DataFrame>& sites, DisclosureRules rules,
                                        int* rounds = nullptr) {
  return testing::RunRounds(SummaryAlgorithm(), params, sites, rules, 100, rounds);
}

TEST_CASE("summary with extremes and quantiles equals R on the pooled data", "[summary]") {
  const std::vector<DataFrame> sites = ReferenceSites();
  const nlohmann::json expected = ReferenceExpected();
  std::vector<std::string> vars;
  for (const nlohmann::json& v : expected) vars.push_back(v["name"]);
  int rounds = 0;
  absl::StatusOr<v1::Result> result =
      RunFederated(Options(vars, true, true), sites, {.allow_extremes = true}, &rounds);
  REQUIRE(result.ok());
  // Every interval starts at 2^64 doubles wide and shrinks 16-fold a round.
  CHECK(rounds <= 20);
  CHECK(rounds == 16);
  const v1::SummaryResult& summary = result->summary();
  REQUIRE(summary.variables_size() == static_cast<int>(expected.size()));
  for (int k = 0; k < summary.variables_size(); ++k) {
    const v1::VariableSummary& got = summary.variables(k);
    const nlohmann::json& want = expected[static_cast<size_t>(k)];
    INFO(got.name());
    CHECK(got.name() == want["name"].get<std::string>());
    CHECK(got.n() == want["n"].get<int64_t>());
    CHECK(got.missing() == want["missing"].get<int64_t>());
    CHECK(got.sites() == 3);
    CHECK(RelativeDifference(got.mean(), want["mean"]) <= 1e-13);
    CHECK(RelativeDifference(got.sd(), want["sd"]) <= 1e-13);
    // Exactly R's doubles.
    CHECK(got.min() == want["min"].get<double>());
    CHECK(got.max() == want["max"].get<double>());
    CHECK(got.q1() == want["q1"].get<double>());
    CHECK(got.median() == want["median"].get<double>());
    CHECK(got.q3() == want["q3"].get<double>());
  }
}

TEST_CASE("summary without the new flags takes one round and leaves them NaN", "[summary]") {
  const std::vector<DataFrame> sites = ReferenceSites();
  SummaryAlgorithm summary;
  v1::Parameters params = Vars({"dose", "score"}), state;
  absl::StatusOr<v1::Aggregate> local = summary.Local({params, state, 1, sites[0]});
  REQUIRE(local.ok());
  REQUIRE(local->blocks_size() == 2);
  for (const v1::Block& block : local->blocks()) CHECK(block.kind() == v1::BLOCK_KIND_UNSPECIFIED);
  int rounds = 0;
  absl::StatusOr<v1::Result> result = RunFederated(params, sites, DisclosureRules{}, &rounds);
  REQUIRE(result.ok());
  CHECK(rounds == 1);
  const v1::VariableSummary& dose = result->summary().variables(0);
  CHECK(dose.n() == 566);
  for (double v : {dose.min(), dose.max(), dose.q1(), dose.median(), dose.q3()}) {
    CHECK(std::isnan(v));
  }

  // Extremes alone need no second round either.
  result = RunFederated(Options({"dose"}, true, false), sites, {.allow_extremes = true}, &rounds);
  REQUIRE(result.ok());
  CHECK(rounds == 1);
  CHECK(result->summary().variables(0).min() == 0.353);
  CHECK(std::isnan(result->summary().variables(0).median()));
}

TEST_CASE("the gate refuses extremes by default and quantiles where told to", "[summary]") {
  const std::vector<DataFrame> sites = ReferenceSites();
  absl::StatusOr<v1::Result> result =
      RunFederated(Options({"bmi"}, true, false), sites, DisclosureRules{});
  REQUIRE(absl::IsPermissionDenied(result.status()));
  CHECK(result.status().message() == "extremes");
  // Quantiles pass a default gate ...
  CHECK(RunFederated(Options({"bmi"}, false, true), sites, DisclosureRules{}).ok());
  // ... but not one whose operator turned them off.
  result = RunFederated(Options({"bmi"}, false, true), sites, {.allow_quantiles = false});
  REQUIRE(absl::IsPermissionDenied(result.status()));
  CHECK(result.status().message() == "quantiles");
  // And each block still needs min_records behind it.
  result = RunFederated(Options({"bmi"}, false, true), sites, {.min_records = 200});
  REQUIRE(absl::IsPermissionDenied(result.status()));
  CHECK(result.status().message() == "min_records");
}

// R's quantile(x, p, type = 7), as stats:::quantile.default computes it.
double RType7(std::vector<double> x, double p) {
  x.erase(std::remove_if(x.begin(), x.end(), [](double v) { return std::isnan(v); }), x.end());
  if (x.empty()) return std::nan("");
  std::sort(x.begin(), x.end());
  double index = 1 + static_cast<double>(x.size() - 1) * p;
  double lo = std::floor(index), hi = std::ceil(index);
  double qs = x[static_cast<size_t>(lo) - 1], x_hi = x[static_cast<size_t>(hi) - 1];
  if (index > lo && x_hi != qs) {
    double h = index - lo;
    qs = (1 - h) * qs + h * x_hi;
  }
  return qs;
}

TEST_CASE("quantiles are exact at the edges of the doubles", "[summary]") {
  const double kTiny = std::numeric_limits<double>::denorm_min();
  const std::vector<std::vector<std::vector<double>>> cases = {
      {{-0.0, 0.0, 0.0}, {-0.0}, {0.0, -0.0}},
      {{-DBL_MAX, DBL_MAX}, {DBL_MAX}, {-DBL_MAX, -DBL_MAX}},
      {{kTiny, -kTiny}, {0.0, DBL_MIN}, {-DBL_MIN, 2 * kTiny}},
      {{42.0}, {}, {}},
      {{1.0, 2.0}, {std::nan("")}, {}},
      {{3.5, 3.5, 3.5}, {3.5}, {3.5, std::nan("")}},
      {{std::nan("")}, {}, {}},  // no values at all
  };
  for (const auto& parts : cases) {
    std::vector<DataFrame> sites;
    std::vector<double> pooled;
    for (const std::vector<double>& part : parts) {
      sites.push_back(Frame(part));
      pooled.insert(pooled.end(), part.begin(), part.end());
    }
    INFO("case with " << pooled.size() << " values");
    int rounds = 0;
    absl::StatusOr<v1::Result> result =
        RunFederated(Options({"x"}, false, true), sites, {.min_records = 0}, &rounds);
    REQUIRE(result.ok());
    CHECK(rounds <= 20);
    const v1::VariableSummary& v = result->summary().variables(0);
    const double want[] = {RType7(pooled, 0.25), RType7(pooled, 0.5), RType7(pooled, 0.75)};
    const double got[] = {v.q1(), v.median(), v.q3()};
    for (int i = 0; i < 3; ++i) {
      if (std::isnan(want[i])) {
        CHECK(std::isnan(got[i]));
      } else {
        CHECK(got[i] == want[i]);
      }
    }
  }
}

TEST_CASE("random data: quantiles equal R's type 7 bit for bit", "[summary]") {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int> size(1, 60), small(-5, 5);
  std::lognormal_distribution<double> spread(0.0, 3.0);
  for (int trial = 0; trial < 25; ++trial) {
    std::vector<DataFrame> sites;
    std::vector<double> pooled;
    for (int s = 0; s < 3; ++s) {
      std::vector<double> part;
      int n = size(rng);
      for (int i = 0; i < n; ++i) {
        // Ties on even trials, wildly different scales on odd ones.
        double v = trial % 2 == 0 ? small(rng) : small(rng) * spread(rng);
        part.push_back(i % 13 == 5 ? std::nan("") : v);
      }
      pooled.insert(pooled.end(), part.begin(), part.end());
      sites.push_back(Frame(std::move(part)));
    }
    INFO("trial " << trial);
    absl::StatusOr<v1::Result> result =
        RunFederated(Options({"x"}, true, true), sites, {.min_records = 0, .allow_extremes = true});
    REQUIRE(result.ok());
    const v1::VariableSummary& v = result->summary().variables(0);
    CHECK(v.q1() == RType7(pooled, 0.25));
    CHECK(v.median() == RType7(pooled, 0.5));
    CHECK(v.q3() == RType7(pooled, 0.75));
    CHECK(v.min() == RType7(pooled, 0));
    CHECK(v.max() == RType7(pooled, 1));
  }
}

TEST_CASE("data that change between rounds fail the job instead of a wrong quantile", "[summary]") {
  std::vector<DataFrame> before = ReferenceSites();
  std::vector<double> changed = before[1].Find("change")->numbers();
  // Same n, one value moved from the bottom to the top.
  *std::min_element(changed.begin(), changed.end()) = 1000;
  std::vector<DataFrame> after = ReferenceSites();
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("change", changed));
  after[1] = *DataFrame::Make(std::move(columns));
  absl::StatusOr<v1::Result> result = RunFederated(
      Options({"change"}, false, true), [&](int round) { return round < 5 ? before : after; },
      DisclosureRules{});
  REQUIRE(absl::IsFailedPrecondition(result.status()));
  CHECK_THAT(std::string(result.status().message()), Catch::Contains("'change'"));

  // A node whose n changed is caught too.
  changed.push_back(1.0);
  columns.clear();
  columns.push_back(Column::Numeric("change", changed));
  after[1] = *DataFrame::Make(std::move(columns));
  result = RunFederated(
      Options({"change"}, false, true), [&](int round) { return round < 3 ? before : after; },
      DisclosureRules{});
  REQUIRE(absl::IsFailedPrecondition(result.status()));
}

TEST_CASE("summary rejects malformed counts and a bad round state", "[summary]") {
  SummaryAlgorithm summary;
  const v1::Parameters params = Options({"x"}, false, true);
  absl::StatusOr<v1::Parameters> state = summary.Begin(params);
  REQUIRE(state.ok());
  DataFrame frame = Frame({1, 2, 3, 4, 5});
  absl::StatusOr<v1::Aggregate> local = summary.Local({params, *state, 1, frame});
  REQUIRE(local.ok());
  REQUIRE(local->blocks_size() == 2);
  CHECK(local->blocks(1).name() == "x/below");
  CHECK(local->blocks(1).kind() == v1::BLOCK_KIND_QUANTILE_COUNTS);
  CHECK(local->blocks(1).record_count() == 5);

  // Counts that decrease, or exceed the node's n, are not counts.
  v1::Aggregate bad = *local;
  v1::DenseVector* counts = bad.mutable_blocks(1)->mutable_vector();
  counts->set_values(counts->values_size() - 1, 0);
  counts->set_values(0, 5);
  std::vector<NodeAggregate> aggregates = {{"good", *local}, {"evil", bad}};
  absl::StatusOr<CentralStep> step = summary.Central({params, *state, 1, aggregates});
  REQUIRE(absl::IsInvalidArgument(step.status()));
  CHECK_THAT(std::string(step.status().message()), Catch::Contains("evil"));

  // A node checks the thresholds it is asked to count at.
  v1::Parameters unsorted = *state;
  SetNumbers(unsorted, "x/thresholds", {2.0, 1.0});
  CHECK(absl::IsInvalidArgument(summary.Local({params, unsorted, 1, frame}).status()));
  v1::Parameters not_finite = *state;
  SetNumbers(not_finite, "x/thresholds", {1.0, std::nan("")});
  CHECK(absl::IsInvalidArgument(summary.Local({params, not_finite, 1, frame}).status()));
  v1::Parameters too_many = *state;
  std::vector<double> many(1000);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i);
  SetNumbers(too_many, "x/thresholds", many);
  CHECK(absl::IsInvalidArgument(summary.Local({params, too_many, 1, frame}).status()));
  CHECK(absl::IsInvalidArgument(summary.Local({params, v1::Parameters(), 1, frame}).status()));

  // Flags must be flags.
  v1::Parameters wrong = Vars({"x"});
  (*wrong.mutable_values())["quantiles"].set_text("yes");
  CHECK(absl::IsInvalidArgument(summary.ValidateParameters(wrong)));
}

}  // namespace
}  // namespace spoor
