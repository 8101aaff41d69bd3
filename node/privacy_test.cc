// Differential privacy (noise and its accounting), the per-dataset privacy
// budget and the differencing guard.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <numbers>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "node/differential_privacy.h"
#include "node/privacy_budget.h"
#include "node/release_history.h"

namespace spoor {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    path = (fs::temp_directory_path() / ("spoor-privacy-" + std::to_string(std::random_device{}())))
               .string();
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

// A reproducible source for tests only: never for released noise.
class SeededNoiseSource final : public NoiseSource {
 public:
  explicit SeededNoiseSource(uint64_t seed) : engine_(seed) {}
  double Uniform() override {
    return (static_cast<double>(engine_() >> 12) + 0.5) / 4503599627370496.0;
  }

 private:
  std::mt19937_64 engine_;
};

// A generator that has failed, as a CSPRNG without entropy would.
class FailedNoiseSource final : public NoiseSource {
 public:
  double Uniform() override { return 0.5; }
  absl::Status status() const override { return absl::InternalError("no entropy"); }
};

struct Moments {
  double mean = 0;
  double mean_abs = 0;
  double variance = 0;  // about 0, the true mean
};

template <typename Draw>
Moments Sample(int n, Draw draw) {
  Moments m;
  for (int i = 0; i < n; ++i) {
    double x = draw();
    m.mean += x;
    m.mean_abs += std::abs(x);
    m.variance += x * x;
  }
  m.mean /= n;
  m.mean_abs /= n;
  m.variance /= n;
  return m;
}

v1::Block* AddTable(v1::Aggregate& aggregate, const std::string& name, std::vector<int64_t> counts,
                    int64_t records) {
  v1::Block* block = aggregate.add_blocks();
  block->set_name(name);
  block->set_record_count(records);
  v1::CountTable* table = block->mutable_count_table();
  table->add_row_labels(std::string("r"));
  for (size_t i = 0; i < counts.size(); ++i) table->add_col_labels(absl::StrCat("c", i));
  for (int64_t count : counts) table->add_counts(count);
  return block;
}

v1::Block* AddVector(v1::Aggregate& aggregate, const std::string& name, std::vector<double> values,
                     int64_t records) {
  v1::Block* block = aggregate.add_blocks();
  block->set_name(name);
  block->set_record_count(records);
  for (double value : values) block->mutable_vector()->add_values(value);
  return block;
}

v1::Block* AddLevels(v1::Aggregate& aggregate, const std::string& name, int64_t records) {
  v1::Block* block = aggregate.add_blocks();
  block->set_name(name);
  block->set_record_count(records);
  for (const char* level : {"F", "M", "X"}) block->mutable_levels()->add_values(level);
  return block;
}

DpSensitivity NoSensitivity() {
  return [](const v1::Block&) { return std::nullopt; };
}

// ---------------------------------------------------------------------------
// Noise

TEST_CASE("mechanism names parse both ways and anything else is refused", "[dp]") {
  CHECK(*ParseDpMechanism("laplace") == DpMechanism::kLaplace);
  CHECK(*ParseDpMechanism("gaussian") == DpMechanism::kGaussian);
  CHECK(DpMechanismName(DpMechanism::kLaplace) == "laplace");
  CHECK(DpMechanismName(DpMechanism::kGaussian) == "gaussian");
  absl::StatusOr<DpMechanism> bad = ParseDpMechanism("exponential");
  REQUIRE(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad.status().message()), Catch::Contains("'exponential'") &&
                                                      Catch::Contains("laplace") &&
                                                      Catch::Contains("gaussian"));
}

TEST_CASE("the crypto source draws from the open interval (0, 1)", "[dp]") {
  std::unique_ptr<NoiseSource> noise = MakeCryptoNoiseSource();
  double low = 1, high = 0, sum = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    double u = noise->Uniform();
    REQUIRE(u > 0);
    REQUIRE(u < 1);
    low = std::min(low, u);
    high = std::max(high, u);
    sum += u;
  }
  CHECK(low < 0.001);
  CHECK(high > 0.999);
  // sd of the mean: sqrt(1/12) / sqrt(n) ~ 0.0009.
  CHECK(std::abs(sum / kDraws - 0.5) < 0.005);
  CHECK(noise->status().ok());
}

TEST_CASE("Laplace noise from the crypto source has the Laplace moments", "[dp]") {
  std::unique_ptr<NoiseSource> noise = MakeCryptoNoiseSource();
  constexpr int kDraws = 100000;
  for (double b : {0.5, 2.0, 40.0}) {
    INFO("scale " << b);
    Moments m = Sample(kDraws, [&] { return LaplaceNoise(b, *noise); });
    double sd = std::sqrt(2.0) * b;
    CHECK(std::abs(m.mean) < 5 * sd / std::sqrt(kDraws));
    CHECK(std::abs(m.mean_abs - b) < 0.02 * b);                  // E|X| = b
    CHECK(std::abs(m.variance - 2 * b * b) < 0.03 * 2 * b * b);  // Var X = 2 b^2
  }
}

