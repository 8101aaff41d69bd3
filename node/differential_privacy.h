// Differential privacy for released aggregates: the node adds calibrated
// noise to the counts (and to sums an algorithm bounded) of an aggregate
// before it leaves, and reports the privacy spent so that the node's
// PrivacyBudget (node/privacy_budget.h) can refuse once a dataset's budget is
// used up.
//
// Method (Dwork & Roth, "The Algorithmic Foundations of Differential
// Privacy", 2014):
//   Laplace mechanism (Theorem 3.6): a quantity with L1 sensitivity s gets
//     Laplace(0, b = s / epsilon) noise in each coordinate: epsilon-DP.
//   Gaussian mechanism (Theorem A.1): a quantity with L2 sensitivity s gets
//     N(0, sigma^2) noise in each coordinate with
//     sigma = s * sqrt(2 ln(1.25 / delta)) / epsilon: (epsilon, delta)-DP,
//     valid only for epsilon < 1 (the theorem's assumption), hence refused
//     for epsilon >= 1.
//   Basic sequential composition (Theorem 3.16): k quantities released with
//     (epsilon / k, delta / k) each are together (epsilon, delta)-DP.
// Neighbouring datasets differ by one person (added or removed), one record
// per person.
//
// The noise comes from a NoiseSource: in the node always the OpenSSL CSPRNG
// (MakeCryptoNoiseSource). A predictable generator (std::mt19937 and the
// like) would let a recipient reproduce and subtract the noise.
#ifndef SPOOR_NODE_DIFFERENTIAL_PRIVACY_H_
#define SPOOR_NODE_DIFFERENTIAL_PRIVACY_H_

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spoor/v1/aggregate.pb.h"

namespace spoor {

enum class DpMechanism { kLaplace, kGaussian };

// "laplace" -> kLaplace, "gaussian" -> kGaussian (exact, lower case).
// INVALID_ARGUMENT naming the accepted values for anything else.
absl::StatusOr<DpMechanism> ParseDpMechanism(std::string_view name);

// "laplace" or "gaussian": the inverse of ParseDpMechanism.
std::string_view DpMechanismName(DpMechanism mechanism);

// Uniform doubles in the open interval (0, 1), the randomness behind the
// noise. Implementations say whether they are thread-safe.
class NoiseSource {
 public:
  virtual ~NoiseSource() = default;

  // A uniform double in (0, 1): never 0, never 1.
  virtual double Uniform() = 0;

  // OK while every value returned so far was truly random. A source whose
  // generator failed says so here (and returns some value from Uniform, as it
  // has no other way to fail); AddNoise checks it and releases nothing then.
  // Callers of LaplaceNoise / GaussianNoise check it themselves.
  virtual absl::Status status() const { return absl::OkStatus(); }
};

// The node's noise source: OpenSSL's RAND_bytes (a CSPRNG), 52 random bits
// per value. If RAND_bytes fails (no entropy), status() turns INTERNAL for
// good. Never null. Thread-safe.
std::unique_ptr<NoiseSource> MakeCryptoNoiseSource();

// The privacy one release spent.
struct DpSpend {
  double epsilon = 0;
  double delta = 0;
};

// The node's settings for one release.
struct DpSettings {
  DpMechanism mechanism = DpMechanism::kLaplace;
  // Spent per released aggregate, split evenly over the aggregate's noised
  // quantities (see AddNoise). Must be finite and > 0; with kGaussian also
  // < 1.
  double epsilon = 1.0;
  // kGaussian only, split like epsilon; must be in (0, 1). Ignored (and not
  // spent) with kLaplace.
  double delta = 1e-6;
};

// One draw of Laplace(0, scale) noise by the inverse CDF (one Uniform()).
// `scale` is b (the standard deviation is b * sqrt(2)); requires scale >= 0.
double LaplaceNoise(double scale, NoiseSource& noise);

// One draw of N(0, sigma^2) noise by Box-Muller (two Uniform()s); requires
// sigma >= 0.
double GaussianNoise(double sigma, NoiseSource& noise);

// The classic Gaussian mechanism's sigma = sensitivity * sqrt(2 ln(1.25 /
// delta)) / epsilon for an L2 `sensitivity`. INVALID_ARGUMENT unless
// 0 < epsilon < 1 (the bound is proven only there), 0 < delta < 1 and
// sensitivity is finite and >= 0.
absl::StatusOr<double> GaussianSigma(double sensitivity, double epsilon, double delta);

// The L1 (Laplace) or L2 (Gaussian) sensitivity of a block's stored values
// (all of a DenseVector's values; a SymmetricMatrix's upper triangle, as
// stored) under adding or removing one person, when the algorithm that made
// the block knows it (it clipped its inputs to declared bounds); nullopt when
// the values are sums of unbounded values.
using DpSensitivity = std::function<std::optional<double>(const v1::Block&)>;

// Adds noise to `aggregate` in place and returns the privacy spent.
//
// What is noised, block by block:
//   - CountTable.counts and Histogram.counts: a person falls in one cell, so
//     the table has L1 and L2 sensitivity 1. Each count is rounded to the
//     nearest integer and clamped at 0 after noise. Labels and edges stay.
//   - every block's record_count (sensitivity 1), rounded and clamped at 0,
//     except a DatasetDescription block's (see below).
//   - DenseVector values and SymmetricMatrix upper triangles, with the
//     block's sensitivity from `sensitivity` (not rounded, not clamped).
//   - the payload of Levels blocks is left as it is (DP does not cover which
//     levels exist); their record_count is noised like any other, since it
//     would otherwise publish the exact count the other blocks hide.
//   - DatasetDescription blocks (the catalogue) are left entirely as they
//     are: their record_count is already rounded to a multiple of
//     min_records and the disclosure gate insists on that.
//   Blocks whose counts or values are empty add no noised quantity.
//
// Composition: basic sequential composition over the k noised quantities:
// each count table, histogram, vector and matrix is one quantity, and the
// record counts are one quantity when they are all equal (as they usually
// are: every block made from the same rows; all blocks then carry the same
// noised count) or else one quantity per block. Each quantity gets
// epsilon / k (and delta / k), so the spend is (epsilon, delta) for
// kGaussian, (epsilon, 0) for kLaplace, and (0, 0) when k = 0 (nothing to
// noise). Caveat, accepted for simplicity: whether the record counts are
// all equal is decided from the data, so the shared draw also reveals that
// they are equal, which the epsilon accounting does not cover.
//
// Errors, after which `aggregate` is unchanged (noise is added to a copy):
//   INVALID_ARGUMENT     the settings are out of range (as DpSettings says),
//                        or `sensitivity` returned a value that is not
//                        finite and > 0 for a block
//   FAILED_PRECONDITION  a vector or matrix block with values for which
//                        `sensitivity` returned nullopt: "block 'x' holds sums
//                        of unbounded values; differential privacy covers
//                        counts and bounded sums"
//   the status of `noise` if it failed while drawing.
//
// `sensitivity` is called once per vector or matrix block with values; it
// may be empty (then every such block is refused). Thread-compatible: `noise` must
// not be used by another thread at the same time unless it is thread-safe.
absl::StatusOr<DpSpend> AddNoise(v1::Aggregate& aggregate, const DpSettings& settings,
                                 const DpSensitivity& sensitivity, NoiseSource& noise);

}  // namespace spoor

#endif  // SPOOR_NODE_DIFFERENTIAL_PRIVACY_H_
