// "meta": a two-stage meta-analysis of a generalised linear model. Each node
// fits the GLM on its own data; the coordinator pools the per-site
// coefficients, term by term, as a meta-analysis of the sites would.
//
// Method:
//   - Stage 1: at each site, R's glm() on that site's complete cases (the
//     same IRLS as the "glm" algorithm, see glm.h; the node runs
//     GlmAlgorithm's rounds in-process on its own data only).
//   - Stage 2, per model column with k >= 2 sites whose estimate b_i and
//     standard error s_i are finite (s_i > 0):
//       fixed effect, inverse-variance: w_i = 1 / s_i^2,
//         est = sum w_i b_i / sum w_i, se = 1 / sqrt(sum w_i);
//       Cochran's Q = sum w_i (b_i - est_fixed)^2 on k - 1 df (upper
//         chi-square p-value);
//       DerSimonian & Laird, "Meta-analysis in clinical trials", Controlled
//         Clinical Trials 7:177-188 (1986):
//         tau2 = max(0, (Q - df) / (sum w - sum w^2 / sum w)),
//         random effects with w*_i = 1 / (s_i^2 + tau2), est and se as above;
//       I2 = 100 * max(0, (Q - df) / Q) (Higgins & Thompson, Stat Med 2002),
//         0 when Q = 0.
//     Estimates' p-values are two-sided normal. These equal metafor's
//     rma(yi, sei = se, method = "FE") and rma(..., method = "DL") (tests:
//     meta_test.cc against tests/reference/meta.R, written in base R).
//   - A column with a single such site keeps its site row, with NaN pooled
//     statistics, tau2, Q and I2 (q_df = 0); a column no site can estimate
//     (aliased everywhere) has NaN throughout. Sites whose estimate is not
//     finite (aliased there, e.g. a factor level the site lacks) are listed
//     with NaN estimate and standard error and left out of the pooling.
//
// Parameters (as glm's, see glm.h):
//   "formula"         text; a plain response
//   "family"          text: gaussian | binomial | poisson
//   "weights"         optional text: numeric column of prior weights
//   "max_iterations"  optional integer >= 1, default 25, per site fit
//   "epsilon"         optional, as glm's
//
// Rounds (the round state carries "phase"; the GLM's own state travels
// inside it, base64-encoded, under "glm_state", so this algorithm does not
// depend on how GlmAlgorithm lays out its state):
//   levels    GlmAlgorithm's levels round, delegated as is: each node
//             reports the levels of the factor variables among its complete
//             cases and its number of complete cases; the coordinator
//             unions the levels, so that every site builds the same model
//             columns (a level a site lacks gives an all-zero, aliased
//             column there).
//   site_fit  Each node runs GlmAlgorithm's fit (and, for models with an
//             offset and an intercept, null) rounds in-process on its own
//             frame, GlmAlgorithm::Central on its single aggregate, until
//             the fit is done, at most 2 (max_iterations + 1)^2 + 1 rounds.
//             It returns DenseVector blocks
//               "estimates"   one per model column, NaN where aliased
//               "std_errors"  likewise
//               "n"           [complete cases]
//             each with record_count = the node's complete cases.
//
// Disclosure. What leaves a node is more than the federated GLM releases:
// the site's own coefficient estimates, standard errors and case count,
// i.e. the site's regression table, not just its share of pooled sums
// (DataSHIELD's ds.glmSLMA releases the same per-study estimates). The
// in-process GLM aggregates never leave the node, so the node's disclosure
// gate judges only the released blocks above: their record_count is the
// node's complete cases, so min_records applies to the site fit. The gate's
// max_parameter_fraction rule applies to symmetric matrices only, so the
// node checks the same limit itself: Local refuses with FAILED_PRECONDITION
// when the model has more columns than 0.33 times its complete cases (the
// gate's default fraction, DataSHIELD's nfilter.glm; fixed here, since the
// algorithm cannot see the node's configuration). It also refuses a site
// fit that did not converge within max_iterations (FAILED_PRECONDITION:
// raise max_iterations), since MetaSiteEstimate has no place for R's
// warnings; the other glm.fit warnings (e.g. fitted probabilities 0 or 1)
// are not reported.
//
// Errors name variables and nodes, never values. Thread-safe (as
// GlmAlgorithm, whose per-node cache it uses for the in-process rounds).
#ifndef SPOOR_ALGORITHMS_META_H_
#define SPOOR_ALGORITHMS_META_H_

#include "algorithms/algorithm.h"
#include "algorithms/glm.h"

namespace spoor {

class MetaAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "meta"; }
  // As GlmAlgorithm's.
  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Parameters> Begin(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;

 private:
  GlmAlgorithm glm_;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_META_H_
