#include "algorithms/test_rounds.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "algorithms/csv_reader.h"

namespace spoor::testing {
namespace {

constexpr char kReferenceDir[] = "tests/reference/";

}  // namespace

absl::StatusOr<v1::Result> RunRounds(const Algorithm& algorithm, const v1::Parameters& params,
                                     const std::function<std::vector<DataFrame>(int)>& sites,
                                     const DisclosureRules& rules, int max_rounds, int* rounds) {
  if (absl::Status valid = algorithm.ValidateParameters(params); !valid.ok()) return valid;
  absl::StatusOr<v1::Parameters> state = algorithm.Begin(params);
  if (!state.ok()) return state.status();
  const DisclosureGate gate(rules);
  for (int round = 1; round <= max_rounds; ++round) {
    const std::vector<DataFrame> frames = sites(round);
    std::vector<NodeAggregate> aggregates;
    for (size_t i = 0; i < frames.size(); ++i) {
      absl::StatusOr<v1::Aggregate> local = algorithm.Local({params, *state, round, frames[i]});
      if (!local.ok()) return local.status();
      if (std::optional<GateRefusal> refusal = gate.Check(*local)) {
        return absl::PermissionDeniedError(refusal->rule);
      }
      aggregates.push_back({"site" + std::to_string(i + 1), *std::move(local)});
    }
    absl::StatusOr<CentralStep> step = algorithm.Central({params, *state, round, aggregates});
    if (!step.ok()) return step.status();
    if (step->done) {
      if (rounds != nullptr) *rounds = round;
      return step->result;
    }
    *state = step->next_round_state;
  }
  return absl::DeadlineExceededError("too many rounds");
}

absl::StatusOr<v1::Result> RunRounds(const Algorithm& algorithm, const v1::Parameters& params,
                                     const std::vector<DataFrame>& sites,
                                     const DisclosureRules& rules, int max_rounds, int* rounds) {
  return RunRounds(
      algorithm, params, [&sites](int) { return sites; }, rules, max_rounds, rounds);
}

double RelativeDifference(double a, double b) {
  if (a == b) return 0;
  return std::abs(a - b) / std::max(std::abs(a), std::abs(b));
}

std::vector<DataFrame> ReferenceSites(const std::string& prefix) {
  std::vector<DataFrame> sites;
  for (int i = 1; i <= 3; ++i) {
    absl::StatusOr<DataFrame> frame =
        ReadCsvFile(absl::StrCat(kReferenceDir, prefix, "_site", i, ".csv"));
    INFO("run the tests from the repository root: " << frame.status().ToString());
    REQUIRE(frame.ok());
    sites.push_back(*std::move(frame));
  }
  return sites;
}

nlohmann::json ReferenceJson(const std::string& file) {
  std::ifstream in(absl::StrCat(kReferenceDir, file));
  INFO("run the tests from the repository root: " << file);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

}  // namespace spoor::testing