TEST_CASE("Gaussian noise from the crypto source has mean 0 and the sigma asked for", "[dp]") {
  std::unique_ptr<NoiseSource> noise = MakeCryptoNoiseSource();
  constexpr int kDraws = 100000;
  for (double sigma : {1.0, 7.5}) {
    INFO("sigma " << sigma);
    Moments m = Sample(kDraws, [&] { return GaussianNoise(sigma, *noise); });
    CHECK(std::abs(m.mean) < 5 * sigma / std::sqrt(kDraws));
    CHECK(std::abs(std::sqrt(m.variance) - sigma) < 0.02 * sigma);
    // E|X| = sigma sqrt(2 / pi) for a normal.
    CHECK(std::abs(m.mean_abs - sigma * std::sqrt(2 / std::numbers::pi)) < 0.02 * sigma);
  }
}

TEST_CASE("a seeded source gives reproducible noise", "[dp]") {
  SeededNoiseSource a(42), b(42), c(43);
  std::vector<double> from_a, from_b, from_c;
  for (int i = 0; i < 10; ++i) {
    from_a.push_back(LaplaceNoise(3, a));
    from_b.push_back(LaplaceNoise(3, b));
    from_c.push_back(LaplaceNoise(3, c));
  }
  CHECK(from_a == from_b);
  CHECK(from_a != from_c);
}

TEST_CASE("Laplace noise is the inverse CDF of the uniform", "[dp]") {
  struct Fixed final : NoiseSource {
    double value;
    double Uniform() override { return value; }
  } fixed;
  fixed.value = 0.5;
  CHECK(LaplaceNoise(2, fixed) == 0);
  // F^-1(u) = b ln(2u) for u < 1/2, -b ln(2 - 2u) above: the quartiles are -+b ln 2.
  fixed.value = 0.25;
  CHECK(LaplaceNoise(2, fixed) == Approx(-2 * std::log(2.0)));
  fixed.value = 0.75;
  CHECK(LaplaceNoise(2, fixed) == Approx(2 * std::log(2.0)));
  fixed.value = 1e-300;  // the extremes stay finite
  CHECK(std::isfinite(LaplaceNoise(2, fixed)));
}

