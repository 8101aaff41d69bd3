#include "algorithms/disclosure_gate.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace spoor {
namespace {

// A refusal of `block` by `rule`. `why` says which limit it broke and gives
// the node's limit, never the block's own value.
GateRefusal Refuse(const char* rule, const v1::Block& block, const std::string& why) {
  return GateRefusal{rule, absl::StrCat("block '", block.name(), "' ", why)};
}

// True if some cell is non-zero and below `minimum`. Zero cells are
// released: a structural zero reveals no person, and refusing them would
// refuse almost every sparse table. Negative cells are below any minimum.
template <typename Counts>
bool HasSmallCell(const Counts& counts, int64_t minimum) {
  for (int64_t count : counts) {
    if (count != 0 && count < minimum) return true;
  }
  return false;
}

}  // namespace

std::optional<GateRefusal> DisclosureGate::Check(const v1::Aggregate& aggregate) const {
  for (const v1::Block& block : aggregate.blocks()) {
    if (std::optional<GateRefusal> refusal = CheckBlock(block)) return refusal;
  }
  return std::nullopt;
}

std::optional<GateRefusal> DisclosureGate::CheckContainer(const v1::Aggregate& aggregate,
                                                          int64_t records) const {
  if (std::optional<GateRefusal> refusal = Check(aggregate)) return refusal;
  int64_t values = 0;
  for (const v1::Block& block : aggregate.blocks()) {
    if (block.kind() != v1::BLOCK_KIND_UNSPECIFIED || block.has_description()) {
      return Refuse("container_kind", block, "is of a kind only built-in algorithms may release");
    }
    if (block.record_count() > records) {
      return Refuse("container_records", block, "claims more records than the dataset holds");
    }
    if (block.has_vector()) values += block.vector().values_size();
    if (block.has_matrix()) values += block.matrix().dimension();
  }
  if (static_cast<double>(values) > rules_.max_parameter_fraction * static_cast<double>(records)) {
    return GateRefusal{
        "row_level", absl::StrCat("the aggregate carries more values than max_parameter_fraction (",
                                  rules_.max_parameter_fraction,
                                  ") of the records behind it: it could hold row-level data")};
  }
  return std::nullopt;
}

std::optional<GateRefusal> DisclosureGate::CheckBlock(const v1::Block& block) const {
  if (block.payload_case() == v1::Block::PAYLOAD_NOT_SET || block.record_count() < 0) {
    return Refuse("typed_aggregate", block, "is not a typed aggregate with a record count");
  }
  if (block.record_count() < rules_.min_records) {
    // Say which block and which threshold; never the count itself.
    return Refuse(
        "min_records", block,
        absl::StrCat("is backed by fewer records than the minimum (", rules_.min_records, ")"));
  }
  if (block.kind() == v1::BLOCK_KIND_EVENT_TIMES && !rules_.allow_event_time_sums) {
    return Refuse("event_time_sums", block,
                  "holds values per individual event time, which this node's policy does not "
                  "release (disclosure.allow_event_time_sums)");
  }
  if (block.kind() == v1::BLOCK_KIND_EXTREMES && !rules_.allow_extremes) {
    return Refuse("extremes", block,
                  "holds the smallest and largest values of a variable, which this node's policy "
                  "does not release (disclosure.allow_extremes)");
  }
  if (block.kind() == v1::BLOCK_KIND_QUANTILE_COUNTS && !rules_.allow_quantiles) {
    return Refuse("quantiles", block,
                  "holds counts of values at or below thresholds for quantiles, which this "
                  "node's policy does not release (disclosure.allow_quantiles)");
  }
  if (block.kind() == v1::BLOCK_KIND_TIMES && rules_.min_time_bin > 0) {
    // The gate checks the values themselves, not the job's parameter: a
    // time that is not a whole multiple of the bin is finer than allowed.
    for (double t : block.vector().values()) {
      const double bins = t / rules_.min_time_bin;
      if (!(std::abs(bins - std::nearbyint(bins)) <= 1e-9 * std::max(1.0, std::abs(bins)))) {
        return Refuse("min_time_bin", block,
                      absl::StrCat("holds times finer than this node's minimum time bin (",
                                   rules_.min_time_bin, "); rerun with --time-bin ",
                                   rules_.min_time_bin, " or a multiple of it"));
      }
    }
  }
  // Rules by payload type: whichever algorithm made the block, a payload of
  // this type is judged the same way.
  switch (block.payload_case()) {
    case v1::Block::kCountTable:
      if (HasSmallCell(block.count_table().counts(), rules_.min_cell_count)) {
        return Refuse("min_cell_count", block,
                      absl::StrCat("has a non-zero cell below the minimum cell count (",
                                   rules_.min_cell_count, ")"));
      }
      break;
    case v1::Block::kHistogram:
      if (HasSmallCell(block.histogram().counts(), rules_.min_cell_count)) {
        return Refuse("min_cell_count", block,
                      absl::StrCat("has a non-zero bin below the minimum cell count (",
                                   rules_.min_cell_count, ")"));
      }
      break;
    case v1::Block::kMatrix: {
      // The dimension is the algorithm's word; the stored triangle is what
      // would leave. Judge p only when the two agree.
      const v1::SymmetricMatrix& matrix = block.matrix();
      uint64_t p = matrix.dimension();
      if (static_cast<uint64_t>(matrix.upper_size()) != p * (p + 1) / 2) {
        return Refuse("typed_aggregate", block,
                      "is a symmetric matrix whose stored triangle does not match its dimension");
      }
      if (static_cast<double>(p) >
          rules_.max_parameter_fraction * static_cast<double>(block.record_count())) {
        return Refuse("max_parameter_fraction", block,
                      absl::StrCat("has more parameters than the maximum fraction (",
                                   rules_.max_parameter_fraction, ") of the records behind it"));
      }
      break;
    }
    case v1::Block::kLevels:
      if (block.levels().values_size() > rules_.max_levels) {
        return Refuse("max_levels", block,
                      absl::StrCat("has more levels than the maximum (", rules_.max_levels, ")"));
      }
      break;
    case v1::Block::kDescription:
      if (block.record_count() % rules_.min_records != 0) {
        return Refuse("catalogue_rounding", block,
                      absl::StrCat("gives a record count that is not rounded to a multiple of "
                                   "the minimum (",
                                   rules_.min_records, ")"));
      }
      for (const v1::VariableDescription& variable : block.description().variables()) {
        if (variable.levels_size() > rules_.max_levels) {
          return Refuse("max_levels", block,
                        absl::StrCat("lists more levels of '", variable.name(),
                                     "' than the maximum (", rules_.max_levels, ")"));
        }
        const double steps = variable.missing_share() / kMissingShareStep;
        if (!(variable.missing_share() >= 0 && variable.missing_share() <= 1) ||
            std::abs(steps - std::round(steps)) > 1e-9) {
          return Refuse("catalogue_rounding", block,
                        absl::StrCat("gives the share missing of '", variable.name(),
                                     "' unrounded (steps of ", kMissingShareStep, ")"));
        }
      }
      break;
    case v1::Block::kVector:
    case v1::Block::PAYLOAD_NOT_SET:
      break;
  }
  return std::nullopt;
}

std::optional<GateRefusal> DisclosureGate::CheckSites(int64_t sites) const {
  if (sites < rules_.min_sites) {
    // The limit only, as for every rule, although the coordinator knows the
    // number of participants anyway.
    return GateRefusal{"min_sites",
                       absl::StrCat("the job runs over fewer sites than this node's minimum (",
                                    rules_.min_sites, ")")};
  }
  return std::nullopt;
}

}  // namespace spoor
