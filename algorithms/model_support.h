// Pieces shared by the model-fitting algorithms (glm, cox): the iteration
// controls, factor levels carried in the round state, the levels round, and
// typed blocks of vectors and symmetric matrices.
#ifndef SPOOR_ALGORITHMS_MODEL_SUPPORT_H_
#define SPOOR_ALGORITHMS_MODEL_SUPPORT_H_

#include <string>
#include <string_view>
#include <vector>

#include "Eigen/Dense"
#include "absl/status/statusor.h"
#include "algorithms/algorithm.h"
#include "algorithms/model_matrix.h"

namespace spoor {

// "max_iterations" (a whole number from 1 to 1000) and "epsilon" (0 < e < 1)
// with the algorithm's defaults; errors start with `algorithm`.
struct IterationControl {
  int max_iterations = 25;
  double epsilon = 1e-8;
};
absl::StatusOr<IterationControl> ParseIterationControl(const v1::Parameters& parameters,
                                                       std::string_view algorithm,
                                                       IterationControl defaults);

// Factor levels in the round state, one text list per variable under
// "levels:<variable>".
void SetLevelsInState(const FactorLevels& levels, v1::Parameters& state);
FactorLevels LevelsFromState(const v1::Parameters& state);

// A text of the formula and the levels, for LocalCache keys.
std::string ModelKey(std::string_view formula, const FactorLevels& levels);

// The levels round at a node: one Levels block per factor variable.
void AddLevelsBlocks(const FactorLevels& levels, int64_t records, v1::Aggregate& aggregate);

// The levels round's central step: unions the Levels blocks the nodes sent
// (one per factor variable) into the state.
// Returns the union.
FactorLevels SetUnionOfNodeLevels(const std::vector<NodeAggregate>& aggregates,
                                  v1::Parameters& state);

Eigen::VectorXd ToVector(const std::vector<double>& values);
std::vector<double> FromVector(const Eigen::VectorXd& values);

// nullptr when the aggregate has no block of that name.
const v1::Block* FindBlock(const v1::Aggregate& aggregate, std::string_view name);

void AddVectorBlock(v1::Aggregate& aggregate, const std::string& name, int64_t records,
                    const Eigen::VectorXd& values, v1::BlockKind kind = v1::BLOCK_KIND_UNSPECIFIED);
// The upper triangle of `m`, row by row, as SymmetricMatrix stores it.
void AddSymmetricBlock(v1::Aggregate& aggregate, const std::string& name, int64_t records,
                       const Eigen::MatrixXd& m);
// Adds a SymmetricMatrix block of dimension p to `sum` (both triangles).
// FAILED_PRECONDITION naming `node` when the dimension differs.
absl::Status AddSymmetricTo(const v1::Block& block, const std::string& node, Eigen::MatrixXd& sum);

// The error for a node whose model matrix has other columns than the
// coordinator's: variable types differ between nodes.
absl::Status ColumnMismatch(const std::string& node);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_MODEL_SUPPORT_H_
