# Reference two-stage meta-analyses for algorithms/meta_test.cc: R's glm()
# fitted at each of the three sites of tests/reference/glm.R separately, then
# pooled per coefficient by the inverse-variance (fixed effect) and the
# DerSimonian-Laird (random effects) methods.
#
# Run from the repository root:  Rscript tests/reference/meta.R
# Base R only (metafor is not needed; its rma(method = "DL") and rma(method =
# "FE") compute the same quantities). Reads glm_site1.csv .. glm_site3.csv
# (written by glm.R) and writes, next to this script:
#   meta_expected.json   per model: formula, family, weights and per term:
#                        the sites' estimates, standard errors and n (complete
#                        cases), the fixed-effect estimate, standard error and
#                        p-value, the random-effects ones, tau2, Cochran's Q,
#                        its degrees of freedom and p-value, and I2 (percent).
#
# Formulas (DerSimonian & Laird, Controlled Clinical Trials 7:177-188, 1986):
#   w_i = 1 / se_i^2                 fixed:  sum(w b) / sum(w), 1 / sqrt(sum(w))
#   Q = sum(w (b - fixed)^2), df = k - 1
#   tau2 = max(0, (Q - df) / (sum(w) - sum(w^2) / sum(w)))
#   w*_i = 1 / (se_i^2 + tau2)       random: sum(w* b) / sum(w*), 1 / sqrt(sum(w*))
#   I2 = 100 * max(0, (Q - df) / Q)
# p-values: two-sided normal for the estimates, upper chi-square for Q.

dir <- "tests/reference"
files <- file.path(dir, sprintf("glm_site%d.csv", 1:3))
sites <- lapply(files, read.csv)
site_names <- sprintf("site%d", 1:3)

models <- list(
  list(formula = "y_bin ~ age + sex", family = "binomial"),
  list(formula = "y_count ~ age + sex + offset(log(exposure_time))", family = "poisson"),
  list(formula = "y_gauss ~ sex + factor(stage)", family = "gaussian", weights = "w")
)

num <- function(x) {
  if (is.na(x)) "null" else if (is.infinite(x)) (if (x > 0) "1e999" else "-1e999")
  else sprintf("%.17g", x)
}
str <- function(x) if (is.null(x)) "null" else sprintf("\"%s\"", x)

# One site's coefficient table: estimates, standard errors, n.
fit_site <- function(m, data) {
  wsym <- if (is.null(m$weights)) NULL else as.name(m$weights)
  fit <- eval(bquote(glm(.(as.formula(m$formula)), family = .(m$family), data = data,
                         weights = .(wsym))))
  stopifnot(fit$converged)
  table <- summary(fit)$coefficients
  list(estimate = table[, 1], std_error = table[, 2], n = length(fit$y))
}

# Fixed and DerSimonian-Laird random effects for k estimates b with
# standard errors s.
pool <- function(b, s) {
  k <- length(b)
  w <- 1 / s^2
  fixed <- sum(w * b) / sum(w)
  fixed_se <- 1 / sqrt(sum(w))
  q <- sum(w * (b - fixed)^2)
  df <- k - 1
  tau2 <- max(0, (q - df) / (sum(w) - sum(w^2) / sum(w)))
  ws <- 1 / (s^2 + tau2)
  random <- sum(ws * b) / sum(ws)
  random_se <- 1 / sqrt(sum(ws))
  list(fixed_estimate = fixed, fixed_std_error = fixed_se,
       fixed_p_value = 2 * pnorm(abs(fixed / fixed_se), lower.tail = FALSE),
       random_estimate = random, random_std_error = random_se,
       random_p_value = 2 * pnorm(abs(random / random_se), lower.tail = FALSE),
       tau2 = tau2, q = q, q_df = df,
       q_p_value = pchisq(q, df, lower.tail = FALSE),
       i2 = if (q > 0) 100 * max(0, (q - df) / q) else 0)
}

meta_model <- function(m) {
  fits <- lapply(sites, function(d) fit_site(m, d))
  terms <- names(fits[[1]]$estimate)
  for (f in fits) stopifnot(identical(names(f$estimate), terms))
  term_json <- character()
  for (term in terms) {
    b <- vapply(fits, function(f) f$estimate[[term]], 0)
    s <- vapply(fits, function(f) f$std_error[[term]], 0)
    n <- vapply(fits, function(f) f$n, 0L)
    p <- pool(b, s)
    site_rows <- sprintf(
      "{\"site\": %s, \"estimate\": %s, \"std_error\": %s, \"n\": %d}",
      str(site_names), vapply(b, num, ""), vapply(s, num, ""), n)
    stats <- vapply(names(p), function(key) {
      value <- if (key == "q_df") sprintf("%d", as.integer(p[[key]])) else num(p[[key]])
      sprintf("\"%s\": %s", key, value)
    }, "")
    term_json <- c(term_json, paste0(
      "      {\"term\": ", str(term), ",\n",
      "       \"sites\": [", paste(site_rows, collapse = ",\n                 "), "],\n",
      "       ", paste(stats, collapse = ",\n       "), "}"))
  }
  paste0(
    "  {\n",
    "    \"formula\": ", str(m$formula), ",\n",
    "    \"family\": ", str(m$family), ",\n",
    "    \"weights\": ", str(m$weights), ",\n",
    "    \"terms\": [\n", paste(term_json, collapse = ",\n"), "\n    ]\n",
    "  }")
}

json <- paste0("[\n", paste(vapply(models, meta_model, ""), collapse = ",\n"), "\n]\n")
writeLines(json, file.path(dir, "meta_expected.json"), sep = "")
