#include "algorithms/count.h"

#include "absl/strings/str_cat.h"

namespace spoor {

absl::Status CountAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  return absl::OkStatus();
}

absl::StatusOr<v1::Aggregate> CountAlgorithm::Local(const LocalRequest& request) const {
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name("records");
  block->set_record_count(static_cast<int64_t>(request.frame.num_rows()));
  block->mutable_vector()->add_values(static_cast<double>(request.frame.num_rows()));
  return aggregate;
}

absl::StatusOr<CentralStep> CountAlgorithm::Central(const CentralRequest& request) const {
  int64_t total = 0;
  for (const NodeAggregate& node : request.aggregates) {
    if (node.aggregate.blocks_size() != 1 || !node.aggregate.blocks(0).has_vector()) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", node.node_id, " sent a malformed count aggregate"));
    }
    total += node.aggregate.blocks(0).record_count();
  }
  CentralStep step;
  step.done = true;
  step.result.mutable_count()->set_records(total);
  return step;
}

}  // namespace spoor
