#include "algorithms/csv_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iterator>
#include <limits>
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

// Design: input arrives in chunks (the file through one reused buffer, so a
// load never holds the file's text beside its columns, and a huge file costs
// its columns plus one buffer). Records are read in two phases: first every
// field of a record as a view into the chunk (escaped fields unescaped into a
// per-field scratch string), then, once the record is known to be complete,
// its fields are committed to the columns. A record cut by the end of a chunk
// is carried over to the start of the next one; a record longer than the
// buffer grows it.
//
// Every column starts out numeric and parses each field as it is committed.
// On the first non-missing field that is not a finite number, the column
// switches to categorical: the records read so far are read again (the
// text, or the file from the first data byte) for that column alone to
// recover their strings. A column thus costs at most one extra pass, and only
// if it turns categorical late.
//
// Blank lines: in a file with several columns a blank line is a field-count
// error, unless only blank lines follow it (trailing blank lines are
// ignored); in a one-column file it is a missing value, again unless only
// blank lines follow. So a blank line is held back until the next record
// decides what it is.

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
    } else {
      field.value = std::string_view(start, static_cast<size_t>(close - start));
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

// Where the bytes come from: a text in memory or an open file. Both can be
// read again from an offset, for the re-read of a late categorical column.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Copies up to `n` bytes at `offset` into `out`; 0 at the end.
  virtual absl::StatusOr<size_t> ReadAt(uint64_t offset, char* out, size_t n) = 0;
  // Total size if known (a hint for reserving columns), else 0.
  virtual uint64_t size_hint() const = 0;
};

class TextSource : public ByteSource {
 public:
  explicit TextSource(std::string_view text) : text_(text) {}
  absl::StatusOr<size_t> ReadAt(uint64_t offset, char* out, size_t n) override {
    if (offset >= text_.size()) return 0;
    n = std::min<size_t>(n, text_.size() - offset);
    std::memcpy(out, text_.data() + offset, n);
    return n;
  }
  uint64_t size_hint() const override { return text_.size(); }

 private:
  std::string_view text_;
};

class FileSource : public ByteSource {
 public:
  FileSource(int fd, uint64_t size, std::string_view path) : fd_(fd), size_(size), path_(path) {}
  absl::StatusOr<size_t> ReadAt(uint64_t offset, char* out, size_t n) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return absl::UnavailableError(
            absl::StrCat("cannot read ", AsAbsl(path_), ": ", std::strerror(errno)));
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }
  uint64_t size_hint() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
  std::string_view path_;
};

// One record's fields, valid until the next record is read.
struct Record {
  std::vector<Field> fields;
  size_t line = 0;  // 1-based line where the record starts
  bool blank = false;
};

size_t BufferBytes(const ByteSource& source, uint64_t offset, size_t chunk_bytes) {
  const uint64_t size = source.size_hint();
  uint64_t bytes = chunk_bytes;
  if (size > 0) bytes = std::min<uint64_t>(bytes, size - std::min(size, offset) + 1);
  return static_cast<size_t>(std::max<uint64_t>(bytes, 1));
}

// Reads complete records from a ByteSource chunk by chunk.
class RecordReader {
 public:
  // The buffer is a chunk, or the rest of the input when that is known and
  // smaller (a short text costs no 1 MiB buffer); a record longer than it
  // grows it.
  RecordReader(ByteSource& source, uint64_t offset, size_t line, size_t chunk_bytes)
      : source_(source),
        offset_(offset),
        line_(line),
        buffer_(BufferBytes(source, offset, chunk_bytes)) {}

  // The next complete record in `record`; false at the end of the input.
  // `error` is set (and false returned) for a malformed record; it names the
  // line and field, never content.
  bool Next(Record& record, Term& error, size_t& error_field);

  // Input bytes consumed by the records returned so far.
  uint64_t consumed() const { return offset_ - trimmed_ - static_cast<uint64_t>(end_ - p_); }
  // The line the next record starts on.
  size_t line() const { return line_; }
  // Why the input could not be read, after Next returned false.
  absl::Status status() const { return status_; }

