#include "cli/output.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

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
  // Not asked for: the summary algorithm leaves them NaN.
  for (auto set :
       {&v1::VariableSummary::set_min, &v1::VariableSummary::set_max, &v1::VariableSummary::set_q1,
        &v1::VariableSummary::set_median, &v1::VariableSummary::set_q3}) {
    (v->*set)(std::nan(""));
  }
  nlohmann::ordered_json json = SummaryToJson(summary);
  CHECK(json.dump() ==
        R"({"variables":[{"name":"age","n":1,"missing":2,"mean":40.5,"sd":null,"sites":3}]})");
  v->set_median(41);
  v->set_q1(30);
  v->set_q3(50.5);
  json = SummaryToJson(summary);
  CHECK(json["variables"][0]["median"] == 41);
  CHECK(json["variables"][0]["q3"] == 50.5);
  CHECK_FALSE(json["variables"][0].contains("min"));
  std::string table = SummaryToTable(summary);
  CHECK(table.find("median") != std::string::npos);
  CHECK(table.find("min") == std::string::npos);
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
  for (const char* key :
       {"coefficients", "deviance", "null_deviance", "df_residual", "aic", "iterations", "n"}) {
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

v1::CrosstabResult SmallCrosstab() {
  v1::CrosstabResult crosstab;
  crosstab.set_row_variable("sex");
  crosstab.set_col_variable("outcome");
  for (const char* label : {"F", "M"}) crosstab.add_row_labels(label);
  for (const char* label : {"improved", "stable", "worse"}) crosstab.add_col_labels(label);
  for (int64_t count : {204, 145, 137, 163, 110, 134}) crosstab.add_counts(count);
  crosstab.add_row_totals(486);
  crosstab.add_row_totals(407);
  for (int64_t total : {367, 255, 271}) crosstab.add_col_totals(total);
  crosstab.set_total(893);
  crosstab.set_chi_square(2.4478691078503436);
  crosstab.set_df(2);
  crosstab.set_p_value(0.29407085010477241);
  return crosstab;
}

TEST_CASE("crosstab JSON has the counts row by row and the test", "[output]") {
  nlohmann::ordered_json json = CrosstabToJson(SmallCrosstab());
  CHECK(json.dump() ==
        R"({"rows":"sex","cols":"outcome","row_labels":["F","M"],)"
        R"("col_labels":["improved","stable","worse"],"counts":[[204,145,137],[163,110,134]],)"
        R"("row_totals":[486,407],"col_totals":[367,255,271],"total":893,)"
        R"("chi_square":2.4478691078503436,"df":2,"p_value":0.2940708501047724,"warnings":[]})");
  v1::CrosstabResult untested = SmallCrosstab();
  untested.set_chi_square(std::nan(""));
  untested.set_p_value(std::nan(""));
  untested.add_warnings("no chi-squared test");
  json = CrosstabToJson(untested);
  CHECK(json["chi_square"].is_null());
  CHECK(json["p_value"].is_null());
  CHECK(json["warnings"] == nlohmann::ordered_json::array({"no chi-squared test"}));
}

TEST_CASE("crosstab text is the table with totals, then the test", "[output]") {
  CHECK(CrosstabToText(SmallCrosstab()) ==
        "sex \\ outcome  improved  stable  worse  total\n"
        "---------------------------------------------\n"
        "F                   204     145    137    486\n"
        "M                   163     110    134    407\n"
        "---------------------------------------------\n"
        "total               367     255    271    893\n"
        "\n"
        "Pearson's chi-square: 2.44787 on 2 df, p = 0.294\n");
  v1::CrosstabResult small = SmallCrosstab();
  small.set_p_value(1e-30);
  small.add_warnings("Chi-squared approximation may be incorrect");
  const std::string text = CrosstabToText(small);
  CHECK_THAT(text, Catch::Contains("on 2 df, p < 2e-16\n") &&
                       Catch::EndsWith("Warning: Chi-squared approximation may be incorrect\n"));
  // A one-column table has no test: only the warning that says why.
  v1::CrosstabResult one;
  one.set_row_variable("sex");
  one.set_col_variable("site");
  one.mutable_row_labels()->Add(std::string("F"));
  one.mutable_col_labels()->Add(std::string("1"));
  one.add_counts(12);
  one.add_row_totals(12);
  one.add_col_totals(12);
  one.set_total(12);
  one.set_chi_square(std::nan(""));
  one.set_p_value(std::nan(""));
  one.add_warnings("no chi-squared test: it needs at least two levels of each variable");
  CHECK(CrosstabToText(one).find("Pearson") == std::string::npos);
}

// Two strata; the second ends at S = 0, where R's std.err and limits are NA.
v1::KmResult SmallKm() {
  v1::KmResult km;
  km.set_time_bin(30);
  v1::KmCurve* f = km.add_curves();
  f->set_stratum("sex=F");
  f->set_n(4);
  f->set_events(2);
  f->set_median(60);
  for (double t : {30, 60}) f->add_time(t);
  for (int64_t n : {4, 3}) f->add_n_risk(n);
  for (int64_t d : {1, 1}) f->add_n_event(d);
  for (double s : {0.75, 0.5}) f->add_survival(s);
  for (double se : {0.21650635094610965, 0.25}) f->add_std_error(se);
  for (double lo : {0.1279, 0.0578}) f->add_conf_low(lo);
  for (double hi : {0.9605, 0.8449}) f->add_conf_high(hi);
  f->add_censor_time(90);
  f->add_n_censor(2);
  v1::KmCurve* m = km.add_curves();
  m->set_stratum("sex=M");
  m->set_n(1);
  m->set_events(1);
  m->set_median(30);
  m->add_time(30);
  m->add_n_risk(1);
  m->add_n_event(1);
  m->add_survival(0);
  m->add_std_error(std::nan(""));
  m->add_conf_low(std::nan(""));
  m->add_conf_high(std::nan(""));
  return km;
}

TEST_CASE("km JSON follows the contract; NaN is null", "[output]") {
  nlohmann::ordered_json json = KmToJson(SmallKm());
  REQUIRE(json["curves"].size() == 2);
  CHECK(json["time_bin"] == 30);
  const nlohmann::ordered_json& f = json["curves"][0];
  std::vector<std::string> keys;
  for (const auto& [key, value] : f.items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"stratum", "n", "events", "median", "time", "n_risk",
                                         "n_event", "survival", "std_error", "conf_low",
                                         "conf_high", "censor_time", "n_censor"});
  CHECK(f["stratum"] == "sex=F");
  CHECK(f["time"] == nlohmann::ordered_json::array({30, 60}));
  CHECK(f["n_risk"] == nlohmann::ordered_json::array({4, 3}));
  CHECK(f["survival"] == nlohmann::ordered_json::array({0.75, 0.5}));
  CHECK(f["std_error"][0] == 0.21650635094610965);
  CHECK(f["censor_time"] == nlohmann::ordered_json::array({90}));
  CHECK(f["n_censor"] == nlohmann::ordered_json::array({2}));
  const nlohmann::ordered_json& m = json["curves"][1];
  CHECK(m["survival"] == nlohmann::ordered_json::array({0}));
  CHECK(m["std_error"][0].is_null());
  CHECK(m["conf_low"][0].is_null());
  CHECK(m["conf_high"][0].is_null());
  v1::KmResult never = SmallKm();
  never.mutable_curves(0)->set_median(std::nan(""));
  CHECK(KmToJson(never)["curves"][0]["median"].is_null());
}

