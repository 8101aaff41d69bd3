#include "algorithms/summary.h"

#include <cmath>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr char kVars[] = "vars";
constexpr int kFields = 4;  // n, missing, mean, M2

}  // namespace

absl::Status SummaryAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> vars, GetTextList(parameters, kVars));
  if (vars.empty()) {
    return absl::InvalidArgumentError("summary needs at least one variable; pass --vars a,b,c");
  }
  absl::flat_hash_set<std::string> seen;
  for (const std::string& v : vars) {
    if (v.empty()) return absl::InvalidArgumentError("summary: empty variable name in --vars");
    if (!seen.insert(v).second) {
      return absl::InvalidArgumentError(absl::StrCat("summary: variable '", v, "' is listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Aggregate> SummaryAlgorithm::Local(const LocalRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> vars, GetTextList(request.parameters, kVars));
  v1::Aggregate aggregate;
  for (const std::string& var : vars) {
    const Column* column = request.frame.Find(var);
    if (column == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("dataset has no variable '", var, "'"));
    }
    if (column->type() != ColumnType::kNumeric) {
      return absl::InvalidArgumentError(absl::StrCat(
          "variable '", var, "' is categorical; summary needs numeric variables"));
    }
    const std::vector<double>& x = column->numbers();
    int64_t n = 0;
    long double sum = 0;
    for (double v : x) {
      if (std::isnan(v)) continue;
      ++n;
      sum += v;
    }
    double mean = n > 0 ? static_cast<double>(sum / n) : 0.0;
    // Second pass: squared deviations, with the correction term of the
    // corrected two-pass algorithm (sum of deviations, ideally zero).
    long double m2 = 0, dev_sum = 0;
    for (double v : x) {
      if (std::isnan(v)) continue;
      long double d = static_cast<long double>(v) - mean;
      m2 += d * d;
      dev_sum += d;
    }
    if (n > 0) m2 -= dev_sum * dev_sum / n;
    v1::Block* block = aggregate.add_blocks();
    block->set_name(var);
    block->set_record_count(n);
    v1::DenseVector* values = block->mutable_vector();
    values->add_values(static_cast<double>(n));
    values->add_values(static_cast<double>(static_cast<int64_t>(x.size()) - n));
    values->add_values(mean);
    values->add_values(static_cast<double>(m2));
  }
  return aggregate;
}

absl::StatusOr<CentralStep> SummaryAlgorithm::Central(const CentralRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> vars, GetTextList(request.parameters, kVars));
  CentralStep step;
  step.done = true;
  v1::SummaryResult* summary = step.result.mutable_summary();
  for (size_t k = 0; k < vars.size(); ++k) {
    const std::string& var = vars[k];
    long double n = 0, missing = 0, weighted_sum = 0;
    int sites = 0;
    // First pass: totals and the pooled mean.
    for (const NodeAggregate& node : request.aggregates) {
      if (node.aggregate.blocks_size() != static_cast<int>(vars.size()) ||
          node.aggregate.blocks(k).name() != var || !node.aggregate.blocks(k).has_vector() ||
          node.aggregate.blocks(k).vector().values_size() != kFields) {
        return absl::InvalidArgumentError(
            absl::StrCat("node ", node.node_id, " sent a malformed summary aggregate"));
      }
      const auto& v = node.aggregate.blocks(k).vector().values();
      n += v[0];
      missing += v[1];
      weighted_sum += static_cast<long double>(v[0]) * v[2];
      ++sites;
    }
    long double mean = n > 0 ? weighted_sum / n : std::numeric_limits<double>::quiet_NaN();
    long double m2 = 0;
    for (const NodeAggregate& node : request.aggregates) {
      const auto& v = node.aggregate.blocks(k).vector().values();
      long double d = static_cast<long double>(v[2]) - mean;
      m2 += v[3] + v[0] * d * d;
    }
    v1::VariableSummary* out = summary->add_variables();
    out->set_name(var);
    out->set_n(static_cast<int64_t>(n));
    out->set_missing(static_cast<int64_t>(missing));
    out->set_mean(static_cast<double>(mean));
    out->set_sd(n > 1 ? static_cast<double>(std::sqrt(m2 / (n - 1)))
                      : std::numeric_limits<double>::quiet_NaN());
    out->set_sites(sites);
  }
  return step;
}

}  // namespace spoor
