#include "algorithms/crosstab.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "algorithms/distributions.h"
#include "algorithms/model_matrix.h"
#include "algorithms/r_levels.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr char kRows[] = "rows";
constexpr char kCols[] = "cols";
constexpr char kPhase[] = "phase";
constexpr char kPhaseLevels[] = "levels";
constexpr char kPhaseTable[] = "table";
constexpr char kRowLevels[] = "row_levels";
constexpr char kColLevels[] = "col_levels";
constexpr char kSmallExpectedWarning[] = "Chi-squared approximation may be incorrect";
constexpr char kSuppressedSuffix[] = " suppressed";

struct Variables {
  std::string rows;
  std::string cols;
};

absl::StatusOr<Variables> GetVariables(const v1::Parameters& parameters) {
  Variables v;
  SPOOR_ASSIGN_OR_RETURN(v.rows, GetText(parameters, kRows));
  SPOOR_ASSIGN_OR_RETURN(v.cols, GetText(parameters, kCols));
  if (v.rows.empty() || v.cols.empty()) {
    return absl::InvalidArgumentError("crosstab: --rows and --cols each need a variable name");
  }
  if (v.rows == v.cols) {
    return absl::InvalidArgumentError(
        absl::StrCat("crosstab: --rows and --cols both name '", v.rows,
                     "'; a table of a variable against itself tests nothing"));
  }
  return v;
}

std::string TableName(const Variables& v) { return absl::StrCat(v.rows, " x ", v.cols); }

// One variable of the table at a node: each complete case's level label,
// computed once per categorical code or distinct number, not per record.
class LevelReader {
 public:
  explicit LevelReader(const Column& column) : column_(column) {}

  // The reference stays valid as long as the reader.
  const std::string& Label(size_t row) {
    if (column_.type() == ColumnType::kCategorical) return column_.levels()[column_.codes()[row]];
    double v = column_.numbers()[row];
    if (v == 0) v = 0;  // -0 and 0 are one level, "0"
    auto [it, inserted] = numeric_labels_.try_emplace(v, nullptr);
    if (inserted) it->second = &labels_.emplace_back(FormatRNumber(v));
    return *it->second;
  }

 private:
  const Column& column_;
  absl::flat_hash_map<double, const std::string*> numeric_labels_;
  std::deque<std::string> labels_;  // stable addresses for numeric_labels_
};

struct NodeData {
  const Column* rows;
  const Column* cols;
  std::vector<size_t> complete;  // rows with both variables present
};

absl::StatusOr<NodeData> Prepare(const Variables& v, const DataFrame& frame) {
  NodeData data;
  data.rows = frame.Find(v.rows);
  data.cols = frame.Find(v.cols);
  for (const auto& [column, name] :
       {std::pair{data.rows, &v.rows}, std::pair{data.cols, &v.cols}}) {
    if (column == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("dataset has no variable '", *name, "'"));
    }
  }
  for (size_t r = 0; r < frame.num_rows(); ++r) {
    if (!data.rows->is_missing(r) && !data.cols->is_missing(r)) data.complete.push_back(r);
  }
  return data;
}

absl::Status CheckLevelCount(const std::string& variable, size_t levels, const char* where) {
  if (levels <= static_cast<size_t>(kMaxCrosstabLevels)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "crosstab: variable '", variable, "' has ", levels, " levels ", where, "; at most ",
      kMaxCrosstabLevels, " are allowed (is it continuous, or an identifier?)"));
}

// Round 1: the sorted labels present among the complete cases. Sorted so
// that the order of the rows does not leak.
absl::StatusOr<v1::Aggregate> LevelsAggregate(const Variables& v, const NodeData& data) {
  v1::Aggregate aggregate;
  for (const auto& [column, name] :
       {std::pair{data.rows, &v.rows}, std::pair{data.cols, &v.cols}}) {
    const std::vector<std::string> labels = PresentLevels(*column, data.complete);  // R's order
    SPOOR_RETURN_IF_ERROR(CheckLevelCount(*name, labels.size(), "at this node"));
    v1::Block* block = aggregate.add_blocks();
    block->set_name(*name);
    block->set_record_count(static_cast<int64_t>(data.complete.size()));
    for (const std::string& label : labels) block->mutable_levels()->add_values(label);
  }
  return aggregate;
}