TEST_CASE("km text reads like R's summary(survfit())", "[output]") {
  CHECK(KmToText(SmallKm()) ==
        "Times binned by the nodes: each rounded up to a multiple of 30\n"
        "\n"
        "sex=F: n = 4, events = 2, median = 60\n"
        "time  n.risk  n.event  survival  std.err  lower 95% CI  upper 95% CI\n"
        "--------------------------------------------------------------------\n"
        "  30       4        1      0.75   0.2165        0.1279        0.9605\n"
        "  60       3        1       0.5     0.25        0.0578        0.8449\n"
        "\n"
        "sex=M: n = 1, events = 1, median = 30\n"
        "time  n.risk  n.event  survival  std.err  lower 95% CI  upper 95% CI\n"
        "--------------------------------------------------------------------\n"
        "  30       1        1         0       NA            NA            NA\n");
  v1::KmResult all;
  v1::KmCurve* curve = all.add_curves();
  curve->set_n(3);
  curve->set_median(std::nan(""));
  CHECK_THAT(KmToText(all), Catch::StartsWith("all records: n = 3, events = 0, median = NA\n"));
}

TEST_CASE("spoor job renders crosstab and km results too", "[output]") {
  v1::Result result;
  *result.mutable_crosstab() = SmallCrosstab();
  CHECK(ResultToJson(result) == CrosstabToJson(SmallCrosstab()));
  CHECK(ResultToText(result) == CrosstabToText(SmallCrosstab()));
  *result.mutable_km() = SmallKm();
  CHECK(ResultToJson(result) == KmToJson(SmallKm()));
  CHECK(ResultToText(result) == KmToText(SmallKm()));
}

// colmean's result over three variables, plus two scalars.
v1::ContainerResult SmallContainerResult() {
  v1::ContainerResult container;
  auto& values = *container.mutable_values()->mutable_values();
  for (const char* name : {"age", "bmi", "sbp"}) {
    values["variable"].mutable_texts()->add_values(name);
  }
  for (double mean : {59.945555, 26.92211, 136.1778}) {
    values["mean"].mutable_numbers()->add_values(mean);
  }
  for (double n : {900, 875, 900}) values["n"].mutable_numbers()->add_values(n);
  values["sites"].set_integer(3);
  values["note"].set_text("pooled");
  return container;
}

