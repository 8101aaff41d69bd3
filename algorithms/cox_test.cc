#include "algorithms/cox.h"

#include <cmath>

#include "algorithms/csv_reader.h"
#include "algorithms/disclosure_gate.h"
#include "algorithms/test_rounds.h"
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

// Fixtures from tests/reference/cox.R (survival::coxph on the pooled data of
// three sites; site 2 has no events); read by testing::ReferenceSites and ReferenceJson.

std::vector<DataFrame> Sites() { return testing::ReferenceSites("cox"); }

v1::Parameters Params(const std::string& formula, bool pooled, const std::string& ties,
                      int max_iterations = 20) {
  v1::Parameters p;
  SetText(p, "formula", formula);
  SetText(p, "ties", ties);
  (*p.mutable_values())["pooled"].set_flag(pooled);
  SetNumber(p, "max_iterations", max_iterations);
  return p;
}

// The job's rounds as the coordinator runs them, each aggregate through a
// gate with the default rules, except that pooled mode is allowed when
// `allow_event_time_sums`.
absl::StatusOr<v1::Result> RunFederated(const v1::Parameters& params,
                                        const std::vector<DataFrame>& sites,
                                        bool allow_event_time_sums = true, int* rounds = nullptr) {
  DisclosureRules rules;
  rules.allow_event_time_sums = allow_event_time_sums;
  return testing::RunRounds(CoxAlgorithm(), params, sites, rules, 100, rounds);
}

TEST_CASE("cox: every reference model equals R's coxph on the pooled data", "[cox]") {
  const nlohmann::json models = testing::ReferenceJson("cox_expected.json");
  const std::vector<DataFrame> sites = Sites();
  for (const nlohmann::json& model : models) {
    const bool pooled = !model["by_site"].get<bool>();
    INFO(model["formula"].get<std::string>()
         << (pooled ? " pooled" : " by site") << ", " << model["ties"].get<std::string>());
    absl::StatusOr<v1::Result> result =
        RunFederated(Params(model["formula"], pooled, model["ties"]), sites);
    REQUIRE(result.ok());
    const v1::CoxResult& cox = result->cox();
    REQUIRE(cox.coefficients_size() == static_cast<int>(model["coefficients"].size()));
    for (int i = 0; i < cox.coefficients_size(); ++i) {
      const v1::CoxTerm& got = cox.coefficients(i);
      const nlohmann::json& want = model["coefficients"][static_cast<size_t>(i)];
      INFO(want["term"].get<std::string>());
      CHECK(got.term() == want["term"].get<std::string>());
      CHECK(testing::RelativeDifference(got.estimate(), want["estimate"]) <= 1e-6);
      CHECK(testing::RelativeDifference(got.std_error(), want["std_error"]) <= 1e-6);
      CHECK(testing::RelativeDifference(got.hazard_ratio(), want["hazard_ratio"]) <= 1e-6);
      CHECK(testing::RelativeDifference(got.statistic(), want["statistic"]) <= 1e-6);
      CHECK(testing::RelativeDifference(got.p_value(), want["p_value"]) <= 1e-5);
      CHECK(testing::RelativeDifference(got.hr_low(), want["hr_low"]) <= 1e-6);
      CHECK(testing::RelativeDifference(got.hr_high(), want["hr_high"]) <= 1e-6);
    }
    CHECK(testing::RelativeDifference(cox.loglik_initial(), model["loglik"][0]) <= 1e-10);
    CHECK(testing::RelativeDifference(cox.loglik_final(), model["loglik"][1]) <= 1e-10);
    CHECK(testing::RelativeDifference(cox.lr_test(), model["lr_test"]) <= 1e-6);
    CHECK(testing::RelativeDifference(cox.wald_test(), model["wald_test"]) <= 1e-6);
    CHECK(testing::RelativeDifference(cox.score_test(), model["score_test"]) <= 1e-6);
    CHECK(cox.df() == model["df"].get<int>());
    CHECK(cox.n() == model["n"].get<int64_t>());
    CHECK(cox.events() == model["events"].get<int64_t>());
    CHECK(cox.iterations() == model["iterations"].get<int>());
    CHECK(cox.converged());
    CHECK(cox.pooled() == pooled);
  }
}

TEST_CASE("cox: pooled mode needs the node's permission for event-time sums", "[cox]") {
  absl::StatusOr<v1::Result> refused = RunFederated(
      Params("Surv(time, status) ~ age + sex", true, "efron"), Sites(), /*allow=*/false);
  REQUIRE(absl::IsPermissionDenied(refused.status()));
  CHECK(refused.status().message() == "event_time_sums");
  // Stratified by site, nothing per event time leaves a node.
  CHECK(
      RunFederated(Params("Surv(time, status) ~ age + sex", false, "efron"), Sites(), false).ok());
}

