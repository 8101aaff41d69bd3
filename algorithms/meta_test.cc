#include "algorithms/meta.h"

#include <cmath>
#include <limits>

#include "algorithms/csv_reader.h"
#include "algorithms/disclosure_gate.h"
#include "algorithms/test_rounds.h"
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

using testing::RelativeDifference;

// Fixtures: the three sites of tests/reference/glm.R and, from
// tests/reference/meta.R, R's glm() per site pooled by the fixed-effect and
// DerSimonian-Laird formulas in base R. Read by testing::ReferenceSites and
// ReferenceJson.
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<DataFrame> Sites() { return testing::ReferenceSites("glm"); }

nlohmann::json Expected() { return testing::ReferenceJson("meta_expected.json"); }

v1::Parameters Params(const std::string& formula, const std::string& family,
                      const std::string& weights = "") {
  v1::Parameters p;
  SetText(p, "formula", formula);
  SetText(p, "family", family);
  if (!weights.empty()) SetText(p, "weights", weights);
  return p;
}

// Runs the job's rounds as the coordinator would, every released aggregate
// through a default disclosure gate; node i is "site<i+1>". Returns the
// final result or the first error.
absl::StatusOr<v1::Result> RunMeta(const v1::Parameters& params,
                                   const std::vector<DataFrame>& sites, int* rounds = nullptr) {
  return testing::RunRounds(MetaAlgorithm(), params, sites, DisclosureRules{}, 10, rounds);
}

// Values R computes as exactly 0 (tau2, I2 when Q < df) must be 0 here too;
// otherwise relative agreement.
void CheckClose(double got, const nlohmann::json& want, double tolerance) {
  const double w = want.get<double>();
  if (w == 0) {
    CHECK(std::abs(got) <= 1e-12);
  } else {
    CHECK(RelativeDifference(got, w) <= tolerance);
  }
}

TEST_CASE("meta: every reference model equals R's per-site glm pooled by FE and DL", "[meta]") {
  const std::vector<DataFrame> sites = Sites();
  for (const nlohmann::json& model : Expected()) {
    const std::string formula = model["formula"];
    INFO(formula);
    int rounds = 0;
    absl::StatusOr<v1::Result> result =
        RunMeta(Params(formula, model["family"],
                       model["weights"].is_null() ? "" : model["weights"].get<std::string>()),
                sites, &rounds);
    REQUIRE(result.ok());
    CHECK(rounds == 2);
    const v1::MetaResult& meta = result->meta();
    CHECK(meta.family() == model["family"].get<std::string>());
    REQUIRE(meta.terms_size() == static_cast<int>(model["terms"].size()));
    for (int t = 0; t < meta.terms_size(); ++t) {
      const v1::MetaTerm& got = meta.terms(t);
      const nlohmann::json& want = model["terms"][static_cast<size_t>(t)];
      INFO("term " << want["term"].get<std::string>());
      CHECK(got.term() == want["term"].get<std::string>());
      REQUIRE(got.sites_size() == static_cast<int>(want["sites"].size()));
      for (int s = 0; s < got.sites_size(); ++s) {
        const nlohmann::json& site = want["sites"][static_cast<size_t>(s)];
        CHECK(got.sites(s).site() == site["site"].get<std::string>());
        CHECK(got.sites(s).n() == site["n"].get<int64_t>());
        CheckClose(got.sites(s).estimate(), site["estimate"], 1e-8);
        CheckClose(got.sites(s).std_error(), site["std_error"], 1e-8);
      }
      CheckClose(got.fixed_estimate(), want["fixed_estimate"], 1e-8);
      CheckClose(got.fixed_std_error(), want["fixed_std_error"], 1e-8);
      CheckClose(got.fixed_p_value(), want["fixed_p_value"], 1e-6);
      CheckClose(got.random_estimate(), want["random_estimate"], 1e-8);
      CheckClose(got.random_std_error(), want["random_std_error"], 1e-8);
      CheckClose(got.random_p_value(), want["random_p_value"], 1e-6);
      CheckClose(got.tau2(), want["tau2"], 1e-6);
      CheckClose(got.q(), want["q"], 1e-6);
      CHECK(got.q_df() == want["q_df"].get<int>());
      CheckClose(got.q_p_value(), want["q_p_value"], 1e-6);
      CheckClose(got.i2(), want["i2"], 1e-6);
    }
  }
}

