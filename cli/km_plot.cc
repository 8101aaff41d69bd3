#include "cli/km_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"
#include "cli/svg.h"

namespace spoor {
namespace {

using svg::Escape;
using svg::kFont;
using svg::kFontSize;
using svg::kInk;
using svg::kPalette;
using svg::kPaletteSize;
using svg::Line;
using svg::Num;
using svg::Text;
using svg::TextWidth;
using svg::TickDecimals;
using svg::TickLabel;

constexpr double kRowHeight = 18;
constexpr double kCensorTick = 5;  // half-height of a censoring mark

std::string Label(const v1::KmCurve& curve) {
  return curve.stratum().empty() ? "All" : curve.stratum();
}

// The last time a curve covers: its last event or censoring.
double LastTime(const v1::KmCurve& curve) {
  double last = -std::numeric_limits<double>::infinity();
  if (curve.time_size() > 0) last = curve.time(curve.time_size() - 1);
  if (curve.censor_time_size() > 0)
    last = std::max(last, curve.censor_time(curve.censor_time_size() - 1));
  return last;
}

// S(t): the estimate after every event at times <= t.
double SurvivalAt(const v1::KmCurve& curve, double t) {
  double s = 1;
  for (int i = 0; i < curve.time_size() && curve.time(i) <= t; ++i) s = curve.survival(i);
  return s;
}

// Maps data to pixels.
struct Frame {
  double left, right, top, bottom;  // the plot area
  double t_lo, t_hi;                // the time axis
  double X(double t) const { return left + (t - t_lo) / (t_hi - t_lo) * (right - left); }
  double Y(double p) const { return bottom - p * (bottom - top); }
};

std::string StepPath(const Frame& f, const v1::KmCurve& curve) {
  std::string d = absl::StrCat("M", Num(f.X(f.t_lo)), " ", Num(f.Y(1)));
  for (int i = 0; i < curve.time_size(); ++i) {
    absl::StrAppend(&d, "H", Num(f.X(curve.time(i))), "V", Num(f.Y(curve.survival(i))));
  }
  const double last = LastTime(curve);
  if (std::isfinite(last)) absl::StrAppend(&d, "H", Num(f.X(last)));
  return d;
}

// A confidence limit as a step line; it stops where the limit is undefined
// (NaN, once the curve reaches 0).
std::string LimitPath(const Frame& f, const v1::KmCurve& curve,
                      const google::protobuf::RepeatedField<double>& limit) {
  std::string d = absl::StrCat("M", Num(f.X(f.t_lo)), " ", Num(f.Y(1)));
  for (int i = 0; i < curve.time_size() && i < limit.size(); ++i) {
    absl::StrAppend(&d, "H", Num(f.X(curve.time(i))));
    if (std::isnan(limit[i])) return d;
    absl::StrAppend(&d, "V", Num(f.Y(limit[i])));
  }
  const double last = LastTime(curve);
  if (std::isfinite(last)) absl::StrAppend(&d, "H", Num(f.X(last)));
  return d;
}

std::string CensorPath(const Frame& f, const v1::KmCurve& curve) {
  std::string d;
  for (int i = 0; i < curve.censor_time_size(); ++i) {
    const double x = f.X(curve.censor_time(i));
    const double y = f.Y(SurvivalAt(curve, curve.censor_time(i)));
    absl::StrAppend(&d, "M", Num(x), " ", Num(y - kCensorTick), "V", Num(y + kCensorTick));
  }
  return d;
}

// Whether a box spanning times [t_a, t_b] and probabilities [p_lo, p_hi]
// stays clear of every curve (and of the bands when they are drawn).
bool BoxIsClear(const v1::KmResult& result, bool bands, double t_a, double t_b, double p_lo,
                double p_hi) {
  for (const v1::KmCurve& curve : result.curves()) {
    const double end = LastTime(curve);
    if (!(end >= t_a)) continue;  // the curve stops before the box
    double high = SurvivalAt(curve, t_a);
    double low = SurvivalAt(curve, std::min(t_b, end));
    if (bands) {
      for (int i = 0; i < curve.time_size(); ++i) {
        if (curve.time(i) > std::min(t_b, end)) break;
        if (curve.time(i) >= t_a || i + 1 == curve.time_size() || curve.time(i + 1) > t_a) {
          if (!std::isnan(curve.conf_high(i))) high = std::max(high, curve.conf_high(i));
          if (!std::isnan(curve.conf_low(i))) low = std::min(low, curve.conf_low(i));
        }
      }
    }
    const bool below = high < p_lo;
    const bool above = low > p_hi;
    if (!below && !above) return false;
  }
  return true;
}

struct Box {
  double x, y, width, height;
};

// Top right, else bottom left, else bottom right, whichever is clear first;
// top right when none is.
Box PlaceLegend(const v1::KmResult& result, const Frame& f, bool bands, double width,
                double height) {
  constexpr double kPad = 10;
  const Box candidates[] = {
      {f.right - kPad - width, f.top + kPad, width, height},
      {f.left + kPad, f.bottom - kPad - height, width, height},
      {f.right - kPad - width, f.bottom - kPad - height, width, height},
  };
  auto time_at = [&f](double x) {
    return f.t_lo + (x - f.left) / (f.right - f.left) * (f.t_hi - f.t_lo);
  };
  auto prob_at = [&f](double y) { return (f.bottom - y) / (f.bottom - f.top); };
  for (const Box& b : candidates) {
    if (BoxIsClear(result, bands, time_at(b.x), time_at(b.x + b.width), prob_at(b.y + b.height),
                   prob_at(b.y))) {
      return b;
    }
  }
  return candidates[0];
}

}  // namespace

int64_t KmNumberAtRisk(const v1::KmCurve& curve, double t) {
  int64_t gone = 0;
  for (int i = 0; i < curve.time_size() && i < curve.n_event_size(); ++i) {
    if (curve.time(i) < t) gone += curve.n_event(i);
  }
  for (int i = 0; i < curve.censor_time_size() && i < curve.n_censor_size(); ++i) {
    if (curve.censor_time(i) < t) gone += curve.n_censor(i);
  }
  return std::max<int64_t>(0, curve.n() - gone);
}

std::vector<double> KmPlotTicks(double lo, double hi, int target) {
  return svg::NiceTicks(lo, hi, target);
}

std::string KmPlotSvg(const v1::KmResult& result, const KmPlotOptions& options) {
  const int strata = result.curves_size();
  const bool single = strata == 1 && result.curves(0).stratum().empty();

  // Time axis: from 0 (or an earlier time) to the last time of any curve.
  double t_lo = 0, t_hi = 0;
  for (const v1::KmCurve& curve : result.curves()) {
    if (curve.time_size() > 0) t_lo = std::min(t_lo, curve.time(0));
    if (curve.censor_time_size() > 0) t_lo = std::min(t_lo, curve.censor_time(0));
    const double last = LastTime(curve);
    if (std::isfinite(last)) t_hi = std::max(t_hi, last);
  }
  if (options.max_time > 0) t_hi = options.max_time;
  if (!(t_hi > t_lo)) t_hi = t_lo + 1;
  const std::vector<double> x_ticks = KmPlotTicks(t_lo, t_hi, 6);
  const int x_decimals = TickDecimals(x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1);

  // Layout, top to bottom: title, plot, time axis, number-at-risk table.
  // The left margin holds the y tick labels and the y label, and the table's
  // stratum labels, which end left of the (centred) at-risk numbers under
  // the first tick.
  int64_t largest_n = 0;
  for (const v1::KmCurve& curve : result.curves()) largest_n = std::max(largest_n, curve.n());
  const double number_half_width = TextWidth(absl::StrCat(largest_n)) / 2;
  double left_margin = TextWidth("0.00") + 36;
  for (const v1::KmCurve& curve : result.curves()) {
    // 16: room for glyphs wider than the layout estimate at the figure edge.
    left_margin = std::max(left_margin, 16 + TextWidth(Label(curve)) + 10 + number_half_width);
  }
  Frame f;
  f.left = std::round(left_margin);
  f.right = options.width - 30;
  f.top = options.title.empty() ? 20 : 48;
  f.bottom = f.top + options.plot_height;
  f.t_lo = x_ticks.front();
  f.t_hi = x_ticks.back();
  const double axis_label_y = f.bottom + 44;
  const double table_title_y = axis_label_y + 34;
  const double table_first_row_y = table_title_y + 22;
  double end_y = table_first_row_y + kRowHeight * std::max(0, strata - 1);
  const bool binned = result.time_bin() > 0;
  if (binned) end_y += 28;
  const int height = static_cast<int>(std::ceil(end_y + 16));

  std::string svg = absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"",
                                 options.width, "\" height=\"", height, "\" viewBox=\"0 0 ",
                                 options.width, " ", height, "\" font-family=\"", kFont,
                                 "\" font-size=\"", kFontSize, "\" fill=\"", kInk, "\">\n");
  absl::StrAppend(&svg, "<title>",
                  Escape(options.title.empty() ? "Kaplan-Meier curves" : options.title),
                  "</title>\n");
  absl::StrAppend(&svg, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
  if (!options.title.empty()) {
    absl::StrAppend(
        &svg, Text(f.left, 24, options.title, "start", " font-size=\"15\" font-weight=\"bold\""));
  }

  // Axes: lines, ticks, tick labels, axis labels.
  absl::StrAppend(&svg, "<g class=\"axes\" stroke=\"", kInk, "\" stroke-width=\"1\">\n");
  absl::StrAppend(&svg, Line(f.left, f.bottom, f.right, f.bottom),
                  Line(f.left, f.bottom, f.left, f.top));
  for (double t : x_ticks) absl::StrAppend(&svg, Line(f.X(t), f.bottom, f.X(t), f.bottom + 5));
  for (int i = 0; i <= 5; ++i)
    absl::StrAppend(&svg, Line(f.left - 5, f.Y(i / 5.0), f.left, f.Y(i / 5.0)));
  absl::StrAppend(&svg, "</g>\n<g class=\"tick-labels\">\n");
  for (double t : x_ticks)
    absl::StrAppend(&svg, Text(f.X(t), f.bottom + 20, TickLabel(t, x_decimals), "middle"));
  for (int i = 0; i <= 5; ++i) {
    absl::StrAppend(&svg, Text(f.left - 9, f.Y(i / 5.0) + 4, TickLabel(i / 5.0, 1), "end"));
  }
  absl::StrAppend(&svg, "</g>\n");
  absl::StrAppend(&svg, Text((f.left + f.right) / 2, axis_label_y, options.x_label, "middle",
                             " class=\"x-label\" font-size=\"13\""));
  const double y_label_x = f.left - TextWidth("0.0") - 24;
  absl::StrAppend(
      &svg,
      Text(0, 0, options.y_label, "middle",
           absl::StrCat(" class=\"y-label\" font-size=\"13\" transform=\"translate(",
                        Num(y_label_x), " ", Num((f.top + f.bottom) / 2), ") rotate(-90)\"")));

  // Curves, then bands and censoring marks over them.
  for (int s = 0; s < strata; ++s) {
    const v1::KmCurve& curve = result.curves(s);
    const char* colour = kPalette[s % kPaletteSize];
    const std::string dash = s >= kPaletteSize ? " stroke-dasharray=\"8 4\"" : "";
    absl::StrAppend(&svg, "<g class=\"stratum\" stroke=\"", colour, "\" fill=\"none\">\n");
    absl::StrAppend(&svg, "<path class=\"curve\" d=\"", StepPath(f, curve), "\" stroke-width=\"2\"",
                    dash, "/>\n");
    if (options.confidence_bands) {
      for (const auto* limit : {&curve.conf_low(), &curve.conf_high()}) {
        absl::StrAppend(
            &svg, "<path class=\"band\" d=\"", LimitPath(f, curve, *limit),
            "\" stroke-width=\"1\" stroke-dasharray=\"4 3\" stroke-opacity=\"0.8\"/>\n");
      }
    }
    const std::string marks = CensorPath(f, curve);
    if (!marks.empty()) {
      absl::StrAppend(&svg, "<path class=\"censor\" d=\"", marks, "\" stroke-width=\"1.3\"/>\n");
    }
    absl::StrAppend(&svg, "</g>\n");
  }

  // Legend (not for a single unnamed curve).
  if (strata > 0 && !single) {
    double text_width = 0;
    for (const v1::KmCurve& curve : result.curves())
      text_width = std::max(text_width, TextWidth(Label(curve)));
    const Box box = PlaceLegend(result, f, options.confidence_bands, 24 + 8 + text_width + 16,
                                kRowHeight * strata + 10);
    absl::StrAppend(&svg, "<g class=\"legend\">\n<rect x=\"", Num(box.x), "\" y=\"", Num(box.y),
                    "\" width=\"", Num(box.width), "\" height=\"", Num(box.height),
                    "\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"none\"/>\n");
    for (int s = 0; s < strata; ++s) {
      const double y = box.y + 5 + kRowHeight * s + kRowHeight / 2;
      absl::StrAppend(&svg, "<line x1=\"", Num(box.x + 8), "\" y1=\"", Num(y), "\" x2=\"",
                      Num(box.x + 32), "\" y2=\"", Num(y), "\" stroke=\"",
                      kPalette[s % kPaletteSize], "\" stroke-width=\"2\"",
                      s >= kPaletteSize ? " stroke-dasharray=\"8 4\"" : "", "/>\n");
      absl::StrAppend(&svg, Text(box.x + 40, y + 4, Label(result.curves(s)), "start",
                                 " class=\"legend-label\""));
    }
    absl::StrAppend(&svg, "</g>\n");
  }

  // Number at risk at the time ticks, one row per stratum.
  absl::StrAppend(&svg, "<g class=\"risk-table\">\n");
  absl::StrAppend(&svg, Text(8, table_title_y, "Number at risk", "start", " font-weight=\"bold\""));
  for (int s = 0; s < strata; ++s) {
    const v1::KmCurve& curve = result.curves(s);
    const double y = table_first_row_y + kRowHeight * s;
    absl::StrAppend(&svg, "<g class=\"risk-row\">\n");
    absl::StrAppend(&svg, Text(f.left - number_half_width - 10, y, Label(curve), "end",
                               absl::StrCat(" fill=\"", kPalette[s % kPaletteSize], "\"")));
    for (double t : x_ticks) {
      absl::StrAppend(&svg, Text(f.X(t), y, absl::StrCat(KmNumberAtRisk(curve, t)), "middle",
                                 " class=\"at-risk\""));
    }
    absl::StrAppend(&svg, "</g>\n");
  }
  absl::StrAppend(&svg, "</g>\n");
  if (binned) {
    char bin[32];
    std::snprintf(bin, sizeof(bin), "%g", result.time_bin());
    absl::StrAppend(
        &svg,
        Text(8, end_y, absl::StrCat("Times rounded up to multiples of ", bin, " at the nodes."),
             "start", " class=\"note\" font-size=\"11\" fill=\"#555555\""));
  }
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

}  // namespace spoor
