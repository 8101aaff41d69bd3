#include "algorithms/summary.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/base/macros.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr char kVars[] = "vars";
constexpr char kExtremes[] = "extremes";
constexpr char kQuantiles[] = "quantiles";
constexpr int kMomentFields = 5;  // n, missing, mean, M2, mean residual
constexpr int kPooledFields = 7;  // n, missing, mean, sd, sites, min, max
// Thresholds per interval and round: each round divides an interval by 16.
constexpr uint64_t kThresholdsPerInterval = 15;
// At most two order statistics per probability.
constexpr double kProbabilities[] = {0.25, 0.5, 0.75};
// What a node counts at, at most: thresholds and both ends of every interval.
constexpr size_t kMaxThresholds = 2 * std::size(kProbabilities) * (kThresholdsPerInterval + 2);
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Options {
  std::vector<std::string> vars;
  bool extremes = false;
  bool quantiles = false;
};

// A flag parameter; false when absent.
absl::StatusOr<bool> GetFlag(const v1::Parameters& parameters, const char* key) {
  const v1::Value* value = FindParameter(parameters, key);
  if (value == nullptr) return false;
  if (!value->has_flag()) {
    return absl::InvalidArgumentError(absl::StrCat("parameter '", key, "' must be a flag"));
  }
  return value->flag();
}

absl::StatusOr<Options> ReadOptions(const v1::Parameters& parameters) {
  Options options;
  SPOOR_ASSIGN_OR_RETURN(options.vars, GetTextList(parameters, kVars));
  SPOOR_ASSIGN_OR_RETURN(options.extremes, GetFlag(parameters, kExtremes));
  SPOOR_ASSIGN_OR_RETURN(options.quantiles, GetFlag(parameters, kQuantiles));
  return options;
}

// Block and state names: "<var>/<what>". `what` holds no '/', so two
// variables' names never collide.
std::string Key(const std::string& var, const char* what) { return absl::StrCat(var, "/", what); }

// --- Doubles in the order of their bit patterns. ---

// A monotone map of the non-NaN doubles to integers: x < y exactly when
// OrderedKey(x) < OrderedKey(y). -0.0 and 0.0 share key 0, as they compare
// equal; neighbouring keys are neighbouring doubles.
int64_t OrderedKey(double x) {
  int64_t bits = std::bit_cast<int64_t>(x);
  return bits >= 0 ? bits : -(bits & std::numeric_limits<int64_t>::max());
}

double FromOrderedKey(int64_t key) {
  if (key >= 0) return std::bit_cast<double>(key);
  return std::bit_cast<double>(static_cast<uint64_t>(-key) | (uint64_t{1} << 63));
}

// The number of doubles in (lower, upper], lower <= upper; fits in 64 bits
// for any two non-NaN doubles.
uint64_t Width(double lower, double upper) {
  return static_cast<uint64_t>(OrderedKey(upper)) - static_cast<uint64_t>(OrderedKey(lower));
}

// --- Order statistics by bisection. ---

// (lower, upper] holds the order statistic of rank k; below_lower < k <=
// below_upper are the pooled counts of values <= lower and <= upper.
struct Interval {
  double lower = -std::numeric_limits<double>::infinity();
  double upper = DBL_MAX;
  int64_t below_lower = 0;
  int64_t below_upper = 0;

  bool resolved() const { return Width(lower, upper) <= 1; }
};

// Appends up to kThresholdsPerInterval doubles strictly inside (lower,
// upper), evenly spaced in key order; every double inside when there are no
// more than that.
void AppendThresholds(const Interval& interval, std::vector<double>& out) {
  const uint64_t width = Width(interval.lower, interval.upper);
  const uint64_t lower = static_cast<uint64_t>(OrderedKey(interval.lower));
  const uint64_t parts = kThresholdsPerInterval + 1;
  auto at = [&](uint64_t offset) { return FromOrderedKey(static_cast<int64_t>(lower + offset)); };
  if (width <= parts) {
    for (uint64_t j = 1; j < width; ++j) out.push_back(at(j));
    return;
  }
  // floor(j * width / parts) without overflowing 64 bits.
  const uint64_t step = width / parts, rest = width % parts;
  for (uint64_t j = 1; j < parts; ++j) out.push_back(at(j * step + j * rest / parts));
}

