#include "algorithms/harmonise.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "algorithms/csv_reader.h"
#include "common/status.h"

// Two steps, so that node.toml is checked without data and a dataset is then
// walked once per mapped column: MakePlans validates the mappings and turns
// each into a Plan (a resolved conversion factor, or a code table with its
// target levels already sorted); Harmonise checks the plans against the
// frame's columns and only then converts.

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- The unit table -------------------------------------------------------

enum class Dimension {
  kLength,
  kMass,
  kTemperature,
  kTime,
  kMassConcentration,
  kMolarConcentration,
};

const char* DimensionName(Dimension dimension) {
  static constexpr const char* kNames[] = {
      "length", "mass", "temperature", "time", "mass concentration", "molar concentration"};
  return kNames[static_cast<int>(dimension)];
}

// A unit is `numerator / denominator` of its dimension's base unit (m, kg,
// day, g/L, mol/L), both exact integers in a double, so that a conversion
// factor is a ratio of exact products rounded once. Temperatures are not
// proportional and use TemperatureToCelsius / CelsiusToTemperature instead.
struct Unit {
  std::string_view name;
  Dimension dimension;
  double numerator;
  double denominator;
};

// Sources:
// - SI Brochure, 9th ed. (BIPM 2019): prefixes (Table 7); the litre, L or l,
//   = 1 dm^3 and the day, d, = 86400 s (Table 8, non-SI units accepted for
//   use with the SI); T/K = t/°C + 273.15 (§2.3.1).
// - International yard and pound agreement (1959), as in NIST SP 811 (2008)
//   Appendix B: 1 in = 0.0254 m, 1 ft = 0.3048 m, 1 lb = 0.45359237 kg, all
//   exact; t/°C = (t/°F - 32)/1.8.
// - The Julian year, 365.25 d (IAU Style Manual, 1989), and a month of a
//   twelfth of it, 30.4375 d, as lubridate's dyears() and dmonths() use.
// - Amount concentration = mass concentration / molar mass (IUPAC Green
//   Book, 3rd ed., 2007, §2.10).
constexpr Unit kUnits[] = {
    {"m", Dimension::kLength, 1, 1},
    {"cm", Dimension::kLength, 1, 100},
    {"mm", Dimension::kLength, 1, 1000},
    {"in", Dimension::kLength, 254, 10000},
    {"ft", Dimension::kLength, 3048, 10000},
    {"kg", Dimension::kMass, 1, 1},
    {"g", Dimension::kMass, 1, 1000},
    {"mg", Dimension::kMass, 1, 1000000},
    {"lb", Dimension::kMass, 45359237, 100000000},
    {"C", Dimension::kTemperature, 1, 1},
    {"\u00b0C", Dimension::kTemperature, 1, 1},
    {"F", Dimension::kTemperature, 1, 1},
    {"\u00b0F", Dimension::kTemperature, 1, 1},
    {"K", Dimension::kTemperature, 1, 1},
    {"days", Dimension::kTime, 1, 1},
    {"d", Dimension::kTime, 1, 1},
    {"weeks", Dimension::kTime, 7, 1},
    {"wk", Dimension::kTime, 7, 1},
    {"months", Dimension::kTime, 487, 16},  // 30.4375 = 365.25 / 12
    {"mo", Dimension::kTime, 487, 16},
    {"years", Dimension::kTime, 1461, 4},  // 365.25
    {"y", Dimension::kTime, 1461, 4},
    {"yr", Dimension::kTime, 1461, 4},
    {"g/L", Dimension::kMassConcentration, 1, 1},
    {"g/dL", Dimension::kMassConcentration, 10, 1},
    {"mg/dL", Dimension::kMassConcentration, 1, 100},
    {"mg/L", Dimension::kMassConcentration, 1, 1000},
    {"ug/mL", Dimension::kMassConcentration, 1, 1000},
    {"\u00b5g/mL", Dimension::kMassConcentration, 1, 1000},  // micro sign
    {"\u03bcg/mL", Dimension::kMassConcentration, 1, 1000},  // Greek mu
    {"mol/L", Dimension::kMolarConcentration, 1, 1},
    {"mmol/L", Dimension::kMolarConcentration, 1, 1000},
    {"umol/L", Dimension::kMolarConcentration, 1, 1000000},
    {"\u00b5mol/L", Dimension::kMolarConcentration, 1, 1000000},
    {"\u03bcmol/L", Dimension::kMolarConcentration, 1, 1000000},
    {"nmol/L", Dimension::kMolarConcentration, 1, 1000000000},
};

