#include "algorithms/glm.h"

#include <cfloat>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "algorithms/distributions.h"
#include "algorithms/formula.h"
#include "algorithms/gram_solve.h"
#include "algorithms/model_matrix.h"
#include "algorithms/model_support.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Parameters.
constexpr char kFormula[] = "formula";
constexpr char kFamily[] = "family";
constexpr char kWeights[] = "weights";

// Round state. Nodes read phase, levels, iteration, beta, start_beta and
// wtdmu; the rest is the coordinator's own bookkeeping between rounds.
constexpr char kPhase[] = "phase";
constexpr char kIteration[] = "iteration";
constexpr char kBeta[] = "beta";
constexpr char kStartBeta[] = "start_beta";  // null phase: the full fit's coefficients
constexpr char kWtdmu[] = "wtdmu";
constexpr char kDevOld[] = "dev_old";
constexpr char kCoefOld[] = "coef_old";
constexpr char kSolveXtwx[] = "solve_xtwx";  // X'WX of the last solve (for the SEs)
constexpr char kAliased[] = "aliased";       // 1 for each aliased column of the last solve
constexpr char kBoundary[] = "boundary";
constexpr char kHalvings[] = "halvings";
constexpr char kFullResult[] = "full_result";  // base64 GlmResult of the full fit

constexpr char kPhaseLevels[] = "levels";
constexpr char kPhaseFit[] = "fit";
constexpr char kPhaseNull[] = "null";

// Blocks.
constexpr char kXtwx[] = "xtwx";
constexpr char kXtwz[] = "xtwz";
constexpr char kStats[] = "stats";
constexpr char kCases[] = "n";

// Positions in the "stats" block.
enum Stat {
  kDeviance = 0,
  kN,             // complete cases
  kSumWeights,    // sum of prior weights
  kSumWy,         // sum of prior weight * y
  kAicPart,       // the family's aic() sum over this node's cases
  kBoundaryFit,   // fitted values numerically 0/1 (binomial) or 0 (poisson)
  kNullDeviance,  // deviance of the null model, NaN when not computable yet
  kNonInteger,    // binomial: non-integer #successes
  kPositiveWeights,
  kStatCount
};

enum class Family { kGaussian, kBinomial, kPoisson };

// R's family objects (stats/R/family.R and src/library/stats/src/family.c).
class FamilyFunctions {
 public:
  explicit FamilyFunctions(Family family) : family_(family) {}

  double LinkFun(double mu) const {
    switch (family_) {
      case Family::kGaussian:
        return mu;
      case Family::kBinomial:
        return std::log(mu / (1 - mu));
      case Family::kPoisson:
        return std::log(mu);
    }
    return kNaN;
  }

  double LinkInv(double eta) const {
    switch (family_) {
      case Family::kGaussian:
        return eta;
      case Family::kBinomial: {
        // C_logit_linkinv: clamped so that mu stays inside (0, 1).
        double t = eta < -30 ? DBL_EPSILON : (eta > 30 ? 1 / DBL_EPSILON : std::exp(eta));
        return t / (1 + t);
      }
      case Family::kPoisson:
        return std::max(std::exp(eta), DBL_EPSILON);
    }
    return kNaN;
  }

  double MuEta(double eta) const {
    switch (family_) {
      case Family::kGaussian:
        return 1;
      case Family::kBinomial: {
        if (eta > 30 || eta < -30) return DBL_EPSILON;
        double e = std::exp(eta);
        return e / ((1 + e) * (1 + e));
      }
      case Family::kPoisson:
        return std::max(std::exp(eta), DBL_EPSILON);
    }
    return kNaN;
  }

  double Variance(double mu) const {
    switch (family_) {
      case Family::kGaussian:
        return 1;
      case Family::kBinomial:
        return mu * (1 - mu);
      case Family::kPoisson:
        return mu;
    }
    return kNaN;
  }

  double DevResid(double y, double mu, double wt) const {
    switch (family_) {
      case Family::kGaussian:
        return wt * (y - mu) * (y - mu);
      case Family::kBinomial:
        return 2 * wt * (YLogY(y, mu) + YLogY(1 - y, 1 - mu));
      case Family::kPoisson:
        return 2 * (y > 0 ? wt * (y * std::log(y / mu) - (y - mu)) : mu * wt);
    }
    return kNaN;
  }

  // The starting value of mu for one case (family$initialize).
  double MuStart(double y, double wt) const {
    switch (family_) {
      case Family::kGaussian:
        return y;
      case Family::kBinomial:
        return (wt * y + 0.5) / (wt + 1);
      case Family::kPoisson:
        return y + 0.1;
    }
    return kNaN;
  }

