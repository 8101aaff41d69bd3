#include "algorithms/distributions.h"

#include <cfloat>
#include <cmath>
#include <limits>

// Accuracy notes.
//
// Two things lose digits in textbook code (Numerical Recipes' betai/gammq):
//  - The factor in front of the continued fractions, x^a (1-x)^b / B(a, b)
//    and e^-x x^a / Gamma(a). As exp(a log x + b log(1 - x) - lgamma(a) -
//    lgamma(b) + lgamma(a + b)) the log-gammas cancel: for a = 5e5 (Student's
//    t on 1e6 df) they are ~6e6 and the result keeps ~1e-9 relative. Here
//    both are written with Stirling's series, as Loader ("Fast and accurate
//    computation of binomial probabilities", 2000) does in R's dbinom/dpois,
//    so that only deviance-like terms bd0 and small Stirling remainders are
//    exponentiated:
//      Gamma(z) = sqrt(2 pi / z) (z / e)^z exp(stirlerr(z))
//      x^a y^b / B(a, b) = sqrt(a b / (2 pi (a + b))) *
//          exp(stirlerr(a + b) - stirlerr(a) - stirlerr(b)
//              - bd0(a, (a + b) x) - bd0(b, (a + b) y))
//      e^-x x^a / Gamma(a + 1) = exp(-stirlerr(a) - bd0(a, x)) / sqrt(2 pi a)
//  - The beta continued fraction near the mean, see BetaContinuedFraction.
// Tails are always computed directly; "1 - something" is only taken when
// the result is not small (at worst a loss of one digit).

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kLnSqrt2Pi = 0.918938533204672741780329736406;  // log(sqrt(2 pi))
constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr double kSqrtHalf = 0.707106781186547524400844362104849;
constexpr double kEpsilon = DBL_EPSILON / 2;  // convergence of the series
constexpr double kTiny = 1e-300;              // Lentz's guard against 0
constexpr int kMaxIterations = 100000;        // ~sqrt(max(a, b)) are needed

// lgamma without the global signgam that std::lgamma writes (the callers are
// const algorithms used from several threads; lgamma_r is in glibc and the
// BSD libcs); arguments here are > 0.
double LogGamma(double x) {
  int sign;
  return lgamma_r(x, &sign);
}

