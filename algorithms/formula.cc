#include "algorithms/formula.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"

// The parser mirrors R's own two steps (src/library/stats/src/model.c):
// R's grammar builds an expression tree with R's operator precedence, then
// TermsForm/EncodeVars turns it into terms, each a set of "variables" (a name
// or a call such as factor(x), kept in order of first appearance). Following
// EncodeVars rather than a simpler grammar keeps every corner R users rely on:
// a*b*c, (a+b)^2, a*b - a, -1 anywhere, duplicate removal keeping the first,
// and R's factor order inside an interaction (variable order, so
// `y ~ a + b:a` has the term "a:b").

namespace spoor {
namespace {

enum class TokenKind { kName, kNumber, kOp, kEnd };

struct Token {
  TokenKind kind;
  std::string text;
  size_t pos;  // byte offset into the formula text
};

struct Node {
  enum class Kind { kName, kNumber, kCall, kUnary, kBinary, kParen };
  Kind kind;
  std::string text;  // name, number, function name or operator
  size_t pos;
  std::vector<std::unique_ptr<Node>> children;
};

using NodePtr = std::unique_ptr<Node>;

NodePtr MakeNode(Node::Kind kind, std::string text, size_t pos) {
  auto node = std::make_unique<Node>();
  node->kind = kind;
  node->text = std::move(text);
  node->pos = pos;
  return node;
}

bool IsNameStart(unsigned char c) {
  // Bytes >= 0x80 are parts of UTF-8 letters, which R accepts in names.
  return std::isalpha(c) || c == '.' || c >= 0x80;
}
bool IsNameChar(unsigned char c) { return IsNameStart(c) || std::isdigit(c) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Describe(const Token& token) {
  return token.kind == TokenKind::kEnd ? std::string("the end of the formula")
                                       : absl::StrCat("'", token.text, "'");
}

// A variable in R's sense: the deparsed expression is its identity ("x" and
// "factor(x)" are different variables).
struct Variable {
  enum class Kind { kTermFactor, kOffset, kStrata };
  Kind kind;
  std::string key;  // R's deparsed expression, e.g. "offset(log(t))"
  size_t pos;       // where it first appears
  TermFactor factor;
  Offset offset;
  std::vector<std::string> strata;
};

// A term: the sorted indices of its variables (R's bit set).
using Bits = std::vector<int>;
using TermList = std::vector<Bits>;

// R's TrimRepeats: drop later duplicates, keep the first.
TermList TrimRepeats(TermList terms) {
  TermList out;
  for (Bits& t : terms) {
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
  }
  return out;
}

Bits OrBits(const Bits& a, const Bits& b) {
  Bits out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

TermList Product(const TermList& left, const TermList& right) {
  TermList out;
  for (const Bits& l : left)
    for (const Bits& r : right) out.push_back(OrBits(l, r));
  return TrimRepeats(std::move(out));
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<Formula> Parse() {
    SPOOR_RETURN_IF_ERROR(Tokenize());
    if (tokens_.front().kind == TokenKind::kEnd) return Error(0, "empty formula");
    if (Is("~")) {
      return Error(Peek().pos, "expected a response variable or Surv(time, event) before '~'");
    }
    SPOOR_ASSIGN_OR_RETURN(NodePtr lhs, ParseSum());
    if (!Is("~")) {
      return Error(Peek().pos,
                   absl::StrCat("expected '~' after the response, found ", Describe(Peek())));
    }
    Advance();
    SPOOR_ASSIGN_OR_RETURN(NodePtr rhs, ParseSum());
    if (Peek().kind != TokenKind::kEnd) {
      if (Is(")")) return Error(Peek().pos, "unmatched ')'");
      if (Is("~")) return Error(Peek().pos, "a formula has one '~'");
      if (Is(",")) return Error(Peek().pos, "unexpected ',' outside a function call");
      return Error(Peek().pos, absl::StrCat("expected '+', '-', '*', ':' or the end of the "
                                            "formula, found ",
                                            Describe(Peek())));
    }

    Formula formula;
    SPOOR_RETURN_IF_ERROR(SetResponse(*lhs, formula));
    SPOOR_ASSIGN_OR_RETURN(TermList terms, Encode(*rhs));
    SPOOR_RETURN_IF_ERROR(Finish(std::move(terms), formula));
    return formula;
  }

 private:
  // ---- Errors -------------------------------------------------------------

  absl::Status Error(size_t byte_pos, std::string_view message) const {
    // Positions count characters, not bytes, so a UTF-8 name before the
    // error does not shift the caret.
    size_t chars = 0;
    for (size_t i = 0; i < byte_pos && i < text_.size(); ++i) {
      if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++chars;
    }
    return absl::InvalidArgumentError(
        absl::StrCat("formula: at ", chars + 1, ": ", std::string(message)));
  }

  // ---- Tokens -------------------------------------------------------------

  absl::Status Tokenize() {
    size_t i = 0;
    const size_t n = text_.size();
    while (i < n) {
      const char c = text_[i];
      const auto uc = static_cast<unsigned char>(c);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (IsDigit(c) || (c == '.' && i + 1 < n && IsDigit(text_[i + 1]))) {
        size_t start = i;
        while (i < n && IsDigit(text_[i])) ++i;
        if (i < n && text_[i] == '.') {
          ++i;
          while (i < n && IsDigit(text_[i])) ++i;
        }
        if (i + 1 < n && (text_[i] == 'e' || text_[i] == 'E')) {
          size_t j = i + 1;
          if (j < n && (text_[j] == '+' || text_[j] == '-')) ++j;
          if (j < n && IsDigit(text_[j])) {
            i = j;
            while (i < n && IsDigit(text_[i])) ++i;
          }
        }
        tokens_.push_back({TokenKind::kNumber, std::string(text_.substr(start, i - start)), start});
      } else if (IsNameStart(uc)) {
        size_t start = i;
        while (i < n && IsNameChar(static_cast<unsigned char>(text_[i]))) ++i;
        tokens_.push_back({TokenKind::kName, std::string(text_.substr(start, i - start)), start});
      } else if (std::string_view("~+-*:^(),").find(c) != std::string_view::npos) {
        tokens_.push_back({TokenKind::kOp, std::string(1, c), i});
        ++i;
      } else {
        return Error(i, UnexpectedCharacter(c));
      }
    }
    tokens_.push_back({TokenKind::kEnd, "", n});
    return absl::OkStatus();
  }

  static std::string UnexpectedCharacter(char c) {
    switch (c) {
      case '/':
        return "'/' (nesting) is not supported; write a + a:b instead of a/b";
      case '%':
        return "'%in%' is not supported; write a:b";
      case '|':
        return "'|' is not supported";
      case '`':
        return "backquoted names are not supported; use names of letters, digits, '.' and '_'";
      case '"':
      case '\'':
        return "quoted strings are not supported in a formula";
      default:
        break;
    }
    if (std::isprint(static_cast<unsigned char>(c))) {
      return absl::StrCat("unexpected character '", std::string(1, c), "'");
    }
    return "unexpected character";
  }

  const Token& Peek() const { return tokens_[index_]; }
  bool Is(std::string_view op) const { return Peek().kind == TokenKind::kOp && Peek().text == op; }
  const Token& Advance() {
    const Token& t = tokens_[index_];
    if (t.kind != TokenKind::kEnd) ++index_;
    return t;
  }
  std::string Previous() const { return index_ == 0 ? std::string() : tokens_[index_ - 1].text; }

  // ---- Grammar, with R's precedence (?Syntax): '^' > unary '-' '+' > ':' >
  // '*' > binary '+' '-' > '~'. ------------------------------------------

  absl::StatusOr<NodePtr> ParseSum() {
    SPOOR_ASSIGN_OR_RETURN(NodePtr left, ParseProduct());
    while (Is("+") || Is("-")) {
      const Token& op = Advance();
      SPOOR_ASSIGN_OR_RETURN(NodePtr right, ParseProduct());
      left = Binary(op, std::move(left), std::move(right));
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseProduct() {
    SPOOR_ASSIGN_OR_RETURN(NodePtr left, ParseInteraction());
    while (Is("*")) {
      const Token& op = Advance();
      SPOOR_ASSIGN_OR_RETURN(NodePtr right, ParseInteraction());
      left = Binary(op, std::move(left), std::move(right));
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseInteraction() {
    SPOOR_ASSIGN_OR_RETURN(NodePtr left, ParseUnary());
    while (Is(":")) {
      const Token& op = Advance();
      SPOOR_ASSIGN_OR_RETURN(NodePtr right, ParseUnary());
      left = Binary(op, std::move(left), std::move(right));
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseUnary() {
    if (Is("-") || Is("+")) {
      const Token& op = Advance();
      NodePtr node = MakeNode(Node::Kind::kUnary, op.text, op.pos);
      SPOOR_ASSIGN_OR_RETURN(NodePtr operand, ParseUnary());
      node->children.push_back(std::move(operand));
      return node;
    }
    SPOOR_ASSIGN_OR_RETURN(NodePtr base, ParsePrimary());
    if (Is("^")) {
      const Token& op = Advance();
      SPOOR_ASSIGN_OR_RETURN(NodePtr exponent, ParseUnary());  // right-associative
      return Binary(op, std::move(base), std::move(exponent));
    }
    return base;
  }

  absl::StatusOr<NodePtr> ParsePrimary() {
    const Token& token = Peek();
    if (token.kind == TokenKind::kNumber) {
      Advance();
      return MakeNode(Node::Kind::kNumber, token.text, token.pos);
    }
    if (token.kind == TokenKind::kName) {
      Advance();
      if (!Is("(")) return MakeNode(Node::Kind::kName, token.text, token.pos);
      static constexpr std::string_view kKnown[] = {"factor", "offset", "log", "strata", "Surv"};
      if (std::find(std::begin(kKnown), std::end(kKnown), token.text) == std::end(kKnown)) {
        return Error(token.pos, absl::StrCat("unknown function '", token.text,
                                             "'; use factor(), offset(), log() inside "
                                             "offset(), strata(), Surv()"));
      }
      NodePtr call = MakeNode(Node::Kind::kCall, token.text, token.pos);
      Advance();  // '('
      if (!Is(")")) {
        while (true) {
          SPOOR_ASSIGN_OR_RETURN(NodePtr arg, ParseSum());
          call->children.push_back(std::move(arg));
          if (!Is(",")) break;
          Advance();
        }
      }
      if (!Is(")")) {
        return Error(Peek().pos, absl::StrCat("expected ')' to close '", token.text, "(', found ",
                                              Describe(Peek())));
      }
      Advance();
      return call;
    }
    if (token.kind == TokenKind::kOp && token.text == "(") {
      Advance();
      NodePtr paren = MakeNode(Node::Kind::kParen, "(", token.pos);
      SPOOR_ASSIGN_OR_RETURN(NodePtr inner, ParseSum());
      if (!Is(")")) {
        return Error(Peek().pos, absl::StrCat("expected ')', found ", Describe(Peek())));
      }
      Advance();
      paren->children.push_back(std::move(inner));
      return paren;
    }
    std::string previous = Previous();
    if (previous.empty()) return Error(token.pos, "expected a variable name");
    return Error(token.pos, absl::StrCat("expected a variable name after '", previous, "', found ",
                                         Describe(token)));
  }

  static NodePtr Binary(const Token& op, NodePtr left, NodePtr right) {
    NodePtr node = MakeNode(Node::Kind::kBinary, op.text, op.pos);
    node->children.push_back(std::move(left));
    node->children.push_back(std::move(right));
    return node;
  }

  // ---- Response -----------------------------------------------------------

  absl::Status SetResponse(const Node& lhs, Formula& formula) {
    const Node* node = &lhs;
    while (node->kind == Node::Kind::kParen) node = node->children[0].get();
    if (node->kind == Node::Kind::kName) {
      SPOOR_RETURN_IF_ERROR(CheckName(*node));
      formula.response = node->text;
      response_key_ = node->text;
      return absl::OkStatus();
    }
    if (node->kind == Node::Kind::kCall && node->text == "Surv") {
      if (node->children.size() != 2) {
        return Error(node->pos, "Surv() takes two variables: Surv(time, event)");
      }
      for (const NodePtr& arg : node->children) {
        if (arg->kind != Node::Kind::kName) {
          return Error(arg->pos, "expected a variable name in Surv(time, event)");
        }
        SPOOR_RETURN_IF_ERROR(CheckName(*arg));
      }
      formula.survival = Formula::Survival{node->children[0]->text, node->children[1]->text};
      // Surv(...) is one variable to R, distinct from `time` on the right.
      response_key_ =
          absl::StrCat("Surv(", node->children[0]->text, ", ", node->children[1]->text, ")");
      return absl::OkStatus();
    }
    return Error(node->pos, "the response must be a variable name or Surv(time, event)");
  }

  absl::Status CheckName(const Node& node) const {
    if (node.text == ".") {
      return Error(node.pos, "'.' (all other variables) is not supported; list the variables");
    }
    return absl::OkStatus();
  }

  // ---- R's EncodeVars -----------------------------------------------------

  int Install(Variable variable) {
    for (size_t i = 0; i < variables_.size(); ++i) {
      if (variables_[i].key == variable.key) return static_cast<int>(i);
    }
    variables_.push_back(std::move(variable));
    return static_cast<int>(variables_.size() - 1);
  }

  absl::StatusOr<TermList> Encode(const Node& node) {
    switch (node.kind) {
      case Node::Kind::kName: {
        SPOOR_RETURN_IF_ERROR(CheckName(node));
        if (node.text == response_key_) {
          return Error(node.pos, absl::StrCat("the response '", node.text,
                                              "' also appears on the right of '~'"));
        }
        Variable v{Variable::Kind::kTermFactor, node.text, node.pos, {node.text, false}, {}, {}};
        return TermList{{Install(std::move(v))}};
      }
      case Node::Kind::kNumber: {
        const double value = std::strtod(node.text.c_str(), nullptr);
        // R's isOne/isZero; `parity` flips inside the right side of '-', so
        // `- 1` removes the intercept and `- 0` restores it.
        if (value == 1) {
          intercept_ = parity_;
        } else if (value == 0) {
          intercept_ = !parity_;
        } else {
          return Error(node.pos,
                       absl::StrCat("expected a variable name, 0 or 1, found '", node.text, "'"));
        }
        return TermList{};
      }
      case Node::Kind::kParen:
        return Encode(*node.children[0]);
      case Node::Kind::kCall:
        return EncodeCall(node);
      case Node::Kind::kUnary:
        if (node.text == "+") return Encode(*node.children[0]);
        return Delete(nullptr, *node.children[0]);
      case Node::Kind::kBinary:
        break;
    }
    const Node& left = *node.children[0];
    const Node& right = *node.children[1];
    if (node.text == "+") {
      SPOOR_ASSIGN_OR_RETURN(TermList l, Encode(left));
      SPOOR_ASSIGN_OR_RETURN(TermList r, Encode(right));
      l.insert(l.end(), r.begin(), r.end());
      return TrimRepeats(std::move(l));
    }
    if (node.text == "-") return Delete(&left, right);
    if (node.text == "^") {
      SPOOR_RETURN_IF_ERROR(NotANumber(left));
      const Node* e = &right;
      while (e->kind == Node::Kind::kParen) e = e->children[0].get();
      const double power =
          e->kind == Node::Kind::kNumber ? std::strtod(e->text.c_str(), nullptr) : 0;
      if (power < 2 || power != static_cast<int>(power) || power > 64) {
        return Error(right.pos, "expected a whole number of at least 2 after '^'");
      }
      SPOOR_ASSIGN_OR_RETURN(TermList base, Encode(left));
      // R's PowerTerms: repeated products include the lower orders because
      // OrBits(a, a) == a.
      TermList result = base;
      for (int i = 1; i < static_cast<int>(power); ++i) result = Product(base, result);
      return result;
    }
    // ':' and '*'.
    SPOOR_RETURN_IF_ERROR(NotANumber(left));
    SPOOR_RETURN_IF_ERROR(NotANumber(right));
    SPOOR_ASSIGN_OR_RETURN(TermList l, Encode(left));
    SPOOR_ASSIGN_OR_RETURN(TermList r, Encode(right));
    TermList product = Product(l, r);
    if (node.text == ":") return product;
    // R's CrossTerms: left, then right, then the products.
    l.insert(l.end(), r.begin(), r.end());
    l.insert(l.end(), product.begin(), product.end());
    return TrimRepeats(std::move(l));
  }

  // R would silently accept `a:1`; it almost certainly is a typo.
  absl::Status NotANumber(const Node& node) const {
    if (node.kind == Node::Kind::kNumber) {
      return Error(node.pos, absl::StrCat("'", node.text, "' cannot be part of an interaction"));
    }
    return absl::OkStatus();
  }

  // R's DeleteTerms.
  absl::StatusOr<TermList> Delete(const Node* left, const Node& right) {
    TermList l;
    if (left != nullptr) {
      SPOOR_ASSIGN_OR_RETURN(l, Encode(*left));
    }
    parity_ = !parity_;
    absl::StatusOr<TermList> r = Encode(right);
    parity_ = !parity_;
    if (!r.ok()) return r.status();
    for (const Bits& t : *r) l.erase(std::remove(l.begin(), l.end(), t), l.end());
    return l;
  }

  absl::StatusOr<TermList> EncodeCall(const Node& call) {
    auto single_name = [&](std::string_view usage) -> absl::StatusOr<const Node*> {
      if (call.children.size() != 1 || call.children[0]->kind != Node::Kind::kName) {
        return Error(call.children.empty() ? call.pos : call.children[0]->pos,
                     absl::StrCat("expected one variable name: ", std::string(usage)));
      }
      SPOOR_RETURN_IF_ERROR(CheckName(*call.children[0]));
      return call.children[0].get();
    };
    if (call.text == "factor") {
      SPOOR_ASSIGN_OR_RETURN(const Node* arg, single_name("factor(x)"));
      Variable v{Variable::Kind::kTermFactor,
                 absl::StrCat("factor(", arg->text, ")"),
                 call.pos,
                 {arg->text, true},
                 {},
                 {}};
      return TermList{{Install(std::move(v))}};
    }
    if (call.text == "offset") {
      const Node* arg = call.children.size() == 1 ? call.children[0].get() : nullptr;
      bool log = false;
      if (arg != nullptr && arg->kind == Node::Kind::kCall && arg->text == "log") {
        log = true;
        arg = arg->children.size() == 1 ? arg->children[0].get() : nullptr;
      }
      if (arg == nullptr || arg->kind != Node::Kind::kName) {
        return Error(call.pos,
                     "offset() takes a variable or log() of one: offset(t), "
                     "offset(log(t))");
      }
      SPOOR_RETURN_IF_ERROR(CheckName(*arg));
      std::string key = log ? absl::StrCat("offset(log(", arg->text, "))")
                            : absl::StrCat("offset(", arg->text, ")");
      Variable v{Variable::Kind::kOffset, std::move(key), call.pos, {}, {arg->text, log}, {}};
      return TermList{{Install(std::move(v))}};
    }
    if (call.text == "strata") {
      if (call.children.empty()) return Error(call.pos, "strata() needs a variable");
      std::vector<std::string> names;
      for (const NodePtr& arg : call.children) {
        if (arg->kind != Node::Kind::kName) {
          return Error(arg->pos, "expected a variable name in strata()");
        }
        SPOOR_RETURN_IF_ERROR(CheckName(*arg));
        names.push_back(arg->text);
      }
      Variable v{Variable::Kind::kStrata,
                 absl::StrCat("strata(", absl::StrJoin(names, ", "), ")"),
                 call.pos,
                 {},
                 {},
                 names};
      return TermList{{Install(std::move(v))}};
    }
    if (call.text == "Surv") return Error(call.pos, "Surv() belongs on the left of '~'");
    // log() outside offset().
    return Error(call.pos, "log() is only supported inside offset(): offset(log(t))");
  }

  // ---- R's TermsForm after EncodeVars -------------------------------------

  absl::Status Finish(TermList terms, Formula& formula) {
    // Step 3 of TermsForm: order by the number of variables, stable.
    std::stable_sort(terms.begin(), terms.end(),
                     [](const Bits& a, const Bits& b) { return a.size() < b.size(); });
    formula.intercept = intercept_;
    for (const Bits& bits : terms) {
      if (bits.empty()) continue;
      Term term;
      for (int index : bits) {
        const Variable& v = variables_[index];
        if (v.kind != Variable::Kind::kTermFactor && bits.size() > 1) {
          return Error(v.pos,
                       absl::StrCat(v.kind == Variable::Kind::kOffset ? "offset()" : "strata()",
                                    " cannot be part of an interaction"));
        }
        if (v.kind == Variable::Kind::kOffset) {
          formula.offsets.push_back(v.offset);
        } else if (v.kind == Variable::Kind::kStrata) {
          for (const std::string& s : v.strata) {
            if (std::find(formula.strata.begin(), formula.strata.end(), s) ==
                formula.strata.end()) {
              formula.strata.push_back(s);
            }
          }
        } else {
          term.factors.push_back(v.factor);
        }
      }
      if (!term.factors.empty()) formula.terms.push_back(std::move(term));
    }
    return absl::OkStatus();
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  std::vector<Variable> variables_;
  std::string response_key_;
  bool intercept_ = true;
  bool parity_ = true;
};

}  // namespace

std::string Term::Label() const {
  std::string label;
  for (const TermFactor& f : factors) {
    if (!label.empty()) label += ':';
    label += f.Label();
  }
  return label;
}

std::vector<std::string> Formula::Variables() const {
  std::vector<std::string> out;
  auto add = [&out](const std::string& name) {
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) {
      out.push_back(name);
    }
  };
  add(response);
  if (survival) {
    add(survival->time);
    add(survival->event);
  }
  for (const Term& t : terms)
    for (const TermFactor& f : t.factors) add(f.variable);
  for (const Offset& o : offsets) add(o.variable);
  for (const std::string& s : strata) add(s);
  return out;
}

absl::StatusOr<Formula> ParseFormula(std::string_view text) { return Parser(text).Parse(); }

}  // namespace spoor
