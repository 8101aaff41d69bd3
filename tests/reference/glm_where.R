# Reference fits for `spoor glm --where` (tests/integration/cli_analysis_test.cc):
# R's glm() on subset() of the pooled glm_site*.csv data (made by glm.R),
# with the condition written once for spoor and once for R.
#
# Run from the repository root:  Rscript tests/reference/glm_where.R
# Base R only. Writes glm_where_expected.json next to this script: per model
# the formula, family, spoor's --where, R's subset condition, the terms with
# estimates and standard errors, and n.

dir <- "tests/reference"
files <- file.path(dir, sprintf("glm_site%d.csv", 1:3))
pooled <- do.call(rbind, lapply(files, read.csv))

models <- list(
  list(formula = "y_bin ~ age + sex", family = "binomial",
       where = "age >= 50 && stage %in% c(2, 3)",
       r = quote(age >= 50 & stage %in% c(2, 3))),
  list(formula = "y_gauss ~ age + factor(stage)", family = "gaussian",
       where = "sex == 'F' && !is.na(age) && !(stage == 4)",
       r = quote(sex == "F" & !is.na(age) & !(stage == 4)))
)

num <- function(x) sprintf("%.17g", x)
out <- character()
for (m in models) {
  data <- pooled[eval(m$r, pooled) %in% TRUE, ]  # as subset(): NA drops the row
  fit <- glm(as.formula(m$formula), family = m$family, data = data)
  s <- summary(fit)$coefficients
  coefs <- sprintf("{\"term\": \"%s\", \"estimate\": %s, \"std_error\": %s}",
                   rownames(s), num(s[, 1]), num(s[, 2]))
  out <- c(out, sprintf(
    "{\"formula\": \"%s\", \"family\": \"%s\", \"where\": \"%s\", \"n\": %d, \"coefficients\": [%s]}",
    m$formula, m$family, m$where, nobs(fit), paste(coefs, collapse = ", ")))
}
writeLines(c("[", paste(out, collapse = ",\n"), "]"), file.path(dir, "glm_where_expected.json"))
