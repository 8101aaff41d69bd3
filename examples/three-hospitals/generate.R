#!/usr/bin/env Rscript
# Synthetic cohorts for the spoor three-hospital demo. Base R only.
#
#   Rscript examples/three-hospitals/generate.R [OUTPUT_DIR]
#
# Writes hospital-a.csv (3000 rows), hospital-b.csv (2200) and hospital-c.csv
# (4100) to OUTPUT_DIR, by default the directory this script lives in. The
# output is reproducible: same seed, same RNG kinds, same bytes.
#
# Columns
#   id             integer, 1..n, unique within a site
#   age            integer years, 30-90; site means 58, 64 and 54
#   sex            F or M
#   bmi            one decimal, about N(27, 4.5) truncated to 15-55; ~3% missing (empty)
#   smoker         never, former or current (site-specific mix)
#   sbp            systolic blood pressure, integer mmHg; rises with age and bmi, higher in men
#   stage          integer 1-4 (site-specific mix)
#   followup_days  integer days to the event or to censoring; administrative censoring at 3650
#   event          0/1: the event happened during follow-up
#
# The event follows a logistic model, so a logistic GLM over the pooled data
# finds real effects (and a null one for sex):
#   logit P(event) = -1.6 + 0.04 (age - 60) + 0.05 (bmi - 27)
#                    + 0.35 [former] + 0.85 [current]
#                    + 0.5 [stage 2] + 1.0 [stage 3] + 1.7 [stage 4]
#                    + site effect (0, +0.1, -0.1)
# Sex has no effect on the event. Rows with missing bmi use the true
# (unrecorded) value, so the missingness is completely at random.
# Event times are earlier for people at higher risk, so Kaplan-Meier curves
# and a Cox model on (followup_days, event) show the same covariate effects.

RNGkind(kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")
set.seed(20261123)

script_dir <- function() {
  file_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(file_arg) == 1) {
    return(dirname(normalizePath(sub("^--file=", "", file_arg))))
  }
  getwd()
}

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else script_dir()
if (!dir.exists(out_dir)) dir.create(out_dir, recursive = TRUE)

clamp <- function(x, lo, hi) pmin(pmax(x, lo), hi)

sites <- list(
  list(file = "hospital-a.csv", n = 3000, age_mean = 58, site_effect = 0.0,
       smoker = c(never = 0.50, former = 0.30, current = 0.20),
       stage = c(0.35, 0.30, 0.20, 0.15)),
  list(file = "hospital-b.csv", n = 2200, age_mean = 64, site_effect = 0.1,
       smoker = c(never = 0.45, former = 0.35, current = 0.20),
       stage = c(0.25, 0.30, 0.25, 0.20)),
  list(file = "hospital-c.csv", n = 4100, age_mean = 54, site_effect = -0.1,
       smoker = c(never = 0.55, former = 0.25, current = 0.20),
       stage = c(0.40, 0.30, 0.18, 0.12))
)

smoker_effect <- c(never = 0, former = 0.35, current = 0.85)
stage_effect <- c(0, 0.5, 1.0, 1.7)
max_followup <- 3650

make_site <- function(site) {
  n <- site$n
  id <- seq_len(n)
  age <- as.integer(clamp(round(rnorm(n, site$age_mean, 11)), 30, 90))
  sex <- sample(c("F", "M"), n, replace = TRUE, prob = c(0.52, 0.48))
  bmi_true <- round(clamp(rnorm(n, 27, 4.5), 15, 55), 1)
  smoker <- sample(names(site$smoker), n, replace = TRUE, prob = site$smoker)
  sbp <- as.integer(clamp(round(
    95 + 0.6 * age + 5 * (sex == "M") + 0.8 * (bmi_true - 27) + rnorm(n, 0, 14)), 80, 230))
  stage <- sample(1:4, n, replace = TRUE, prob = site$stage)

  lp <- -1.6 + 0.04 * (age - 60) + 0.05 * (bmi_true - 27) +
    smoker_effect[smoker] + stage_effect[stage] + site$site_effect
  event <- rbinom(n, 1, plogis(lp))

  # Time to event: exponential with a rate rising with risk, truncated to the
  # follow-up window (inverse CDF of the truncated exponential).
  rate <- exp(-7.5 + 0.6 * lp)
  u <- runif(n)
  t_event <- -log(1 - u * (1 - exp(-rate * max_followup))) / rate
  # Without an event: followed to the end of the study, or lost to follow-up.
  lost <- runif(n) < 0.3
  t_censor <- ifelse(lost, runif(n, 30, max_followup), max_followup)
  followup_days <- as.integer(clamp(ceiling(ifelse(event == 1, t_event, t_censor)),
                                    1, max_followup))

  bmi <- bmi_true
  bmi[runif(n) < 0.03] <- NA

  data.frame(id = id, age = age, sex = sex, bmi = bmi, smoker = unname(smoker),
             sbp = sbp, stage = stage, followup_days = followup_days,
             event = as.integer(event), stringsAsFactors = FALSE)
}

for (site in sites) {
  d <- make_site(site)
  path <- file.path(out_dir, site$file)
  write.csv(d, path, row.names = FALSE, na = "", quote = FALSE)
  cat(sprintf("wrote %s: %d rows, %d events, %d missing bmi\n",
              path, nrow(d), sum(d$event), sum(is.na(d$bmi))))
}
