// The node's disclosure gate: every aggregate passes it before it leaves the
// node, whichever algorithm (built in or container) produced it. The gate
// judges only the typed aggregate and the record counts it carries, so it
// does not have to trust the algorithm: every block is checked against every
// rule that applies to its payload type, whatever the algorithm meant it for.
//
// Rules (configured by the node operator in node.toml [disclosure]):
//   typed_aggregate         every block has a typed payload and a record
//                           count >= 0; a symmetric matrix's upper triangle
//                           has the size its dimension says
//   min_records             every block is backed by at least min_records
//                           records (default 10)
//   min_cell_count          every non-zero cell of a count table and every
//                           non-zero bin of a histogram is at least
//                           min_cell_count (default 5); a small non-zero cell
//                           singles out a few people
//   max_parameter_fraction  a symmetric matrix of dimension p backed by n
//                           records is refused when p > fraction * n (default
//                           0.33, DataSHIELD's nfilter.glm): a model with
//                           nearly as many parameters as records can be
//                           solved for individual records (X'WX of a GLM or
//                           Cox model is such a matrix)
//   max_levels              a levels block lists at most max_levels values
//                           (default 40); a categorical variable with many
//                           levels is often an identifier
//   event_time_sums         a block of kind BLOCK_KIND_EVENT_TIMES (values per
//                           individual event time: pooled Cox) is refused
//                           unless allow_event_time_sums (default false)
//   extremes                a block of kind BLOCK_KIND_EXTREMES (a node's
//                           smallest and largest values of a variable:
//                           individual values) is refused unless
//                           allow_extremes (default false)
//   quantiles               a block of kind BLOCK_KIND_QUANTILE_COUNTS (counts
//                           of values at or below thresholds, for exact
//                           quantiles by bisection) is refused unless
//                           allow_quantiles (default true). Near a quantile
//                           the thresholds are a few representable doubles
//                           apart, so the counts say how many of the node's
//                           values lie in that narrow interval, e.g. that it
//                           holds the median
//   min_time_bin            a block of kind BLOCK_KIND_TIMES (Kaplan-Meier's
//                           times) holds only whole multiples of
//                           min_time_bin when it is > 0 (default 0: exact
//                           times); the researcher reruns with --time-bin
//   catalogue_rounding      a dataset description (the catalogue) gives its
//                           record count as a multiple of min_records and
//                           each variable's share missing in steps of 0.05;
//                           its levels lists obey max_levels
// Container algorithms (CheckContainer) must also obey, since their shapes
// were not reviewed with this code:
//   container_kind          no block of a special kind (event times,
//                           extremes, quantile counts, times) and no dataset
//                           description: those are released only by the
//                           built-in algorithms that need them
//   container_records       no block claims more records than the (filtered)
//                           dataset holds
//   row_level               the aggregate's vector values and matrix
//                           dimensions together number at most
//                           max_parameter_fraction of the dataset's records:
//                           more could be the records themselves
//   min_sites               a job runs over at least min_sites nodes (default
//                           3), so that a pooled result is not one or two
//                           hospitals' data in disguise. Checked before the
//                           algorithm runs, from the task's participants
//                           (CheckSites), not by Check.
// A refusal names the rule, the block and the node's limit, never the value
// that broke it.
#ifndef SPOOR_ALGORITHMS_DISCLOSURE_GATE_H_
#define SPOOR_ALGORITHMS_DISCLOSURE_GATE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "spoor/v1/aggregate.pb.h"

namespace spoor {

// The defaults are the values a node uses when node.toml does not set them
// (docs/operators.md). The gate assumes sane values (each limit >= 1, the
// fraction in (0, 1]); LoadNodeConfig enforces them.
struct DisclosureRules {
  int64_t min_records = 10;
  int64_t min_cell_count = 5;
  double max_parameter_fraction = 0.33;
  int64_t max_levels = 40;
  int64_t min_sites = 3;
  bool allow_event_time_sums = false;
  bool allow_extremes = false;
  bool allow_quantiles = true;
  // > 0: times (blocks of kind BLOCK_KIND_TIMES) only as whole multiples of
  // this width, e.g. 30 (days); 0: exact times.
  double min_time_bin = 0;
};

// The steps in which a dataset description gives a variable's share missing.
inline constexpr double kMissingShareStep = 0.05;

struct GateRefusal {
  std::string rule;     // "min_records"
  std::string message;  // human-readable, safe to send to the researcher
};

// Immutable; thread-safe.
class DisclosureGate {
 public:
  explicit DisclosureGate(DisclosureRules rules) : rules_(rules) {}

  // nullopt if `aggregate` may be released, else the first rule that some
  // block breaks (blocks in order, rules in the order listed above).
  std::optional<GateRefusal> Check(const v1::Aggregate& aggregate) const;

  // Check, then the container rules, for an aggregate a container algorithm
  // made from a frame of `records` rows.
  std::optional<GateRefusal> CheckContainer(const v1::Aggregate& aggregate, int64_t records) const;

  // nullopt if a job over `sites` distinct participating nodes may run here,
  // else a min_sites refusal.
  std::optional<GateRefusal> CheckSites(int64_t sites) const;

  const DisclosureRules& rules() const { return rules_; }

 private:
  std::optional<GateRefusal> CheckBlock(const v1::Block& block) const;

  DisclosureRules rules_;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_DISCLOSURE_GATE_H_
