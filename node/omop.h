// A person-level analysis view over the OMOP Common Data Model (v5.4),
// declared by concept ids in node.toml instead of hand-written joins, e.g.
//
//   [datasets.omop]
//   schema = "cdm"                      # optional; "" = the default schema
//   [[datasets.omop.variables]]
//   name = "diabetes"
//   kind = "condition"
//   concepts = [201826]
//
// One row per person with an observation period. The index date is the start
// of the person's first observation period; its end is that period's end.
// Kinds (each variable one column named `name`):
//   age           whole years at the index date: year(index) - year_of_birth
//   sex           gender_concept_id 8507 -> "M", 8532 -> "F", else missing
//   condition     1 if the person has a condition_occurrence with one of
//                 `concepts` starting on or before the end of observation,
//                 else 0
//   drug          the same over drug_exposure (drug_concept_id)
//   measurement   value_as_number of the first measurement with one of
//                 `concepts` on or after the index date (earliest date, then
//                 lowest measurement_id), else missing
//   death         1 if death.death_date is on or before the end of
//                 observation, else 0
//   followup_days days from the index date to death (when within
//                 observation) or else to the end of observation
// The tables read: person, observation_period, condition_occurrence,
// drug_exposure, measurement, death.
#ifndef SPOOR_NODE_OMOP_H_
#define SPOOR_NODE_OMOP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace spoor {

enum class OmopKind { kAge, kSex, kCondition, kDrug, kMeasurement, kDeath, kFollowupDays };

struct OmopVariable {
  std::string name;
  OmopKind kind = OmopKind::kAge;
  std::vector<int64_t> concepts;  // condition, drug, measurement: at least one
};

struct OmopView {
  std::string schema;  // "" = the connection's default schema
  std::vector<OmopVariable> variables;
};

enum class SqlDialect { kSqlite, kPostgres };

// "age" -> kAge, ...; INVALID_ARGUMENT listing the kinds for anything else.
absl::StatusOr<OmopKind> ParseOmopKind(std::string_view kind);

// The SELECT that makes the view, in `dialect`. INVALID_ARGUMENT for a view
// with no variables, a duplicate or empty name, a name that is not a plain
// identifier ([A-Za-z_][A-Za-z0-9_.]*), a schema that is not one, or a kind
// that needs concepts without any. Concept ids are integers, so no text from
// the config is ever spliced into the SQL but checked identifiers.
absl::StatusOr<std::string> OmopViewSql(const OmopView& view, SqlDialect dialect);

}  // namespace spoor

#endif  // SPOOR_NODE_OMOP_H_
