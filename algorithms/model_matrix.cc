#include "algorithms/model_matrix.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "algorithms/r_levels.h"
#include "common/status.h"

// Column coding follows R's model.matrix.default and the C code behind it
// (src/library/stats/src/model.c):
//  - terms.formula's "factors" attribute (TermCode): a factor in a term is
//    coded by contrasts (1) when the term without that factor is empty or is
//    contained in an earlier term, and by indicators (2, every level)
//    otherwise; so `y ~ a:f` gets every level of f and `y ~ f + f:g` nests g
//    in f exactly as R does;
//  - modelmatrix(): without an intercept, the first factor of the first term
//    that has one is switched to indicators;
//  - columns of a term are the products of its factors' columns, the first
//    factor varying fastest, named "label" or "label" + level joined by ':';
//  - contr.treatment: the first level is the reference.

namespace spoor {
namespace {

constexpr int kNumeric = 0;
constexpr int kContrasts = 1;
constexpr int kIndicators = 2;

std::string RowsText(int64_t n) { return n == 1 ? "1 row is" : absl::StrCat(n, " rows are"); }

absl::Status CheckPresent(const Formula& formula, const DataFrame& frame) {
  for (const std::string& name : formula.Variables()) {
    if (frame.Find(name) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("dataset has no variable '", name, "'"));
    }
  }
  return absl::OkStatus();
}

// Rows complete in every variable the formula names (na.omit).
std::vector<size_t> CompleteRows(const Formula& formula, const DataFrame& frame) {
  std::vector<const Column*> columns;
  for (const std::string& name : formula.Variables()) columns.push_back(frame.Find(name));
  return spoor::CompleteRows(columns, frame.num_rows());
}

using IsFactorFn = std::function<bool(const TermFactor&)>;
using LevelsFn = std::function<const std::vector<std::string>&(const TermFactor&)>;

struct ColumnSpec {
  std::string name;
  int term = -1;           // -1: the intercept
  std::vector<int> level;  // per factor of the term: level index, -1 numeric
};

bool Contains(const Term& term, const TermFactor& factor) {
  return std::find(term.factors.begin(), term.factors.end(), factor) != term.factors.end();
}

// R's factor pattern (TermCode) with modelmatrix()'s no-intercept switch.
std::vector<std::vector<int>> Coding(const Formula& formula, const IsFactorFn& is_factor) {
  const std::vector<Term>& terms = formula.terms;
  std::vector<std::vector<int>> coding(terms.size());
  for (size_t j = 0; j < terms.size(); ++j) {
    const std::vector<TermFactor>& factors = terms[j].factors;
    for (size_t p = 0; p < factors.size(); ++p) {
      if (!is_factor(factors[p])) {
        coding[j].push_back(kNumeric);
        continue;
      }
      int code = factors.size() == 1 ? kContrasts : kIndicators;
      // Is the term without factor p inside an earlier term?
      for (size_t i = 0; i < j && code == kIndicators; ++i) {
        bool inside = true;
        for (size_t q = 0; q < factors.size(); ++q) {
          if (q != p && !Contains(terms[i], factors[q])) inside = false;
        }
        if (inside) code = kContrasts;
      }
      coding[j].push_back(code);
    }
  }
  if (!formula.intercept) {
    for (auto& term : coding) {
      auto it = std::find_if(term.begin(), term.end(), [](int c) { return c != kNumeric; });
      if (it != term.end()) {
        *it = kIndicators;
        break;
      }
    }
  }
  return coding;
}

std::vector<ColumnSpec> Columns(const Formula& formula, const IsFactorFn& is_factor,
                                const LevelsFn& levels_of) {
  std::vector<ColumnSpec> columns;
  if (formula.intercept) columns.push_back({"(Intercept)", -1, {}});
  const std::vector<std::vector<int>> coding = Coding(formula, is_factor);
  for (size_t j = 0; j < formula.terms.size(); ++j) {
    const std::vector<TermFactor>& factors = formula.terms[j].factors;
    // Per factor, the levels it contributes (or {-1} for a numeric one).
    std::vector<std::vector<int>> choices(factors.size());
    bool empty = false;
    for (size_t p = 0; p < factors.size(); ++p) {
      if (coding[j][p] == kNumeric) {
        choices[p] = {-1};
        continue;
      }
      const int k = static_cast<int>(levels_of(factors[p]).size());
      for (int l = coding[j][p] == kContrasts ? 1 : 0; l < k; ++l) choices[p].push_back(l);
      empty = empty || choices[p].empty();
    }
    if (empty) continue;
    // Odometer, first factor fastest (R's column order).
    std::vector<size_t> at(factors.size(), 0);
    while (true) {
      ColumnSpec spec;
      spec.term = static_cast<int>(j);
      for (size_t p = 0; p < factors.size(); ++p) {
        const int level = choices[p][at[p]];
        spec.level.push_back(level);
        if (p > 0) spec.name += ':';
        spec.name += factors[p].Label();
        if (level >= 0) spec.name += levels_of(factors[p])[level];
      }
      columns.push_back(std::move(spec));
      size_t p = 0;
      while (p < factors.size() && ++at[p] == choices[p].size()) at[p++] = 0;
      if (p == factors.size()) break;
    }
  }
  return columns;
}

// Survival status as R's Surv() reads it (r_levels.h), with the coding
// decided over the complete cases. R turns other codes into NA with a
// warning; here they are an error.
absl::Status FillEvent(const Column& column, const std::vector<size_t>& rows,
                       Eigen::VectorXd& event) {
  event.resize(static_cast<Eigen::Index>(rows.size()));
  const SurvEventCoding coding = ChooseSurvEventCoding(column, rows);
  int64_t bad = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int status = DecodeSurvEvent(column, rows[i], coding);
    if (status < 0) ++bad;
    event[static_cast<Eigen::Index>(i)] = status;
  }
  if (bad > 0) return absl::InvalidArgumentError(InvalidSurvEventMessage(column.name(), bad));
  return absl::OkStatus();
}