// The sorted, distinct thresholds of every unresolved interval, with its
// ends: the counts there were known already, and counting them again catches
// a node whose data changed during the job (the count at -inf is always 0).
std::vector<double> Thresholds(const std::vector<Interval>& intervals) {
  std::vector<double> thresholds;
  for (const Interval& interval : intervals) {
    if (interval.resolved()) continue;
    if (std::isfinite(interval.lower)) thresholds.push_back(interval.lower);
    thresholds.push_back(interval.upper);
    AppendThresholds(interval, thresholds);
  }
  std::sort(thresholds.begin(), thresholds.end());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  return thresholds;
}

// R's quantile type 7: 1 + (n - 1) p, as R computes it in doubles.
double QuantileIndex(int64_t n, double p) { return 1 + static_cast<double>(n - 1) * p; }

// The distinct ranks R's type 7 reads for the quartiles of n values.
std::vector<int64_t> NeededRanks(int64_t n) {
  std::vector<int64_t> ranks;
  if (n == 0) return ranks;
  for (double p : kProbabilities) {
    const double index = QuantileIndex(n, p);
    ranks.push_back(static_cast<int64_t>(std::floor(index)));
    ranks.push_back(static_cast<int64_t>(std::ceil(index)));
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  return ranks;
}

// --- Per-variable state between rounds. ---

struct Pooled {
  int64_t n = 0;
  int64_t missing = 0;
  double mean = kNaN;
  double sd = kNaN;
  int32_t sites = 0;
  double min = kNaN;
  double max = kNaN;
};

struct VariableState {
  Pooled pooled;
  std::vector<int64_t> ranks;       // ascending
  std::vector<Interval> intervals;  // one per rank
};

bool AllResolved(const std::vector<VariableState>& states) {
  for (const VariableState& state : states) {
    for (const Interval& interval : state.intervals) {
      if (!interval.resolved()) return false;
    }
  }
  return true;
}

void WriteState(const std::string& var, const VariableState& state, v1::Parameters& out) {
  const Pooled& p = state.pooled;
  SetNumbers(out, Key(var, "pooled"),
             {static_cast<double>(p.n), static_cast<double>(p.missing), p.mean, p.sd,
              static_cast<double>(p.sites), p.min, p.max});
  std::vector<double> ranks, lower, upper, below_lower, below_upper;
  for (size_t r = 0; r < state.ranks.size(); ++r) {
    const Interval& interval = state.intervals[r];
    ranks.push_back(static_cast<double>(state.ranks[r]));
    lower.push_back(interval.lower);
    upper.push_back(interval.upper);
    below_lower.push_back(static_cast<double>(interval.below_lower));
    below_upper.push_back(static_cast<double>(interval.below_upper));
  }
  SetNumbers(out, Key(var, "ranks"), ranks);
  SetNumbers(out, Key(var, "lower"), lower);
  SetNumbers(out, Key(var, "upper"), upper);
  SetNumbers(out, Key(var, "below_lower"), below_lower);
  SetNumbers(out, Key(var, "below_upper"), below_upper);
  SetNumbers(out, Key(var, "thresholds"), Thresholds(state.intervals));
}

// A whole number from 0 to 2^53, which converts to int64_t exactly.
bool IsCount(double v) { return v >= 0 && v <= 0x1p53 && v == std::floor(v); }

absl::Status MalformedState(const std::string& var) {
  return absl::InvalidArgumentError(
      absl::StrCat("summary: the round state of variable '", var, "' is malformed"));
}

absl::StatusOr<VariableState> ReadState(const std::string& var, const v1::Parameters& in) {
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> pooled, GetNumbers(in, Key(var, "pooled")));
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> ranks, GetNumbers(in, Key(var, "ranks")));
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> lower, GetNumbers(in, Key(var, "lower")));
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> upper, GetNumbers(in, Key(var, "upper")));
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> below_lower, GetNumbers(in, Key(var, "below_lower")));
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> below_upper, GetNumbers(in, Key(var, "below_upper")));
  if (pooled.size() != kPooledFields || lower.size() != ranks.size() ||
      upper.size() != ranks.size() || below_lower.size() != ranks.size() ||
      below_upper.size() != ranks.size() || !IsCount(pooled[0]) || !IsCount(pooled[1]) ||
      !IsCount(pooled[4])) {
    return MalformedState(var);
  }
  VariableState state;
  Pooled& p = state.pooled;
  p.n = static_cast<int64_t>(pooled[0]);
  p.missing = static_cast<int64_t>(pooled[1]);
  p.mean = pooled[2];
  p.sd = pooled[3];
  p.sites = static_cast<int32_t>(pooled[4]);
  p.min = pooled[5];
  p.max = pooled[6];
  for (size_t r = 0; r < ranks.size(); ++r) {
    if (!IsCount(ranks[r]) || !IsCount(below_lower[r]) || !IsCount(below_upper[r])) {
      return MalformedState(var);
    }
    Interval interval{lower[r], upper[r], static_cast<int64_t>(below_lower[r]),
                      static_cast<int64_t>(below_upper[r])};
    const int64_t rank = static_cast<int64_t>(ranks[r]);
    if (std::isnan(interval.lower) || std::isnan(interval.upper) ||
        !(interval.lower < interval.upper) || !(interval.below_lower < rank) ||
        !(rank <= interval.below_upper)) {
      return MalformedState(var);
    }
    state.ranks.push_back(rank);
    state.intervals.push_back(interval);
  }
  // The ranks are the ones R's type 7 reads, so the quartiles can be read off.
  if (state.ranks != NeededRanks(state.pooled.n)) return MalformedState(var);
  return state;
}