TEST_CASE("meta: the reference covers both tau2 = 0 and tau2 > 0", "[meta]") {
  bool zero = false, positive = false;
  for (const nlohmann::json& model : Expected()) {
    for (const nlohmann::json& term : model["terms"]) {
      (term["tau2"].get<double>() > 0 ? positive : zero) = true;
    }
  }
  CHECK(zero);
  CHECK(positive);
}

TEST_CASE("meta: is registered and checks parameters as glm does", "[meta]") {
  const std::unique_ptr<AlgorithmRegistry> registry = MakeBuiltinRegistry();
  REQUIRE(registry->Find("meta") != nullptr);
  const Algorithm& meta = *registry->Find("meta");
  CHECK(meta.ValidateParameters(Params("y ~ x", "binomial")).ok());
  CHECK(absl::IsInvalidArgument(meta.ValidateParameters(Params("y ~ x", "gamma"))));
  CHECK(absl::IsInvalidArgument(meta.ValidateParameters(Params("Surv(t, e) ~ x", "poisson"))));
}

TEST_CASE("meta: a level one site lacks is aliased there and pooled over the others", "[meta]") {
  // Site 1 keeps only women: its sexM column is all zero.
  std::vector<DataFrame> sites = Sites();
  const Column& sex = *sites[0].Find("sex");
  std::vector<size_t> women;
  for (size_t r = 0; r < sites[0].num_rows(); ++r) {
    if (!sex.is_missing(r) && sex.levels()[static_cast<size_t>(sex.codes()[r])] == "F") {
      women.push_back(r);
    }
  }
  sites[0] = sites[0].SelectRows(women);
  absl::StatusOr<v1::Result> result = RunMeta(Params("y_bin ~ age + sex", "binomial"), sites);
  REQUIRE(result.ok());
  const v1::MetaTerm& sex_m = result->meta().terms(2);
  REQUIRE(sex_m.term() == "sexM");
  REQUIRE(sex_m.sites_size() == 3);
  CHECK(std::isnan(sex_m.sites(0).estimate()));
  CHECK(std::isnan(sex_m.sites(0).std_error()));
  CHECK(sex_m.sites(0).n() > 0);
  CHECK(sex_m.q_df() == 1);
  CHECK(std::isfinite(sex_m.fixed_estimate()));
  CHECK(result->meta().terms(1).q_df() == 2);
}

TEST_CASE("meta: a term only one site estimates has its row but no pooling", "[meta]") {
  // Stage 4 only at site 3.
  std::vector<DataFrame> sites = Sites();
  for (int i = 0; i < 2; ++i) {
    const Column& stage = *sites[static_cast<size_t>(i)].Find("stage");
    std::vector<size_t> keep;
    for (size_t r = 0; r < sites[static_cast<size_t>(i)].num_rows(); ++r) {
      if (stage.is_missing(r) || stage.numbers()[r] != 4) keep.push_back(r);
    }
    sites[static_cast<size_t>(i)] = sites[static_cast<size_t>(i)].SelectRows(keep);
  }
  absl::StatusOr<v1::Result> result =
      RunMeta(Params("y_gauss ~ sex + factor(stage)", "gaussian"), sites);
  REQUIRE(result.ok());
  const v1::MetaTerm& stage4 = result->meta().terms(4);
  REQUIRE(stage4.term() == "factor(stage)4");
  REQUIRE(stage4.sites_size() == 3);
  CHECK(std::isnan(stage4.sites(0).estimate()));
  CHECK(std::isnan(stage4.sites(1).estimate()));
  CHECK(std::isfinite(stage4.sites(2).estimate()));
  CHECK(stage4.q_df() == 0);
  CHECK(std::isnan(stage4.fixed_estimate()));
  CHECK(std::isnan(stage4.random_estimate()));
  CHECK(std::isnan(stage4.tau2()));
  CHECK(std::isnan(stage4.i2()));
}

