#include "algorithms/r_levels.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace spoor {
namespace {

bool ParseFiniteNumber(const std::string& text, double* value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end && std::isfinite(*value);
}

bool IsTrueText(const std::string& s) {
  return s == "TRUE" || s == "T" || s == "true" || s == "True";
}
bool IsFalseText(const std::string& s) {
  return s == "FALSE" || s == "F" || s == "false" || s == "False";
}

}  // namespace

std::string FormatRNumber(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Inf" : "-Inf";
  if (x == 0) return "0";  // also -0
  // Rounded to 15 significant digits: "d.dddddddddddddde±XX".
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.14e", x);
  const bool negative = x < 0;
  const char* mantissa = buf + (negative ? 1 : 0);
  const char* e = std::strchr(mantissa, 'e');
  const int exponent = std::atoi(e + 1);
  // Trailing zeros of the mantissa are digits R does not need.
  int sig = 15;
  for (const char* p = e - 1; sig > 1 && *p == '0'; --p) --sig;
  const int left = exponent >= 0 ? exponent + 1 : 1;
  const int right = std::max(0, sig - exponent - 1);
  const int fixed_width = negative + left + (right > 0 ? right + 1 : 0);
  const int sci_width = negative + (sig > 1 ? sig + 1 : 1) + (std::abs(exponent) >= 100 ? 5 : 4);
  if (fixed_width <= sci_width) {
    std::snprintf(buf, sizeof(buf), "%.*f", right, x);
  } else {
    std::snprintf(buf, sizeof(buf), "%.*e", sig - 1, x);
  }
  return buf;
}

void SortLevels(std::vector<std::string>& levels) {
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  std::vector<std::pair<double, std::string>> numeric;
  for (const std::string& level : levels) {
    double v;
    if (!ParseFiniteNumber(level, &v)) return;
    numeric.emplace_back(v, level);
  }
  std::sort(numeric.begin(), numeric.end());
  for (size_t i = 0; i < levels.size(); ++i) levels[i] = std::move(numeric[i].second);
}

std::string LevelText(const Column& column, size_t row) {
  if (column.type() == ColumnType::kCategorical) return column.levels()[column.codes()[row]];
  return FormatRNumber(column.numbers()[row]);
}

std::vector<std::string> PresentLevels(const Column& column, const std::vector<size_t>& rows) {
  std::vector<std::string> out;
  if (column.type() == ColumnType::kCategorical) {
    std::vector<bool> used(column.levels().size());
    for (size_t r : rows) used[column.codes()[r]] = true;
    for (size_t i = 0; i < used.size(); ++i)
      if (used[i]) out.push_back(column.levels()[i]);
  } else {
    absl::flat_hash_set<double> seen;
    for (size_t r : rows) {
      double v = column.numbers()[r];
      if (v == 0) v = 0;  // -0 and 0 are one level
      if (seen.insert(v).second) out.push_back(FormatRNumber(v));
    }
  }
  SortLevels(out);
  return out;
}

SurvEventCoding ChooseSurvEventCoding(const Column& column, const std::vector<size_t>& rows) {
  if (column.type() == ColumnType::kCategorical) return SurvEventCoding::kLogical;
  double max = -HUGE_VAL;
  for (size_t r : rows) {
    const double v = column.numbers()[r];
    if (!std::isnan(v)) max = std::max(max, v);
  }
  return max == 2 ? SurvEventCoding::kOneTwo : SurvEventCoding::kZeroOne;
}

SurvEventCoding ChooseSurvEventCoding(const Column& column) {
  if (column.type() == ColumnType::kCategorical) return SurvEventCoding::kLogical;
  std::vector<size_t> every_row(column.size());
  std::iota(every_row.begin(), every_row.end(), size_t{0});
  return ChooseSurvEventCoding(column, every_row);
}

int DecodeSurvEvent(const Column& column, size_t row, SurvEventCoding coding) {
  if (column.type() == ColumnType::kCategorical) {
    assert(coding == SurvEventCoding::kLogical);
    const std::string& level = column.levels()[column.codes()[row]];
    if (IsTrueText(level)) return 1;
    if (IsFalseText(level)) return 0;
    return -1;
  }
  assert(coding != SurvEventCoding::kLogical);
  const double status = column.numbers()[row] - (coding == SurvEventCoding::kOneTwo ? 1 : 0);
  if (status == 0) return 0;
  if (status == 1) return 1;
  return -1;
}

std::string InvalidSurvEventMessage(const std::string& variable, int64_t rows) {
  return absl::StrCat("event '", variable, "' must be coded 0/1, 1/2 or FALSE/TRUE; ",
                      rows == 1 ? "1 row is" : absl::StrCat(rows, " rows are"), " not");
}

}  // namespace spoor
