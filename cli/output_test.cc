#include "cli/output.h"

#include <catch2/catch.hpp>

#include <cmath>

namespace spoor {
namespace {

TEST_CASE("tables align columns and right-align numbers", "[output]") {
  std::string table = FormatTable({"name", "n"}, {{"age", "9300"}, {"followup_days", "12"}},
                                  {Align::kLeft, Align::kRight});
  CHECK(table ==
        "name              n\n"
        "-------------------\n"
        "age            9300\n"
        "followup_days    12\n");
}

TEST_CASE("numbers print with significant digits and R's NA", "[output]") {
  CHECK(FormatNumber(57.661935483870970) == "57.6619");
  CHECK(FormatNumber(std::nan("")) == "NA");
  CHECK(FormatNumber(INFINITY) == "Inf");
  CHECK(FormatNumber(1e-12) == "1e-12");
}

TEST_CASE("summary JSON follows the contract and turns NaN into null", "[output]") {
  v1::SummaryResult summary;
  v1::VariableSummary* v = summary.add_variables();
  v->set_name("age");
  v->set_n(1);
  v->set_missing(2);
  v->set_mean(40.5);
  v->set_sd(std::nan(""));
  v->set_sites(3);
  nlohmann::ordered_json json = SummaryToJson(summary);
  CHECK(json.dump() ==
        R"({"variables":[{"name":"age","n":1,"missing":2,"mean":40.5,"sd":null,"sites":3}]})");
}

TEST_CASE("jobs serialise their state and, when failed, the reason", "[output]") {
  v1::Job job;
  job.set_job_id("j1");
  job.set_state(v1::JOB_STATE_FAILED);
  job.set_failure_reason("node b refused");
  job.mutable_participants()->Add(std::string("hospital-a"));
  nlohmann::ordered_json json = JobToJson(job);
  CHECK(json["state"] == "failed");
  CHECK(json["failure_reason"] == "node b refused");
  CHECK(json["nodes"].size() == 1);
  job.set_state(v1::JOB_STATE_SUCCEEDED);
  CHECK_FALSE(JobToJson(job).contains("failure_reason"));
}

TEST_CASE("p-values print as R's format.pval", "[output]") {
  CHECK(FormatPValue(0.40081454) == "0.401");
  CHECK(FormatPValue(4.3226950e-16) == "4.32e-16");
  CHECK(FormatPValue(8.2e-96) == "< 2e-16");
  CHECK(FormatPValue(std::nan("")) == "NA");
}

v1::GlmResult SmallGlm() {
  v1::GlmResult glm;
  glm.set_family("binomial");
  glm.set_link("logit");
  v1::Coefficient* a = glm.add_coefficients();
  a->set_term("(Intercept)");
  a->set_estimate(-4.3);
  a->set_std_error(0.2);
  a->set_statistic(-21.5);
  a->set_p_value(1e-100);
  a->set_conf_low(-4.7);
  a->set_conf_high(-3.9);
  v1::Coefficient* b = glm.add_coefficients();
  b->set_term("age2");
  b->set_aliased(true);
  b->set_estimate(std::nan(""));
  b->set_std_error(std::nan(""));
  glm.set_deviance(10140.6);
  glm.set_null_deviance(11393.7);
  glm.set_df_residual(9033);
  glm.set_df_null(9041);
  glm.set_aic(10158.6);
  glm.set_dispersion(1);
  glm.set_iterations(4);
  glm.set_converged(true);
  glm.set_n(9042);
  glm.add_warnings("glm.fit: fitted probabilities numerically 0 or 1 occurred");
  return glm;
}

TEST_CASE("glm JSON carries the contract's fields; aliased terms are null", "[output]") {
  nlohmann::ordered_json json = GlmToJson(SmallGlm());
  for (const char* key : {"coefficients", "deviance", "null_deviance", "df_residual", "aic",
                          "iterations", "n"}) {
    CHECK(json.contains(key));
  }
  CHECK(json["coefficients"][0]["term"] == "(Intercept)");
  CHECK(json["coefficients"][0]["p_value"] == 1e-100);
  CHECK(json["coefficients"][1]["aliased"] == true);
  CHECK(json["coefficients"][1]["estimate"].is_null());
  CHECK(json["warnings"].size() == 1);
}

TEST_CASE("glm text reads like R's summary.glm", "[output]") {
  std::string text = GlmToText(SmallGlm());
  CHECK(text.find("z value") != std::string::npos);
  CHECK(text.find("Pr(>|z|)") != std::string::npos);
  CHECK(text.find("< 2e-16") != std::string::npos);
  CHECK(text.find("aliased") != std::string::npos);
  CHECK(text.find("Residual deviance: 10140.6  on 9033 degrees of freedom") != std::string::npos);
  CHECK(text.find("Number of Fisher Scoring iterations: 4") != std::string::npos);
  CHECK(text.find("Warning: glm.fit: fitted probabilities") != std::string::npos);
  v1::GlmResult gaussian = SmallGlm();
  gaussian.set_family("gaussian");
  CHECK(GlmToText(gaussian).find("Pr(>|t|)") != std::string::npos);
}

}  // namespace
}  // namespace spoor