// --- What a node computes. ---

void AppendMoments(const std::string& var, const std::vector<double>& x, v1::Aggregate& out) {
  int64_t n = 0;
  long double sum = 0;
  for (double v : x) {
    if (std::isnan(v)) continue;
    ++n;
    sum += v;
  }
  // As R's mean(): a second pass adds the mean of the residuals.
  long double mean = n > 0 ? sum / n : 0;
  long double residual = 0;
  for (double v : x) {
    if (!std::isnan(v)) residual += v - mean;
  }
  if (n > 0) mean += residual / n;
  // Squared deviations, with the correction term of the corrected two-pass
  // algorithm (sum of deviations, ideally zero).
  long double m2 = 0, dev_sum = 0;
  for (double v : x) {
    if (std::isnan(v)) continue;
    long double d = v - mean;
    m2 += d * d;
    dev_sum += d;
  }
  if (n > 0) m2 -= dev_sum * dev_sum / n;
  // The mean leaves as a double and the rest of the long double, so that the
  // coordinator's (m_i - m)^2 keeps its digits when the mean is large next to
  // the spread (values near 1e5 varying by 0.5).
  const double mean_high = static_cast<double>(mean);
  v1::Block* block = out.add_blocks();
  block->set_name(var);
  block->set_record_count(n);
  v1::DenseVector* values = block->mutable_vector();
  values->add_values(static_cast<double>(n));
  values->add_values(static_cast<double>(static_cast<int64_t>(x.size()) - n));
  values->add_values(mean_high);
  values->add_values(static_cast<double>(m2));
  values->add_values(static_cast<double>(mean - mean_high));
}

int64_t NonMissing(const std::vector<double>& x) {
  return std::count_if(x.begin(), x.end(), [](double v) { return !std::isnan(v); });
}

