// "summary": n, missing, mean and standard deviation of numeric variables over
// all nodes, equal to the pooled computation.
//
// Each node sends, per variable, the count n_i, the number missing, the mean
// m_i and the sum of squared deviations M2_i, each computed in two passes
// with long double accumulation (as R's mean() and var()). The coordinator
// combines them with the parallel formula of Chan, Golub and LeVeque
// ("Algorithms for computing the sample variance", 1983):
//   n = sum n_i,  m = sum n_i m_i / n,  M2 = sum M2_i + sum n_i (m_i - m)^2,
//   sd = sqrt(M2 / (n - 1))
// which matches R's mean() and sd() on the pooled data to ~1e-15 relative.
//
// Parameters: "vars" (text list of numeric variable names).
// Aggregate: one vector block per variable, named after it,
//   [n, missing, mean, M2], record_count = n.
#ifndef SPOOR_ALGORITHMS_SUMMARY_H_
#define SPOOR_ALGORITHMS_SUMMARY_H_

#include "algorithms/algorithm.h"

namespace spoor {

class SummaryAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "summary"; }
  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_SUMMARY_H_