TEST_CASE("cox: a fit R reports with K iterations takes K + 2 rounds", "[cox]") {
  int rounds = 0;
  absl::StatusOr<v1::Result> result = RunFederated(
      Params("Surv(time, status) ~ age + sex", false, "efron"), Sites(), true, &rounds);
  REQUIRE(result.ok());
  CHECK(rounds == result->cox().iterations() + 2);
}

TEST_CASE("cox: hitting the iteration limit is reported as R does", "[cox]") {
  absl::StatusOr<v1::Result> result =
      RunFederated(Params("Surv(time, status) ~ age + sex", false, "efron", 1), Sites());
  REQUIRE(result.ok());
  CHECK_FALSE(result->cox().converged());
  CHECK(result->cox().iterations() == 1);
  REQUIRE(result->cox().warnings_size() == 1);
  CHECK(result->cox().warnings(0) == "Ran out of iterations and did not converge");
}

TEST_CASE("cox: parameters and data errors are clear and name no value", "[cox]") {
  CoxAlgorithm cox;
  CHECK(absl::IsInvalidArgument(cox.ValidateParameters(Params("time ~ age", false, "efron"))));
  CHECK(absl::IsInvalidArgument(
      cox.ValidateParameters(Params("Surv(time, status) ~ age", false, "exact"))));
  absl::StatusOr<v1::Result> missing =
      RunFederated(Params("Surv(time, status) ~ age + smoker", false, "efron"), Sites());
  REQUIRE(absl::IsFailedPrecondition(missing.status()));
  CHECK(std::string(missing.status().message()).find("smoker") != std::string::npos);
  absl::StatusOr<v1::Result> coding =
      RunFederated(Params("Surv(time, age) ~ sex", false, "efron"), Sites());
  REQUIRE(absl::IsInvalidArgument(coding.status()));
  CHECK(std::string(coding.status().message()).find("age") != std::string::npos);
}

// `frame` with its status column recoded from 0/1 to 1/2 (censored 1, event 2).
DataFrame RecodedOneTwo(const DataFrame& frame) {
  std::vector<Column> columns;
  for (const Column& c : frame.columns()) {
    if (c.name() != "status") {
      columns.push_back(c);
      continue;
    }
    std::vector<double> values = c.numbers();
    for (double& v : values) v += 1;
    columns.push_back(Column::Numeric("status", std::move(values)));
  }
  absl::StatusOr<DataFrame> out = DataFrame::Make(std::move(columns));
  REQUIRE(out.ok());
  return *std::move(out);
}

TEST_CASE("cox: events are read with the coding of the pooled column, as Surv() reads it",
          "[cox]") {
  // Coded 1/2 everywhere, site 2 (no events) holds only 1s: on its own that
  // reads as 0/1, all events; pooled, R reads 1/2 and site 2 is all censored.
  std::vector<DataFrame> sites = Sites();
  std::vector<DataFrame> recoded;
  for (const DataFrame& site : sites) recoded.push_back(RecodedOneTwo(site));
  const v1::Parameters params = Params("Surv(time, status) ~ age + sex", false, "efron");
  absl::StatusOr<v1::Result> zero_one = RunFederated(params, sites);
  absl::StatusOr<v1::Result> one_two = RunFederated(params, recoded);
  REQUIRE(zero_one.ok());
  REQUIRE(one_two.ok());
  CHECK(one_two->cox().events() == zero_one->cox().events());
  CHECK(testing::RelativeDifference(one_two->cox().coefficients(0).estimate(),
                                    zero_one->cox().coefficients(0).estimate()) < 1e-12);
  // A 0 at one node and a 2 at another cannot be one coding.
  std::vector<DataFrame> mixed = {sites[0], recoded[1], recoded[2]};
  absl::StatusOr<v1::Result> conflict = RunFederated(params, mixed);
  REQUIRE(absl::IsInvalidArgument(conflict.status()));
  CHECK_THAT(std::string(conflict.status().message()), Catch::Contains("status"));
}

TEST_CASE("cox: a site without any event contributes to pooled risk sets only", "[cox]") {
  // Site 2 of the fixture has only censored records: by site it adds nothing
  // but its count; pooled, it changes the estimates.
  std::vector<DataFrame> sites = Sites();
  absl::StatusOr<v1::Result> by_site =
      RunFederated(Params("Surv(time, status) ~ age + sex", false, "efron"), sites);
  std::vector<DataFrame> without = {sites[0], sites[2]};
  absl::StatusOr<v1::Result> by_site_without =
      RunFederated(Params("Surv(time, status) ~ age + sex", false, "efron"), without);
  REQUIRE(by_site.ok());
  REQUIRE(by_site_without.ok());
  CHECK(testing::RelativeDifference(by_site->cox().coefficients(0).estimate(),
                                    by_site_without->cox().coefficients(0).estimate()) < 1e-12);
  CHECK(by_site->cox().n() == by_site_without->cox().n() + 120);
}

}  // namespace
}  // namespace spoor