// Exact match first; then, for a concentration, a final lowercase "l" for
// the litre ("mg/dl", "mmol/l").
const Unit* FindUnit(std::string_view name) {
  auto lookup = [](std::string_view text) -> const Unit* {
    for (const Unit& unit : kUnits) {
      if (unit.name == text) return &unit;
    }
    return nullptr;
  };
  if (const Unit* unit = lookup(name)) return unit;
  if (name.size() > 1 && name.back() == 'l' && name.find('/') != std::string_view::npos) {
    std::string litre(name);
    litre.back() = 'L';
    return lookup(litre);
  }
  return nullptr;
}

std::string KnownUnits() {
  std::vector<std::string> names;
  for (const Unit& unit : kUnits) names.emplace_back(unit.name);
  return absl::StrJoin(names, ", ");
}

// Temperatures go through Celsius with the defining formulas, multiplying
// before dividing so that exact cases (32 F = 0 C, 0 C = 273.15 K) stay exact.
double TemperatureToCelsius(char unit, double value) {
  if (unit == 'F') return (value - 32) * 5 / 9;
  if (unit == 'K') return value - 273.15;
  return value;
}

double CelsiusToTemperature(char unit, double celsius) {
  if (unit == 'F') return celsius * 9 / 5 + 32;
  if (unit == 'K') return celsius + 273.15;
  return celsius;
}

// 'C', 'F' or 'K' for a temperature unit ("°C" -> 'C').
char TemperatureLetter(const Unit& unit) { return unit.name.back(); }

// ---- Plans: validated mappings ---------------------------------------------

// One mapping, resolved. kNumeric converts (unit factor or temperature, then
// scale and offset); kCodes looks values up in `text_codes` or `numeric_codes`.
struct Plan {
  enum class Kind { kRename, kNumeric, kCodes };
  Kind kind = Kind::kRename;
  const VariableMapping* mapping = nullptr;
  std::string source;  // the local column

  // kNumeric.
  bool has_unit = false;
  char temperature_from = 0;  // non-zero: a temperature conversion
  char temperature_to = 0;
  double factor = 1;
  double scale = 1;
  double offset = 0;

  // kCodes: local text -> index into the target levels, or -1 for an
  // explicitly missing target; `numeric_codes` the same by number for the
  // codes that parse as numbers. Targets are `target_numbers` if
  // `numeric_result`, else `target_levels` (sorted, distinct).
  absl::flat_hash_map<std::string, int32_t> text_codes;
  absl::flat_hash_map<double, int32_t> numeric_codes;
  bool numeric_result = false;
  std::vector<std::string> target_levels;
  std::vector<double> target_numbers;
};

// -0 and 0 are one key.
double NumberKey(double value) { return value == 0 ? 0.0 : value; }

absl::Status MappingError(const VariableMapping& mapping, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("variable '", mapping.name, "': ", what));
}

