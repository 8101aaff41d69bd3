// Reads CSV (RFC 4180) into a DataFrame.
//
// - The first row is the header; column names must be non-empty and distinct
//   (dots and underscores allowed: "ph.ecog").
// - Fields are comma separated; a field may be quoted with '"', in which case
//   it may contain commas, CR/LF and doubled quotes ("" = one quote).
// - Lines end in LF or CRLF; a final line without a newline is accepted; a
//   UTF-8 byte-order mark at the start is skipped; fully empty lines at the
//   very end are ignored.
// - An empty field or NA (unquoted or quoted) is missing. Quoted "NA" is
//   deliberately missing too, as in R's read.csv; other spellings ("na",
//   "N/A") are ordinary values.
// - Type inference: a column is numeric if every non-missing field parses in
//   full as a finite decimal number (std::from_chars, e.g. "12", "-3.5",
//   "1e-3", plus an optional leading '+'; quoted numbers count; surrounding
//   spaces, "nan" and "inf" do not); otherwise it is categorical with the
//   distinct strings as levels, sorted by byte order. A column with no
//   non-missing values is numeric.
// - A CR not followed by LF is ordinary data. In a one-column file an empty
//   line before the end is a missing value; with more columns it is a
//   field-count error.
//
// Errors are INVALID_ARGUMENT and name the source and the 1-based line, never
// a field's content (it may be a patient-level value), e.g.
//   "cohort.csv:17: expected 8 fields as in the header, found 9"
//   "cohort.csv:4: unterminated quoted field"
//   "cohort.csv:1: duplicate column name 'age'"   (header names are not data)
#ifndef SPOOR_ALGORITHMS_CSV_READER_H_
#define SPOOR_ALGORITHMS_CSV_READER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "algorithms/data_frame.h"

namespace spoor {

struct CsvOptions {
  // Input is read and parsed in chunks of this size (a record longer than a
  // chunk grows it); a file's text is never held whole. Tests make it tiny.
  size_t chunk_bytes = 1 << 20;
};

// Parses CSV text. `source_name` is used in error messages.
absl::StatusOr<DataFrame> ParseCsv(std::string_view text, std::string_view source_name,
                                   const CsvOptions& options = {});

// Reads and parses the file at `path`: NOT_FOUND / PERMISSION_DENIED naming
// the path when it cannot be opened, UNAVAILABLE (try again) when the file
// was rewritten while it was being read. Memory: the columns and one chunk.
absl::StatusOr<DataFrame> ReadCsvFile(const std::string& path, const CsvOptions& options = {});

// The field rules above, for other sources that must read text the same way
// (SQL text columns): whether `text` is missing (empty or NA), and whether it
// is in full a finite decimal number (then stored in `out`).
bool IsMissingField(std::string_view text);
bool ParseNumberField(std::string_view text, double& out);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_CSV_READER_H_
