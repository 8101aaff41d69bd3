#include "cli/forest_plot.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "algorithms/csv_reader.h"
#include "algorithms/meta.h"

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// A small well-formedness check: tags balance under one root, and every '&'
// starts one of the five XML entities. "" when the document passes.
std::string XmlProblem(const std::string& xml) {
  std::vector<std::string> open;
  int roots = 0;
  for (size_t i = 0; i < xml.size(); ++i) {
    if (xml[i] == '&') {
      bool known = false;
      for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
        known = known || xml.compare(i, std::string(e).size(), e) == 0;
      }
      if (!known) return "bare & at " + std::to_string(i);
    }
    if (xml[i] == '>') return "stray > at " + std::to_string(i);
    if (xml[i] != '<') continue;
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return "unterminated tag";
    const std::string tag = xml.substr(i, end - i + 1);
    if (tag.find('<', 1) != std::string::npos) return "< inside " + tag;
    i = end;
    if (tag.rfind("<?", 0) == 0 || tag[tag.size() - 2] == '/') continue;
    const size_t name_end = tag.find_first_of(" \n/>", 1);
    if (tag[1] == '/') {
      const std::string name = tag.substr(2, tag.size() - 3);
      if (open.empty() || open.back() != name) return "</" + name + "> closes nothing open";
      open.pop_back();
    } else {
      if (open.empty()) ++roots;
      open.push_back(tag.substr(1, name_end - 1));
    }
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  return roots == 1 ? "" : "expected one root element";
}

void AddSite(v1::MetaTerm& term, const std::string& name, double estimate, double std_error,
             int64_t n) {
  v1::MetaSiteEstimate* site = term.add_sites();
  site->set_site(name);
  site->set_estimate(estimate);
  site->set_std_error(std_error);
  site->set_n(n);
}

// "sexM" at three sites; pooled numbers need not be consistent for layout.
v1::MetaResult HandMadeResult() {
  v1::MetaResult result;
  result.set_family("binomial");
  result.set_link("logit");
  v1::MetaTerm* term = result.add_terms();
  term->set_term("sexM");
  AddSite(*term, "St. Mary's <A & B>", std::log(2.0), 0.2, 400);
  AddSite(*term, "site2", 0.1, 0.4, 250);
  AddSite(*term, "site3", 0.5, 0.1, 900);
  term->set_fixed_estimate(0.45);
  term->set_fixed_std_error(0.085);
  term->set_fixed_p_value(1e-7);
  term->set_random_estimate(0.42);
  term->set_random_std_error(0.12);
  term->set_random_p_value(4e-4);
  term->set_tau2(0.0123);
  term->set_q(3.64);
  term->set_q_df(2);
  term->set_q_p_value(0.162);
  term->set_i2(45.06);
  return result;
}

