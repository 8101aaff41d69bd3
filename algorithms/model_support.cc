#include "algorithms/model_support.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace spoor {
namespace {

constexpr char kLevelsPrefix[] = "levels:";

}  // namespace

absl::StatusOr<IterationControl> ParseIterationControl(const v1::Parameters& parameters,
                                                       std::string_view algorithm,
                                                       IterationControl defaults) {
  const std::string name(algorithm);
  IterationControl control;
  absl::StatusOr<double> max_iterations =
      GetNumber(parameters, "max_iterations", defaults.max_iterations);
  if (!max_iterations.ok()) return max_iterations.status();
  if (!(*max_iterations >= 1 && *max_iterations <= 1000) ||
      *max_iterations != std::floor(*max_iterations)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": max_iterations must be a whole number from 1 to 1000"));
  }
  control.max_iterations = static_cast<int>(*max_iterations);
  absl::StatusOr<double> epsilon = GetNumber(parameters, "epsilon", defaults.epsilon);
  if (!epsilon.ok()) return epsilon.status();
  if (!(*epsilon > 0 && *epsilon < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": epsilon must be a number between 0 and 1"));
  }
  control.epsilon = *epsilon;
  return control;
}

void SetLevelsInState(const FactorLevels& levels, v1::Parameters& state) {
  for (const auto& [variable, values] : levels) {
    SetTextList(state, absl::StrCat(kLevelsPrefix, variable), values);
  }
}

FactorLevels LevelsFromState(const v1::Parameters& state) {
  FactorLevels levels;
  for (const auto& [key, value] : state.values()) {
    if (!absl::StartsWith(key, kLevelsPrefix)) continue;
    levels[key.substr(sizeof(kLevelsPrefix) - 1)] =
        std::vector<std::string>(value.texts().values().begin(), value.texts().values().end());
  }
  return levels;
}

std::string ModelKey(std::string_view formula, const FactorLevels& levels) {
  std::string key(formula);
  for (const auto& [variable, values] : levels) {
    absl::StrAppend(&key, "\n", variable, "=", absl::StrJoin(values, "\x1f"));
  }
  return key;
}

void AddLevelsBlocks(const FactorLevels& levels, int64_t records, v1::Aggregate& aggregate) {
  for (const auto& [variable, values] : levels) {
    v1::Block* block = aggregate.add_blocks();
    block->set_name(variable);
    block->set_record_count(records);
    for (const std::string& v : values) block->mutable_levels()->add_values(v);
  }
}

FactorLevels SetUnionOfNodeLevels(const std::vector<NodeAggregate>& aggregates,
                                  v1::Parameters& state) {
  std::vector<FactorLevels> per_node;
  for (const NodeAggregate& node : aggregates) {
    FactorLevels levels;
    for (const v1::Block& block : node.aggregate.blocks()) {
      if (block.has_levels()) {
        levels[block.name()] = {block.levels().values().begin(), block.levels().values().end()};
      }
    }
    per_node.push_back(std::move(levels));
  }
  FactorLevels levels = UnionLevels(per_node);
  SetLevelsInState(levels, state);
  return levels;
}

Eigen::VectorXd ToVector(const std::vector<double>& values) {
  return Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
}

std::vector<double> FromVector(const Eigen::VectorXd& values) {
  return {values.data(), values.data() + values.size()};
}

const v1::Block* FindBlock(const v1::Aggregate& aggregate, std::string_view name) {
  for (const v1::Block& block : aggregate.blocks()) {
    if (block.name() == name) return &block;
  }
  return nullptr;
}

void AddVectorBlock(v1::Aggregate& aggregate, const std::string& name, int64_t records,
                    const Eigen::VectorXd& values, v1::BlockKind kind) {
  v1::Block* block = aggregate.add_blocks();
  block->set_name(name);
  block->set_record_count(records);
  block->set_kind(kind);
  v1::DenseVector* vector = block->mutable_vector();
  vector->mutable_values()->Reserve(static_cast<int>(values.size()));
  for (double v : values) vector->add_values(v);
}

void AddSymmetricBlock(v1::Aggregate& aggregate, const std::string& name, int64_t records,
                       const Eigen::MatrixXd& m) {
  v1::Block* block = aggregate.add_blocks();
  block->set_name(name);
  block->set_record_count(records);
  v1::SymmetricMatrix* matrix = block->mutable_matrix();
  matrix->set_dimension(static_cast<uint32_t>(m.rows()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = r; c < m.cols(); ++c) matrix->add_upper(m(r, c));
}

absl::Status AddSymmetricTo(const v1::Block& block, const std::string& node, Eigen::MatrixXd& sum) {
  const Eigen::Index p = sum.rows();
  if (!block.has_matrix() || static_cast<Eigen::Index>(block.matrix().dimension()) != p ||
      block.matrix().upper_size() != static_cast<int>(p * (p + 1) / 2)) {
    return ColumnMismatch(node);
  }
  int k = 0;
  for (Eigen::Index r = 0; r < p; ++r) {
    for (Eigen::Index c = r; c < p; ++c) {
      sum(r, c) += block.matrix().upper(k++);
      if (c != r) sum(c, r) = sum(r, c);
    }
  }
  return absl::OkStatus();
}

absl::Status ColumnMismatch(const std::string& node) {
  return absl::FailedPreconditionError(absl::StrCat(
      "node ", node,
      " built a different model matrix; check that each variable has the same type (numeric or "
      "categorical) at every node"));
}

}  // namespace spoor
