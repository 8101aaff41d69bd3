#include "algorithms/cox.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "algorithms/distributions.h"
#include "algorithms/formula.h"
#include "algorithms/gram_solve.h"
#include "algorithms/model_matrix.h"
#include "algorithms/model_support.h"
#include "algorithms/r_levels.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Parameters.
constexpr char kFormula[] = "formula";
constexpr char kTies[] = "ties";
constexpr char kPooled[] = "pooled";

// Round state. Nodes read phase, levels, times, beta and center.
constexpr char kPhase[] = "phase";
constexpr char kTimesPrefix[] = "times:";
constexpr char kIteration[] = "iteration";
constexpr char kBeta[] = "beta";          // where the nodes evaluate this round
constexpr char kCenter[] = "center";      // pooled: the pooled covariate means
constexpr char kAccepted[] = "accepted";  // coxfit6's beta: the last accepted step
constexpr char kLogLikOld[] = "loglik_old";
constexpr char kLogLikInitial[] = "loglik_initial";
constexpr char kScoreTest[] = "score_test";
constexpr char kHalving[] = "halving";

constexpr char kPhaseLevels[] = "levels";
constexpr char kPhaseTimes[] = "times";
constexpr char kPhaseFit[] = "fit";

// Blocks.
// The levels round: [cases, records with status 1 (or TRUE), records with
// status 2], so that the coordinator counts events under the pooled coding.
// The times round: [cases].
constexpr char kCases[] = "n";
constexpr char kEventCodes[] = "event_codes";    // the levels round: see EventCodes
constexpr char kEventCoding[] = "event_coding";  // state: the pooled coding
constexpr char kInformation[] = "information";
constexpr char kScore[] = "score";
constexpr char kStats[] = "stats";  // [log partial likelihood part, cases, events, column sums...]
constexpr char kRiskPrefix[] = "risk:";  // pooled: per-event-time sums of one stratum

struct Spec {
  Formula formula;
  bool efron = true;
  bool pooled = false;
  int max_iterations = 20;
  double epsilon = 1e-9;
};

absl::StatusOr<Spec> ParseSpec(const v1::Parameters& parameters) {
  Spec spec;
  SPOOR_ASSIGN_OR_RETURN(std::string formula, GetText(parameters, kFormula));
  absl::StatusOr<Formula> parsed = ParseFormula(formula);
  if (!parsed.ok()) return absl::InvalidArgumentError(std::string(parsed.status().message()));
  spec.formula = *std::move(parsed);
  if (!spec.formula.survival) {
    return absl::InvalidArgumentError(
        "cox: the formula needs a survival response, e.g. Surv(time, status) ~ age + sex");
  }
  if (spec.formula.terms.empty()) {
    return absl::InvalidArgumentError("cox: the formula has no covariates");
  }
  if (!spec.formula.offsets.empty()) {
    return absl::InvalidArgumentError("cox: offset() is not supported in Cox models yet");
  }
  if (const v1::Value* ties = FindParameter(parameters, kTies); ties != nullptr) {
    if (ties->text() == "breslow") {
      spec.efron = false;
    } else if (ties->text() != "efron") {
      return absl::InvalidArgumentError("cox: ties must be efron or breslow");
    }
  }
  if (const v1::Value* pooled = FindParameter(parameters, kPooled); pooled != nullptr) {
    spec.pooled = pooled->flag();
  }
  SPOOR_ASSIGN_OR_RETURN(IterationControl control,
                         ParseIterationControl(parameters, "cox", {20, 1e-9}));
  spec.max_iterations = control.max_iterations;
  spec.epsilon = control.epsilon;
  return spec;
}

// R's coxph drops the intercept column of the model matrix.
std::vector<std::string> CoxColumnNames(const Formula& formula, const FactorLevels& levels) {
  std::vector<std::string> names = ModelColumnNames(formula, levels);
  if (formula.intercept && !names.empty()) names.erase(names.begin());
  return names;
}

size_t TriangleSize(Eigen::Index p) { return static_cast<size_t>(p * (p + 1) / 2); }

// --- The risk-set sums behind the partial likelihood. ---

// All records with one time in one stratum (or, pooled, all records in
// [t_j, t_{j+1}) for consecutive event times): sums over every record
// (s0, s1, s2) and over its deaths (d0, d1, d2), with risk = w exp(x'b).
struct Bucket {
  double time = 0;
  double s0 = 0;
  Eigen::VectorXd s1;
  Eigen::MatrixXd s2;  // upper triangle used
  double deaths = 0;   // ndead
  double death_weight = 0;
  double d0 = 0;
  Eigen::VectorXd d1;
  Eigen::MatrixXd d2;