TEST_CASE("container results in JSON: sorted keys, typed values, NaN as null", "[output]") {
  v1::ContainerResult container = SmallContainerResult();
  auto& values = *container.mutable_values()->mutable_values();
  values["converged"].set_flag(true);
  values["tau2"].set_number(std::nan(""));
  CHECK(ContainerResultToJson(container, "colmean@1.0.0").dump() ==
        R"({"algorithm":"colmean@1.0.0","values":{"converged":true,"mean":[59.945555,26.92211,)"
        R"(136.1778],"n":[900.0,875.0,900.0],"note":"pooled","sites":3,"tau2":null,)"
        R"("variable":["age","bmi","sbp"]}})");
  // Without an algorithm (spoor job: the job names it) there is no such key.
  CHECK(ContainerResultToJson(container).dump().rfind(R"({"values":{)", 0) == 0);
}

TEST_CASE("container results with lists of one length print as a table", "[output]") {
  // Text lists first, then number lists, each in key order; then the scalars.
  CHECK(ContainerResultToText(SmallContainerResult()) ==
        "variable     mean    n\n"
        "----------------------\n"
        "age       59.9456  900\n"
        "bmi       26.9221  875\n"
        "sbp       136.178  900\n"
        "\n"
        "note: pooled\n"
        "sites: 3\n");
}

TEST_CASE("container results without a common list length print as key: value", "[output]") {
  v1::ContainerResult container = SmallContainerResult();
  auto& values = *container.mutable_values()->mutable_values();
  values["n"].mutable_numbers()->add_values(1);  // four now, the others three
  values["empty"].set_text("");
  CHECK(ContainerResultToText(container) ==
        "empty: \n"
        "mean: 59.9456, 26.9221, 136.178\n"
        "n: 900, 875, 900, 1\n"
        "note: pooled\n"
        "sites: 3\n"
        "variable: age, bmi, sbp\n");
  // Lists of one element are values, not a table of one row.
  v1::ContainerResult single;
  auto& one = *single.mutable_values()->mutable_values();
  one["variable"].mutable_texts()->add_values("age");
  one["mean"].mutable_numbers()->add_values(59.9);
  CHECK(ContainerResultToText(single) == "mean: 59.9\nvariable: age\n");
  CHECK(ContainerResultToText(v1::ContainerResult()).empty());
}

TEST_CASE("spoor job renders container results", "[output]") {
  v1::Result result;
  *result.mutable_container() = SmallContainerResult();
  CHECK(ResultToJson(result) == ContainerResultToJson(SmallContainerResult()));
  CHECK(ResultToText(result) == ContainerResultToText(SmallContainerResult()));
}

TEST_CASE("algorithm records in JSON use the registry's snake_case contract", "[output]") {
  v1::AlgorithmRecord record;
  record.set_name("colmean");
  record.set_version("1.0.0");
  record.set_manifest_digest(
      "sha256:174d04d9edbd80cc16c8edbd88fdafaf481226e6b6d23590b34ba279a47a9228");
  record.set_state(v1::ALGORITHM_STATE_PENDING_REVIEW);
  v1::AlgorithmParameter* p = record.add_parameters();
  p->set_name("vars");
  p->set_type("texts");
  p->set_required(true);
  record.add_aggregates("vector");
  v1::Review* review = record.add_reviews();
  review->set_reviewer("reviewer-a");
  review->set_organisation("Hospital A");
  review->set_verdict(v1::VERDICT_REJECT);
  review->mutable_at()->set_seconds(1795424400);  // 2026-11-23T09:00:00Z
  record.set_required_approvals(2);
  nlohmann::ordered_json json = AlgorithmRecordToJson(record);
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"name", "version", "description", "manifest_digest",
                                         "state", "signer", "key_id", "parameters", "aggregates",
                                         "reviews", "registered_by", "registered_organisation",
                                         "registered_at", "revocation_reason", "required_approvals",
                                         "required_organisations"});
  CHECK(json["state"] == "pending_review");
  CHECK(json["parameters"][0].dump() ==
        R"({"name":"vars","type":"texts","required":true,"description":""})");
  CHECK(json["reviews"][0]["verdict"] == "reject");
  CHECK(json["reviews"][0]["at"] == "2026-11-23T09:00:00Z");
  CHECK(json["required_approvals"] == 2);
  CHECK(ShortDigest(record.manifest_digest()) == "sha256:174d04d9edbd");
  CHECK(AlgorithmStateName(v1::ALGORITHM_STATE_REVOKED) == "revoked");
}

}  // namespace
}  // namespace spoor
