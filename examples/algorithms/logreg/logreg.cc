// logreg: federated logistic regression by Newton-Raphson, the maximum
// likelihood that R's glm(y ~ x1 + ..., family = binomial) finds on the
// pooled data.
//
// Each round the central step sends the current coefficients beta; each
// node returns, over its complete cases, the gradient of the log-likelihood
// X'(y - p), the information matrix X'WX (W = p(1 - p)) and its deviance at
// beta. The central step sums them and takes the Newton step
// beta += (X'WX)^-1 X'(y - p) until the step is below `tolerance` in every
// coefficient (default 1e-10), then reports estimates and Wald standard
// errors from (X'WX)^-1 at the final beta. A FedAvg-style trainer would
// average local steps instead; the exact Newton step needs no learning rate
// and gives R's answer.
//
// Parameters: response (text, a 0/1 variable), covariates (texts, numeric
// variables), max_iterations (number, default 25), tolerance (number).
#include <cmath>

#include "Eigen/Dense"
#include "absl/strings/str_cat.h"
#include "sdk/spoor_sdk.h"

namespace {

using spoor::CentralRequest;
using spoor::CentralStep;
using spoor::LocalRequest;
namespace v1 = spoor::v1;

struct Model {
  std::string response;
  std::vector<std::string> covariates;
  int max_iterations = 25;
  double tolerance = 1e-10;
};

absl::StatusOr<Model> ParseModel(const v1::Parameters& parameters) {
  Model model;
  absl::StatusOr<std::string> response = spoor::GetText(parameters, "response");
  if (!response.ok()) return response.status();
  model.response = *response;
  absl::StatusOr<std::vector<std::string>> covariates =
      spoor::GetTextList(parameters, "covariates");
  if (!covariates.ok()) return covariates.status();
  model.covariates = *covariates;
  absl::StatusOr<double> iterations = spoor::GetNumber(parameters, "max_iterations", 25);
  if (!iterations.ok()) return iterations.status();
  model.max_iterations = static_cast<int>(*iterations);
  absl::StatusOr<double> tolerance = spoor::GetNumber(parameters, "tolerance", 1e-10);
  if (!tolerance.ok()) return tolerance.status();
  model.tolerance = *tolerance;
  return model;
}

// The coefficients of this round: zeros in round 1.
std::vector<double> Beta(const v1::Parameters& state, size_t p) {
  absl::StatusOr<std::vector<double>> beta = spoor::GetNumbers(state, "beta");
  if (!beta.ok() || beta->size() != p) return std::vector<double>(p, 0.0);
  return *beta;
}

class LogisticRegression final : public spoor::Algorithm {
 public:
  const char* name() const override { return "logreg"; }