// [min, max] of the non-missing values; NaN for none.
void AppendExtremes(const std::string& var, const std::vector<double>& x, v1::Aggregate& out) {
  double min = kNaN, max = kNaN;
  for (double v : x) {
    if (std::isnan(v)) continue;
    if (std::isnan(min) || v < min) min = v;
    if (std::isnan(max) || v > max) max = v;
  }
  v1::Block* block = out.add_blocks();
  block->set_name(Key(var, "extremes"));
  block->set_kind(v1::BLOCK_KIND_EXTREMES);
  block->set_record_count(NonMissing(x));
  block->mutable_vector()->add_values(min);
  block->mutable_vector()->add_values(max);
}

// Counts of the non-missing values <= each threshold. The thresholds come
// from the coordinator: checked, so that a bad state is an error here rather
// than a wrong count.
absl::Status AppendBelow(const std::string& var, const std::vector<double>& x,
                         const std::vector<double>& thresholds, v1::Aggregate& out) {
  if (thresholds.size() > kMaxThresholds) {
    return absl::InvalidArgumentError(absl::StrCat("summary: the round state asks for more than ",
                                                   kMaxThresholds, " counts of variable '", var,
                                                   "'"));
  }
  for (size_t j = 0; j < thresholds.size(); ++j) {
    if (!std::isfinite(thresholds[j]) || (j > 0 && !(thresholds[j - 1] < thresholds[j]))) {
      return absl::InvalidArgumentError(absl::StrCat("summary: the thresholds of variable '", var,
                                                     "' are not increasing finite numbers"));
    }
  }
  // One pass, no sort: each value adds one to the first threshold >= it.
  std::vector<int64_t> counts(thresholds.size() + 1, 0);
  int64_t n = 0;
  for (double v : x) {
    if (std::isnan(v)) continue;
    if (std::isinf(v)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "variable '", var, "' has infinite values; summary's quantiles need finite ones"));
    }
    ++n;
    ++counts[std::lower_bound(thresholds.begin(), thresholds.end(), v) - thresholds.begin()];
  }
  v1::Block* block = out.add_blocks();
  block->set_name(Key(var, "below"));
  block->set_kind(v1::BLOCK_KIND_QUANTILE_COUNTS);
  block->set_record_count(n);
  int64_t below = 0;
  for (size_t j = 0; j < thresholds.size(); ++j) {
    below += counts[j];
    block->mutable_vector()->add_values(static_cast<double>(below));
  }
  return absl::OkStatus();
}

// --- The blocks of a round, the same list for Local and Central. ---

enum class Part { kMoments, kExtremes, kBelow };

struct PlannedBlock {
  size_t var;  // index into Options::vars
  Part part;
  std::string name;
};

// Round 1: per variable its moments, extremes and counts as asked for. Later
// rounds: counts for the variables the round state still has thresholds for.
absl::StatusOr<std::vector<PlannedBlock>> PlanBlocks(const Options& options,
                                                     const v1::Parameters& round_state, int round) {
  std::vector<PlannedBlock> plan;
  for (size_t k = 0; k < options.vars.size(); ++k) {
    const std::string& var = options.vars[k];
    if (round == 1) {
      plan.push_back({k, Part::kMoments, var});
      if (options.extremes) plan.push_back({k, Part::kExtremes, Key(var, "extremes")});
      if (options.quantiles) plan.push_back({k, Part::kBelow, Key(var, "below")});
    } else if (options.quantiles) {
      SPOOR_ASSIGN_OR_RETURN(std::vector<double> thresholds,
                             GetNumbers(round_state, Key(var, "thresholds")));
      if (!thresholds.empty()) plan.push_back({k, Part::kBelow, Key(var, "below")});
    }
  }
  if (round > 1 && plan.empty()) {
    return absl::InvalidArgumentError("summary: no round after the first is needed");
  }
  return plan;
}

// --- What the coordinator computes. ---

absl::Status Malformed(const NodeAggregate& node) {
  return absl::InvalidArgumentError(
      absl::StrCat("node ", node.node_id, " sent a malformed summary aggregate"));
}