absl::Status PlanUnits(const VariableMapping& mapping, Plan& plan) {
  if (mapping.unit.empty() != mapping.to_unit.empty()) {
    return mapping.unit.empty()
               ? MappingError(mapping, absl::StrCat("to_unit '", mapping.to_unit,
                                                    "' needs the local unit too"))
               : MappingError(mapping, absl::StrCat("unit '", mapping.unit,
                                                    "' needs a to_unit (the consortium's unit)"));
  }
  const Unit* from = nullptr;
  const Unit* to = nullptr;
  if (!mapping.unit.empty()) {
    for (const std::string* name : {&mapping.unit, &mapping.to_unit}) {
      if (FindUnit(*name) == nullptr) {
        return MappingError(mapping,
                            absl::StrCat("unknown unit '", *name, "' (known: ", KnownUnits(), ")"));
      }
    }
    from = FindUnit(mapping.unit);
    to = FindUnit(mapping.to_unit);
  }
  const auto in_dimension = [](const Unit* unit, Dimension dimension) {
    return unit != nullptr && unit->dimension == dimension;
  };
  const bool mass_molar = (in_dimension(from, Dimension::kMassConcentration) &&
                           in_dimension(to, Dimension::kMolarConcentration)) ||
                          (in_dimension(from, Dimension::kMolarConcentration) &&
                           in_dimension(to, Dimension::kMassConcentration));
  if (from != nullptr && from->dimension != to->dimension && !mass_molar) {
    return MappingError(
        mapping, absl::StrCat("cannot convert ", mapping.unit, " (", DimensionName(from->dimension),
                              ") to ", mapping.to_unit, " (", DimensionName(to->dimension), ")"));
  }
  if (!mass_molar && mapping.molar_mass != 0) {
    return MappingError(mapping, "molar_mass is used only between mass and molar concentrations");
  }
  if (mass_molar && !(std::isfinite(mapping.molar_mass) && mapping.molar_mass > 0)) {
    return MappingError(mapping, absl::StrCat("converting ", mapping.unit, " to ", mapping.to_unit,
                                              " needs the substance's molar_mass (g/mol) > 0"));
  }
  if (from == nullptr) return absl::OkStatus();
  plan.has_unit = true;
  if (from->dimension == Dimension::kTemperature) {
    if (TemperatureLetter(*from) == TemperatureLetter(*to)) return absl::OkStatus();  // "C" -> "°C"
    plan.temperature_from = TemperatureLetter(*from);
    plan.temperature_to = TemperatureLetter(*to);
    return absl::OkStatus();
  }
  double numerator = from->numerator * to->denominator;
  double denominator = from->denominator * to->numerator;
  if (mass_molar && from->dimension == Dimension::kMassConcentration) {
    denominator *= mapping.molar_mass;  // (g/L) / M = mol/L
  } else if (mass_molar) {
    numerator *= mapping.molar_mass;  // (mol/L) * M = g/L
  }
  plan.factor = numerator / denominator;
  return absl::OkStatus();
}

absl::Status PlanCodes(const VariableMapping& mapping, Plan& plan) {
  absl::flat_hash_map<std::string, size_t> text_position;
  absl::flat_hash_map<double, size_t> number_position;
  std::vector<std::string> levels;
  for (size_t i = 0; i < mapping.codes.size(); ++i) {
    const std::string& local = mapping.codes[i].first;
    auto [text_it, text_new] = text_position.emplace(local, i);
    std::optional<size_t> earlier;
    if (!text_new) earlier = text_it->second;
    double number = 0;
    if (!earlier && ParseNumberField(local, number)) {
      auto [number_it, number_new] = number_position.emplace(NumberKey(number), i);
      if (!number_new) earlier = number_it->second;
    }
    if (earlier) {
      return MappingError(mapping, absl::StrCat("codes ", *earlier + 1, " and ", i + 1,
                                                " are for the same local value"));
    }
    const std::string& target = mapping.codes[i].second;
    if (!IsMissingField(target)) levels.push_back(target);
  }
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  std::vector<double> numbers(levels.size());
  plan.numeric_result = true;
  for (size_t i = 0; i < levels.size() && plan.numeric_result; ++i) {
    plan.numeric_result = ParseNumberField(levels[i], numbers[i]);
  }
  absl::flat_hash_map<std::string_view, int32_t> level_index;
  for (size_t i = 0; i < levels.size(); ++i) level_index[levels[i]] = static_cast<int32_t>(i);
  for (const auto& [local, target] : mapping.codes) {
    const int32_t index = IsMissingField(target) ? -1 : level_index.at(target);
    plan.text_codes.emplace(local, index);
    double number = 0;
    if (ParseNumberField(local, number)) plan.numeric_codes.emplace(NumberKey(number), index);
  }
  if (plan.numeric_result) {
    plan.target_numbers = std::move(numbers);
  } else {
    plan.target_levels = std::move(levels);
  }
  return absl::OkStatus();
}

