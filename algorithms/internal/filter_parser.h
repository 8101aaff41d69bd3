// The cohort filter's parser (algorithms/filter.h): the parsed tree and the
// helpers that the parser and the binder in filter.cc share. Internal to
// RowFilter; include only from algorithms/filter.cc and its parser.
#ifndef SPOOR_ALGORITHMS_INTERNAL_FILTER_PARSER_H_
#define SPOOR_ALGORITHMS_INTERNAL_FILTER_PARSER_H_

#include <cctype>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace spoor::filter_internal {

// R's truth values, one byte per row.
constexpr uint8_t kFalse = 0;
constexpr uint8_t kTrue = 1;
constexpr uint8_t kNa = 2;

// The order indexes the tables in OpText and Mirror.
enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

// One side of a comparison, or an element of a %in% list, as written.
struct Operand {
  enum class Kind { kColumn, kNumber, kString, kBool };
  Kind kind = Kind::kNumber;
  std::string value;     // the column name, or the string's content
  double number = 0;     // kNumber; kBool as 1 or 0
  std::string spelling;  // exactly as written, for messages
  bool is_literal() const { return kind != Kind::kColumn; }
  bool is_numeric() const { return kind == Kind::kNumber || kind == Kind::kBool; }
};

struct Node {
  enum class Kind { kConstant, kAnd, kOr, kNot, kIsNa, kCompare, kIn };
  Kind kind = Kind::kConstant;
  uint8_t constant = kFalse;                          // kConstant
  std::vector<std::unique_ptr<const Node>> children;  // kAnd, kOr: two or more; kNot: one
  Operand column;                                     // kIsNa, kCompare, kIn: a column
  CompareOp op = CompareOp::kEq;                      // kCompare
  Operand right;                                      // kCompare: a column or a literal
  std::vector<Operand> list;                          // kIn: literals
};

// ---- Small helpers shared by parsing and binding ----------------------------

inline std::string OpText(CompareOp op) {
  static constexpr std::string_view kText[] = {"==", "!=", "<", "<=", ">", ">="};
  return std::string(kText[static_cast<int>(op)]);
}

inline bool IsOrdering(CompareOp op) { return op != CompareOp::kEq && op != CompareOp::kNe; }

// `a op b` is `b Mirror(op) a`.
inline CompareOp Mirror(CompareOp op) {
  static constexpr CompareOp kMirror[] = {CompareOp::kEq, CompareOp::kNe, CompareOp::kGt,
                                          CompareOp::kGe, CompareOp::kLt, CompareOp::kLe};
  return kMirror[static_cast<int>(op)];
}

// Calls fn with the C++ comparison for `op`, so that each loop over rows is
// instantiated with its comparison inlined.
template <typename Fn>
inline void WithComparison(CompareOp op, Fn&& fn) {
  switch (op) {
    case CompareOp::kEq:
      return fn(std::equal_to<double>());
    case CompareOp::kNe:
      return fn(std::not_equal_to<double>());
    case CompareOp::kLt:
      return fn(std::less<double>());
    case CompareOp::kLe:
      return fn(std::less_equal<double>());
    case CompareOp::kGt:
      return fn(std::greater<double>());
    case CompareOp::kGe:
      return fn(std::greater_equal<double>());
  }
}

inline bool Compare(CompareOp op, double a, double b) {
  bool result = false;
  WithComparison(op, [&](auto cmp) { result = cmp(a, b); });
  return result;
}

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsNameStart(unsigned char c) {
  // Bytes >= 0x80 are parts of UTF-8 letters, which R accepts in names.
  return std::isalpha(c) || c == '.' || c == '_' || c >= 0x80;
}
inline bool IsNameChar(unsigned char c) { return IsNameStart(c) || IsDigit(static_cast<char>(c)); }

inline bool IsReservedWord(std::string_view name) {
  return name == "TRUE" || name == "FALSE" || name == "NA" || name == "in" || name == "is.na";
}

// How to write column `name` in an expression: bare if it is a valid
// identifier, else backquoted.
inline std::string Spell(const std::string& name) {
  bool bare = !name.empty() && IsNameStart(static_cast<unsigned char>(name[0])) &&
              !(name[0] == '.' && name.size() > 1 && IsDigit(name[1])) && !IsReservedWord(name);
  for (char c : name) bare = bare && IsNameChar(static_cast<unsigned char>(c));
  if (bare) return name;
  std::string out = "`";
  for (char c : name) {
    if (c == '`' || c == '\\') out += '\\';
    out += c;
  }
  return out + "`";
}

// The researcher's own text, shortened, in quotes for a message (a string
// literal keeps the quotes it was written with).
inline std::string Quote(std::string_view spelling) {
  constexpr size_t kMax = 40;
  const bool quoted = !spelling.empty() && (spelling[0] == '\'' || spelling[0] == '"');
  const std::string mark = quoted ? "" : "'";
  if (spelling.size() <= kMax) return absl::StrCat(mark, std::string(spelling), mark);
  const std::string end = quoted ? std::string(1, spelling[0]) : mark;
  return absl::StrCat(mark, std::string(spelling.substr(0, kMax)), "...", end);
}

struct ParsedFilter {
  std::unique_ptr<const Node> root;
  std::vector<std::string> columns;  // distinct, in order of first use
};

// Parses `text` (the grammar in algorithms/filter.h): syntax only, with
// literal-only comparisons folded and every comparison's column on its left.
// INVALID_ARGUMENT "filter: <what> at position N" on an error.
absl::StatusOr<ParsedFilter> ParseFilter(std::string_view text);

}  // namespace spoor::filter_internal

#endif  // SPOOR_ALGORITHMS_INTERNAL_FILTER_PARSER_H_