  // One case's term of the family's aic(): gaussian -log(wt) (the rest of
  // its aic needs the pooled deviance), binomial and poisson -2 log f(y).
  double AicTerm(double y, double mu, double wt) const {
    switch (family_) {
      case Family::kGaussian:
        return -std::log(wt);
      case Family::kBinomial: {
        if (!(wt > 0)) return 0;
        // dbinom(round(m * y), round(m), mu, log = TRUE) with m = wt; R's
        // round() rounds halves to even, as nearbyint does by default.
        double size = std::nearbyint(wt), x = std::nearbyint(wt * y);
        return -2 * LogBinomialDensity(x, size, mu);
      }
      case Family::kPoisson:
        return -2 * wt * (y * std::log(mu) - mu - std::lgamma(y + 1));
    }
    return kNaN;
  }

  // glm.fit's warning test on the fitted values.
  bool AtBoundary(double mu) const {
    constexpr double eps = 10 * DBL_EPSILON;
    if (family_ == Family::kBinomial) return mu > 1 - eps || mu < eps;
    if (family_ == Family::kPoisson) return mu < eps;
    return false;
  }

 private:
  static double YLogY(double y, double mu) { return y != 0 ? y * std::log(y / mu) : 0; }

  static double LogBinomialDensity(double x, double size, double p) {
    if (x < 0 || x > size) return -std::numeric_limits<double>::infinity();
    if (size == 1) return x == 1 ? std::log(p) : std::log1p(-p);  // one trial: no lgamma
    double log_choose = std::lgamma(size + 1) - std::lgamma(x + 1) - std::lgamma(size - x + 1);
    double out = log_choose;
    if (x > 0) out += x * std::log(p);
    if (size - x > 0) out += (size - x) * std::log1p(-p);
    return out;
  }

  Family family_;
};

struct FamilyInfo {
  Family family;
  const char* name;
  const char* link;
};

absl::StatusOr<FamilyInfo> ParseFamily(const std::string& name) {
  if (name == "gaussian") return FamilyInfo{Family::kGaussian, "gaussian", "identity"};
  if (name == "binomial") return FamilyInfo{Family::kBinomial, "binomial", "logit"};
  if (name == "poisson") return FamilyInfo{Family::kPoisson, "poisson", "log"};
  return absl::InvalidArgumentError(
      absl::StrCat("glm: unknown family '", name, "'; use gaussian, binomial or poisson"));
}

// Everything the parameters say, checked.
struct Spec {
  Formula formula;
  FamilyInfo family;
  std::string weights;  // empty: all 1
  int max_iterations = 25;
  double epsilon = 1e-8;
};

absl::StatusOr<Spec> ParseSpec(const v1::Parameters& parameters) {
  Spec spec;
  SPOOR_ASSIGN_OR_RETURN(std::string formula, GetText(parameters, kFormula));
  absl::StatusOr<Formula> parsed = ParseFormula(formula);
  if (!parsed.ok()) return absl::InvalidArgumentError(std::string(parsed.status().message()));
  spec.formula = *std::move(parsed);
  if (spec.formula.survival) {
    return absl::InvalidArgumentError(
        "glm: a Surv() response is for cox and km; glm needs a numeric response");
  }
  if (!spec.formula.strata.empty()) {
    return absl::InvalidArgumentError("glm: strata() is for cox; remove it from the formula");
  }
  SPOOR_ASSIGN_OR_RETURN(std::string family, GetText(parameters, kFamily));
  SPOOR_ASSIGN_OR_RETURN(spec.family, ParseFamily(family));
  if (FindParameter(parameters, kWeights) != nullptr) {
    SPOOR_ASSIGN_OR_RETURN(spec.weights, GetText(parameters, kWeights));
  }
  SPOOR_ASSIGN_OR_RETURN(IterationControl control,
                         ParseIterationControl(parameters, "glm", {25, 1e-8}));
  spec.max_iterations = control.max_iterations;
  spec.epsilon = control.epsilon;
  return spec;
}

}  // namespace

// The node's data for the model: complete cases over the formula's variables
// and the weights, as R's model.frame with na.omit.
struct GlmAlgorithm::LocalData {
  // The columns of X. A plain numeric variable over all of the frame's rows
  // is read where the frame keeps it, so the common model (numeric
  // covariates, no missing values) holds no copy of the data; other columns
  // (factors, interactions, rows dropped for missing values) come from the
  // materialised model matrix `owned`.
  struct Column {
    const double* frame = nullptr;  // a view into the frame's column, or
    Eigen::Index owned = -1;        // a column of `owned`; neither: the intercept
  };
  std::vector<Column> columns;
  Eigen::MatrixXd owned;
  // The response: a view into the frame's column, or `y_owned`.
  const double* y = nullptr;
  Eigen::VectorXd y_owned;
  Eigen::Index n = 0;
  // Empty when the model has none (all 0) or no prior weights (all 1), so
  // that the common model keeps no n-vector of constants.
  Eigen::VectorXd offset, weights;

