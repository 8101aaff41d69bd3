// Kaplan-Meier curves as a standalone SVG figure, laid out the way survival
// curves are printed in clinical papers: step curves per stratum, censoring
// marks, optional dashed 95% confidence limits, a legend, and the number at
// risk below the time axis.
//
// The document has no external resources (no fonts, images or style sheets):
// it renders the same in a browser, an office suite or rsvg-convert. Colours
// are the Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008),
// distinguishable with the common colour-vision deficiencies; beyond eight
// strata the colours repeat with a dashed line.
//
// Number at risk at time t: the records still under observation at t, i.e.
// with a time >= t, the convention of R's survfit (n.risk) and of
// survminer's risk tables. It is derived from the curve alone:
//   n - (events at times < t) - (censorings at times < t),
// using KmCurve.n, n_event at the event times and n_censor at the censoring
// times; so a record censored at t is still at risk at t.
#ifndef SPOOR_CLI_KM_PLOT_H_
#define SPOOR_CLI_KM_PLOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "spoor/v1/job.pb.h"

namespace spoor {

struct KmPlotOptions {
  std::string title;  // empty: no title
  std::string x_label = "Time";
  std::string y_label = "Survival probability";
  // Dashed lines at the 95% confidence limits (conf_low, conf_high).
  bool confidence_bands = false;
  // Width of the whole figure in pixels; the height follows from the plot
  // height plus the number-at-risk table (one row per stratum).
  int width = 800;
  int plot_height = 380;
  // Right end of the time axis; 0 or less: the last time of any curve,
  // rounded up to a tick.
  double max_time = 0;
};

// The SVG document (UTF-8, starting with the XML declaration). Every text
// (title, labels, stratum names) is XML-escaped. A result without curves
// gives empty axes. Pure function; thread-safe.
std::string KmPlotSvg(const v1::KmResult& result, const KmPlotOptions& options);

// Records with a time >= t in `curve` (see above); 0 beyond its last time.
int64_t KmNumberAtRisk(const v1::KmCurve& curve, double t);

// "Nice" tick positions (steps of 1, 2, 2.5 or 5 times a power of ten)
// covering [lo, hi] with about `target` intervals: the first tick <= lo, the
// last >= hi. Requires lo < hi and target >= 1.
std::vector<double> KmPlotTicks(double lo, double hi, int target);

}  // namespace spoor

#endif  // SPOOR_CLI_KM_PLOT_H_