// Round 2: counts over the union's labels, row-major.
absl::StatusOr<v1::Aggregate> TableAggregate(const Variables& v, const NodeData& data,
                                             const std::vector<std::string>& row_labels,
                                             const std::vector<std::string>& col_labels) {
  absl::flat_hash_map<std::string, size_t> row_index, col_index;
  for (size_t i = 0; i < row_labels.size(); ++i) row_index.emplace(row_labels[i], i);
  for (size_t j = 0; j < col_labels.size(); ++j) col_index.emplace(col_labels[j], j);
  std::vector<int64_t> counts(row_labels.size() * col_labels.size(), 0);
  LevelReader rows(*data.rows), cols(*data.cols);
  for (size_t r : data.complete) {
    auto i = row_index.find(rows.Label(r));
    auto j = col_index.find(cols.Label(r));
    if (i == row_index.end() || j == col_index.end()) {
      // The level itself is data; name only the variable.
      return absl::FailedPreconditionError(
          absl::StrCat("variable '", i == row_index.end() ? v.rows : v.cols,
                       "' has a level that is not among the table's levels; did the dataset change "
                       "during the job?"));
    }
    ++counts[i->second * col_labels.size() + j->second];
  }
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name(TableName(v));
  block->set_record_count(static_cast<int64_t>(data.complete.size()));
  v1::CountTable* table = block->mutable_count_table();
  for (const std::string& label : row_labels) table->add_row_labels(label);
  for (const std::string& label : col_labels) table->add_col_labels(label);
  for (int64_t c : counts) table->add_counts(c);
  return aggregate;
}

// Small-cell suppression (statistical disclosure control's primary and
// complementary suppression, e.g. Hundepool et al., Statistical Disclosure
// Control, Wiley 2012, ch. 5): every cell with 0 < count < min_cell_count is
// withheld, and then the smallest cell of at least min_cell_count too, so
// that the withheld records (the node's complete cases, known from the
// levels round, less the released counts) never add up to one small cell's
// value. Withheld cells are released as 0, listed by index in a second block,
// and the table's record_count counts only the released records. Without a
// cell to withhold beside small ones, nothing is withheld and the gate
// refuses the table.
void SuppressSmallCells(const Variables& v, int64_t min_cell_count, v1::Aggregate& aggregate) {
  v1::Block& block = *aggregate.mutable_blocks(0);
  auto& counts = *block.mutable_count_table()->mutable_counts();
  std::vector<int> withheld;
  int complement = -1;
  for (int k = 0; k < counts.size(); ++k) {
    if (counts[k] > 0 && counts[k] < min_cell_count) {
      withheld.push_back(k);
    } else if (counts[k] >= min_cell_count && (complement < 0 || counts[k] < counts[complement])) {
      complement = k;
    }
  }
  if (withheld.empty() || complement < 0) return;
  withheld.push_back(complement);
  std::sort(withheld.begin(), withheld.end());
  int64_t released = block.record_count();
  v1::Block* list = aggregate.add_blocks();
  list->set_name(absl::StrCat(TableName(v), kSuppressedSuffix));
  for (int k : withheld) {
    released -= counts[k];
    counts[k] = 0;
    list->mutable_vector()->add_values(k);
  }
  block.set_record_count(released);
  list->set_record_count(released);
}

absl::Status MalformedFrom(const NodeAggregate& node) {
  return absl::InvalidArgumentError(
      absl::StrCat("node ", node.node_id, " sent a malformed crosstab aggregate"));
}

absl::StatusOr<CentralStep> CentralLevels(const Variables& v,
                                          const std::vector<NodeAggregate>& aggregates) {
  std::vector<FactorLevels> per_node;
  for (const NodeAggregate& node : aggregates) {
    const auto& blocks = node.aggregate.blocks();
    if (blocks.size() != 2 || blocks[0].name() != v.rows || blocks[1].name() != v.cols ||
        !blocks[0].has_levels() || !blocks[1].has_levels()) {
      return MalformedFrom(node);
    }
    FactorLevels levels;
    levels[v.rows].assign(blocks[0].levels().values().begin(), blocks[0].levels().values().end());
    levels[v.cols].assign(blocks[1].levels().values().begin(), blocks[1].levels().values().end());
    per_node.push_back(std::move(levels));
  }
  FactorLevels all = UnionLevels(per_node);
  const std::vector<std::string>& row_labels = all[v.rows];
  const std::vector<std::string>& col_labels = all[v.cols];
  if (row_labels.empty() || col_labels.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("crosstab: no node has a record with both '", v.rows, "' and '", v.cols, "'"));
  }
  SPOOR_RETURN_IF_ERROR(CheckLevelCount(v.rows, row_labels.size(), "over all nodes"));
  SPOOR_RETURN_IF_ERROR(CheckLevelCount(v.cols, col_labels.size(), "over all nodes"));
  CentralStep step;
  SetText(step.next_round_state, kPhase, kPhaseTable);
  SetTextList(step.next_round_state, kRowLevels, row_labels);
  SetTextList(step.next_round_state, kColLevels, col_labels);
  return step;
}

