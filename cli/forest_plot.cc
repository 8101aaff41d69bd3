#include "cli/forest_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "algorithms/distributions.h"
#include "cli/svg.h"

namespace spoor {
namespace {

using svg::Escape;
using svg::kFont;
using svg::kFontSize;
using svg::kInk;
using svg::Line;
using svg::Num;
using svg::Text;
using svg::TextWidth;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kRowHeight = 22;
constexpr double kMaxSquare = 16;  // side of the heaviest site's square
constexpr double kMinSquare = 4;
constexpr double kDiamondHalfHeight = 7;
constexpr double kPlotWidth = 320;
constexpr double kWeightColumn = 80;
const char* const kFixedColour = svg::kPalette[0];   // blue
const char* const kRandomColour = svg::kPalette[1];  // vermillion
constexpr char kMuted[] = "#555555";

constexpr char kFixedLabel[] = "Fixed effect";
constexpr char kRandomLabel[] = "Random effects (DL)";

// An estimate and its 95% Wald limits, on the estimate (link) scale.
struct Interval {
  double estimate, low, high;
  bool finite() const {
    return std::isfinite(estimate) && std::isfinite(low) && std::isfinite(high);
  }
};

Interval Wald(double estimate, double std_error) {
  const double half = NormalQuantile(0.975) * std_error;
  return {estimate, estimate - half, estimate + half};
}

std::string Format(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  std::string s = buf;
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s = s.substr(1);
  return s;
}

std::string FormatG(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
  return buf;
}

// What the plot says, from the result: rows, weights, labels.
struct Row {
  std::string label;
  std::string n;      // empty on the pooled rows
  Interval interval;  // on the estimate scale
  // The site's fixed-effect weight relative to the heaviest site's, in
  // (0, 1]; NaN on the pooled rows and for sites left out of the pooling.
  double weight = kNaN;
  std::string weight_fixed, weight_random;
  std::string text;  // "est [low, high]" or why there is none
};

// The measure's name for the axis and the column title.
std::string MeasureName(const v1::MetaResult& result, const std::string& term, bool exponentiate) {
  if (!exponentiate) return "Estimate";
  if (term == "(Intercept)") return "exp(Estimate)";
  if (result.link() == "logit") return "Odds ratio";
  if (result.link() == "log") return "Rate ratio";
  return "exp(Estimate)";
}

// Decimals for the labels: enough to tell the narrowest interval's limits
// apart, from 2 to 6.
int LabelDecimals(const std::vector<Row>& rows, bool exponentiate) {
  double narrowest = std::numeric_limits<double>::infinity();
  for (const Row& row : rows) {
    if (!row.interval.finite()) continue;
    const double width = exponentiate ? std::exp(row.interval.high) - std::exp(row.interval.low)
                                      : row.interval.high - row.interval.low;
    if (width > 0) narrowest = std::min(narrowest, width);
  }
  if (!std::isfinite(narrowest)) return 2;
  return std::clamp(1 - static_cast<int>(std::floor(std::log10(narrowest))), 2, 6);
}

std::vector<Row> BuildRows(const v1::MetaTerm& term, bool exponentiate) {
  std::vector<Row> rows;
  double sum_fixed = 0, sum_random = 0, max_weight = 0;
  const bool pooled = std::isfinite(term.tau2());
  for (const v1::MetaSiteEstimate& site : term.sites()) {
    Row row;
    row.label = site.site();
    row.n = absl::StrCat(site.n());
    row.interval = Wald(site.estimate(), site.std_error());
    if (row.interval.finite() && site.std_error() > 0) {
      row.weight = 1 / (site.std_error() * site.std_error());
      sum_fixed += row.weight;
      if (pooled) sum_random += 1 / (site.std_error() * site.std_error() + term.tau2());
      max_weight = std::max(max_weight, row.weight);
    }
    rows.push_back(std::move(row));
  }
  for (int i = 0; i < term.sites_size(); ++i) {
    Row& row = rows[static_cast<size_t>(i)];
    if (std::isnan(row.weight)) continue;
    const double se = term.sites(i).std_error();
    row.weight_fixed = absl::StrCat(Format(100 * row.weight / sum_fixed, 1), "%");
    if (pooled) {
      row.weight_random = absl::StrCat(Format(100 / (se * se + term.tau2()) / sum_random, 1), "%");
    }
    row.weight /= max_weight;
  }
  Row fixed, random;
  fixed.label = kFixedLabel;
  fixed.interval = Wald(term.fixed_estimate(), term.fixed_std_error());
  random.label = kRandomLabel;
  random.interval = Wald(term.random_estimate(), term.random_std_error());
  fixed.weight_fixed = random.weight_random = pooled ? "100%" : "";
  rows.push_back(std::move(fixed));
  rows.push_back(std::move(random));

  const int decimals = LabelDecimals(rows, exponentiate);
  for (size_t i = 0; i < rows.size(); ++i) {
    Row& row = rows[i];
    const bool site = i + 2 < rows.size();
    if (!row.interval.finite()) {
      row.text = site ? "not estimable" : "not pooled";
      continue;
    }
    auto shown = [&](double v) { return Format(exponentiate ? std::exp(v) : v, decimals); };
    row.text = absl::StrCat(shown(row.interval.estimate), " [", shown(row.interval.low), ", ",
                            shown(row.interval.high), "]");
  }
  return rows;
}

// The horizontal axis, on the estimate scale (the log of the ratio when
// exponentiated), and its ticks.
struct Axis {
  double lo = -1, hi = 1;  // estimate scale
  double left = 0, right = 1;
  std::vector<double> ticks;  // estimate scale
  std::vector<std::string> labels;
  double X(double v) const { return left + (v - lo) / (hi - lo) * (right - left); }
};

// [lo, hi] on the estimate scale, clipped as forest_plot.h says; it
// covers the null only when `anchor_null`.
std::pair<double, double> AxisRange(const std::vector<Row>& rows, bool anchor_null) {
  const size_t sites = rows.size() - 2;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double core_lo = anchor_null ? 0 : kInf, core_hi = anchor_null ? 0 : -kInf;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Interval& v = rows[i].interval;
    if (!v.finite()) continue;
    const bool pooled = i >= sites;
    core_lo = std::min(core_lo, pooled ? v.low : v.estimate);
    core_hi = std::max(core_hi, pooled ? v.high : v.estimate);
  }
  if (core_lo > core_hi) core_lo = core_hi = 0;  // nothing finite
  double span = core_hi - core_lo;
  if (!(span > 0)) span = 1;
  const double allowed_lo = core_lo - 2 * span, allowed_hi = core_hi + 2 * span;
  double lo = core_lo, hi = core_hi;
  for (size_t i = 0; i < sites; ++i) {
    const Interval& v = rows[i].interval;
    if (!v.finite()) continue;
    lo = std::min(lo, std::max(v.low, allowed_lo));
    hi = std::max(hi, std::min(v.high, allowed_hi));
  }
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  const double pad = 0.03 * (hi - lo);
  return {lo - pad, hi + pad};
}

// Ratio-scale ticks for a log axis: 1, 2 and 5 times powers of ten (only
// powers of ten when those are too many); evenly spaced nice ratios when the
// range holds fewer than three of them.
void RatioTicks(Axis& axis) {
  const double r_lo = std::exp(axis.lo), r_hi = std::exp(axis.hi);
  auto collect = [&](std::initializer_list<double> mantissas) {
    std::vector<double> out;
    const int first = static_cast<int>(std::floor(std::log10(r_lo))) - 1;
    const int last = static_cast<int>(std::ceil(std::log10(r_hi))) + 1;
    for (int k = first; k <= last; ++k) {
      for (double m : mantissas) {
        const double t = m * std::pow(10.0, k);
        if (t >= r_lo && t <= r_hi) out.push_back(t);
      }
    }
    return out;
  };
  std::vector<double> ratios = collect({1, 2, 5});
  if (ratios.size() > 9) ratios = collect({1});
  int decimals = -1;  // per tick
  if (ratios.size() < 3) {
    ratios.clear();
    const std::vector<double> nice = svg::NiceTicks(r_lo, r_hi, 4);
    for (double t : nice) {
      if (t > 0 && t >= r_lo && t <= r_hi) ratios.push_back(t);
    }
    decimals = svg::TickDecimals(nice.size() > 1 ? nice[1] - nice[0] : 1);
  }
  for (double t : ratios) {
    axis.ticks.push_back(std::log(t));
    const int d =
        decimals >= 0 ? decimals : std::max(0, -static_cast<int>(std::floor(std::log10(t) + 1e-9)));
    axis.labels.push_back(svg::TickLabel(t, d));
  }
}

Axis MakeAxis(const std::vector<Row>& rows, bool exponentiate, bool anchor_null, double left) {
  Axis axis;
  axis.left = left;
  axis.right = left + kPlotWidth;
  std::tie(axis.lo, axis.hi) = AxisRange(rows, anchor_null);
  if (exponentiate) {
    RatioTicks(axis);
    return axis;
  }
  axis.ticks = svg::NiceTicks(axis.lo, axis.hi, 6);
  axis.lo = axis.ticks.front();
  axis.hi = axis.ticks.back();
  const int decimals = svg::TickDecimals(axis.ticks.size() > 1 ? axis.ticks[1] - axis.ticks[0] : 1);
  for (double t : axis.ticks) axis.labels.push_back(svg::TickLabel(t, decimals));
  return axis;
}

std::string Heterogeneity(const v1::MetaTerm& term) {
  if (!std::isfinite(term.q())) return "Heterogeneity: not estimable (fewer than two sites)";
  const std::string p =
      term.q_p_value() < 0.001 ? "p < 0.001" : absl::StrCat("p = ", FormatG(term.q_p_value(), 2));
  return absl::StrCat("Heterogeneity: \u03c4\u00b2 = ", FormatG(term.tau2(), 3),
                      ", I\u00b2 = ", Format(term.i2(), 1), "%, Q = ", FormatG(term.q(), 3), " on ",
                      term.q_df(), " df, ", p);
}

// Column positions, left to right.
struct Columns {
  double label, n_right, text, weight_fixed_right, weight_random_right, width;
};

Columns Layout(const std::vector<Row>& rows, const std::string& measure_title,
               const std::string& heterogeneity, bool exponentiate, bool anchor_null,
               Axis& axis_out) {
  double label_width = TextWidth("Site"), n_width = TextWidth("n"),
         text_width = TextWidth(measure_title);
  for (const Row& row : rows) {
    label_width = std::max(label_width, TextWidth(row.label));
    n_width = std::max(n_width, TextWidth(row.n));
    text_width = std::max(text_width, TextWidth(row.text));
  }
  Columns c;
  c.label = 16;
  c.n_right = std::round(c.label + label_width + 16 + n_width);
  axis_out = MakeAxis(rows, exponentiate, anchor_null, c.n_right + 24);
  c.text = axis_out.right + 24;
  c.weight_fixed_right = c.text + text_width + kWeightColumn;
  c.weight_random_right = c.weight_fixed_right + kWeightColumn;
  c.width = std::ceil(std::max(c.weight_random_right + 16, TextWidth(heterogeneity) + 32));
  return c;
}

std::string Square(const Axis& axis, double y, const Row& row) {
  const double side = kMinSquare + (kMaxSquare - kMinSquare) * std::sqrt(row.weight);
  return absl::StrCat("<rect class=\"square\" x=\"", Num(axis.X(row.interval.estimate) - side / 2),
                      "\" y=\"", Num(y - side / 2), "\" width=\"", Num(side), "\" height=\"",
                      Num(side), "\" fill=\"", kInk, "\"/>\n");
}

// The interval line, cut at the axis ends with an arrowhead.
std::string IntervalLine(const Axis& axis, double y, const Interval& v) {
  const double lo = std::max(v.low, axis.lo), hi = std::min(v.high, axis.hi);
  std::string out = absl::StrCat("<line class=\"ci\" x1=\"", Num(axis.X(lo)), "\" y1=\"", Num(y),
                                 "\" x2=\"", Num(axis.X(hi)), "\" y2=\"", Num(y), "\"/>\n");
  auto arrow = [&](double x, double direction) {
    return absl::StrCat("<path class=\"clipped\" d=\"M", Num(x), " ", Num(y), "L",
                        Num(x - 6 * direction), " ", Num(y - 4), "L", Num(x - 6 * direction), " ",
                        Num(y + 4), "Z\" fill=\"", kInk, "\"/>\n");
  };
  if (v.low < axis.lo) absl::StrAppend(&out, arrow(axis.X(axis.lo), -1));
  if (v.high > axis.hi) absl::StrAppend(&out, arrow(axis.X(axis.hi), 1));
  return out;
}

std::string Diamond(const Axis& axis, double y, const Interval& v, const char* kind,
                    const char* colour) {
  return absl::StrCat("<polygon class=\"diamond ", kind, "\" points=\"", Num(axis.X(v.low)), ",",
                      Num(y), " ", Num(axis.X(v.estimate)), ",", Num(y - kDiamondHalfHeight), " ",
                      Num(axis.X(v.high)), ",", Num(y), " ", Num(axis.X(v.estimate)), ",",
                      Num(y + kDiamondHalfHeight), "\" fill=\"", colour, "\" stroke=\"", colour,
                      "\"/>\n");
}

std::string Header(const std::string& title, const std::string& subtitle, double width,
                   double height) {
  std::string svg = absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", Num(width),
                                 "\" height=\"", Num(height), "\" viewBox=\"0 0 ", Num(width), " ",
                                 Num(height), "\" font-family=\"", kFont, "\" font-size=\"",
                                 kFontSize, "\" fill=\"", kInk, "\">\n");
  absl::StrAppend(&svg, "<title>", Escape(absl::StrCat("Forest plot: ", title)), "</title>\n");
  absl::StrAppend(&svg, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
  absl::StrAppend(&svg, Text(16, 26, title, "start",
                             " class=\"term\" font-size=\"15\" "
                             "font-weight=\"bold\""));
  absl::StrAppend(&svg, Text(16, 44, subtitle, "start",
                             absl::StrCat(" class=\"subtitle\" fill=\"", kMuted, "\"")));
  return svg;
}

std::string MissingTerm(const v1::MetaResult& result, const std::string& term) {
  const std::string note = absl::StrCat("The meta-analysis has no term '", term, "'.");
  const double width = std::max(400.0, TextWidth(note) + 32);
  std::string svg =
      Header(term, absl::StrCat(result.family(), " (", result.link(), ")"), width, 90);
  absl::StrAppend(&svg, Text(16, 72, note, "start", " class=\"note\""), "</svg>\n");
  return svg;
}

}  // namespace

