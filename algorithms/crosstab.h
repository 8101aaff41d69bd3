// "crosstab": a two-way table of counts over all nodes, equal to R's
// table(rows, cols) on the pooled data, with Pearson's chi-square test of
// independence (K. Pearson, "On the criterion that a given system of
// deviations ...", Philosophical Magazine 50:157-175, 1900) as R's
// chisq.test(table, correct = FALSE) computes it:
//   E[i][j] = row_total[i] * col_total[j] / n,
//   X^2 = sum (count - E)^2 / E,   df = (r - 1)(c - 1),
//   p = P(chi-square on df > X^2)   (ChiSquareUpperTail),
// and R's warning "Chi-squared approximation may be incorrect" when any
// E[i][j] < 5. As in R, no row or column is dropped: a zero margin (only
// possible if a node's data change between the rounds) gives E = 0, and
// X^2 and p are NaN, as R gives them. Unlike R, a table with a single row or
// column gets no test (X^2 and p NaN, df 0, a warning saying why): R's
// chisq.test turns such a table into a vector and tests it for equal
// proportions instead, which is not a test of independence.
//
// Records are the complete cases of (rows, cols), as table() drops NA. A
// numeric variable is treated as a factor of its values, labelled as R's
// as.character() labels them ("1", "2.5", "1e+05"). Levels are sorted as R
// sorts factor levels (SortLevels in r_levels.h): numerically when
// every level is a number, otherwise by bytes, which is R's order for ASCII
// labels that do not mix case.
//
// Parameters:
//   "rows"  text: the variable whose levels label the rows
//   "cols"  text: the variable whose levels label the columns (a different
//           one)
// Each is one variable name, as a text value (SetText) or a text list of
// exactly one element (GetText in algorithm.h accepts both).
//
// Rounds (the round state carries "phase"):
//   levels  Each node reports the levels present among its complete cases:
//           two Levels blocks, named after the rows and the cols variable,
//           each with record_count = the node's complete cases. A node with
//           more than kMaxCrosstabLevels levels in either variable fails with
//           INVALID_ARGUMENT rather than list them. The coordinator unions
//           and sorts the levels, fails with INVALID_ARGUMENT when either
//           variable has more than kMaxCrosstabLevels over all nodes, and
//           sends the union back as "row_levels" and "col_levels".
//   table   Each node returns one CountTable block named "<rows> x <cols>",
//           with the union's levels as row and column labels (levels it does
//           not have count 0) and record_count = its complete cases. A node
//           whose table has cells below its min_cell_count suppresses them,
//           and one more cell (complementary suppression, so the withheld
//           total never equals one small cell): they are released as 0 and
//           listed by index in a vector block "<rows> x <cols> suppressed",
//           and record_count counts only the released records. The
//           coordinator sums the tables and computes totals and the test; a
//           cell any node suppressed is withheld in the result, with its row
//           and column totals and the total, and there is no test.
// So what leaves a node is which levels of the two variables occur among
// its complete cases, and the counts of the table. The node's disclosure
// gate judges both (max_levels, min_records, min_cell_count).
//
// Errors name variables and nodes, never values: a variable the dataset
// lacks is FAILED_PRECONDITION "dataset has no variable 'x'".
#ifndef SPOOR_ALGORITHMS_CROSSTAB_H_
#define SPOOR_ALGORITHMS_CROSSTAB_H_

#include <cstdint>

#include "algorithms/algorithm.h"

namespace spoor {

// The most levels either variable may have. More make a table too sparse
// for the chi-square approximation, and usually mean a continuous variable
// or an identifier.
inline constexpr int64_t kMaxCrosstabLevels = 40;

// Immutable; thread-safe.
class CrosstabAlgorithm final : public Algorithm {
 public:
  const char* name() const override { return "crosstab"; }
  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Parameters> Begin(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_CROSSTAB_H_