bool SameLabels(const google::protobuf::RepeatedPtrField<std::string>& sent,
                const std::vector<std::string>& expected) {
  return sent.size() == static_cast<int>(expected.size()) &&
         std::equal(sent.begin(), sent.end(), expected.begin());
}

// Pearson's statistic exactly as R's chisq.test evaluates it, so that the
// result agrees to the last bits: E = outer(sr, sc) / n, then
// sum((x - E)^2 / E) over the matrix in R's column-major order, summed in
// long double as R's sum() does.
void PearsonTest(v1::CrosstabResult& result) {
  const int r = result.row_labels_size(), c = result.col_labels_size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double n = static_cast<double>(result.total());
  if (r < 2 || c < 2) {
    result.set_chi_square(nan);
    result.set_df(0);
    result.set_p_value(nan);
    result.add_warnings(
        "no chi-squared test: it needs at least two levels of each variable (R's chisq.test "
        "would test a one-row or one-column table for equal proportions instead)");
    return;
  }
  long double statistic = 0;
  bool small_expected = false;
  for (int j = 0; j < c; ++j) {
    for (int i = 0; i < r; ++i) {
      const double expected =
          static_cast<double>(result.row_totals(i)) * static_cast<double>(result.col_totals(j)) / n;
      const double deviation = std::fabs(static_cast<double>(result.counts(i * c + j)) - expected);
      statistic += deviation * deviation / expected;
      small_expected = small_expected || expected < 5;
    }
  }
  const int64_t df = static_cast<int64_t>(r - 1) * (c - 1);
  result.set_chi_square(static_cast<double>(statistic));
  result.set_df(df);
  // NaN (a zero margin) stays NaN, as in R.
  result.set_p_value(ChiSquareUpperTail(result.chi_square(), static_cast<double>(df)));
  if (small_expected) result.add_warnings(kSmallExpectedWarning);
}

