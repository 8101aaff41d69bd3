#include "node/differential_privacy.h"

#include <openssl/rand.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace spoor {
namespace {

// 2^-52: one step of the 52-bit grid Uniform() draws from.
constexpr double kUniformStep = 1.0 / 4503599627370496.0;

class CryptoNoiseSource final : public NoiseSource {
 public:
  double Uniform() override {
    uint64_t bits = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&bits), sizeof(bits)) != 1) {
      failed_.store(true, std::memory_order_relaxed);
      return 0.5;
    }
    // The midpoint of one of 2^52 equal cells of (0, 1): never 0 or 1, and
    // exactly representable (53 significant bits at most).
    return (static_cast<double>(bits >> 12) + 0.5) * kUniformStep;
  }

  absl::Status status() const override {
    if (failed_.load(std::memory_order_relaxed)) {
      return absl::InternalError(
          "the random number generator (OpenSSL RAND_bytes) failed; no noise can be drawn");
    }
    return absl::OkStatus();
  }

 private:
  std::atomic<bool> failed_{false};
};

// One noised quantity: a set of numbers with one sensitivity.
struct Quantity {
  enum class Kind { kTableCounts, kHistogramCounts, kVector, kMatrix, kRecordCount };
  Kind kind;
  int block;  // for kRecordCount: -1 = every noised block's record count
  double sensitivity;
};

bool IsFinitePositive(double x) { return std::isfinite(x) && x > 0; }

absl::Status ValidateSettings(const DpSettings& settings) {
  if (!IsFinitePositive(settings.epsilon)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "differential privacy: epsilon must be a finite number > 0, not ", settings.epsilon));
  }
  if (settings.mechanism == DpMechanism::kGaussian) {
    return GaussianSigma(1.0, settings.epsilon, settings.delta).status();
  }
  return absl::OkStatus();
}

// Counts (rounded, clamped at 0) after noise.
int64_t NoisedCount(int64_t count, double noise) {
  double value = std::round(static_cast<double>(count) + noise);
  if (!(value > 0)) return 0;
  // 2^63 is exactly representable; anything at or above it saturates.
  if (value >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(value);
}

bool NoisesRecordCount(const v1::Block& block) { return !block.has_description(); }

// The quantities of `aggregate` to noise, in a fixed order: payloads block by
// block, then the record counts.
absl::StatusOr<std::vector<Quantity>> PlanQuantities(const v1::Aggregate& aggregate,
                                                     const DpSensitivity& sensitivity) {
  std::vector<Quantity> quantities;
  for (int i = 0; i < aggregate.blocks_size(); ++i) {
    const v1::Block& block = aggregate.blocks(i);
    switch (block.payload_case()) {
      case v1::Block::kCountTable:
        if (block.count_table().counts_size() > 0) {
          quantities.push_back({Quantity::Kind::kTableCounts, i, 1.0});
        }
        break;
      case v1::Block::kHistogram:
        if (block.histogram().counts_size() > 0) {
          quantities.push_back({Quantity::Kind::kHistogramCounts, i, 1.0});
        }
        break;
      case v1::Block::kVector:
      case v1::Block::kMatrix: {
        bool vector = block.payload_case() == v1::Block::kVector;
        int size = vector ? block.vector().values_size() : block.matrix().upper_size();
        if (size == 0) break;
        std::optional<double> s = sensitivity ? sensitivity(block) : std::nullopt;
        if (!s.has_value()) {
          return absl::FailedPreconditionError(
              absl::StrCat("block '", block.name(),
                           "' holds sums of unbounded values; differential privacy covers "
                           "counts and bounded sums"));
        }
        if (!IsFinitePositive(*s)) {
          return absl::InvalidArgumentError(absl::StrCat("the sensitivity declared for block '",
                                                         block.name(),
                                                         "' must be a finite number > 0"));
        }
        quantities.push_back({vector ? Quantity::Kind::kVector : Quantity::Kind::kMatrix, i, *s});
        break;
      }
      case v1::Block::kLevels:
      case v1::Block::kDescription:
      case v1::Block::PAYLOAD_NOT_SET:
        break;
    }
  }

  std::vector<int> counted;
  for (int i = 0; i < aggregate.blocks_size(); ++i) {
    if (NoisesRecordCount(aggregate.blocks(i))) counted.push_back(i);
  }
  bool all_equal = true;
  for (int i : counted) {
    all_equal = all_equal && aggregate.blocks(i).record_count() ==
                                 aggregate.blocks(counted.front()).record_count();
  }
  if (all_equal && !counted.empty()) {
    quantities.push_back({Quantity::Kind::kRecordCount, -1, 1.0});
  } else if (!all_equal) {
    for (int i : counted) quantities.push_back({Quantity::Kind::kRecordCount, i, 1.0});
  }
  return quantities;
}

}  // namespace

absl::StatusOr<DpMechanism> ParseDpMechanism(std::string_view name) {
  if (name == "laplace") return DpMechanism::kLaplace;
  if (name == "gaussian") return DpMechanism::kGaussian;
  return absl::InvalidArgumentError(absl::StrCat("unknown differential privacy mechanism '",
                                                 std::string(name),
                                                 "'; expected laplace or gaussian"));
}

