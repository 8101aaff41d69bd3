// Secure aggregation over typed aggregates (common/secure_aggregation.h holds
// the cryptography). The summed numbers of an aggregate are, block by block
// in order: the block's record_count, then its payload's numbers (a count
// table's counts, a vector's values, a symmetric matrix's upper triangle, a
// histogram's counts). Everything else (names, labels, levels, histogram
// edges, descriptions) is structure and travels as it is.
//
// A NaN travels as 0 with a missing-value flag (also summed, also masked):
// the total is NaN where any node's number was.
//
// A node masks the summed numbers (MaskAggregate); the coordinator adds the
// masked vectors of every participant and decodes the total
// (SumMaskedAggregates), never seeing one node's numbers. Thread-safe.
#ifndef SPOOR_COMMON_MASKED_AGGREGATE_H_
#define SPOOR_COMMON_MASKED_AGGREGATE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/secure_aggregation.h"
#include "spoor/v1/aggregate.pb.h"
#include "spoor/v1/job.pb.h"

namespace spoor::secagg {

// Default fixed point: 2^-32 resolution, |value| < 2^31 / participants.
inline constexpr int kDefaultFractionBits = 32;

// The summed numbers of `aggregate`, in the order above.
std::vector<double> SummedValues(const v1::Aggregate& aggregate);

// `aggregate` with every summed number set to zero.
v1::Aggregate Structure(const v1::Aggregate& aggregate);

// The shape of the summed part (block names, payload kinds and lengths):
// aggregates whose numbers can be added position by position have the same.
std::string SummedShape(const v1::Aggregate& aggregate);

// Writes `values` (in SummedValues order) into `structure`; counts are
// rounded to the nearest integer. INVALID_ARGUMENT on a length mismatch.
absl::Status FillSummed(const std::vector<double>& values, v1::Aggregate& structure);

// The node's side: checks every participant's key announcement against the
// consortium CA (`ca_pem`, at `now`), then masks `aggregate`'s summed
// numbers for `scope`. PERMISSION_DENIED when an announcement does not check
// (the coordinator may have substituted a key) or this node's own key is
// not the one announced for it; OUT_OF_RANGE / INVALID_ARGUMENT from the
// fixed-point encoding (a value too large, or not finite).
absl::StatusOr<v1::MaskedAggregate> MaskAggregate(const v1::Aggregate& aggregate,
                                                  const AgreementKey& key,
                                                  const std::string& node_id,
                                                  const v1::SecureAggregation& secure,
                                                  const MaskScope& scope, const std::string& ca_pem,
                                                  absl::Time now);

// The coordinator's side: the total of every participant's masked
// aggregate, decoded; its structure is the first's. INVALID_ARGUMENT when
// the aggregates differ in shape or number, or none are given.
absl::StatusOr<v1::Aggregate> SumMaskedAggregates(const std::vector<v1::MaskedAggregate>& masked,
                                                  int fraction_bits);

}  // namespace spoor::secagg

#endif  // SPOOR_COMMON_MASKED_AGGREGATE_H_
