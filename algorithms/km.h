// "km": Kaplan-Meier survival curves over all nodes, equal to R's
// summary(survfit(Surv(time, event) ~ by, conf.type = "log-log")) on the
// pooled data.
//
// Method: the product-limit estimator (Kaplan & Meier, "Nonparametric
// estimation from incomplete observations", JASA 53:457-481, 1958),
//   S(t) = prod_{t_i <= t} (1 - d_i / n_i),
// with Greenwood's variance (Greenwood, "The natural duration of cancer",
// Reports on Public Health and Medical Subjects 33, HMSO, 1926) as R's
// survival::survfit computes it:
//   se_H(t) = sqrt(sum_{t_i <= t} d_i / (n_i (n_i - d_i))),
//   std_error(t) = S(t) se_H(t)                 (summary.survfit "std.err"),
//   95% limits = exp(-exp(log(-log S) -/+ z se_H / log S))   (log-log),
// z = qnorm(0.975). Where S(t) = 0 the standard error and both limits are NaN
// (R: NaN and NA). n_i counts the records with time >= t_i: a record censored
// at t_i is still at risk at t_i. The median is print.survfit's: the first
// event time with S <= 0.5 (within sqrt(machine epsilon)); where S is 0.5 there,
// the midpoint between that time and the next event time; NaN if the curve
// never reaches 0.5.
//
// Complete cases over time, event and by (survfit's na.omit). The event is
// read as R's Surv() reads it: FALSE/TRUE (T/F, true/false), or numeric 1/2
// when the largest value is 2 (2 = event), else 0/1. Like Surv(), the coding
// is decided over every record with a non-missing event, complete or not.
// Any other code is INVALID_ARGUMENT (R would turn it into NA with a warning).
// Because the coding depends on the pooled maximum, each node reports the
// codes it saw and the coordinator reconciles them: a node whose events are
// all 1 reads them locally as 0/1 (all events); when another node has a 2 the
// pooled coding is 1/2 and the coordinator counts that node's records as
// censored, as R would. A 0 anywhere together with a 2 anywhere is
// INVALID_ARGUMENT.
//
// Parameters:
//   "time"      text: numeric follow-up variable
//   "event"     text: status variable (see above)
//   "by"        optional text: grouping variable, categorical or numeric (a
//               numeric variable is used as a factor; its levels are its
//               values as R formats them, "1", "2.5")
//   "time_bin"  optional number > 0: each node rounds every time up to the
//               next multiple of the bin, ceiling(t / bin) * bin, before
//               counting. A node policy may impose it; the result records it
//               in KmResult.time_bin (0 when times are exact).
//
// Rounds (the round state carries "phase"):
//   levels  Only with "by". Each node reports the levels of `by` among its
//           complete cases: one Levels block named after the variable,
//           record_count = its complete cases. The coordinator sorts their
//           union as R sorts factor levels (numerically when every level is
//           a number, else by bytes) and sends it back as "levels".
//   counts  Each node returns, for every stratum it has records in (R's
//           stratum name: "sex=F", or "all" without "by"), three parallel
//           vector blocks over the distinct times at that node (after
//           binning), ascending:
//             "<stratum>/time"      the distinct times
//             "<stratum>/events"    events at each time
//             "<stratum>/censored"  records censored at each time
//           each with record_count = the node's records in the stratum (a
//           stratum a node has no records in has no blocks, so the gate never
//           sees an empty block), and one Levels block "event_codes": the
//           distinct event codes the node saw, "0", "1", "2" (FALSE/TRUE as
//           "0"/"1"), record_count = records with a non-missing event. The
//           coordinator adds the counts per stratum and time, derives n_risk
//           and computes the curves.
//
// What leaves a node: per stratum, the exact (or binned) times at which
// records had an event or were censored, with their counts. Exact times are
// disclosive: a time with a count of 1 is one patient's follow-up (or death)
// day, which may identify that patient when combined with other knowledge.
// The node's policy can impose binning (time_bin) to coarsen them; the
// disclosure gate then judges each stratum block by its record count.
//
// Result (KmResult): one KmCurve per stratum in level order, listing the
// distinct event times only (as summary.survfit prints by default), with n,
// events, the median, and the censoring times and counts for plotting.
//
// Local() names variables in its errors, never values.
#ifndef SPOOR_ALGORITHMS_KM_H_
#define SPOOR_ALGORITHMS_KM_H_

#include "algorithms/algorithm.h"

namespace spoor {

// Immutable; thread-safe.
class KmAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "km"; }
  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Parameters> Begin(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_KM_H_