// log(Gamma(n)) - [(n - 1/2) log n - n + log sqrt(2 pi)], the error of
// Stirling's formula, as R's stirlerr(): the asymptotic series above 15
// (terms 1/12, 1/360, 1/1260, 1/1680, 1/1188), the log-gamma difference below
// (where it costs at most a few units of 1e-16 absolutely).
double StirlingError(double n) {
  constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
  if (n <= 15.0) return LogGamma(n + 1.0) - (n + 0.5) * std::log(n) + n - kLnSqrt2Pi;
  const double nn = n * n;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

// x log(x / np) + np - x >= 0, the "deviance" term of Loader's saddle-point
// expansion, without cancellation when x is close to np (series in
// v = (x - np) / (x + np)). `diff` is x - np, passed in because the caller
// can often compute it more accurately than by subtracting.
double Bd0(double x, double np, double diff) {
  if (std::fabs(diff) < 0.1 * (x + np)) {
    double v = diff / (x + np);
    double s = diff * v;
    if (std::fabs(s) < DBL_MIN) return s;
    double ej = 2 * x * v;
    v *= v;
    for (int j = 1; j < 1000; ++j) {
      ej *= v;
      const double next = s + ej / (2 * j + 1);
      if (next == s) return next;
      s = next;
    }
  }
  return x * std::log(x / np) + np - x;
}

// x^a y^b / B(a, b) for y = 1 - x, both given accurately by the caller.
double BetaFront(double a, double b, double x, double y) {
  const double c = a + b;
  // a - c x = c y - b; use the form whose product is smaller (less rounding).
  const double diff = x <= y ? a - c * x : c * y - b;
  const double log_front = StirlingError(c) - StirlingError(a) - StirlingError(b) -
                           Bd0(a, c * x, diff) - Bd0(b, c * y, -diff);
  return std::sqrt(a * b / (kTwoPi * c)) * std::exp(log_front);
}

// The continued fraction of I_x(a, b) / (x^a y^b / B(a, b)) in Didonato and
// Morris's form (ACM TOMS 708, 1992, BFRAC), for lambda = (a + b) y - b >= 0,
// i.e. x at or below the mean a / (a + b). It is the contracted fraction of
// Numerical Recipes §6.4 (betacf) with its partial denominators written in
// lambda; betacf itself forms 1 - (a + b) x / (a + 1), which near the mean
// cancels to ~(a + b) y - b and, for Student's t on 1e6 df, keeps only ~1e-11.
// Evaluated by the forward recurrence, rescaled every step.
double BetaContinuedFraction(double a, double b, double x, double y, double lambda) {
  const double c = lambda + 1, c0 = b / a, c1 = 1 / a + 1, yp1 = y + 1;
  double n = 0, p = 1, s = a + 1;
  double an = 0, bn = 1, anp1 = 1, bnp1 = c / c1;
  double r = c1 / c;
  for (int i = 0; i < kMaxIterations; ++i) {
    n += 1;
    double t = n / a;
    const double w = n * (b - n) * x;
    double e = a / s;
    const double alpha = p * (p + c0) * e * e * (w * x);
    e = (t + 1) / (c1 + t + t);
    const double beta = n + w / s + e * (c + n * yp1);
    p = t + 1;
    s += 2;
    t = alpha * an + beta * anp1;
    an = anp1;
    anp1 = t;
    t = alpha * bn + beta * bnp1;
    bn = bnp1;
    bnp1 = t;
    const double previous = r;
    r = anp1 / bnp1;
    if (std::fabs(r - previous) <= kEpsilon * r) return r;
    an /= bnp1;
    bn /= bnp1;
    anp1 = r;
    bnp1 = 1;
  }
  return kNaN;  // not reached for finite a, b > 0 (~sqrt(a + b) steps)
}

// The regularized incomplete beta I_x(a, b), for x + y = 1, with both x and
// y computed accurately by the caller (so tails near x = 1 keep their digits).
// The fraction is summed on the side of the mean where it converges, which
// is also the side where the result is the smaller of I and 1 - I.
double RegularizedBeta(double a, double b, double x, double y) {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  // (a + b) y - b = a - (a + b) x; the form whose product is smaller.
  const double lambda = a > b ? (a + b) * y - b : a - (a + b) * x;
  const double front = BetaFront(a, b, x, y);
  if (lambda >= 0) return front * BetaContinuedFraction(a, b, x, y, lambda);
  return 1 - front * BetaContinuedFraction(b, a, y, x, -lambda);
}

// e^-x x^a / Gamma(a + 1), R's dpois_raw(a, x).
double PoissonTerm(double a, double x) {
  if (x == 0) return a == 0 ? 1 : 0;
  if (a <= x * DBL_MIN) return std::exp(-x);
  if (x < a * DBL_MIN) return std::exp(-x + a * std::log(x) - LogGamma(a + 1));
  return std::exp(-StirlingError(a) - Bd0(a, x, a - x)) / std::sqrt(kTwoPi * a);
}

// The regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a).
double RegularizedUpperGamma(double a, double x) {
  if (x <= 0) return 1;
  if (std::isinf(x)) return 0;
  if (x < a + 1) {
    // Series for P (Numerical Recipes §6.2, gser):
    //   P = e^-x x^a / Gamma(a + 1) * sum_n x^n / ((a + 1) ... (a + n)).
    // Below a + 1, Q >= Q(1/2, 3/2) ~ 0.083 for every df >= 1, so Q = 1 - P
    // loses at most one digit. (Only for df far below 1, where Q -> 0 for
    // any x, would this lose more; no test has such df.)
    double term = 1, sum = 1;
    for (int n = 1; n <= kMaxIterations; ++n) {
      term *= x / (a + n);
      sum += term;
      if (term < sum * kEpsilon) break;
    }
    return 1 - PoissonTerm(a, x) * sum;
  }
  // Continued fraction for Q (Numerical Recipes §6.2, gcf), modified Lentz:
  //   Q = e^-x x^a / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)).
  double b = x + 1 - a;
  double c = 1 / kTiny;
  double d = 1 / b;
  double h = d;
  for (int i = 1; i <= kMaxIterations; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) <= kEpsilon) break;
  }
  // e^-x x^a / Gamma(a) = a * e^-x x^a / Gamma(a + 1).
  return a * PoissonTerm(a, x) * h;
}

// c[0] + c[1] x + ... + c[7] x^7 by Horner's rule (the order of operations
// of R's nested form, so results agree to the bit).
double Polynomial(const double (&c)[8], double x) {
  double sum = c[7];
  for (int i = 6; i >= 0; --i) sum = sum * x + c[i];
  return sum;
}

}  // namespace