  Eigen::Index rows() const { return n; }
  Eigen::Index cols() const { return static_cast<Eigen::Index>(columns.size()); }
  double offset_at(Eigen::Index i) const { return offset.size() == 0 ? 0.0 : offset[i]; }
  double weight_at(Eigen::Index i) const { return weights.size() == 0 ? 1.0 : weights[i]; }

  // X rows [start, start + count) into the top of `block`.
  void CopyRows(Eigen::Index start, Eigen::Index count, Eigen::MatrixXd& block) const {
    for (Eigen::Index j = 0; j < cols(); ++j) {
      const Column& c = columns[static_cast<size_t>(j)];
      if (c.frame != nullptr) {
        block.col(j).head(count) = Eigen::Map<const Eigen::VectorXd>(c.frame + start, count);
      } else if (c.owned >= 0) {
        block.col(j).head(count) = owned.col(c.owned).segment(start, count);
      } else {
        block.col(j).head(count).setOnes();
      }
    }
  }
};

namespace {

using LocalData = GlmAlgorithm::LocalData;

// The fast path of BuildLocalData: every term a numeric variable of the
// frame, no offset, no row dropped. False when the model needs more.
bool ViewFrameColumns(const Spec& spec, const DataFrame& frame, const FactorLevels& levels,
                      LocalData& data) {
  const Formula& f = spec.formula;
  if (!f.offsets.empty() || !levels.empty()) return false;
  const spoor::Column* response = frame.Find(f.response);
  if (response == nullptr || response->type() != ColumnType::kNumeric) return false;
  std::vector<std::string> expected;
  if (f.intercept) {
    expected.push_back("(Intercept)");
    data.columns.push_back({});
  }
  for (const Term& term : f.terms) {
    if (term.factors.size() != 1 || term.factors[0].as_factor) return false;
    const spoor::Column* column = frame.Find(term.factors[0].variable);
    if (column == nullptr || column->type() != ColumnType::kNumeric) return false;
    expected.push_back(term.factors[0].variable);
    data.columns.push_back({column->numbers().data(), -1});
  }
  if (ModelColumnNames(f, levels) != expected) return false;  // R's order differs
  data.y = response->numbers().data();
  data.n = static_cast<Eigen::Index>(response->numbers().size());
  return true;
}

// The frame restricted to complete cases over the formula's variables and
// the weights; `storage` holds the copy when rows had to be dropped.
absl::StatusOr<const DataFrame*> CompleteCases(const Spec& spec, const DataFrame& frame,
                                               DataFrame& storage) {
  std::vector<std::string> variables = spec.formula.Variables();
  if (!spec.weights.empty()) variables.push_back(spec.weights);
  std::vector<const Column*> columns;
  for (const std::string& v : variables) {
    const Column* column = frame.Find(v);
    if (column == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("dataset has no variable '", v, "'"));
    }
    columns.push_back(column);
  }
  const std::vector<size_t> rows = CompleteRows(columns, frame.num_rows());
  if (rows.size() == frame.num_rows()) return &frame;
  storage = frame.SelectRows(rows);
  return &storage;
}

