// The design matrix of a formula over a node's data frame, column for column
// what R's model.matrix() gives for the same formula and factor levels:
// treatment contrasts (first level is the reference), column names as R
// names them ("(Intercept)", "age", "sexM", "factor(stage)2", "age:sexM"),
// complete cases over every variable the formula names (na.omit).
//
// Factor levels must be the same at every node, so they are passed in: the
// coordinator unions the levels each node reports (LocalLevels) and sends the
// union back. A numeric variable used as factor(x) gets levels from its
// distinct values formatted as R formats them ("1", "2", "2.5").
#ifndef SPOOR_ALGORITHMS_MODEL_MATRIX_H_
#define SPOOR_ALGORITHMS_MODEL_MATRIX_H_

#include <map>
#include <string>
#include <vector>

#include "Eigen/Dense"
#include "absl/status/statusor.h"
#include "algorithms/data_frame.h"
#include "algorithms/formula.h"

namespace spoor {

// Variable name -> sorted levels, for every variable the formula treats as a
// factor (categorical columns, and numeric ones wrapped in factor()).
using FactorLevels = std::map<std::string, std::vector<std::string>>;

// The levels present at this node among its complete cases.
// FAILED_PRECONDITION naming a variable the frame lacks.
absl::StatusOr<FactorLevels> LocalLevels(const Formula& formula, const DataFrame& frame);

// Sorted union of several nodes' levels.
FactorLevels UnionLevels(const std::vector<FactorLevels>& per_node);

struct ModelMatrix {
  std::vector<std::string> column_names;  // R's names
  Eigen::MatrixXd x;                      // rows = complete cases
  Eigen::VectorXd y;                      // response (plain formulas)
  Eigen::VectorXd time, event;            // Surv() formulas; event is 0/1
  Eigen::VectorXd offset;                 // zeros when there is none
  std::vector<int32_t> strata;            // per row, index into strata_levels
  std::vector<std::string> strata_levels;
  int64_t rows_dropped = 0;  // incomplete cases removed
};

// FAILED_PRECONDITION for a missing variable or a level not in `levels`;
// INVALID_ARGUMENT for a response that is not numeric, an event not coded
// as R's Surv accepts (0/1, FALSE/TRUE, 1/2), log() of a non-positive offset.
absl::StatusOr<ModelMatrix> BuildModelMatrix(const Formula& formula, const DataFrame& frame,
                                             const FactorLevels& levels);

// Just the column names, for the coordinator (which has no data). A
// variable is a factor exactly when it has an entry in `levels`.
std::vector<std::string> ModelColumnNames(const Formula& formula, const FactorLevels& levels);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_MODEL_MATRIX_H_
