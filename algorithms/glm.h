// "glm": a generalised linear model fitted over all nodes, equal to R's
// glm() / summary.glm() on the pooled data.
//
// Method: iteratively reweighted least squares, i.e. Fisher scoring
// (McCullagh & Nelder, "Generalized Linear Models", 2nd ed., 1989, §2.5),
// step for step as R's glm.fit() runs it, so that estimates, deviance and
// the iteration count agree with R. Each iteration only needs the pooled
// X'WX and X'Wz, which are sums over nodes of the same quantities; rows never
// leave a node.
//
// Families: gaussian (identity link), binomial (logit), poisson (log), each
// with R's family functions (mustart, linkinv clamping, deviance residuals,
// aic). Optional prior weights (a numeric column) and offsets
// (offset(v) / offset(log(v)) in the formula).
//
// Parameters:
//   "formula"         text; a plain response (no Surv(), no strata())
//   "family"          text: gaussian | binomial | poisson
//   "weights"         optional text: numeric column of prior weights (>= 0)
//   "max_iterations"  optional integer >= 1, default 25 (glm.control maxit)
//   "epsilon"         optional number > 0, default 1e-8 (glm.control epsilon)
//
// Rounds (all of them carry "phase" in the round state):
//   levels  Each node reports, over its complete cases (the formula's
//           variables and the weights), one Levels block per factor variable
//           (named after the variable) and a vector block "n" = [cases]. The
//           coordinator unions the levels and fixes R's column names.
//   fit     IRLS. The state carries iteration k and beta_k (k = 0: start from
//           R's mustart: binomial (w y + 0.5) / (w + 1), poisson y + 0.1,
//           gaussian y; eta = linkfun(mustart)). Each node evaluates eta,
//           mu at beta_k and returns, at beta_k:
//             "xtwx"  SymmetricMatrix X'WX
//             "xtwz"  vector X'Wz (z the working response)
//             "stats" vector [deviance, n, sum of prior weights, Pearson
//                     chi-square, cases with weight > 0, sum w*y, family
//                     log-likelihood part of the AIC, fitted values
//                     numerically 0/1 (0 or 1, a flag), deviance of the null
//                     model (when computable, else NaN), non-integer
//                     binomial successes (flag)]
//           every block with record_count = the node's complete cases.
//           The coordinator, like glm.fit's loop body, takes dev_k, tests
//           |dev_k - dev_{k-1}| / (|dev_k| + 0.1) < epsilon, and otherwise
//           solves X'W_k X beta_{k+1} = X'W_k z_k. So a fit R reports with
//           `iter` = K takes K + 1 fit rounds. A non-finite deviance halves the
//           step towards the previous coefficients, as glm.fit does.
//   null    Only for a model with an intercept and an offset: R refits the
//           intercept-only model with the same offset and weights, starting
//           from the full model's fitted values, for the null deviance; the
//           same IRLS rounds with X = 1. Otherwise the null deviance is the
//           deviance at R's weighted mean of y (intercept) or at
//           linkinv(offset) (no intercept), computed inside the fit rounds.
//
// Result (summary.glm):
//   - Aliased columns are found as glm.fit's pivoting QR finds them, by the
//     left-to-right test of algorithms/gram_solve.h on the pooled X'WX, and
//     reported with aliased = true and NaN estimates, as R's NA.
//   - Standard errors: sqrt(dispersion * diag((X'WX)^-1)) with W of the last
//     IRLS iteration, i.e. evaluated at the coefficients before the final
//     ones, exactly as summary.glm uses glm.fit's last QR. Dispersion 1 for
//     binomial and poisson, Pearson chi-square / df_residual for gaussian.
//   - Statistic: z (binomial, poisson) with normal p-values, t (gaussian)
//     with p-values of Student's t on df_residual degrees of freedom.
//   - conf_low / conf_high: 95% WALD intervals, estimate -/+ qnorm(0.975) *
//     std_error. They are NOT R's confint() for glm, which profiles the
//     likelihood (MASS); they equal confint.default().
//   - aic: R's family aic() + 2 * rank; deviance, null deviance, df_residual,
//     df_null, iterations, converged and R's warnings ("glm.fit: algorithm
//     did not converge", "glm.fit: fitted probabilities numerically 0 or 1
//     occurred", ...).
//
// Local() names variables in its errors, never values.
#ifndef SPOOR_ALGORITHMS_GLM_H_
#define SPOOR_ALGORITHMS_GLM_H_

#include "algorithms/algorithm.h"
#include "algorithms/local_cache.h"

namespace spoor {

class GlmAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "glm"; }
  // Central only adds the nodes' cross-products and counts.
  bool secure_aggregation() const override { return true; }
  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Parameters> Begin(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;

  struct LocalData;  // the model matrix, response and weights of a node

 private:
  LocalCache<LocalData> cache_;  // between the rounds of a job
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_GLM_H_