TEST_CASE("forest plot: one square per site, two diamonds, escaped labels", "[forest_plot]") {
  const std::string svg = ForestPlotSvg(HandMadeResult(), "sexM", false);
  INFO(svg);
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(XmlProblem(svg) == "");
  CHECK(Count(svg, "<svg ") == 1);
  CHECK(Count(svg, "class=\"square\"") == 3);
  CHECK(Count(svg, "class=\"ci\"") == 3);
  CHECK(Count(svg, "class=\"diamond fixed\"") == 1);
  CHECK(Count(svg, "class=\"diamond random\"") == 1);
  CHECK(Count(svg, "class=\"null\"") == 1);
  CHECK(svg.find(">St. Mary&apos;s &lt;A &amp; B&gt;</text>") != std::string::npos);
  CHECK(svg.find("<A & B>") == std::string::npos);
  CHECK(svg.find(">sexM</text>") != std::string::npos);
  // Link-scale labels: estimate -/+ 1.959964 * se.
  CHECK(svg.find(">0.69 [0.30, 1.09]</text>") != std::string::npos);
  CHECK(svg.find(">0.45 [0.28, 0.62]</text>") != std::string::npos);
  CHECK(svg.find(">Estimate [95% CI]</text>") != std::string::npos);
  CHECK(svg.find(">400</text>") != std::string::npos);
  // Heterogeneity under the diamonds.
  CHECK(svg.find("I\u00b2 = 45.1%") != std::string::npos);
  CHECK(svg.find("\u03c4\u00b2 = 0.0123") != std::string::npos);
  CHECK(svg.find("Q = 3.64 on 2 df, p = 0.16") != std::string::npos);
  // Fixed-effect weights 25, 6.25, 100: the heaviest site has the largest
  // square and 76.2% of the weight.
  CHECK(svg.find(">76.2%</text>") != std::string::npos);
  CHECK(svg.find("width=\"16\" height=\"16\"") != std::string::npos);
  // No external resources, no unformatted numbers.
  CHECK(svg.find("href") == std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
}

TEST_CASE("forest plot: exponentiated labels are odds ratios on a log axis", "[forest_plot]") {
  const std::string svg = ForestPlotSvg(HandMadeResult(), "sexM", true);
  INFO(svg);
  CHECK(XmlProblem(svg) == "");
  // exp(log 2) = 2, limits exp(log 2 -/+ 1.959964 * 0.2) = 1.35, 2.96.
  CHECK(svg.find(">2.00 [1.35, 2.96]</text>") != std::string::npos);
  CHECK(svg.find(">1.57 [1.33, 1.85]</text>") != std::string::npos);  // exp(0.45 ...)
  CHECK(svg.find(">Odds ratio [95% CI]</text>") != std::string::npos);
  CHECK(svg.find(">Odds ratio</text>") != std::string::npos);
  // Tick labels on the ratio scale, with 1 (the null) among them.
  CHECK(svg.find(">1</text>") != std::string::npos);
  CHECK(svg.find(">2</text>") != std::string::npos);
  // The null line sits at the tick labelled 1.
  const size_t null = svg.find("class=\"null\" x1=\"");
  REQUIRE(null != std::string::npos);
  const size_t x_start = null + std::string("class=\"null\" x1=\"").size();
  const std::string null_x = svg.substr(x_start, svg.find('"', x_start) - x_start);
  CHECK(svg.find("<text x=\"" + null_x + "\"") != std::string::npos);

  v1::MetaResult poisson = HandMadeResult();
  poisson.set_family("poisson");
  poisson.set_link("log");
  CHECK(ForestPlotSvg(poisson, "sexM", true).find(">Rate ratio</text>") != std::string::npos);
}

TEST_CASE("forest plot: sites and terms that cannot be drawn say so", "[forest_plot]") {
  v1::MetaResult result = HandMadeResult();
  v1::MetaTerm* one = result.add_terms();
  one->set_term("factor(stage)4");
  AddSite(*one, "site1", kNaN, kNaN, 400);
  AddSite(*one, "site2", kNaN, kNaN, 250);
  AddSite(*one, "site3", 1.2, 0.5, 900);
  for (auto set : {&v1::MetaTerm::set_fixed_estimate, &v1::MetaTerm::set_fixed_std_error,
                   &v1::MetaTerm::set_random_estimate, &v1::MetaTerm::set_random_std_error,
                   &v1::MetaTerm::set_tau2, &v1::MetaTerm::set_q, &v1::MetaTerm::set_q_p_value,
                   &v1::MetaTerm::set_i2}) {
    (one->*set)(kNaN);
  }
  const std::string svg = ForestPlotSvg(result, "factor(stage)4", true);
  INFO(svg);
  CHECK(XmlProblem(svg) == "");
  CHECK(Count(svg, "class=\"square\"") == 1);
  CHECK(Count(svg, ">not estimable</text>") == 2);
  CHECK(Count(svg, ">not pooled</text>") == 2);
  CHECK(Count(svg, "class=\"diamond") == 0);
  CHECK(svg.find("Heterogeneity: not estimable") != std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);

  const std::string missing = ForestPlotSvg(result, "age & <x>", false);
  CHECK(XmlProblem(missing) == "");
  CHECK(missing.find("has no term &apos;age &amp; &lt;x&gt;&apos;") != std::string::npos);
  CHECK(Count(missing, "class=\"square\"") == 0);
}

TEST_CASE("forest plot: a very wide interval is cut at the axis with an arrow", "[forest_plot]") {
  v1::MetaResult result = HandMadeResult();
  result.mutable_terms(0)->mutable_sites(1)->set_std_error(500);  // quasi-separation
  const std::string svg = ForestPlotSvg(result, "sexM", false);
  CHECK(XmlProblem(svg) == "");
  CHECK(Count(svg, "class=\"clipped\"") == 2);
  // The axis still resolves the other sites: its last tick is small.
  CHECK(svg.find(">500</text>") == std::string::npos);
}

TEST_CASE("forest plot: an intercept far from 0 gets no null line", "[forest_plot]") {
  v1::MetaResult result = HandMadeResult();
  v1::MetaTerm& term = *result.mutable_terms(0);
  term.set_term("(Intercept)");
  for (v1::MetaSiteEstimate& site : *term.mutable_sites()) site.set_estimate(site.estimate() + 60);
  term.set_fixed_estimate(60.45);
  term.set_random_estimate(60.42);
  const std::string svg = ForestPlotSvg(result, "(Intercept)", false);
  CHECK(XmlProblem(svg) == "");
  CHECK(Count(svg, "class=\"null\"") == 0);
  CHECK(Count(svg, "class=\"square\"") == 3);
  CHECK(svg.find(">0</text>") == std::string::npos);  // no tick at 0
  CHECK(svg.find(">60.45 [60.28, 60.62]</text>") != std::string::npos);
  // Any other term keeps the null in view, however far.
  term.set_term("age");
  CHECK(Count(ForestPlotSvg(result, "age", false), "class=\"null\"") == 1);
}

// The meta-analysis of `formula` over the reference sites
// (tests/reference/glm_site*.csv), rounds driven in-process.
v1::MetaResult ReferenceMeta(const std::string& formula, const std::string& family) {
  std::vector<DataFrame> sites;
  for (int i = 1; i <= 3; ++i) {
    absl::StatusOr<DataFrame> frame =
        ReadCsvFile("tests/reference/glm_site" + std::to_string(i) + ".csv");
    REQUIRE(frame.ok());
    sites.push_back(*std::move(frame));
  }
  v1::Parameters params;
  SetText(params, "formula", formula);
  SetText(params, "family", family);
  MetaAlgorithm meta;
  absl::StatusOr<v1::Parameters> state = meta.Begin(params);
  REQUIRE(state.ok());
  for (int round = 1; round <= 2; ++round) {
    std::vector<NodeAggregate> aggregates;
    for (size_t i = 0; i < sites.size(); ++i) {
      absl::StatusOr<v1::Aggregate> local = meta.Local({params, *state, round, sites[i]});
      REQUIRE(local.ok());
      aggregates.push_back({"site" + std::to_string(i + 1), *std::move(local)});
    }
    absl::StatusOr<CentralStep> step = meta.Central({params, *state, round, aggregates});
    REQUIRE(step.ok());
    if (step->done) return step->result.meta();
    *state = step->next_round_state;
  }
  FAIL("the meta-analysis did not finish in two rounds");
  return {};
}

// Not run by default: writes forest plots of reference meta-analyses to the
// directory in $FOREST_PLOT_SAMPLE_DIR, for looking at the layout:
//   FOREST_PLOT_SAMPLE_DIR=/tmp build/tests/cli_test "[.forest_plot_sample]"
TEST_CASE("forest plot: sample figures", "[.forest_plot_sample]") {
  const char* dir = std::getenv("FOREST_PLOT_SAMPLE_DIR");
  if (dir == nullptr) return;
  const v1::MetaResult logistic = ReferenceMeta("y_bin ~ age + sex", "binomial");
  const v1::MetaResult gaussian = ReferenceMeta("y_gauss ~ sex + factor(stage)", "gaussian");
  v1::MetaResult wide = HandMadeResult();
  wide.mutable_terms(0)->mutable_sites(1)->set_std_error(500);
  const struct {
    const v1::MetaResult& result;
    const char* term;
    bool exponentiate;
    const char* file;
  } figures[] = {{logistic, "sexM", true, "forest.svg"},
                 {logistic, "age", true, "forest_age.svg"},
                 {gaussian, "(Intercept)", false, "forest_intercept.svg"},
                 {wide, "sexM", false, "forest_wide.svg"}};
  for (const auto& f : figures) {
    std::ofstream(std::string(dir) + "/" + f.file)
        << ForestPlotSvg(f.result, f.term, f.exponentiate);
  }
}

}  // namespace
}  // namespace spoor
