#include "algorithms/km.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "algorithms/r_levels.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr char kTime[] = "time";
constexpr char kEvent[] = "event";
constexpr char kBy[] = "by";
constexpr char kTimeBin[] = "time_bin";

// Round state.
constexpr char kPhase[] = "phase";
constexpr char kPhaseLevels[] = "levels";
constexpr char kPhaseCounts[] = "counts";
constexpr char kLevels[] = "levels";

// Block names of the counts round.
constexpr char kEventCodes[] = "event_codes";
constexpr char kAllStratum[] = "all";
constexpr char kTimeSuffix[] = "/time";
constexpr char kEventsSuffix[] = "/events";
constexpr char kCensoredSuffix[] = "/censored";

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// qnorm(0.975), as R prints it with %.17g.
constexpr double kZ975 = 1.9599639845400536;
// survival's minmin(): .Machine$double.eps^0.5.
constexpr double kMedianTolerance = 1.4901161193847656e-08;

struct KmParameters {
  std::string time;
  std::string event;
  std::string by;       // empty: one curve
  double time_bin = 0;  // 0: exact times
};

// One variable name under `key`.
absl::StatusOr<std::string> GetName(const v1::Parameters& parameters, const char* key) {
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> names, GetTextList(parameters, key));
  if (names.size() != 1 || names[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("km: parameter '", key, "' must be one variable name"));
  }
  return names[0];
}

absl::StatusOr<KmParameters> ReadParameters(const v1::Parameters& parameters) {
  KmParameters p;
  SPOOR_ASSIGN_OR_RETURN(p.time, GetName(parameters, kTime));
  SPOOR_ASSIGN_OR_RETURN(p.event, GetName(parameters, kEvent));
  if (parameters.values().contains(kBy)) {
    SPOOR_ASSIGN_OR_RETURN(p.by, GetName(parameters, kBy));
  }
  auto bin = parameters.values().find(kTimeBin);
  if (bin != parameters.values().end()) {
    const v1::Value& value = bin->second;
    if (value.has_number()) {
      p.time_bin = value.number();
    } else if (value.has_integer()) {
      p.time_bin = static_cast<double>(value.integer());
    } else {
      p.time_bin = kNaN;
    }
    if (!std::isfinite(p.time_bin) || p.time_bin <= 0) {
      return absl::InvalidArgumentError(
          "km: parameter 'time_bin' must be a number > 0 (the width of the time bins)");
    }
  }
  if (p.time == p.event) {
    return absl::InvalidArgumentError(
        absl::StrCat("km: variable '", p.time, "' is given as both time and event"));
  }
  if (p.by == p.time || p.by == p.event) {
    return absl::InvalidArgumentError(
        absl::StrCat("km: variable '", p.by, "' cannot be both an outcome and 'by'"));
  }
  return p;
}

// --- The node's data. ---

// The event of every row as this node reads it (-1 missing, 0 censored,
// 1 event) and the distinct codes it saw ("0", "1", "2"; FALSE/TRUE as
// "0"/"1").
struct Events {
  std::vector<int8_t> status;
  std::set<std::string> codes;
  int64_t non_missing = 0;
};

// Survival status as R's Surv() reads it (r_levels.h), over every row with a
// non-missing event (Surv() sees the whole column before na.omit).
absl::StatusOr<Events> ReadEvents(const Column& column) {
  Events out;
  out.status.assign(column.size(), -1);
  const SurvEventCoding coding = ChooseSurvEventCoding(column);
  int64_t bad = 0;
  for (size_t r = 0; r < column.size(); ++r) {
    if (column.is_missing(r)) continue;
    ++out.non_missing;
    const int status = DecodeSurvEvent(column, r, coding);
    if (status < 0) {
      ++bad;
      continue;
    }
    out.status[r] = static_cast<int8_t>(status);
    if (coding == SurvEventCoding::kLogical) {
      out.codes.insert(status == 1 ? "1" : "0");
    } else {
      const double v = column.numbers()[r];
      out.codes.insert(v == 0 ? "0" : v == 1 ? "1" : "2");
    }
  }
  if (bad > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("km: ", InvalidSurvEventMessage(column.name(), bad)));
  }
  return out;
}