  absl::Status ValidateParameters(const v1::Parameters& parameters) const override {
    return ParseModel(parameters).status();
  }

  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override {
    absl::StatusOr<Model> model = ParseModel(request.parameters);
    if (!model.ok()) return model.status();
    std::vector<const spoor::Column*> columns;
    for (const std::string& name : [&] {
           std::vector<std::string> all{model->response};
           all.insert(all.end(), model->covariates.begin(), model->covariates.end());
           return all;
         }()) {
      const spoor::Column* column = request.frame.Find(name);
      if (column == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("the dataset has no variable '", name, "'"));
      }
      if (column->type() != spoor::ColumnType::kNumeric) {
        return absl::InvalidArgumentError(absl::StrCat("variable '", name, "' is not numeric"));
      }
      columns.push_back(column);
    }
    const size_t p = model->covariates.size() + 1;
    std::vector<double> beta = Beta(request.round_state, p);
    Eigen::VectorXd gradient = Eigen::VectorXd::Zero(p);
    Eigen::MatrixXd information = Eigen::MatrixXd::Zero(p, p);
    Eigen::VectorXd x(p);
    double deviance = 0;
    int64_t n = 0;
    for (size_t row : spoor::CompleteRows(columns, request.frame.num_rows())) {
      double y = columns[0]->numbers()[row];
      if (y != 0 && y != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("the response '", model->response, "' must be 0 or 1"));
      }
      x(0) = 1;
      for (size_t j = 1; j < p; ++j) x(j) = columns[j]->numbers()[row];
      double eta = 0;
      for (size_t j = 0; j < p; ++j) eta += x(j) * beta[j];
      double mu = 1 / (1 + std::exp(-eta));
      gradient += (y - mu) * x;
      information.selfadjointView<Eigen::Upper>().rankUpdate(x, mu * (1 - mu));
      deviance -= 2 * (y == 1 ? std::log(mu) : std::log1p(-mu));
      ++n;
    }
    v1::Aggregate aggregate;
    v1::Block* g = aggregate.add_blocks();
    g->set_name("gradient");
    g->set_record_count(n);
    for (size_t j = 0; j < p; ++j) g->mutable_vector()->add_values(gradient(j));
    v1::Block* h = aggregate.add_blocks();
    h->set_name("information");
    h->set_record_count(n);
    h->mutable_matrix()->set_dimension(static_cast<uint32_t>(p));
    for (size_t i = 0; i < p; ++i) {
      for (size_t j = i; j < p; ++j) h->mutable_matrix()->add_upper(information(i, j));
    }
    v1::Block* d = aggregate.add_blocks();
    d->set_name("deviance");
    d->set_record_count(n);
    d->mutable_vector()->add_values(deviance);
    return aggregate;
  }

  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override {
    absl::StatusOr<Model> model = ParseModel(request.parameters);
    if (!model.ok()) return model.status();
    const size_t p = model->covariates.size() + 1;
    Eigen::VectorXd gradient = Eigen::VectorXd::Zero(p);
    Eigen::MatrixXd information = Eigen::MatrixXd::Zero(p, p);
    double deviance = 0, n = 0;
    for (const spoor::NodeAggregate& node : request.aggregates) {
      const v1::Aggregate& a = node.aggregate;
      if (a.blocks_size() != 3 || a.blocks(0).vector().values_size() != static_cast<int>(p) ||
          a.blocks(1).matrix().dimension() != p || a.blocks(2).vector().values_size() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("node ", node.node_id, " answered with an unexpected aggregate"));
      }
      for (size_t j = 0; j < p; ++j) gradient(j) += a.blocks(0).vector().values(j);
      int k = 0;
      for (size_t i = 0; i < p; ++i) {
        for (size_t j = i; j < p; ++j) {
          information(i, j) += a.blocks(1).matrix().upper(k++);
          information(j, i) = information(i, j);
        }
      }
      deviance += a.blocks(2).vector().values(0);
      n += static_cast<double>(a.blocks(0).record_count());
    }
    std::vector<double> beta = Beta(request.round_state, p);
    Eigen::LDLT<Eigen::MatrixXd> solver(information);
    if (solver.info() != Eigen::Success || !solver.isPositive()) {
      return absl::FailedPreconditionError(
          "the information matrix is singular: drop a covariate that is constant or collinear");
    }
    Eigen::VectorXd step = solver.solve(gradient);
    CentralStep result;
    const bool converged = step.cwiseAbs().maxCoeff() < model->tolerance;
    if (!converged && request.round < model->max_iterations) {
      std::vector<double> next(p);
      for (size_t j = 0; j < p; ++j) next[j] = beta[j] + step(j);
      spoor::SetNumbers(result.next_round_state, "beta", next);
      return result;
    }
    // Standard errors from the information at the final beta.
    Eigen::MatrixXd covariance = solver.solve(Eigen::MatrixXd::Identity(p, p));
    std::vector<std::string> terms{"(Intercept)"};
    terms.insert(terms.end(), model->covariates.begin(), model->covariates.end());
    std::vector<double> se(p), z(p);
    for (size_t j = 0; j < p; ++j) {
      se[j] = std::sqrt(covariance(j, j));
      z[j] = beta[j] / se[j];
    }
    result.done = true;
    v1::Parameters* values = result.result.mutable_container()->mutable_values();
    spoor::SetTextList(*values, "term", terms);
    spoor::SetNumbers(*values, "estimate", beta);
    spoor::SetNumbers(*values, "std_error", se);
    spoor::SetNumbers(*values, "z", z);
    spoor::SetNumber(*values, "deviance", deviance);
    spoor::SetNumber(*values, "n", n);
    spoor::SetNumber(*values, "iterations", request.round);
    spoor::SetNumber(*values, "converged", converged ? 1 : 0);
    return result;
  }
};

}  // namespace

int main(int argc, char** argv) { return spoor::sdk::Main(argc, argv, LogisticRegression()); }
