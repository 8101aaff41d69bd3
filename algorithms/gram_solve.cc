#include "algorithms/gram_solve.h"

#include <cmath>
#include <limits>

#include "Eigen/Cholesky"

namespace spoor {
namespace {

// 1/sqrt of the diagonal (0 where the diagonal is not positive), so that
// scale * a * scale has a unit diagonal.
Eigen::VectorXd EquilibratingScale(const Eigen::MatrixXd& a) {
  Eigen::VectorXd scale(a.rows());
  for (Eigen::Index j = 0; j < a.rows(); ++j) scale[j] = a(j, j) > 0 ? 1 / std::sqrt(a(j, j)) : 0;
  return scale;
}

}  // namespace

absl::StatusOr<GramSolution> GramSolve(const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {
  const Eigen::Index p = a.rows();
  GramSolution out{Eigen::VectorXd::Zero(p), std::vector<bool>(static_cast<size_t>(p), false)};
  const Eigen::VectorXd scale = EquilibratingScale(a);
  const Eigen::MatrixXd s = scale.asDiagonal() * a * scale.asDiagonal();
  std::vector<Eigen::Index> kept;
  Eigen::MatrixXd l = Eigen::MatrixXd::Zero(p, p);  // Cholesky factor of the kept block
  for (Eigen::Index j = 0; j < p; ++j) {
    const auto k = static_cast<Eigen::Index>(kept.size());
    Eigen::VectorXd column(k);
    for (Eigen::Index i = 0; i < k; ++i) column[i] = s(kept[i], j);
    const Eigen::VectorXd v = l.topLeftCorner(k, k).triangularView<Eigen::Lower>().solve(column);
    const double residual = (scale[j] > 0 ? 1.0 : 0.0) - v.squaredNorm();
    if (!(residual > kAliasTolerance)) {
      out.aliased[static_cast<size_t>(j)] = true;
      continue;
    }
    l.block(k, 0, 1, k) = v.transpose();
    l(k, k) = std::sqrt(residual);
    kept.push_back(j);
  }
  if (kept.empty()) {
    return absl::FailedPreconditionError(
        "every column of the model is aliased (linearly dependent)");
  }
  const auto k = static_cast<Eigen::Index>(kept.size());
  Eigen::VectorXd rhs(k);
  for (Eigen::Index i = 0; i < k; ++i) rhs[i] = scale[kept[i]] * b[kept[i]];
  const auto lk = l.topLeftCorner(k, k).triangularView<Eigen::Lower>();
  const Eigen::VectorXd solved = lk.transpose().solve(lk.solve(rhs));
  for (Eigen::Index i = 0; i < k; ++i) out.x[kept[i]] = scale[kept[i]] * solved[i];
  if (!out.x.allFinite()) {
    return absl::FailedPreconditionError("the Newton step is not finite");
  }
  return out;
}

absl::StatusOr<Eigen::MatrixXd> GramInverse(const Eigen::MatrixXd& a,
                                            const std::vector<bool>& aliased) {
  const Eigen::Index p = a.rows();
  std::vector<Eigen::Index> kept;
  for (Eigen::Index j = 0; j < p; ++j) {
    if (!aliased[static_cast<size_t>(j)]) kept.push_back(j);
  }
  const auto k = static_cast<Eigen::Index>(kept.size());
  Eigen::MatrixXd sub(k, k);
  for (Eigen::Index r = 0; r < k; ++r)
    for (Eigen::Index c = 0; c < k; ++c) sub(r, c) = a(kept[r], kept[c]);
  const Eigen::VectorXd scale = EquilibratingScale(sub);
  Eigen::LLT<Eigen::MatrixXd> llt(scale.asDiagonal() * sub * scale.asDiagonal());
  if (llt.info() != Eigen::Success) {
    return absl::FailedPreconditionError("the information matrix is not positive definite");
  }
  const Eigen::MatrixXd inverse =
      scale.asDiagonal() * llt.solve(Eigen::MatrixXd::Identity(k, k)) * scale.asDiagonal();
  Eigen::MatrixXd out = Eigen::MatrixXd::Constant(p, p, std::numeric_limits<double>::quiet_NaN());
  for (Eigen::Index r = 0; r < k; ++r)
    for (Eigen::Index c = 0; c < k; ++c) out(kept[r], kept[c]) = inverse(r, c);
  return out;
}

}  // namespace spoor
