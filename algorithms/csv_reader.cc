#include "algorithms/csv_reader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <numeric>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status.h"

namespace spoor {
namespace {

// Design: the whole text is parsed in one pass over a string_view. Fields are
// views into the text; only quoted fields containing "" escapes are copied
// into a reused scratch buffer (and into `Parser::owned_` if they become a
// categorical level). Every column starts out numeric and parses each field
// with std::from_chars as it is read. On the first non-missing field that is
// not a finite number, the column switches to categorical: the rows read so
// far are re-walked for that column alone (they were already validated) to
// recover their strings, and parsing continues in string mode. A column thus
// costs at most one extra pass, and only if it turns categorical late.

// Characters that end the fast scan of an unquoted field.
constexpr std::array<bool, 256> MakeSpecialTable() {
  std::array<bool, 256> table{};
  table[static_cast<unsigned char>(',')] = true;
  table[static_cast<unsigned char>('\n')] = true;
  table[static_cast<unsigned char>('\r')] = true;
  table[static_cast<unsigned char>('"')] = true;
  return table;
}
constexpr std::array<bool, 256> kSpecial = MakeSpecialTable();

// How a field ended, or why it could not be read.
enum class Term : uint8_t {
  kComma,           // more fields follow in this record
  kEndOfRecord,     // LF, CRLF or end of input
  kBareQuote,       // '"' inside an unquoted field
  kTextAfterQuote,  // something other than a delimiter after a closing quote
  kUnterminated,    // end of input inside a quoted field
};

struct Field {
  std::string_view value;
  bool in_scratch = false;  // `value` points into the scratch buffer
};

// Reads one field starting at `p` and advances `p` past its terminator.
// Counts the line breaks consumed into `line`. Unescapes "" into `scratch`.
inline Term ReadField(const char*& p, const char* end, size_t& line, std::string& scratch,
                      Field& field) {
  if (p < end && *p == '"') {
    ++p;
    const char* start = p;
    bool escaped = false;
    const char* close;
    for (;;) {
      const void* q = std::memchr(p, '"', static_cast<size_t>(end - p));
      if (q == nullptr) return Term::kUnterminated;
      const char* quote = static_cast<const char*>(q);
      line += static_cast<size_t>(std::count(p, quote, '\n'));
      if (quote + 1 < end && quote[1] == '"') {
        escaped = true;
        p = quote + 2;
        continue;
      }
      close = quote;
      p = quote + 1;
      break;
    }
    if (escaped) {
      scratch.clear();
      for (const char* c = start; c < close; ++c) {
        scratch.push_back(*c);
        if (*c == '"') ++c;  // skip the second quote of a pair
      }
      field.value = scratch;
      field.in_scratch = true;
    } else {
      field.value = std::string_view(start, static_cast<size_t>(close - start));
      field.in_scratch = false;
    }
    if (p == end) return Term::kEndOfRecord;
    if (*p == ',') {
      ++p;
      return Term::kComma;
    }
    if (*p == '\n') {
      ++p;
      ++line;
      return Term::kEndOfRecord;
    }
    if (*p == '\r' && p + 1 < end && p[1] == '\n') {
      p += 2;
      ++line;
      return Term::kEndOfRecord;
    }
    return Term::kTextAfterQuote;
  }

  const char* start = p;
  field.in_scratch = false;
  for (;;) {
    while (p < end && !kSpecial[static_cast<unsigned char>(*p)]) ++p;
    if (p == end) {
      field.value = std::string_view(start, static_cast<size_t>(p - start));
      return Term::kEndOfRecord;
    }
    switch (*p) {
      case ',':
        field.value = std::string_view(start, static_cast<size_t>(p - start));
        ++p;
        return Term::kComma;
      case '\n':
        field.value = std::string_view(start, static_cast<size_t>(p - start));
        ++p;
        ++line;
        return Term::kEndOfRecord;
      case '\r':
        if (p + 1 < end && p[1] == '\n') {
          field.value = std::string_view(start, static_cast<size_t>(p - start));
          p += 2;
          ++line;
          return Term::kEndOfRecord;
        }
        ++p;  // a lone CR is ordinary data
        continue;
      default:  // '"'
        return Term::kBareQuote;
    }
  }
}

// Debian's Abseil has its own string_view type, distinct from std::string_view.
inline absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

inline bool IsMissing(std::string_view value) { return value.empty() || value == "NA"; }

constexpr double kPowersOf10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

// Exact fast path for the common "-123.45" shape (Clinger): with at most 15
// digits the mantissa and the power of ten are exact doubles, so one IEEE
// division is correctly rounded and matches std::from_chars bit for bit.
// Returns false (without judging the field) for anything else.
inline bool ParseSimpleDecimal(const char* p, const char* end, double& out) {
  const bool negative = *p == '-';
  if (negative) ++p;
  uint64_t mantissa = 0;
  int digits = 0;
  int fraction_digits = 0;
  bool seen_point = false;
  for (; p < end; ++p) {
    const unsigned d = static_cast<unsigned char>(*p) - '0';
    if (d < 10) {
      mantissa = mantissa * 10 + d;
      ++digits;
      fraction_digits += seen_point;
    } else if (*p == '.' && !seen_point) {
      seen_point = true;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15) return false;
  const double value = static_cast<double>(mantissa) / kPowersOf10[fraction_digits];
  out = negative ? -value : value;
  return true;
}

// Parses a whole field as a finite decimal number.
inline bool ParseNumber(std::string_view text, double& out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (*begin == '+') {  // from_chars rejects a leading '+'; accept one
    ++begin;
    if (begin == end || *begin == '-') return false;
  }
  if (ParseSimpleDecimal(begin, end, out)) return true;
  auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

// Accumulates one column while parsing.
struct ColumnBuilder {
  std::string name;
  bool numeric = true;
  std::vector<double> numbers;
  // Categorical mode: codes in order of first appearance, remapped to the
  // sorted level order at the end.
  std::vector<int32_t> codes;
  absl::flat_hash_map<absl::string_view, int32_t> dictionary;
  std::vector<absl::string_view> levels;
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  absl::StatusOr<DataFrame> Run();

 private:
  absl::Status Error(size_t line, std::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(source_), ":", line, ": ", AsAbsl(message)));
  }
  absl::Status FieldError(Term term, size_t line, size_t field_number) const;

  absl::Status ReadHeader(const char*& p, const char* end, size_t& line);
  void AddCategorical(ColumnBuilder& column, const Field& field);
  void SwitchToCategorical(size_t column_index, size_t rows_so_far);
  Column Finish(ColumnBuilder& column);

  std::string_view text_;
  std::string_view source_;
  std::vector<ColumnBuilder> columns_;
  const char* data_start_ = nullptr;  // first byte after the header row
  std::deque<std::string> owned_;     // unescaped level strings (stable addresses)
  std::string scratch_;
  std::string rewalk_scratch_;
};

absl::Status Parser::FieldError(Term term, size_t line, size_t field_number) const {
  switch (term) {
    case Term::kBareQuote:
      return Error(line, absl::StrCat("quote character inside unquoted field ", field_number));
    case Term::kTextAfterQuote:
      return Error(line, absl::StrCat("unexpected character after the closing quote of field ",
                                      field_number));
    case Term::kUnterminated:
      return Error(line, "unterminated quoted field");
    default:
      return absl::OkStatus();
  }
}

absl::Status Parser::ReadHeader(const char*& p, const char* end, size_t& line) {
  const size_t record_line = line;
  absl::flat_hash_set<absl::string_view> seen;
  Field field;
  for (;;) {
    Term term = ReadField(p, end, line, scratch_, field);
    if (term != Term::kComma && term != Term::kEndOfRecord) {
      return FieldError(term, record_line, columns_.size() + 1);
    }
    if (field.value.empty()) {
      return Error(record_line,
                   absl::StrCat("column ", columns_.size() + 1, " of the header has no name"));
    }
    ColumnBuilder& column = columns_.emplace_back();
    column.name = std::string(field.value);
    if (term == Term::kEndOfRecord) break;
  }
  for (const ColumnBuilder& column : columns_) {
    if (!seen.insert(column.name).second) {
      return Error(record_line, absl::StrCat("duplicate column name '", column.name, "'"));
    }
  }
  return absl::OkStatus();
}

void Parser::AddCategorical(ColumnBuilder& column, const Field& field) {
  if (IsMissing(field.value)) {
    column.codes.push_back(-1);
    return;
  }
  const absl::string_view value = AsAbsl(field.value);
  auto it = column.dictionary.find(value);
  if (it != column.dictionary.end()) {
    column.codes.push_back(it->second);
    return;
  }
  absl::string_view key = value;
  if (field.in_scratch) key = owned_.emplace_back(field.value);
  const auto code = static_cast<int32_t>(column.levels.size());
  column.dictionary.emplace(key, code);
  column.levels.push_back(key);
  column.codes.push_back(code);
}

void Parser::SwitchToCategorical(size_t column_index, size_t rows_so_far) {
  ColumnBuilder& column = columns_[column_index];
  column.numeric = false;
  column.codes.reserve(column.numbers.capacity());
  std::vector<double>().swap(column.numbers);
  // Re-walk the rows already accepted; they parsed cleanly the first time.
  const char* p = data_start_;
  const char* end = text_.data() + text_.size();
  size_t line = 0;
  Field field;
  for (size_t row = 0; row < rows_so_far; ++row) {
    size_t index = 0;
    Term term;
    do {
      term = ReadField(p, end, line, rewalk_scratch_, field);
      if (index == column_index) AddCategorical(column, field);
      ++index;
    } while (term == Term::kComma);
  }
}

Column Parser::Finish(ColumnBuilder& column) {
  if (column.numeric) return Column::Numeric(std::move(column.name), std::move(column.numbers));
  const size_t n = column.levels.size();
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return column.levels[a] < column.levels[b]; });
  std::vector<int32_t> remap(n);
  std::vector<std::string> levels;
  levels.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    remap[order[i]] = static_cast<int32_t>(i);
    levels.emplace_back(column.levels[order[i]]);
  }
  for (int32_t& code : column.codes) {
    if (code >= 0) code = remap[code];
  }
  return Column::Categorical(std::move(column.name), std::move(levels), std::move(column.codes));
}

