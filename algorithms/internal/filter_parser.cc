#include "algorithms/internal/filter_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "algorithms/filter.h"
#include "common/status.h"

namespace spoor::filter_internal {
namespace {

using NodePtr = std::unique_ptr<Node>;

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

}  // namespace

absl::StatusOr<ParsedFilter> ParseFilter(std::string_view text) {
  Parser parser(text);
  SPOOR_ASSIGN_OR_RETURN(NodePtr root, parser.Parse());
  return ParsedFilter{std::move(root), parser.TakeColumns()};
}

}  // namespace spoor::filter_internal