std::string ForestPlotSvg(const v1::MetaResult& result, const std::string& term,
                          bool exponentiate) {
  const v1::MetaTerm* found = nullptr;
  for (const v1::MetaTerm& t : result.terms()) {
    if (t.term() == term) found = &t;
  }
  if (found == nullptr) return MissingTerm(result, term);

  const std::vector<Row> rows = BuildRows(*found, exponentiate);
  const size_t sites = rows.size() - 2;
  const std::string measure = MeasureName(result, term, exponentiate);
  const std::string measure_title = absl::StrCat(measure, " [95% CI]");
  const std::string heterogeneity = Heterogeneity(*found);
  Axis axis;
  // An intercept's null (log odds 0, a mean of 0) is rarely of interest:
  // the axis follows the data and the null line shows only if it falls in.
  const Columns c =
      Layout(rows, measure_title, heterogeneity, exponentiate, term != "(Intercept)", axis);

  // Rows, top to bottom: column titles, sites, the two pooled rows, the
  // axis and the heterogeneity line.
  constexpr double kTitlesY = 70, kRuleY = 78;
  auto row_y = [&](size_t i) {
    return kRuleY + kRowHeight / 2 + 4 + kRowHeight * static_cast<double>(i) + (i >= sites ? 8 : 0);
  };
  const double separator_y = row_y(sites) - kRowHeight / 2 - 4;
  const double plot_bottom = row_y(rows.size() - 1) + kRowHeight / 2 + 6;
  const double height = std::ceil(plot_bottom + 80);

  std::string svg =
      Header(term,
             absl::StrCat("Two-stage meta-analysis, ", result.family(), " (", result.link(), "); ",
                          exponentiate ? "exponentiated estimates" : "estimates on the link scale"),
             c.width, height);

  absl::StrAppend(&svg, "<g class=\"column-titles\" font-weight=\"bold\">\n",
                  Text(c.label, kTitlesY, "Site", "start"), Text(c.n_right, kTitlesY, "n", "end"),
                  Text(c.text, kTitlesY, measure_title, "start"),
                  Text(c.weight_fixed_right, kTitlesY, "Weight FE", "end"),
                  Text(c.weight_random_right, kTitlesY, "Weight RE", "end"), "</g>\n");
  absl::StrAppend(&svg, "<g class=\"rules\" stroke=\"", kInk, "\" stroke-width=\"0.8\">\n",
                  Line(c.label, kRuleY, c.width - 16, kRuleY),
                  Line(c.label, separator_y, c.width - 16, separator_y), "</g>\n");

  // The null line, under everything drawn in the plot area.
  if (axis.lo <= 0 && axis.hi >= 0) {
    absl::StrAppend(&svg, "<line class=\"null\" x1=\"", Num(axis.X(0)), "\" y1=\"", Num(kRuleY),
                    "\" x2=\"", Num(axis.X(0)), "\" y2=\"", Num(plot_bottom), "\" stroke=\"",
                    kMuted, "\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\n");
  }

  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const double y = row_y(i);
    const bool site = i < sites;
    absl::StrAppend(&svg, "<g class=\"", site ? "site" : "pooled", "\">\n");
    absl::StrAppend(&svg,
                    Text(c.label, y + 4, row.label, "start",
                         site ? " class=\"label\"" : " class=\"label\" font-weight=\"bold\""));
    if (!row.n.empty()) absl::StrAppend(&svg, Text(c.n_right, y + 4, row.n, "end"));
    if (row.interval.finite()) {
      if (site) {
        absl::StrAppend(&svg, "<g stroke=\"", kInk, "\" stroke-width=\"1.3\">\n",
                        IntervalLine(axis, y, row.interval), "</g>\n");
        if (std::isfinite(row.weight)) absl::StrAppend(&svg, Square(axis, y, row));
      } else if (i == sites) {
        absl::StrAppend(&svg, Diamond(axis, y, row.interval, "fixed", kFixedColour));
      } else {
        absl::StrAppend(&svg, Diamond(axis, y, row.interval, "random", kRandomColour));
      }
    }
    absl::StrAppend(
        &svg, Text(c.text, y + 4, row.text, "start",
                   row.interval.finite() ? " class=\"value\""
                                         : absl::StrCat(" class=\"value\" fill=\"", kMuted, "\"")));
    if (!row.weight_fixed.empty()) {
      absl::StrAppend(&svg, Text(c.weight_fixed_right, y + 4, row.weight_fixed, "end"));
    }
    if (!row.weight_random.empty()) {
      absl::StrAppend(&svg, Text(c.weight_random_right, y + 4, row.weight_random, "end"));
    }
    absl::StrAppend(&svg, "</g>\n");
  }

  // Axis.
  absl::StrAppend(&svg, "<g class=\"axis\" stroke=\"", kInk, "\" stroke-width=\"1\">\n",
                  Line(axis.left, plot_bottom, axis.right, plot_bottom));
  for (double t : axis.ticks) {
    absl::StrAppend(&svg, Line(axis.X(t), plot_bottom, axis.X(t), plot_bottom + 5));
  }
  absl::StrAppend(&svg, "</g>\n<g class=\"tick-labels\">\n");
  for (size_t i = 0; i < axis.ticks.size(); ++i) {
    absl::StrAppend(&svg, Text(axis.X(axis.ticks[i]), plot_bottom + 19, axis.labels[i], "middle"));
  }
  absl::StrAppend(&svg, "</g>\n");
  absl::StrAppend(&svg, Text((axis.left + axis.right) / 2, plot_bottom + 38, measure, "middle",
                             " class=\"x-label\" font-size=\"13\""));
  absl::StrAppend(
      &svg, Text(c.label, plot_bottom + 64, heterogeneity, "start", " class=\"heterogeneity\""));
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

}  // namespace spoor