// The columns a node needs, checked; `by` is nullptr without "by".
struct NodeColumns {
  const Column* time = nullptr;
  const Column* by = nullptr;
  Events events;
  std::vector<size_t> complete_rows;
};

absl::StatusOr<NodeColumns> ReadColumns(const KmParameters& p, const DataFrame& frame) {
  for (const std::string* name : {&p.time, &p.event, &p.by}) {
    if (!name->empty() && frame.Find(*name) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("dataset has no variable '", *name, "'"));
    }
  }
  NodeColumns out;
  out.time = frame.Find(p.time);
  if (out.time->type() != ColumnType::kNumeric) {
    return absl::InvalidArgumentError(
        absl::StrCat("km: survival time '", p.time, "' is categorical; it must be numeric"));
  }
  SPOOR_ASSIGN_OR_RETURN(out.events, ReadEvents(*frame.Find(p.event)));
  if (!p.by.empty()) out.by = frame.Find(p.by);
  for (size_t r = 0; r < frame.num_rows(); ++r) {
    if (out.time->is_missing(r) || out.events.status[r] < 0) continue;
    if (out.by != nullptr && out.by->is_missing(r)) continue;
    out.complete_rows.push_back(r);
  }
  return out;
}

// The block-name prefix and the curve name of a stratum.
std::string StratumName(const std::string& by, const std::string& level) {
  return by.empty() ? "" : absl::StrCat(by, "=", level);
}
std::string BlockPrefix(const std::string& stratum) {
  return stratum.empty() ? kAllStratum : stratum;
}

absl::StatusOr<std::string> GetPhase(const v1::Parameters& state) {
  auto it = state.values().find(kPhase);
  if (it == state.values().end() || !it->second.has_text() ||
      (it->second.text() != kPhaseLevels && it->second.text() != kPhaseCounts)) {
    return absl::InvalidArgumentError("km: the round state has no valid phase");
  }
  return it->second.text();
}

void SetPhase(v1::Parameters& state, const char* phase) {
  (*state.mutable_values())[kPhase].set_text(phase);
}

// The strata of the counts round, as R names them, in level order.
absl::StatusOr<std::vector<std::string>> Strata(const KmParameters& p, const v1::Parameters& state,
                                                std::vector<std::string>* levels) {
  if (p.by.empty()) return std::vector<std::string>{""};
  SPOOR_ASSIGN_OR_RETURN(*levels, GetTextList(state, kLevels));
  std::vector<std::string> strata;
  for (const std::string& level : *levels) strata.push_back(StratumName(p.by, level));
  return strata;
}

// --- Local ---

v1::Aggregate LevelsAggregate(const KmParameters& p, const NodeColumns& columns) {
  const std::vector<std::string> levels = PresentLevels(*columns.by, columns.complete_rows);
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name(p.by);
  block->set_record_count(static_cast<int64_t>(columns.complete_rows.size()));
  for (const std::string& level : levels) block->mutable_levels()->add_values(level);
  return aggregate;
}

struct TimeCounts {
  int64_t events = 0;
  int64_t censored = 0;
};

