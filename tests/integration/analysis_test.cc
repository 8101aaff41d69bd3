// End-to-end analyses through the `spoor` CLI on a sandbox of three nodes,
// each serving one site of the R reference data in tests/reference/, checked
// against R's numbers for the pooled data.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "tests/integration/harness.h"

namespace spoor::testing {
namespace {

std::string Reference(const std::string& file) {
  return std::string(SPOOR_SOURCE_DIR) + "/tests/reference/" + file;
}

// A sandbox whose three nodes serve PREFIX_site1.csv .. PREFIX_site3.csv.
void StartSites(const Scratch& dir, const std::string& prefix) {
  RunResult start = RunSpoor({"sandbox", "start", "--dir", dir.path(),
                              "--node", "site-1=" + Reference(prefix + "_site1.csv"),
                              "--node", "site-2=" + Reference(prefix + "_site2.csv"),
                              "--node", "site-3=" + Reference(prefix + "_site3.csv")});
  INFO(start.err);
  REQUIRE(start.exit_code == 0);
}

std::vector<std::string> Client(const Scratch& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"--config", dir / "client.toml"});
  return args;
}

double Relative(double a, double b) {
  return a == b ? 0 : std::abs(a - b) / std::max(std::abs(a), std::abs(b));
}

TEST_CASE("spoor glm over three nodes equals R's glm on the pooled data", "[integration]") {
  std::ifstream in(Reference("glm_expected.json"));
  REQUIRE(in.good());
  const nlohmann::json models = nlohmann::json::parse(in);
  Scratch dir;
  StartSites(dir, "glm");

  // A logistic model with an interaction, and a Poisson model with an offset
  // (its null deviance needs glm()'s refit).
  for (size_t index : {size_t{2}, size_t{4}}) {
    const nlohmann::json& want = models[index];
    RunResult run = RunSpoor(Client(
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
      CHECK(Relative(g["estimate"], w["estimate"]) <= 1e-8);
      CHECK(Relative(g["std_error"], w["std_error"]) <= 1e-8);
    }
    CHECK(Relative(got["deviance"], want["deviance"]) <= 1e-10);
    CHECK(Relative(got["null_deviance"], want["null_deviance"]) <= 1e-10);
    CHECK(Relative(got["aic"], want["aic"]) <= 1e-10);
    CHECK(got["df_residual"] == want["df_residual"]);
    CHECK(got["iterations"] == want["iterations"]);
    CHECK(got["n"] == want["n"]);
  }

  RunResult table = RunSpoor(Client(dir, {"glm", "--dataset", "cohort", "--formula",
                                          "y_gauss ~ age + sex + factor(stage)"}));
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("factor(stage)4") && Catch::Contains("Pr(>|t|)") &&
                            Catch::Contains("Residual deviance") &&
                            Catch::Contains("Number of Fisher Scoring iterations: 2"));

  RunResult bad = RunSpoor(Client(dir, {"glm", "--dataset", "cohort", "--formula",
                                        "y_gauss ~ age + cholesterol", "--json"}));
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.empty());
  CHECK_THAT(bad.err, Catch::Contains("cholesterol"));
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

}  // namespace
}  // namespace spoor::testing