  explicit Bucket(Eigen::Index p)
      : s1(Eigen::VectorXd::Zero(p)),
        s2(Eigen::MatrixXd::Zero(p, p)),
        d1(Eigen::VectorXd::Zero(p)),
        d2(Eigen::MatrixXd::Zero(p, p)) {}

  void Reset() {
    s0 = deaths = death_weight = d0 = 0;
    s1.setZero();
    s2.setZero();
    d1.setZero();
    d2.setZero();
  }

  void Add(const Eigen::VectorXd& x, double risk, bool death, double weight) {
    s0 += risk;
    s1 += risk * x;
    s2.selfadjointView<Eigen::Upper>().rankUpdate(x, risk);
    if (!death) return;
    deaths += 1;
    death_weight += weight;
    d0 += risk;
    d1 += risk * x;
    d2.selfadjointView<Eigen::Upper>().rankUpdate(x, risk);
  }
};

struct PartialLikelihood {
  double loglik = 0;  // the -sum log(denominator) part; deaths' w x'b are added apart
  Eigen::VectorXd score;
  Eigen::MatrixXd information;
  explicit PartialLikelihood(Eigen::Index p)
      : score(Eigen::VectorXd::Zero(p)), information(Eigen::MatrixXd::Zero(p, p)) {}
};

// coxfit6's backward pass over one stratum, fed buckets in descending time:
// each risk set holds every record with a time at or after the event time.
class RiskSets {
 public:
  RiskSets(Eigen::Index p, bool efron, PartialLikelihood& out)
      : efron_(efron),
        out_(out),
        a_(Eigen::VectorXd::Zero(p)),
        c_(Eigen::MatrixXd::Zero(p, p)),
        mean_(p) {}

  void Add(const Bucket& b) {
    denom_ += b.s0 - b.d0;
    a_ += b.s1 - b.d1;
    c_ += b.s2 - b.d2;
    if (b.deaths == 0) return;
    // Breslow adds every death at once; Efron adds them a fraction at a
    // time. With one death the two agree.
    const int steps = efron_ ? static_cast<int>(b.deaths) : 1;
    const double weight = b.death_weight / steps;
    for (int k = 0; k < steps; ++k) {
      denom_ += b.d0 / steps;
      a_ += b.d1 / steps;
      c_ += b.d2 / steps;
      out_.loglik -= weight * std::log(denom_);
      mean_ = a_ / denom_;
      out_.score -= weight * mean_;
      out_.information.triangularView<Eigen::Upper>() +=
          weight * (c_ / denom_ - mean_ * mean_.transpose());
    }
  }

 private:
  const bool efron_;
  PartialLikelihood& out_;
  double denom_ = 0;
  Eigen::VectorXd a_;
  Eigen::MatrixXd c_;
  Eigen::VectorXd mean_;
};

void Accumulate(const std::vector<Bucket>& buckets, bool efron, PartialLikelihood& out) {
  if (buckets.empty()) return;
  RiskSets risk_sets(out.score.size(), efron, out);
  for (const Bucket& b : buckets) risk_sets.Add(b);
}

Eigen::MatrixXd Symmetric(const Eigen::MatrixXd& upper) {
  Eigen::MatrixXd m = upper.selfadjointView<Eigen::Upper>();
  return m;
}

// --- The node's side. ---

}  // namespace

struct CoxAlgorithm::LocalData {
  ModelMatrix matrix;  // x without the intercept column
  Eigen::Index p = 0;
  std::vector<std::vector<Eigen::Index>> strata;  // rows per stratum, by descending time
};

