#include "algorithms/glm.h"

#include <cmath>
#include <sstream>

#include "algorithms/csv_reader.h"
#include "algorithms/disclosure_gate.h"
#include "algorithms/test_rounds.h"
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

using testing::RelativeDifference;

// Fixtures from tests/reference/glm.R (R's glm() on the pooled data of three
// sites); read by testing::ReferenceSites and ReferenceJson.

std::vector<DataFrame> Sites() { return testing::ReferenceSites("glm"); }

nlohmann::json Expected() { return testing::ReferenceJson("glm_expected.json"); }

v1::Parameters Params(const std::string& formula, const std::string& family,
                      const std::string& weights = "", int max_iterations = 25) {
  v1::Parameters p;
  SetText(p, "formula", formula);
  SetText(p, "family", family);
  if (!weights.empty()) SetText(p, "weights", weights);
  SetNumber(p, "max_iterations", max_iterations);
  return p;
}

// The job's rounds as the coordinator runs them, every aggregate through a
// default disclosure gate.
absl::StatusOr<v1::Result> RunFederated(const v1::Parameters& params,
                                        const std::vector<DataFrame>& sites,
                                        int* rounds = nullptr) {
  return testing::RunRounds(GlmAlgorithm(), params, sites, DisclosureRules{}, 200, rounds);
}

// R prints p-values below 2e-16 as "< 2e-16" but stores them exactly; tiny
// ones are compared on the log scale.
void CheckPValue(double got, double want) {
  if (want == 0) {
    CHECK(got < 1e-300);
  } else if (want < 1e-100) {
    CHECK(std::abs(std::log(got) - std::log(want)) < 1e-6 * std::abs(std::log(want)));
  } else {
    CHECK(RelativeDifference(got, want) <= 1e-6);
  }
}

TEST_CASE("glm: every reference model equals R's glm on the pooled data", "[glm]") {
  const std::vector<DataFrame> sites = Sites();
  for (const nlohmann::json& model : Expected()) {
    const std::string formula = model["formula"];
    INFO(formula << " (" << model["family"].get<std::string>() << ", weights "
                 << model["weights"].dump() << ", maxit " << model["max_iterations"] << ")");
    absl::StatusOr<v1::Result> result =
        RunFederated(Params(formula, model["family"],
                            model["weights"].is_null() ? "" : model["weights"].get<std::string>(),
                            model["max_iterations"]),
                     sites);
    REQUIRE(result.ok());
    const v1::GlmResult& glm = result->glm();
    REQUIRE(glm.coefficients_size() == static_cast<int>(model["coefficients"].size()));
    for (int i = 0; i < glm.coefficients_size(); ++i) {
      const v1::Coefficient& got = glm.coefficients(i);
      const nlohmann::json& want = model["coefficients"][static_cast<size_t>(i)];
      INFO("term " << want["term"].get<std::string>());
      CHECK(got.term() == want["term"].get<std::string>());
      CHECK(got.aliased() == want["aliased"].get<bool>());
      if (got.aliased()) {
        CHECK(std::isnan(got.estimate()));
        continue;
      }
      CHECK(RelativeDifference(got.estimate(), want["estimate"]) <= 1e-8);
      CHECK(RelativeDifference(got.std_error(), want["std_error"]) <= 1e-8);
      CHECK(RelativeDifference(got.statistic(), want["statistic"]) <= 1e-8);
      CheckPValue(got.p_value(), want["p_value"]);
      CHECK(got.conf_low() < got.estimate());
      CHECK(got.conf_high() > got.estimate());
    }
    CHECK(RelativeDifference(glm.deviance(), model["deviance"]) <= 1e-10);
    CHECK(RelativeDifference(glm.null_deviance(), model["null_deviance"]) <= 1e-10);
    CHECK(glm.df_residual() == model["df_residual"].get<int64_t>());
    CHECK(glm.df_null() == model["df_null"].get<int64_t>());
    CHECK(RelativeDifference(glm.aic(), model["aic"]) <= 1e-10);
    CHECK(RelativeDifference(glm.dispersion(), model["dispersion"]) <= 1e-10);
    CHECK(glm.iterations() == model["iterations"].get<int>());
    CHECK(glm.converged() == model["converged"].get<bool>());
    CHECK(glm.n() == model["n"].get<int64_t>());
    std::vector<std::string> warnings(glm.warnings().begin(), glm.warnings().end());
    CHECK(warnings == model["warnings"].get<std::vector<std::string>>());
  }
}

