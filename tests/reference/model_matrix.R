# Reference design matrices for algorithms/model_matrix_test.cc.
#
# Run from the repository root:  Rscript tests/reference/model_matrix.R
# Writes, next to this script:
#   model_matrix_data.csv      the data (30 rows, with missing values)
#   model_matrix_formulas.txt  one formula per line; line i is formula_index i
#   model_matrix_expected.csv  long format: formula_index,row,column_name,value
#                              with row the 1-based data row kept by na.omit,
#                              column_name R's model.matrix() name, plus two
#                              pseudo-columns "(response)" and "(offset)".
#
# The matrices are built as lm() and glm() build them: model.frame() with
# na.omit and drop.unused.levels = TRUE (so factor levels are those among
# complete cases, as spoor's LocalLevels), then model.matrix() on its terms.
# The data are read back from the CSV first so both sides see the same
# doubles.

dir <- "tests/reference"

set.seed(20240501)
n <- 30
d <- data.frame(
  y = round(rnorm(n, 10, 3), 2),
  age = round(runif(n, 30, 80), 1),
  smoker = sample(c("never", "former", "current"), n, replace = TRUE),
  clinic = sample(c(1L, 2L, 10L), n, replace = TRUE),  # factor(clinic): 1 < 2 < 10
  sex = sample(c("F", "M"), n, replace = TRUE),
  dose = sample(c(0.5, 1, 2.5), n, replace = TRUE),     # factor(dose): "0.5" "1" "2.5"
  t = round(runif(n, 0.5, 5), 2),
  x2 = round(rnorm(n), 3)
)
d$age[c(4, 11, 23)] <- NA
d$smoker[17] <- NA
d$y[8] <- NA

data_file <- file.path(dir, "model_matrix_data.csv")
write.csv(d, data_file, row.names = FALSE)
d <- read.csv(data_file)
d$sex <- factor(d$sex)  # a 2-level factor (smoker stays character)

formulas <- c(
  "y ~ age + sex",
  "y ~ age + smoker + factor(clinic)",
  "y ~ age * sex",
  "y ~ sex * smoker",
  "y ~ age:smoker",
  "y ~ sex:smoker",
  "y ~ smoker + age - 1",
  "y ~ 0 + age + sex:smoker",
  "y ~ age + offset(log(t))",
  "y ~ factor(clinic) * age",
  "y ~ age * sex * smoker",
  "y ~ smoker + sex:smoker",
  "y ~ factor(dose) + x2 + offset(x2)",
  "y ~ (age + sex + smoker)^2",
  "y ~ smoker:age + sex - 1",
  "y ~ sex + smoker:sex",
  "y ~ 1",
  "y ~ factor(clinic):factor(dose) + x2"
)
writeLines(formulas, file.path(dir, "model_matrix_formulas.txt"))

num <- function(v) ifelse(v == round(v), sprintf("%.0f", v), sprintf("%.17g", v))

out <- list()
for (i in seq_along(formulas)) {
  f <- as.formula(formulas[i])
  mf <- model.frame(f, data = d, na.action = na.omit, drop.unused.levels = TRUE)
  x <- model.matrix(attr(mf, "terms"), mf)
  rows <- as.integer(rownames(mf))
  offset <- model.offset(mf)
  if (is.null(offset)) offset <- rep(0, nrow(mf))
  cols <- c(colnames(x), "(response)", "(offset)")
  values <- cbind(unname(x), model.response(mf), offset)
  out[[i]] <- data.frame(
    formula_index = i,
    row = rep(rows, times = length(cols)),
    column_name = rep(cols, each = length(rows)),
    value = num(as.vector(values))
  )
}
expected <- do.call(rbind, out)
write.csv(expected, file.path(dir, "model_matrix_expected.csv"), row.names = FALSE)
