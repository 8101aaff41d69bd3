#include "algorithms/disclosure_gate.h"

#include "absl/strings/str_cat.h"

namespace spoor {

std::optional<GateRefusal> DisclosureGate::Check(const v1::Aggregate& aggregate) const {
  for (const v1::Block& block : aggregate.blocks()) {
    if (block.payload_case() == v1::Block::PAYLOAD_NOT_SET || block.record_count() < 0) {
      return GateRefusal{"typed_aggregate",
                         absl::StrCat("block '", block.name(),
                                      "' is not a typed aggregate with a record count")};
    }
    if (block.record_count() < rules_.min_records) {
      // Say which block and which threshold; never the count itself.
      return GateRefusal{
          "min_records",
          absl::StrCat("block '", block.name(), "' is backed by fewer records than the minimum (",
                       rules_.min_records, ")")};
    }
  }
  return std::nullopt;
}

}  // namespace spoor