absl::StatusOr<DataFrame> Parser::Run() {
  std::string_view text = text_;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  // Fully empty lines at the very end are ignored.
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(source_), ": empty file; expected a header row"));
  }
  text_ = text;

  const char* p = text.data();
  const char* const end = text.data() + text.size();
  size_t line = 1;
  SPOOR_RETURN_IF_ERROR(ReadHeader(p, end, line));
  data_start_ = p;
  const size_t num_columns = columns_.size();

  // Upper bound on the number of rows: one per remaining line break + 1.
  const size_t max_rows = p == end ? 0 : static_cast<size_t>(std::count(p, end, '\n')) + 1;
  for (ColumnBuilder& column : columns_) column.numbers.reserve(max_rows);

  size_t rows = 0;
  Field field;
  while (p < end) {
    const size_t record_line = line;
    size_t index = 0;
    Term term;
    do {
      term = ReadField(p, end, line, scratch_, field);
      if (term != Term::kComma && term != Term::kEndOfRecord) {
        return FieldError(term, record_line, index + 1);
      }
      if (index < num_columns) {
        ColumnBuilder& column = columns_[index];
        if (column.numeric) {
          double value;
          if (IsMissing(field.value)) {
            column.numbers.push_back(std::numeric_limits<double>::quiet_NaN());
          } else if (ParseNumber(field.value, value)) {
            column.numbers.push_back(value);
          } else {
            SwitchToCategorical(index, rows);
            AddCategorical(column, field);
          }
        } else {
          AddCategorical(column, field);
        }
      }
      ++index;
    } while (term == Term::kComma);
    if (index != num_columns) {
      return Error(record_line, absl::StrCat("expected ", num_columns,
                                             " fields as in the header, found ", index));
    }
    ++rows;
  }

  std::vector<Column> columns;
  columns.reserve(num_columns);
  for (ColumnBuilder& column : columns_) {
    if (column.numeric && column.numbers.capacity() > column.numbers.size() + 64) {
      column.numbers.shrink_to_fit();
    }
    columns.push_back(Finish(column));
  }
  return DataFrame::Make(std::move(columns));
}

}  // namespace

bool IsMissingField(std::string_view text) { return IsMissing(text); }

bool ParseNumberField(std::string_view text, double& out) {
  return !text.empty() && ParseNumber(text, out);
}

absl::StatusOr<DataFrame> ParseCsv(std::string_view text, std::string_view source_name) {
  return Parser(text, source_name).Run();
}

absl::StatusOr<DataFrame> ReadCsvFile(const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseCsv(text, path);
}

}  // namespace spoor
