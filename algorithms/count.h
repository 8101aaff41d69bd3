// "count": the number of records per node, summed. The smallest possible
// federated job, used by health checks and the round-trip benchmark. The
// disclosure gate judges its one block like any other.
#ifndef SPOOR_ALGORITHMS_COUNT_H_
#define SPOOR_ALGORITHMS_COUNT_H_

#include "algorithms/algorithm.h"

namespace spoor {

class CountAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "count"; }
  bool secure_aggregation() const override { return true; }
  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_COUNT_H_