double NormalUpperTail(double z) { return 0.5 * std::erfc(z * kSqrtHalf); }

double NormalQuantile(double p) {
  if (std::isnan(p) || p < 0 || p > 1) return kNaN;
  if (p == 0) return -HUGE_VAL;
  if (p == 1) return HUGE_VAL;
  // Wichura's PPND16, as R's qnorm (without R 4.3's refinements for p given
  // on the log scale): rational functions in three regions, coefficients
  // from the lowest power up.
  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) {
    static constexpr double kA[] = {
        3.387132872796366608,  133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
        45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727};
    static constexpr double kB[] = {1.0,
                                    42.313330701600911252,
                                    687.1870074920579083,
                                    5394.1960214247511077,
                                    21213.794301586595867,
                                    39307.89580009271061,
                                    28729.085735721942674,
                                    5226.495278852545925};
    const double r = 0.180625 - q * q;
    return q * Polynomial(kA, r) / Polynomial(kB, r);
  }
  // min(p, 1 - p) < 0.075; 1 - p is exact here (Sterbenz) for p > 0.5.
  const double r = std::sqrt(-std::log(q < 0 ? p : 1 - p));
  double value;
  if (r <= 5.0) {  // min(p, 1 - p) >= exp(-25) ~ 1.4e-11
    static constexpr double kC[] = {1.42343711074968357734,   4.6303378461565452959,
                                    5.7694972214606914055,    3.64784832476320460504,
                                    1.27045825245236838258,   0.24178072517745061177,
                                    0.0227238449892691845833, 7.7454501427834140764e-4};
    static constexpr double kD[] = {1.0,
                                    2.05319162663775882187,
                                    1.6763848301838038494,
                                    0.68976733498510000455,
                                    0.14810397642748007459,
                                    0.0151986665636164571966,
                                    5.475938084995344946e-4,
                                    1.05075007164441684324e-9};
    value = Polynomial(kC, r - 1.6) / Polynomial(kD, r - 1.6);
  } else {
    static constexpr double kE[] = {6.6579046435011037772,     5.4637849111641143699,
                                    1.7848265399172913358,     0.29656057182850489123,
                                    0.026532189526576123093,   0.0012426609473880784386,
                                    2.71155556874348757815e-5, 2.01033439929228813265e-7};
    static constexpr double kF[] = {1.0,
                                    0.59983220655588793769,
                                    0.13692988092273580531,
                                    0.0148753612908506148525,
                                    7.868691311456132591e-4,
                                    1.8463183175100546818e-5,
                                    1.4215117583164458887e-7,
                                    2.04426310338993978564e-15};
    value = Polynomial(kE, r - 5.0) / Polynomial(kF, r - 5.0);
  }
  return q < 0 ? -value : value;
}

double StudentTUpperTail(double t, double df) {
  if (std::isnan(t) || std::isnan(df) || df <= 0) return kNaN;
  if (std::isinf(df)) return NormalUpperTail(t);
  if (t < 0) return 1 - StudentTUpperTail(-t, df);  // >= 0.5: no cancellation
  if (t == 0) return 0.5;
  if (std::isinf(t)) return 0;
  // P(T > t) = I_x(df / 2, 1 / 2) / 2 with x = df / (df + t^2).
  const double ratio = (t / df) * t;  // t^2 / df, without overflowing early
  if (ratio > 1e100) {
    // x underflows or nearly: the leading term of the expansion in x, as
    // R's pt() uses there (relative error ~ 1 / ratio).
    const double a = 0.5 * df;
    const double log_beta = LogGamma(a) + LogGamma(0.5) - LogGamma(a + 0.5);
    return 0.5 * std::exp(-a * (2 * std::log(t) - std::log(df)) - log_beta - std::log(a));
  }
  // x and y = 1 - x each by one division, so that neither inherits the
  // rounding of the other (y is the small one in the upper tail).
  double t2 = t * t, scale = df;
  if (std::isinf(t2)) t2 = ratio, scale = 1;
  const double x = scale / (scale + t2);
  const double y = t2 / (scale + t2);
  return 0.5 * RegularizedBeta(0.5 * df, 0.5, x, y);
}

double ChiSquareUpperTail(double x, double df) {
  if (std::isnan(x) || std::isnan(df) || df <= 0) return kNaN;
  if (x <= 0) return 1;
  return RegularizedUpperGamma(0.5 * df, 0.5 * x);
}

}  // namespace spoor