TEST_CASE("glm: numeric columns read in place give R's answer too", "[glm]") {
  // Without missing values and with only numeric terms, a node reads X's
  // columns where its frame keeps them instead of building a model matrix.
  // Dropping the rows with a missing age first (R's complete cases) makes
  // the reference model "y_gauss ~ age - 1" take that path.
  std::vector<DataFrame> sites = Sites();
  for (DataFrame& site : sites) {
    const std::vector<double>& age = site.Find("age")->numbers();
    std::vector<size_t> keep;
    for (size_t r = 0; r < age.size(); ++r) {
      if (!std::isnan(age[r])) keep.push_back(r);
    }
    site = site.SelectRows(keep);
  }
  for (const nlohmann::json& model : Expected()) {
    if (model["formula"] != "y_gauss ~ age - 1") continue;
    absl::StatusOr<v1::Result> result = RunFederated(Params(model["formula"], "gaussian"), sites);
    REQUIRE(result.ok());
    const v1::Coefficient& age = result->glm().coefficients(0);
    CHECK(RelativeDifference(age.estimate(), model["coefficients"][0]["estimate"]) <= 1e-8);
    CHECK(RelativeDifference(age.std_error(), model["coefficients"][0]["std_error"]) <= 1e-8);
    CHECK(RelativeDifference(result->glm().deviance(), model["deviance"]) <= 1e-10);
    return;
  }
  FAIL("the reference has no model y_gauss ~ age - 1");
}

TEST_CASE("glm: a fit R reports with K iterations takes K + 1 fit rounds", "[glm]") {
  int rounds = 0;
  absl::StatusOr<v1::Result> result =
      RunFederated(Params("y_gauss ~ age + sex", "gaussian"), Sites(), &rounds);
  REQUIRE(result.ok());
  CHECK(result->glm().iterations() == 2);
  CHECK(rounds == 1 + 3);  // levels, then fits at mustart, beta_1 and beta_2
}

TEST_CASE("glm: parameters are checked before any node sees the job", "[glm]") {
  GlmAlgorithm glm;
  CHECK(absl::IsInvalidArgument(glm.ValidateParameters(Params("y ~ x", "gamma"))));
  CHECK(absl::IsInvalidArgument(glm.ValidateParameters(Params("y ~ ", "gaussian"))));
  CHECK(absl::IsInvalidArgument(glm.ValidateParameters(Params("Surv(t, e) ~ x", "gaussian"))));
  CHECK(absl::IsInvalidArgument(glm.ValidateParameters(Params("y ~ x", "gaussian", "", 0))));
  v1::Parameters no_family;
  SetText(no_family, "formula", "y ~ x");
  absl::Status status = glm.ValidateParameters(no_family);
  CHECK(absl::IsInvalidArgument(status));
  CHECK(std::string(status.message()).find("family") != std::string::npos);
}

TEST_CASE("glm: node errors name the variable, never a value", "[glm]") {
  const std::vector<DataFrame> sites = Sites();
  absl::StatusOr<v1::Result> missing =
      RunFederated(Params("y_gauss ~ age + cholesterol", "gaussian"), sites);
  REQUIRE(absl::IsFailedPrecondition(missing.status()));
  CHECK(std::string(missing.status().message()).find("cholesterol") != std::string::npos);

  absl::StatusOr<v1::Result> binomial = RunFederated(Params("y_gauss ~ age", "binomial"), sites);
  REQUIRE(absl::IsInvalidArgument(binomial.status()));
  CHECK(std::string(binomial.status().message()).find("y_gauss") != std::string::npos);

  absl::StatusOr<v1::Result> poisson = RunFederated(Params("age ~ y_gauss", "poisson"), sites);
  REQUIRE(poisson.ok());  // ages are positive: a valid if odd model

  absl::StatusOr<v1::Result> weights =
      RunFederated(Params("y_gauss ~ age", "gaussian", "sex"), sites);
  REQUIRE(absl::IsInvalidArgument(weights.status()));
  CHECK(std::string(weights.status().message()).find("sex") != std::string::npos);
}

