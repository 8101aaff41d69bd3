// Tail probabilities and quantiles of the distributions behind the tests the
// algorithms report, as R's pnorm/pt/pchisq/qnorm compute them, to a relative
// error below ~1e-13 wherever the value is a normal double (tests:
// distributions_test.cc against tests/reference/distributions_expected.csv).
// Upper tails are computed directly, never as 1 - lower tail, so p-values
// like 1e-165 keep their digits.
//
// Methods:
//  - normal tail: erfc from the C library;
//  - Student's t: the regularized incomplete beta function,
//    P(T > t) = I_x(df / 2, 1 / 2) / 2 with x = df / (df + t^2), by its
//    continued fraction in Didonato and Morris's form (ACM TOMS 708, 1992),
//    which stays accurate near the mean for large df where Numerical
//    Recipes' betacf (Press et al., 3rd ed., 2007, §6.4) does not;
//  - chi-square: the regularized upper incomplete gamma Q(df / 2, x / 2),
//    by its series (x < df / 2 + 1) or its continued fraction with Lentz's
//    method (Numerical Recipes §6.2);
//  - the factors in front of both, by Loader's saddle-point form (2000), as
//    in R's dbinom;
//  - the normal quantile: Wichura's algorithm AS 241 (Applied Statistics 37,
//    1988), PPND16, as R's qnorm.
// StudentTUpperTail keeps this accuracy for any df (checked against R up to
// df = 1e8); df = +Inf gives the normal tail.
//
// Pure functions of their arguments; thread-safe. Arguments outside the
// domain (NaN, df <= 0, p outside [0, 1]) give NaN.
#ifndef SPOOR_ALGORITHMS_DISTRIBUTIONS_H_
#define SPOOR_ALGORITHMS_DISTRIBUTIONS_H_

namespace spoor {

// P(Z > z) for a standard normal Z.
double NormalUpperTail(double z);

// The p-quantile of the standard normal, 0 < p < 1 (qnorm(p)); -Inf and
// +Inf for p = 0 and 1.
double NormalQuantile(double p);

// P(T > t) for Student's t on df > 0 degrees of freedom (pt(t, df,
// lower.tail = FALSE)); any real t.
double StudentTUpperTail(double t, double df);

// P(X > x) for chi-square on df > 0 degrees of freedom (pchisq(x, df,
// lower.tail = FALSE)); x >= 0.
double ChiSquareUpperTail(double x, double df);

// Two-sided p-values as R's summary tables print them.
inline double TwoSidedNormalP(double z) { return 2.0 * NormalUpperTail(z < 0 ? -z : z); }
inline double TwoSidedStudentP(double t, double df) {
  return 2.0 * StudentTUpperTail(t < 0 ? -t : t, df);
}

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_DISTRIBUTIONS_H_
