#include "algorithms/filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "algorithms/internal/filter_parser.h"
#include "common/status.h"

// Two passes, so that a type error is found before any row is read and a
// million-row frame is walked once per comparison, not once per tree node per
// row: Parse builds an immutable tree (operands normalised so that a
// comparison always has a column on its left); Select binds that tree to one
// frame's columns (a Step per node: column pointers, a literal resolved to a
// level code, a level-to-level map) and then evaluates each Step over all
// rows into a byte vector of tri-state values. The parser is in
// algorithms/internal/filter_parser.cc.

namespace spoor {
namespace {

using filter_internal::CompareOp;
using filter_internal::IsDigit;
using filter_internal::IsOrdering;
using filter_internal::kFalse;
using filter_internal::kNa;
using filter_internal::kTrue;
using filter_internal::Node;
using filter_internal::Operand;
using filter_internal::OpText;
using filter_internal::Quote;
using filter_internal::Spell;
using filter_internal::WithComparison;

// ---- Binding to one frame ---------------------------------------------------

// A Node bound to a frame's columns, ready to evaluate over all rows.
struct Step {
  enum class Kind {
    kConstant,
    kAnd,
    kOr,
    kNot,
    kIsNa,
    kNumberVsValue,   // a op value
    kNumberVsNumber,  // a op b
    kLevelVsCode,     // a == level (negated for !=)
    kLevelVsLevel,    // a == b by label (negated for !=)
    kNumberIn,        // a %in% values
    kLevelIn,         // a %in% levels
  };
  Kind kind = Kind::kConstant;
  uint8_t constant = kFalse;
  CompareOp op = CompareOp::kEq;
  bool negate = false;
  const Column* a = nullptr;
  const Column* b = nullptr;
  double value = 0;
  int32_t code = -1;            // kLevelVsCode: -1 if the level is absent here
  std::vector<int32_t> b_code;  // kLevelVsLevel: a's code -> b's code of that label, or -1
  std::vector<double> values;   // kNumberIn: sorted, distinct
  std::vector<uint8_t> member;  // kLevelIn: by a's code
  std::vector<Step> children;
};

std::string TypeName(const Column& column) {
  return column.type() == ColumnType::kNumeric ? "numeric" : "categorical";
}

absl::StatusOr<const Column*> FindColumn(const DataFrame& frame, const Operand& operand) {
  const Column* column = frame.Find(operand.value);
  if (column == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("filter: no variable '", operand.value, "' in this dataset"));
  }
  return column;
}

absl::Status OrderingOnCategorical(const Column& column, CompareOp op) {
  return absl::InvalidArgumentError(
      absl::StrCat("filter: '", column.name(), "' is categorical and '", OpText(op),
                   "' compares numbers only; use ==, != or %in% with quoted levels, such as ",
                   Spell(column.name()), " %in% c('a', 'b')"));
}

// "50" for the string '50': how a numeric literal in quotes should be written.
std::optional<std::string> AsNumberText(const std::string& text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return IsDigit(c) || c == '.' || c == '-' || c == 'e' || c == 'E';
  });
  if (!plain || std::none_of(text.begin(), text.end(), IsDigit)) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return text;
}

absl::Status NumericVersusString(const Column& column, const std::string& op,
                                 const Operand& literal) {
  if (std::optional<std::string> number = AsNumberText(literal.value)) {
    return absl::InvalidArgumentError(absl::StrCat("filter: '", column.name(),
                                                   "' is numeric; compare it with an unquoted "
                                                   "number such as ",
                                                   Spell(column.name()), " ", op, " ", *number));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("filter: '", column.name(),
                   "' is numeric; compare it with an unquoted number, not the string ",
                   Quote(literal.spelling)));
}

absl::Status CategoricalVersusNumber(const Column& column, const std::string& op,
                                     const Operand& literal) {
  return absl::InvalidArgumentError(absl::StrCat(
      "filter: '", column.name(), "' is categorical; compare it with a quoted level such as ",
      Spell(column.name()), " ", op, " '", literal.spelling, "'"));
}

int32_t FindLevel(const Column& column, const std::string& level) {
  const std::vector<std::string>& levels = column.levels();
  const auto it = std::find(levels.begin(), levels.end(), level);
  return it == levels.end() ? -1 : static_cast<int32_t>(it - levels.begin());
}

