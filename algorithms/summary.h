// "summary": n, missing, mean and standard deviation of numeric variables over
// all nodes, and on request their minimum, maximum and quartiles, each equal
// to R's computation on the pooled data.
//
// Mean and sd. Each node sends, per variable, the count n_i, the number
// missing, the mean m_i and the sum of squared deviations M2_i, each computed
// in two passes with long double accumulation (as R's mean() and var()); the
// mean as a double plus the rest of its long double value, so that
// (m_i - m)^2 below keeps its digits when the mean is large next to the
// spread. The coordinator combines them with the parallel formula of Chan,
// Golub and LeVeque ("Algorithms for computing the sample variance", 1983):
//   n = sum n_i,  m = sum n_i m_i / n,  M2 = sum M2_i + sum n_i (m_i - m)^2,
//   sd = sqrt(M2 / (n - 1))
// which matches R's mean() and sd() on the pooled data to ~1e-15 relative.
//
// Minimum and maximum ("extremes"): each node sends its own; the pooled ones
// are the smallest and the largest over the nodes, exactly R's min() and
// max(). These are individual values, so a node's disclosure gate releases
// them only where its operator allows it (disclosure.allow_extremes).
//
// Quartiles ("quantiles"): exactly R's quantile(x, c(.25, .5, .75), type = 7)
// on the pooled non-missing values (Hyndman and Fan, "Sample quantiles in
// statistical packages", 1996, definition 7). With index = 1 + (n - 1) p,
// k = floor(index) and h = index - k, R returns x_(k), or, when h > 0 and
// x_(k+1) != x_(k), (1 - h) x_(k) + h x_(k+1) (this form, not
// x_(k) + h (x_(k+1) - x_(k)), so that the result is R's to the last bit).
// The order statistics x_(k) are found exactly by bisection on counts: the
// coordinator keeps, for each distinct order statistic it needs, an interval
// (lower, upper] known to hold it, starting from (-inf, DBL_MAX]. Doubles are
// bisected in the order of their bit patterns (a monotone map from doubles to
// 64-bit integers), not by value, so every round divides the number of
// doubles in an interval by 16 (15 thresholds per interval) whatever the
// scale of the data, and after at most 16 rounds every interval is one
// representable step wide: its upper end IS the order statistic. Each round
// every node counts its non-missing values <= each threshold; the
// coordinator adds the counts up, and the order statistic x_(k) lies at or
// below a threshold exactly when the pooled count there is >= k. The nodes
// also count again at the ends of every interval: the pooled counts there
// must not change, so data that a node reloads during the job make the job
// fail rather than bisect towards a wrong value. Order statistics shared by
// several quartiles are bisected once, and intervals share thresholds.
//
// Parameters:
//   "vars"       text list of numeric variable names
//   "extremes"   optional flag: also min and max
//   "quantiles"  optional flag: also q1, median and q3
// Without either flag the result has NaN min, max and quartiles and the job
// takes one round, as before the flags existed.
//
// Rounds and what leaves a node:
//   round 1    per variable, in the order of "vars":
//                "<var>"           vector [n, missing, mean, M2, mean
//                                  residual]
//                "<var>/extremes"  vector [min, max], kind
//                                  BLOCK_KIND_EXTREMES (with "extremes")
//                "<var>/below"     vector of counts of values <= each of the
//                                  round state's "<var>/thresholds" (at most
//                                  102: 15 per interval and its ends), kind
//                                  BLOCK_KIND_QUANTILE_COUNTS (with
//                                  "quantiles"; the thresholds of round 1
//                                  come from Begin, before n is known)
//   round 2..  only with "quantiles", until every interval is resolved
//              (16 rounds in all, whatever the data, unless no variable
//              has a value): "<var>/below" blocks, for the variables whose
//              quartiles are not yet resolved.
//   Every block has record_count = the node's non-missing n of its variable,
//   so min_records applies to each. A node's counts in the last rounds show
//   how many of its values lie in an interval a few representable doubles
//   wide next to a pooled order statistic: they say which node holds it.
//   This is why an operator can refuse them (disclosure.allow_quantiles).
//
// Round state (the coordinator's, which every node receives with each task):
// per variable "<var>/thresholds" (what the nodes count at); after round 1
// also "<var>/pooled" [n, missing, mean, sd, sites, min, max], "<var>/ranks"
// (the distinct order statistics needed) and per rank its interval
// "<var>/lower", "<var>/upper" with the pooled counts at its ends,
// "<var>/below_lower", "<var>/below_upper". So nodes see the pooled moments,
// the pooled extremes and the narrowing intervals of the order statistics,
// i.e. close to the result itself.
//
// Errors: Local names variables, never values; a node's data that change
// between rounds (the pooled counts or n no longer agree with earlier
// rounds) fail the job with FAILED_PRECONDITION; a malformed aggregate is
// INVALID_ARGUMENT naming the node.
#ifndef SPOOR_ALGORITHMS_SUMMARY_H_
#define SPOOR_ALGORITHMS_SUMMARY_H_

#include "algorithms/algorithm.h"

namespace spoor {

// Immutable; thread-safe.
class SummaryAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "summary"; }
  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  // With "quantiles", the thresholds of round 1.
  absl::StatusOr<v1::Parameters> Begin(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_SUMMARY_H_
