# Reference values for algorithms/summary_test.cc: R's n, mean, sd, min, max
# and quantile(type = 7) on the pooled data of three sites, which the
# federated summary must reproduce (quantiles, min and max bit for bit).
#
# Run from the repository root:  Rscript tests/reference/summary.R
# Base R only. Writes, next to this script:
#   summary_site1.csv .. summary_site3.csv   the data of the three sites (180,
#       137 and 250 rows, 567 in all):
#         score   integers 0-10: many ties, some at the quartiles; n = 567
#                 (odd), so the median is one value
#         dose    three decimals, log-normal; one NA, so n = 566 and every
#                 quartile falls between two values (h = 0.25, 0.5, 0.75)
#         bmi     one decimal, with NAs at every site
#         change  two decimals, negative and positive
#         loss    two decimals, all negative, with NAs
#         lab     1e5 plus small noise, four decimals: a large mean with a
#                 small spread, where a naive variance loses digits
#   summary_expected.json   per variable: name, n, missing, mean, sd (R's sd),
#       min, max, q1, median, q3 (quantile(x, c(.25, .5, .75), type = 7)),
#       numbers with 17 significant digits.
#
# The sites' CSVs are read back with read.csv before computing, so R sees the
# doubles spoor's CSV reader sees.

dir <- "tests/reference"
set.seed(20240702)

make_site <- function(site, n) {
  score <- sample(0:10, n, replace = TRUE,
                  prob = c(1, 2, 4, 6, 8, 9, 8, 6, 4, 2, 1))
  dose <- round(rlnorm(n, 1 + 0.1 * site, 0.8), 3)
  bmi <- round(rnorm(n, 26 + site, 4.5), 1)
  change <- round(rnorm(n, -4 + site, 12), 2)
  loss <- -round(rexp(n, 0.05) + 0.01, 2)
  lab <- round(1e5 + rnorm(n, 0, 0.5), 4)
  if (site == 2) dose[17] <- NA
  bmi[sample(n, 5 + 3 * site)] <- NA
  loss[sample(n, 2 * site)] <- NA
  data.frame(score = score, dose = dose, bmi = bmi, change = change,
             loss = loss, lab = lab)
}

sizes <- c(180, 137, 250)
files <- file.path(dir, sprintf("summary_site%d.csv", seq_along(sizes)))
for (k in seq_along(sizes)) {
  write.csv(make_site(k, sizes[k]), files[k], row.names = FALSE, quote = FALSE,
            na = "NA")
}
pooled <- do.call(rbind, lapply(files, read.csv))

num <- function(x) if (is.na(x)) "null" else sprintf("%.17g", x)

describe <- function(name) {
  x <- pooled[[name]]
  v <- x[!is.na(x)]
  q <- quantile(v, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
  sprintf(paste0(
    "  {\"name\": \"%s\", \"n\": %d, \"missing\": %d, \"mean\": %s, \"sd\": %s,\n",
    "   \"min\": %s, \"max\": %s, \"q1\": %s, \"median\": %s, \"q3\": %s}"),
    name, length(v), sum(is.na(x)), num(mean(v)), num(sd(v)), num(min(v)),
    num(max(v)), num(q[1]), num(q[2]), num(q[3]))
}

json <- paste0("[\n", paste(vapply(names(pooled), describe, ""), collapse = ",\n"),
               "\n]\n")
writeLines(json, file.path(dir, "summary_expected.json"), sep = "")