absl::StatusOr<Step> BindComparison(const Node& node, const DataFrame& frame) {
  Step step;
  SPOOR_ASSIGN_OR_RETURN(step.a, FindColumn(frame, node.column));
  const Column& a = *step.a;
  const bool a_numeric = a.type() == ColumnType::kNumeric;
  step.op = node.op;
  step.negate = node.op == CompareOp::kNe;
  if (!a_numeric && IsOrdering(node.op)) return OrderingOnCategorical(a, node.op);

  if (!node.right.is_literal()) {
    SPOOR_ASSIGN_OR_RETURN(step.b, FindColumn(frame, node.right));
    const Column& b = *step.b;
    if (a.type() != b.type()) {
      return absl::InvalidArgumentError(absl::StrCat("filter: cannot compare '", a.name(), "' (",
                                                     TypeName(a), ") with '", b.name(), "' (",
                                                     TypeName(b), ")"));
    }
    if (a_numeric) {
      step.kind = Step::Kind::kNumberVsNumber;
      return step;
    }
    // Codes index each column's own level list; match them by label.
    std::unordered_map<std::string_view, int32_t> b_codes;
    for (size_t i = 0; i < b.levels().size(); ++i) {
      b_codes.emplace(b.levels()[i], static_cast<int32_t>(i));
    }
    step.b_code.assign(a.levels().size(), -1);
    for (size_t i = 0; i < a.levels().size(); ++i) {
      const auto it = b_codes.find(a.levels()[i]);
      if (it != b_codes.end()) step.b_code[i] = it->second;
    }
    step.kind = Step::Kind::kLevelVsLevel;
    return step;
  }

  const Operand& literal = node.right;
  if (a_numeric) {
    if (!literal.is_numeric()) return NumericVersusString(a, OpText(node.op), literal);
    step.kind = Step::Kind::kNumberVsValue;
    step.value = literal.number;
    return step;
  }
  if (literal.is_numeric()) return CategoricalVersusNumber(a, OpText(node.op), literal);
  step.kind = Step::Kind::kLevelVsCode;
  step.code = FindLevel(a, literal.value);  // absent here: -1, which no row has
  return step;
}

absl::StatusOr<Step> BindIn(const Node& node, const DataFrame& frame) {
  Step step;
  SPOOR_ASSIGN_OR_RETURN(step.a, FindColumn(frame, node.column));
  const Column& a = *step.a;
  if (a.type() == ColumnType::kNumeric) {
    for (const Operand& element : node.list) {
      if (!element.is_numeric()) {
        return absl::InvalidArgumentError(
            absl::StrCat("filter: '", a.name(),
                         "' is numeric; list unquoted numbers after %in%, not the string ",
                         Quote(element.spelling)));
      }
      step.values.push_back(element.number);
    }
    std::sort(step.values.begin(), step.values.end());
    step.values.erase(std::unique(step.values.begin(), step.values.end()), step.values.end());
    step.kind = Step::Kind::kNumberIn;
    return step;
  }
  step.member.assign(a.levels().size(), kFalse);
  for (const Operand& element : node.list) {
    if (element.is_numeric()) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter: '", a.name(), "' is categorical; list quoted levels after %in%, ",
                       "such as '", element.spelling, "'"));
    }
    const int32_t code = FindLevel(a, element.value);
    if (code >= 0) step.member[code] = kTrue;
  }
  step.kind = Step::Kind::kLevelIn;
  return step;
}

absl::StatusOr<Step> Bind(const Node& node, const DataFrame& frame) {
  Step step;
  switch (node.kind) {
    case Node::Kind::kConstant:
      step.kind = Step::Kind::kConstant;
      step.constant = node.constant;
      return step;
    case Node::Kind::kAnd:
    case Node::Kind::kOr:
    case Node::Kind::kNot:
      step.kind = node.kind == Node::Kind::kAnd  ? Step::Kind::kAnd
                  : node.kind == Node::Kind::kOr ? Step::Kind::kOr
                                                 : Step::Kind::kNot;
      for (const auto& child : node.children) {
        SPOOR_ASSIGN_OR_RETURN(Step bound, Bind(*child, frame));
        step.children.push_back(std::move(bound));
      }
      return step;
    case Node::Kind::kIsNa: {
      step.kind = Step::Kind::kIsNa;
      SPOOR_ASSIGN_OR_RETURN(step.a, FindColumn(frame, node.column));
      return step;
    }
    case Node::Kind::kCompare:
      return BindComparison(node, frame);
    case Node::Kind::kIn:
      return BindIn(node, frame);
  }
  return absl::InternalError("filter: unknown node");
}

// ---- Evaluation over all rows -----------------------------------------------
//
// Each loop is branch-free per row so that the compiler can vectorise it.

template <typename Cmp>
void NumberVsValue(const double* x, double value, size_t n, uint8_t* out, Cmp cmp) {
  for (size_t i = 0; i < n; ++i) out[i] = std::isnan(x[i]) ? kNa : uint8_t{cmp(x[i], value)};
}

template <typename Cmp>
void NumberVsNumber(const double* x, const double* y, size_t n, uint8_t* out, Cmp cmp) {
  for (size_t i = 0; i < n; ++i) {
    out[i] = std::isnan(x[i]) || std::isnan(y[i]) ? kNa : uint8_t{cmp(x[i], y[i])};
  }
}

void NumberIn(const double* x, const std::vector<double>& values, size_t n, uint8_t* out) {
  if (values.size() <= 8) {
    for (size_t i = 0; i < n; ++i) {
      bool hit = false;
      for (double v : values) hit |= x[i] == v;  // NaN equals nothing: FALSE, as R's %in%
      out[i] = hit ? kTrue : kFalse;
    }
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    out[i] = !std::isnan(x[i]) && std::binary_search(values.begin(), values.end(), x[i]) ? kTrue
                                                                                         : kFalse;
  }
}

