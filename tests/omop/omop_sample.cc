#include "tests/omop/omop_sample.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"

namespace spoor::testing {
namespace {

std::string Date(absl::CivilDay day) {
  return absl::StrFormat("'%04d-%02d-%02d'", day.year(), day.month(), day.day());
}

}  // namespace

OmopView SampleView(const std::string& schema) {
  OmopView view;
  view.schema = schema;
  view.variables = {{"age", OmopKind::kAge, {}},
                    {"sex", OmopKind::kSex, {}},
                    {"diabetes", OmopKind::kCondition, {kType2Diabetes}},
                    {"metformin", OmopKind::kDrug, {kMetformin}},
                    {"hba1c", OmopKind::kMeasurement, {kHbA1c}},
                    {"died", OmopKind::kDeath, {}},
                    {"followup", OmopKind::kFollowupDays, {}}};
  return view;
}

OmopSample MakeOmopSample(int persons, uint64_t seed, const std::string& schema) {
  const std::string prefix = schema.empty() ? "" : absl::StrCat("\"", schema, "\".");
  OmopSample sample;
  std::string& sql = sample.sql;
  absl::StrAppend(
      &sql, "CREATE TABLE ", prefix,
      "person (person_id BIGINT PRIMARY KEY, gender_concept_id INTEGER NOT NULL, "
      "year_of_birth INTEGER NOT NULL);\n",
      "CREATE TABLE ", prefix,
      "observation_period (observation_period_id BIGINT PRIMARY KEY, person_id BIGINT NOT NULL, "
      "observation_period_start_date DATE NOT NULL, observation_period_end_date DATE NOT "
      "NULL);\n",
      "CREATE TABLE ", prefix,
      "condition_occurrence (condition_occurrence_id BIGINT PRIMARY KEY, person_id BIGINT NOT "
      "NULL, condition_concept_id INTEGER NOT NULL, condition_start_date DATE NOT NULL);\n",
      "CREATE TABLE ", prefix,
      "drug_exposure (drug_exposure_id BIGINT PRIMARY KEY, person_id BIGINT NOT NULL, "
      "drug_concept_id INTEGER NOT NULL, drug_exposure_start_date DATE NOT NULL);\n",
      "CREATE TABLE ", prefix,
      "measurement (measurement_id BIGINT PRIMARY KEY, person_id BIGINT NOT NULL, "
      "measurement_concept_id INTEGER NOT NULL, measurement_date DATE NOT NULL, "
      "value_as_number NUMERIC);\n",
      "CREATE TABLE ", prefix, "death (person_id BIGINT PRIMARY KEY, death_date DATE NOT NULL);\n");

  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit;
  auto below = [&](int n) { return static_cast<int>(unit(rng) * n); };
  int64_t next_id = 1;
  for (int i = 0; i < persons; ++i) {
    SampleRow row{};
    row.person_id = 1000 + i * 7;  // not in insertion order below
    const int64_t gender = unit(rng) < 0.05 ? 0 : (unit(rng) < 0.5 ? 8507 : 8532);
    const int year_of_birth = 1930 + below(60);
    absl::StrAppend(&sql, "INSERT INTO ", prefix, "person VALUES (", row.person_id, ", ", gender,
                    ", ", year_of_birth, ");\n");
    if (gender == 8507) row.sex.emplace(1, 'M');
    if (gender == 8532) row.sex.emplace(1, 'F');

    // The first observation period, and sometimes a later second one (which
    // the view must ignore).
    const absl::CivilDay start = absl::CivilDay(2000, 1, 1) + below(3650);
    const absl::CivilDay end = start + 200 + below(3000);
    const int64_t first_period = next_id++;
    absl::StrAppend(&sql, "INSERT INTO ", prefix, "observation_period VALUES (", first_period, ", ",
                    row.person_id, ", ", Date(start), ", ", Date(end), ");\n");
    if (unit(rng) < 0.2) {
      absl::StrAppend(&sql, "INSERT INTO ", prefix, "observation_period VALUES (", next_id++, ", ",
                      row.person_id, ", ", Date(end + 400), ", ", Date(end + 900), ");\n");
    }
    row.age = start.year() - year_of_birth;

    // Conditions: diabetes before the end of observation (counts), after it
    // (does not), hypertension (another concept).
    row.diabetes = 0;
    const double c = unit(rng);
    if (c < 0.3) {
      absl::StrAppend(&sql, "INSERT INTO ", prefix, "condition_occurrence VALUES (", next_id++,
                      ", ", row.person_id, ", ", kType2Diabetes, ", ",
                      Date(start + below(static_cast<int>(end - start) + 1)), ");\n");
      row.diabetes = 1;
    } else if (c < 0.4) {
      absl::StrAppend(&sql, "INSERT INTO ", prefix, "condition_occurrence VALUES (", next_id++,
                      ", ", row.person_id, ", ", kType2Diabetes, ", ", Date(end + 1), ");\n");
    }
    if (unit(rng) < 0.4) {
      absl::StrAppend(&sql, "INSERT INTO ", prefix, "condition_occurrence VALUES (", next_id++,
                      ", ", row.person_id, ", ", kHypertension, ", ", Date(start), ");\n");
    }
    row.metformin = 0;
    if (unit(rng) < 0.25) {
      absl::StrAppend(&sql, "INSERT INTO ", prefix, "drug_exposure VALUES (", next_id++, ", ",
                      row.person_id, ", ", kMetformin, ", ", Date(start - below(100)), ");\n");
      row.metformin = 1;
    }

    // Measurements: one before the index date (ignored), then up to three
    // after it; the first after it is the value. Two on the same day: the
    // lower measurement_id wins.
    if (unit(rng) < 0.5) {
      absl::StrAppend(&sql, "INSERT INTO ", prefix, "measurement VALUES (", next_id++, ", ",
                      row.person_id, ", ", kHbA1c, ", ", Date(start - 10), ", 9.9);\n");
    }
    const int after = below(4);
    absl::CivilDay first_day = end + 1;
    double first_value = 0;
    std::vector<std::pair<absl::CivilDay, double>> taken;
    for (int k = 0; k < after; ++k) {
      const absl::CivilDay day = start + below(100);
      const double value = std::round((5 + 3 * unit(rng)) * 10) / 10;
      taken.emplace_back(day, value);
    }
    for (const auto& [day, value] : taken) {  // ids ascend in this order
      absl::StrAppend(&sql, "INSERT INTO ", prefix, "measurement VALUES (", next_id++, ", ",
                      row.person_id, ", ", kHbA1c, ", ", Date(day), ", ", value, ");\n");
      if (day < first_day) {
        first_day = day;
        first_value = value;
      }
    }
    if (after > 0) row.hba1c = first_value;

    // Death within observation, after it (not counted), or none.
    row.died = 0;
    row.followup = static_cast<double>(end - start);
    const double d = unit(rng);
    if (d < 0.25) {
      const absl::CivilDay death = start + below(static_cast<int>(end - start) + 1);
      absl::StrAppend(&sql, "INSERT INTO ", prefix, "death VALUES (", row.person_id, ", ",
                      Date(death), ");\n");
      row.died = 1;
      row.followup = static_cast<double>(death - start);
    } else if (d < 0.35) {
      absl::StrAppend(&sql, "INSERT INTO ", prefix, "death VALUES (", row.person_id, ", ",
                      Date(end + 30), ");\n");
    }
    sample.rows.push_back(std::move(row));
  }
  // A person with no observation period is not in the view.
  absl::StrAppend(&sql, "INSERT INTO ", prefix, "person VALUES (999999, 8507, 1950);\n");
  std::sort(sample.rows.begin(), sample.rows.end(),
            [](const SampleRow& a, const SampleRow& b) { return a.person_id < b.person_id; });
  return sample;
}

}  // namespace spoor::testing