absl::StatusOr<CentralStep> CentralTable(const Variables& v, const v1::Parameters& state,
                                         const std::vector<NodeAggregate>& aggregates) {
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> row_labels, GetTextList(state, kRowLevels));
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> col_labels, GetTextList(state, kColLevels));
  const size_t cells = row_labels.size() * col_labels.size();
  std::vector<int64_t> counts(cells, 0);
  std::vector<bool> suppressed(cells, false);
  for (const NodeAggregate& node : aggregates) {
    const auto& blocks = node.aggregate.blocks();
    if (blocks.empty() || blocks.size() > 2 || blocks[0].name() != TableName(v) ||
        !blocks[0].has_count_table()) {
      return MalformedFrom(node);
    }
    if (blocks.size() == 2) {
      if (blocks[1].name() != absl::StrCat(TableName(v), kSuppressedSuffix) ||
          !blocks[1].has_vector()) {
        return MalformedFrom(node);
      }
      for (double k : blocks[1].vector().values()) {
        if (!(k >= 0 && k < static_cast<double>(cells)) || k != std::floor(k)) {
          return MalformedFrom(node);
        }
        suppressed[static_cast<size_t>(k)] = true;
      }
    }
    const v1::CountTable& table = blocks[0].count_table();
    if (!SameLabels(table.row_labels(), row_labels) ||
        !SameLabels(table.col_labels(), col_labels) ||
        table.counts_size() != static_cast<int>(cells)) {
      return MalformedFrom(node);
    }
    int64_t node_total = 0;
    for (size_t k = 0; k < cells; ++k) {
      if (table.counts(static_cast<int>(k)) < 0) return MalformedFrom(node);
      counts[k] += table.counts(static_cast<int>(k));
      node_total += table.counts(static_cast<int>(k));
    }
    if (node_total != blocks[0].record_count()) return MalformedFrom(node);
  }

  CentralStep step;
  step.done = true;
  v1::CrosstabResult& result = *step.result.mutable_crosstab();
  result.set_row_variable(v.rows);
  result.set_col_variable(v.cols);
  for (const std::string& label : row_labels) result.add_row_labels(label);
  for (const std::string& label : col_labels) result.add_col_labels(label);
  std::vector<int64_t> row_totals(row_labels.size(), 0), col_totals(col_labels.size(), 0);
  std::vector<bool> row_suppressed(row_labels.size(), false),
      col_suppressed(col_labels.size(), false);
  int64_t total = 0;
  for (size_t i = 0; i < row_labels.size(); ++i) {
    for (size_t j = 0; j < col_labels.size(); ++j) {
      const size_t k = i * col_labels.size() + j;
      // A cell some node withheld is withheld whole: the others' part of it
      // would read as the cell's count.
      const int64_t count = suppressed[k] ? 0 : counts[k];
      result.add_counts(count);
      result.add_suppressed(suppressed[k]);
      row_suppressed[i] = row_suppressed[i] || suppressed[k];
      col_suppressed[j] = col_suppressed[j] || suppressed[k];
      row_totals[i] += count;
      col_totals[j] += count;
      total += count;
    }
  }
  for (int64_t t : row_totals) result.add_row_totals(t);
  for (int64_t t : col_totals) result.add_col_totals(t);
  for (bool b : row_suppressed) result.add_row_total_suppressed(b);
  for (bool b : col_suppressed) result.add_col_total_suppressed(b);
  result.set_total(total);
  if (std::find(suppressed.begin(), suppressed.end(), true) != suppressed.end()) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    result.set_chi_square(nan);
    result.set_df(0);
    result.set_p_value(nan);
    result.set_total_suppressed(true);
    result.add_warnings(
        "cells below a node's min_cell_count were suppressed (with one more cell each, so that "
        "they cannot be recovered): they, their row and column totals and the total are "
        "withheld, and there is no chi-squared test on an incomplete table");
    return step;
  }
  PearsonTest(result);
  return step;
}

absl::StatusOr<std::string> GetPhase(const v1::Parameters& state) {
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetText(state, kPhase));
  if (phase != kPhaseLevels && phase != kPhaseTable) {
    return absl::InvalidArgumentError("crosstab: unknown phase in the round state");
  }
  return phase;
}

}  // namespace

absl::Status CrosstabAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  return GetVariables(parameters).status();
}

absl::StatusOr<v1::Parameters> CrosstabAlgorithm::Begin(const v1::Parameters& parameters) const {
  SPOOR_RETURN_IF_ERROR(ValidateParameters(parameters));
  v1::Parameters state;
  SetText(state, kPhase, kPhaseLevels);
  return state;
}

absl::StatusOr<v1::Aggregate> CrosstabAlgorithm::Local(const LocalRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(Variables v, GetVariables(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetPhase(request.round_state));
  SPOOR_ASSIGN_OR_RETURN(NodeData data, Prepare(v, request.frame));
  if (phase == kPhaseLevels) return LevelsAggregate(v, data);
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> row_labels,
                         GetTextList(request.round_state, kRowLevels));
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> col_labels,
                         GetTextList(request.round_state, kColLevels));
  // The coordinator enforces the limit; a node checks again rather than
  // build a table of any size a round state asks for.
  SPOOR_RETURN_IF_ERROR(CheckLevelCount(v.rows, row_labels.size(), "in the round state"));
  SPOOR_RETURN_IF_ERROR(CheckLevelCount(v.cols, col_labels.size(), "in the round state"));
  SPOOR_ASSIGN_OR_RETURN(v1::Aggregate aggregate, TableAggregate(v, data, row_labels, col_labels));
  if (request.rules != nullptr) SuppressSmallCells(v, request.rules->min_cell_count, aggregate);
  return aggregate;
}

absl::StatusOr<CentralStep> CrosstabAlgorithm::Central(const CentralRequest& request) const {
  SPOOR_ASSIGN_OR_RETURN(Variables v, GetVariables(request.parameters));
  SPOOR_ASSIGN_OR_RETURN(std::string phase, GetPhase(request.round_state));
  if (phase == kPhaseLevels) return CentralLevels(v, request.aggregates);
  return CentralTable(v, request.round_state, request.aggregates);
}

}  // namespace spoor