absl::Status RequireNumeric(const Column& column, std::string_view role) {
  if (column.type() == ColumnType::kNumeric) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(role), " '", column.name(), "' is categorical; it must be numeric"));
}

// Strata as per-row indices into sorted labels; several strata variables
// make one stratum per combination present (as survival's strata(a, b)).
void FillStrata(const Formula& formula, const DataFrame& frame, const std::vector<size_t>& rows,
                ModelMatrix& out) {
  if (formula.strata.empty()) return;
  const size_t k = formula.strata.size();
  std::vector<std::vector<std::string>> levels(k);
  std::vector<std::vector<int32_t>> index(k, std::vector<int32_t>(rows.size()));
  for (size_t s = 0; s < k; ++s) {
    const Column& column = *frame.Find(formula.strata[s]);
    levels[s] = PresentLevels(column, rows);
    absl::flat_hash_map<std::string, int32_t> position;
    for (size_t l = 0; l < levels[s].size(); ++l) position[levels[s][l]] = static_cast<int32_t>(l);
    for (size_t i = 0; i < rows.size(); ++i) index[s][i] = position[LevelText(column, rows[i])];
  }
  std::vector<std::vector<int32_t>> keys(rows.size(), std::vector<int32_t>(k));
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t s = 0; s < k; ++s) keys[i][s] = index[s][i];
  std::vector<std::vector<int32_t>> distinct = keys;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (const auto& key : distinct) {
    std::vector<std::string> parts;
    for (size_t s = 0; s < k; ++s) parts.push_back(levels[s][key[s]]);
    out.strata_levels.push_back(absl::StrJoin(parts, ", "));
  }
  out.strata.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    out.strata[i] = static_cast<int32_t>(
        std::lower_bound(distinct.begin(), distinct.end(), keys[i]) - distinct.begin());
  }
}

}  // namespace

absl::StatusOr<FactorLevels> LocalLevels(const Formula& formula, const DataFrame& frame) {
  SPOOR_RETURN_IF_ERROR(CheckPresent(formula, frame));
  const std::vector<size_t> rows = CompleteRows(formula, frame);
  FactorLevels out;
  for (const Term& term : formula.terms) {
    for (const TermFactor& f : term.factors) {
      const Column& column = *frame.Find(f.variable);
      if (!f.as_factor && column.type() != ColumnType::kCategorical) continue;
      if (out.count(f.variable) == 0) out[f.variable] = PresentLevels(column, rows);
    }
  }
  return out;
}

