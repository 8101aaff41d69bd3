# Reference tail probabilities and quantiles for
# algorithms/distributions_test.cc, from R's own pnorm, qnorm, pt and pchisq
# (R 4.2; pt and pchisq go through TOMS 708's bratio and R's pgamma, which
# are independent of spoor's continued fractions).
#
# Run from the repository root:  Rscript tests/reference/distributions.R
# Base R only. Writes, next to this script:
#   distributions_expected.csv   function,x,df,expected
# with function one of
#   pnorm_upper    pnorm(x, lower.tail = FALSE)         (df is NA)
#   qnorm          qnorm(x)                             (df is NA)
#   pt_upper       pt(x, df, lower.tail = FALSE)
#   pchisq_upper   pchisq(x, df, lower.tail = FALSE)
# Numbers are written with 17 significant digits, so they read back as the
# same doubles.

dir <- "tests/reference"

t_values <- c(0, 0.5, 2, 3.16, 8.9, 31, 57, -2, -8.9)
t_df <- c(1, 2.5, 10, 1523, 1e6)
chisq_values <- c(0, 1e-3, 0.5, 1, 2, 3.84, 5, 10, 30, 50, 100, 150, 300, 600, 900)
chisq_df <- c(1, 2, 3, 10, 100)
z_values <- c(-3, 0, 0.5, 1.96, 5, 8.9, 20, 30, 37)
p_values <- c(1e-300, 1e-10, 0.025, 0.5, 0.975, 1 - 1e-10)

rows <- list()
add <- function(fun, x, df, expected) {
  rows[[length(rows) + 1]] <<- data.frame(fun = fun, x = x, df = df, expected = expected)
}
for (z in z_values) add("pnorm_upper", z, NA, pnorm(z, lower.tail = FALSE))
for (p in p_values) add("qnorm", p, NA, qnorm(p))
for (df in t_df) {
  for (t in t_values) add("pt_upper", t, df, pt(t, df, lower.tail = FALSE))
}
for (df in chisq_df) {
  for (x in chisq_values) add("pchisq_upper", x, df, pchisq(x, df, lower.tail = FALSE))
}
d <- do.call(rbind, rows)

num <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))
lines <- c("function,x,df,expected",
           paste(d$fun, num(d$x), num(d$df), num(d$expected), sep = ","))
writeLines(lines, file.path(dir, "distributions_expected.csv"))
