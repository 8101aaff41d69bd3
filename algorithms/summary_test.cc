#include "algorithms/summary.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

namespace spoor {
namespace {

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

}  // namespace
}  // namespace spoor