 private:
  bool Fill();  // carries the unread tail over and reads more; false at end
  // Reads one record at p_; false (p_ unchanged) when the chunk ends inside
  // it and more input may follow.
  enum class Outcome { kRecord, kNeedMore, kError };
  Outcome ReadRecord(Record& record, Term& error, size_t& error_field);

  ByteSource& source_;
  uint64_t offset_;  // input offset of the byte after the buffer's content
  size_t line_;
  std::vector<char> buffer_;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  bool at_end_ = false;              // the buffer holds the input's last byte
  size_t trimmed_ = 0;               // line breaks cut from the input's end
  std::deque<std::string> scratch_;  // one per field; growing keeps references valid
  absl::Status status_;
};

bool RecordReader::Fill() {
  if (at_end_) return false;
  const size_t from = p_ == nullptr ? 0 : static_cast<size_t>(p_ - buffer_.data());
  const size_t tail = p_ == nullptr ? 0 : static_cast<size_t>(end_ - p_);
  if (tail == buffer_.size())
    buffer_.resize(buffer_.size() * 2);  // a record longer than the buffer
  if (tail > 0 && from > 0) std::memmove(buffer_.data(), buffer_.data() + from, tail);
  size_t filled = tail;
  while (filled < buffer_.size()) {
    absl::StatusOr<size_t> got =
        source_.ReadAt(offset_, buffer_.data() + filled, buffer_.size() - filled);
    if (!got.ok()) {
      status_ = got.status();
      return false;
    }
    if (*got == 0) {
      at_end_ = true;
      break;
    }
    offset_ += *got;
    filled += *got;
  }
  p_ = buffer_.data();
  end_ = buffer_.data() + filled;
  // CRs at the very end of the input end the last line (an old Mac line
  // end); elsewhere a lone CR is data. They always lie in the last buffer,
  // whatever the chunk size: the record they end or form reaches the input's
  // end, so it is never consumed before. (LFs need no trimming: the blank
  // lines they make at the end are dropped as records, see Parser::Run.)
  if (at_end_) {
    while (end_ > p_ && end_[-1] == '\r') {
      --end_;
      ++trimmed_;
    }
  }
  return true;
}

RecordReader::Outcome RecordReader::ReadRecord(Record& record, Term& error, size_t& error_field) {
  const char* p = p_;
  size_t line = line_;
  record.fields.clear();
  record.line = line_;
  Field field;
  Term term;
  do {
    const size_t index = record.fields.size();
    if (index >= scratch_.size()) scratch_.resize(index + 1);
    term = ReadField(p, end_, line, scratch_[index], field);
    if (term != Term::kComma && term != Term::kEndOfRecord) {
      // Cut by the chunk's end, not malformed: an open quote, or a quote
      // followed only by CRs so far (a CRLF, or CRs that end the input, may
      // complete them in the next chunk).
      if (!at_end_ &&
          (term == Term::kUnterminated || std::all_of(p, end_, [](char c) { return c == '\r'; }))) {
        return Outcome::kNeedMore;
      }
      error = term;
      error_field = index + 1;
      return Outcome::kError;
    }
    record.fields.push_back(field);
  } while (term == Term::kComma);
  // A record that ends exactly at the chunk's end may go on in the next one.
  if (p == end_ && !at_end_) return Outcome::kNeedMore;
  // A blank line: one empty field, not a quoted "" (p_ < end_, so the
  // record has a first byte).
  record.blank = record.fields.size() == 1 && record.fields[0].value.empty() && *p_ != '"';
  p_ = p;
  line_ = line;
  return Outcome::kRecord;
}

bool RecordReader::Next(Record& record, Term& error, size_t& error_field) {
  for (;;) {
    if (p_ != nullptr && p_ < end_) {
      switch (ReadRecord(record, error, error_field)) {
        case Outcome::kRecord:
          return true;
        case Outcome::kError:
          record.line = line_;
          return false;
        case Outcome::kNeedMore:
          break;
      }
    } else if (at_end_) {
      return false;
    }
    if (!Fill()) return false;
    if (p_ == end_ && at_end_) return false;
  }
}

