// `spoor crosstab` and `spoor km` end to end: a sandbox of three nodes, each
// serving one site of the R reference data in tests/reference/, checked
// against R's table()/chisq.test() and summary(survfit()) on the pooled data.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/integration/harness.h"

namespace spoor::testing {
namespace {

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// Every byte of `path`, or "" if it cannot be read.
std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// One error line on stderr, nothing on stdout, exit 1 (docs/design.md).
void CheckOneLineError(const RunResult& run, const std::string& needle) {
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.out.empty());
  CHECK_THAT(run.err, Catch::StartsWith("spoor: error: ") && Catch::EndsWith("\n") &&
                          Catch::Contains(needle));
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
}

// R's NA is null; everything else within 1e-10 relative.
void CheckNumbers(const char* what, const nlohmann::json& got, const nlohmann::json& want) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("index " << i << ": spoor " << got[i].dump() << ", R " << want[i].dump());
    if (want[i].is_null()) {
      CHECK(got[i].is_null());
    } else {
      REQUIRE(got[i].is_number());
      CHECK(RelativeDifference(got[i].get<double>(), want[i].get<double>()) <= 1e-10);
    }
  }
}

TEST_CASE("spoor crosstab over three nodes equals R's table and chisq.test", "[integration]") {
  const nlohmann::json cases = ReadJson(ReferenceFile("crosstab_expected.json"));
  Scratch dir;
  StartReferenceSites(dir, "crosstab");

  // sex x outcome and stage x outcome: every cell at every site is >= 5, so
  // the nodes' default gate (min_cell_count 5) releases them.
  for (size_t index : {size_t{0}, size_t{1}}) {
    const nlohmann::json& want = cases[index];
    const std::string rows = want["rows"], cols = want["cols"];
    RunResult run = RunSpoor(ClientArgs(
        dir, {"crosstab", "--dataset", "cohort", "--rows", rows, "--cols", cols, "--json"}));
    INFO(rows << " x " << cols << "\n" << run.err);
    REQUIRE(run.exit_code == 0);
    const nlohmann::json got = run.Json();
    CHECK(got["rows"] == rows);
    CHECK(got["cols"] == cols);
    CHECK(got["row_labels"] == want["row_labels"]);
    CHECK(got["col_labels"] == want["col_labels"]);
    nlohmann::json flat = nlohmann::json::array();
    for (const nlohmann::json& row : got["counts"]) {
      CHECK(row.size() == want["col_labels"].size());
      for (const nlohmann::json& count : row) flat.push_back(count);
    }
    CHECK(flat == want["counts"]);
    CHECK(got["row_totals"] == want["row_totals"]);
    CHECK(got["col_totals"] == want["col_totals"]);
    CHECK(got["total"] == want["total"]);
    CHECK(got["df"] == want["df"]);
    CHECK(RelativeDifference(got["chi_square"], want["chi_square"]) <= 1e-12);
    CHECK(RelativeDifference(got["p_value"], want["p_value"]) <= 1e-10);
    CHECK(got["warnings"] == want["warnings"]);
  }

  RunResult text = RunSpoor(
      ClientArgs(dir, {"crosstab", "--dataset", "cohort", "--rows", "sex", "--cols", "outcome"}));
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out,
             Catch::Contains("crosstab of sex by outcome of dataset 'cohort' over 3 node(s)") &&
                 Catch::Contains("sex \\ outcome  improved  stable  worse  total") &&
                 Catch::Contains("total               367     255    271    893") &&
                 Catch::Contains("Pearson's chi-square: 2.44787 on 2 df, p = 0.294"));

  // `spoor job` shows a crosstab result too.
  RunResult jobs = RunSpoor(ClientArgs(dir, {"jobs", "--json"}));
  REQUIRE(jobs.exit_code == 0);
  const nlohmann::json list = jobs.Json();
  std::string crosstab_job;
  for (const nlohmann::json& j : list["jobs"]) {
    if (j["algorithm"] == "crosstab" && j["state"] == "succeeded") crosstab_job = j["job_id"];
  }
  REQUIRE(!crosstab_job.empty());
  RunResult job = RunSpoor(ClientArgs(dir, {"job", crosstab_job, "--json"}));
  REQUIRE(job.exit_code == 0);
  const nlohmann::json shown = job.Json()["result"];
  CHECK(shown["rows"] == "sex");
  CHECK(shown["total"] == cases[0]["total"]);

  // dose x stage has cells below 5 at every site: the nodes suppress them
  // (and one more cell each), and the result withholds those cells, their
  // totals and the test.
  RunResult suppressed = RunSpoor(ClientArgs(
      dir, {"crosstab", "--dataset", "cohort", "--rows", "dose", "--cols", "stage", "--json"}));
  INFO(suppressed.err);
  REQUIRE(suppressed.exit_code == 0);
  const nlohmann::json table = suppressed.Json();
  int withheld = 0;
  for (const nlohmann::json& row : table["counts"]) {
    for (const nlohmann::json& cell : row) withheld += cell.is_null();
  }
  CHECK(withheld >= 2);
  CHECK(table["counts"][0][0] == 152);  // a large cell stays exact
  CHECK(table["chi_square"].is_null());
  CHECK(table["total"].is_null());
  CHECK_THAT(table["warnings"][0].get<std::string>(), Catch::Contains("suppressed"));

  RunResult unknown = RunSpoor(ClientArgs(
      dir, {"crosstab", "--dataset", "cohort", "--rows", "sex", "--cols", "smoker", "--json"}));
  CheckOneLineError(unknown, "'smoker'");
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

