// spoor-bench synth: multi-site data for the analysis benchmarks, written
// fast enough that millions of rows take seconds. Deterministic per seed.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "bench/bench.h"
#include "common/file_util.h"
#include "common/status.h"

namespace spoor::bench {
namespace {

// Appends x with 4 decimals, without printf's locale machinery.
void AppendFixed4(std::string& out, double x) {
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.4f", x);
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace

absl::Status Synth(const SynthOptions& options) {
  if (options.kind != "glm" && options.kind != "cox") {
    return absl::InvalidArgumentError("--kind must be glm or cox");
  }
  if (options.sites < 1 || options.rows < 1 || options.covariates < 1) {
    return absl::InvalidArgumentError("--sites, --rows and --covariates must be at least 1");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.out, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", options.out));
  // True coefficients: small, alternating in sign, so that the linear
  // predictor has a standard deviation of about 1.
  std::vector<double> beta(static_cast<size_t>(options.covariates));
  for (size_t j = 0; j < beta.size(); ++j) {
    beta[j] = (j % 2 ? -1.0 : 1.0) * 0.8 / std::sqrt(static_cast<double>(beta.size())) *
              (1.0 + 0.1 * static_cast<double>(j % 5));
  }
  for (int site = 1; site <= options.sites; ++site) {
    std::mt19937_64 rng(options.seed * 1000 + static_cast<uint64_t>(site));
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::string out = options.kind == "glm" ? "y" : "time,status";
    for (int j = 1; j <= options.covariates; ++j) absl::StrAppend(&out, ",x", j);
    out += "\n";
    std::vector<double> x(beta.size());
    for (int64_t i = 0; i < options.rows; ++i) {
      double lp = options.kind == "glm" ? -0.5 : 0.0;
      for (size_t j = 0; j < x.size(); ++j) {
        // Round first, so that R and spoor read the same doubles.
        x[j] = std::round((normal(rng) + 0.1 * site) * 1e4) / 1e4;
        lp += beta[j] * x[j];
      }
      if (options.kind == "glm") {
        out += unit(rng) < 1 / (1 + std::exp(-lp)) ? "1" : "0";
      } else {
        // Exponential survival in days, censored uniformly over 10 years.
        double event = -std::log(unit(rng)) * 1500 * std::exp(-lp);
        double censor = unit(rng) * 3650;
        double time = std::max(1.0, std::ceil(std::min(event, censor)));
        absl::StrAppend(&out, static_cast<int64_t>(time), ",", event <= censor ? "1" : "0");
      }
      for (double v : x) {
        out += ",";
        AppendFixed4(out, v);
      }
      out += "\n";
    }
    SPOOR_RETURN_IF_ERROR(
        WriteFileAtomically(absl::StrCat(options.out, "/site", site, ".csv"), out));
  }
  return absl::OkStatus();
}

}  // namespace spoor::bench
