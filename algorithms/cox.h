// "cox": the Cox proportional hazards model over all nodes, equal to R's
// survival::coxph on the pooled data.
//
// Method: Newton-Raphson on the partial likelihood (Cox, JRSS B 1972), step
// for step as survival's coxfit6 runs it (Therneau & Grambsch, "Modeling
// Survival Data", 2000, ch. 3): start at beta = 0; the score test is
// U' I^-1 U there; each iteration evaluates the log partial likelihood, the
// score U and the information I at the new coefficients, stops when
// |1 - l_old / l_new| <= epsilon (and the last step was not halved), halves
// the step when the likelihood went down, else takes beta + I^-1 U. Ties by
// Efron's approximation (the default, as R) or Breslow's. Standard errors
// from I^-1 at the final coefficients; Wald, likelihood-ratio and score
// tests on the number of estimable coefficients. Aliased columns: see
// algorithms/gram_solve.h.
//
// Two ways to combine sites:
//   stratified by site (the default): each node is its own stratum (and
//     strata() in the formula subdivides it), so every risk set lies within
//     one node. A node returns only its partial likelihood, score and
//     information at the coefficients it is sent: R's
//     coxph(Surv(t, e) ~ x + strata(site)).
//   pooled ("pooled" = true): one baseline hazard across sites, R's plain
//     coxph. Risk sets span nodes, so each node returns, for every event
//     time of any node (gathered in a first round), the sums over its own
//     records at risk there and over its deaths. These per-event-time sums
//     are far more revealing than a score and an information matrix: the
//     node releases them only when its policy says
//     disclosure.allow_event_time_sums = true (blocks of kind EVENT_TIMES;
//     see algorithms/disclosure_gate.h). Per iteration a node sends
//     (2 + 2p + p(p+1)) doubles per event time at which it has records in
//     the bucket, at most one per event time: bounded by the number of
//     distinct event times, which the node's time binning limits.
//
// Covariates are centred (by the node's own means when stratified by site,
// by the pooled means in pooled mode) before exp(x'beta); the partial
// likelihood does not depend on it, only the rounding does.
//
// Parameters:
//   "formula"         text: Surv(time, event) ~ terms [+ strata(g)]
//   "ties"            optional text: efron (default) | breslow
//   "pooled"          optional flag, default false
//   "max_iterations"  optional integer >= 1, default 20 (coxph.control)
//   "epsilon"         optional number > 0, default 1e-9 (coxph.control)
//
// Rounds: "levels" (factor levels as for glm, plus cases and events),
// "times" (pooled only: each node's distinct event times per stratum), then
// one "fit" round per evaluation of the likelihood, the first at beta = 0.
// So a model R reports with `iter` = K takes K + 2 rounds (K + 3 pooled).
//
// Local() names variables in its errors, never values.
#ifndef SPOOR_ALGORITHMS_COX_H_
#define SPOOR_ALGORITHMS_COX_H_

#include "algorithms/algorithm.h"
#include "algorithms/local_cache.h"

namespace spoor {

class CoxAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "cox"; }
  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Parameters> Begin(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;

  struct LocalData;  // a node's model matrix, times, events and strata

 private:
  LocalCache<LocalData> cache_;  // between the rounds of a job
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_COX_H_