TEST_CASE("meta: site errors are clear statuses naming variables, never values", "[meta]") {
  const std::vector<DataFrame> sites = Sites();
  absl::StatusOr<v1::Result> missing =
      RunMeta(Params("y_bin ~ age + cholesterol", "binomial"), sites);
  REQUIRE(absl::IsFailedPrecondition(missing.status()));
  CHECK(std::string(missing.status().message()).find("cholesterol") != std::string::npos);

  // Caught in the site fit, not the levels round.
  absl::StatusOr<v1::Result> response = RunMeta(Params("y_gauss ~ age", "binomial"), sites);
  REQUIRE(absl::IsInvalidArgument(response.status()));
  CHECK(std::string(response.status().message()).find("y_gauss") != std::string::npos);

  absl::StatusOr<v1::Result> not_converged = [&] {
    v1::Parameters p = Params("y_bin ~ age + sex", "binomial");
    SetNumber(p, "max_iterations", 2);
    return RunMeta(p, sites);
  }();
  REQUIRE(absl::IsFailedPrecondition(not_converged.status()));
  CHECK(std::string(not_converged.status().message()).find("max_iterations") != std::string::npos);
}

TEST_CASE("meta: a site with too few cases per coefficient refuses its fit", "[meta]") {
  std::vector<DataFrame> sites = Sites();
  // 12 complete cases, 5 coefficients: 5 > 0.33 * 12.
  sites.push_back(sites[0].SelectRows({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  absl::StatusOr<v1::Result> result =
      RunMeta(Params("y_gauss ~ sex + factor(stage)", "gaussian"), sites);
  REQUIRE(absl::IsFailedPrecondition(result.status()));
  CHECK(std::string(result.status().message()).find("max_parameter_fraction") != std::string::npos);

  // 9 complete cases and 2 coefficients pass that check; the node's gate then
  // refuses the released estimates (min_records 10).
  absl::StatusOr<DataFrame> tiny =
      ParseCsv("y_gauss,age\n1,2\n2,3\n3,5\n4,4\n5,7\n6,6\n7,9\n8,8\n9,11\n", "tiny");
  REQUIRE(tiny.ok());
  sites.back() = *std::move(tiny);
  result = RunMeta(Params("y_gauss ~ age", "gaussian"), sites);
  REQUIRE(absl::IsPermissionDenied(result.status()));
  CHECK(result.status().message() == "min_records");
}

// --- The central step on hand-made aggregates. ---

v1::Aggregate SiteAggregate(std::vector<double> estimates, std::vector<double> std_errors,
                            int64_t n) {
  v1::Aggregate aggregate;
  auto add = [&](const char* name, const std::vector<double>& values) {
    v1::Block* block = aggregate.add_blocks();
    block->set_name(name);
    block->set_record_count(n);
    for (double v : values) block->mutable_vector()->add_values(v);
  };
  add("estimates", estimates);
  add("std_errors", std_errors);
  add("n", {static_cast<double>(n)});
  return aggregate;
}

// The central state after the levels round of "y ~ x" (columns
// "(Intercept)", "x").
v1::Parameters SiteFitState(const MetaAlgorithm& meta, const v1::Parameters& params) {
  absl::StatusOr<v1::Parameters> begin = meta.Begin(params);
  REQUIRE(begin.ok());
  v1::Aggregate levels;
  v1::Block* n = levels.add_blocks();
  n->set_name("n");
  n->set_record_count(100);
  n->mutable_vector()->add_values(100);
  const std::vector<NodeAggregate> nodes = {{"a", levels}, {"b", levels}};
  absl::StatusOr<CentralStep> step = meta.Central({params, *begin, 1, nodes});
  REQUIRE(step.ok());
  REQUIRE(!step->done);
  return step->next_round_state;
}

TEST_CASE("meta: pooling by hand: Q, tau2 and I2 from the textbook formulas", "[meta]") {
  MetaAlgorithm meta;
  const v1::Parameters params = Params("y ~ x", "binomial");
  const v1::Parameters state = SiteFitState(meta, params);
  // x: b = (0, 1, 3), se = (1, 1, 1): FE 4/3, se 1/sqrt(3); Q = 16/9 + 1/9 +
  // 25/9 = 42/9; tau2 = (42/9 - 2) / (3 - 1) = 4/3; RE weights 3/7 each,
  // the same mean, se sqrt(7/9); I2 = (42/9 - 2) / (42/9) = 4/7.
  const std::vector<NodeAggregate> nodes = {{"a", SiteAggregate({0.5, 0}, {0.2, 1}, 100)},
                                            {"b & <c>", SiteAggregate({0.5, 1}, {0.2, 1}, 50)},
                                            {"d", SiteAggregate({0.5, 3}, {0.2, 1}, 20)}};
  absl::StatusOr<CentralStep> step = meta.Central({params, state, 2, nodes});
  REQUIRE(step.ok());
  REQUIRE(step->done);
  const v1::MetaResult& result = step->result.meta();
  CHECK(result.family() == "binomial");
  CHECK(result.link() == "logit");
  REQUIRE(result.terms_size() == 2);
  CHECK(result.terms(0).term() == "(Intercept)");
  CHECK(result.terms(0).q() == 0);
  CHECK(result.terms(0).i2() == 0);
  CHECK(result.terms(0).tau2() == 0);
  CHECK(result.terms(0).q_p_value() == Approx(1).epsilon(1e-12));
  const v1::MetaTerm& x = result.terms(1);
  CHECK(x.term() == "x");
  CHECK(x.sites(1).site() == "b & <c>");
  CHECK(x.sites(2).n() == 20);
  CHECK(x.fixed_estimate() == Approx(4.0 / 3).epsilon(1e-14));
  CHECK(x.fixed_std_error() == Approx(1 / std::sqrt(3.0)).epsilon(1e-14));
  CHECK(x.q() == Approx(42.0 / 9).epsilon(1e-14));
  CHECK(x.q_df() == 2);
  CHECK(x.q_p_value() == Approx(std::exp(-21.0 / 9)).epsilon(1e-12));  // chi2(2): e^{-q/2}
  CHECK(x.tau2() == Approx(4.0 / 3).epsilon(1e-14));
  CHECK(x.random_estimate() == Approx(4.0 / 3).epsilon(1e-14));
  CHECK(x.random_std_error() == Approx(std::sqrt(7.0 / 9)).epsilon(1e-14));
  CHECK(x.i2() == Approx(400.0 / 7).epsilon(1e-14));
}

TEST_CASE("meta: the central step rejects malformed site answers", "[meta]") {
  MetaAlgorithm meta;
  const v1::Parameters params = Params("y ~ x", "gaussian");
  const v1::Parameters state = SiteFitState(meta, params);
  std::vector<NodeAggregate> nodes = {{"a", SiteAggregate({1, 2}, {1, 1}, 30)},
                                      {"b", SiteAggregate({1}, {1}, 30)}};
  absl::StatusOr<CentralStep> step = meta.Central({params, state, 2, nodes});
  REQUIRE(absl::IsFailedPrecondition(step.status()));
  CHECK(std::string(step.status().message()).find("node b") != std::string::npos);

  nodes[1] = {"b", v1::Aggregate()};
  step = meta.Central({params, state, 2, nodes});
  REQUIRE(absl::IsInvalidArgument(step.status()));
  CHECK(std::string(step.status().message()).find("node b") != std::string::npos);

  // A zero or non-finite standard error leaves the site out of the pooling.
  nodes[1] = {"b", SiteAggregate({1, 2}, {0, kNaN}, 30)};
  step = meta.Central({params, state, 2, nodes});
  REQUIRE(step.ok());
  CHECK(step->result.meta().terms(1).q_df() == 0);
  CHECK(std::isnan(step->result.meta().terms(1).sites(1).estimate()));
}

}  // namespace
}  // namespace spoor
