#include "cli/km_plot.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "algorithms/csv_reader.h"
#include "algorithms/km.h"

namespace spoor {
namespace {

// A tiny XML checker: tags balance, one root <svg>, attribute values quoted,
// and every '&' in text or attributes starts an entity. Returns "" when the
// document passes, else what is wrong.
std::string XmlProblem(const std::string& xml) {
  std::vector<std::string> open;
  int roots = 0;
  auto entity_ok = [&xml](size_t amp) {
    for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (xml.compare(amp, std::string(e).size(), e) == 0) return true;
    }
    return false;
  };
  size_t i = 0;
  while (i < xml.size()) {
    if (xml[i] == '&' && !entity_ok(i)) return "bare & in text at " + std::to_string(i);
    if (xml[i] == '>') return "stray > at " + std::to_string(i);
    if (xml[i] != '<') {
      ++i;
      continue;
    }
    if (xml.compare(i, 2, "<?") == 0) {
      size_t end = xml.find("?>", i);
      if (end == std::string::npos) return "unterminated <?";
      i = end + 2;
      continue;
    }
    const bool closing = xml.compare(i, 2, "</") == 0;
    size_t p = i + (closing ? 2 : 1);
    size_t name_end = xml.find_first_of(" \t\n/>", p);
    if (name_end == std::string::npos || name_end == p) return "bad tag at " + std::to_string(i);
    const std::string name = xml.substr(p, name_end - p);
    p = name_end;
    char quote = 0;
    for (; p < xml.size(); ++p) {
      const char c = xml[p];
      if (quote) {
        if (c == quote)
          quote = 0;
        else if (c == '<')
          return "< inside an attribute of <" + name + ">";
        else if (c == '&' && !entity_ok(p))
          return "bare & in an attribute of <" + name + ">";
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
    }
    if (p >= xml.size()) return "unterminated <" + name;
    const bool self_closing = xml[p - 1] == '/';
    if (closing) {
      if (open.empty() || open.back() != name) return "</" + name + "> closes nothing open";
      open.pop_back();
    } else if (!self_closing) {
      if (open.empty()) ++roots;
      open.push_back(name);
    }
    i = p + 1;
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (roots != 1) return "expected one root element";
  return "";
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// The at-risk numbers of each row of the table, in order.
std::vector<std::vector<std::string>> AtRiskRows(const std::string& svg) {
  std::vector<std::vector<std::string>> rows;
  const std::string row_tag = "<g class=\"risk-row\">";
  for (size_t p = svg.find(row_tag); p != std::string::npos; p = svg.find(row_tag, p + 1)) {
    const size_t end = svg.find("</g>", p);
    std::vector<std::string> cells;
    const std::string cell_tag = "class=\"at-risk\">";
    for (size_t c = svg.find(cell_tag, p); c < end; c = svg.find(cell_tag, c + 1)) {
      const size_t start = c + cell_tag.size();
      cells.push_back(svg.substr(start, svg.find('<', start) - start));
    }
    rows.push_back(cells);
  }
  return rows;
}

// n = 10: events at 1 (2), 4 (1), 6 (1); censored at 2, 3 (1 each), 5 and
// 7 (2 each).
v1::KmCurve HandMadeCurve(const std::string& stratum) {
  v1::KmCurve c;
  c.set_stratum(stratum);
  c.set_n(10);
  c.set_events(4);
  const double s1 = 0.8, s2 = s1 * 5 / 6, s3 = s2 * 2 / 3;
  for (auto [t, risk, d, s] : {std::tuple{1.0, 10, 2, s1}, {4.0, 6, 1, s2}, {6.0, 3, 1, s3}}) {
    c.add_time(t);
    c.add_n_risk(risk);
    c.add_n_event(d);
    c.add_survival(s);
    c.add_std_error(0.1);
    c.add_conf_low(s * 0.7);
    c.add_conf_high(std::min(1.0, s * 1.1));
  }
  for (auto [t, n] : {std::pair{2.0, 1}, {3.0, 1}, {5.0, 2}, {7.0, 2}}) {
    c.add_censor_time(t);
    c.add_n_censor(n);
  }
  c.set_median(6);
  return c;
}

TEST_CASE("km plot: number at risk counts records with time >= t", "[km_plot]") {
  v1::KmCurve c = HandMadeCurve("");
  CHECK(KmNumberAtRisk(c, 0) == 10);
  CHECK(KmNumberAtRisk(c, 1) == 10);  // the events at 1 are at risk at 1
  CHECK(KmNumberAtRisk(c, 1.5) == 8);
  CHECK(KmNumberAtRisk(c, 2) == 8);  // so is the record censored at 2
  CHECK(KmNumberAtRisk(c, 4) == 6);  // equals n_risk at the event time
  CHECK(KmNumberAtRisk(c, 6) == 3);
  CHECK(KmNumberAtRisk(c, 7) == 2);
  CHECK(KmNumberAtRisk(c, 8) == 0);
}

TEST_CASE("km plot: ticks are nice numbers covering the range", "[km_plot]") {
  CHECK(KmPlotTicks(0, 7, 6) == std::vector<double>{0, 2, 4, 6, 8});
  CHECK(KmPlotTicks(0, 3000, 6) == std::vector<double>{0, 500, 1000, 1500, 2000, 2500, 3000});
  CHECK(KmPlotTicks(0, 2400, 6) == std::vector<double>{0, 500, 1000, 1500, 2000, 2500});
  std::vector<double> small = KmPlotTicks(0, 1.2, 6);
  REQUIRE(small.size() == 7);
  CHECK(small.back() == Approx(1.2));
}

TEST_CASE("km plot: a well-formed SVG with one curve per stratum", "[km_plot]") {
  v1::KmResult result;
  *result.add_curves() = HandMadeCurve("arm=<A & B>");
  v1::KmCurve second = HandMadeCurve("arm=\"C\"");
  *result.add_curves() = second;
  KmPlotOptions options;
  options.confidence_bands = true;
  options.title = "Overall survival: 'A' & B";
  std::string svg = KmPlotSvg(result, options);

  INFO(svg);
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(XmlProblem(svg) == "");
  CHECK(Count(svg, "<svg ") == 1);
  CHECK(Count(svg, "class=\"curve\"") == 2);
  CHECK(Count(svg, "class=\"band\"") == 4);
  CHECK(Count(svg, "class=\"censor\"") == 2);
  // Four censoring times, one mark each.
  const size_t censor = svg.find("class=\"censor\" d=\"");
  REQUIRE(censor != std::string::npos);
  CHECK(Count(svg.substr(censor, svg.find("/>", censor) - censor), "M") == 4);
  // Legend and table labels, escaped; the raw text appears nowhere.
  CHECK(Count(svg, ">arm=&lt;A &amp; B&gt;</text>") == 2);
  CHECK(Count(svg, ">arm=&quot;C&quot;</text>") == 2);
  CHECK(svg.find("<A & B>") == std::string::npos);
  CHECK(svg.find("Overall survival: &apos;A&apos; &amp; B") != std::string::npos);
  CHECK(svg.find(">Time</text>") != std::string::npos);
  CHECK(svg.find(">Survival probability</text>") != std::string::npos);
  // No external resources.
  CHECK(svg.find("href") == std::string::npos);
  CHECK(svg.find("url(") == std::string::npos);
  // Distinct colours.
  CHECK(Count(svg, "stroke=\"#0072B2\"") >= 1);
  CHECK(Count(svg, "stroke=\"#D55E00\"") >= 1);
}

TEST_CASE("km plot: the at-risk table shows n at risk at the time ticks", "[km_plot]") {
  v1::KmResult result;
  *result.add_curves() = HandMadeCurve("");
  std::string svg = KmPlotSvg(result, KmPlotOptions());
  CHECK(XmlProblem(svg) == "");
  // Ticks 0, 2, 4, 6, 8.
  using Row = std::vector<std::string>;
  CHECK(AtRiskRows(svg) == std::vector<Row>{{"10", "8", "6", "3", "0"}});
  // One unnamed curve: no legend, the table row is "All".
  CHECK(svg.find("class=\"legend\"") == std::string::npos);
  CHECK(svg.find(">All</text>") != std::string::npos);

  // A second stratum gets its own row.
  v1::KmCurve other = HandMadeCurve("arm=B");
  other.set_n(12);
  *result.add_curves() = other;
  result.mutable_curves(0)->set_stratum("arm=A");
  CHECK(AtRiskRows(KmPlotSvg(result, KmPlotOptions())) ==
        std::vector<Row>{{"10", "8", "6", "3", "0"}, {"12", "10", "8", "5", "2"}});
}

TEST_CASE("km plot: options and edge cases", "[km_plot]") {
  KmPlotOptions options;
  options.x_label = "Days since diagnosis";
  options.y_label = "Overall survival";
  v1::KmResult empty;
  std::string svg = KmPlotSvg(empty, options);
  CHECK(XmlProblem(svg) == "");
  CHECK(svg.find(">Days since diagnosis</text>") != std::string::npos);
  CHECK(svg.find(">Overall survival</text>") != std::string::npos);
  CHECK(Count(svg, "class=\"curve\"") == 0);

  // A curve that reaches 0: its confidence limits are NaN there and the
  // bands stop instead of printing "nan" coordinates.
  v1::KmResult result;
  v1::KmCurve c = HandMadeCurve("");
  c.add_time(8);
  c.add_n_risk(2);
  c.add_n_event(2);
  c.add_survival(0);
  c.add_std_error(std::nan(""));
  c.add_conf_low(std::nan(""));
  c.add_conf_high(std::nan(""));
  *result.add_curves() = c;
  result.set_time_bin(30);
  options.confidence_bands = true;
  svg = KmPlotSvg(result, options);
  CHECK(XmlProblem(svg) == "");
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("multiples of 30") != std::string::npos);

  // Nine strata: the palette repeats with dashes.
  v1::KmResult many;
  for (int i = 0; i < 9; ++i) *many.add_curves() = HandMadeCurve("g=" + std::to_string(i));
  svg = KmPlotSvg(many, KmPlotOptions());
  CHECK(XmlProblem(svg) == "");
  CHECK(Count(svg, "class=\"curve\"") == 9);
  CHECK(Count(svg, "stroke-dasharray=\"8 4\"") == 2);  // curve and legend line
}

// Runs km on the reference sites of tests/reference/km.R, as the
// coordinator would.
v1::KmResult ReferenceCurves(const std::string& by, double time_bin) {
  std::vector<DataFrame> nodes;
  for (int k = 1; k <= 3; ++k) {
    absl::StatusOr<DataFrame> frame =
        ReadCsvFile("tests/reference/km_site" + std::to_string(k) + ".csv");
    REQUIRE(frame.ok());
    nodes.push_back(*std::move(frame));
  }
  KmAlgorithm km;
  v1::Parameters params;
  (*params.mutable_values())["time"].set_text("days");
  (*params.mutable_values())["event"].set_text("status");
  if (!by.empty()) (*params.mutable_values())["by"].set_text(by);
  if (time_bin > 0) (*params.mutable_values())["time_bin"].set_number(time_bin);
  v1::Parameters state = *km.Begin(params);
  for (int round = 1; round <= 3; ++round) {
    std::vector<NodeAggregate> aggregates;
    for (const DataFrame& frame : nodes) {
      absl::StatusOr<v1::Aggregate> local = km.Local({params, state, round, frame});
      REQUIRE(local.ok());
      aggregates.push_back({"node", *local});
    }
    absl::StatusOr<CentralStep> step = km.Central({params, state, round, aggregates});
    REQUIRE(step.ok());
    if (step->done) return step->result.km();
    state = step->next_round_state;
  }
  FAIL("km did not finish");
  return {};
}

TEST_CASE("km plot: the reference data plot as a well-formed figure", "[km_plot]") {
  std::string svg = KmPlotSvg(ReferenceCurves("stage", 0), KmPlotOptions());
  CHECK(XmlProblem(svg) == "");
  CHECK(Count(svg, "class=\"curve\"") == 3);
  CHECK(AtRiskRows(svg).size() == 3);
}

// Not run by default: writes figures of the km reference data for a person
// to look at (/tmp/km_sample.svg, /tmp/km_sample_binned.svg):
//   ./build/tests/cli_test "[.km_plot_sample]"
TEST_CASE("km plot: sample figures", "[.km_plot_sample]") {
  KmPlotOptions options;
  options.x_label = "Days";
  options.confidence_bands = true;
  std::ofstream("/tmp/km_sample.svg") << KmPlotSvg(ReferenceCurves("stage", 0), options);
  options.title = "Overall survival, all sites";
  options.x_label = "Days since diagnosis";
  std::ofstream("/tmp/km_sample_binned.svg") << KmPlotSvg(ReferenceCurves("", 30), options);
}

}  // namespace
}  // namespace spoor
