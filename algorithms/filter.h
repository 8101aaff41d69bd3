// Cohort filters: the small, safe condition language behind `--where`,
//
//   age >= 50 && sex == 'F' && !is.na(bmi)
//
// The coordinator parses the text early (syntax only) and sends it to every
// node, which type-checks it against its own frame and evaluates it there. It
// is neither SQL nor R: nothing in it can run code, read files or loop.
//
// Grammar (whitespace is free between tokens):
//
//   expr    := or
//   or      := and ( ('||' | '|') and )*
//   and     := not ( ('&&' | '&') not )*
//   not     := '!' not | primary
//   primary := '(' expr ')' | 'is.na' '(' IDENT ')'
//            | operand ( cmp operand | IN list )?    -- bare: TRUE/FALSE only
//   cmp     := '==' | '!=' | '<' | '<=' | '>' | '>='
//   IN      := '%in%' | 'in'
//   list    := 'c' '(' literal (',' literal)* ')' | '(' literal (',' literal)* ')'
//   operand := IDENT | literal
//   literal := NUMBER | STRING | TRUE | FALSE
//
// NUMBER is as R writes it (12, -3.5, 1e-3, .5, 1.). STRING is in single or
// double quotes, with the escapes \' \" \\ only. IDENT is a column name of
// letters, digits, '.' and '_' not starting with a digit (UTF-8 letters
// allowed, as R allows them), or any name in backquotes (`age at entry`,
// escapes \` \\). TRUE, FALSE, NA, in and is.na are reserved; backquote a
// column that has one of those names. `c` is a column name except directly
// before '(' in a list.
//
// Method: the meaning is R's (R Language Definition §3.3; ?Comparison,
// ?Logic, ?match), as base::subset.data.frame() and dplyr::filter() apply it:
// the condition is computed for all rows with R's vectorised operators in
// three-valued logic, and a row is kept iff the result is TRUE (NA drops the
// row, as FALSE does). Hence
//   - a comparison involving a missing value is NA;
//   - NA & FALSE is FALSE, NA | TRUE is TRUE, !NA is NA, so `!(x > 1)` drops
//     rows where x is missing;
//   - `x %in% c(...)` is FALSE, not NA, for missing x (R's match());
//   - is.na(x) is TRUE or FALSE;
//   - TRUE and FALSE compare with numbers as 1 and 0;
//   - '&&' and '||' are the vectorised '&' and '|' (R >= 4.3 refuses '&&'
//     on vectors; inside subset() researchers mean '&');
//   - a categorical column (R factor) compares by level label with == and !=
//     (against a quoted level or another categorical column) and with %in%;
//     a level absent from this node's data is not an error, it matches no
//     row (hospitals record different levels).
// Where R would coerce silently, the filter refuses instead (INVALID_ARGUMENT
// naming the column, its type and how to write the comparison): a numeric
// column against a string, a categorical column against a number, '<', '<=',
// '>', '>=' on a categorical column (R returns NA with a warning), a numeric
// column against a categorical one, and NA as a value (use is.na()).
//
// Errors never contain a value from the frame: they echo only the
// researcher's own text (column names, literals, operators). Syntax errors
// read "filter: <what> at position N" with N the 1-based character position.
#ifndef SPOOR_ALGORITHMS_FILTER_H_
#define SPOOR_ALGORITHMS_FILTER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/data_frame.h"

namespace spoor {

namespace filter_internal {
struct Node;  // the parsed tree, defined in filter.cc
}  // namespace filter_internal

// A parsed filter. Immutable after Parse, so one RowFilter may be used from
// many threads at once; copies are cheap and share the parsed tree. A
// moved-from RowFilter may only be assigned to or destroyed (Select on one
// returns FAILED_PRECONDITION).
class RowFilter {
 public:
  // Longest accepted text, in bytes, and deepest nesting of '(' and '!'.
  static constexpr size_t kMaxTextBytes = 4096;
  static constexpr int kMaxDepth = 64;

  // Checks syntax only, without data, so that the coordinator can refuse a
  // bad filter before any node sees it. INVALID_ARGUMENT for a syntax error,
  // a text over kMaxTextBytes, nesting over kMaxDepth, or a comparison of two
  // literals of different types ('a' == 1).
  static absl::StatusOr<RowFilter> Parse(std::string_view text);

  // The text as given to Parse.
  const std::string& text() const { return text_; }

  // The column names the expression reads: distinct, in order of first use.
  const std::vector<std::string>& columns() const { return columns_; }

  // Type-checks the filter against `frame` and returns the indices of the
  // rows where it is TRUE, ascending. INVALID_ARGUMENT if a column is
  // missing from the frame or has the wrong type for its comparison (see the
  // file comment); nothing is evaluated then. Evaluation is column at a
  // time, in time linear in the rows and memory of one byte per row per
  // nesting level.
  absl::StatusOr<std::vector<size_t>> Select(const DataFrame& frame) const;

 private:
  using Node = filter_internal::Node;

  RowFilter(std::string text, std::vector<std::string> columns, std::shared_ptr<const Node> root);

  std::string text_;
  std::vector<std::string> columns_;
  // Shared, not owned uniquely: the tree is immutable, so copies of a
  // RowFilter (one per job, per thread) can share it instead of deep-copying.
  std::shared_ptr<const Node> root_;
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_FILTER_H_
