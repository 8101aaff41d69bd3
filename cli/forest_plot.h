// The forest plot of one term of a two-stage meta-analysis ("meta", see
// algorithms/meta.h) as a standalone SVG figure, laid out as in clinical
// meta-analyses (Lewis & Clarke, "Forest plots: trying to see the wood and
// the trees", BMJ 322:1479, 2001; metafor's forest()):
//
//   - a header with the term and the family, and column titles;
//   - one row per site: its name and n, a square at the estimate whose area
//     is proportional to the site's fixed-effect (inverse-variance) weight,
//     a horizontal line for its 95% Wald interval (estimate -/+
//     qnorm(0.975) * std_error), "est [low, high]" and its fixed- and
//     random-effects weights in percent; a site whose estimate is not finite
//     (aliased there) reads "not estimable" and has no square;
//   - a diamond for the fixed effect and one for the DerSimonian-Laird random
//     effects (centre at the estimate, tips at the 95% limits), with the same
//     labels; "not pooled" when fewer than two sites estimate the term;
//   - a dashed vertical line at the null (0, or 1 when exponentiated); for
//     "(Intercept)", whose null is rarely of interest, the axis follows the
//     data and the line shows only when the null falls inside it;
//   - the axis, and under it the heterogeneity: tau2, I2, Q, its df and p.
//
// exponentiate = true shows exp() of the estimates and limits (odds ratios
// for a binomial model, rate ratios for a poisson one) on a log-scaled axis;
// the intervals are exp() of the Wald limits, never estimate -/+ something
// on the ratio scale.
//
// The axis covers every interval, the null and the pooled intervals, but
// reaches no further beyond either end than twice the span of the point
// estimates, pooled intervals and null: a site interval reaching further (e.g. a huge
// standard error at a site with quasi-separation) is cut at the edge and
// ends in an arrowhead.
//
// The document has no external resources and uses the colours, font and
// escaping of the other figures (cli/svg.h): every text (term, site names)
// is XML-escaped. A term the result does not hold gives a figure with the
// header and a note saying so. Pure function; thread-safe.
#ifndef SPOOR_CLI_FOREST_PLOT_H_
#define SPOOR_CLI_FOREST_PLOT_H_

#include <string>

#include "spoor/v1/job.pb.h"

namespace spoor {

// The SVG document (UTF-8, starting with the XML declaration) for `term`
// (a MetaTerm.term, e.g. "sexM") of `result`.
std::string ForestPlotSvg(const v1::MetaResult& result, const std::string& term, bool exponentiate);

}  // namespace spoor

#endif  // SPOOR_CLI_FOREST_PLOT_H_