absl::StatusOr<v1::Aggregate> CountsAggregate(const KmParameters& p, const v1::Parameters& state,
                                              const NodeColumns& columns) {
  std::vector<std::string> levels;
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> strata, Strata(p, state, &levels));
  absl::flat_hash_map<std::string, size_t> level_index;
  for (size_t i = 0; i < levels.size(); ++i) level_index[levels[i]] = i;

  std::vector<std::map<double, TimeCounts>> per_stratum(strata.size());
  for (size_t r : columns.complete_rows) {
    size_t s = 0;
    if (columns.by != nullptr) {
      auto it = level_index.find(LevelText(*columns.by, r));
      if (it == level_index.end()) {
        // The data changed between the rounds; the level itself stays here.
        return absl::FailedPreconditionError(
            absl::StrCat("km: variable '", p.by,
                         "' has a level the levels round did not report; rerun the job"));
      }
      s = it->second;
    }
    double t = columns.time->numbers()[r];
    if (p.time_bin > 0) t = std::ceil(t / p.time_bin) * p.time_bin;
    TimeCounts& counts = per_stratum[s][t];
    (columns.events.status[r] == 1 ? counts.events : counts.censored) += 1;
  }

  v1::Aggregate aggregate;
  for (size_t s = 0; s < strata.size(); ++s) {
    if (per_stratum[s].empty()) continue;
    const std::string prefix = BlockPrefix(strata[s]);
    v1::Block* time = aggregate.add_blocks();
    v1::Block* events = aggregate.add_blocks();
    v1::Block* censored = aggregate.add_blocks();
    time->set_name(prefix + kTimeSuffix);
    time->set_kind(v1::BLOCK_KIND_TIMES);  // the gate's min_time_bin applies
    events->set_name(prefix + kEventsSuffix);
    censored->set_name(prefix + kCensoredSuffix);
    int64_t records = 0;
    for (const auto& [t, counts] : per_stratum[s]) {
      time->mutable_vector()->add_values(t);
      events->mutable_vector()->add_values(static_cast<double>(counts.events));
      censored->mutable_vector()->add_values(static_cast<double>(counts.censored));
      records += counts.events + counts.censored;
    }
    for (v1::Block* block : {time, events, censored}) block->set_record_count(records);
  }
  v1::Block* codes = aggregate.add_blocks();
  codes->set_name(kEventCodes);
  codes->set_record_count(columns.events.non_missing);
  for (const std::string& code : columns.events.codes) codes->mutable_levels()->add_values(code);
  return aggregate;
}

// --- Central ---

absl::Status Malformed(const NodeAggregate& node) {
  return absl::InvalidArgumentError(
      absl::StrCat("node ", node.node_id, " sent a malformed km aggregate"));
}

const v1::Block* FindBlock(const v1::Aggregate& aggregate, const std::string& name) {
  for (const v1::Block& block : aggregate.blocks()) {
    if (block.name() == name) return &block;
  }
  return nullptr;
}

absl::StatusOr<CentralStep> CentralLevels(const KmParameters& p, const CentralRequest& request) {
  std::vector<std::string> levels;
  for (const NodeAggregate& node : request.aggregates) {
    const v1::Block* block = FindBlock(node.aggregate, p.by);
    if (block == nullptr || !block->has_levels()) return Malformed(node);
    levels.insert(levels.end(), block->levels().values().begin(), block->levels().values().end());
  }
  SortLevels(levels);
  if (levels.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "km: no node has complete cases over '", p.time, "', '", p.event, "' and '", p.by, "'"));
  }
  CentralStep step;
  SetPhase(step.next_round_state, kPhaseCounts);
  SetTextList(step.next_round_state, kLevels, levels);
  return step;
}

// Whether a node's events must be read as censorings: R decides the coding on
// the pooled column, so a node that saw only 1s (read locally as 0/1, all
// events) is 1/2-coded, all censored, when any node saw a 2.
absl::StatusOr<std::vector<bool>> ReconcileEventCoding(const KmParameters& p,
                                                       const CentralRequest& request) {
  std::vector<std::set<std::string>> codes;
  bool any_two = false, any_zero = false;
  for (const NodeAggregate& node : request.aggregates) {
    const v1::Block* block = FindBlock(node.aggregate, kEventCodes);
    if (block == nullptr || !block->has_levels()) return Malformed(node);
    codes.emplace_back(block->levels().values().begin(), block->levels().values().end());
    any_two = any_two || codes.back().contains("2");
    any_zero = any_zero || codes.back().contains("0");
  }
  if (any_two && any_zero) {
    return absl::InvalidArgumentError(
        absl::StrCat("km: event '", p.event,
                     "' is coded 1/2 at some nodes and has 0 at others; "
                     "code it the same way (0/1, 1/2 or FALSE/TRUE) at every node"));
  }
  std::vector<bool> all_censored;
  for (const std::set<std::string>& c : codes) all_censored.push_back(any_two && !c.contains("2"));
  return all_censored;
}