// The blocks of every node, checked against the plan: blocks[node][i] is
// plan[i]'s block, a vector of the right size.
absl::StatusOr<std::vector<std::vector<const v1::Block*>>> MatchBlocks(
    const std::vector<PlannedBlock>& plan, const v1::Parameters& round_state,
    const Options& options, const std::vector<NodeAggregate>& aggregates) {
  std::vector<size_t> sizes;
  for (const PlannedBlock& planned : plan) {
    switch (planned.part) {
      case Part::kMoments:
        sizes.push_back(kMomentFields);
        break;
      case Part::kExtremes:
        sizes.push_back(2);
        break;
      case Part::kBelow: {
        SPOOR_ASSIGN_OR_RETURN(
            std::vector<double> thresholds,
            GetNumbers(round_state, Key(options.vars[planned.var], "thresholds")));
        sizes.push_back(thresholds.size());
        break;
      }
    }
  }
  std::vector<std::vector<const v1::Block*>> blocks;
  for (const NodeAggregate& node : aggregates) {
    if (node.aggregate.blocks_size() != static_cast<int>(plan.size())) return Malformed(node);
    std::vector<const v1::Block*>& mine = blocks.emplace_back();
    for (size_t i = 0; i < plan.size(); ++i) {
      const v1::Block& block = node.aggregate.blocks(static_cast<int>(i));
      if (block.name() != plan[i].name || !block.has_vector() ||
          block.vector().values_size() != static_cast<int>(sizes[i])) {
        return Malformed(node);
      }
      mine.push_back(&block);
    }
  }
  return blocks;
}

// Chan, Golub and LeVeque's combination of the nodes' [n, missing, mean, M2,
// mean residual].
Pooled CombineMoments(const std::vector<const v1::Block*>& moments) {
  long double n = 0, missing = 0, weighted_sum = 0;
  for (const v1::Block* block : moments) {
    const auto& v = block->vector().values();
    n += v[0];
    missing += v[1];
    weighted_sum += v[0] * (static_cast<long double>(v[2]) + v[4]);
  }
  long double mean = n > 0 ? weighted_sum / n : kNaN;
  long double m2 = 0;
  for (const v1::Block* block : moments) {
    const auto& v = block->vector().values();
    long double d = static_cast<long double>(v[2]) + v[4] - mean;
    m2 += v[3] + v[0] * d * d;
  }
  Pooled pooled;
  pooled.n = static_cast<int64_t>(n);
  pooled.missing = static_cast<int64_t>(missing);
  pooled.mean = static_cast<double>(mean);
  pooled.sd = n > 1 ? static_cast<double>(std::sqrt(m2 / (n - 1))) : kNaN;
  pooled.sites = static_cast<int32_t>(moments.size());
  return pooled;
}

// Smallest and largest over the nodes; a node without values sends NaN.
void CombineExtremes(const std::vector<const v1::Block*>& extremes, Pooled& pooled) {
  for (const v1::Block* block : extremes) {
    double min = block->vector().values(0), max = block->vector().values(1);
    if (!std::isnan(min) && (std::isnan(pooled.min) || min < pooled.min)) pooled.min = min;
    if (!std::isnan(max) && (std::isnan(pooled.max) || max > pooled.max)) pooled.max = max;
  }
}

absl::Status DataChanged(const std::string& var) {
  return absl::FailedPreconditionError(absl::StrCat(
      "summary: the counts of variable '", var,
      "' disagree with earlier rounds; a node's data changed during the job. Run it again"));
}

// The pooled counts at `thresholds`, from every node's "<var>/below" block.
absl::StatusOr<std::vector<int64_t>> PooledCounts(const std::string& var, int64_t n,
                                                  size_t thresholds,
                                                  const std::vector<const v1::Block*>& below,
                                                  const std::vector<NodeAggregate>& aggregates) {
  std::vector<int64_t> pooled(thresholds, 0);
  int64_t records = 0;
  for (size_t node = 0; node < below.size(); ++node) {
    const v1::Block& block = *below[node];
    const int64_t node_n = block.record_count();
    double previous = 0;
    for (size_t j = 0; j < thresholds; ++j) {
      const double count = block.vector().values(static_cast<int>(j));
      // Integers from 0 to the node's n, not decreasing.
      if (!IsCount(count) || count < previous || count > static_cast<double>(node_n)) {
        return Malformed(aggregates[node]);
      }
      previous = count;
      pooled[j] += static_cast<int64_t>(count);
    }
    records += node_n;
  }
  if (records != n) return DataChanged(var);
  return pooled;
}

