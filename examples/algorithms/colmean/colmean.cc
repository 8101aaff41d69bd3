// colmean: the federated mean, variance and standard deviation of numeric
// columns, as R's mean(x, na.rm = TRUE) and sd(x, na.rm = TRUE) give them on
// the pooled data.
//
// Local step: per variable, the number of non-missing values n, their mean
// and their sum of squared deviations from that mean (M2), one block each,
// backed by n records. Central step: Chan, Golub and LeVeque's pairwise
// update (1979) combines (n, mean, M2) exactly, without the cancellation of
// a sum-of-squares formula.
//
// Parameters: vars (texts, required).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "sdk/spoor_sdk.h"

namespace {

using spoor::CentralRequest;
using spoor::CentralStep;
using spoor::LocalRequest;
namespace v1 = spoor::v1;

class ColumnMean final : public spoor::Algorithm {
 public:
  const char* name() const override { return "colmean"; }

  absl::Status ValidateParameters(const v1::Parameters& parameters) const override {
    return spoor::GetTextList(parameters, "vars").status();
  }

  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override {
    absl::StatusOr<std::vector<std::string>> vars = spoor::GetTextList(request.parameters, "vars");
    if (!vars.ok()) return vars.status();
    v1::Aggregate aggregate;
    for (const std::string& var : *vars) {
      const spoor::Column* column = request.frame.Find(var);
      if (column == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("the dataset has no variable '", var, "'"));
      }
      if (column->type() != spoor::ColumnType::kNumeric) {
        return absl::InvalidArgumentError(absl::StrCat("variable '", var, "' is not numeric"));
      }
      int64_t n = 0;
      double mean = 0, m2 = 0;
      for (double x : column->numbers()) {  // Welford
        if (std::isnan(x)) continue;
        ++n;
        double delta = x - mean;
        mean += delta / static_cast<double>(n);
        m2 += delta * (x - mean);
      }
      v1::Block* block = aggregate.add_blocks();
      block->set_name(var);
      block->set_record_count(n);
      block->mutable_vector()->add_values(mean);
      block->mutable_vector()->add_values(m2);
    }
    return aggregate;
  }

  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override {
    absl::StatusOr<std::vector<std::string>> vars = spoor::GetTextList(request.parameters, "vars");
    if (!vars.ok()) return vars.status();
    std::vector<double> ns, means, sds, variances;
    for (size_t v = 0; v < vars->size(); ++v) {
      double n = 0, mean = 0, m2 = 0;
      for (const spoor::NodeAggregate& node : request.aggregates) {
        if (static_cast<size_t>(node.aggregate.blocks_size()) != vars->size() ||
            node.aggregate.blocks(v).vector().values_size() != 2) {
          return absl::InvalidArgumentError(
              absl::StrCat("node ", node.node_id, " answered with an unexpected aggregate"));
        }
        const v1::Block& block = node.aggregate.blocks(v);
        double nb = static_cast<double>(block.record_count());
        if (nb == 0) continue;
        double mean_b = block.vector().values(0), m2_b = block.vector().values(1);
        double delta = mean_b - mean;
        double total = n + nb;
        mean += delta * nb / total;
        m2 += m2_b + delta * delta * n * nb / total;
        n = total;
      }
      double variance = n > 1 ? m2 / (n - 1) : std::nan("");
      ns.push_back(n);
      means.push_back(n > 0 ? mean : std::nan(""));
      variances.push_back(variance);
      sds.push_back(std::sqrt(variance));
    }
    CentralStep step;
    step.done = true;
    v1::Parameters* values = step.result.mutable_container()->mutable_values();
    spoor::SetTextList(*values, "variable", *vars);
    spoor::SetNumbers(*values, "n", ns);
    spoor::SetNumbers(*values, "mean", means);
    spoor::SetNumbers(*values, "variance", variances);
    spoor::SetNumbers(*values, "sd", sds);
    return step;
  }
};

}  // namespace

int main(int argc, char** argv) { return spoor::sdk::Main(argc, argv, ColumnMean()); }