// A vector block of whole counts >= 0 (stored as doubles).
bool ReadCounts(const v1::Block* block, int size, std::vector<int64_t>* out) {
  if (block == nullptr || !block->has_vector() || block->vector().values_size() != size) {
    return false;
  }
  out->clear();
  for (double v : block->vector().values()) {
    if (!(v >= 0 && v <= 9e15) || v != std::floor(v)) return false;
    out->push_back(static_cast<int64_t>(v));
  }
  return true;
}

// Adds one node's blocks of `stratum` to `merged`. Returns how many blocks it
// used (0 when the node has no records in the stratum), or false if malformed.
bool MergeStratum(const v1::Aggregate& aggregate, const std::string& stratum, bool all_censored,
                  std::map<double, TimeCounts>& merged, int* blocks_used) {
  const std::string prefix = BlockPrefix(stratum);
  const v1::Block* time = FindBlock(aggregate, prefix + kTimeSuffix);
  const v1::Block* events_block = FindBlock(aggregate, prefix + kEventsSuffix);
  const v1::Block* censored_block = FindBlock(aggregate, prefix + kCensoredSuffix);
  if (time == nullptr && events_block == nullptr && censored_block == nullptr) {
    *blocks_used = 0;
    return true;
  }
  if (time == nullptr || !time->has_vector()) return false;
  const int size = time->vector().values_size();
  std::vector<int64_t> events, censored;
  if (!ReadCounts(events_block, size, &events) || !ReadCounts(censored_block, size, &censored)) {
    return false;
  }
  int64_t records = 0;
  for (int i = 0; i < size; ++i) {
    const double t = time->vector().values(i);
    if (!std::isfinite(t) || (i > 0 && !(t > time->vector().values(i - 1)))) return false;
    TimeCounts& counts = merged[t];
    if (all_censored) {
      counts.censored += events[i] + censored[i];
    } else {
      counts.events += events[i];
      counts.censored += censored[i];
    }
    records += events[i] + censored[i];
  }
  if (records != time->record_count()) return false;
  *blocks_used = 3;
  return true;
}

// print.survfit's median (survival's minmin()) over the event times.
double Median(const v1::KmCurve& curve) {
  const int k = curve.time_size();
  for (int i = 0; i < k; ++i) {
    const double s = curve.survival(i);
    if (!(s < 0.5 + kMedianTolerance)) continue;
    if (std::abs(s - 0.5) < kMedianTolerance) {
      for (int j = i + 1; j < k; ++j) {
        if (curve.survival(j) < s) return (curve.time(i) + curve.time(j)) / 2;
      }
    }
    return curve.time(i);
  }
  return kNaN;
}

