// Cohort filters and the catalogue end to end: a sandbox of three nodes
// serving the glm reference sites (tests/reference/glm.R). `spoor glm
// --where` is checked against R's glm() on subset() of the pooled data
// (tests/reference/glm_where.R); `spoor catalogue` against what the sites'
// files hold.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "tests/integration/harness.h"

namespace spoor::testing {
namespace {

TEST_CASE("spoor glm --where equals R's glm on subset() of the pooled data", "[integration]") {
  std::ifstream in(ReferenceFile("glm_where_expected.json"));
  REQUIRE(in.good());
  const nlohmann::json models = nlohmann::json::parse(in);
  Scratch dir;
  StartReferenceSites(dir, "glm");
  for (const nlohmann::json& want : models) {
    RunResult run = RunSpoor(ClientArgs(
        dir, {"glm", "--dataset", "cohort", "--formula", want["formula"].get<std::string>(),
              "--family", want["family"].get<std::string>(), "--where",
              want["where"].get<std::string>(), "--json"}));
    INFO(want["where"].get<std::string>() << "\n" << run.err);
    REQUIRE(run.exit_code == 0);
    const nlohmann::json got = run.Json();
    CHECK(got["n"] == want["n"]);
    REQUIRE(got["coefficients"].size() == want["coefficients"].size());
    for (size_t i = 0; i < want["coefficients"].size(); ++i) {
      const nlohmann::json& g = got["coefficients"][i];
      const nlohmann::json& w = want["coefficients"][i];
      CHECK(g["term"] == w["term"]);
      CHECK(RelativeDifference(g["estimate"], w["estimate"]) <= 1e-8);
      CHECK(RelativeDifference(g["std_error"], w["std_error"]) <= 1e-8);
    }
  }

  // The table says which records it used.
  RunResult table = RunSpoor(ClientArgs(
      dir, {"summary", "--dataset", "cohort", "--vars", "age", "--where", "sex == 'M'"}));
  INFO(table.err);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("where sex == 'M'"));

  // A syntax error is refused at submit, with its position; a type error by
  // the nodes, naming the variable.
  RunResult syntax = RunSpoor(
      ClientArgs(dir, {"summary", "--dataset", "cohort", "--vars", "age", "--where", "age => 50"}));
  CHECK(syntax.exit_code == 1);
  CHECK(syntax.out.empty());
  CHECK_THAT(syntax.err, Catch::Contains("position 5"));
  RunResult type = RunSpoor(
      ClientArgs(dir, {"summary", "--dataset", "cohort", "--vars", "age", "--where", "sex == 1"}));
  CHECK(type.exit_code == 1);
  CHECK_THAT(type.err, Catch::Contains("'sex' is categorical"));
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

TEST_CASE("spoor catalogue lists what each node holds, rounded", "[integration]") {
  Scratch dir;
  StartReferenceSites(dir, "glm");
  RunResult run = RunSpoor(ClientArgs(dir, {"catalogue", "--json"}));
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json got = run.Json();
  REQUIRE(got["datasets"].size() == 1);
  const nlohmann::json& cohort = got["datasets"][0];
  CHECK(cohort["dataset"] == "cohort");
  REQUIRE(cohort["nodes"].size() == 3);
  // glm.R: 400, 250 and 900 rows; 5, 7 and 9 ages missing.
  const int rows[] = {400, 250, 900};
  for (size_t i = 0; i < 3; ++i) {
    const nlohmann::json& node = cohort["nodes"][i];
    INFO(node.dump());
    CHECK(node["node"] == "site-" + std::to_string(i + 1));
    CHECK(node["records"] == rows[i]);
    REQUIRE(node["variables"].size() == 10);
    const nlohmann::json& age = node["variables"][4];
    CHECK(age["name"] == "age");
    CHECK(age["type"] == "numeric");
    CHECK(age["missing_share"] == 0.05);  // any share below 5% reads as 5%
    const nlohmann::json& sex = node["variables"][6];
    CHECK(sex["type"] == "categorical");
    CHECK(sex["levels"] == nlohmann::json::array({"F", "M"}));
  }
  RunResult text = RunSpoor(ClientArgs(dir, {"catalogue", "--dataset", "cohort"}));
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out,
             Catch::Contains("node site-3: at least 900 records") && Catch::Contains("F, M"));
  RunResult missing = RunSpoor(ClientArgs(dir, {"catalogue", "--dataset", "nope"}));
  CHECK(missing.exit_code == 1);
  CHECK(RunSpoor({"sandbox", "stop", "--dir", dir.path()}).exit_code == 0);
}

}  // namespace
}  // namespace spoor::testing