namespace {

using LocalData = CoxAlgorithm::LocalData;

std::vector<std::vector<Eigen::Index>> RowsByStratum(const ModelMatrix& m);

// The codes this node's event column uses, over every non-missing value (R's
// Surv() sees the whole column): "logical", or those of "0", "1", "2" present.
std::vector<std::string> EventCodes(const spoor::Column& event) {
  if (event.type() == ColumnType::kCategorical) return {"logical"};
  bool seen[3] = {false, false, false};
  for (double v : event.numbers()) {
    if (v == 0 || v == 1 || v == 2) seen[static_cast<int>(v)] = true;
  }
  std::vector<std::string> codes;
  for (int c = 0; c < 3; ++c) {
    if (seen[c]) codes.push_back(std::to_string(c));
  }
  return codes;
}

// The coding R's Surv() would choose on the pooled column, from every node's
// EventCodes: a node that only saw 1s is 1/2-coded (all censored) when
// another node saw a 2.
absl::StatusOr<SurvEventCoding> PooledEventCoding(const std::vector<NodeAggregate>& aggregates,
                                                  const std::string& variable) {
  bool logical = false, numeric = false, zero = false, two = false;
  for (const NodeAggregate& node : aggregates) {
    const v1::Block* block = FindBlock(node.aggregate, kEventCodes);
    if (block == nullptr || !block->has_levels()) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", node.node_id, " did not report its event codes"));
    }
    for (const std::string& code : block->levels().values()) {
      logical = logical || code == "logical";
      numeric = numeric || code != "logical";
      zero = zero || code == "0";
      two = two || code == "2";
    }
  }
  if (logical && numeric) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cox: event '", variable,
        "' is TRUE/FALSE at some nodes and numeric at others; code it the same way everywhere"));
  }
  if (zero && two) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cox: event '", variable,
        "' is coded 1/2 at some nodes and has 0 at others; code it the same way (0/1, 1/2 or "
        "FALSE/TRUE) at every node"));
  }
  return logical ? SurvEventCoding::kLogical
                 : (two ? SurvEventCoding::kOneTwo : SurvEventCoding::kZeroOne);
}

const char* CodingName(SurvEventCoding coding) {
  switch (coding) {
    case SurvEventCoding::kLogical:
      return "logical";
    case SurvEventCoding::kOneTwo:
      return "one_two";
    case SurvEventCoding::kZeroOne:
      return "zero_one";
  }
  return "";
}

// `coding`: the pooled coding from the state, or nullopt (the levels round:
// this node's own reading).
absl::StatusOr<LocalData> BuildLocalData(const Spec& spec, const DataFrame& frame,
                                         const FactorLevels& levels,
                                         std::optional<SurvEventCoding> coding = std::nullopt) {
  LocalData data;
  SPOOR_ASSIGN_OR_RETURN(data.matrix, BuildModelMatrix(spec.formula, frame, levels));
  if (coding) {
    // Read the events as the pooled column would be read (the model matrix
    // read them with this node's own coding).
    std::vector<const spoor::Column*> columns;
    for (const std::string& v : spec.formula.Variables()) columns.push_back(frame.Find(v));
    const std::vector<size_t> rows = CompleteRows(columns, frame.num_rows());
    const spoor::Column& event = *frame.Find(spec.formula.survival->event);
    int64_t bad = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const int status = DecodeSurvEvent(event, rows[i], *coding);
      bad += status < 0;
      data.matrix.event[static_cast<Eigen::Index>(i)] = status;
    }
    if (bad > 0) return absl::InvalidArgumentError(InvalidSurvEventMessage(event.name(), bad));
  }
  if (spec.formula.intercept && data.matrix.x.cols() > 0) {
    Eigen::MatrixXd x = data.matrix.x.rightCols(data.matrix.x.cols() - 1);
    data.matrix.x = std::move(x);
  }
  data.p = data.matrix.x.cols();
  data.strata = RowsByStratum(data.matrix);
  return data;
}

int32_t StratumOf(const ModelMatrix& m, Eigen::Index row) {
  return m.strata.empty() ? 0 : m.strata[static_cast<size_t>(row)];
}

std::string StratumName(const ModelMatrix& m, int32_t stratum) {
  return m.strata_levels.empty() ? "" : m.strata_levels[static_cast<size_t>(stratum)];
}

size_t StratumCount(const ModelMatrix& m) {
  return m.strata_levels.empty() ? 1 : m.strata_levels.size();
}

// Rows of each stratum ordered by descending time.
std::vector<std::vector<Eigen::Index>> RowsByStratum(const ModelMatrix& m) {
  std::vector<std::vector<Eigen::Index>> rows(StratumCount(m));
  for (Eigen::Index i = 0; i < m.time.size(); ++i) rows[StratumOf(m, i)].push_back(i);
  for (auto& r : rows) {
    std::stable_sort(r.begin(), r.end(),
                     [&m](Eigen::Index a, Eigen::Index b) { return m.time[a] > m.time[b]; });
  }
  return rows;
}

