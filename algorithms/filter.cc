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
#include "common/status.h"

// Two passes, so that a type error is found before any row is read and a
// million-row frame is walked once per comparison, not once per tree node per
// row: Parse builds an immutable tree (operands normalised so that a
// comparison always has a column on its left); Select binds that tree to one
// frame's columns (a Step per node: column pointers, a literal resolved to a
// level code, a level-to-level map) and then evaluates each Step over all
// rows into a byte vector of tri-state values.

namespace spoor {
namespace filter_internal {

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

}  // namespace filter_internal

namespace {

using filter_internal::CompareOp;
using filter_internal::kFalse;
using filter_internal::kNa;
using filter_internal::kTrue;
using filter_internal::Node;
using filter_internal::Operand;
using NodePtr = std::unique_ptr<Node>;

// ---- Small helpers shared by parsing and binding ----------------------------

std::string OpText(CompareOp op) {
  static constexpr std::string_view kText[] = {"==", "!=", "<", "<=", ">", ">="};
  return std::string(kText[static_cast<int>(op)]);
}

bool IsOrdering(CompareOp op) { return op != CompareOp::kEq && op != CompareOp::kNe; }

// `a op b` is `b Mirror(op) a`.
CompareOp Mirror(CompareOp op) {
  static constexpr CompareOp kMirror[] = {CompareOp::kEq, CompareOp::kNe, CompareOp::kGt,
                                          CompareOp::kGe, CompareOp::kLt, CompareOp::kLe};
  return kMirror[static_cast<int>(op)];
}

// Calls fn with the C++ comparison for `op`, so that each loop over rows is
// instantiated with its comparison inlined.
template <typename Fn>
void WithComparison(CompareOp op, Fn&& fn) {
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

bool Compare(CompareOp op, double a, double b) {
  bool result = false;
  WithComparison(op, [&](auto cmp) { result = cmp(a, b); });
  return result;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(unsigned char c) {
  // Bytes >= 0x80 are parts of UTF-8 letters, which R accepts in names.
  return std::isalpha(c) || c == '.' || c == '_' || c >= 0x80;
}
bool IsNameChar(unsigned char c) { return IsNameStart(c) || IsDigit(static_cast<char>(c)); }

bool IsReservedWord(std::string_view name) {
  return name == "TRUE" || name == "FALSE" || name == "NA" || name == "in" || name == "is.na";
}

// How to write column `name` in an expression: bare if it is a valid
// identifier, else backquoted.
std::string Spell(const std::string& name) {
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
std::string Quote(std::string_view spelling) {
  constexpr size_t kMax = 40;
  const bool quoted = !spelling.empty() && (spelling[0] == '\'' || spelling[0] == '"');
  const std::string mark = quoted ? "" : "'";
  if (spelling.size() <= kMax) return absl::StrCat(mark, std::string(spelling), mark);
  const std::string end = quoted ? std::string(1, spelling[0]) : mark;
  return absl::StrCat(mark, std::string(spelling.substr(0, kMax)), "...", end);
}

// ---- Parsing ----------------------------------------------------------------

enum class TokenKind { kName, kNumber, kString, kOp, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string value;     // name, string content or operator
  std::string spelling;  // exactly as written
  double number = 0;     // kNumber
  size_t pos = 0;        // byte offset into the text
  bool backquoted = false;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<NodePtr> Parse() {
    if (text_.size() > RowFilter::kMaxTextBytes) {
      return absl::InvalidArgumentError(absl::StrCat("filter: the expression is ", text_.size(),
                                                     " bytes; the limit is ",
                                                     RowFilter::kMaxTextBytes));
    }
    SPOOR_RETURN_IF_ERROR(Tokenize());
    if (Peek().kind == TokenKind::kEnd) return Error(Peek().pos, "empty expression");
    SPOOR_ASSIGN_OR_RETURN(NodePtr root, ParseOr());
    if (Peek().kind != TokenKind::kEnd) return Trailing();
    return root;
  }

  std::vector<std::string> TakeColumns() { return std::move(columns_); }

 private:
  // ---- Errors ---------------------------------------------------------------

  absl::Status Error(size_t byte_pos, const std::string& what, const std::string& hint = "") const {
    // Positions count characters, not bytes, so that a UTF-8 name before the
    // error does not shift the caret.
    size_t chars = 0;
    for (size_t i = 0; i < byte_pos && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++chars;
    }
    std::string message = absl::StrCat("filter: ", what, " at position ", chars + 1);
    if (!hint.empty()) absl::StrAppend(&message, "; ", hint);
    return absl::InvalidArgumentError(message);
  }

  static std::string Describe(const Token& token) {
    return token.kind == TokenKind::kEnd ? std::string("the end of the expression")
                                         : Quote(token.spelling);
  }

  // ---- Tokens ---------------------------------------------------------------

  absl::Status Tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (StartsNumber(i)) {
        SPOOR_RETURN_IF_ERROR(LexNumber(i));
      } else if (IsNameStart(static_cast<unsigned char>(c))) {
        const size_t start = i;
        while (i < text_.size() && IsNameChar(static_cast<unsigned char>(text_[i]))) ++i;
        Push(TokenKind::kName, std::string(text_.substr(start, i - start)), start, i);
      } else if (c == '\'' || c == '"' || c == '`') {
        SPOOR_RETURN_IF_ERROR(LexQuoted(i));
      } else {
        SPOOR_RETURN_IF_ERROR(LexOperator(i));
      }
    }
    Push(TokenKind::kEnd, "", text_.size(), text_.size());
    return absl::OkStatus();
  }

  void Push(TokenKind kind, std::string value, size_t start, size_t end) {
    Token token;
    token.kind = kind;
    token.value = std::move(value);
    token.spelling = std::string(text_.substr(start, end - start));
    token.pos = start;
    tokens_.push_back(std::move(token));
  }

  bool DigitAt(size_t i) const { return i < text_.size() && IsDigit(text_[i]); }

  // A number starts with a digit, or '.' then a digit, after an optional sign.
  // There is no arithmetic, so a sign before a digit is always part of it.
  bool StartsNumber(size_t i) const {
    if (text_[i] == '-' || text_[i] == '+') ++i;
    return DigitAt(i) || (i < text_.size() && text_[i] == '.' && DigitAt(i + 1));
  }

  absl::Status LexNumber(size_t& i) {
    const size_t start = i;
    size_t j = i;
    if (text_[j] == '-' || text_[j] == '+') ++j;
    while (DigitAt(j)) ++j;
    if (j < text_.size() && text_[j] == '.') {
      ++j;
      while (DigitAt(j)) ++j;
    }
    if (j < text_.size() && (text_[j] == 'e' || text_[j] == 'E')) {
      size_t k = j + 1;
      if (k < text_.size() && (text_[k] == '+' || text_[k] == '-')) ++k;
      if (DigitAt(k)) {
        j = k;
        while (DigitAt(j)) ++j;
      }
    }
    // "12abc", "1e", "1.2.3", "1L": R reads none of these as a plain number.
    if (j < text_.size() && IsNameChar(static_cast<unsigned char>(text_[j]))) {
      while (j < text_.size() && IsNameChar(static_cast<unsigned char>(text_[j]))) ++j;
      return Error(start, absl::StrCat("malformed number ", Quote(text_.substr(start, j - start))));
    }
    const char* first = text_.data() + start + (text_[start] == '+' ? 1 : 0);
    const char* last = text_.data() + j;
    double value = 0;
    const auto [end, ec] = std::from_chars(first, last, value);
    if (ec == std::errc::result_out_of_range) {
      return Error(start, absl::StrCat("number ", Quote(text_.substr(start, j - start)),
                                       " is out of range"));
    }
    if (ec != std::errc() || end != last) {
      return Error(start, absl::StrCat("malformed number ", Quote(text_.substr(start, j - start))));
    }
    Push(TokenKind::kNumber, "", start, j);
    tokens_.back().number = value;
    i = j;
    return absl::OkStatus();
  }

  // A string in ' or ", or a name in `, with backslash escapes of the quote
  // characters and of backslash only.
  absl::Status LexQuoted(size_t& i) {
    const size_t start = i;
    const char quote = text_[i];
    const bool name = quote == '`';
    std::string value;
    ++i;
    while (true) {
      if (i >= text_.size() || (text_[i] == '\\' && i + 1 >= text_.size())) {
        return Error(start, name ? "unterminated backquoted name" : "unterminated string");
      }
      const char c = text_[i];
      if (c == quote) break;
      if (c == '\\') {
        const char e = text_[i + 1];
        const bool known = e == '\\' || e == quote || (!name && (e == '\'' || e == '"'));
        if (!known) {
          std::string what = std::isprint(static_cast<unsigned char>(e))
                                 ? absl::StrCat("unknown escape '\\", std::string(1, e), "'")
                                 : std::string("unknown escape");
          return Error(i, what,
                       name ? "only \\` and \\\\ are allowed in a backquoted name"
                            : "only \\', \\\" and \\\\ are allowed in a string");
        }
        value += e;
        i += 2;
        continue;
      }
      value += c;
      ++i;
    }
    ++i;  // the closing quote
    if (name && value.empty()) return Error(start, "empty backquoted name");
    Push(name ? TokenKind::kName : TokenKind::kString, std::move(value), start, i);
    tokens_.back().backquoted = name;
    return absl::OkStatus();
  }

  absl::Status LexOperator(size_t& i) {
    const char c = text_[i];
    const char next = i + 1 < text_.size() ? text_[i + 1] : '\0';
    auto emit = [&](std::string_view op) {
      Push(TokenKind::kOp, std::string(op), i, i + op.size());
      i += op.size();
      return absl::OkStatus();
    };
    switch (c) {
      case '(':
        return emit("(");
      case ')':
        return emit(")");
      case ',':
        return emit(",");
      case '!':
        return emit(next == '=' ? "!=" : "!");
      case '>':
        return emit(next == '=' ? ">=" : ">");
      case '&':
        return emit(next == '&' ? "&&" : "&");
      case '|':
        return emit(next == '|' ? "||" : "|");
      case '<':
        if (next == '-') {
          return Error(i, "unknown operator '<-'",
                       "assignment is not supported; to compare with a negative number put a "
                       "space after '<'");
        }
        return emit(next == '=' ? "<=" : "<");
      case '=':
        if (next == '=') return emit("==");
        if (next == '<' || next == '>') {
          return Error(i, "unknown operator '='",
                       absl::StrCat("use '", std::string(1, next), "=' for ordering"));
        }
        return Error(i, "unknown operator '='", "use '==' for equality");
      case '%': {
        if (text_.substr(i, 4) == "%in%") return emit("%in%");
        // Echo a short %op% back; otherwise just the '%'.
        const size_t close = text_.find('%', i + 1);
        const std::string_view shown =
            close != std::string_view::npos && close - i < 16 &&
                    std::all_of(text_.begin() + i, text_.begin() + close + 1,
                                [](char x) { return std::isprint(static_cast<unsigned char>(x)); })
                ? text_.substr(i, close + 1 - i)
                : text_.substr(i, 1);
        const std::string op(shown);
        return Error(i, absl::StrCat("unknown operator '", op, "'"), "the only %-operator is %in%");
      }
      case '+':
      case '-':
      case '*':
      case '/':
      case '^':
        return Error(i, absl::StrCat("unknown operator '", std::string(1, c), "'"),
                     "arithmetic is not supported");
      default:
        break;
    }
    if (std::isprint(static_cast<unsigned char>(c))) {
      return Error(i, absl::StrCat("unexpected character '", std::string(1, c), "'"));
    }
    return Error(i, "unexpected character");
  }

  // ---- Token access -----------------------------------------------------------

  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(index_ + ahead, tokens_.size() - 1)];
  }
  const Token& Advance() {
    const Token& token = tokens_[index_];
    if (token.kind != TokenKind::kEnd) ++index_;
    return token;
  }
  bool IsOp(std::string_view op, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kOp && Peek(ahead).value == op;
  }
  // A reserved word, as opposed to a backquoted column of the same name.
  bool IsWord(std::string_view word, size_t ahead = 0) const {
    const Token& token = Peek(ahead);
    return token.kind == TokenKind::kName && !token.backquoted && token.value == word;
  }
  bool IsIn() const { return IsOp("%in%") || IsWord("in"); }
  bool IsComparison(CompareOp& op) const {
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"==", CompareOp::kEq}, {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
        {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
    for (const auto& [text, value] : kOps) {
      if (IsOp(text)) {
        op = value;
        return true;
      }
    }
    return false;
  }

  // ---- Grammar ----------------------------------------------------------------

  absl::Status Trailing() const {
    const Token& token = Peek();
    if (IsOp(")")) return Error(token.pos, "unmatched ')'");
    CompareOp op = CompareOp::kEq;
    if (IsComparison(op) || IsIn()) {
      return Error(token.pos, absl::StrCat("unexpected ", Describe(token)),
                   "comparisons do not chain; join them with && or ||");
    }
    return Error(token.pos, absl::StrCat("expected '&&', '||' or the end of the expression, found ",
                                         Describe(token)));
  }

  absl::Status Enter(size_t pos) {
    if (++depth_ > RowFilter::kMaxDepth) {
      return Error(
          pos, absl::StrCat("expression nested more than ", RowFilter::kMaxDepth, " levels deep"));
    }
    return absl::OkStatus();
  }

  // or := and (('||' | '|') and)*, and likewise for and; kept n-ary so that
  // a long chain is a flat node, not a deep tree.
  absl::StatusOr<NodePtr> ParseOr() { return ParseChain(Node::Kind::kOr, "||", "|"); }
  absl::StatusOr<NodePtr> ParseAnd() { return ParseChain(Node::Kind::kAnd, "&&", "&"); }

  absl::StatusOr<NodePtr> ParseChain(Node::Kind kind, std::string_view op, std::string_view op2) {
    auto operand = [&]() { return kind == Node::Kind::kOr ? ParseAnd() : ParseNot(); };
    SPOOR_ASSIGN_OR_RETURN(NodePtr first, operand());
    if (!IsOp(op) && !IsOp(op2)) return first;
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->children.push_back(std::move(first));
    while (IsOp(op) || IsOp(op2)) {
      Advance();
      SPOOR_ASSIGN_OR_RETURN(NodePtr next, operand());
      node->children.push_back(std::move(next));
    }
    return node;
  }

  absl::StatusOr<NodePtr> ParseNot() {
    if (!IsOp("!")) return ParsePrimary();
    SPOOR_RETURN_IF_ERROR(Enter(Advance().pos));
    SPOOR_ASSIGN_OR_RETURN(NodePtr operand, ParseNot());
    --depth_;
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kNot;
    node->children.push_back(std::move(operand));
    return node;
  }

  absl::StatusOr<NodePtr> ParsePrimary() {
    if (IsOp("(")) {
      SPOOR_RETURN_IF_ERROR(Enter(Advance().pos));
      SPOOR_ASSIGN_OR_RETURN(NodePtr inner, ParseOr());
      if (!IsOp(")")) return Error(Peek().pos, "expected ')'");
      Advance();
      --depth_;
      return inner;
    }
    if (IsWord("is.na")) return ParseIsNa();
    const Token& start = Peek();
    SPOOR_ASSIGN_OR_RETURN(std::optional<Operand> left, ParseOperand());
    if (!left) {
      return Error(start.pos, absl::StrCat("expected a condition, found ", Describe(start)));
    }
    CompareOp op = CompareOp::kEq;
    if (IsComparison(op)) {
      const Token& op_token = Advance();
      const Token& next = Peek();
      SPOOR_ASSIGN_OR_RETURN(std::optional<Operand> right, ParseOperand());
      if (!right) {
        return Error(next.pos, absl::StrCat("expected a column name or a value after ",
                                            Quote(op_token.spelling), ", found ", Describe(next)));
      }
      return MakeComparison(std::move(*left), op, std::move(*right), op_token.pos);
    }
    if (IsIn()) return ParseIn(std::move(*left));
    if (left->kind == Operand::Kind::kBool) return Constant(left->number != 0);
    return Error(Peek().pos,
                 absl::StrCat("expected a comparison after ", Quote(left->spelling), ", found ",
                              Describe(Peek())),
                 "use ==, !=, <, <=, >, >=, %in% or is.na()");
  }

  absl::StatusOr<NodePtr> ParseIsNa() {
    Advance();
    if (!IsOp("(")) {
      return Error(Peek().pos, absl::StrCat("expected '(' after is.na, found ", Describe(Peek())));
    }
    Advance();
    const Token& token = Peek();
    if (token.kind != TokenKind::kName || (!token.backquoted && IsReservedWord(token.value))) {
      return Error(token.pos,
                   absl::StrCat("expected a column name inside is.na(), found ", Describe(token)));
    }
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kIsNa;
    node->column = ColumnOperand(Advance());
    if (!IsOp(")")) return Error(Peek().pos, "expected ')'");
    Advance();
    return node;
  }

  // IN list, after `left`.
  absl::StatusOr<NodePtr> ParseIn(Operand left) {
    const Token& in = Advance();
    if (IsWord("c") && IsOp("(", 1)) Advance();
    if (!IsOp("(")) {
      return Error(Peek().pos, absl::StrCat("expected c(...) or (...) after ", Quote(in.spelling),
                                            ", found ", Describe(Peek())));
    }
    Advance();
    std::vector<Operand> list;
    while (true) {
      const Token& token = Peek();
      if (IsWord("NA")) {
        return Error(token.pos, "NA is not allowed in a %in% list",
                     "add || is.na(x) to keep missing values");
      }
      SPOOR_ASSIGN_OR_RETURN(std::optional<Operand> element, ParseOperand());
      if (!element || !element->is_literal()) {
        return Error(token.pos,
                     absl::StrCat("expected a quoted string, a number, TRUE or FALSE in the list, "
                                  "found ",
                                  Describe(token)));
      }
      list.push_back(std::move(*element));
      if (IsOp(",")) {
        Advance();
        continue;
      }
      if (IsOp(")")) {
        Advance();
        break;
      }
      return Error(Peek().pos,
                   absl::StrCat("expected ',' or ')' in the list, found ", Describe(Peek())));
    }
    if (left.is_literal()) {
      bool found = false;
      for (const Operand& element : list) {
        if (element.is_numeric() != left.is_numeric()) {
          return Error(in.pos, absl::StrCat("cannot look for ", Quote(left.spelling),
                                            " among values of another type such as ",
                                            Quote(element.spelling)));
        }
        found = found ||
                (left.is_numeric() ? left.number == element.number : left.value == element.value);
      }
      return Constant(found);
    }
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kIn;
    node->column = std::move(left);
    node->list = std::move(list);
    return node;
  }

  // An operand, or nullopt (consuming nothing) if the next token is not one.
  absl::StatusOr<std::optional<Operand>> ParseOperand() {
    const Token& token = Peek();
    Operand operand;
    operand.spelling = token.spelling;
    switch (token.kind) {
      case TokenKind::kNumber:
        operand.kind = Operand::Kind::kNumber;
        operand.number = token.number;
        break;
      case TokenKind::kString:
        operand.kind = Operand::Kind::kString;
        operand.value = token.value;
        break;
      case TokenKind::kName:
        if (token.backquoted || !IsReservedWord(token.value)) {
          Operand column = ColumnOperand(Advance());
          return std::optional<Operand>(std::move(column));
        }
        if (token.value == "NA") {
          return Error(token.pos, "NA is not a value to compare with",
                       "test for missing values with is.na(x) or !is.na(x)");
        }
        if (token.value != "TRUE" && token.value != "FALSE") return std::optional<Operand>();
        operand.kind = Operand::Kind::kBool;
        operand.number = token.value == "TRUE" ? 1 : 0;
        break;
      default:
        return std::optional<Operand>();
    }
    Advance();
    return std::optional<Operand>(std::move(operand));
  }

  Operand ColumnOperand(const Token& token) {
    if (std::find(columns_.begin(), columns_.end(), token.value) == columns_.end()) {
      columns_.push_back(token.value);
    }
    Operand operand;
    operand.kind = Operand::Kind::kColumn;
    operand.value = token.value;
    operand.spelling = token.spelling;
    return operand;
  }

  // A comparison with the column on the left; two literals fold to a constant.
  absl::StatusOr<NodePtr> MakeComparison(Operand left, CompareOp op, Operand right,
                                         size_t op_pos) const {
    if (left.is_literal() && right.is_literal()) {
      if (left.is_numeric() && right.is_numeric()) {
        return Constant(Compare(op, left.number, right.number));
      }
      if (left.is_numeric() || right.is_numeric()) {
        return Error(
            op_pos,
            absl::StrCat("cannot compare ", Quote(left.spelling), " with ", Quote(right.spelling)),
            "a string never equals a number");
      }
      if (IsOrdering(op)) {
        return Error(op_pos, absl::StrCat("'", OpText(op), "' cannot order strings"),
                     "strings compare with == and != only");
      }
      return Constant((left.value == right.value) == (op == CompareOp::kEq));
    }
    if (left.is_literal()) {
      std::swap(left, right);
      op = Mirror(op);
    }
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kCompare;
    node->column = std::move(left);
    node->op = op;
    node->right = std::move(right);
    return node;
  }

  static NodePtr Constant(bool value) {
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kConstant;
    node->constant = value ? kTrue : kFalse;
    return node;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  int depth_ = 0;
  std::vector<std::string> columns_;
};

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
  Parser parser(text);
  SPOOR_ASSIGN_OR_RETURN(NodePtr root, parser.Parse());
  return RowFilter(std::string(text), parser.TakeColumns(), std::move(root));
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