absl::StatusOr<LocalData> BuildLocalData(const Spec& spec, const DataFrame& frame,
                                         const FactorLevels& levels) {
  DataFrame storage;
  SPOOR_ASSIGN_OR_RETURN(const DataFrame* cases, CompleteCases(spec, frame, storage));
  LocalData data;
  if (cases != &frame || !ViewFrameColumns(spec, frame, levels, data)) {
    data.columns.clear();
    SPOOR_ASSIGN_OR_RETURN(ModelMatrix matrix, BuildModelMatrix(spec.formula, *cases, levels));
    data.owned = std::move(matrix.x);
    for (Eigen::Index j = 0; j < data.owned.cols(); ++j) data.columns.push_back({nullptr, j});
    data.y_owned = std::move(matrix.y);
    data.y = data.y_owned.data();
    data.n = data.y_owned.size();
    if (!spec.formula.offsets.empty()) data.offset = std::move(matrix.offset);
  }
  const Eigen::Index n = data.rows();
  if (n != static_cast<Eigen::Index>(cases->num_rows())) {
    return absl::InternalError("glm: the model matrix dropped complete cases");
  }
  if (!spec.weights.empty()) {
    const Column& weights = *cases->Find(spec.weights);
    if (weights.type() != ColumnType::kNumeric) {
      return absl::InvalidArgumentError(
          absl::StrCat("weights '", spec.weights, "' must be numeric"));
    }
    data.weights = ToVector(weights.numbers());
    if ((data.weights.array() < 0).any()) {
      return absl::InvalidArgumentError(
          absl::StrCat("weights '", spec.weights, "' must not be negative"));
    }
  }
  const std::string& response = spec.formula.response;
  if (spec.family.family == Family::kBinomial && data.weights.size() > 0 &&
      (data.weights.array() == 0).any()) {
    if (data.y_owned.size() == 0) {
      data.y_owned = Eigen::Map<const Eigen::VectorXd>(data.y, n);
      data.y = data.y_owned.data();
    }
    for (Eigen::Index i = 0; i < n; ++i) {
      if (data.weights[i] == 0) data.y_owned[i] = 0;  // as binomial()$initialize
    }
  }
  const Eigen::Map<const Eigen::VectorXd> y(data.y, n);
  if (spec.family.family == Family::kBinomial) {
    if ((y.array() < 0).any() || (y.array() > 1).any()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "response '", response, "' must lie between 0 and 1 for the binomial family"));
    }
  }
  if (spec.family.family == Family::kPoisson && (y.array() < 0).any()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "response '", response, "' has negative values, not allowed for the poisson family"));
  }
  return data;
}