absl::StatusOr<v1::Aggregate> LocalFit(const Spec& spec, const LocalData& data,
                                       const v1::Parameters& state) {
  const ModelMatrix& m = data.matrix;
  const Eigen::Index p = data.p, n = m.x.rows();
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(p);
  if (FindParameter(state, kBeta) != nullptr) {
    SPOOR_ASSIGN_OR_RETURN(std::vector<double> b, GetNumbers(state, kBeta));
    if (static_cast<Eigen::Index>(b.size()) != p) {
      return absl::InvalidArgumentError("cox: the model's columns differ between nodes");
    }
    beta = ToVector(b);
  }
  Eigen::VectorXd center =
      n > 0 ? Eigen::VectorXd(m.x.colwise().mean().transpose()) : Eigen::VectorXd::Zero(p);
  if (spec.pooled) {
    center = Eigen::VectorXd::Zero(p);
    if (FindParameter(state, kCenter) != nullptr) {
      SPOOR_ASSIGN_OR_RETURN(std::vector<double> c, GetNumbers(state, kCenter));
      if (static_cast<Eigen::Index>(c.size()) != p) {
        return absl::InvalidArgumentError("cox: the model's columns differ between nodes");
      }
      center = ToVector(c);
    }
  }
  const Eigen::MatrixXd x = m.x.rowwise() - center.transpose();
  const Eigen::VectorXd eta = x * beta;

  // What does not depend on the risk sets: the deaths' w x'b and w x.
  double death_eta = 0;
  Eigen::VectorXd death_x = Eigen::VectorXd::Zero(p);
  int64_t events = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (m.event[i] == 0) continue;
    ++events;
    death_eta += eta[i];
    death_x += x.row(i).transpose();
  }
  std::vector<double> stats = {death_eta, static_cast<double>(n), static_cast<double>(events)};
  const Eigen::VectorXd sums = m.x.colwise().sum().transpose();
  for (Eigen::Index j = 0; j < p; ++j) stats.push_back(sums[j]);

  v1::Aggregate aggregate;
  const std::vector<std::vector<Eigen::Index>>& strata = data.strata;
  if (!spec.pooled) {
    // One time at a time, into one reusable bucket: no allocation per time.
    PartialLikelihood pl(p);
    Bucket bucket(p);
    Eigen::VectorXd xi(p);
    for (const std::vector<Eigen::Index>& rows : strata) {
      RiskSets risk_sets(p, spec.efron, pl);
      for (size_t k = 0; k < rows.size();) {
        bucket.Reset();
        const double time = m.time[rows[k]];
        for (; k < rows.size() && m.time[rows[k]] == time; ++k) {
          const Eigen::Index i = rows[k];
          xi = x.row(i).transpose();
          bucket.Add(xi, std::exp(eta[i]), m.event[i] != 0, 1.0);
        }
        risk_sets.Add(bucket);
      }
    }
    stats[0] += pl.loglik;
    AddSymmetricBlock(aggregate, kInformation, n, pl.information);
    AddVectorBlock(aggregate, kScore, n, pl.score + death_x);
    AddVectorBlock(aggregate, kStats, n, ToVector(stats));
    return aggregate;
  }

  // Pooled: bucket the records at the event times of all nodes.
  for (size_t s = 0; s < strata.size(); ++s) {
    const std::string name = StratumName(m, static_cast<int32_t>(s));
    const v1::Value* times_value = FindParameter(state, absl::StrCat(kTimesPrefix, name));
    if (times_value == nullptr || strata[s].empty()) continue;  // no event in this stratum anywhere
    const auto& times = times_value->numbers().values();        // ascending
    std::vector<Bucket> buckets(static_cast<size_t>(times.size()), Bucket(p));
    int64_t records = 0;
    for (Eigen::Index i : strata[s]) {
      // The largest event time at or before this record's time.
      auto it = std::upper_bound(times.begin(), times.end(), m.time[i]);
      if (it == times.begin()) continue;  // never at risk at an event time
      const auto j = static_cast<size_t>(it - times.begin() - 1);
      const bool death = m.event[i] != 0 && times[static_cast<int>(j)] == m.time[i];
      buckets[j].Add(x.row(i).transpose(), std::exp(eta[i]), death, 1.0);
      ++records;
    }
    // Per event time: s0, s1, s2 (upper), deaths, death weight, d0, d1, d2.
    std::vector<double> values;
    const size_t width = 4 + 2 * static_cast<size_t>(p) + 2 * TriangleSize(p);
    values.reserve(buckets.size() * width);
    for (const Bucket& b : buckets) {
      values.push_back(b.s0);
      for (Eigen::Index r = 0; r < p; ++r) values.push_back(b.s1[r]);
      for (Eigen::Index r = 0; r < p; ++r)
        for (Eigen::Index c = r; c < p; ++c) values.push_back(b.s2(r, c));
      values.push_back(b.deaths);
      values.push_back(b.death_weight);
      values.push_back(b.d0);
      for (Eigen::Index r = 0; r < p; ++r) values.push_back(b.d1[r]);
      for (Eigen::Index r = 0; r < p; ++r)
        for (Eigen::Index c = r; c < p; ++c) values.push_back(b.d2(r, c));
    }
    AddVectorBlock(aggregate, absl::StrCat(kRiskPrefix, name), records, ToVector(values),
                   v1::BLOCK_KIND_EVENT_TIMES);
  }
  AddVectorBlock(aggregate, kScore, n, death_x);
  AddVectorBlock(aggregate, kStats, n, ToVector(stats));
  return aggregate;
}