void Evaluate(const Step& step, size_t n, std::vector<uint8_t>& out) {
  out.resize(n);
  uint8_t* o = out.data();
  const double* x = step.a != nullptr ? step.a->numbers().data() : nullptr;
  const int32_t* c = step.a != nullptr ? step.a->codes().data() : nullptr;
  switch (step.kind) {
    case Step::Kind::kConstant:
      std::fill(out.begin(), out.end(), step.constant);
      return;
    case Step::Kind::kAnd:
    case Step::Kind::kOr: {
      Evaluate(step.children[0], n, out);
      std::vector<uint8_t> other;
      for (size_t k = 1; k < step.children.size(); ++k) {
        Evaluate(step.children[k], n, other);
        const uint8_t* r = other.data();
        if (step.kind == Step::Kind::kAnd) {
          // FALSE if either is FALSE, else NA if either is NA (NA = 2 > TRUE).
          for (size_t i = 0; i < n; ++i) {
            o[i] = (o[i] == kFalse || r[i] == kFalse) ? kFalse : std::max(o[i], r[i]);
          }
        } else {
          // TRUE if either is TRUE, else NA if either is NA (both in {0, 2}).
          for (size_t i = 0; i < n; ++i) {
            o[i] = (o[i] == kTrue || r[i] == kTrue) ? kTrue : uint8_t(o[i] | r[i]);
          }
        }
      }
      return;
    }
    case Step::Kind::kNot:
      Evaluate(step.children[0], n, out);
      for (size_t i = 0; i < n; ++i) o[i] = o[i] == kNa ? kNa : uint8_t(o[i] ^ 1);
      return;
    case Step::Kind::kIsNa:
      if (step.a->type() == ColumnType::kNumeric) {
        for (size_t i = 0; i < n; ++i) o[i] = std::isnan(x[i]) ? kTrue : kFalse;
      } else {
        for (size_t i = 0; i < n; ++i) o[i] = c[i] < 0 ? kTrue : kFalse;
      }
      return;
    case Step::Kind::kNumberVsValue:
      WithComparison(step.op, [&](auto cmp) { NumberVsValue(x, step.value, n, o, cmp); });
      return;
    case Step::Kind::kNumberVsNumber: {
      const double* y = step.b->numbers().data();
      WithComparison(step.op, [&](auto cmp) { NumberVsNumber(x, y, n, o, cmp); });
      return;
    }
    case Step::Kind::kLevelVsCode: {
      const int32_t code = step.code;
      const bool negate = step.negate;
      for (size_t i = 0; i < n; ++i) o[i] = c[i] < 0 ? kNa : uint8_t{(c[i] == code) != negate};
      return;
    }
    case Step::Kind::kLevelVsLevel: {
      const int32_t* d = step.b->codes().data();
      const int32_t* map = step.b_code.data();
      const bool negate = step.negate;
      for (size_t i = 0; i < n; ++i) {
        o[i] = c[i] < 0 || d[i] < 0 ? kNa : uint8_t{(map[c[i]] == d[i]) != negate};
      }
      return;
    }
    case Step::Kind::kNumberIn:
      NumberIn(x, step.values, n, o);
      return;
    case Step::Kind::kLevelIn: {
      // A missing code (-1) wraps to a huge index: FALSE, as R's %in%.
      const uint8_t* member = step.member.data();
      const size_t levels = step.member.size();
      for (size_t i = 0; i < n; ++i) {
        const auto code = static_cast<uint32_t>(c[i]);
        o[i] = code < levels ? member[code] : kFalse;
      }
      return;
    }
  }
}

}  // namespace

RowFilter::RowFilter(std::string text, std::vector<std::string> columns,
                     std::shared_ptr<const Node> root)
    : text_(std::move(text)), columns_(std::move(columns)), root_(std::move(root)) {}

absl::StatusOr<RowFilter> RowFilter::Parse(std::string_view text) {
  SPOOR_ASSIGN_OR_RETURN(filter_internal::ParsedFilter parsed, filter_internal::ParseFilter(text));
  return RowFilter(std::string(text), std::move(parsed.columns), std::move(parsed.root));
}

absl::StatusOr<std::vector<size_t>> RowFilter::Select(const DataFrame& frame) const {
  if (root_ == nullptr) return absl::FailedPreconditionError("filter: RowFilter was moved from");
  SPOOR_ASSIGN_OR_RETURN(Step plan, Bind(*root_, frame));
  std::vector<uint8_t> truth;
  Evaluate(plan, frame.num_rows(), truth);
  std::vector<size_t> rows;
  rows.reserve(static_cast<size_t>(std::count(truth.begin(), truth.end(), kTrue)));
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] == kTrue) rows.push_back(i);
  }
  return rows;
}

}  // namespace spoor
