#include "algorithms/distributions.h"

#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "algorithms/csv_reader.h"

namespace spoor {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.141592653589793238462643383279502884;

// Fixture from tests/reference/distributions.R; tests run from the repository
// root (ctest's WORKING_DIRECTORY).
constexpr char kExpected[] = "tests/reference/distributions_expected.csv";

double RelativeError(double actual, double expected) {
  return std::fabs(actual - expected) / std::fabs(expected);
}

TEST_CASE("distributions: match R's pnorm, qnorm, pt and pchisq", "[distributions]") {
  absl::StatusOr<DataFrame> frame = ReadCsvFile(kExpected);
  INFO("run the tests from the repository root: " << frame.status().ToString());
  REQUIRE(frame.ok());
  const Column& function = *frame->Find("function");
  const std::vector<double>& x = frame->Find("x")->numbers();
  const std::vector<double>& df = frame->Find("df")->numbers();
  const std::vector<double>& expected = frame->Find("expected")->numbers();
  REQUIRE(function.type() == ColumnType::kCategorical);
  REQUIRE(frame->num_rows() > 100);

  int checked = 0;
  for (size_t i = 0; i < frame->num_rows(); ++i) {
    const std::string& name = function.levels()[function.codes()[i]];
    double actual;
    if (name == "pnorm_upper") {
      actual = NormalUpperTail(x[i]);
    } else if (name == "qnorm") {
      actual = NormalQuantile(x[i]);
    } else if (name == "pt_upper") {
      actual = StudentTUpperTail(x[i], df[i]);
    } else if (name == "pchisq_upper") {
      actual = ChiSquareUpperTail(x[i], df[i]);
    } else {
      FAIL("unknown function in the fixture: " << name);
      continue;
    }
    INFO(name << "(" << x[i] << ", df = " << df[i] << "): R " << expected[i] << ", spoor "
              << actual);
    if (std::fabs(expected[i]) < DBL_MIN) {
      // R underflowed to 0 (or qnorm(0.5) = 0): so must we.
      CHECK(std::fabs(actual) < DBL_MIN);
    } else if (std::fabs(expected[i]) < 1e-100) {
      CHECK(RelativeError(actual, expected[i]) <= 1e-10);
    } else {
      CHECK(RelativeError(actual, expected[i]) <= 1e-12);
    }
    ++checked;
  }
  CHECK(checked == static_cast<int>(frame->num_rows()));
}

// Closed forms, independent of R and of the continued fractions.
TEST_CASE("distributions: closed forms", "[distributions]") {
  for (double x : {0.01, 1.0, 7.5, 100.0, 1400.0}) {
    INFO("x = " << x);
    // Chi-square on 2 df is the exponential with mean 2.
    CHECK(RelativeError(ChiSquareUpperTail(x, 2), std::exp(-x / 2)) <= 1e-13);
    // On 1 df it is the square of a standard normal.
    CHECK(RelativeError(ChiSquareUpperTail(x, 1), std::erfc(std::sqrt(x / 2))) <= 1e-13);
  }
  for (double t : {0.1, 1.0, 3.0, 40.0, 1e6, 1e120, 1e200}) {
    INFO("t = " << t);
    // Cauchy: P(T > t) = atan(1 / t) / pi.
    CHECK(RelativeError(StudentTUpperTail(t, 1), std::atan(1 / t) / kPi) <= 1e-13);
  }
  for (double t : {0.1, 1.0, 3.0, 40.0, 1e6, 1e120}) {
    INFO("t = " << t);
    // Two df: P(T > t) = (1 - t / sqrt(2 + t^2)) / 2, written without
    // cancellation.
    const double s = std::sqrt(2 + t * t);
    CHECK(RelativeError(StudentTUpperTail(t, 2), 1 / (s * (s + t))) <= 1e-13);
  }
}

TEST_CASE("distributions: symmetry and limits", "[distributions]") {
  for (double df : {1.0, 2.5, 30.0, 1e7}) {
    for (double t : {0.3, 2.0, 9.0}) {
      INFO("t = " << t << ", df = " << df);
      CHECK(StudentTUpperTail(-t, df) + StudentTUpperTail(t, df) == Approx(1.0).epsilon(1e-15));
      CHECK(TwoSidedStudentP(-t, df) == 2 * StudentTUpperTail(t, df));
    }
  }
  // df -> infinity is the normal.
  CHECK(StudentTUpperTail(3.0, kInf) == NormalUpperTail(3.0));
  // P_t - P_normal ~ phi(t) (t^3 + t) / (4 df): ~2.5e-13 relative here.
  CHECK(RelativeError(StudentTUpperTail(3.0, 1e14), NormalUpperTail(3.0)) <= 1e-12);
  CHECK(StudentTUpperTail(0.0, 3.0) == 0.5);
  CHECK(StudentTUpperTail(kInf, 3.0) == 0.0);
  CHECK(StudentTUpperTail(-kInf, 3.0) == 1.0);
  CHECK(ChiSquareUpperTail(0.0, 4.0) == 1.0);
  CHECK(ChiSquareUpperTail(kInf, 4.0) == 0.0);
  CHECK(NormalQuantile(0.0) == -kInf);
  CHECK(NormalQuantile(1.0) == kInf);
  CHECK(TwoSidedNormalP(-1.959963984540054) == Approx(0.05).epsilon(1e-14));
  for (double p : {1e-280, 1e-20, 0.001, 0.3, 0.5001}) {
    INFO("p = " << p);
    CHECK(RelativeError(NormalUpperTail(-NormalQuantile(p)), p) <= 1e-13);
  }
}

TEST_CASE("distributions: arguments outside the domain give NaN", "[distributions]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(NormalUpperTail(nan)));
  CHECK(std::isnan(NormalQuantile(-0.1)));
  CHECK(std::isnan(NormalQuantile(1.5)));
  CHECK(std::isnan(NormalQuantile(nan)));
  CHECK(std::isnan(StudentTUpperTail(1.0, 0.0)));
  CHECK(std::isnan(StudentTUpperTail(1.0, -2.0)));
  CHECK(std::isnan(StudentTUpperTail(nan, 3.0)));
  CHECK(std::isnan(ChiSquareUpperTail(1.0, 0.0)));
  CHECK(std::isnan(ChiSquareUpperTail(nan, 1.0)));
}

}  // namespace
}  // namespace spoor
