#include "algorithms/formula.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace spoor {
namespace {

Formula Parse(std::string_view text) {
  absl::StatusOr<Formula> f = ParseFormula(text);
  INFO(std::string(text) << " -> " << f.status().ToString());
  REQUIRE(f.ok());
  return *std::move(f);
}

std::vector<std::string> Labels(std::string_view text) {
  std::vector<std::string> labels;
  for (const Term& t : Parse(text).terms) labels.push_back(t.Label());
  return labels;
}

using Strings = std::vector<std::string>;

// The error message of a formula that must fail with INVALID_ARGUMENT.
std::string ErrorOf(std::string_view text) {
  absl::StatusOr<Formula> f = ParseFormula(text);
  INFO(text);
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(f.status().message());
}

TEST_CASE("formula: main effects, response and intercept", "[formula]") {
  Formula f = Parse("y ~ age + sex");
  CHECK(f.response == "y");
  CHECK_FALSE(f.survival.has_value());
  CHECK(f.intercept);
  REQUIRE(f.terms.size() == 2);
  CHECK(f.terms[0].factors == std::vector<TermFactor>{{"age", false}});
  CHECK(f.terms[1].Label() == "sex");
  CHECK(f.offsets.empty());
  CHECK(f.strata.empty());
}

TEST_CASE("formula: whitespace anywhere, or none", "[formula]") {
  CHECK(Labels("y~age+factor(stage)") == Strings{"age", "factor(stage)"});
  CHECK(Labels("  y \t~\n age +  factor ( stage )  : sex ") == Strings{"age", "factor(stage):sex"});
}

TEST_CASE("formula: names with dots, underscores and digits", "[formula]") {
  Formula f = Parse("log.y ~ ph.ecog + wt_loss + x2 + .hidden");
  CHECK(f.response == "log.y");
  CHECK(Labels("log.y ~ ph.ecog + wt_loss + x2 + .hidden") ==
        Strings{"ph.ecog", "wt_loss", "x2", ".hidden"});
}

TEST_CASE("formula: factor()", "[formula]") {
  Formula f = Parse("y ~ factor(stage) + stage");
  REQUIRE(f.terms.size() == 2);
  CHECK(f.terms[0].factors[0] == TermFactor{"stage", true});
  CHECK(f.terms[0].Label() == "factor(stage)");
  // x and factor(x) are different variables to R.
  CHECK(f.terms[1].factors[0] == TermFactor{"stage", false});
  CHECK(f.Variables() == Strings{"y", "stage"});
}

TEST_CASE("formula: interactions and crossing as R expands them", "[formula]") {
  CHECK(Labels("y ~ a:b") == Strings{"a:b"});
  CHECK(Labels("y ~ a*b") == Strings{"a", "b", "a:b"});
  CHECK(Labels("y ~ a*b*c") == Strings{"a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"});
  CHECK(Labels("y ~ (a + b + c)^2") == Strings{"a", "b", "c", "a:b", "a:c", "b:c"});
  CHECK(Labels("y ~ a*b - a") == Strings{"b", "a:b"});
  CHECK(Labels("y ~ (a + b):c") == Strings{"a:c", "b:c"});
  CHECK(Labels("y ~ factor(stage)*age") == Strings{"factor(stage)", "age", "factor(stage):age"});
}

TEST_CASE("formula: terms ordered by degree, stable within a degree", "[formula]") {
  CHECK(Labels("y ~ a:b + c + d:e:f + g") == Strings{"c", "g", "a:b", "d:e:f"});
  CHECK(Labels("y ~ b:a + a") == Strings{"a", "b:a"});
}

TEST_CASE("formula: interaction factors in R's variable order", "[formula]") {
  // R orders the factors of a term by where each variable first appears in
  // the formula: terms(y ~ a + b:a) has the label "a:b".
  CHECK(Labels("y ~ a + b:a") == Strings{"a", "a:b"});
  CHECK(Labels("y ~ sex + smoker:sex") == Strings{"sex", "sex:smoker"});
  CHECK(Labels("y ~ smoker:age + sex") == Strings{"sex", "smoker:age"});
}

TEST_CASE("formula: duplicate terms removed, first kept", "[formula]") {
  CHECK(Labels("y ~ a + b + a + a:b + b:a") == Strings{"a", "b", "a:b"});
  CHECK(Labels("y ~ a*b + a:b + b") == Strings{"a", "b", "a:b"});
}

TEST_CASE("formula: intercept forms", "[formula]") {
  CHECK(Parse("y ~ a").intercept);
  CHECK_FALSE(Parse("y ~ a - 1").intercept);
  CHECK_FALSE(Parse("y ~ -1 + a").intercept);
  CHECK_FALSE(Parse("y ~ 0 + a").intercept);
  CHECK_FALSE(Parse("y ~ a + 0").intercept);
  CHECK(Parse("y ~ 1 + a").intercept);
  CHECK(Parse("y ~ a - 1 + 1").intercept);  // the last one wins, as in R
  CHECK(Parse("y ~ a - 0").intercept);
  CHECK(Labels("y ~ a - 1") == Strings{"a"});

  Formula only = Parse("y ~ 1");
  CHECK(only.intercept);
  CHECK(only.terms.empty());
  Formula none = Parse("y ~ 0");
  CHECK_FALSE(none.intercept);
  CHECK(none.terms.empty());
}

TEST_CASE("formula: offsets", "[formula]") {
  Formula f = Parse("deaths ~ age + offset(log(pyears)) + offset(base)");
  CHECK(Labels("deaths ~ age + offset(log(pyears)) + offset(base)") == Strings{"age"});
  REQUIRE(f.offsets.size() == 2);
  CHECK(f.offsets[0].variable == "pyears");
  CHECK(f.offsets[0].log);
  CHECK(f.offsets[1].variable == "base");
  CHECK_FALSE(f.offsets[1].log);
  CHECK(f.Variables() == Strings{"deaths", "age", "pyears", "base"});
  CHECK(Parse("y ~ offset( log ( t ) )").offsets.size() == 1);
}

TEST_CASE("formula: Surv() response and strata()", "[formula]") {
  Formula f = Parse("Surv(time, status) ~ age + strata(center) + sex");
  CHECK(f.response.empty());
  REQUIRE(f.survival.has_value());
  CHECK(f.survival->time == "time");
  CHECK(f.survival->event == "status");
  CHECK(f.strata == Strings{"center"});
  CHECK(Labels("Surv(time, status) ~ age + strata(center) + sex") == Strings{"age", "sex"});
  CHECK(Parse("Surv(t, d) ~ a + strata(g, h) + strata(g)").strata == Strings{"g", "h"});
  // `time` on the right is a variable distinct from Surv(time, status).
  CHECK(Labels("Surv(time, status) ~ time") == Strings{"time"});
}

TEST_CASE("formula: Variables() in first-appearance order without repeats", "[formula]") {
  Formula f = Parse(
      "Surv(time, status) ~ age + factor(stage) + age:sex + offset(log(t)) + strata(g) + "
      "offset(age)");
  CHECK(f.Variables() == Strings{"time", "status", "age", "stage", "sex", "t", "g"});
  CHECK(Parse("y ~ a*b").Variables() == Strings{"y", "a", "b"});
}

TEST_CASE("formula: errors name the position and what was expected", "[formula]") {
  CHECK(ErrorOf("") == "formula: at 1: empty formula");
  CHECK(ErrorOf("   ") == "formula: at 1: empty formula");
  CHECK(ErrorOf("y a") == "formula: at 3: expected '~' after the response, found 'a'");
  CHECK(ErrorOf("y") ==
        "formula: at 2: expected '~' after the response, found the end of the "
        "formula");
  CHECK(ErrorOf("~ a") ==
        "formula: at 1: expected a response variable or Surv(time, event) before '~'");
  CHECK(ErrorOf("y ~ foo(x)") ==
        "formula: at 5: unknown function 'foo'; use factor(), offset(), log() inside offset(), "
        "strata(), Surv()");
  CHECK(ErrorOf("y ~ a +") ==
        "formula: at 8: expected a variable name after '+', found the end of the formula");
  CHECK(ErrorOf("y ~") ==
        "formula: at 4: expected a variable name after '~', found the end of the formula");
  CHECK(ErrorOf("y ~ a + * b") == "formula: at 9: expected a variable name after '+', found '*'");
  CHECK(ErrorOf("y ~ (a + b") == "formula: at 11: expected ')', found the end of the formula");
  CHECK(ErrorOf("y ~ a)") == "formula: at 6: unmatched ')'");
  CHECK(ErrorOf("y ~ a ~ b") == "formula: at 7: a formula has one '~'");
  CHECK(ErrorOf("y ~ a + 2") == "formula: at 9: expected a variable name, 0 or 1, found '2'");
  CHECK(ErrorOf("y ~ a:1") == "formula: at 7: '1' cannot be part of an interaction");
  CHECK(ErrorOf("y ~ a $ b").find("formula: at 7: unexpected character '$'") == 0);
  CHECK(ErrorOf("y ~ a / b").find("formula: at 7: '/' (nesting) is not supported") == 0);
  CHECK(ErrorOf("y ~ .").find("formula: at 5: '.' (all other variables) is not supported") == 0);
  CHECK(ErrorOf("y ~ y + x") == "formula: at 5: the response 'y' also appears on the right of '~'");
  CHECK(ErrorOf("y ~ log(x)").find("formula: at 5: log() is only supported inside offset()") == 0);
  CHECK(ErrorOf("log(y) ~ x") ==
        "formula: at 1: the response must be a variable name or Surv(time, event)");
  CHECK(ErrorOf("Surv(t) ~ a") == "formula: at 1: Surv() takes two variables: Surv(time, event)");
  CHECK(ErrorOf("y ~ Surv(t, d)") == "formula: at 5: Surv() belongs on the left of '~'");
  CHECK(ErrorOf("y ~ factor(a, b)").find("formula: at 12: expected one variable name") == 0);
  CHECK(ErrorOf("y ~ factor(a") ==
        "formula: at 13: expected ')' to close 'factor(', found the end of the formula");
  CHECK(ErrorOf("y ~ a:offset(t)") == "formula: at 7: offset() cannot be part of an interaction");
  CHECK(ErrorOf("y ~ strata(g)*a") == "formula: at 5: strata() cannot be part of an interaction");
  CHECK(ErrorOf("y ~ offset(t + u)").find("formula: at 5: offset() takes a variable") == 0);
  CHECK(ErrorOf("y ~ a^1") == "formula: at 7: expected a whole number of at least 2 after '^'");
}

TEST_CASE("formula: error positions count characters, not bytes", "[formula]") {
  // "é" is two bytes in UTF-8 but one character.
  CHECK(ErrorOf("\xC3\xA9 ~ a +").find("formula: at 8:") == 0);
}

}  // namespace
}  // namespace spoor