// Accumulates one column while parsing.
struct ColumnBuilder {
  std::string name;
  bool numeric = true;
  std::vector<double> numbers;
  // Categorical mode: codes in order of first appearance, remapped to the
  // sorted level order at the end.
  std::vector<int32_t> codes;
  size_t hot_rows = 0;             // rows surely coming (see ReserveColumn)
  std::deque<std::string> levels;  // stable addresses for the dictionary's keys
  absl::flat_hash_map<absl::string_view, int32_t> dictionary;

  int32_t Code(std::string_view value) {
    // A handful of levels (sex, smoking status) is faster to scan than to hash.
    if (levels.size() <= 8) {
      for (size_t i = 0; i < levels.size(); ++i) {
        if (levels[i] == value) return static_cast<int32_t>(i);
      }
    } else {
      auto it = dictionary.find(AsAbsl(value));
      if (it != dictionary.end()) return it->second;
    }
    const auto code = static_cast<int32_t>(levels.size());
    const std::string& level = levels.emplace_back(value);
    dictionary.emplace(AsAbsl(level), code);
    return code;
  }
  void AddCategorical(std::string_view value) {
    codes.push_back(IsMissing(value) ? -1 : Code(value));
  }
};

// Reserves room for `rows` values, of which about `expected` will be used.
// Columns of millions of rows are written once, front to back: transparent
// huge pages save most of the page faults (a third of a load's time on a VM)
// where the kernel offers them on request. Only the room surely used gets
// them: a huge page is resident whole once touched, so one over the unused
// tail would cost up to 2 MiB per column for nothing.
template <typename T>
void ReserveColumn(std::vector<T>& values, size_t rows, size_t expected) {
  values.reserve(rows);
  constexpr uintptr_t kHugePage = 2 << 20;
  const auto begin = reinterpret_cast<uintptr_t>(values.data());
  const uintptr_t end = begin + std::min(rows, expected) * sizeof(T);
  const uintptr_t aligned = (begin + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned + kHugePage <= end) {
    ::madvise(reinterpret_cast<void*>(aligned), (end - aligned) & ~(kHugePage - 1),
              MADV_HUGEPAGE);  // advice only: ignoring a failure is right
  }
#ifdef MADV_POPULATE_WRITE
  // The pages surely used, mapped in one call rather than one fault each
  // (Linux >= 5.14; an older kernel says EINVAL and they fault as before).
  constexpr uintptr_t kPage = 4096;
  const uintptr_t first = (begin + kPage - 1) & ~(kPage - 1);
  if (first + kPage <= end) {
    ::madvise(reinterpret_cast<void*>(first), (end - first) & ~(kPage - 1), MADV_POPULATE_WRITE);
  }
#endif
}

class Parser {
 public:
  Parser(ByteSource& source, std::string_view source_name, size_t chunk_bytes)
      : source_(source), source_name_(source_name), chunk_bytes_(chunk_bytes) {}

  absl::StatusOr<DataFrame> Run();

 private:
  absl::Status Error(size_t line, std::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(source_name_), ":", line, ": ", AsAbsl(message)));
  }
  absl::Status FieldError(Term term, size_t line, size_t field_number) const;
  absl::Status CountError(const Record& record) const {
    return Error(record.line,
                 absl::StrCat("expected ", columns_.size(), " fields as in the header, found ",
                              record.fields.size()));
  }

  absl::Status ReadHeader(RecordReader& reader);
  // Appends the record's values; columns that must turn categorical because
  // of it are listed in switches_.
  void Commit(const Record& record);
  void CommitMissingRow();
  absl::Status SwitchToCategorical(size_t column_index);
  Column Finish(ColumnBuilder& column);

  ByteSource& source_;
  std::string_view source_name_;
  size_t chunk_bytes_;
  std::vector<ColumnBuilder> columns_;
  uint64_t data_offset_ = 0;  // input offset of the first data record
  size_t data_line_ = 2;      // its line
  size_t rows_ = 0;
  std::vector<size_t> switches_;
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

