#include "algorithms/meta.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "algorithms/distributions.h"
#include "algorithms/formula.h"
#include "algorithms/model_matrix.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Parameters (the rest are glm's).
constexpr char kFormula[] = "formula";
constexpr char kFamily[] = "family";
constexpr char kMaxIterations[] = "max_iterations";

// Round state.
constexpr char kPhase[] = "phase";
constexpr char kGlmState[] = "glm_state";  // base64 of GlmAlgorithm's v1::Parameters
constexpr char kTerms[] = "terms";         // the model's column names (site_fit)

constexpr char kPhaseLevels[] = "levels";
constexpr char kPhaseSiteFit[] = "site_fit";

// Blocks of the site_fit round.
constexpr char kEstimates[] = "estimates";
constexpr char kStdErrors[] = "std_errors";
constexpr char kCases[] = "n";

// The gate's default max_parameter_fraction (disclosure_gate.h), applied by
// the node to its own fit; see meta.h.
constexpr double kMaxParameterFraction = 0.33;

std::string EncodeState(const v1::Parameters& state) {
  return absl::Base64Escape(state.SerializeAsString());
}

absl::StatusOr<v1::Parameters> DecodeGlmState(const v1::Parameters& round_state) {
  SPOOR_ASSIGN_OR_RETURN(std::string encoded, GetText(round_state, kGlmState));
  std::string bytes;
  v1::Parameters state;
  if (!absl::Base64Unescape(encoded, &bytes) || !state.ParseFromString(bytes)) {
    return absl::InvalidArgumentError("meta: the round state's glm_state is not readable");
  }
  return state;
}

// The round bound of one site fit: fit and null rounds of at most
// max_iterations + 1 iterations each, every one with at most max_iterations
// step halvings.
absl::StatusOr<int> SiteRoundLimit(const v1::Parameters& parameters) {
  SPOOR_ASSIGN_OR_RETURN(double max_iterations, GetNumber(parameters, kMaxIterations, 25));
  const int iterations = static_cast<int>(max_iterations);  // validated by glm: 1..1000
  return 2 * (iterations + 1) * (iterations + 1) + 1;
}

// Stage 1 at the node: GlmAlgorithm's fit and null rounds, Local and Central
// both on this node's frame, from the state the coordinator sent.
absl::StatusOr<v1::GlmResult> FitSite(const GlmAlgorithm& glm, const LocalRequest& request,
                                      v1::Parameters glm_state, size_t columns) {
  SPOOR_ASSIGN_OR_RETURN(int limit, SiteRoundLimit(request.parameters));
  for (int round = 1; round <= limit; ++round) {
    SPOOR_ASSIGN_OR_RETURN(v1::Aggregate aggregate,
                           glm.Local({request.parameters, glm_state, round, request.frame}));
    if (round == 1) {
      // Every GLM block is backed by the node's complete cases (glm.h).
      const int64_t cases = aggregate.blocks_size() > 0 ? aggregate.blocks(0).record_count() : 0;
      if (static_cast<double>(columns) > kMaxParameterFraction * static_cast<double>(cases)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "meta: the model has ", columns,
            " coefficients, too many for this node's complete cases: a site fit needs about 3 ",
            "complete cases per coefficient (disclosure rule max_parameter_fraction, 0.33)"));
      }
    }
    const std::vector<NodeAggregate> own = {{"local", std::move(aggregate)}};
    SPOOR_ASSIGN_OR_RETURN(CentralStep step,
                           glm.Central({request.parameters, glm_state, round, own}));
    if (step.done) {
      if (!step.result.has_glm()) return absl::InternalError("meta: the site fit gave no GLM");
      return std::move(*step.result.mutable_glm());
    }
    glm_state = std::move(step.next_round_state);
  }
  return absl::FailedPreconditionError(
      "meta: the site's GLM fit did not finish within its round limit");
}

void AddVector(v1::Aggregate& aggregate, const char* name, int64_t records,
               const std::vector<double>& values) {
  v1::Block* block = aggregate.add_blocks();
  block->set_name(name);
  block->set_record_count(records);
  for (double v : values) block->mutable_vector()->add_values(v);
}