TEST_CASE("glm: perfect separation is reported as R reports it", "[glm]") {
  // x separates y completely; R's glm() on the pooled 36 rows runs out of
  // iterations and warns twice, in this order (R 4.2):
  //   glm.fit: algorithm did not converge
  //   glm.fit: fitted probabilities numerically 0 or 1 occurred
  std::vector<DataFrame> sites;
  for (int site = 0; site < 3; ++site) {
    std::string csv = "y,x\n";
    for (int i = 1; i <= 12; ++i) {
      const int x = site * 12 + i;
      csv += std::to_string(x > 18 ? 1 : 0) + "," + std::to_string(x) + "\n";
    }
    absl::StatusOr<DataFrame> frame = ParseCsv(csv, "separated");
    REQUIRE(frame.ok());
    sites.push_back(*std::move(frame));
  }
  absl::StatusOr<v1::Result> result = RunFederated(Params("y ~ x", "binomial"), sites);
  REQUIRE(result.ok());
  const v1::GlmResult& glm = result->glm();
  CHECK_FALSE(glm.converged());
  CHECK(glm.iterations() == 25);
  const std::vector<std::string> warnings(glm.warnings().begin(), glm.warnings().end());
  CHECK(warnings ==
        std::vector<std::string>{"glm.fit: algorithm did not converge",
                                 "glm.fit: fitted probabilities numerically 0 or 1 occurred"});
  CHECK(std::abs(glm.coefficients(1).estimate()) > 10);  // R: 38.4, diverging
}

TEST_CASE("glm: a factor level present at one site only is a column everywhere", "[glm]") {
  // Stage 4 exists only at site 3: the union of levels gives every site the
  // same columns, and the fit equals the reference fit on the pooled data.
  std::vector<DataFrame> sites = Sites();
  int64_t rows = 0;
  for (size_t s = 0; s < 2; ++s) {
    const std::vector<double>& stage = sites[s].Find("stage")->numbers();
    std::vector<size_t> keep;
    for (size_t r = 0; r < stage.size(); ++r) {
      if (stage[r] != 4) keep.push_back(r);
    }
    sites[s] = sites[s].SelectRows(keep);
  }
  for (const DataFrame& site : sites) rows += static_cast<int64_t>(site.num_rows());
  absl::StatusOr<v1::Result> fit =
      RunFederated(Params("y_gauss ~ factor(stage)", "gaussian"), sites);
  REQUIRE(fit.ok());
  const v1::GlmResult& glm = fit->glm();
  REQUIRE(glm.coefficients_size() == 4);
  CHECK(glm.coefficients(3).term() == "factor(stage)4");
  CHECK_FALSE(glm.coefficients(3).aliased());
  CHECK(glm.n() == rows);
}

TEST_CASE("glm: the disclosure gate judges the cross-products like any block", "[glm]") {
  // A node with fewer complete cases than the gate's minimum is refused.
  absl::StatusOr<DataFrame> small = ParseCsv("y,x\n1,2\n2,3\n3,5\n4,4\n", "small");
  REQUIRE(small.ok());
  std::vector<DataFrame> sites = Sites();
  sites.push_back(*std::move(small));
  absl::StatusOr<v1::Result> result = RunFederated(Params("y_gauss ~ age", "gaussian"), sites);
  CHECK(absl::IsFailedPrecondition(result.status()));  // site 4 lacks y_gauss
  absl::StatusOr<DataFrame> tiny = ParseCsv("y_gauss,age\n1,2\n2,3\n3,5\n4,4\n", "tiny");
  REQUIRE(tiny.ok());
  sites.back() = *std::move(tiny);
  result = RunFederated(Params("y_gauss ~ age", "gaussian"), sites);
  REQUIRE(absl::IsPermissionDenied(result.status()));
  CHECK(result.status().message() == "min_records");
}

}  // namespace
}  // namespace spoor