std::string_view DpMechanismName(DpMechanism mechanism) {
  switch (mechanism) {
    case DpMechanism::kLaplace:
      return "laplace";
    case DpMechanism::kGaussian:
      return "gaussian";
  }
  return "unknown";
}

std::unique_ptr<NoiseSource> MakeCryptoNoiseSource() {
  return std::make_unique<CryptoNoiseSource>();
}

double LaplaceNoise(double scale, NoiseSource& noise) {
  // Inverse CDF of Laplace(0, b): b ln(2u) below the median, -b ln(2(1-u))
  // above. 2u and 1-u are exact in the halves where they are used, and both
  // logarithms are finite for u in (0, 1).
  double u = noise.Uniform();
  if (u < 0.5) return scale * std::log(2.0 * u);
  return -scale * std::log(2.0 * (1.0 - u));
}

double GaussianNoise(double sigma, NoiseSource& noise) {
  double u1 = noise.Uniform();
  double u2 = noise.Uniform();
  return sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

absl::StatusOr<double> GaussianSigma(double sensitivity, double epsilon, double delta) {
  if (!(epsilon > 0 && epsilon < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the Gaussian mechanism needs 0 < epsilon < 1 (its noise bound is proven only there), "
        "not epsilon ",
        epsilon, "; use laplace for a larger epsilon"));
  }
  if (!(delta > 0 && delta < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the Gaussian mechanism needs 0 < delta < 1, not delta ", delta));
  }
  if (!(std::isfinite(sensitivity) && sensitivity >= 0)) {
    return absl::InvalidArgumentError("a sensitivity must be a finite number >= 0");
  }
  return sensitivity * std::sqrt(2.0 * std::log(1.25 / delta)) / epsilon;
}

absl::StatusOr<DpSpend> AddNoise(v1::Aggregate& aggregate, const DpSettings& settings,
                                 const DpSensitivity& sensitivity, NoiseSource& noise) {
  if (absl::Status valid = ValidateSettings(settings); !valid.ok()) return valid;
  absl::StatusOr<std::vector<Quantity>> planned = PlanQuantities(aggregate, sensitivity);
  if (!planned.ok()) return planned.status();
  const std::vector<Quantity>& quantities = *planned;
  if (quantities.empty()) return DpSpend{};

  const bool gaussian = settings.mechanism == DpMechanism::kGaussian;
  const double k = static_cast<double>(quantities.size());
  const double epsilon_each = settings.epsilon / k;
  const double delta_each = gaussian ? settings.delta / k : 0.0;
  // Noise per unit of sensitivity.
  double unit_scale = 1.0 / epsilon_each;
  if (gaussian) {
    absl::StatusOr<double> sigma = GaussianSigma(1.0, epsilon_each, delta_each);
    if (!sigma.ok()) return sigma.status();
    unit_scale = *sigma;
  }

  v1::Aggregate noised = aggregate;
  for (const Quantity& quantity : quantities) {
    const double scale = quantity.sensitivity * unit_scale;
    auto draw = [&] { return gaussian ? GaussianNoise(scale, noise) : LaplaceNoise(scale, noise); };
    auto noise_counts = [&](google::protobuf::RepeatedField<int64_t>& counts) {
      for (int64_t& count : counts) count = NoisedCount(count, draw());
    };
    auto noise_values = [&](google::protobuf::RepeatedField<double>& values) {
      for (double& value : values) value += draw();
    };
    switch (quantity.kind) {
      case Quantity::Kind::kTableCounts:
        noise_counts(
            *noised.mutable_blocks(quantity.block)->mutable_count_table()->mutable_counts());
        break;
      case Quantity::Kind::kHistogramCounts:
        noise_counts(*noised.mutable_blocks(quantity.block)->mutable_histogram()->mutable_counts());
        break;
      case Quantity::Kind::kVector:
        noise_values(*noised.mutable_blocks(quantity.block)->mutable_vector()->mutable_values());
        break;
      case Quantity::Kind::kMatrix:
        noise_values(*noised.mutable_blocks(quantity.block)->mutable_matrix()->mutable_upper());
        break;
      case Quantity::Kind::kRecordCount:
        if (quantity.block >= 0) {
          v1::Block& block = *noised.mutable_blocks(quantity.block);
          block.set_record_count(NoisedCount(block.record_count(), draw()));
        } else {
          // All equal: one draw, the same noised count on every block.
          double one = draw();
          for (v1::Block& block : *noised.mutable_blocks()) {
            if (NoisesRecordCount(block)) {
              block.set_record_count(NoisedCount(block.record_count(), one));
            }
          }
        }
        break;
    }
  }
  if (absl::Status drawn = noise.status(); !drawn.ok()) return drawn;
  aggregate.Swap(&noised);
  return DpSpend{settings.epsilon, gaussian ? settings.delta : 0.0};
}

}  // namespace spoor