absl::StatusOr<v1::Aggregate> LocalSiteFit(const GlmAlgorithm& glm, const LocalRequest& request) {
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> terms, GetTextList(request.round_state, kTerms));
  SPOOR_ASSIGN_OR_RETURN(v1::Parameters glm_state, DecodeGlmState(request.round_state));
  SPOOR_ASSIGN_OR_RETURN(v1::GlmResult fit,
                         FitSite(glm, request, std::move(glm_state), terms.size()));
  if (fit.coefficients_size() != static_cast<int>(terms.size())) {
    return absl::FailedPreconditionError(
        "meta: this node built a different model matrix; check that each variable has the same "
        "type (numeric or categorical) at every node");
  }
  if (!fit.converged()) {
    return absl::FailedPreconditionError(
        absl::StrCat("meta: the GLM did not converge on this node's data within max_iterations (",
                     fit.iterations(), "); raise max_iterations"));
  }
  std::vector<double> estimates, std_errors;
  for (const v1::Coefficient& c : fit.coefficients()) {
    estimates.push_back(c.aliased() ? kNaN : c.estimate());
    std_errors.push_back(c.aliased() ? kNaN : c.std_error());
  }
  v1::Aggregate aggregate;
  AddVector(aggregate, kEstimates, fit.n(), estimates);
  AddVector(aggregate, kStdErrors, fit.n(), std_errors);
  AddVector(aggregate, kCases, fit.n(), {static_cast<double>(fit.n())});
  return aggregate;
}

// --- Central side. ---

// The model's column names, from the levels the nodes reported, as
// GlmAlgorithm's levels step derives them.
absl::StatusOr<std::vector<std::string>> ColumnNames(const CentralRequest& request) {
  SPOOR_ASSIGN_OR_RETURN(std::string text, GetText(request.parameters, kFormula));
  absl::StatusOr<Formula> formula = ParseFormula(text);
  if (!formula.ok()) return absl::InvalidArgumentError(std::string(formula.status().message()));
  std::vector<FactorLevels> per_node;
  for (const NodeAggregate& node : request.aggregates) {
    FactorLevels levels;
    for (const v1::Block& block : node.aggregate.blocks()) {
      if (block.has_levels()) {
        levels[block.name()] = std::vector<std::string>(block.levels().values().begin(),
                                                        block.levels().values().end());
      }
    }
    per_node.push_back(std::move(levels));
  }
  return ModelColumnNames(*formula, UnionLevels(per_node));
}

const v1::Block* FindVector(const v1::Aggregate& aggregate, std::string_view name) {
  for (const v1::Block& b : aggregate.blocks()) {
    if (b.name() == name && b.has_vector()) return &b;
  }
  return nullptr;
}

// One node's stage-1 table.
struct SiteFit {
  std::string site;
  std::vector<double> estimates, std_errors;
  int64_t n = 0;
};

absl::StatusOr<SiteFit> ReadSiteFit(const NodeAggregate& node, size_t columns) {
  const v1::Block* estimates = FindVector(node.aggregate, kEstimates);
  const v1::Block* std_errors = FindVector(node.aggregate, kStdErrors);
  const v1::Block* cases = FindVector(node.aggregate, kCases);
  if (estimates == nullptr || std_errors == nullptr || cases == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", node.node_id, " answered without the meta blocks"));
  }
  const auto p = static_cast<int>(columns);
  if (estimates->vector().values_size() != p || std_errors->vector().values_size() != p ||
      cases->vector().values_size() != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", node.node_id,
                     " built a different model matrix; check that each variable has the same type "
                     "(numeric or categorical) at every node"));
  }
  SiteFit fit;
  fit.site = node.node_id;
  fit.estimates.assign(estimates->vector().values().begin(), estimates->vector().values().end());
  fit.std_errors.assign(std_errors->vector().values().begin(), std_errors->vector().values().end());
  fit.n = static_cast<int64_t>(cases->vector().values(0));
  return fit;
}

// Inverse-variance pooling of (b_i, s_i) with weights 1 / (s_i^2 + tau2).
struct Pooled {
  double estimate, std_error, p_value;
  double sum_w, sum_w2;  // of the weights used
};

Pooled InverseVariance(const std::vector<double>& b, const std::vector<double>& s, double tau2) {
  Pooled out{};
  double sum_wb = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    const double w = 1 / (s[i] * s[i] + tau2);
    out.sum_w += w;
    out.sum_w2 += w * w;
    sum_wb += w * b[i];
  }
  out.estimate = sum_wb / out.sum_w;
  out.std_error = 1 / std::sqrt(out.sum_w);
  out.p_value = TwoSidedNormalP(out.estimate / out.std_error);
  return out;
}

