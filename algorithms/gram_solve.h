// Solving the normal equations of the Newton and IRLS steps (X'WX b = X'Wz
// in GLM, I b = U in Cox) over the columns that are not aliased, as R's
// fitting routines do with their pivoting QR (glm.fit, LINPACK dqrdc2) or
// Cholesky (coxph, cholesky2): columns are taken left to right and a column
// is aliased when, after projection on the kept columns before it, its
// squared norm falls below kAliasTolerance of its own squared norm (the
// matrix is equilibrated to unit diagonal first). R applies its tolerance to
// norms of X (1e-11 in glm.fit); on the Gram matrix, which squares the
// condition number, the test is on squared norms. The two agree for exact
// and near-exact collinearity and differ only for columns with a variance
// inflation beyond 1e10, whose estimates are meaningless either way.
#ifndef SPOOR_ALGORITHMS_GRAM_SOLVE_H_
#define SPOOR_ALGORITHMS_GRAM_SOLVE_H_

#include <vector>

#include "Eigen/Dense"
#include "absl/status/statusor.h"

namespace spoor {

inline constexpr double kAliasTolerance = 1e-10;

struct GramSolution {
  Eigen::VectorXd x;          // 0 for aliased columns
  std::vector<bool> aliased;  // per column
};

// Solves a x = b for a symmetric positive semi-definite `a`.
// FAILED_PRECONDITION when every column is aliased or the solution is not
// finite.
absl::StatusOr<GramSolution> GramSolve(const Eigen::MatrixXd& a, const Eigen::VectorXd& b);

// The inverse of `a` restricted to the columns not marked aliased, placed
// back at their positions; aliased rows and columns are NaN.
// FAILED_PRECONDITION when the kept block is not positive definite.
absl::StatusOr<Eigen::MatrixXd> GramInverse(const Eigen::MatrixXd& a,
                                            const std::vector<bool>& aliased);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_GRAM_SOLVE_H_