absl::StatusOr<Plan> MakePlan(const VariableMapping& mapping) {
  Plan plan;
  plan.mapping = &mapping;
  plan.source = mapping.from.empty() ? mapping.name : mapping.from;
  SPOOR_RETURN_IF_ERROR(PlanUnits(mapping, plan));
  if (!std::isfinite(mapping.scale) || mapping.scale == 0) {
    return MappingError(mapping, "scale must be finite and non-zero");
  }
  if (!std::isfinite(mapping.offset)) return MappingError(mapping, "offset must be finite");
  plan.scale = mapping.scale;
  plan.offset = mapping.offset;
  const bool linear = mapping.scale != 1 || mapping.offset != 0;
  if (!mapping.codes.empty()) {
    if (plan.has_unit || linear) {
      return MappingError(mapping,
                          "codes cannot be combined with a unit conversion, scale or offset");
    }
    plan.kind = Plan::Kind::kCodes;
    SPOOR_RETURN_IF_ERROR(PlanCodes(mapping, plan));
  } else if (plan.has_unit || linear) {
    plan.kind = Plan::Kind::kNumeric;
  }
  return plan;
}

absl::StatusOr<std::vector<Plan>> MakePlans(const std::vector<VariableMapping>& mappings) {
  std::vector<Plan> plans;
  plans.reserve(mappings.size());
  absl::flat_hash_map<std::string_view, size_t> by_name;
  absl::flat_hash_map<std::string_view, size_t> by_source;
  for (size_t i = 0; i < mappings.size(); ++i) {
    const VariableMapping& mapping = mappings[i];
    if (mapping.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("mapping ", i + 1, " has an empty name"));
    }
    SPOOR_ASSIGN_OR_RETURN(Plan plan, MakePlan(mapping));
    if (auto [it, added] = by_name.emplace(mapping.name, i); !added) {
      return absl::InvalidArgumentError(absl::StrCat("variable '", mapping.name,
                                                     "' is mapped twice (mappings ", it->second + 1,
                                                     " and ", i + 1, ")"));
    }
    plans.push_back(std::move(plan));
    // `plans` is reserved, so this view into it stays valid.
    if (auto [it, added] = by_source.emplace(plans.back().source, i); !added) {
      return absl::InvalidArgumentError(
          absl::StrCat("variables '", mappings[it->second].name, "' and '", mapping.name,
                       "' both come from local column '", plans.back().source, "'"));
    }
  }
  return plans;
}

// ---- Applying plans ---------------------------------------------------------

Column ApplyNumeric(const Plan& plan, const Column& column) {
  std::vector<double> values(column.numbers());
  for (double& value : values) {
    if (std::isnan(value)) continue;
    double converted = value * plan.factor;
    if (plan.temperature_from != 0) {
      converted = CelsiusToTemperature(plan.temperature_to,
                                       TemperatureToCelsius(plan.temperature_from, value));
    }
    converted = converted * plan.scale + plan.offset;
    value = std::isfinite(converted) ? converted : kNaN;
  }
  return Column::Numeric(plan.mapping->name, std::move(values));
}

// Index into the plan's targets, -1 for missing, -2 for a value without code.
constexpr int32_t kUnmapped = -2;

int32_t LookUp(const auto& table, const auto& key) {
  auto it = table.find(key);
  return it == table.end() ? kUnmapped : it->second;
}

Column ApplyCodes(const Plan& plan, const Column& column, size_t& unmapped) {
  std::vector<int32_t> targets(column.size(), -1);
  if (column.type() == ColumnType::kCategorical) {
    std::vector<int32_t> by_level(column.levels().size());
    for (size_t i = 0; i < by_level.size(); ++i) {
      by_level[i] = LookUp(plan.text_codes, column.levels()[i]);
    }
    for (size_t row = 0; row < targets.size(); ++row) {
      const int32_t code = column.codes()[row];
      if (code >= 0) targets[row] = by_level[static_cast<size_t>(code)];
    }
  } else {
    for (size_t row = 0; row < targets.size(); ++row) {
      const double value = column.numbers()[row];
      if (!std::isnan(value)) targets[row] = LookUp(plan.numeric_codes, NumberKey(value));
    }
  }
  unmapped = 0;
  for (int32_t& target : targets) {
    if (target == kUnmapped) {
      ++unmapped;
      target = -1;
    }
  }
  if (!plan.numeric_result) {
    return Column::Categorical(plan.mapping->name, plan.target_levels, std::move(targets));
  }
  std::vector<double> values(targets.size(), kNaN);
  for (size_t row = 0; row < targets.size(); ++row) {
    if (targets[row] >= 0) values[row] = plan.target_numbers[static_cast<size_t>(targets[row])];
  }
  return Column::Numeric(plan.mapping->name, std::move(values));
}

