// End to end: `spoor cox` (stratified by site and pooled) and `spoor meta`
// over three sandbox nodes serving the R reference sites, checked against
// R's numbers in tests/reference/.
#include <catch2/catch.hpp>
#include <fstream>

#include "tests/integration/harness.h"

namespace spoor::testing {
namespace {

nlohmann::json Expected(const std::string& file) {
  std::ifstream in(ReferenceFile(file));
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// The fixture's model with this formula and mode.
nlohmann::json CoxModel(const nlohmann::json& models, const std::string& formula, bool by_site,
                        const std::string& ties) {
  for (const nlohmann::json& m : models) {
    if (m["formula"] == formula && m["by_site"] == by_site && m["ties"] == ties) return m;
  }
  FAIL("no such model in cox_expected.json");
  return {};
}

void CheckCox(const nlohmann::json& got, const nlohmann::json& want) {
  REQUIRE(got["coefficients"].size() == want["coefficients"].size());
  for (size_t i = 0; i < got["coefficients"].size(); ++i) {
    const nlohmann::json& g = got["coefficients"][i];
    const nlohmann::json& w = want["coefficients"][i];
    CHECK(g["term"] == w["term"]);
    CHECK(RelativeDifference(g["estimate"], w["estimate"]) <= 1e-6);
    CHECK(RelativeDifference(g["std_error"], w["std_error"]) <= 1e-6);
    CHECK(RelativeDifference(g["hazard_ratio"], w["hazard_ratio"]) <= 1e-6);
  }
  CHECK(RelativeDifference(got["loglik"][1], want["loglik"][1]) <= 1e-10);
  CHECK(got["n"] == want["n"]);
  CHECK(got["events"] == want["events"]);
  CHECK(got["iterations"] == want["iterations"]);
}

TEST_CASE("spoor cox equals R's coxph, by site and pooled where the nodes allow it",
          "[integration]") {
  const nlohmann::json models = Expected("cox_expected.json");
  const std::string formula = "Surv(time, status) ~ age + sex";
  Scratch dir;
  StartReferenceSites(dir, "cox");

  RunResult by_site =
      RunSpoor(ClientArgs(dir, {"cox", "--dataset", "cohort", "--formula", formula, "--json"}));
  INFO(by_site.err);
  REQUIRE(by_site.exit_code == 0);
  CheckCox(by_site.Json(), CoxModel(models, formula, true, "efron"));

  RunResult breslow = RunSpoor(ClientArgs(
      dir, {"cox", "--dataset", "cohort", "--formula", formula, "--ties", "breslow", "--json"}));
  REQUIRE(breslow.exit_code == 0);
  CheckCox(breslow.Json(), CoxModel(models, formula, true, "breslow"));

  // By default a node does not release per-event-time sums.
  RunResult refused = RunSpoor(
      ClientArgs(dir, {"cox", "--dataset", "cohort", "--formula", formula, "--pooled", "--json"}));
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK_THAT(refused.err, Catch::Contains("event_time_sums") && Catch::Contains("site-"));

  RunResult table = RunSpoor(ClientArgs(dir, {"cox", "--dataset", "cohort", "--formula", formula}));
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("exp(coef)") && Catch::Contains("sexM") &&
                            Catch::Contains("Score (logrank) test"));
  REQUIRE(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);

  Scratch allowed;
  StartReferenceSites(allowed, "cox", {"--allow-event-time-sums"});
  RunResult pooled = RunSpoor(ClientArgs(
      allowed, {"cox", "--dataset", "cohort", "--formula", formula, "--pooled", "--json"}));
  INFO(pooled.err);
  REQUIRE(pooled.exit_code == 0);
  CheckCox(pooled.Json(), CoxModel(models, formula, false, "efron"));
  CHECK(pooled.Json()["pooled"] == true);
  CHECK(RunSpoor({"sandbox", "stop", "--dir", allowed.path()}).exit_code == 0);
}

TEST_CASE("spoor meta pools the sites' glm as the base-R reference does, with a forest plot",
          "[integration]") {
  const nlohmann::json want = Expected("meta_expected.json")[0];
  Scratch dir;
  StartReferenceSites(dir, "glm");
  const std::string plot = dir / "forest.svg";
  RunResult run = RunSpoor(ClientArgs(
      dir, {"meta", "--dataset", "cohort", "--formula", want["formula"].get<std::string>(),
            "--family", want["family"].get<std::string>(), "--json", "--plot", plot}));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json got = run.Json();
  REQUIRE(got["terms"].size() == want["terms"].size());
  for (size_t i = 0; i < got["terms"].size(); ++i) {
    const nlohmann::json& g = got["terms"][i];
    const nlohmann::json& w = want["terms"][i];
    CHECK(g["term"] == w["term"]);
    CHECK(RelativeDifference(g["fixed"]["estimate"], w["fixed_estimate"]) <= 1e-8);
    CHECK(RelativeDifference(g["fixed"]["std_error"], w["fixed_std_error"]) <= 1e-8);
    CHECK(RelativeDifference(g["random"]["estimate"], w["random_estimate"]) <= 1e-8);
    REQUIRE(g["sites"].size() == 3);
  }
  std::ifstream svg(plot);
  std::string head(5, '\0');
  svg.read(head.data(), 5);
  CHECK((head == "<?xml" || head == "<svg "));
  CHECK_THAT(run.err, Catch::Contains("forest plot written to"));

  RunResult bad_term = RunSpoor(ClientArgs(
      dir, {"meta", "--dataset", "cohort", "--formula", want["formula"].get<std::string>(),
            "--family", want["family"].get<std::string>(), "--plot", plot, "--term", "height"}));
  CHECK(bad_term.exit_code == 1);
  CHECK(bad_term.out.empty());
  CHECK_THAT(bad_term.err, Catch::Contains("height"));
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

}  // namespace
}  // namespace spoor::testing
