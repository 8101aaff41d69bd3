// "catalogue": what a node holds in one dataset, for researchers deciding
// what to ask (FAIR's findability): the operator's descriptive metadata, the
// variables with their types, factor levels and share missing, and the
// number of records. As far as the node's disclosure rules let it say:
//   - records are rounded down to a multiple of min_records (a dataset
//     smaller than min_records is refused, like any block);
//   - levels are withheld for a variable with more than max_levels (often an
//     identifier), instead of refusing the whole description;
//   - the share missing is given in steps of 0.05, rounded up from any
//     non-zero share.
// The disclosure gate checks all three on the block itself, whoever made it.
// The central step lists each node's description; nothing is pooled.
#ifndef SPOOR_ALGORITHMS_CATALOGUE_H_
#define SPOOR_ALGORITHMS_CATALOGUE_H_

#include <string>
#include <vector>

#include "algorithms/algorithm.h"

namespace spoor {

class CatalogueAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "catalogue"; }
  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  // Needs request.rules (FAILED_PRECONDITION without them); uses
  // request.metadata when set.
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_CATALOGUE_H_