TEST_CASE("spoor km over three nodes equals R's summary(survfit())", "[integration]") {
  const nlohmann::json expected = ReadJson(ReferenceFile("km_expected.json"));
  const nlohmann::json* by_sex = nullptr;
  for (const nlohmann::json& c : expected["cases"]) {
    if (c["by"] == "sex" && c["time_bin"] == 0) by_sex = &c;
  }
  REQUIRE(by_sex != nullptr);
  Scratch dir;
  StartReferenceSites(dir, "km");
  const std::string plot = dir / "curves.svg";

  RunResult run =
      RunSpoor(ClientArgs(dir, {"km", "--dataset", "cohort", "--time", "days", "--event", "status",
                                "--by", "sex", "--json", "--plot", plot}));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json got = run.Json();  // stdout is the JSON alone
  CHECK(got["time_bin"] == 0);
  REQUIRE(got["curves"].size() == (*by_sex)["curves"].size());
  for (size_t k = 0; k < got["curves"].size(); ++k) {
    const nlohmann::json& g = got["curves"][k];
    const nlohmann::json& w = (*by_sex)["curves"][k];
    INFO(w["stratum"].get<std::string>());
    CHECK(g["stratum"] == w["stratum"]);
    CHECK(g["n"] == w["n"]);
    CHECK(g["events"] == w["events"]);
    CheckNumbers("median", nlohmann::json::array({g["median"]}),
                 nlohmann::json::array({w["median"]}));
    CheckNumbers("time", g["time"], w["time"]);
    CheckNumbers("n_risk", g["n_risk"], w["n_risk"]);
    CheckNumbers("n_event", g["n_event"], w["n_event"]);
    CheckNumbers("survival", g["survival"], w["surv"]);
    CheckNumbers("std_error", g["std_error"], w["std_err"]);
    CheckNumbers("conf_low", g["conf_low"], w["lower"]);
    CheckNumbers("conf_high", g["conf_high"], w["upper"]);
    CheckNumbers("censor_time", g["censor_time"], w["censor_time"]);
    CheckNumbers("n_censor", g["n_censor"], w["n_censor"]);
  }
  const std::string svg = Slurp(plot);
  CHECK((svg.rfind("<?xml", 0) == 0 || svg.rfind("<svg", 0) == 0));
  CHECK_THAT(svg, Catch::Contains("sex=F") && Catch::EndsWith("</svg>\n"));
  CHECK_THAT(run.err, Catch::Contains(plot));

  RunResult text = RunSpoor(ClientArgs(
      dir, {"km", "--dataset", "cohort", "--time", "days", "--event", "status", "--by", "sex"}));
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("sex=F: n = ") && Catch::Contains("sex=M: n = ") &&
                           Catch::Contains("time  n.risk  n.event  survival"));

  // A directory that does not exist: refused before the job runs, nothing
  // written anywhere.
  const std::string nowhere = dir / "no-such-dir/curves.svg";
  RunResult bad_plot =
      RunSpoor(ClientArgs(dir, {"km", "--dataset", "cohort", "--time", "days", "--event", "status",
                                "--json", "--plot", nowhere}));
  CheckOneLineError(bad_plot, "no-such-dir");
  CHECK_FALSE(std::filesystem::exists(dir / "no-such-dir"));

  const std::string second_plot = dir / "unknown.svg";
  RunResult unknown =
      RunSpoor(ClientArgs(dir, {"km", "--dataset", "cohort", "--time", "days", "--event", "status",
                                "--by", "smoker", "--json", "--plot", second_plot}));
  CheckOneLineError(unknown, "'smoker'");
  CHECK_FALSE(std::filesystem::exists(second_plot));
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

}  // namespace
}  // namespace spoor::testing