absl::Status Parser::ReadHeader(RecordReader& reader) {
  Record record;
  Term term;
  size_t field_number = 0;
  // Blank lines before the header: an empty file if nothing else follows.
  bool got;
  while ((got = reader.Next(record, term, field_number)) && record.blank) {
  }
  SPOOR_RETURN_IF_ERROR(reader.status());
  if (!got && field_number != 0) return FieldError(term, record.line, field_number);
  if (!got) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(source_name_), ": empty file; expected a header row"));
  }
  if (record.line != 1) return Error(1, "column 1 of the header has no name");
  absl::flat_hash_set<absl::string_view> seen;
  for (size_t i = 0; i < record.fields.size(); ++i) {
    if (record.fields[i].value.empty()) {
      return Error(record.line, absl::StrCat("column ", i + 1, " of the header has no name"));
    }
    columns_.emplace_back().name = std::string(record.fields[i].value);
  }
  for (const ColumnBuilder& column : columns_) {
    if (!seen.insert(column.name).second) {
      return Error(record.line, absl::StrCat("duplicate column name '", column.name, "'"));
    }
  }
  data_offset_ = reader.consumed();
  data_line_ = reader.line();
  return absl::OkStatus();
}

void Parser::Commit(const Record& record) {
  for (size_t index = 0; index < columns_.size(); ++index) {
    ColumnBuilder& column = columns_[index];
    const std::string_view value = record.fields[index].value;
    if (!column.numeric) {
      column.AddCategorical(value);
      continue;
    }
    double number;
    if (IsMissing(value)) {
      column.numbers.push_back(std::numeric_limits<double>::quiet_NaN());
    } else if (ParseNumber(value, number)) {
      column.numbers.push_back(number);
    } else {
      switches_.push_back(index);
      column.numbers.push_back(0);  // replaced when the column is read again
    }
  }
}

void Parser::CommitMissingRow() {
  for (ColumnBuilder& column : columns_) {
    if (column.numeric) {
      column.numbers.push_back(std::numeric_limits<double>::quiet_NaN());
    } else {
      column.codes.push_back(-1);
    }
  }
}

absl::Status Parser::SwitchToCategorical(size_t column_index) {
  ColumnBuilder& column = columns_[column_index];
  column.numeric = false;
  ReserveColumn(column.codes, column.numbers.capacity(), column.hot_rows);
  std::vector<double>().swap(column.numbers);
  // Read the records accepted so far again, this column alone; they parsed
  // cleanly the first time. Blank lines count as in the first pass.
  RecordReader reader(source_, data_offset_, data_line_, chunk_bytes_);
  Record record;
  Term term;
  size_t field_number = 0;
  size_t pending_blanks = 0;
  size_t rows = 0;
  while (rows < rows_ && reader.Next(record, term, field_number)) {
    if (record.blank && columns_.size() > 1) continue;  // only trailing ones were accepted
    if (record.blank) {
      ++pending_blanks;
      continue;
    }
    for (; pending_blanks > 0 && rows < rows_; --pending_blanks, ++rows) column.codes.push_back(-1);
    if (rows == rows_) break;
    if (record.fields.size() != columns_.size()) break;  // not the records of the first pass
    column.AddCategorical(record.fields[column_index].value);
    ++rows;
  }
  SPOOR_RETURN_IF_ERROR(reader.status());
  if (rows != rows_) {
    return absl::UnavailableError(
        absl::StrCat(AsAbsl(source_name_), " changed while it was being read; try again"));
  }
  return absl::OkStatus();
}

Column Parser::Finish(ColumnBuilder& column) {
  if (column.numeric) return Column::Numeric(std::move(column.name), std::move(column.numbers));
  return Column::CategoricalSorting(
      std::move(column.name),
      std::vector<std::string>(std::make_move_iterator(column.levels.begin()),
                               std::make_move_iterator(column.levels.end())),
      std::move(column.codes));
}