// Stage 2 for one column: fixed effect, Q, DerSimonian-Laird (meta.h).
void PoolTerm(const std::vector<double>& b, const std::vector<double>& s, v1::MetaTerm& term) {
  const size_t k = b.size();
  term.set_q_df(k >= 2 ? static_cast<int32_t>(k - 1) : 0);
  if (k < 2) {
    term.set_fixed_estimate(kNaN);
    term.set_fixed_std_error(kNaN);
    term.set_fixed_p_value(kNaN);
    term.set_random_estimate(kNaN);
    term.set_random_std_error(kNaN);
    term.set_random_p_value(kNaN);
    term.set_tau2(kNaN);
    term.set_q(kNaN);
    term.set_q_p_value(kNaN);
    term.set_i2(kNaN);
    return;
  }
  const Pooled fixed = InverseVariance(b, s, 0);
  double q = 0;
  for (size_t i = 0; i < k; ++i)
    q += (b[i] - fixed.estimate) * (b[i] - fixed.estimate) / (s[i] * s[i]);
  const auto df = static_cast<double>(k - 1);
  const double tau2 = std::max(0.0, (q - df) / (fixed.sum_w - fixed.sum_w2 / fixed.sum_w));
  const Pooled random = InverseVariance(b, s, tau2);
  term.set_fixed_estimate(fixed.estimate);
  term.set_fixed_std_error(fixed.std_error);
  term.set_fixed_p_value(fixed.p_value);
  term.set_random_estimate(random.estimate);
  term.set_random_std_error(random.std_error);
  term.set_random_p_value(random.p_value);
  term.set_tau2(tau2);
  term.set_q(q);
  term.set_q_p_value(ChiSquareUpperTail(q, df));
  term.set_i2(q > 0 ? 100 * std::max(0.0, (q - df) / q) : 0);
}

const char* LinkOf(const std::string& family) {
  if (family == "binomial") return "logit";
  if (family == "poisson") return "log";
  return "identity";
}

absl::StatusOr<v1::MetaResult> Pool(const CentralRequest& request) {
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> terms, GetTextList(request.round_state, kTerms));
  std::vector<SiteFit> sites;
  for (const NodeAggregate& node : request.aggregates) {
    SPOOR_ASSIGN_OR_RETURN(SiteFit fit, ReadSiteFit(node, terms.size()));
    sites.push_back(std::move(fit));
  }
  v1::MetaResult result;
  SPOOR_ASSIGN_OR_RETURN(std::string family, GetText(request.parameters, kFamily));
  result.set_family(family);
  result.set_link(LinkOf(family));
  for (size_t j = 0; j < terms.size(); ++j) {
    v1::MetaTerm* term = result.add_terms();
    term->set_term(terms[j]);
    std::vector<double> b, s;
    for (const SiteFit& site : sites) {
      const double estimate = site.estimates[j], se = site.std_errors[j];
      const bool usable = std::isfinite(estimate) && std::isfinite(se) && se > 0;
      v1::MetaSiteEstimate* row = term->add_sites();
      row->set_site(site.site);
      row->set_estimate(usable ? estimate : kNaN);
      row->set_std_error(usable ? se : kNaN);
      row->set_n(site.n);
      if (usable) {
        b.push_back(estimate);
        s.push_back(se);
      }
    }
    PoolTerm(b, s, *term);
  }
  return result;
}

}  // namespace

absl::Status MetaAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  return glm_.ValidateParameters(parameters);
}

absl::StatusOr<v1::Parameters> MetaAlgorithm::Begin(const v1::Parameters& parameters) const {
  SPOOR_ASSIGN_OR_RETURN(v1::Parameters glm_state, glm_.Begin(parameters));
  v1::Parameters state;
  SetText(state, kPhase, kPhaseLevels);
  SetText(state, kGlmState, EncodeState(glm_state));
  return state;
}

absl::StatusOr<v1::Aggregate> MetaAlgorithm::Local(const LocalRequest& request) const {
  SPOOR_RETURN_IF_ERROR(glm_.ValidateParameters(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetText(request.round_state, kPhase));
  if (phase == kPhaseLevels) {
    SPOOR_ASSIGN_OR_RETURN(v1::Parameters glm_state, DecodeGlmState(request.round_state));
    return glm_.Local({request.parameters, glm_state, request.round, request.frame});
  }
  if (phase == kPhaseSiteFit) return LocalSiteFit(glm_, request);
  return absl::InvalidArgumentError(absl::StrCat("meta: unknown phase '", phase, "'"));
}

absl::StatusOr<CentralStep> MetaAlgorithm::Central(const CentralRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetText(request.round_state, kPhase));
  if (phase == kPhaseLevels) {
    SPOOR_ASSIGN_OR_RETURN(v1::Parameters glm_state, DecodeGlmState(request.round_state));
    SPOOR_ASSIGN_OR_RETURN(CentralStep glm_step, glm_.Central({request.parameters, glm_state,
                                                               request.round, request.aggregates}));
    if (glm_step.done) return absl::InternalError("meta: the glm levels round ended the job");
    SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> terms, ColumnNames(request));
    CentralStep step;
    SetText(step.next_round_state, kPhase, kPhaseSiteFit);
    SetText(step.next_round_state, kGlmState, EncodeState(glm_step.next_round_state));
    SetTextList(step.next_round_state, kTerms, terms);
    return step;
  }
  if (phase != kPhaseSiteFit) {
    return absl::InvalidArgumentError(absl::StrCat("meta: unknown phase '", phase, "'"));
  }
  SPOOR_ASSIGN_OR_RETURN(v1::MetaResult result, Pool(request));
  CentralStep step;
  step.done = true;
  *step.result.mutable_meta() = std::move(result);
  return step;
}

}  // namespace spoor