// One node's IRLS quantities at the coefficients the state names, a block
// of rows at a time: eta, mu, the working weights and response live only
// for one block, so the fit holds no n-vector beyond the data. Per row the
// arithmetic and its order are those of glm.fit.
absl::StatusOr<v1::Aggregate> LocalFit(const Spec& spec, const LocalData& data,
                                       const v1::Parameters& state, bool null_phase) {
  const FamilyFunctions fam(spec.family.family);
  const Eigen::Index n = data.rows();
  SPOOR_ASSIGN_OR_RETURN(double iteration, GetNumber(state, kIteration, 0));

  const Eigen::Index p = null_phase ? 1 : data.cols();
  // Where eta comes from: glm()'s starting values, the full model's fitted
  // values (the null model starts from them), or X beta.
  enum class Start { kMuStart, kFullModel, kBeta } start = Start::kBeta;
  Eigen::VectorXd beta;
  if (iteration == 0 && !null_phase) {
    start = Start::kMuStart;
  } else if (iteration == 0) {
    start = Start::kFullModel;
    SPOOR_ASSIGN_OR_RETURN(std::vector<double> full, GetNumbers(state, kStartBeta));
    if (static_cast<Eigen::Index>(full.size()) != data.cols()) {
      return absl::InvalidArgumentError("glm: the model's columns differ between nodes");
    }
    beta = ToVector(full);
  } else {
    SPOOR_ASSIGN_OR_RETURN(std::vector<double> b, GetNumbers(state, kBeta));
    if (static_cast<Eigen::Index>(b.size()) != p) {
      return absl::InvalidArgumentError("glm: the model's columns differ between nodes");
    }
    beta = ToVector(b);
  }
  // X's block is needed for X beta and, outside the null phase, for X'WX.
  const bool need_x = start == Start::kFullModel || !null_phase;

  std::optional<double> wtdmu;
  if (const v1::Value* v = FindParameter(state, kWtdmu); v != nullptr) wtdmu = v->number();
  const bool intercept = spec.formula.intercept;

  Eigen::VectorXd stats = Eigen::VectorXd::Zero(kStatCount);
  Eigen::MatrixXd xtwx = Eigen::MatrixXd::Zero(p, p);
  Eigen::VectorXd xtwz = Eigen::VectorXd::Zero(p);
  constexpr Eigen::Index kChunk = 2048;
  const Eigen::Index chunk = std::min(kChunk, n);
  Eigen::MatrixXd block(need_x ? chunk : 0, need_x ? data.cols() : 0);
  Eigen::VectorXd eta(chunk), mu(chunk), working_w(chunk), z(chunk), root_w(chunk);
  for (Eigen::Index first = 0; first < n; first += kChunk) {
    const Eigen::Index rows = std::min(kChunk, n - first);
    if (need_x) data.CopyRows(first, rows, block);
    // eta, column by column in the order glm.fit's X %*% beta sums.
    switch (start) {
      case Start::kMuStart:
        for (Eigen::Index r = 0; r < rows; ++r) {
          const Eigen::Index i = first + r;
          eta[r] = fam.LinkFun(fam.MuStart(data.y[i], data.weight_at(i)));
        }
        break;
      case Start::kFullModel:
      case Start::kBeta:
        if (start == Start::kBeta && null_phase) {
          eta.head(rows).setConstant(beta[0]);
        } else {
          eta.head(rows).setZero();
          for (Eigen::Index j = 0; j < data.cols(); ++j) {
            eta.head(rows) += beta[j] * block.col(j).head(rows);
          }
        }
        for (Eigen::Index r = 0; r < rows; ++r) eta[r] += data.offset_at(first + r);
        if (start == Start::kFullModel) {
          for (Eigen::Index r = 0; r < rows; ++r) eta[r] = fam.LinkFun(fam.LinkInv(eta[r]));
        }
        break;
    }
    for (Eigen::Index r = 0; r < rows; ++r) mu[r] = fam.LinkInv(eta[r]);

    for (Eigen::Index r = 0; r < rows; ++r) {
      const Eigen::Index i = first + r;
      const double y = data.y[i];
      const double w = data.weight_at(i);
      stats[kDeviance] += fam.DevResid(y, mu[r], w);
      stats[kSumWeights] += w;
      stats[kSumWy] += w * y;
      stats[kAicPart] += fam.AicTerm(y, mu[r], w);
      if (fam.AtBoundary(mu[r])) stats[kBoundaryFit] = 1;
      if (intercept) {
        if (wtdmu) stats[kNullDeviance] += fam.DevResid(y, *wtdmu, w);
      } else {
        stats[kNullDeviance] += fam.DevResid(y, fam.LinkInv(data.offset_at(i)), w);
      }
      const double m = w * y;
      if (spec.family.family == Family::kBinomial && std::abs(m - std::nearbyint(m)) > 1e-3) {
        stats[kNonInteger] = 1;
      }
      working_w[r] = 0;
      z[r] = 0;
      if (w > 0) {
        stats[kPositiveWeights] += 1;
        const double d = fam.MuEta(eta[r]);
        working_w[r] = w * d * d / fam.Variance(mu[r]);
        z[r] = (eta[r] - data.offset_at(i)) + (y - mu[r]) / d;
      }
    }

    if (null_phase) {
      xtwx(0, 0) += working_w.head(rows).sum();
      xtwz[0] += working_w.head(rows).dot(z.head(rows));
    } else {
      // sqrt(W) X into a symmetric rank update: half the work of a general
      // product.
      root_w.head(rows) = working_w.head(rows).cwiseSqrt();
      block.topRows(rows).array().colwise() *= root_w.head(rows).array();
      xtwx.selfadjointView<Eigen::Lower>().rankUpdate(block.topRows(rows).transpose());
      xtwz.noalias() += block.topRows(rows).transpose() *
                        (root_w.head(rows).array() * z.head(rows).array()).matrix();
    }
  }
  stats[kN] = static_cast<double>(n);
  if (intercept && !wtdmu) stats[kNullDeviance] = kNaN;
  if (!null_phase) xtwx.triangularView<Eigen::StrictlyUpper>() = xtwx.transpose();

  v1::Aggregate aggregate;
  AddSymmetricBlock(aggregate, kXtwx, n, xtwx);
  AddVectorBlock(aggregate, kXtwz, n, xtwz);
  AddVectorBlock(aggregate, kStats, n, stats);
  return aggregate;
}

// --- Central side. ---

struct Pooled {
  Eigen::MatrixXd xtwx;
  Eigen::VectorXd xtwz;
  Eigen::VectorXd stats;
};

absl::StatusOr<Pooled> PoolFit(const CentralRequest& request, Eigen::Index p) {
  Pooled pooled{Eigen::MatrixXd::Zero(p, p), Eigen::VectorXd::Zero(p),
                Eigen::VectorXd::Zero(kStatCount)};
  for (const NodeAggregate& node : request.aggregates) {
    const v1::Block* xtwx = FindBlock(node.aggregate, kXtwx);
    const v1::Block* xtwz = FindBlock(node.aggregate, kXtwz);
    const v1::Block* stats = FindBlock(node.aggregate, kStats);
    if (xtwx == nullptr || xtwz == nullptr || stats == nullptr || !xtwx->has_matrix() ||
        !xtwz->has_vector() || !stats->has_vector()) {
      return absl::InvalidArgumentError(
          absl::StrCat("node ", node.node_id, " answered without the glm blocks"));
    }
    if (xtwz->vector().values_size() != static_cast<int>(p) ||
        stats->vector().values_size() != kStatCount) {
      return ColumnMismatch(node.node_id);
    }
    SPOOR_RETURN_IF_ERROR(AddSymmetricTo(*xtwx, node.node_id, pooled.xtwx));
    for (Eigen::Index r = 0; r < p; ++r)
      pooled.xtwz[r] += xtwz->vector().values(static_cast<int>(r));
    for (int i = 0; i < kStatCount; ++i) pooled.stats[i] += stats->vector().values(i);
  }
  return pooled;
}

