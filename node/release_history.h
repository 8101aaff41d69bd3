// The differencing guard (DataSHIELD issue 250): two releases over subsets A
// and B of the same dataset whose rows differ in only a few records,
// 0 < |A xor B| < min_records, let the difference of the two aggregates
// reveal those few records, although each aggregate passed the disclosure
// gate on its own (e.g. "age > 50" and "age > 50 and id != 17"). The node
// remembers which rows each released query used and refuses a query whose
// rows differ from an earlier release's by fewer than min_records.
//
// Histories are per dataset and data version (the dataset's content, e.g. a
// hash of its file): when the data change, rows are no longer the same
// people and a new history starts. The guard compares pairs of releases; a
// combination of three or more releases is not covered (nor are releases
// the node made before it kept this history).
//
// On disk (data_dir/releases.db), one table:
//   releases(dataset TEXT, data_version TEXT, subset BLOB, rows INTEGER,
//            selected INTEGER, time INTEGER (Unix microseconds))
// `subset` is RowSubset::Serialize: one bit per row, bit i of the bitmap set
// when row i was selected, as little-endian 64-bit words (row i is bit i % 64
// of word i / 64); rows / 8 bytes rounded up to whole words, 125 kB for a
// million rows. Nothing is ever removed: a dataset's history grows by one
// bitmap per distinct released subset until its data version changes (the
// old version's rows then stay in the file, unused).
#ifndef SPOOR_NODE_RELEASE_HISTORY_H_
#define SPOOR_NODE_RELEASE_HISTORY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"

namespace spoor {

// The rows a query used: bit i set when row i of the dataset was selected.
// A value type; thread-compatible.
class RowSubset {
 public:
  // `rows` >= 0 rows, none selected.
  explicit RowSubset(int64_t rows);

  // Selects `row`; requires 0 <= row < rows() (checked in debug builds).
  void Set(int64_t row);
  // Whether `row` is selected; requires 0 <= row < rows().
  bool Get(int64_t row) const;

  int64_t rows() const { return rows_; }
  // The number of selected rows.
  int64_t count() const;

  // The bitmap as stored: little-endian 64-bit words, (rows + 63) / 64 of
  // them; bits past rows() are 0.
  std::string Serialize() const;
  // The inverse of Serialize for a dataset of `rows` rows. INVALID_ARGUMENT
  // when rows < 0, `bytes` is not (rows + 63) / 64 words long, or a bit past
  // the last row is set.
  static absl::StatusOr<RowSubset> Parse(std::string_view bytes, int64_t rows);

  const std::vector<uint64_t>& words() const { return words_; }

  friend bool operator==(const RowSubset& a, const RowSubset& b) = default;

 private:
  int64_t rows_;
  std::vector<uint64_t> words_;
};

// |a xor b|: the number of rows selected in exactly one of the two. Requires
// a.rows() == b.rows() (checked in debug builds). rows / 64 popcounts.
int64_t SymmetricDifference(const RowSubset& a, const RowSubset& b);

// The released subsets, per dataset and data version. Thread-safe; the
// operator's CLI may open the same file while the node runs.
//
// Cost: Check reads and compares the dataset version's earlier releases word
// by word, releases x rows / 64 words (a million rows and 50 releases: 50 x
// 15,625 words, a few milliseconds), and skips a release at once when the
// two selected counts alone differ by min_records or more.
class ReleaseHistory {
 public:
  // Opens (creating) the database at `path`. `clock` timestamps the records;
  // it is not owned and must outlive the history. FAILED_PRECONDITION when
  // the file cannot be opened, INTERNAL when its schema cannot be created.
  static absl::StatusOr<std::unique_ptr<ReleaseHistory>> Open(const std::string& path,
                                                              const Clock& clock);
  virtual ~ReleaseHistory() = default;

  // OK unless an earlier release of `dataset` at `data_version` over the
  // same number of rows used a subset B with 0 < |subset xor B| < min_records;
  // then FAILED_PRECONDITION "differencing guard: this query's rows differ
  // from an earlier released query on dataset 'D' by fewer than the minimum
  // of M records; a difference of the two results would reveal them". The
  // message names neither rows nor values, nor how many records differ (a
  // count below min_records is itself a small cell). Identical subsets pass:
  // the same rows give the same result. INTERNAL when SQLite fails.
  virtual absl::Status Check(const std::string& dataset, const std::string& data_version,
                             const RowSubset& subset, int64_t min_records) const = 0;

  // Remembers a released subset; an exact duplicate of an earlier record of
  // the same dataset and version is not stored again. INTERNAL when SQLite
  // fails.
  virtual absl::Status Record(const std::string& dataset, const std::string& data_version,
                              const RowSubset& subset) = 0;

  // Check, then Record when the check passes, as one transaction: two
  // queries that run at the same time cannot both pass against a history
  // that holds neither. Call it before releasing the result; a query that
  // is then not released (e.g. the disclosure gate refuses it) stays
  // recorded, which errs on the safe side. Errors as Check and Record.
  virtual absl::Status CheckAndRecord(const std::string& dataset, const std::string& data_version,
                                      const RowSubset& subset, int64_t min_records) = 0;

  // The releases kept for `dataset`, all versions, for the operator.
  // INTERNAL when SQLite fails.
  virtual absl::StatusOr<int64_t> Count(const std::string& dataset) const = 0;
};

}  // namespace spoor

#endif  // SPOOR_NODE_RELEASE_HISTORY_H_