// --- The coordinator's side. ---

struct Pooled {
  PartialLikelihood pl;
  double death_eta = 0;
  int64_t n = 0, events = 0;
  Eigen::VectorXd column_sums;
  explicit Pooled(Eigen::Index p) : pl(p), column_sums(Eigen::VectorXd::Zero(p)) {}
  double LogLik() const { return pl.loglik + death_eta; }
};

absl::StatusOr<Pooled> PoolFit(const Spec& spec, const CentralRequest& request, Eigen::Index p) {
  Pooled pooled(p);
  // Pooled mode: bucket sums per stratum, added over nodes.
  std::map<std::string, std::vector<Bucket>> strata;
  const size_t width = 4 + 2 * static_cast<size_t>(p) + 2 * TriangleSize(p);
  for (const NodeAggregate& node : request.aggregates) {
    const v1::Block* score = FindBlock(node.aggregate, kScore);
    const v1::Block* stats = FindBlock(node.aggregate, kStats);
    if (score == nullptr || stats == nullptr || !score->has_vector() || !stats->has_vector()) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", node.node_id, " answered without the cox blocks"));
    }
    if (score->vector().values_size() != p || stats->vector().values_size() != 3 + p) {
      return ColumnMismatch(node.node_id);
    }
    for (Eigen::Index j = 0; j < p; ++j) {
      pooled.pl.score[j] += score->vector().values(static_cast<int>(j));
      pooled.column_sums[j] += stats->vector().values(static_cast<int>(3 + j));
    }
    pooled.death_eta += stats->vector().values(0);
    pooled.n += static_cast<int64_t>(stats->vector().values(1));
    pooled.events += static_cast<int64_t>(stats->vector().values(2));
    if (!spec.pooled) {
      const v1::Block* info = FindBlock(node.aggregate, kInformation);
      if (info == nullptr) return ColumnMismatch(node.node_id);
      SPOOR_RETURN_IF_ERROR(AddSymmetricTo(*info, node.node_id, pooled.pl.information));
      continue;
    }
    for (const v1::Block& block : node.aggregate.blocks()) {
      if (!absl::StartsWith(block.name(), kRiskPrefix)) continue;
      const std::string stratum = block.name().substr(sizeof(kRiskPrefix) - 1);
      const v1::Value* times =
          FindParameter(request.round_state, absl::StrCat(kTimesPrefix, stratum));
      const auto& v = block.vector().values();
      if (times == nullptr || static_cast<size_t>(v.size()) !=
                                  width * static_cast<size_t>(times->numbers().values_size())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "node ", node.node_id, " sent risk-set sums that do not fit the event times"));
      }
      std::vector<Bucket>& buckets = strata[stratum];
      const size_t count = static_cast<size_t>(times->numbers().values_size());
      if (buckets.empty()) buckets.assign(count, Bucket(p));
      for (size_t j = 0; j < count; ++j) {
        Bucket& b = buckets[j];
        b.time = times->numbers().values(static_cast<int>(j));
        int k = static_cast<int>(j * width);
        b.s0 += v[k++];
        for (Eigen::Index r = 0; r < p; ++r) b.s1[r] += v[k++];
        for (Eigen::Index r = 0; r < p; ++r)
          for (Eigen::Index c = r; c < p; ++c) b.s2(r, c) += v[k++];
        b.deaths += v[k++];
        b.death_weight += v[k++];
        b.d0 += v[k++];
        for (Eigen::Index r = 0; r < p; ++r) b.d1[r] += v[k++];
        for (Eigen::Index r = 0; r < p; ++r)
          for (Eigen::Index c = r; c < p; ++c) b.d2(r, c) += v[k++];
      }
    }
  }
  for (auto& [stratum, buckets] : strata) {
    std::reverse(buckets.begin(), buckets.end());  // descending time
    Accumulate(buckets, spec.efron, pooled.pl);
  }
  pooled.pl.information = Symmetric(pooled.pl.information);
  return pooled;
}

