# Reference tables for algorithms/crosstab_test.cc: R's table() and
# chisq.test(correct = FALSE) on the pooled data of three sites, which the
# federated crosstab must reproduce.
#
# Run from the repository root:  Rscript tests/reference/crosstab.R
# Base R only. Writes, next to this script:
#   crosstab_site1.csv .. crosstab_site3.csv   the data of the three sites
#       (300, 220 and 400 rows; a few missing values in every variable):
#         sex      character F/M
#         stage    integer 1-4 (a numeric variable used as a factor)
#         outcome  character improved/stable/worse, depending on stage
#         dose     0.5, 1, 2.5 or 10 (rare; never at site 2), so the levels
#                  sort numerically ("10" last) and differ between sites
#   crosstab_expected.json   per variable pair: rows, cols, R's row and
#       column labels, counts (row-major), row and column totals, total,
#       chi_square, df, p_value (numbers with 17 significant digits) and
#       the warnings R gave ("Chi-squared approximation may be incorrect").
#
# The sites' CSVs are read back with read.csv before tabulating, so R sees
# what spoor's CSV reader sees.

dir <- "tests/reference"
set.seed(20240618)
# R sorts character levels in the locale's collation; spoor sorts by bytes.
# The labels here are ASCII without mixed case, where the two agree; the C
# collation makes that explicit.
invisible(Sys.setlocale("LC_COLLATE", "C"))

make_site <- function(site, n) {
  sex <- sample(c("F", "M"), n, replace = TRUE, prob = c(0.55, 0.45))
  stage <- sample(1:4, n, replace = TRUE, prob = c(0.35, 0.3, 0.2, 0.15))
  worse <- c(0.15, 0.25, 0.35, 0.5)[stage]
  improved <- (1 - worse) * 0.6
  u <- runif(n)
  outcome <- ifelse(u < improved, "improved", ifelse(u < 1 - worse, "stable", "worse"))
  dose_probs <- if (site == 2) c(0.45, 0.35, 0.2, 0) else c(0.4, 0.34, 0.22, 0.04)
  dose <- sample(c(0.5, 1, 2.5, 10), n, replace = TRUE, prob = dose_probs)
  sex[sample(n, 2 + site)] <- NA
  stage[sample(n, 3)] <- NA
  outcome[sample(n, 1 + 2 * site)] <- NA
  dose[sample(n, 4)] <- NA
  data.frame(site = site, sex = sex, stage = stage, outcome = outcome, dose = dose)
}

sizes <- c(300, 220, 400)
files <- file.path(dir, sprintf("crosstab_site%d.csv", seq_along(sizes)))
for (k in seq_along(sizes)) {
  write.csv(make_site(k, sizes[k]), files[k], row.names = FALSE, quote = FALSE, na = "NA")
}
pooled <- do.call(rbind, lapply(files, read.csv))

pairs <- list(c("sex", "outcome"), c("stage", "outcome"), c("dose", "stage"))

num <- function(v) sprintf("%.17g", v)
json_strings <- function(v) paste0("[", paste0("\"", v, "\"", collapse = ", "), "]")
json_numbers <- function(v) paste0("[", paste(v, collapse = ", "), "]")

cases <- character(0)
for (p in pairs) {
  tab <- table(pooled[[p[1]]], pooled[[p[2]]])
  warnings <- character(0)
  test <- withCallingHandlers(
    chisq.test(tab, correct = FALSE),
    warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  counts <- as.vector(t(unclass(tab)))  # row-major
  cases <- c(cases, paste0(
    "  {\n",
    "    \"rows\": \"", p[1], "\",\n",
    "    \"cols\": \"", p[2], "\",\n",
    "    \"row_labels\": ", json_strings(rownames(tab)), ",\n",
    "    \"col_labels\": ", json_strings(colnames(tab)), ",\n",
    "    \"counts\": ", json_numbers(counts), ",\n",
    "    \"row_totals\": ", json_numbers(as.vector(rowSums(tab))), ",\n",
    "    \"col_totals\": ", json_numbers(as.vector(colSums(tab))), ",\n",
    "    \"total\": ", sum(tab), ",\n",
    "    \"chi_square\": ", num(unname(test$statistic)), ",\n",
    "    \"df\": ", unname(test$parameter), ",\n",
    "    \"p_value\": ", num(test$p.value), ",\n",
    "    \"warnings\": ", if (length(warnings) == 0) "[]" else json_strings(warnings), "\n",
    "  }"))
}
writeLines(c("[", paste(cases, collapse = ",\n"), "]"), file.path(dir, "crosstab_expected.json"))