std::vector<double> MatrixToNumbers(const Eigen::MatrixXd& m) {
  return {m.data(), m.data() + m.size()};
}

Eigen::MatrixXd NumbersToMatrix(const std::vector<double>& v, Eigen::Index p) {
  return Eigen::Map<const Eigen::MatrixXd>(v.data(), p, p);
}

// Sets the state for the next IRLS round after a solve.
absl::Status NextIteration(const Pooled& pooled, int next_iteration, v1::Parameters& state) {
  SPOOR_ASSIGN_OR_RETURN(GramSolution solution, GramSolve(pooled.xtwx, pooled.xtwz));
  SetNumber(state, kIteration, next_iteration);
  SetNumbers(state, kBeta, FromVector(solution.x));
  SetNumbers(state, kSolveXtwx, MatrixToNumbers(pooled.xtwx));
  std::vector<double> aliased;
  for (bool a : solution.aliased) aliased.push_back(a ? 1 : 0);
  SetNumbers(state, kAliased, aliased);
  return absl::OkStatus();
}

void AddWarning(v1::GlmResult& result, const std::string& warning) {
  for (const std::string& w : result.warnings()) {
    if (w == warning) return;
  }
  result.add_warnings(warning);
}

// The summary.glm table and the fit statistics, once the full fit stopped.
absl::StatusOr<v1::GlmResult> Summarise(const Spec& spec, const FactorLevels& levels,
                                        const v1::Parameters& state, const Pooled& pooled,
                                        int iterations, bool converged) {
  const std::vector<std::string> names = ModelColumnNames(spec.formula, levels);
  const auto p = static_cast<Eigen::Index>(names.size());
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> beta, GetNumbers(state, kBeta));
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> solve_xtwx, GetNumbers(state, kSolveXtwx));
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> aliased_flags, GetNumbers(state, kAliased));
  const Eigen::MatrixXd xtwx = NumbersToMatrix(solve_xtwx, p);
  std::vector<bool> aliased;
  for (double flag : aliased_flags) aliased.push_back(flag != 0);
  SPOOR_ASSIGN_OR_RETURN(Eigen::MatrixXd inverse, GramInverse(xtwx, aliased));
  Eigen::Index rank = 0;
  for (bool a : aliased) rank += a ? 0 : 1;

  const auto& s = pooled.stats;
  const double deviance = s[kDeviance];
  const auto n = static_cast<int64_t>(s[kN]);
  const auto n_ok = static_cast<int64_t>(s[kPositiveWeights]);
  const int64_t df_residual = n_ok - rank;
  const bool estimated_dispersion = spec.family.family == Family::kGaussian;
  double dispersion = 1;
  if (estimated_dispersion) {
    // Pearson chi-square / df: for the identity link with constant variance
    // the working weights are the prior weights and the working residuals
    // y - mu, so it is the deviance.
    dispersion = df_residual > 0 ? deviance / static_cast<double>(df_residual) : kNaN;
  }

  v1::GlmResult result;
  result.set_family(spec.family.name);
  result.set_link(spec.family.link);
  const double z975 = NormalQuantile(0.975);
  for (Eigen::Index j = 0; j < p; ++j) {
    v1::Coefficient* c = result.add_coefficients();
    c->set_term(names[static_cast<size_t>(j)]);
    if (aliased_flags[static_cast<size_t>(j)] != 0) {
      c->set_aliased(true);
      c->set_estimate(kNaN);
      c->set_std_error(kNaN);
      c->set_statistic(kNaN);
      c->set_p_value(kNaN);
      c->set_conf_low(kNaN);
      c->set_conf_high(kNaN);
      continue;
    }
    const double estimate = beta[static_cast<size_t>(j)];
    const double se = std::sqrt(dispersion * inverse(j, j));
    const double statistic = estimate / se;
    c->set_estimate(estimate);
    c->set_std_error(se);
    c->set_statistic(statistic);
    c->set_p_value(estimated_dispersion
                       ? TwoSidedStudentP(statistic, static_cast<double>(df_residual))
                       : TwoSidedNormalP(statistic));
    c->set_conf_low(estimate - z975 * se);
    c->set_conf_high(estimate + z975 * se);
  }
  result.set_deviance(deviance);
  result.set_null_deviance(s[kNullDeviance]);
  result.set_df_residual(df_residual);
  result.set_df_null(n_ok - (spec.formula.intercept ? 1 : 0));
  double aic = s[kAicPart] + 2.0 * static_cast<double>(rank);
  if (spec.family.family == Family::kGaussian) {
    const auto nobs = static_cast<double>(n);
    aic += nobs * (std::log(deviance / nobs * 2 * std::numbers::pi) + 1) + 2;
  }
  result.set_aic(aic);
  result.set_iterations(iterations);
  result.set_n(n);
  result.set_dispersion(dispersion);
  result.set_converged(converged);
  if (s[kNonInteger] > 0) AddWarning(result, "non-integer #successes in a binomial glm!");
  if (!converged) AddWarning(result, "glm.fit: algorithm did not converge");
  if (state.values().contains(kBoundary)) {
    AddWarning(result, "glm.fit: algorithm stopped at boundary value");
  }
  if (s[kBoundaryFit] > 0) {
    AddWarning(result, spec.family.family == Family::kBinomial
                           ? "glm.fit: fitted probabilities numerically 0 or 1 occurred"
                           : "glm.fit: fitted rates numerically 0 occurred");
  }
  return result;
}

}  // namespace

