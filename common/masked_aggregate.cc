#include "common/masked_aggregate.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace spoor::secagg {
namespace {

// How many summed numbers a block's payload holds.
int64_t PayloadLength(const v1::Block& block) {
  switch (block.payload_case()) {
    case v1::Block::kCountTable:
      return block.count_table().counts_size();
    case v1::Block::kVector:
      return block.vector().values_size();
    case v1::Block::kMatrix:
      return block.matrix().upper_size();
    case v1::Block::kHistogram:
      return block.histogram().counts_size();
    default:
      return 0;
  }
}

// SummedValues(aggregate).size(), without building the vector.
size_t SummedCount(const v1::Aggregate& aggregate) {
  size_t count = 0;
  for (const v1::Block& block : aggregate.blocks()) {
    count += 1 + static_cast<size_t>(PayloadLength(block));  // record_count, payload
  }
  return count;
}

}  // namespace

std::vector<double> SummedValues(const v1::Aggregate& aggregate) {
  std::vector<double> out;
  for (const v1::Block& block : aggregate.blocks()) {
    out.push_back(static_cast<double>(block.record_count()));
    switch (block.payload_case()) {
      case v1::Block::kCountTable:
        for (int64_t c : block.count_table().counts()) out.push_back(static_cast<double>(c));
        break;
      case v1::Block::kVector:
        out.insert(out.end(), block.vector().values().begin(), block.vector().values().end());
        break;
      case v1::Block::kMatrix:
        out.insert(out.end(), block.matrix().upper().begin(), block.matrix().upper().end());
        break;
      case v1::Block::kHistogram:
        for (int64_t c : block.histogram().counts()) out.push_back(static_cast<double>(c));
        break;
      default:
        break;
    }
  }
  return out;
}

v1::Aggregate Structure(const v1::Aggregate& aggregate) {
  v1::Aggregate out = aggregate;
  std::vector<double> zeros(SummedCount(aggregate), 0.0);
  FillSummed(zeros, out).IgnoreError();  // same shape by construction
  return out;
}

std::string SummedShape(const v1::Aggregate& aggregate) {
  std::string shape;
  for (const v1::Block& block : aggregate.blocks()) {
    absl::StrAppend(&shape, block.name(), "/", static_cast<int>(block.payload_case()), "/",
                    PayloadLength(block), ";");
  }
  return shape;
}

absl::Status FillSummed(const std::vector<double>& values, v1::Aggregate& structure) {
  if (const size_t expected = SummedCount(structure); values.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "secure aggregation: ", values.size(), " summed values for an aggregate of ", expected));
  }
  auto count = [](double v) { return static_cast<int64_t>(std::llround(v)); };
  size_t i = 0;
  for (v1::Block& block : *structure.mutable_blocks()) {
    block.set_record_count(count(values[i++]));
    switch (block.payload_case()) {
      case v1::Block::kCountTable:
        for (int64_t& c : *block.mutable_count_table()->mutable_counts()) c = count(values[i++]);
        break;
      case v1::Block::kVector:
        for (double& v : *block.mutable_vector()->mutable_values()) v = values[i++];
        break;
      case v1::Block::kMatrix:
        for (double& v : *block.mutable_matrix()->mutable_upper()) v = values[i++];
        break;
      case v1::Block::kHistogram:
        for (int64_t& c : *block.mutable_histogram()->mutable_counts()) c = count(values[i++]);
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::MaskedAggregate> MaskAggregate(const v1::Aggregate& aggregate,
                                                  const AgreementKey& key,
                                                  const std::string& node_id,
                                                  const v1::SecureAggregation& secure,
                                                  const MaskScope& scope, const std::string& ca_pem,
                                                  absl::Time now) {
  std::vector<Peer> peers;
  bool self_listed = false;
  for (const v1::KeyAnnouncement& announced : secure.participants()) {
    absl::Status verified =
        VerifyKeyAnnouncement(ca_pem, announced.certificate_pem(), announced.node_id(),
                              announced.public_key(), announced.signature(), now);
    if (!verified.ok()) {
      return absl::PermissionDeniedError(absl::StrCat("secure aggregation: the key announced for ",
                                                      announced.node_id(),
                                                      " does not check: ", verified.message()));
    }
    if (announced.node_id() == node_id) {
      if (announced.public_key() != key.public_key()) {
        return absl::PermissionDeniedError(
            "secure aggregation: the key announced for this node is not its key");
      }
      self_listed = true;
    }
    peers.push_back({announced.node_id(), announced.public_key()});
  }
  if (!self_listed) {
    return absl::PermissionDeniedError("secure aggregation: this node is not a participant");
  }
  if (peers.size() < 2) {
    return absl::FailedPreconditionError(
        "secure aggregation needs at least two participants: one node's sum is its own numbers");
  }
  SPOOR_ASSIGN_OR_RETURN(
      FixedPointCodec codec,
      FixedPointCodec::Create(secure.fraction_bits(), static_cast<int>(peers.size())));
  // The numbers, then one missing-value flag per number: a NaN (an
  // algorithm's "not available", e.g. glm's null deviance before it can be
  // computed) is sent as 0 with its flag 1, and the total is NaN wherever
  // some node's flag was, as a plain sum would be.
  std::vector<double> values = SummedValues(aggregate);
  const size_t n = values.size();
  values.resize(2 * n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(values[i])) {
      values[i] = 0;
      values[n + i] = 1;
    }
  }
  SPOOR_ASSIGN_OR_RETURN(std::vector<uint64_t> mask,
                         PairwiseMask(key, node_id, peers, scope, values.size()));
  SPOOR_ASSIGN_OR_RETURN(std::vector<uint64_t> masked, MaskValues(values, codec, mask));
  v1::MaskedAggregate out;
  *out.mutable_structure() = Structure(aggregate);
  out.mutable_masked()->Assign(masked.begin(), masked.end());
  return out;
}

absl::StatusOr<v1::Aggregate> SumMaskedAggregates(const std::vector<v1::MaskedAggregate>& masked,
                                                  int fraction_bits) {
  if (masked.empty()) return absl::InvalidArgumentError("secure aggregation: nothing to add up");
  const std::string shape = SummedShape(masked.front().structure());
  std::vector<std::vector<uint64_t>> vectors;
  for (const v1::MaskedAggregate& one : masked) {
    if (SummedShape(one.structure()) != shape ||
        static_cast<size_t>(one.masked_size()) != 2 * SummedCount(one.structure())) {
      return absl::InvalidArgumentError(
          "secure aggregation: the nodes' aggregates differ in shape, so their sums cannot be "
          "added; a node's data or software may have changed during the job");
    }
    vectors.emplace_back(one.masked().begin(), one.masked().end());
  }
  SPOOR_ASSIGN_OR_RETURN(FixedPointCodec codec,
                         FixedPointCodec::Create(fraction_bits, static_cast<int>(masked.size())));
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> sums, UnmaskSum(vectors, codec));
  const size_t n = sums.size() / 2;
  for (size_t i = 0; i < n; ++i) {
    if (sums[n + i] > 0.5) sums[i] = std::numeric_limits<double>::quiet_NaN();
  }
  sums.resize(n);
  v1::Aggregate total = masked.front().structure();
  SPOOR_RETURN_IF_ERROR(FillSummed(sums, total));
  return total;
}

}  // namespace spoor::secagg
