// Per-node harmonisation: renames, converts and recodes a node's columns to
// the consortium's variables, so that one formula means the same everywhere.
//
// Hospitals name, measure and code the same thing differently (glucose as
// "gluc" in mg/dL here, "glucose" in mmol/L there; sex as 1/2 or as
// "male"/"female"). The node operator declares in node.toml, per consortium
// variable, where it comes from locally and how to convert it; the node calls
// CheckMappings when it loads the configuration and Harmonise right after it
// loads a dataset. Both are pure: no configuration parsing, no I/O.
//
// A mapping does at most one of:
//   - a unit conversion (unit -> to_unit, from the built-in table below),
//     optionally followed by a linear map value * scale + offset;
//   - a linear map alone (scale, offset);
//   - a code mapping (codes: local value -> consortium level);
// or none of them (a plain rename, or a declaration that the column is
// already harmonised).
//
// Units (case-sensitive as written; "l" is accepted for "L" in every
// concentration unit, as the SI brochure allows both symbols for the litre,
// so "mg/dl" and "mmol/l" work; "µ" may be the micro sign U+00B5 or the Greek
// mu U+03BC):
//   length                 m, cm, mm, in, ft
//   mass                   kg, g, mg, lb
//   temperature            C, F, K (also °C, °F), by the exact formulas
//   time                   days (d), weeks (wk), months (mo), years (y, yr);
//                          a month is 30.4375 days and a year 365.25 days
//                          (the Julian year, as lubridate's dyears/dmonths)
//   mass concentration     g/L, mg/dL, mg/L, g/dL, ug/mL (= mg/L, also µg/mL)
//   molar concentration    mol/L, mmol/L, umol/L (also µmol/L), nmol/L
// Mass and molar concentrations convert into each other only given the
// substance's molar mass M in g/mol: (g/L) / M = mol/L. So glucose
// (M = 180.156) at 100 mg/dL is 100 * 10 / 180.156 = 5.5508 mmol/L.
//
// Code mapping. A categorical column's values are its level texts. A numeric
// column's values match a code by number: a code that parses as a number
// (ParseNumberField) matches every value equal to it, so "1", "1.0" and "+1"
// all match 1 (the shortest round-trip text of a value, e.g. "1" or "2.5",
// always matches it); other codes match no numeric value. A consortium level
// that is itself missing text (empty or "NA", IsMissingField) makes the
// local value explicitly missing: it is not counted as unmapped. Several
// local codes may map to one level. Missing values stay missing; other
// values without a code become missing and are counted in the report. If
// every (non-missing) consortium level parses as a number the result is
// numeric ("yes" -> "1", "no" -> "0" gives a 0/1 column); otherwise it is
// categorical with the distinct levels in byte order, as the CSV reader and
// R's factor() order them.
//
// Errors name variables, columns, units and the dataset, never a value from
// the frame (patient-level data must not reach a log).
// Thread-safety: both functions are pure and may be called concurrently.
#ifndef SPOOR_ALGORITHMS_HARMONISE_H_
#define SPOOR_ALGORITHMS_HARMONISE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "algorithms/data_frame.h"

namespace spoor {

// How one consortium variable is made from one local column. Every member has
// a default initializer, so designated initializers ({.name = "sex", .codes =
// {...}}) compile without -Wmissing-field-initializers.
struct VariableMapping {
  std::string name = {};  // the consortium's variable name (the column in the result)
  std::string from = {};  // the local column it comes from; empty = same as name
  // Numeric conversion, one of:
  std::string unit = {};     // local unit, e.g. "mg/dL"; with to_unit, a conversion from the table
  std::string to_unit = {};  // consortium unit, e.g. "mmol/L"
  double molar_mass = 0;     // g/mol; given only between mass and molar concentrations
  double scale = 1;          // or a plain linear map: value * scale + offset, applied after any
  double offset = 0;         //   unit conversion
  // Code mapping: local value -> consortium level (see the file comment).
  std::vector<std::pair<std::string, std::string>> codes = {};
};

// What Harmonise did that the operator should know about. Counts only, for
// the operator's log: never values.
struct HarmonisationReport {
  struct Unmapped {
    std::string variable = {};
    size_t values = 0;  // records whose non-missing local value had no code
  };
  // Variables with at least one unmapped value, in mapping order.
  std::vector<Unmapped> unmapped;
};

// Validates `mappings` without data, so that node.toml can be refused when it
// is loaded. OK, or INVALID_ARGUMENT naming the variable (or, for an empty
// name, the mapping's 1-based position) for the first of:
//   - an empty name; two mappings with the same name, or the same local
//     column (`from`, or `name` where `from` is empty);
//   - unit without to_unit or to_unit without unit; an unknown unit; units of
//     different dimensions (mg/dL -> kg); a conversion between mass and molar
//     concentration without a finite molar_mass > 0; a molar_mass (non-zero)
//     on any other mapping;
//   - a scale that is zero or not finite, an offset that is not finite;
//   - codes together with a unit, scale or offset; two codes for the same
//     local value (the same text, or numbers of equal value, "1" and "1.0"),
//     named by their positions.
absl::Status CheckMappings(const std::vector<VariableMapping>& mappings);

// Applies `mappings` to `frame`, all at once on the original columns (so
// {a from b, b from a} swaps two columns), and returns the harmonised frame:
//   - each mapping's local column is replaced, in its position, by the
//     harmonised column named `name`; a local column consumed by a mapping
//     with from != name no longer appears under its local name;
//   - a local column named like some mapping's target but not its source is
//     dropped (the mapped one wins);
//   - every other column passes through unchanged, in its original order.
// An empty `mappings` returns `frame` itself (the same id()). A unit
// conversion or linear map that overflows gives a missing value.
//
// Errors: INVALID_ARGUMENT as from CheckMappings; FAILED_PRECONDITION naming
// the variable and `source_name` (the dataset) when a mapping's local column
// is absent from `frame`, or a unit conversion or linear map is asked of a
// categorical column. (Codes apply to numeric and categorical columns.)
//
// `report`, if not nullptr, is overwritten with the counts of unmapped codes;
// it is left empty on error.
absl::StatusOr<DataFrame> Harmonise(const DataFrame& frame,
                                    const std::vector<VariableMapping>& mappings,
                                    std::string_view source_name,
                                    HarmonisationReport* report = nullptr);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_HARMONISE_H_