FactorLevels UnionLevels(const std::vector<FactorLevels>& per_node) {
  FactorLevels out;
  for (const FactorLevels& node : per_node) {
    for (const auto& [variable, levels] : node) {
      std::vector<std::string>& all = out[variable];
      all.insert(all.end(), levels.begin(), levels.end());
    }
  }
  for (auto& [variable, levels] : out) SortLevels(levels);
  return out;
}

absl::StatusOr<ModelMatrix> BuildModelMatrix(const Formula& formula, const DataFrame& frame,
                                             const FactorLevels& levels) {
  SPOOR_RETURN_IF_ERROR(CheckPresent(formula, frame));

  // Types first: they do not depend on the rows.
  if (!formula.response.empty()) {
    SPOOR_RETURN_IF_ERROR(RequireNumeric(*frame.Find(formula.response), "response"));
  }
  if (formula.survival) {
    SPOOR_RETURN_IF_ERROR(RequireNumeric(*frame.Find(formula.survival->time), "survival time"));
  }
  for (const Offset& o : formula.offsets) {
    SPOOR_RETURN_IF_ERROR(RequireNumeric(*frame.Find(o.variable), "offset"));
  }
  absl::flat_hash_set<std::string> wrapped, plain;
  for (const Term& term : formula.terms)
    for (const TermFactor& f : term.factors) (f.as_factor ? wrapped : plain).insert(f.variable);
  for (const std::string& v : wrapped) {
    if (plain.contains(v) && frame.Find(v)->type() == ColumnType::kCategorical) {
      // The two would be the same columns, and ModelColumnNames could not
      // tell them apart.
      return absl::InvalidArgumentError(absl::StrCat("categorical variable '", v,
                                                     "' appears both as ", v, " and as factor(", v,
                                                     "); use one of them"));
    }
  }
  auto is_factor = [&frame](const TermFactor& f) {
    return f.as_factor || frame.Find(f.variable)->type() == ColumnType::kCategorical;
  };

  const std::vector<size_t> rows = CompleteRows(formula, frame);
  const auto n = static_cast<Eigen::Index>(rows.size());
  ModelMatrix out;
  out.rows_dropped = static_cast<int64_t>(frame.num_rows() - rows.size());

  // Factor variables: each complete row's level index into `levels`.
  absl::flat_hash_map<std::string, std::vector<int32_t>> level_index;
  for (const Term& term : formula.terms) {
    for (const TermFactor& f : term.factors) {
      if (!is_factor(f) || level_index.contains(f.variable)) continue;
      auto it = levels.find(f.variable);
      if (it == levels.end()) {
        return absl::FailedPreconditionError(
            absl::StrCat("no factor levels were given for '", f.variable,
                         "'; it may be numeric at some nodes and categorical at others"));
      }
      if (it->second.size() < 2) {
        // R: "contrasts can be applied only to factors with 2 or more levels".
        return absl::InvalidArgumentError(absl::StrCat(
            "factor '", f.variable, "' has ", it->second.size(),
            it->second.size() == 1 ? " level" : " levels", "; a factor needs at least two"));
      }
      absl::flat_hash_map<std::string, int32_t> position;
      for (size_t l = 0; l < it->second.size(); ++l) {
        position.emplace(it->second[l], static_cast<int32_t>(l));
      }
      const Column& column = *frame.Find(f.variable);
      // Level text once per code (categorical) or per distinct value.
      std::vector<int32_t> by_code;
      if (column.type() == ColumnType::kCategorical) {
        for (const std::string& level : column.levels()) {
          auto p = position.find(level);
          by_code.push_back(p == position.end() ? -1 : p->second);
        }
      }
      absl::flat_hash_map<double, int32_t> by_value;
      std::vector<int32_t>& index = level_index[f.variable];
      index.resize(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        int32_t l;
        if (column.type() == ColumnType::kCategorical) {
          l = by_code[column.codes()[rows[i]]];
        } else {
          const double v = column.numbers()[rows[i]];
          auto [cached, inserted] = by_value.try_emplace(v, -1);
          if (inserted) {
            auto p = position.find(FormatRNumber(v));
            cached->second = p == position.end() ? -1 : p->second;
          }
          l = cached->second;
        }
        if (l < 0) {
          // The level itself is data; name only the variable.
          return absl::FailedPreconditionError(absl::StrCat(
              "variable '", f.variable,
              "' has a level that is not among the model's factor levels; the levels must be "
              "gathered from every node's data"));
        }
        index[i] = l;
      }
    }
  }

  auto levels_of = [&levels](const TermFactor& f) -> const std::vector<std::string>& {
    return levels.at(f.variable);
  };
  const std::vector<ColumnSpec> specs = Columns(formula, is_factor, levels_of);
  out.x.resize(n, static_cast<Eigen::Index>(specs.size()));
  for (size_t c = 0; c < specs.size(); ++c) {
    const ColumnSpec& spec = specs[c];
    out.column_names.push_back(spec.name);
    auto column = out.x.col(static_cast<Eigen::Index>(c));
    if (spec.term >= 0 && formula.terms[spec.term].factors.size() == 1 && spec.level[0] < 0) {
      // A numeric main effect, the common case: one gather.
      const std::vector<double>& values =
          frame.Find(formula.terms[spec.term].factors[0].variable)->numbers();
      for (Eigen::Index i = 0; i < n; ++i) column[i] = values[rows[i]];
      continue;
    }
    column.setOnes();
    if (spec.term < 0) continue;
    const std::vector<TermFactor>& factors = formula.terms[spec.term].factors;
    for (size_t p = 0; p < factors.size(); ++p) {
      if (spec.level[p] < 0) {
        const std::vector<double>& values = frame.Find(factors[p].variable)->numbers();
        for (Eigen::Index i = 0; i < n; ++i) column[i] *= values[rows[i]];
      } else {
        const std::vector<int32_t>& index = level_index.at(factors[p].variable);
        for (Eigen::Index i = 0; i < n; ++i) {
          if (index[i] != spec.level[p]) column[i] = 0;
        }
      }
    }
  }

  if (!formula.response.empty()) {
    const std::vector<double>& y = frame.Find(formula.response)->numbers();
    out.y.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) out.y[i] = y[rows[i]];
  }
  if (formula.survival) {
    const std::vector<double>& time = frame.Find(formula.survival->time)->numbers();
    out.time.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) out.time[i] = time[rows[i]];
    SPOOR_RETURN_IF_ERROR(FillEvent(*frame.Find(formula.survival->event), rows, out.event));
  }

  // R adds every offset term (model.offset sums them).
  out.offset = Eigen::VectorXd::Zero(n);
  for (const Offset& o : formula.offsets) {
    const std::vector<double>& values = frame.Find(o.variable)->numbers();
    if (o.log) {
      int64_t bad = 0;
      for (size_t r : rows) bad += values[r] <= 0;
      if (bad > 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "offset(log(", o.variable, ")) needs positive values; ", RowsText(bad), " not"));
      }
    }
    for (Eigen::Index i = 0; i < n; ++i) {
      const double v = values[rows[i]];
      out.offset[i] += o.log ? std::log(v) : v;
    }
  }

  FillStrata(formula, frame, rows, out);
  return out;
}

std::vector<std::string> ModelColumnNames(const Formula& formula, const FactorLevels& levels) {
  absl::flat_hash_set<std::string> wrapped;
  for (const Term& term : formula.terms)
    for (const TermFactor& f : term.factors)
      if (f.as_factor) wrapped.insert(f.variable);
  // A plain x next to factor(x) is the numeric x: BuildModelMatrix rejects
  // a categorical variable used both ways.
  auto is_factor = [&](const TermFactor& f) {
    return f.as_factor || (levels.count(f.variable) > 0 && !wrapped.contains(f.variable));
  };
  static const std::vector<std::string> kNone;
  auto levels_of = [&levels](const TermFactor& f) -> const std::vector<std::string>& {
    auto it = levels.find(f.variable);
    return it == levels.end() ? kNone : it->second;
  };
  std::vector<std::string> names;
  for (ColumnSpec& spec : Columns(formula, is_factor, levels_of)) {
    names.push_back(std::move(spec.name));
  }
  return names;
}

}  // namespace spoor
