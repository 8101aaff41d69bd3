#include "algorithms/catalogue.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace spoor {

absl::Status CatalogueAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  return absl::OkStatus();
}

absl::StatusOr<v1::Aggregate> CatalogueAlgorithm::Local(const LocalRequest& request) const {
  if (request.rules == nullptr) {
    return absl::FailedPreconditionError("catalogue: the node's disclosure rules are required");
  }
  const DisclosureRules& rules = *request.rules;
  const DataFrame& frame = request.frame;
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name("description");
  const auto records = static_cast<int64_t>(frame.num_rows());
  block->set_record_count(records / rules.min_records * rules.min_records);
  v1::DatasetDescription* description = block->mutable_description();
  if (request.metadata != nullptr) {
    const DatasetMetadata& metadata = *request.metadata;
    description->set_title(metadata.title);
    description->set_description(metadata.description);
    description->set_contact(metadata.contact);
    description->set_licence(metadata.licence);
    for (const std::string& keyword : metadata.keywords) description->add_keywords(keyword);
  }
  for (const Column& column : frame.columns()) {
    v1::VariableDescription* variable = description->add_variables();
    variable->set_name(column.name());
    variable->set_categorical(column.type() == ColumnType::kCategorical);
    if (column.type() == ColumnType::kCategorical) {
      if (static_cast<int64_t>(column.levels().size()) > rules.max_levels) {
        variable->set_levels_withheld(true);
      } else {
        for (const std::string& level : column.levels()) variable->add_levels(level);
      }
    }
    // Steps of kMissingShareStep, rounded up so that some missing never
    // reads as none (the small epsilon keeps an exact step from rounding up).
    double share = 0;
    if (column.missing_count() > 0) {
      const double exact =
          static_cast<double>(column.missing_count()) / static_cast<double>(records);
      const double steps = std::max(1.0, std::ceil(exact / kMissingShareStep - 1e-9));
      share = std::min(1.0, steps * kMissingShareStep);
    }
    variable->set_missing_share(share);
  }
  return aggregate;
}

absl::StatusOr<CentralStep> CatalogueAlgorithm::Central(const CentralRequest& request) const {
  CentralStep step;
  step.done = true;
  v1::CatalogueResult* result = step.result.mutable_catalogue();
  for (const NodeAggregate& node : request.aggregates) {
    if (node.aggregate.blocks_size() != 1 || !node.aggregate.blocks(0).has_description()) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", node.node_id, " sent a malformed catalogue aggregate"));
    }
    v1::NodeCatalogue* entry = result->add_nodes();
    entry->set_node_id(node.node_id);
    entry->set_records_rounded(node.aggregate.blocks(0).record_count());
    *entry->mutable_description() = node.aggregate.blocks(0).description();
  }
  return step;
}

}  // namespace spoor
