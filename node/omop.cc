#include "node/omop.h"

#include <cctype>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace spoor {
namespace {

constexpr int64_t kMale = 8507;    // OMOP gender concept MALE
constexpr int64_t kFemale = 8532;  // OMOP gender concept FEMALE

bool IsIdentifier(std::string_view name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) {
    return false;
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  }
  return true;
}

// SQL text for the declared pieces. Identifiers were checked by
// IsIdentifier and are double-quoted; concepts are integers.
class ViewWriter {
 public:
  ViewWriter(const OmopView& view, SqlDialect dialect) : view_(view), dialect_(dialect) {}

  std::string Table(const std::string& table) const {
    if (view_.schema.empty()) return table;
    return absl::StrCat("\"", view_.schema, "\".", table);
  }

  std::string Concepts(const OmopVariable& v) const { return absl::StrJoin(v.concepts, ", "); }

  // 1 if the person has a row in `table` with `concept` in the variable's
  // concepts and `date` on or before the end of observation.
  std::string Flag(const OmopVariable& v, const std::string& table,
                   const std::string& concept_column, const std::string& date) const {
    return absl::StrCat("CASE WHEN EXISTS (SELECT 1 FROM ", Table(table),
                        " x WHERE x.person_id = p.person_id AND x.", concept_column, " IN (",
                        Concepts(v), ") AND x.", date,
                        " <= op.observation_period_end_date) THEN 1 ELSE 0 END");
  }

  std::string DeathWithin() const {
    return absl::StrCat("(SELECT MIN(d.death_date) FROM ", Table("death"),
                        " d WHERE d.person_id = p.person_id AND d.death_date <= "
                        "op.observation_period_end_date)");
  }

  std::string Expression(const OmopVariable& v) const {
    const bool pg = dialect_ == SqlDialect::kPostgres;
    switch (v.kind) {
      case OmopKind::kAge:
        return pg ? "(CAST(EXTRACT(YEAR FROM op.observation_period_start_date) AS INTEGER) - "
                    "p.year_of_birth)"
                  : "(CAST(strftime('%Y', op.observation_period_start_date) AS INTEGER) - "
                    "p.year_of_birth)";
      case OmopKind::kSex:
        return absl::StrCat("CASE p.gender_concept_id WHEN ", kMale, " THEN 'M' WHEN ", kFemale,
                            " THEN 'F' END");
      case OmopKind::kCondition:
        return Flag(v, "condition_occurrence", "condition_concept_id", "condition_start_date");
      case OmopKind::kDrug:
        return Flag(v, "drug_exposure", "drug_concept_id", "drug_exposure_start_date");
      case OmopKind::kMeasurement:
        return absl::StrCat(
            "(SELECT m.value_as_number FROM ", Table("measurement"),
            " m WHERE m.person_id = p.person_id AND m.measurement_concept_id IN (", Concepts(v),
            ") AND m.measurement_date >= op.observation_period_start_date AND "
            "m.value_as_number IS NOT NULL ORDER BY m.measurement_date, m.measurement_id "
            "LIMIT 1)");
      case OmopKind::kDeath:
        return absl::StrCat("CASE WHEN ", DeathWithin(), " IS NULL THEN 0 ELSE 1 END");
      case OmopKind::kFollowupDays: {
        const std::string end =
            absl::StrCat("COALESCE(", DeathWithin(), ", op.observation_period_end_date)");
        return pg ? absl::StrCat("(", end, " - op.observation_period_start_date)")
                  : absl::StrCat("CAST(julianday(", end,
                                 ") - julianday(op.observation_period_start_date) AS INTEGER)");
      }
    }
    return "NULL";
  }

  std::string Sql() const {
    std::vector<std::string> columns;
    for (const OmopVariable& v : view_.variables) {
      columns.push_back(absl::StrCat(Expression(v), " AS \"", v.name, "\""));
    }
    // The person's first observation period (earliest start, then lowest id).
    return absl::StrCat(
        "SELECT ", absl::StrJoin(columns, ",\n  "), "\nFROM ", Table("person"), " p\nJOIN ",
        Table("observation_period"),
        " op ON op.person_id = p.person_id\n"
        "WHERE op.observation_period_id = (SELECT o2.observation_period_id FROM ",
        Table("observation_period"),
        " o2 WHERE o2.person_id = p.person_id ORDER BY o2.observation_period_start_date, "
        "o2.observation_period_id LIMIT 1)\nORDER BY p.person_id");
  }

 private:
  const OmopView& view_;
  SqlDialect dialect_;
};

}  // namespace

absl::StatusOr<OmopKind> ParseOmopKind(std::string_view kind) {
  static constexpr std::pair<std::string_view, OmopKind> kKinds[] = {
      {"age", OmopKind::kAge},
      {"sex", OmopKind::kSex},
      {"condition", OmopKind::kCondition},
      {"drug", OmopKind::kDrug},
      {"measurement", OmopKind::kMeasurement},
      {"death", OmopKind::kDeath},
      {"followup_days", OmopKind::kFollowupDays}};
  for (const auto& [name, value] : kKinds) {
    if (name == kind) return value;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown OMOP variable kind '", std::string(kind),
                   "'; kinds: age, sex, condition, drug, measurement, death, followup_days"));
}

absl::StatusOr<std::string> OmopViewSql(const OmopView& view, SqlDialect dialect) {
  if (!view.schema.empty() && !IsIdentifier(view.schema)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "OMOP schema '", view.schema, "' is not a plain name (letters, digits, '_', '.')"));
  }
  if (view.variables.empty()) {
    return absl::InvalidArgumentError(
        "the OMOP view declares no variables; add [[datasets.omop.variables]]");
  }
  absl::flat_hash_set<std::string> names;
  for (const OmopVariable& v : view.variables) {
    if (!IsIdentifier(v.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("OMOP variable name '", v.name,
                       "' is not a plain name (a letter or '_', then letters, digits, '_', '.')"));
    }
    if (!names.insert(v.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("OMOP variable '", v.name, "' is declared twice"));
    }
    const bool needs_concepts = v.kind == OmopKind::kCondition || v.kind == OmopKind::kDrug ||
                                v.kind == OmopKind::kMeasurement;
    if (needs_concepts && v.concepts.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("OMOP variable '", v.name, "' needs concepts = [concept ids]"));
    }
    if (!needs_concepts && !v.concepts.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("OMOP variable '", v.name, "' takes no concepts for its kind"));
    }
  }
  return ViewWriter(view, dialect).Sql();
}

}  // namespace spoor
