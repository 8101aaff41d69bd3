// The node's disclosure gate: every aggregate passes it before it leaves the
// node, whichever algorithm (built in or container) produced it. The gate
// judges only the typed aggregate and the record counts it carries, so it
// does not have to trust the algorithm.
//
// Rules (configured by the node operator in node.toml [disclosure]):
//   typed_aggregate  every block has a typed payload and a record count >= 0
//   min_records      every block is backed by at least min_records records
//                    (default 10)
// A refusal names the rule and the block, never the value that broke it.
#ifndef SPOOR_ALGORITHMS_DISCLOSURE_GATE_H_
#define SPOOR_ALGORITHMS_DISCLOSURE_GATE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "spoor/v1/aggregate.pb.h"

namespace spoor {

struct DisclosureRules {
  int64_t min_records = 10;
};

struct GateRefusal {
  std::string rule;     // "min_records"
  std::string message;  // human-readable, safe to send to the researcher
};

// Immutable; thread-safe.
class DisclosureGate {
 public:
  explicit DisclosureGate(DisclosureRules rules) : rules_(rules) {}

  // nullopt if `aggregate` may be released, else the first rule it breaks.
  std::optional<GateRefusal> Check(const v1::Aggregate& aggregate) const;

  const DisclosureRules& rules() const { return rules_; }

 private:
  DisclosureRules rules_;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_DISCLOSURE_GATE_H_
