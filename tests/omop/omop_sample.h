// A synthetic OMOP CDM v5.4 sample for tests and benchmarks: persons with one
// or two observation periods, conditions, drug exposures, measurements and
// deaths, deterministic for a seed. It says in SQL how to create and fill the
// six tables (portable between SQLite and PostgreSQL: dates as 'YYYY-MM-DD'),
// and computes in C++, without SQL, the person-level view that node/omop.h
// declares for kSampleView, as the independent reference.
#ifndef SPOOR_TESTS_OMOP_OMOP_SAMPLE_H_
#define SPOOR_TESTS_OMOP_OMOP_SAMPLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/omop.h"

namespace spoor::testing {

// The concepts the sample uses.
inline constexpr int64_t kType2Diabetes = 201826;  // condition
inline constexpr int64_t kHypertension = 320128;   // condition
inline constexpr int64_t kMetformin = 1503297;     // drug
inline constexpr int64_t kHbA1c = 3004410;         // measurement (%)

// The view the tests declare: age, sex, diabetes (condition), metformin
// (drug), hba1c (measurement), died (death), followup (followup_days).
OmopView SampleView(const std::string& schema = "");

// One person's row of SampleView, computed directly.
struct SampleRow {
  int64_t person_id;
  double age;
  std::optional<std::string> sex;  // nullopt: missing
  double diabetes;
  double metformin;
  std::optional<double> hba1c;
  double died;
  double followup;
};

struct OmopSample {
  // CREATE TABLE statements (prefixed with `schema.` when given) and INSERTs.
  std::string sql;
  // The expected view, ordered by person_id.
  std::vector<SampleRow> rows;
};

OmopSample MakeOmopSample(int persons, uint64_t seed, const std::string& schema = "");

}  // namespace spoor::testing

#endif  // SPOOR_TESTS_OMOP_OMOP_SAMPLE_H_
