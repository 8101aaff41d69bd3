# Reference fits for algorithms/cox_test.cc: survival::coxph on the pooled
# data of three sites, which the federated Cox model must reproduce.
#
# Run from the repository root:  Rscript tests/reference/cox.R
# Needs the survival package (Debian r-cran-survival). Writes, next to this
# script:
#   cox_site1.csv .. cox_site3.csv  three sites of uneven size (300, 120 and
#                                   500 rows); follow-up in whole days, so
#                                   event times are tied; site 2 has no event
#                                   at all (every record censored); a few
#                                   missing biomarker values
#   cox_expected.json               per model: formula, whether strata are
#                                   the sites (the default) or one pooled
#                                   baseline, ties, and coxph's coefficients,
#                                   standard errors, z, p, log-likelihoods,
#                                   the three tests, n, events, iterations.

library(survival)
dir <- "tests/reference"
set.seed(20241123)

make_site <- function(site, n, censor_all = FALSE) {
  age <- round(rnorm(n, 60 + 2 * site, 10))
  sex <- sample(c("F", "M"), n, replace = TRUE)
  stage <- sample(1:3, n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
  marker <- round(rlnorm(n, 1, 0.4), 2)
  lp <- 0.03 * (age - 60) + 0.4 * (sex == "M") + c(0, 0.5, 1.1)[stage] + 0.2 * marker
  t_event <- rexp(n, 0.0004 * site * exp(lp))
  t_censor <- runif(n, 200, 3000)
  time <- pmax(1, ceiling(pmin(t_event, t_censor) / 7) * 7)  # weekly visits: many ties
  status <- as.integer(t_event <= t_censor)
  if (censor_all) status[] <- 0L
  marker[sample(n, 4)] <- NA
  data.frame(site = site, time = time, status = status, age = age, sex = sex,
             stage = stage, marker = marker)
}

sizes <- c(300, 120, 500)
files <- file.path(dir, sprintf("cox_site%d.csv", seq_along(sizes)))
for (k in seq_along(sizes)) {
  write.csv(make_site(k, sizes[k], censor_all = (k == 2)), files[k], row.names = FALSE,
            quote = FALSE, na = "NA")
}
pooled <- do.call(rbind, lapply(files, read.csv))

models <- list(
  list(formula = "Surv(time, status) ~ age + sex", by_site = TRUE, ties = "efron"),
  list(formula = "Surv(time, status) ~ age + sex", by_site = TRUE, ties = "breslow"),
  list(formula = "Surv(time, status) ~ age + sex + factor(stage) + marker", by_site = TRUE,
       ties = "efron"),
  list(formula = "Surv(time, status) ~ age + sex", by_site = FALSE, ties = "efron"),
  list(formula = "Surv(time, status) ~ age + factor(stage) + marker", by_site = FALSE,
       ties = "breslow"),
  list(formula = "Surv(time, status) ~ age + marker + strata(sex)", by_site = TRUE,
       ties = "efron"),
  list(formula = "Surv(time, status) ~ age + sex:marker", by_site = FALSE, ties = "efron")
)

num <- function(x) if (is.na(x)) "null" else sprintf("%.17g", x)

fit_model <- function(m) {
  f <- as.formula(m$formula)
  if (m$by_site) f <- update(f, . ~ . + strata(site))
  fit <- coxph(f, data = pooled, ties = m$ties)
  s <- summary(fit)
  co <- s$coefficients
  rows <- vapply(seq_len(nrow(co)), function(i) sprintf(
    "{\"term\": \"%s\", \"estimate\": %s, \"std_error\": %s, \"hazard_ratio\": %s, \"statistic\": %s, \"p_value\": %s, \"hr_low\": %s, \"hr_high\": %s}",
    rownames(co)[i], num(co[i, "coef"]), num(co[i, "se(coef)"]), num(co[i, "exp(coef)"]),
    num(co[i, "z"]), num(co[i, "Pr(>|z|)"]), num(s$conf.int[i, "lower .95"]),
    num(s$conf.int[i, "upper .95"])), "")
  paste0(
    "  {\n",
    "    \"formula\": \"", m$formula, "\",\n",
    "    \"by_site\": ", if (m$by_site) "true" else "false", ",\n",
    "    \"ties\": \"", m$ties, "\",\n",
    "    \"coefficients\": [\n      ", paste(rows, collapse = ",\n      "), "\n    ],\n",
    "    \"loglik\": [", num(fit$loglik[1]), ", ", num(fit$loglik[2]), "],\n",
    "    \"lr_test\": ", num(2 * (fit$loglik[2] - fit$loglik[1])), ",\n",
    "    \"wald_test\": ", num(fit$wald.test), ",\n",
    "    \"score_test\": ", num(fit$score), ",\n",
    "    \"df\": ", s$logtest["df"], ",\n",
    "    \"n\": ", fit$n, ",\n",
    "    \"events\": ", fit$nevent, ",\n",
    "    \"iterations\": ", fit$iter, "\n",
    "  }")
}

json <- paste0("[\n", paste(vapply(models, fit_model, ""), collapse = ",\n"), "\n]\n")
writeLines(json, file.path(dir, "cox_expected.json"), sep = "")