absl::Status GlmAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  return ParseSpec(parameters).status();
}

absl::StatusOr<v1::Parameters> GlmAlgorithm::Begin(const v1::Parameters& parameters) const {
  v1::Parameters state;
  SetText(state, kPhase, kPhaseLevels);
  return state;
}

absl::StatusOr<v1::Aggregate> GlmAlgorithm::Local(const LocalRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(Spec spec, ParseSpec(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetText(request.round_state, kPhase));
  if (phase == kPhaseLevels) {
    DataFrame storage;
    SPOOR_ASSIGN_OR_RETURN(const DataFrame* cases, CompleteCases(spec, request.frame, storage));
    SPOOR_ASSIGN_OR_RETURN(FactorLevels levels, LocalLevels(spec.formula, *cases));
    const auto count = static_cast<int64_t>(cases->num_rows());
    v1::Aggregate aggregate;
    AddLevelsBlocks(levels, count, aggregate);
    AddVectorBlock(aggregate, kCases, count,
                   Eigen::VectorXd::Constant(1, static_cast<double>(count)));
    return aggregate;
  }
  if (phase != kPhaseFit && phase != kPhaseNull) {
    return absl::InvalidArgumentError(absl::StrCat("glm: unknown phase '", phase, "'"));
  }
  const FactorLevels levels = LevelsFromState(request.round_state);
  SPOOR_ASSIGN_OR_RETURN(const std::string formula, GetText(request.parameters, kFormula));
  const std::string key =
      absl::StrCat(spec.family.name, "\n", spec.weights, "\n", ModelKey(formula, levels));
  SPOOR_ASSIGN_OR_RETURN(std::shared_ptr<const LocalData> data,
                         cache_.GetOrBuild(request.frame.id(), key, [&] {
                           return BuildLocalData(spec, request.frame, levels);
                         }));
  return LocalFit(spec, *data, request.round_state, phase == kPhaseNull);
}

absl::StatusOr<CentralStep> GlmAlgorithm::Central(const CentralRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(Spec spec, ParseSpec(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetText(request.round_state, kPhase));
  CentralStep step;
  v1::Parameters& next = step.next_round_state;
  next = request.round_state;

  if (phase == kPhaseLevels) {
    int64_t cases = 0;
    for (const NodeAggregate& node : request.aggregates) {
      const v1::Block* n = FindBlock(node.aggregate, kCases);
      if (n != nullptr && n->vector().values_size() == 1) {
        cases += static_cast<int64_t>(n->vector().values(0));
      }
    }
    if (cases == 0) {
      return absl::FailedPreconditionError(
          "glm: no node has a complete case for the model's variables");
    }
    const FactorLevels levels = SetUnionOfNodeLevels(request.aggregates, next);
    const size_t p = ModelColumnNames(spec.formula, levels).size();
    if (p == 0) return absl::InvalidArgumentError("glm: the model has no columns");
    if (static_cast<int64_t>(p) > cases) {
      return absl::FailedPreconditionError(absl::StrCat("glm: the model has ", p,
                                                        " coefficients but only ", cases,
                                                        " complete cases across all nodes"));
    }
    SetText(next, kPhase, kPhaseFit);
    SetNumber(next, kIteration, 0);
    return step;
  }

  const bool null_phase = phase == kPhaseNull;
  const FactorLevels levels = LevelsFromState(request.round_state);
  const Eigen::Index p =
      null_phase ? 1 : static_cast<Eigen::Index>(ModelColumnNames(spec.formula, levels).size());
  SPOOR_ASSIGN_OR_RETURN(Pooled pooled, PoolFit(request, p));
  SPOOR_ASSIGN_OR_RETURN(double iteration_number, GetNumber(request.round_state, kIteration, 0));
  const int iteration = static_cast<int>(iteration_number);
  const double deviance = pooled.stats[kDeviance];

  if (iteration == 0) {
    // The deviance at the starting values: glm.fit's devold.
    SetNumber(next, kDevOld, deviance);
    if (!null_phase) {
      SetNumber(next, kWtdmu, pooled.stats[kSumWy] / pooled.stats[kSumWeights]);
    }
    next.mutable_values()->erase(kCoefOld);
    SPOOR_RETURN_IF_ERROR(NextIteration(pooled, 1, next));
    return step;
  }

  if (!std::isfinite(deviance)) {
    // glm.fit: step halving towards the previous coefficients.
    const v1::Value* old = FindParameter(request.round_state, kCoefOld);
    SPOOR_ASSIGN_OR_RETURN(double halvings, GetNumber(request.round_state, kHalvings, 0));
    if (old == nullptr) {
      return absl::FailedPreconditionError(
          "glm: the deviance is not finite after the first step (R: no valid set of "
          "coefficients has been found); check the model and the response");
    }
    if (halvings >= spec.max_iterations) {
      return absl::FailedPreconditionError(
          "glm: the deviance stays infinite when the step is halved (R: inner loop 1; cannot "
          "correct step size)");
    }
    SPOOR_ASSIGN_OR_RETURN(std::vector<double> beta, GetNumbers(request.round_state, kBeta));
    Eigen::VectorXd halved =
        (ToVector(beta) + ToVector(std::vector<double>(old->numbers().values().begin(),
                                                       old->numbers().values().end()))) /
        2;
    SetNumbers(next, kBeta, FromVector(halved));
    SetNumber(next, kHalvings, halvings + 1);
    (*next.mutable_values())[kBoundary].set_flag(true);
    return step;
  }
  next.mutable_values()->erase(kHalvings);

  SPOOR_ASSIGN_OR_RETURN(double dev_old, GetNumber(request.round_state, kDevOld, kNaN));
  const bool converged = std::abs(deviance - dev_old) / (std::abs(deviance) + 0.1) < spec.epsilon;
  if (!converged && iteration < spec.max_iterations) {
    SetNumber(next, kDevOld, deviance);
    SPOOR_ASSIGN_OR_RETURN(std::vector<double> beta, GetNumbers(request.round_state, kBeta));
    SetNumbers(next, kCoefOld, beta);
    SPOOR_RETURN_IF_ERROR(NextIteration(pooled, iteration + 1, next));
    return step;
  }

  if (null_phase) {
    std::string bytes;
    v1::GlmResult result;
    SPOOR_ASSIGN_OR_RETURN(std::string encoded, GetText(request.round_state, kFullResult));
    if (!absl::Base64Unescape(encoded, &bytes) || !result.ParseFromString(bytes)) {
      return absl::InternalError("glm: the round state lost the full model's result");
    }
    result.set_null_deviance(deviance);
    if (!converged) {
      AddWarning(result,
                 "fitting to calculate the null deviance did not converge -- increase "
                 "'maxit'?");
    }
    step.done = true;
    *step.result.mutable_glm() = std::move(result);
    return step;
  }

  SPOOR_ASSIGN_OR_RETURN(v1::GlmResult result, Summarise(spec, levels, request.round_state, pooled,
                                                         iteration, converged));
  if (spec.formula.intercept && !spec.formula.offsets.empty()) {
    // glm() refits the intercept-only model with the offset for the null
    // deviance, starting from this model's fitted values.
    v1::Parameters null_state;
    SetLevelsInState(levels, null_state);
    SetText(null_state, kPhase, kPhaseNull);
    SetNumber(null_state, kIteration, 0);
    SPOOR_ASSIGN_OR_RETURN(std::vector<double> beta, GetNumbers(request.round_state, kBeta));
    SetNumbers(null_state, kStartBeta, beta);
    SetText(null_state, kFullResult, absl::Base64Escape(result.SerializeAsString()));
    step.next_round_state = std::move(null_state);
    return step;
  }
  step.done = true;
  *step.result.mutable_glm() = std::move(result);
  return step;
}

}  // namespace spoor
