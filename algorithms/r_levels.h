// R's rules for the values a node reports by name: how a number becomes a
// factor level, how levels are ordered, and how survival::Surv() reads a
// status column. One home for them, so that the model matrix (factor(x),
// strata), "crosstab" and "km" name and order the same data the same way,
// and the same way R does on the pooled data.
//
// All functions are pure and thread-safe.
#ifndef SPOOR_ALGORITHMS_R_LEVELS_H_
#define SPOOR_ALGORITHMS_R_LEVELS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "algorithms/data_frame.h"

namespace spoor {

// --- Factor levels ---

// R's as.character() for a double (R 4.2; formatReal() with 15 significant
// digits and scipen = 0): the value rounded to at most 15 significant digits,
// trailing zeros dropped, in fixed or scientific notation, whichever is
// narrower (fixed on a tie). This is how factor() and table() name the
// levels of a numeric variable:
//   1 -> "1", 2.5 -> "2.5", 1e5 -> "1e+05", 123456 -> "123456",
//   1e-20 -> "1e-20", 0.1 + 0.2 -> "0.3", -0 -> "0",
//   123456789012345678 -> "123456789012345680" (fixed is narrower, and
//   prints every integer digit of the double).
// Infinities and NaN give R's "Inf", "-Inf" and "NaN".
std::string FormatRNumber(double x);

// Sorts `levels` and removes duplicates, as factor() orders its levels:
// numerically when every level parses as a finite number (so "10" follows
// "2", as R sorts a numeric variable's values), otherwise by bytes. R sorts
// character levels in the locale's collation; byte order agrees with it for
// ASCII names that do not mix case ("F" < "M", but R puts "b" before "B").
void SortLevels(std::vector<std::string>& levels);

// The level of `column` at `row` as R names it: a categorical column's own
// text, or FormatRNumber of a numeric value. Requires a non-missing row.
std::string LevelText(const Column& column, size_t row);

// The distinct levels of `column` among `rows`, sorted by SortLevels. Each
// distinct value is formatted once, however many rows share it; 0 and -0 are
// one level. Requires that none of `rows` is missing in `column`.
std::vector<std::string> PresentLevels(const Column& column, const std::vector<size_t>& rows);

// --- Survival status (survival::Surv(time, event)) ---

// How Surv() reads an event column: a logical one as FALSE/TRUE; a numeric
// one as 1/2 (2 = event) when its largest non-missing value is 2, else as
// 0/1. A categorical column is read as logical text, the spellings R's
// read.csv takes for logical: TRUE, T, true, True and FALSE, F, false, False.
// R turns any other value into NA with a warning ("Invalid status value");
// DecodeSurvEvent reports it and callers reject it.
enum class SurvEventCoding { kLogical, kZeroOne, kOneTwo };

// The coding Surv() picks for the non-missing values of `column` at `rows`.
// Surv() sees the whole column, before na.omit: callers that want R's choice
// pass every row (or use the overload below).
SurvEventCoding ChooseSurvEventCoding(const Column& column, const std::vector<size_t>& rows);
// The same over every row of `column`.
SurvEventCoding ChooseSurvEventCoding(const Column& column);

// The status at a non-missing `row` under `coding` (from ChooseSurvEventCoding
// on the same column): 1 event, 0 censored, -1 not a valid code.
int DecodeSurvEvent(const Column& column, size_t row, SurvEventCoding coding);

// The error text for `rows` (> 0) values of the event variable that are not
// valid codes: "event 'status' must be coded 0/1, 1/2 or FALSE/TRUE; 3 rows
// are not". Names the variable and a count, never a value.
std::string InvalidSurvEventMessage(const std::string& variable, int64_t rows);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_R_LEVELS_H_
