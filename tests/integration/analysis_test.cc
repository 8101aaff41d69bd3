// End-to-end analyses through the `spoor` CLI on a sandbox of three nodes,
// each serving one site of the R reference data in tests/reference/, checked
// against R's numbers for the pooled data.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "tests/integration/harness.h"

namespace spoor::testing {
namespace {

TEST_CASE("spoor glm over three nodes equals R's glm on the pooled data", "[integration]") {
  std::ifstream in(ReferenceFile("glm_expected.json"));
  REQUIRE(in.good());
  const nlohmann::json models = nlohmann::json::parse(in);
  Scratch dir;
  StartReferenceSites(dir, "glm");

  // A logistic model with an interaction, and a Poisson model with an offset
  // (its null deviance needs glm()'s refit).
  for (size_t index : {size_t{2}, size_t{4}}) {
    const nlohmann::json& want = models[index];
    RunResult run = RunSpoor(ClientArgs(
        dir, {"glm", "--dataset", "cohort", "--formula", want["formula"].get<std::string>(),
              "--family", want["family"].get<std::string>(), "--json"}));
    INFO(want["formula"].get<std::string>() << "\n" << run.err);
    REQUIRE(run.exit_code == 0);
    const nlohmann::json got = run.Json();
    REQUIRE(got["coefficients"].size() == want["coefficients"].size());
    for (size_t i = 0; i < got["coefficients"].size(); ++i) {
      const nlohmann::json& g = got["coefficients"][i];
      const nlohmann::json& w = want["coefficients"][i];
      CHECK(g["term"] == w["term"]);
      CHECK(RelativeDifference(g["estimate"], w["estimate"]) <= 1e-8);
      CHECK(RelativeDifference(g["std_error"], w["std_error"]) <= 1e-8);
    }
    CHECK(RelativeDifference(got["deviance"], want["deviance"]) <= 1e-10);
    CHECK(RelativeDifference(got["null_deviance"], want["null_deviance"]) <= 1e-10);
    CHECK(RelativeDifference(got["aic"], want["aic"]) <= 1e-10);
    CHECK(got["df_residual"] == want["df_residual"]);
    CHECK(got["iterations"] == want["iterations"]);
    CHECK(got["n"] == want["n"]);
  }

  RunResult table = RunSpoor(ClientArgs(
      dir, {"glm", "--dataset", "cohort", "--formula", "y_gauss ~ age + sex + factor(stage)"}));
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("factor(stage)4") && Catch::Contains("Pr(>|t|)") &&
                            Catch::Contains("Residual deviance") &&
                            Catch::Contains("Number of Fisher Scoring iterations: 2"));

  RunResult bad = RunSpoor(ClientArgs(
      dir, {"glm", "--dataset", "cohort", "--formula", "y_gauss ~ age + cholesterol", "--json"}));
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.empty());
  CHECK_THAT(bad.err, Catch::Contains("cholesterol"));
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

}  // namespace
}  // namespace spoor::testing
