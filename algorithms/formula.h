// R model formulas: the subset epidemiologists use, parsed as R's terms()
// would read it.
//
//   y ~ a + b                  main effects
//   y ~ factor(x)              x as a factor (levels sorted as R sorts them)
//   y ~ a:b, y ~ a*b           interaction; a*b expands to a + b + a:b
//   y ~ a + offset(log(t))     an offset: offset(v) or offset(log(v))
//   y ~ a - 1, y ~ 0 + a       no intercept
//   Surv(time, event) ~ a      survival response (Cox, KM)
//   y ~ a + strata(g)          stratification (Cox)
//
// Variable names may contain letters, digits, '.' and '_' ("ph.ecog").
// Errors are INVALID_ARGUMENT naming the 1-based character position and what
// was expected: "formula: at 7: expected a variable name after '+'".
#ifndef SPOOR_ALGORITHMS_FORMULA_H_
#define SPOOR_ALGORITHMS_FORMULA_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace spoor {

// One factor of a term: a variable, optionally wrapped in factor().
struct TermFactor {
  std::string variable;
  bool as_factor = false;  // written factor(x)
  // R's label for this factor in term names: "x" or "factor(x)".
  std::string Label() const { return as_factor ? "factor(" + variable + ")" : variable; }
  bool operator==(const TermFactor&) const = default;
};

// A term: one factor (main effect) or several (interaction a:b), in the
// order R keeps them.
struct Term {
  std::vector<TermFactor> factors;
  // R's term label: "age", "factor(stage)", "age:sex".
  std::string Label() const;
  bool operator==(const Term&) const = default;
};

struct Offset {
  std::string variable;
  bool log = false;  // offset(log(v))
};

struct Formula {
  // Plain response ("y"), or empty when `survival` is set.
  std::string response;
  struct Survival {
    std::string time;
    std::string event;
  };
  std::optional<Survival> survival;
  bool intercept = true;
  // Terms in R's order: by degree (main effects first), then as written.
  std::vector<Term> terms;
  std::vector<Offset> offsets;
  std::vector<std::string> strata;  // strata(g) variables
  // Every variable the formula names (response, terms, offsets, strata), in
  // first-appearance order, without repeats: the complete-case set.
  std::vector<std::string> Variables() const;
};

absl::StatusOr<Formula> ParseFormula(std::string_view text);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_FORMULA_H_