// Narrows every interval of `state` by the pooled counts at `thresholds`.
absl::Status Narrow(const std::string& var, const std::vector<double>& thresholds,
                    const std::vector<int64_t>& counts, VariableState& state) {
  for (size_t r = 0; r < state.ranks.size(); ++r) {
    const int64_t rank = state.ranks[r];
    Interval& interval = state.intervals[r];
    const Interval before = interval;
    for (size_t j = 0; j < thresholds.size(); ++j) {
      const double t = thresholds[j];
      if ((t == before.lower && counts[j] != before.below_lower) ||
          (t == before.upper && counts[j] != before.below_upper)) {
        return DataChanged(var);
      }
      if (!(before.lower < t && t < before.upper)) continue;
      if (counts[j] < before.below_lower || counts[j] > before.below_upper) {
        return DataChanged(var);
      }
      if (counts[j] >= rank) {
        if (t < interval.upper) interval.upper = t, interval.below_upper = counts[j];
      } else if (t > interval.lower) {
        interval.lower = t, interval.below_lower = counts[j];
      }
    }
  }
  return absl::OkStatus();
}

// R's quantile(x, p, type = 7) from the resolved order statistics.
double Type7Quantile(const VariableState& state, double p) {
  const int64_t n = state.pooled.n;
  if (n == 0) return kNaN;
  auto order_statistic = [&](int64_t rank) {
    auto it = std::lower_bound(state.ranks.begin(), state.ranks.end(), rank);
    ABSL_ASSERT(it != state.ranks.end() && *it == rank);
    return state.intervals[it - state.ranks.begin()].upper;
  };
  const double index = QuantileIndex(n, p);
  const double lo = std::floor(index);
  const double x_lo = order_statistic(static_cast<int64_t>(lo));
  const double x_hi = order_statistic(static_cast<int64_t>(std::ceil(index)));
  if (!(index > lo && x_hi != x_lo)) return x_lo;
  const double h = index - lo;
  return (1 - h) * x_lo + h * x_hi;
}

void WriteResult(const Options& options, const std::vector<VariableState>& states,
                 v1::SummaryResult& out) {
  for (size_t k = 0; k < options.vars.size(); ++k) {
    const Pooled& p = states[k].pooled;
    v1::VariableSummary* v = out.add_variables();
    v->set_name(options.vars[k]);
    v->set_n(p.n);
    v->set_missing(p.missing);
    v->set_mean(p.mean);
    v->set_sd(p.sd);
    v->set_sites(p.sites);
    v->set_min(options.extremes ? p.min : kNaN);
    v->set_max(options.extremes ? p.max : kNaN);
    v->set_q1(options.quantiles ? Type7Quantile(states[k], 0.25) : kNaN);
    v->set_median(options.quantiles ? Type7Quantile(states[k], 0.5) : kNaN);
    v->set_q3(options.quantiles ? Type7Quantile(states[k], 0.75) : kNaN);
  }
}

}  // namespace

