# Reference Kaplan-Meier curves for algorithms/km_test.cc: R's survfit() and
# summary.survfit() on the pooled data of three sites, which the federated
# "km" algorithm must reproduce.
#
# Run from the repository root:  Rscript tests/reference/km.R
# Needs the survival package. Writes, next to this script:
#   km_site1.csv .. km_site3.csv  the data of the three sites (300, 220 and
#                                 450 rows): follow-up in whole days (many
#                                 ties), status coded 0/1, sex (F/M), stage
#                                 (1, 2, 3: numeric, used as a factor) and a
#                                 few missing values in every column
#   km_expected.json              per case (time_bin, by): per stratum, R's
#                                 stratum name, n, events, median (print.
#                                 survfit), the rows summary(survfit()) prints
#                                 (time, n.risk, n.event, surv, std.err,
#                                 lower, upper; conf.type = "log-log") and the
#                                 censoring times and counts of the full
#                                 survfit object. NA (e.g. std.err once the
#                                 curve reaches 0, or a median never reached)
#                                 is null.
#
# The sites' CSVs are read back before fitting so R and spoor see the same
# doubles. The binned cases apply the node's rule in R: ceiling(t / bin) * bin.

library(survival)

dir <- "tests/reference"
set.seed(20240617)

make_site <- function(site, n) {
  sex <- sample(c("F", "M"), n, replace = TRUE, prob = c(0.5, 0.5))
  stage <- sample(1:3, n, replace = TRUE, prob = c(0.45, 0.35, 0.2))
  rate <- c(1, 1.6, 2.8)[stage] * ifelse(sex == "M", 1.3, 1)
  event_time <- ceiling(rweibull(n, shape = 1.2, scale = (1100 + 150 * site) / rate))
  censor_time <- ceiling(runif(n, 30, 2400))
  days <- pmin(event_time, censor_time)
  status <- as.integer(event_time <= censor_time)
  days[sample(n, 2 + site)] <- NA
  status[sample(n, 2)] <- NA
  sex[sample(n, 3)] <- NA
  stage[sample(n, site)] <- NA
  data.frame(site = site, days = days, status = status, sex = sex, stage = stage)
}

sizes <- c(300, 220, 450)
sites <- lapply(seq_along(sizes), function(k) make_site(k, sizes[k]))
# One record beyond everyone else's follow-up, with an event: the pooled
# curve, the sex=F and the stage=3 curves end at 0, where std.err and the
# confidence limits are NA in R.
sites[[2]][1, c("days", "status", "sex", "stage")] <- list(3000, 1L, "F", 3L)

files <- file.path(dir, sprintf("km_site%d.csv", seq_along(sizes)))
for (k in seq_along(sizes)) {
  write.csv(sites[[k]], files[k], row.names = FALSE, quote = FALSE, na = "NA")
}
pooled <- do.call(rbind, lapply(files, read.csv))

cases <- list(
  list(by = NULL, time_bin = 0),
  list(by = "sex", time_bin = 0),
  list(by = "stage", time_bin = 0),
  list(by = NULL, time_bin = 30),
  list(by = "sex", time_bin = 30),
  list(by = "stage", time_bin = 7)
)

num <- function(x) {
  if (is.na(x)) "null" else if (is.infinite(x)) (if (x > 0) "1e999" else "-1e999")
  else sprintf("%.17g", x)
}
nums <- function(x) paste0("[", paste(vapply(x, num, ""), collapse = ", "), "]")
str <- function(x) if (is.null(x)) "null" else sprintf("\"%s\"", x)

# print.survfit's median: the first time the curve is at or below 0.5, or,
# where it is exactly 0.5, the midpoint to the next drop.
median_of <- function(fit) {
  table <- summary(fit)$table
  if (is.matrix(table)) table[, "median"] else table[["median"]]
}

run_case <- function(case) {
  d <- pooled
  if (case$time_bin > 0) d$days <- ceiling(d$days / case$time_bin) * case$time_bin
  rhs <- if (is.null(case$by)) "1" else case$by
  fit <- survfit(as.formula(paste("Surv(days, status) ~", rhs)), data = d,
                 conf.type = "log-log")
  s <- summary(fit)
  strata_names <- if (is.null(fit$strata)) "" else names(fit$strata)
  fit_strata <- if (is.null(fit$strata)) rep(1L, length(fit$time)) else
    rep(seq_along(fit$strata), fit$strata)
  sum_strata <- if (is.null(s$strata)) rep(1L, length(s$time)) else as.integer(s$strata)
  medians <- median_of(fit)
  curves <- character()
  for (j in seq_along(strata_names)) {
    rows <- sum_strata == j
    all_rows <- fit_strata == j
    censored <- all_rows & fit$n.censor > 0
    curves <- c(curves, paste0(
      "      {\"stratum\": ", str(strata_names[j]),
      ", \"n\": ", fit$n[j],
      ", \"events\": ", sum(fit$n.event[all_rows]),
      ", \"median\": ", num(medians[j]), ",\n",
      "       \"time\": ", nums(s$time[rows]), ",\n",
      "       \"n_risk\": ", nums(s$n.risk[rows]), ",\n",
      "       \"n_event\": ", nums(s$n.event[rows]), ",\n",
      "       \"surv\": ", nums(s$surv[rows]), ",\n",
      "       \"std_err\": ", nums(s$std.err[rows]), ",\n",
      "       \"lower\": ", nums(s$lower[rows]), ",\n",
      "       \"upper\": ", nums(s$upper[rows]), ",\n",
      "       \"censor_time\": ", nums(fit$time[censored]), ",\n",
      "       \"n_censor\": ", nums(fit$n.censor[censored]), "}"))
  }
  paste0(
    "  {\n",
    "    \"by\": ", str(case$by), ",\n",
    "    \"time_bin\": ", case$time_bin, ",\n",
    "    \"curves\": [\n", paste(curves, collapse = ",\n"), "\n    ]\n",
    "  }")
}

json <- paste0(
  "{\n",
  "\"time\": \"days\",\n",
  "\"event\": \"status\",\n",
  "\"sites\": [", paste(vapply(basename(files), str, ""), collapse = ", "), "],\n",
  "\"cases\": [\n", paste(vapply(cases, run_case, ""), collapse = ",\n"), "\n]\n",
  "}\n")
writeLines(json, file.path(dir, "km_expected.json"), sep = "")
