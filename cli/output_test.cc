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
  job.add_participants("a");
  nlohmann::ordered_json json = JobToJson(job);
  CHECK(json["state"] == "failed");
  CHECK(json["failure_reason"] == "node b refused");
  CHECK(json["nodes"].size() == 1);
  job.set_state(v1::JOB_STATE_SUCCEEDED);
  CHECK_FALSE(JobToJson(job).contains("failure_reason"));
}

}  // namespace
}  // namespace spoor