v1::CoxResult Summarise(const Spec& spec, const std::vector<std::string>& names,
                        const Eigen::VectorXd& beta, const Pooled& pooled,
                        const v1::Parameters& state, int iterations, bool converged,
                        const Eigen::MatrixXd& variance, const std::vector<bool>& aliased) {
  v1::CoxResult result;
  const double z975 = NormalQuantile(0.975);
  int df = 0;
  double wald = 0;
  std::vector<Eigen::Index> kept;
  for (size_t j = 0; j < names.size(); ++j) {
    const auto jj = static_cast<Eigen::Index>(j);
    v1::CoxTerm* t = result.add_coefficients();
    t->set_term(names[j]);
    if (aliased[j]) {
      t->set_aliased(true);
      for (auto set :
           {&v1::CoxTerm::set_estimate, &v1::CoxTerm::set_std_error, &v1::CoxTerm::set_hazard_ratio,
            &v1::CoxTerm::set_statistic, &v1::CoxTerm::set_p_value, &v1::CoxTerm::set_hr_low,
            &v1::CoxTerm::set_hr_high}) {
        (t->*set)(kNaN);
      }
      continue;
    }
    ++df;
    kept.push_back(jj);
    const double b = beta[jj], se = std::sqrt(variance(jj, jj));
    t->set_estimate(b);
    t->set_std_error(se);
    t->set_hazard_ratio(std::exp(b));
    t->set_statistic(b / se);
    t->set_p_value(TwoSidedNormalP(b / se));
    t->set_hr_low(std::exp(b - z975 * se));
    t->set_hr_high(std::exp(b + z975 * se));
  }
  // Wald: b' V^-1 b over the estimable coefficients, V^-1 = I.
  for (Eigen::Index r : kept)
    for (Eigen::Index c : kept) wald += beta[r] * pooled.pl.information(r, c) * beta[c];
  const double initial = state.values().at(kLogLikInitial).number();
  const double final_loglik = pooled.LogLik();
  result.set_loglik_initial(initial);
  result.set_loglik_final(final_loglik);
  result.set_df(df);
  result.set_lr_test(2 * (final_loglik - initial));
  result.set_lr_p(ChiSquareUpperTail(result.lr_test(), df));
  result.set_wald_test(wald);
  result.set_wald_p(ChiSquareUpperTail(wald, df));
  result.set_score_test(state.values().at(kScoreTest).number());
  result.set_score_p(ChiSquareUpperTail(result.score_test(), df));
  result.set_n(pooled.n);
  result.set_events(pooled.events);
  result.set_iterations(iterations);
  result.set_converged(converged);
  result.set_ties(spec.efron ? "efron" : "breslow");
  result.set_pooled(spec.pooled);
  if (!converged) result.add_warnings("Ran out of iterations and did not converge");
  return result;
}

}  // namespace

absl::Status CoxAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  return ParseSpec(parameters).status();
}

absl::StatusOr<v1::Parameters> CoxAlgorithm::Begin(const v1::Parameters& parameters) const {
  v1::Parameters state;
  SetText(state, kPhase, kPhaseLevels);
  return state;
}