Column Renamed(const Column& column, const std::string& name) {
  if (column.type() == ColumnType::kNumeric) return Column::Numeric(name, column.numbers());
  return Column::Categorical(name, column.levels(), column.codes());
}

absl::Status DatasetError(std::string_view source_name, const Plan& plan, const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat(
      "dataset '", std::string(source_name), "': variable '", plan.mapping->name, "': ", what));
}

// The frame-dependent checks, all before any conversion.
absl::Status CheckAgainstFrame(const DataFrame& frame, const std::vector<Plan>& plans,
                               std::string_view source_name) {
  for (const Plan& plan : plans) {
    const Column* column = frame.Find(plan.source);
    if (column == nullptr) {
      return DatasetError(source_name, plan,
                          absl::StrCat("its local column '", plan.source, "' is absent"));
    }
    if (plan.kind == Plan::Kind::kNumeric && column->type() == ColumnType::kCategorical) {
      const VariableMapping& mapping = *plan.mapping;
      const std::string asked =
          plan.has_unit ? absl::StrCat("a conversion from ", mapping.unit, " to ", mapping.to_unit)
                        : std::string("a scale or offset");
      return DatasetError(source_name, plan,
                          absl::StrCat("local column '", plan.source, "' is categorical, so ",
                                       asked, " cannot apply to it"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckMappings(const std::vector<VariableMapping>& mappings) {
  return MakePlans(mappings).status();
}

absl::StatusOr<DataFrame> Harmonise(const DataFrame& frame,
                                    const std::vector<VariableMapping>& mappings,
                                    std::string_view source_name, HarmonisationReport* report) {
  if (report != nullptr) *report = HarmonisationReport();
  if (mappings.empty()) return frame;
  SPOOR_ASSIGN_OR_RETURN(const std::vector<Plan> plans, MakePlans(mappings));
  SPOOR_RETURN_IF_ERROR(CheckAgainstFrame(frame, plans, source_name));

  absl::flat_hash_map<std::string_view, const Plan*> by_source;
  absl::flat_hash_map<std::string_view, const Plan*> by_target;
  for (const Plan& plan : plans) {
    by_source.emplace(plan.source, &plan);
    by_target.emplace(plan.mapping->name, &plan);
  }
  // Counts by plan, so that the report follows mapping order.
  std::vector<size_t> unmapped(plans.size(), 0);
  std::vector<Column> columns;
  columns.reserve(frame.num_columns());
  for (const Column& column : frame.columns()) {
    auto source = by_source.find(column.name());
    if (source == by_source.end()) {
      if (!by_target.contains(column.name())) columns.push_back(column);
      continue;  // else replaced by the mapped column of that name
    }
    const Plan& plan = *source->second;
    switch (plan.kind) {
      case Plan::Kind::kRename:
        columns.push_back(Renamed(column, plan.mapping->name));
        break;
      case Plan::Kind::kNumeric:
        columns.push_back(ApplyNumeric(plan, column));
        break;
      case Plan::Kind::kCodes:
        columns.push_back(ApplyCodes(plan, column, unmapped[&plan - plans.data()]));
        break;
    }
  }
  SPOOR_ASSIGN_OR_RETURN(DataFrame result, DataFrame::Make(std::move(columns)));
  if (report != nullptr) {
    for (size_t i = 0; i < plans.size(); ++i) {
      if (unmapped[i] > 0) report->unmapped.push_back({plans[i].mapping->name, unmapped[i]});
    }
  }
  return result;
}

}  // namespace spoor
