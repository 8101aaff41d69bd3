# Reference fits for algorithms/glm_test.cc: R's glm() on the pooled data of
# three sites, which the federated GLM must reproduce.
#
# Run from the repository root:  Rscript tests/reference/glm.R
# Base R only. Writes, next to this script:
#   glm_site1.csv .. glm_site3.csv   the data of the three sites (400, 250
#                                    and 900 rows; a few missing ages)
#   glm_expected.json                per model: formula, family, weights,
#                                    max_iterations, R's coefficient table
#                                    (aliased terms have null estimates),
#                                    deviance, null deviance, degrees of
#                                    freedom, AIC, Fisher scoring iterations,
#                                    convergence, n and R's warnings.
#
# The sites' CSVs are read back before fitting so R and spoor see the same
# doubles; values are rounded to a few decimals so every parser rounds them
# the same way.

dir <- "tests/reference"
set.seed(20240611)

make_site <- function(site, n) {
  age <- round(rnorm(n, 52 + 4 * site, 11), 1)
  sex <- sample(c("F", "M"), n, replace = TRUE, prob = c(0.55, 0.45))
  stage <- sample(1:4, n, replace = TRUE, prob = c(0.35, 0.3, 0.2, 0.15))
  exposure_time <- round(runif(n, 0.5, 5), 2)
  w <- round(runif(n, 0.5, 2.5), 2)
  male <- as.numeric(sex == "M")
  y_gauss <- round(40 + 0.3 * age + 2 * male + c(0, 1.5, 3, 6)[stage] +
                     site + rnorm(n, 0, 5), 3)
  eta_bin <- -4 + 0.05 * age + 0.4 * male + c(0, 0.4, 0.9, 1.6)[stage] -
    0.5 * male * (stage == 4)
  y_bin <- rbinom(n, 1, plogis(eta_bin))
  y_count <- rpois(n, exposure_time * exp(-1.5 + 0.015 * age + 0.25 * male))
  age[sample(n, 3 + 2 * site)] <- NA
  data.frame(site = site, y_gauss = y_gauss, y_bin = y_bin, y_count = y_count,
             age = age, age2 = 2 * age, sex = sex, stage = stage,
             exposure_time = exposure_time, w = w)
}

sizes <- c(400, 250, 900)
files <- file.path(dir, sprintf("glm_site%d.csv", seq_along(sizes)))
for (k in seq_along(sizes)) {
  write.csv(make_site(k, sizes[k]), files[k], row.names = FALSE, quote = FALSE,
            na = "NA")
}
pooled <- do.call(rbind, lapply(files, read.csv))

models <- list(
  list(formula = "y_gauss ~ age + sex + factor(stage)", family = "gaussian"),
  list(formula = "y_gauss ~ age + factor(stage)", family = "gaussian", weights = "w"),
  list(formula = "y_bin ~ age + sex*factor(stage)", family = "binomial"),
  list(formula = "y_bin ~ age + sex + factor(stage)", family = "binomial", weights = "w"),
  list(formula = "y_count ~ age + sex + offset(log(exposure_time))", family = "poisson"),
  list(formula = "y_count ~ age + factor(stage)", family = "poisson"),
  list(formula = "y_count ~ 0 + age + sex + offset(log(exposure_time))",
       family = "poisson"),
  list(formula = "y_gauss ~ age - 1", family = "gaussian"),
  list(formula = "y_bin ~ age + age2 + sex", family = "binomial"),
  list(formula = "y_gauss ~ age + sex + age2", family = "gaussian", weights = "w"),
  list(formula = "y_bin ~ age + sex*factor(stage)", family = "binomial",
       max_iterations = 2)
)

num <- function(x) {
  if (is.na(x)) "null" else if (is.infinite(x)) (if (x > 0) "1e999" else "-1e999")
  else sprintf("%.17g", x)
}
str <- function(x) if (is.null(x)) "null" else sprintf("\"%s\"", x)

fit_model <- function(m) {
  maxit <- if (is.null(m$max_iterations)) 25 else m$max_iterations
  wsym <- if (is.null(m$weights)) NULL else as.name(m$weights)
  warns <- character()
  fit <- withCallingHandlers(
    eval(bquote(glm(.(as.formula(m$formula)), family = .(m$family), data = pooled,
                    weights = .(wsym), control = glm.control(maxit = .(maxit))))),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  s <- summary(fit)
  table <- s$coefficients
  rows <- character()
  for (term in names(coef(fit))) {
    if (term %in% rownames(table)) {
      r <- table[term, ]
      rows <- c(rows, sprintf(
        "{\"term\": %s, \"estimate\": %s, \"std_error\": %s, \"statistic\": %s, \"p_value\": %s, \"aliased\": false}",
        str(term), num(r[1]), num(r[2]), num(r[3]), num(r[4])))
    } else {
      rows <- c(rows, sprintf(
        "{\"term\": %s, \"estimate\": null, \"std_error\": null, \"statistic\": null, \"p_value\": null, \"aliased\": true}",
        str(term)))
    }
  }
  warn_json <- paste(vapply(unique(warns), str, ""), collapse = ", ")
  paste0(
    "  {\n",
    "    \"formula\": ", str(m$formula), ",\n",
    "    \"family\": ", str(m$family), ",\n",
    "    \"weights\": ", str(m$weights), ",\n",
    "    \"max_iterations\": ", maxit, ",\n",
    "    \"coefficients\": [\n      ", paste(rows, collapse = ",\n      "), "\n    ],\n",
    "    \"deviance\": ", num(fit$deviance), ",\n",
    "    \"null_deviance\": ", num(fit$null.deviance), ",\n",
    "    \"df_residual\": ", fit$df.residual, ",\n",
    "    \"df_null\": ", fit$df.null, ",\n",
    "    \"aic\": ", num(fit$aic), ",\n",
    "    \"dispersion\": ", num(s$dispersion), ",\n",
    "    \"iterations\": ", fit$iter, ",\n",
    "    \"converged\": ", if (fit$converged) "true" else "false", ",\n",
    "    \"n\": ", length(fit$y), ",\n",
    "    \"warnings\": [", warn_json, "]\n",
    "  }")
}

json <- paste0("[\n", paste(vapply(models, fit_model, ""), collapse = ",\n"), "\n]\n")
writeLines(json, file.path(dir, "glm_expected.json"), sep = "")