absl::Status SummaryAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  SPOOR_ASSIGN_OR_RETURN(Options options, ReadOptions(parameters));
  if (options.vars.empty()) {
    return absl::InvalidArgumentError("summary needs at least one variable; pass --vars a,b,c");
  }
  absl::flat_hash_set<std::string> seen;
  for (const std::string& v : options.vars) {
    if (v.empty()) return absl::InvalidArgumentError("summary: empty variable name in --vars");
    if (!seen.insert(v).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("summary: variable '", v, "' is listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Parameters> SummaryAlgorithm::Begin(const v1::Parameters& parameters) const {
  SPOOR_ASSIGN_OR_RETURN(Options options, ReadOptions(parameters));
  v1::Parameters state;
  if (!options.quantiles) return state;
  // Every interval starts as (-inf, DBL_MAX]; n is not known yet.
  const std::vector<double> thresholds = Thresholds({Interval()});
  for (const std::string& var : options.vars) SetNumbers(state, Key(var, "thresholds"), thresholds);
  return state;
}

absl::StatusOr<v1::Aggregate> SummaryAlgorithm::Local(const LocalRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(Options options, ReadOptions(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::vector<PlannedBlock> plan,
                         PlanBlocks(options, request.round_state, request.round));
  v1::Aggregate aggregate;
  for (const PlannedBlock& planned : plan) {
    const std::string& var = options.vars[planned.var];
    const Column* column = request.frame.Find(var);
    if (column == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("dataset has no variable '", var, "'"));
    }
    if (column->type() != ColumnType::kNumeric) {
      return absl::InvalidArgumentError(
          absl::StrCat("variable '", var, "' is categorical; summary needs numeric variables"));
    }
    const std::vector<double>& x = column->numbers();
    switch (planned.part) {
      case Part::kMoments:
        AppendMoments(var, x, aggregate);
        break;
      case Part::kExtremes:
        AppendExtremes(var, x, aggregate);
        break;
      case Part::kBelow: {
        SPOOR_ASSIGN_OR_RETURN(std::vector<double> thresholds,
                               GetNumbers(request.round_state, Key(var, "thresholds")));
        SPOOR_RETURN_IF_ERROR(AppendBelow(var, x, thresholds, aggregate));
        break;
      }
    }
  }
  return aggregate;
}

absl::StatusOr<CentralStep> SummaryAlgorithm::Central(const CentralRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(Options options, ReadOptions(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::vector<PlannedBlock> plan,
                         PlanBlocks(options, request.round_state, request.round));
  SPOOR_ASSIGN_OR_RETURN(auto blocks,
                         MatchBlocks(plan, request.round_state, options, request.aggregates));
  // blocks_of[var][part]: the nodes' blocks of one variable and part.
  std::vector<std::array<std::vector<const v1::Block*>, 3>> blocks_of(options.vars.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    for (const std::vector<const v1::Block*>& node : blocks) {
      blocks_of[plan[i].var][static_cast<size_t>(plan[i].part)].push_back(node[i]);
    }
  }

  std::vector<VariableState> states(options.vars.size());
  for (size_t k = 0; k < options.vars.size(); ++k) {
    const std::string& var = options.vars[k];
    VariableState& state = states[k];
    if (request.round == 1) {
      state.pooled = CombineMoments(blocks_of[k][static_cast<size_t>(Part::kMoments)]);
      CombineExtremes(blocks_of[k][static_cast<size_t>(Part::kExtremes)], state.pooled);
      if (options.quantiles) {
        state.ranks = NeededRanks(state.pooled.n);
        state.intervals.assign(state.ranks.size(), Interval{.below_upper = state.pooled.n});
      }
    } else {
      SPOOR_ASSIGN_OR_RETURN(state, ReadState(var, request.round_state));
    }
    const std::vector<const v1::Block*>& below = blocks_of[k][static_cast<size_t>(Part::kBelow)];
    if (below.empty()) continue;  // no counts for this variable this round
    SPOOR_ASSIGN_OR_RETURN(std::vector<double> thresholds,
                           GetNumbers(request.round_state, Key(var, "thresholds")));
    SPOOR_ASSIGN_OR_RETURN(
        std::vector<int64_t> counts,
        PooledCounts(var, state.pooled.n, thresholds.size(), below, request.aggregates));
    SPOOR_RETURN_IF_ERROR(Narrow(var, thresholds, counts, state));
  }

  CentralStep step;
  if (!options.quantiles || AllResolved(states)) {
    step.done = true;
    WriteResult(options, states, *step.result.mutable_summary());
    return step;
  }
  for (size_t k = 0; k < options.vars.size(); ++k) {
    WriteState(options.vars[k], states[k], step.next_round_state);
  }
  return step;
}

}  // namespace spoor