absl::StatusOr<DataFrame> Parser::Run() {
  // A byte-order mark is skipped.
  char bom[3];
  SPOOR_ASSIGN_OR_RETURN(size_t got, source_.ReadAt(0, bom, sizeof(bom)));
  const uint64_t start = got == 3 && std::memcmp(bom, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;

  RecordReader reader(source_, start, 1, chunk_bytes_);
  SPOOR_RETURN_IF_ERROR(ReadHeader(reader));
  // Rows to reserve: estimated from the bytes per record of the first ones.
  bool reserved = false;
  const uint64_t size = source_.size_hint();

  Record record;
  Term term;
  size_t field_number = 0;
  size_t pending_blanks = 0;
  size_t first_blank_line = 0;
  while (reader.Next(record, term, field_number)) {
    if (record.blank) {
      if (pending_blanks++ == 0) first_blank_line = record.line;
      continue;
    }
    if (pending_blanks > 0) {
      if (columns_.size() > 1) {
        Record blank;
        blank.line = first_blank_line;
        blank.fields.resize(1);
        return CountError(blank);
      }
      for (; pending_blanks > 0; --pending_blanks, ++rows_) CommitMissingRow();
    }
    if (record.fields.size() != columns_.size()) return CountError(record);
    if (!reserved && rows_ == 1024) {
      const double per_record =
          static_cast<double>(reader.consumed() - data_offset_) / static_cast<double>(rows_ + 1);
      const double estimate = static_cast<double>(size - std::min(size, data_offset_)) / per_record;
      const auto rows = static_cast<size_t>(estimate * 1.05 + 1024);
      const auto hot_rows = static_cast<size_t>(estimate * 0.9);
      for (ColumnBuilder& column : columns_) {
        column.hot_rows = hot_rows;
        column.numeric ? ReserveColumn(column.numbers, rows, hot_rows)
                       : ReserveColumn(column.codes, rows, hot_rows);
      }
      reserved = true;
    }
    Commit(record);
    ++rows_;
    if (!switches_.empty()) {
      for (size_t index : switches_) SPOOR_RETURN_IF_ERROR(SwitchToCategorical(index));
      switches_.clear();
    }
  }
  SPOOR_RETURN_IF_ERROR(reader.status());
  if (field_number != 0) return FieldError(term, record.line, field_number);

  std::vector<Column> columns;
  columns.reserve(columns_.size());
  for (ColumnBuilder& column : columns_) columns.push_back(Finish(column));
  return DataFrame::Make(std::move(columns));
}

}  // namespace

bool IsMissingField(std::string_view text) { return IsMissing(text); }

bool ParseNumberField(std::string_view text, double& out) {
  return !text.empty() && ParseNumber(text, out);
}

absl::StatusOr<DataFrame> ParseCsv(std::string_view text, std::string_view source_name,
                                   const CsvOptions& options) {
  TextSource source(text);
  return Parser(source, source_name, options.chunk_bytes).Run();
}

absl::StatusOr<DataFrame> ReadCsvFile(const std::string& path, const CsvOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open ", path));
  struct stat before;
  if (::fstat(fd, &before) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus(err, absl::StrCat("cannot stat ", path));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  FileSource source(fd, static_cast<uint64_t>(before.st_size), path);
  absl::StatusOr<DataFrame> frame = Parser(source, path, options.chunk_bytes).Run();
  // A file rewritten in place while it was read gives a mix of old and new
  // records: refuse it rather than load it. (A file replaced by rename is
  // fine: this descriptor still reads the old one.)
  struct stat after;
  const bool changed = ::fstat(fd, &after) != 0 || after.st_size != before.st_size ||
                       after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
                       after.st_mtim.tv_nsec != before.st_mtim.tv_nsec;
  ::close(fd);
  if (changed) {
    return absl::UnavailableError(
        absl::StrCat(path, " changed while it was being read; try again"));
  }
  return frame;
}

}  // namespace spoor
