// DataSHIELD's own test data (CNSIM, SURVIVAL_EXPAND) and the values its
// test suite asserts (../shared/datashield/EXPECTED.md, each reproduced by
// plain R there): spoor on three sandbox nodes must give them too. The data
// are GPL-3 and stay outside this repository; without ../shared/datashield
// these tests say so and pass without checking anything.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/integration/harness.h"

namespace spoor::testing {
namespace {

std::string PeerDir() { return std::string(SPOOR_SOURCE_DIR) + "/../shared/datashield"; }

bool HavePeerData() {
  if (std::filesystem::exists(PeerDir() + "/CNSIM1.csv")) return true;
  WARN("skipped: DataSHIELD's test data are not at " << PeerDir()
                                                     << " (they are not part of spoor)");
  return false;
}

// A sandbox whose nodes sim1..sim3 serve PREFIX1.csv .. PREFIX3.csv.
void StartPeerSites(const Scratch& dir, const std::string& prefix) {
  RunResult start = RunSpoor({"sandbox", "start", "--dir", dir.path(), "--node",
                              "sim1=" + PeerDir() + "/" + prefix + "1.csv", "--node",
                              "sim2=" + PeerDir() + "/" + prefix + "2.csv", "--node",
                              "sim3=" + PeerDir() + "/" + prefix + "3.csv"});
  INFO(start.err);
  REQUIRE(start.exit_code == 0);
}

nlohmann::json Run(const Scratch& dir, std::vector<std::string> args) {
  args.push_back("--json");
  RunResult run = RunSpoor(ClientArgs(dir, args));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  return run.Json();
}

// The coefficient `term` of a glm result.
nlohmann::json Term(const nlohmann::json& glm, const std::string& term) {
  for (const nlohmann::json& c : glm["coefficients"]) {
    if (c["term"] == term) return c;
  }
  FAIL("no term " << term);
  return {};
}

TEST_CASE("DataSHIELD CNSIM: ds.mean, ds.glm and ds.glmSLMA values", "[peer]") {
  if (!HavePeerData()) return;
  Scratch dir;
  StartPeerSites(dir, "CNSIM");

  // test-smk-ds.mean.R:34-41 (tolerance 1e-15 there).
  nlohmann::json mean = Run(dir, {"summary", "--dataset", "cohort", "--vars", "LAB_TSC"});
  CHECK(mean["variables"][0]["n"] == 7825);
  CHECK(mean["variables"][0]["missing"] == 1554);
  CHECK(RelativeDifference(mean["variables"][0]["mean"], 5.85192485623003) <= 1e-15);

  // test-smk-ds.glm-gaussian.R: N 7800, deviance 8936.32 (tol 1e-5), df
  // 7798; coefficients and SEs from R on the pooled rows (EXPECTED.md §1).
  nlohmann::json gaussian = Run(dir, {"glm", "--dataset", "cohort", "--formula",
                                      "LAB_TSC ~ LAB_TRIG", "--family", "gaussian"});
  CHECK(gaussian["n"] == 7800);
  CHECK(gaussian["df_residual"] == 7798);
  CHECK(RelativeDifference(gaussian["deviance"], 8936.319743) <= 1e-9);
  CHECK(RelativeDifference(Term(gaussian, "(Intercept)")["estimate"], 5.69711418) <= 1e-8);
  CHECK(RelativeDifference(Term(gaussian, "LAB_TRIG")["estimate"], 0.07529977) <= 1e-7);
  CHECK(RelativeDifference(Term(gaussian, "LAB_TRIG")["std_error"], 0.007754159) <= 1e-6);

  // test-smk-ds.glm-binomial.R: GENDER is a factor there (D$GENDER1).
  nlohmann::json binomial =
      Run(dir, {"glm", "--dataset", "cohort", "--formula",
                "DIS_DIAB ~ factor(GENDER)*PM_BMI_CONTINUOUS + LAB_HDL", "--family", "binomial"});
  CHECK(binomial["n"] == 7485);
  CHECK(binomial["df_residual"] == 7480);
  CHECK(RelativeDifference(binomial["deviance"], 1036.031361) <= 1e-9);
  CHECK(RelativeDifference(Term(binomial, "PM_BMI_CONTINUOUS")["estimate"], 0.130635795) <= 1e-8);
  CHECK(RelativeDifference(Term(binomial, "LAB_HDL")["std_error"], 0.22147867) <= 1e-7);
  CHECK(RelativeDifference(Term(binomial, "factor(GENDER)1:PM_BMI_CONTINUOUS")["estimate"],
                           -0.000948079) <= 1e-5);

  // test-smk-ds.glmSLMA.R: per-study gaussian fits (asserted to 1e-3) and
  // the fixed-effect pooling R computes from them (EXPECTED.md §3).
  nlohmann::json meta = Run(dir, {"meta", "--dataset", "cohort", "--formula", "LAB_TSC ~ LAB_TRIG",
                                  "--family", "gaussian"});
  const nlohmann::json& slope = meta["terms"][1];
  REQUIRE(slope["term"] == "LAB_TRIG");
  CHECK(RelativeDifference(slope["sites"][0]["estimate"], 0.08763498) <= 1e-7);
  CHECK(slope["sites"][1]["n"] == 2526);
  CHECK(RelativeDifference(slope["fixed"]["estimate"], 0.07504681) <= 1e-6);
  CHECK(RelativeDifference(slope["fixed"]["std_error"], 0.00775389) <= 1e-6);
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

TEST_CASE("DataSHIELD SURVIVAL_EXPAND: ds.glm poisson values", "[peer]") {
  if (!HavePeerData()) return;
  Scratch dir;
  StartPeerSites(dir, "SURVIVAL_EXPAND_WITH_MISSING");
  // test-smk-ds.glm-poisson.R: N 6299, deviance 3522.598 (tol 1e-5), df 6296.
  nlohmann::json poisson =
      Run(dir, {"glm", "--dataset", "cohort", "--formula",
                "survtime ~ 1 + time.id + factor(female)", "--family", "poisson"});
  CHECK(poisson["n"] == 6299);
  CHECK(poisson["df_residual"] == 6296);
  CHECK(RelativeDifference(poisson["deviance"], 3522.59809) <= 1e-8);
  CHECK(RelativeDifference(Term(poisson, "time.id")["estimate"], 0.01767339) <= 1e-6);
  CHECK(RelativeDifference(Term(poisson, "factor(female)1")["std_error"], 0.02205770) <= 1e-6);
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

}  // namespace
}  // namespace spoor::testing
