// Test support for algorithms/*_test.cc: runs a job's rounds in-process, as
// the coordinator and the nodes would, without a network.
#ifndef SPOOR_ALGORITHMS_TEST_ROUNDS_H_
#define SPOOR_ALGORITHMS_TEST_ROUNDS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/algorithm.h"
#include "algorithms/disclosure_gate.h"
#include "nlohmann/json.hpp"

namespace spoor::testing {

// ValidateParameters, Begin, then round after round: every site's Local,
// each aggregate through a gate with `rules` (a refusal ends the job with
// PERMISSION_DENIED whose message is the rule), then Central, until Central
// is done. `sites(round)` gives the sites' data in that round; node i is
// "site<i+1>". On success `rounds` (if given) is the number of rounds;
// DEADLINE_EXCEEDED after `max_rounds`.
absl::StatusOr<v1::Result> RunRounds(const Algorithm& algorithm, const v1::Parameters& params,
                                     const std::function<std::vector<DataFrame>(int)>& sites,
                                     const DisclosureRules& rules, int max_rounds,
                                     int* rounds = nullptr);

// The same data in every round.
absl::StatusOr<v1::Result> RunRounds(const Algorithm& algorithm, const v1::Parameters& params,
                                     const std::vector<DataFrame>& sites,
                                     const DisclosureRules& rules, int max_rounds,
                                     int* rounds = nullptr);

// |a - b| / max(|a|, |b|); 0 when a == b.
double RelativeDifference(double a, double b);

// The reference fixtures of tests/reference/ (R scripts and what they
// wrote), read from the repository root, where ctest runs the tests. Each
// fails the test (REQUIRE) when the file cannot be read or parsed.
//   ReferenceSites("glm"): glm_site1.csv .. glm_site3.csv
//   ReferenceJson("glm_expected.json")
std::vector<DataFrame> ReferenceSites(const std::string& prefix);
nlohmann::json ReferenceJson(const std::string& file);

}  // namespace spoor::testing

#endif  // SPOOR_ALGORITHMS_TEST_ROUNDS_H_
