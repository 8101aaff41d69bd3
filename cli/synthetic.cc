// Synthetic cohorts for `spoor sandbox start --nodes N`: plausible columns,
// deterministic for a given seed, no real person behind any row.
#include <cmath>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "common/file_util.h"

namespace spoor {

absl::Status WriteSyntheticCohort(const std::string& path, int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> age_dist(60.0, 11.0), bmi_dist(27.0, 4.5), noise(0.0, 12.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::string out = "id,age,sex,bmi,smoker,sbp,stage,followup_days,event\n";
  static const char* kSmoker[] = {"never", "former", "current"};
  for (int i = 1; i <= rows; ++i) {
    int age = static_cast<int>(std::lround(std::clamp(age_dist(rng), 30.0, 90.0)));
    const char* sex = unit(rng) < 0.52 ? "F" : "M";
    double bmi = std::round(bmi_dist(rng) * 10) / 10;
    bool bmi_missing = unit(rng) < 0.03;
    double u = unit(rng);
    int smoker = u < 0.5 ? 0 : (u < 0.8 ? 1 : 2);
    int sbp = static_cast<int>(std::lround(100 + 0.6 * age + noise(rng)));
    int stage = 1 + static_cast<int>(unit(rng) * 4);
    double lp = -5.0 + 0.04 * age + 0.35 * smoker + 0.45 * (stage - 1) + 0.03 * (bmi - 27);
    double risk = 1 / (1 + std::exp(-lp));
    int followup = static_cast<int>(std::lround(std::min(3650.0, -std::log(unit(rng)) * 2000)));
    int event = unit(rng) < risk ? 1 : 0;
    absl::StrAppend(&out, i, ",", age, ",", sex, ",",
                    bmi_missing ? "" : absl::StrFormat("%.1f", bmi), ",", kSmoker[smoker], ",", sbp,
                    ",", stage, ",", std::max(1, followup), ",", event, "\n");
  }
  return WriteFileAtomically(path, out);
}

}  // namespace spoor