absl::StatusOr<v1::Aggregate> CoxAlgorithm::Local(const LocalRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(Spec spec, ParseSpec(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetText(request.round_state, kPhase));
  if (phase == kPhaseLevels) {
    SPOOR_ASSIGN_OR_RETURN(FactorLevels levels, LocalLevels(spec.formula, request.frame));
    // Types and the event coding are checked now, with this node's levels
    // (padded: a factor with one level here may have more elsewhere).
    FactorLevels padded = levels;
    for (auto& [variable, values] : padded) {
      if (values.size() < 2) values.push_back(values.empty() ? "\x01" : values[0] + "\x01");
    }
    SPOOR_ASSIGN_OR_RETURN(LocalData data, BuildLocalData(spec, request.frame, padded));
    const int64_t cases = data.matrix.x.rows();
    // Status codes among the complete cases; which of them are events
    // depends on the pooled coding, which the coordinator decides.
    const spoor::Column& event = *request.frame.Find(spec.formula.survival->event);
    std::vector<const spoor::Column*> columns;
    for (const std::string& v : spec.formula.Variables()) columns.push_back(request.frame.Find(v));
    int64_t ones = 0, twos = 0;
    for (size_t r : CompleteRows(columns, request.frame.num_rows())) {
      if (event.type() == ColumnType::kCategorical) {
        ones += DecodeSurvEvent(event, r, SurvEventCoding::kLogical) == 1;
      } else {
        ones += event.numbers()[r] == 1;
        twos += event.numbers()[r] == 2;
      }
    }
    v1::Aggregate aggregate;
    AddLevelsBlocks(levels, cases, aggregate);
    v1::Block* codes = aggregate.add_blocks();
    codes->set_name(kEventCodes);
    codes->set_record_count(cases);
    for (const std::string& code : EventCodes(*request.frame.Find(spec.formula.survival->event))) {
      codes->mutable_levels()->add_values(code);
    }
    AddVectorBlock(aggregate, kCases, cases,
                   Eigen::Vector3d(static_cast<double>(cases), static_cast<double>(ones),
                                   static_cast<double>(twos)));
    return aggregate;
  }
  const FactorLevels levels = LevelsFromState(request.round_state);
  SPOOR_ASSIGN_OR_RETURN(const std::string formula, GetText(request.parameters, kFormula));
  SPOOR_ASSIGN_OR_RETURN(const std::string coding_name, GetText(request.round_state, kEventCoding));
  SurvEventCoding coding = SurvEventCoding::kZeroOne;
  if (coding_name == "logical") coding = SurvEventCoding::kLogical;
  if (coding_name == "one_two") coding = SurvEventCoding::kOneTwo;
  const std::string key = absl::StrCat(coding_name, "\n", ModelKey(formula, levels));
  SPOOR_ASSIGN_OR_RETURN(std::shared_ptr<const LocalData> data,
                         cache_.GetOrBuild(request.frame.id(), key, [&] {
                           return BuildLocalData(spec, request.frame, levels, coding);
                         }));
  if (phase == kPhaseTimes) {
    // This node's distinct event times per stratum.
    const ModelMatrix& m = data->matrix;
    v1::Aggregate aggregate;
    const std::vector<std::vector<Eigen::Index>>& strata = data->strata;
    for (size_t s = 0; s < strata.size(); ++s) {
      std::vector<double> times;
      for (Eigen::Index i : strata[s]) {
        if (m.event[i] != 0) times.push_back(m.time[i]);
      }
      if (times.empty()) continue;
      std::sort(times.begin(), times.end());
      times.erase(std::unique(times.begin(), times.end()), times.end());
      AddVectorBlock(aggregate, absl::StrCat(kTimesPrefix, StratumName(m, static_cast<int32_t>(s))),
                     static_cast<int64_t>(strata[s].size()), ToVector(times),
                     v1::BLOCK_KIND_EVENT_TIMES);
    }
    AddVectorBlock(aggregate, kCases, m.x.rows(),
                   Eigen::VectorXd::Constant(1, static_cast<double>(m.x.rows())));
    return aggregate;
  }
  if (phase != kPhaseFit)
    return absl::InvalidArgumentError(absl::StrCat("cox: unknown phase '", phase, "'"));
  return LocalFit(spec, *data, request.round_state);
}

absl::StatusOr<CentralStep> CoxAlgorithm::Central(const CentralRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(Spec spec, ParseSpec(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetText(request.round_state, kPhase));
  CentralStep step;
  v1::Parameters& next = step.next_round_state;
  next = request.round_state;

  if (phase == kPhaseLevels) {
    SPOOR_ASSIGN_OR_RETURN(SurvEventCoding coding,
                           PooledEventCoding(request.aggregates, spec.formula.survival->event));
    int64_t cases = 0, events = 0;
    for (const NodeAggregate& node : request.aggregates) {
      const v1::Block* n = FindBlock(node.aggregate, kCases);
      if (n != nullptr && n->vector().values_size() == 3) {
        cases += static_cast<int64_t>(n->vector().values(0));
        events +=
            static_cast<int64_t>(n->vector().values(coding == SurvEventCoding::kOneTwo ? 2 : 1));
      }
    }
    if (events == 0) {
      return absl::FailedPreconditionError(
          "cox: no node has an event among the complete cases; a Cox model needs events");
    }
    SetText(next, kEventCoding, CodingName(coding));
    FactorLevels levels = SetUnionOfNodeLevels(request.aggregates, next);
    levels.erase(kEventCodes);  // not a factor: the union came along with the levels
    next.mutable_values()->erase(absl::StrCat("levels:", kEventCodes));
    const size_t p = CoxColumnNames(spec.formula, levels).size();
    if (p == 0) return absl::InvalidArgumentError("cox: the model has no columns");
    if (static_cast<int64_t>(p) >= cases) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cox: the model has ", p, " coefficients but only ", cases, " complete cases"));
    }
    SetText(next, kPhase, spec.pooled ? kPhaseTimes : kPhaseFit);
    SetNumber(next, kIteration, 0);
    return step;
  }

  if (phase == kPhaseTimes) {
    std::map<std::string, std::vector<double>> times;
    for (const NodeAggregate& node : request.aggregates) {
      for (const v1::Block& block : node.aggregate.blocks()) {
        if (!absl::StartsWith(block.name(), kTimesPrefix)) continue;
        std::vector<double>& t = times[block.name()];
        t.insert(t.end(), block.vector().values().begin(), block.vector().values().end());
      }
    }
    for (auto& [key, t] : times) {
      std::sort(t.begin(), t.end());
      t.erase(std::unique(t.begin(), t.end()), t.end());
      SetNumbers(next, key, t);
    }
    SetText(next, kPhase, kPhaseFit);
    return step;
  }

  const FactorLevels levels = LevelsFromState(request.round_state);
  const std::vector<std::string> names = CoxColumnNames(spec.formula, levels);
  const auto p = static_cast<Eigen::Index>(names.size());
  SPOOR_ASSIGN_OR_RETURN(Pooled pooled, PoolFit(spec, request, p));
  SPOOR_ASSIGN_OR_RETURN(double iteration_number, GetNumber(request.round_state, kIteration, 0));
  const int iteration = static_cast<int>(iteration_number);
  const double loglik = pooled.LogLik();
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(p);
  if (FindParameter(request.round_state, kBeta) != nullptr) {
    SPOOR_ASSIGN_OR_RETURN(std::vector<double> b, GetNumbers(request.round_state, kBeta));
    beta = ToVector(b);
  }
  if (spec.pooled && pooled.n > 0) {
    SetNumbers(next, kCenter, FromVector(pooled.column_sums / static_cast<double>(pooled.n)));
  }

  if (iteration == 0) {
    // At beta = 0: the initial log-likelihood, the score test, the first step.
    SPOOR_ASSIGN_OR_RETURN(GramSolution step0, GramSolve(pooled.pl.information, pooled.pl.score));
    SetNumber(next, kLogLikInitial, loglik);
    SetNumber(next, kLogLikOld, loglik);
    SetNumber(next, kScoreTest, step0.x.dot(pooled.pl.score));
    SetNumbers(next, kAccepted, FromVector(beta));
    SetNumbers(next, kBeta, FromVector(beta + step0.x));
    SetNumber(next, kIteration, 1);
    (*next.mutable_values())[kHalving].set_flag(false);
    return step;
  }

  SPOOR_ASSIGN_OR_RETURN(double loglik_old, GetNumber(request.round_state, kLogLikOld, kNaN));
  const bool halving = request.round_state.values().contains(kHalving) &&
                       request.round_state.values().at(kHalving).flag();
  const bool finite =
      std::isfinite(loglik) && pooled.pl.score.allFinite() && pooled.pl.information.allFinite();
  const bool converged = finite && !halving && std::abs(1 - loglik_old / loglik) <= spec.epsilon;
  if (converged || iteration >= spec.max_iterations) {
    if (!finite) {
      return absl::FailedPreconditionError(
          "cox: the partial likelihood is not finite at the last iteration; the model does not "
          "fit (check for a covariate that separates events from non-events)");
    }
    SPOOR_ASSIGN_OR_RETURN(GramSolution pattern, GramSolve(pooled.pl.information, pooled.pl.score));
    SPOOR_ASSIGN_OR_RETURN(Eigen::MatrixXd variance,
                           GramInverse(pooled.pl.information, pattern.aliased));
    step.done = true;
    *step.result.mutable_cox() = Summarise(spec, names, beta, pooled, request.round_state,
                                           iteration, converged, variance, pattern.aliased);
    return step;
  }
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> accepted_numbers,
                         GetNumbers(request.round_state, kAccepted));
  const Eigen::VectorXd accepted = ToVector(accepted_numbers);
  if (!finite || loglik < loglik_old) {
    // Not converging: halve the step back towards the last accepted beta.
    SetNumbers(next, kBeta, FromVector((beta + accepted) / 2));
    (*next.mutable_values())[kHalving].set_flag(true);
  } else {
    SPOOR_ASSIGN_OR_RETURN(GramSolution newton, GramSolve(pooled.pl.information, pooled.pl.score));
    SetNumber(next, kLogLikOld, loglik);
    SetNumbers(next, kAccepted, FromVector(beta));
    SetNumbers(next, kBeta, FromVector(beta + newton.x));
    (*next.mutable_values())[kHalving].set_flag(false);
  }
  SetNumber(next, kIteration, iteration + 1);
  return step;
}

}  // namespace spoor