// The Kaplan-Meier curve of one stratum from its pooled per-time counts.
v1::KmCurve MakeCurve(const std::string& stratum, const std::map<double, TimeCounts>& counts) {
  v1::KmCurve curve;
  curve.set_stratum(stratum);
  int64_t n = 0, total_events = 0;
  for (const auto& [t, c] : counts) {
    n += c.events + c.censored;
    total_events += c.events;
  }
  curve.set_n(n);
  curve.set_events(total_events);
  int64_t at_risk = n;
  double survival = 1;
  double greenwood = 0;  // the variance of the cumulative hazard
  for (const auto& [t, c] : counts) {
    if (c.events > 0) {
      const double n_i = static_cast<double>(at_risk);
      const double d_i = static_cast<double>(c.events);
      survival *= (n_i - d_i) / n_i;
      greenwood +=
          at_risk > c.events ? d_i / (n_i * (n_i - d_i)) : std::numeric_limits<double>::infinity();
      curve.add_time(t);
      curve.add_n_risk(at_risk);
      curve.add_n_event(c.events);
      curve.add_survival(survival);
      if (survival > 0) {
        const double se = std::sqrt(greenwood);
        curve.add_std_error(survival * se);
        // survival < 1 at every event time, so log(survival) < 0.
        const double log_s = std::log(survival);
        const double centre = std::log(-log_s);
        const double half_width = kZ975 * se / log_s;
        curve.add_conf_low(std::exp(-std::exp(centre - half_width)));
        curve.add_conf_high(std::exp(-std::exp(centre + half_width)));
      } else {
        curve.add_std_error(kNaN);
        curve.add_conf_low(kNaN);
        curve.add_conf_high(kNaN);
      }
    }
    if (c.censored > 0) {
      curve.add_censor_time(t);
      curve.add_n_censor(c.censored);
    }
    at_risk -= c.events + c.censored;
  }
  curve.set_median(Median(curve));
  return curve;
}

absl::StatusOr<CentralStep> CentralCounts(const KmParameters& p, const CentralRequest& request) {
  std::vector<std::string> levels;
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> strata, Strata(p, request.round_state, &levels));
  SPOOR_ASSIGN_OR_RETURN(std::vector<bool> all_censored, ReconcileEventCoding(p, request));
  std::vector<std::map<double, TimeCounts>> merged(strata.size());
  for (size_t k = 0; k < request.aggregates.size(); ++k) {
    const NodeAggregate& node = request.aggregates[k];
    int used = 1;  // event_codes
    for (size_t s = 0; s < strata.size(); ++s) {
      int blocks = 0;
      if (!MergeStratum(node.aggregate, strata[s], all_censored[k], merged[s], &blocks)) {
        return Malformed(node);
      }
      used += blocks;
    }
    // Every block must belong to a known stratum: anything else means the
    // node and the coordinator disagree about the strata.
    if (used != node.aggregate.blocks_size()) return Malformed(node);
  }
  CentralStep step;
  step.done = true;
  v1::KmResult* result = step.result.mutable_km();
  result->set_time_bin(p.time_bin);
  for (size_t s = 0; s < strata.size(); ++s) {
    *result->add_curves() = MakeCurve(strata[s], merged[s]);
  }
  return step;
}

}  // namespace

absl::Status KmAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  return ReadParameters(parameters).status();
}

absl::StatusOr<v1::Parameters> KmAlgorithm::Begin(const v1::Parameters& parameters) const {
  SPOOR_ASSIGN_OR_RETURN(KmParameters p, ReadParameters(parameters));
  v1::Parameters state;
  SetPhase(state, p.by.empty() ? kPhaseCounts : kPhaseLevels);
  return state;
}

absl::StatusOr<v1::Aggregate> KmAlgorithm::Local(const LocalRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(KmParameters p, ReadParameters(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetPhase(request.round_state));
  SPOOR_ASSIGN_OR_RETURN(NodeColumns columns, ReadColumns(p, request.frame));
  if (phase == kPhaseLevels) {
    if (p.by.empty()) return absl::InvalidArgumentError("km: a levels round needs 'by'");
    return LevelsAggregate(p, columns);
  }
  return CountsAggregate(p, request.round_state, columns);
}

absl::StatusOr<CentralStep> KmAlgorithm::Central(const CentralRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(KmParameters p, ReadParameters(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetPhase(request.round_state));
  if (phase == kPhaseLevels) {
    if (p.by.empty()) return absl::InvalidArgumentError("km: a levels round needs 'by'");
    return CentralLevels(p, request);
  }
  return CentralCounts(p, request);
}

}  // namespace spoor