TEST_CASE("the Gaussian sigma follows the classic mechanism and needs epsilon < 1", "[dp]") {
  CHECK(*GaussianSigma(2, 0.5, 1e-5) == Approx(2 * std::sqrt(2 * std::log(1.25 / 1e-5)) / 0.5));
  CHECK(GaussianSigma(1, 1.0, 1e-5).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GaussianSigma(1, 0.5, 0).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GaussianSigma(1, 0.5, 1).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(GaussianSigma(-1, 0.5, 1e-5).status().code() == absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// AddNoise

TEST_CASE("AddNoise turns a count table into noised non-negative integers", "[dp]") {
  v1::Aggregate original;
  AddTable(original, "sex_by_smoker", {120, 30, 55, 0, 3}, 208);
  SeededNoiseSource noise(7);
  DpSettings settings;  // Laplace, epsilon 1

  v1::Aggregate aggregate = original;
  absl::StatusOr<DpSpend> spend = AddNoise(aggregate, settings, NoSensitivity(), noise);
  REQUIRE(spend.ok());
  CHECK(spend->epsilon == 1.0);
  CHECK(spend->delta == 0.0);  // Laplace spends no delta
  const v1::CountTable& table = aggregate.blocks(0).count_table();
  REQUIRE(table.counts_size() == 5);
  for (int64_t count : table.counts()) CHECK(count >= 0);
  CHECK(aggregate.blocks(0).record_count() >= 0);
  CHECK(aggregate.SerializeAsString() != original.SerializeAsString());
  int changed = 0;
  for (int i = 0; i < 5; ++i)
    changed += table.counts(i) != original.blocks(0).count_table().counts(i);
  CHECK(changed > 0);
  // Labels stay.
  CHECK(table.col_labels_size() == 5);
  CHECK(table.row_labels(0) == "r");
}

TEST_CASE("AddNoise is unbiased over many releases, with the composed scale", "[dp]") {
  // One table and the record count: k = 2 quantities, epsilon / 2 each, so
  // Laplace scale b = 1 / (epsilon / 2) = 2 and variance 2 b^2 = 8.
  SeededNoiseSource noise(11);
  DpSettings settings;
  constexpr int kTrials = 4000;
  double sum_cell = 0, sum_sq_cell = 0, sum_total = 0, sum_records = 0;
  for (int t = 0; t < kTrials; ++t) {
    v1::Aggregate aggregate;
    AddTable(aggregate, "t", {120, 30, 55}, 205);
    REQUIRE(AddNoise(aggregate, settings, NoSensitivity(), noise).ok());
    const v1::CountTable& table = aggregate.blocks(0).count_table();
    double error = static_cast<double>(table.counts(0)) - 120;
    sum_cell += error;
    sum_sq_cell += error * error;
    sum_total += static_cast<double>(table.counts(0) + table.counts(1) + table.counts(2));
    sum_records += static_cast<double>(aggregate.blocks(0).record_count());
  }
  // sd of a cell ~ 2.9 (with rounding), of the mean over 4000 ~ 0.05.
  CHECK(std::abs(sum_cell / kTrials) < 0.25);
  CHECK(std::abs(sum_total / kTrials - 205) < 0.4);
  CHECK(std::abs(sum_records / kTrials - 205) < 0.25);
  // Variance 8 plus 1/12 from rounding; the estimate's sd is ~2.4% of it.
  CHECK(sum_sq_cell / kTrials == Approx(8 + 1.0 / 12).epsilon(0.12));
}

TEST_CASE("AddNoise clamps counts at zero", "[dp]") {
  SeededNoiseSource noise(3);
  DpSettings settings;
  settings.epsilon = 0.05;  // scale 40: most zero cells would go negative
  for (int t = 0; t < 200; ++t) {
    v1::Aggregate aggregate;
    AddTable(aggregate, "t", {0, 0, 1}, 1);
    v1::Block* histogram = aggregate.add_blocks();
    histogram->set_name("h");
    histogram->set_record_count(1);
    histogram->mutable_histogram()->add_edges(0);
    histogram->mutable_histogram()->add_edges(1);
    histogram->mutable_histogram()->add_counts(1);
    REQUIRE(AddNoise(aggregate, settings, NoSensitivity(), noise).ok());
    for (int64_t count : aggregate.blocks(0).count_table().counts()) REQUIRE(count >= 0);
    REQUIRE(aggregate.blocks(1).histogram().counts(0) >= 0);
    REQUIRE(aggregate.blocks(0).record_count() >= 0);
    // Histogram edges stay.
    REQUIRE(aggregate.blocks(1).histogram().edges(1) == 1);
  }
}

TEST_CASE("a vector of unbounded sums is refused and the aggregate left unchanged", "[dp]") {
  v1::Aggregate aggregate;
  // The table comes first: a partial noising would show in the bytes.
  AddTable(aggregate, "t", {40, 60}, 100);
  AddVector(aggregate, "sum_age", {4321.5, 12.25}, 100);
  std::string before = aggregate.SerializeAsString();
  SeededNoiseSource noise(1);
  absl::StatusOr<DpSpend> spend = AddNoise(aggregate, DpSettings{}, NoSensitivity(), noise);
  REQUIRE(spend.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(spend.status().message() ==
        "block 'sum_age' holds sums of unbounded values; differential privacy covers counts and "
        "bounded sums");
  CHECK(aggregate.SerializeAsString() == before);

  // No callback at all is the same.
  CHECK(AddNoise(aggregate, DpSettings{}, nullptr, noise).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(aggregate.SerializeAsString() == before);

  // A nonsense sensitivity is the caller's error.
  DpSensitivity zero = [](const v1::Block&) { return 0.0; };
  CHECK(AddNoise(aggregate, DpSettings{}, zero, noise).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(aggregate.SerializeAsString() == before);
}

TEST_CASE("a bounded vector gets Laplace noise of scale sensitivity / (epsilon / k)", "[dp]") {
  // Vector + record count: k = 2; sensitivity 4 and epsilon 1 give b = 8.
  SeededNoiseSource noise(5);
  DpSettings settings;
  std::vector<std::string> asked;
  DpSensitivity sensitivity = [&](const v1::Block& block) -> std::optional<double> {
    asked.push_back(block.name());
    return 4.0;
  };
  constexpr int kTrials = 10000;
  std::vector<double> errors;
  for (int t = 0; t < kTrials; ++t) {
    v1::Aggregate aggregate;
    AddVector(aggregate, "clipped_sum", {10.0, 20.0}, 100);
    REQUIRE(AddNoise(aggregate, settings, sensitivity, noise).ok());
    errors.push_back(aggregate.blocks(0).vector().values(0) - 10.0);
    errors.push_back(aggregate.blocks(0).vector().values(1) - 20.0);
  }
  CHECK(static_cast<int>(asked.size()) == kTrials);
  CHECK(asked.front() == "clipped_sum");
  size_t i = 0;
  Moments m = Sample(static_cast<int>(errors.size()), [&] { return errors[i++]; });
  CHECK(std::abs(m.mean) < 5 * std::sqrt(128.0 / errors.size()));
  CHECK(m.mean_abs == Approx(8).epsilon(0.04));
  CHECK(m.variance == Approx(128).epsilon(0.08));
  // Values are not rounded.
  CHECK(errors[0] != std::round(errors[0]));
}

TEST_CASE("a bounded matrix gets Gaussian noise of the composed sigma", "[dp]") {
  // Matrix + record count: k = 2, so epsilon 0.5 / 2 and delta 1e-5 / 2.
  SeededNoiseSource noise(9);
  DpSettings settings;
  settings.mechanism = DpMechanism::kGaussian;
  settings.epsilon = 0.5;
  settings.delta = 1e-5;
  const double sigma = 3.0 * std::sqrt(2 * std::log(1.25 / 5e-6)) / 0.25;
  DpSensitivity sensitivity = [](const v1::Block&) { return 3.0; };
  constexpr int kTrials = 5000;
  double sum = 0, sum_sq = 0;
  int n = 0;
  for (int t = 0; t < kTrials; ++t) {
    v1::Aggregate aggregate;
    v1::Block* block = aggregate.add_blocks();
    block->set_name("xtx");
    block->set_record_count(500);
    block->mutable_matrix()->set_dimension(2);
    for (double v : {1.0, 2.0, 3.0}) block->mutable_matrix()->add_upper(v);
    absl::StatusOr<DpSpend> spend = AddNoise(aggregate, settings, sensitivity, noise);
    REQUIRE(spend.ok());
    REQUIRE(spend->epsilon == 0.5);
    REQUIRE(spend->delta == 1e-5);
    REQUIRE(aggregate.blocks(0).matrix().dimension() == 2);
    for (int j = 0; j < 3; ++j) {
      double error = aggregate.blocks(0).matrix().upper(j) - (j + 1.0);
      sum += error;
      sum_sq += error * error;
      ++n;
    }
  }
  CHECK(std::abs(sum / n) < 5 * sigma / std::sqrt(n));
  CHECK(std::sqrt(sum_sq / n) == Approx(sigma).epsilon(0.03));
}

TEST_CASE("equal record counts are one quantity with one shared draw", "[dp]") {
  SeededNoiseSource noise(13);
  DpSettings settings;
  settings.epsilon = 0.2;
  for (int t = 0; t < 50; ++t) {
    v1::Aggregate aggregate;
    AddTable(aggregate, "a", {50, 50}, 100);
    AddTable(aggregate, "b", {70, 30}, 100);
    AddLevels(aggregate, "sex", 100);
    REQUIRE(AddNoise(aggregate, settings, NoSensitivity(), noise).ok());
    // Independent draws would let a recipient average them.
    REQUIRE(aggregate.blocks(0).record_count() == aggregate.blocks(1).record_count());
    REQUIRE(aggregate.blocks(1).record_count() == aggregate.blocks(2).record_count());
  }
}

TEST_CASE("the composition splits epsilon over every noised quantity", "[dp]") {
  // Two tables with different record counts: 2 tables + 2 record counts,
  // k = 4, so each table cell gets scale 4 / epsilon = 4 (variance 32).
  SeededNoiseSource noise(17);
  DpSettings settings;
  constexpr int kTrials = 5000;
  double sum_sq = 0, sum_sq_records = 0;
  for (int t = 0; t < kTrials; ++t) {
    v1::Aggregate aggregate;
    AddTable(aggregate, "a", {500}, 500);
    AddTable(aggregate, "b", {400}, 400);
    REQUIRE(AddNoise(aggregate, settings, NoSensitivity(), noise).ok());
    double error = static_cast<double>(aggregate.blocks(0).count_table().counts(0)) - 500;
    sum_sq += error * error;
    double records = static_cast<double>(aggregate.blocks(1).record_count()) - 400;
    sum_sq_records += records * records;
  }
  CHECK(sum_sq / kTrials == Approx(32 + 1.0 / 12).epsilon(0.1));
  CHECK(sum_sq_records / kTrials == Approx(32 + 1.0 / 12).epsilon(0.1));
}

TEST_CASE("levels and descriptions keep their payload; descriptions their count", "[dp]") {
  v1::Aggregate aggregate;
  AddLevels(aggregate, "sex", 100);
  v1::Block* description = aggregate.add_blocks();
  description->set_name("catalogue");
  description->set_record_count(120);
  description->mutable_description()->set_title("Cohort");
  v1::Aggregate original = aggregate;
  SeededNoiseSource noise(19);
  DpSettings settings;
  settings.epsilon = 0.1;  // scale 10: the count moves almost surely
  absl::StatusOr<DpSpend> spend = AddNoise(aggregate, settings, NoSensitivity(), noise);
  REQUIRE(spend.ok());
  CHECK(spend->epsilon == 0.1);  // the levels block's record count
  CHECK(aggregate.blocks(0).levels().SerializeAsString() ==
        original.blocks(0).levels().SerializeAsString());
  CHECK(aggregate.blocks(1).SerializeAsString() == original.blocks(1).SerializeAsString());

  // A description alone noises nothing and spends nothing.
  v1::Aggregate catalogue;
  *catalogue.add_blocks() = original.blocks(1);
  spend = AddNoise(catalogue, settings, NoSensitivity(), noise);
  REQUIRE(spend.ok());
  CHECK(spend->epsilon == 0);
  CHECK(spend->delta == 0);
  CHECK(catalogue.blocks(0).SerializeAsString() == original.blocks(1).SerializeAsString());
}

TEST_CASE("settings out of range are refused before any noise", "[dp]") {
  v1::Aggregate aggregate;
  AddTable(aggregate, "t", {40, 60}, 100);
  std::string before = aggregate.SerializeAsString();
  SeededNoiseSource noise(23);

  DpSettings gaussian;
  gaussian.mechanism = DpMechanism::kGaussian;
  gaussian.epsilon = 1.0;
  absl::StatusOr<DpSpend> spend = AddNoise(aggregate, gaussian, NoSensitivity(), noise);
  REQUIRE(spend.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(spend.status().message()), Catch::Contains("epsilon < 1"));
  gaussian.epsilon = 2.5;
  CHECK(AddNoise(aggregate, gaussian, NoSensitivity(), noise).status().code() ==
        absl::StatusCode::kInvalidArgument);
  gaussian.epsilon = 0.5;
  gaussian.delta = 0;
  CHECK(AddNoise(aggregate, gaussian, NoSensitivity(), noise).status().code() ==
        absl::StatusCode::kInvalidArgument);

  for (double epsilon : {0.0, -1.0, std::nan(""), HUGE_VAL}) {
    DpSettings laplace;
    laplace.epsilon = epsilon;
    CHECK(AddNoise(aggregate, laplace, NoSensitivity(), noise).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  CHECK(aggregate.SerializeAsString() == before);

  // Gaussian with epsilon < 1 is accepted; the spend includes delta.
  gaussian.delta = 1e-6;
  spend = AddNoise(aggregate, gaussian, NoSensitivity(), noise);
  REQUIRE(spend.ok());
  CHECK(spend->epsilon == 0.5);
  CHECK(spend->delta == 1e-6);
}

TEST_CASE("a failed generator releases nothing", "[dp]") {
  v1::Aggregate aggregate;
  AddTable(aggregate, "t", {40, 60}, 100);
  std::string before = aggregate.SerializeAsString();
  FailedNoiseSource noise;
  absl::StatusOr<DpSpend> spend = AddNoise(aggregate, DpSettings{}, NoSensitivity(), noise);
  CHECK(spend.status().code() == absl::StatusCode::kInternal);
  CHECK(aggregate.SerializeAsString() == before);
}

// ---------------------------------------------------------------------------
// PrivacyBudget

DpSpend Epsilon(double epsilon) { return DpSpend{epsilon, 0}; }

TEST_CASE("spends accumulate until the limit, and the refusal records nothing", "[budget]") {
  TempDir dir;
  FakeClock clock;
  auto budget = *PrivacyBudget::Open(dir.path + "/privacy.db", clock);
  CHECK(*budget->Spent("cohort") == 0);
  REQUIRE(budget->Spend("cohort", 1.0, "j1", "j1/1/a", Epsilon(0.4)).ok());
  REQUIRE(budget->Spend("cohort", 1.0, "j2", "j2/1/a", Epsilon(0.4)).ok());
  CHECK(*budget->Spent("cohort") == Approx(0.8));

  absl::Status refused = budget->Spend("cohort", 1.0, "j3", "j3/1/a", Epsilon(0.4));
  REQUIRE(refused.code() == absl::StatusCode::kResourceExhausted);
  CHECK(refused.message() ==
        "privacy budget of dataset 'cohort' is exhausted: spent 0.8 of 1 (this task needs 0.4); "
        "the data steward can review it with spoor node budget");
  CHECK(*budget->Spent("cohort") == Approx(0.8));
  CHECK(budget->List()->at(0).releases == 2);

  // Exactly up to the limit (0.8 + 0.2 in floating point) is allowed.
  REQUIRE(budget->Spend("cohort", 1.0, "j4", "j4/1/a", Epsilon(0.2)).ok());
  CHECK(budget->Spend("cohort", 1.0, "j5", "j5/1/a", Epsilon(1e-6)).code() ==
        absl::StatusCode::kResourceExhausted);
  // A larger limit (the steward raised it) lets the refused task through.
  CHECK(budget->Spend("cohort", 2.0, "j3", "j3/1/a", Epsilon(0.4)).ok());
  CHECK(*budget->Spent("cohort") == Approx(1.4));
}

TEST_CASE("ten spends of a tenth fill a budget of one", "[budget]") {
  TempDir dir;
  FakeClock clock;
  auto budget = *PrivacyBudget::Open(dir.path + "/privacy.db", clock);
  for (int i = 0; i < 10; ++i) {
    INFO("spend " << i);
    REQUIRE(budget->Spend("d", 1.0, "j", absl::StrCat("t", i), Epsilon(0.1)).ok());
  }
  CHECK(budget->Spend("d", 1.0, "j", "t10", Epsilon(0.1)).code() ==
        absl::StatusCode::kResourceExhausted);
}

TEST_CASE("the same task id spends once", "[budget]") {
  TempDir dir;
  FakeClock clock;
  auto budget = *PrivacyBudget::Open(dir.path + "/privacy.db", clock);
  REQUIRE(budget->Spend("cohort", 1.0, "j1", "j1/1/a", Epsilon(0.6)).ok());
  // A retry of the task, even when the budget could not afford it again.
  REQUIRE(budget->Spend("cohort", 1.0, "j1", "j1/1/a", Epsilon(0.6)).ok());
  CHECK(*budget->Spent("cohort") == Approx(0.6));
  CHECK(budget->List()->at(0).releases == 1);
}

TEST_CASE("datasets have separate budgets; List and Reset", "[budget]") {
  TempDir dir;
  FakeClock clock;
  auto budget = *PrivacyBudget::Open(dir.path + "/privacy.db", clock);
  REQUIRE(budget->Spend("zeta", 1.0, "j1", "j1/1/a", DpSpend{0.9, 1e-6}).ok());
  clock.Advance(absl::Hours(1));
  REQUIRE(budget->Spend("alpha", 1.0, "j2", "j2/1/a", Epsilon(0.9)).ok());
  clock.Advance(absl::Hours(1));
  REQUIRE(budget->Spend("alpha", 5.0, "j3", "j3/1/a", Epsilon(0.5)).ok());
  // zeta's spending does not touch alpha's budget and vice versa.
  CHECK(budget->Spend("zeta", 1.0, "j4", "j4/1/a", Epsilon(0.5)).code() ==
        absl::StatusCode::kResourceExhausted);

  std::vector<PrivacyBudget::Entry> entries = *budget->List();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].dataset == "alpha");
  CHECK(entries[0].spent == Approx(1.4));
  CHECK(entries[0].releases == 2);
  CHECK(entries[0].delta_spent == 0);
  CHECK(entries[0].last == FakeClock().Now() + absl::Hours(2));
  CHECK(entries[1].dataset == "zeta");
  CHECK(entries[1].spent == Approx(0.9));
  CHECK(entries[1].delta_spent == Approx(1e-6));
  CHECK(entries[1].releases == 1);
  CHECK(entries[1].last == FakeClock().Now());

  CHECK(*budget->Reset("alpha") == 2);
  CHECK(*budget->Reset("alpha") == 0);
  CHECK(*budget->Reset("never-seen") == 0);
  CHECK(*budget->Spent("alpha") == 0);
  CHECK(*budget->Spent("zeta") == Approx(0.9));
  REQUIRE(budget->List()->size() == 1);
  // After the reset alpha spends again, even a task it saw before.
  CHECK(budget->Spend("alpha", 1.0, "j2", "j2/1/a", Epsilon(0.9)).ok());
  CHECK(*budget->Spent("alpha") == Approx(0.9));
}

TEST_CASE("spends survive reopening the file", "[budget]") {
  TempDir dir;
  FakeClock clock;
  std::string path = dir.path + "/privacy.db";
  {
    auto budget = *PrivacyBudget::Open(path, clock);
    REQUIRE(budget->Spend("cohort", 1.0, "j1", "j1/1/a", Epsilon(0.7)).ok());
  }
  auto budget = *PrivacyBudget::Open(path, clock);
  CHECK(*budget->Spent("cohort") == Approx(0.7));
  CHECK(budget->Spend("cohort", 1.0, "j2", "j2/1/a", Epsilon(0.7)).code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(budget->Spend("cohort", 1.0, "j1", "j1/1/a", Epsilon(0.7)).ok());  // still idempotent
}

TEST_CASE("concurrent spends never overshoot the limit", "[budget]") {
  TempDir dir;
  FakeClock clock;
  std::string path = dir.path + "/privacy.db";
  // Two handles on one file, as the node and the CLI would be.
  auto node = *PrivacyBudget::Open(path, clock);
  auto other = *PrivacyBudget::Open(path, clock);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      PrivacyBudget& budget = t % 2 ? *node : *other;
      for (int i = 0; i < 20; ++i) {
        std::string task = absl::StrCat(t, "/", i);
        absl::Status status = budget.Spend("cohort", 5.0, "j", task, Epsilon(0.1));
        if (status.ok()) {
          ++granted;
        } else {
          CHECK(status.code() == absl::StatusCode::kResourceExhausted);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(granted.load() == 50);
  CHECK(*node->Spent("cohort") == Approx(5.0));
}

TEST_CASE("invalid spends are refused", "[budget]") {
  TempDir dir;
  FakeClock clock;
  auto budget = *PrivacyBudget::Open(dir.path + "/privacy.db", clock);
  CHECK(budget->Spend("cohort", 1.0, "j", "t", Epsilon(-0.1)).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(budget->Spend("cohort", std::nan(""), "j", "t", Epsilon(0.1)).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(budget->Spend("cohort", 1.0, "j", "t", DpSpend{0.1, HUGE_VAL}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(budget->Spend("", 1.0, "j", "t", Epsilon(0.1)).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(budget->Spend("cohort", 1.0, "j", "", Epsilon(0.1)).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(budget->List()->empty());
}

TEST_CASE("a budget file that cannot be opened is FAILED_PRECONDITION", "[budget]") {
  TempDir dir;
  FakeClock clock;
  CHECK(PrivacyBudget::Open(dir.path + "/missing/dir/privacy.db", clock).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------
// RowSubset and ReleaseHistory

RowSubset Range(int64_t rows, int64_t begin, int64_t end) {
  RowSubset subset(rows);
  for (int64_t i = begin; i < end; ++i) subset.Set(i);
  return subset;
}

TEST_CASE("a row subset sets, counts and round-trips its bitmap", "[history]") {
  RowSubset subset(130);
  for (int64_t row : {0, 1, 63, 64, 127, 129}) subset.Set(row);
  CHECK(subset.rows() == 130);
  CHECK(subset.count() == 6);
  CHECK(subset.Get(63));
  CHECK(subset.Get(129));
  CHECK_FALSE(subset.Get(2));
  CHECK_FALSE(subset.Get(128));

  std::string bytes = subset.Serialize();
  REQUIRE(bytes.size() == 3 * 8);
  // Little-endian words: row 0 and 1 are the low bits of byte 0, row 63 the
  // top bit of byte 7, row 64 the low bit of byte 8.
  CHECK(static_cast<unsigned char>(bytes[0]) == 0x03);
  CHECK(static_cast<unsigned char>(bytes[7]) == 0x80);
  CHECK(static_cast<unsigned char>(bytes[8]) == 0x01);
  CHECK(static_cast<unsigned char>(bytes[16]) == 0x02);  // row 129 = word 2, bit 1

  absl::StatusOr<RowSubset> parsed = RowSubset::Parse(bytes, 130);
  REQUIRE(parsed.ok());
  CHECK(*parsed == subset);
  CHECK(parsed->count() == 6);

  CHECK(RowSubset(0).Serialize().empty());
  CHECK(RowSubset::Parse("", 0).ok());
  CHECK(RowSubset(64).Serialize().size() == 8);
  CHECK(RowSubset(65).Serialize().size() == 16);
}

TEST_CASE("parsing a row subset rejects the wrong size and stray bits", "[history]") {
  std::string bytes = Range(130, 0, 10).Serialize();
  CHECK(RowSubset::Parse(bytes, 129).ok());  // 129 rows: still three words
  CHECK(RowSubset::Parse(bytes, 128).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(RowSubset::Parse(bytes, 193).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(RowSubset::Parse(bytes.substr(0, 23), 130).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(RowSubset::Parse(bytes, -1).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(RowSubset::Parse(bytes, std::numeric_limits<int64_t>::max()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  // Row 5 of a 5-row dataset does not exist.
  std::string stray(8, '\0');
  stray[0] = 0x20;
  CHECK(RowSubset::Parse(stray, 5).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(RowSubset::Parse(stray, 6).ok());
}

TEST_CASE("the symmetric difference counts rows in exactly one subset", "[history]") {
  CHECK(SymmetricDifference(Range(200, 0, 100), Range(200, 0, 100)) == 0);
  CHECK(SymmetricDifference(Range(200, 0, 100), Range(200, 0, 99)) == 1);
  CHECK(SymmetricDifference(Range(200, 0, 100), Range(200, 50, 150)) == 100);
  CHECK(SymmetricDifference(Range(200, 0, 200), RowSubset(200)) == 200);
}

TEST_CASE("the differencing guard refuses a query a few rows from a released one", "[history]") {
  TempDir dir;
  FakeClock clock;
  auto history = *ReleaseHistory::Open(dir.path + "/releases.db", clock);
  RowSubset released = Range(1000, 100, 400);  // e.g. age > 50

  REQUIRE(history->Check("cohort", "v1", released, 10).ok());  // nothing released yet
  REQUIRE(history->Record("cohort", "v1", released).ok());
  CHECK(*history->Count("cohort") == 1);

  SECTION("one row fewer is refused, without naming the row or the count") {
    RowSubset without_317(1000);
    for (int64_t i = 100; i < 400; ++i) {
      if (i != 317) without_317.Set(i);
    }
    absl::Status status = history->Check("cohort", "v1", without_317, 10);
    REQUIRE(status.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(status.message() ==
          "differencing guard: this query's rows differ from an earlier released query on "
          "dataset 'cohort' by fewer than the minimum of 10 records; a difference of the two "
          "results would reveal them");
    CHECK_THAT(std::string(status.message()), !Catch::Contains("317") && !Catch::Contains(" 1 "));
  }
  SECTION("nine rows more is refused; so is a swap of rows") {
    CHECK(history->Check("cohort", "v1", Range(1000, 100, 409), 10).code() ==
          absl::StatusCode::kFailedPrecondition);
    // Same size, two rows swapped: sizes alone cannot tell.
    RowSubset swapped = Range(1000, 101, 401);
    CHECK(history->Check("cohort", "v1", swapped, 10).code() ==
          absl::StatusCode::kFailedPrecondition);
  }
  SECTION("ten rows apart or more is allowed") {
    CHECK(history->Check("cohort", "v1", Range(1000, 100, 410), 10).ok());
    CHECK(history->Check("cohort", "v1", Range(1000, 110, 400), 10).ok());
    CHECK(history->Check("cohort", "v1", Range(1000, 105, 405), 10).ok());  // 5 + 5
    CHECK(history->Check("cohort", "v1", Range(1000, 500, 800), 10).ok());
  }
  SECTION("the same rows again are allowed, and not stored twice") {
    CHECK(history->Check("cohort", "v1", released, 10).ok());
    REQUIRE(history->Record("cohort", "v1", released).ok());
    CHECK(*history->Count("cohort") == 1);
  }
  SECTION("new data start a new history; other datasets have their own") {
    RowSubset one_fewer = Range(1000, 101, 400);
    CHECK(history->Check("cohort", "v2", one_fewer, 10).ok());
    CHECK(history->Check("registry", "v1", one_fewer, 10).ok());
    CHECK_FALSE(history->Check("cohort", "v1", one_fewer, 10).ok());
    // A different number of rows is a different dataset content.
    CHECK(history->Check("cohort", "v1", Range(1001, 101, 400), 10).ok());
    // min_records 1: no difference is too small.
    CHECK(history->Check("cohort", "v1", one_fewer, 1).ok());
  }
}

TEST_CASE("the guard compares against every earlier release", "[history]") {
  TempDir dir;
  FakeClock clock;
  auto history = *ReleaseHistory::Open(dir.path + "/releases.db", clock);
  REQUIRE(history->Record("cohort", "v1", Range(500, 0, 100)).ok());
  REQUIRE(history->Record("cohort", "v1", Range(500, 200, 300)).ok());
  REQUIRE(history->Record("cohort", "v1", Range(500, 0, 500)).ok());
  CHECK(*history->Count("cohort") == 3);
  CHECK(history->Check("cohort", "v1", Range(500, 203, 300), 5).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(history->Check("cohort", "v1", Range(500, 0, 498), 5).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(history->Check("cohort", "v1", Range(500, 0, 150), 5).ok());
}

TEST_CASE("CheckAndRecord records only what passes", "[history]") {
  TempDir dir;
  FakeClock clock;
  auto history = *ReleaseHistory::Open(dir.path + "/releases.db", clock);
  REQUIRE(history->CheckAndRecord("cohort", "v1", Range(100, 0, 50), 10).ok());
  CHECK(history->CheckAndRecord("cohort", "v1", Range(100, 0, 49), 10).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(*history->Count("cohort") == 1);
  REQUIRE(history->CheckAndRecord("cohort", "v1", Range(100, 0, 60), 10).ok());
  CHECK(*history->Count("cohort") == 2);
  // The recorded one now guards too.
  CHECK(history->Check("cohort", "v1", Range(100, 0, 61), 10).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("the release history survives reopening the file", "[history]") {
  TempDir dir;
  FakeClock clock;
  std::string path = dir.path + "/releases.db";
  {
    auto history = *ReleaseHistory::Open(path, clock);
    REQUIRE(history->Record("cohort", "v1", Range(300, 0, 200)).ok());
    REQUIRE(history->Record("cohort", "v2", Range(300, 0, 250)).ok());
  }
  auto history = *ReleaseHistory::Open(path, clock);
  CHECK(*history->Count("cohort") == 2);
  CHECK(*history->Count("other") == 0);
  CHECK(history->Check("cohort", "v1", Range(300, 0, 199), 10).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(history->Check("cohort", "v1", Range(300, 0, 250), 10).ok());
}

TEST_CASE("checking a million rows against 50 releases is fast", "[history]") {
  TempDir dir;
  FakeClock clock;
  auto history = *ReleaseHistory::Open(dir.path + "/releases.db", clock);
  constexpr int64_t kRows = 1'000'000;
  std::mt19937_64 random(29);
  std::bernoulli_distribution half(0.5);
  RowSubset base(kRows);
  for (int64_t i = 0; i < kRows; ++i) {
    if (half(random)) base.Set(i);
  }
  // `base` with 40 more rows from `from` on.
  auto plus_40 = [&](int64_t from) {
    RowSubset subset = base;
    for (int64_t i = from, added = 0; added < 40; ++i) {
      if (!subset.Get(i)) {
        subset.Set(i);
        ++added;
      }
    }
    return subset;
  };
  // 50 releases that differ only near the end of the bitmap and all have the
  // same size, so neither the size shortcut nor the early exit saves much.
  for (int r = 0; r < 50; ++r) {
    REQUIRE(history->Record("big", "v1", plus_40(kRows - 10'000 + r * 150)).ok());
  }
  REQUIRE(*history->Count("big") == 50);

  // 80 rows from every release (40 of its own, 40 of the query's).
  RowSubset query = plus_40(kRows - 20'000);
  auto start = std::chrono::steady_clock::now();
  CHECK(history->Check("big", "v1", query, 80).ok());
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(history->Check("big", "v1", query, 81).code() == absl::StatusCode::kFailedPrecondition);
  WARN("checking 1,000,000 rows against 50 releases took "
       << std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() << " us");
}

}  // namespace
}  // namespace spoor
