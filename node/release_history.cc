#include "node/release_history.h"

#include <sqlite3.h>

#include <bit>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite_statement.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS releases (
  dataset      TEXT NOT NULL,
  data_version TEXT NOT NULL,
  subset       BLOB NOT NULL,
  rows         INTEGER NOT NULL,
  selected     INTEGER NOT NULL,
  time         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS releases_by_version ON releases(dataset, data_version);
)sql";

int64_t WordCount(int64_t rows) { return rows <= 0 ? 0 : rows / 64 + (rows % 64 != 0 ? 1 : 0); }

// Word `i` of a serialized bitmap, in whatever byte order: the XOR of two
// words read the same way has the same popcount.
uint64_t RawWord(const char* bytes, int64_t i) {
  uint64_t word;
  std::memcpy(&word, bytes + i * 8, sizeof(word));
  return word;
}

// |a xor b| for two serialized bitmaps of `words` words, or some value
// >= `enough` once the count reaches it (the caller needs no more).
int64_t DifferenceUpTo(const char* a, const char* b, int64_t words, int64_t enough) {
  int64_t difference = 0;
  for (int64_t i = 0; i < words; ++i) {
    difference += std::popcount(RawWord(a, i) ^ RawWord(b, i));
    if (difference >= enough) break;
  }
  return difference;
}

class SqliteReleaseHistory final : public ReleaseHistory {
 public:
  SqliteReleaseHistory(sqlite3* db, std::string path, const Clock& clock)
      : clock_(clock), path_(std::move(path)), db_(db) {}
  ~SqliteReleaseHistory() override { sqlite3_close_v2(db_); }

  absl::Status Init() {
    absl::MutexLock lock(&mu_);
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA busy_timeout=5000"));
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    return Exec(kSchema);
  }

  absl::Status Check(const std::string& dataset, const std::string& data_version,
                     const RowSubset& subset, int64_t min_records) const override {
    absl::MutexLock lock(&mu_);
    return CheckLocked(dataset, data_version, subset.Serialize(), subset, min_records);
  }

  absl::Status Record(const std::string& dataset, const std::string& data_version,
                      const RowSubset& subset) override {
    absl::MutexLock lock(&mu_);
    return RecordLocked(dataset, data_version, subset.Serialize(), subset);
  }

  absl::Status CheckAndRecord(const std::string& dataset, const std::string& data_version,
                              const RowSubset& subset, int64_t min_records) override {
    absl::MutexLock lock(&mu_);
    std::string bytes = subset.Serialize();
    SPOOR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    absl::Status status = CheckLocked(dataset, data_version, bytes, subset, min_records);
    if (status.ok()) status = RecordLocked(dataset, data_version, bytes, subset);
    if (!status.ok()) {
      Exec("ROLLBACK").IgnoreError();  // the error above is the one to report
      return status;
    }
    absl::Status committed = Exec("COMMIT");
    if (!committed.ok()) Exec("ROLLBACK").IgnoreError();
    return committed;
  }

  absl::StatusOr<int64_t> Count(const std::string& dataset) const override {
    absl::MutexLock lock(&mu_);
    SqliteStatement st;
    SPOOR_RETURN_IF_ERROR(Prepare("SELECT COUNT(*) FROM releases WHERE dataset = ?1", st));
    SqliteBind(st.get(), 1, dataset);
    if (sqlite3_step(st.get()) != SQLITE_ROW) return Error("count the releases");
    return sqlite3_column_int64(st.get(), 0);
  }

 private:
  // `bytes` is subset.Serialize().
  absl::Status CheckLocked(const std::string& dataset, const std::string& data_version,
                           const std::string& bytes, const RowSubset& subset,
                           int64_t min_records) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (min_records <= 1) return absl::OkStatus();  // no difference is in (0, 1)
    SqliteStatement st;
    SPOOR_RETURN_IF_ERROR(
        Prepare("SELECT subset, selected FROM releases "
                "WHERE dataset = ?1 AND data_version = ?2 AND rows = ?3",
                st));
    SqliteBind(st.get(), 1, dataset);
    SqliteBind(st.get(), 2, data_version);
    sqlite3_bind_int64(st.get(), 3, subset.rows());
    const int64_t words = WordCount(subset.rows());
    const int64_t selected = subset.count();
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      // |A xor B| >= ||A| - |B||: far enough apart by their sizes alone.
      if (std::llabs(sqlite3_column_int64(st.get(), 1) - selected) >= min_records) continue;
      const char* earlier = static_cast<const char*>(sqlite3_column_blob(st.get(), 0));
      if (sqlite3_column_bytes(st.get(), 0) != static_cast<int64_t>(bytes.size()) ||
          (earlier == nullptr && !bytes.empty())) {
        return absl::InternalError(absl::StrCat("release history ", path_,
                                                ": a stored subset of dataset '", dataset,
                                                "' has the wrong size; the file is damaged"));
      }
      int64_t difference = DifferenceUpTo(bytes.data(), earlier, words, min_records);
      if (difference > 0 && difference < min_records) {
        return absl::FailedPreconditionError(absl::StrCat(
            "differencing guard: this query's rows differ from an earlier released query on "
            "dataset '",
            dataset, "' by fewer than the minimum of ", min_records,
            " records; a difference of the two results would reveal them"));
      }
    }
    if (rc != SQLITE_DONE) return Error("read the releases");
    return absl::OkStatus();
  }

  absl::Status RecordLocked(const std::string& dataset, const std::string& data_version,
                            const std::string& bytes, const RowSubset& subset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int64_t selected = subset.count();
    {
      SqliteStatement st;
      SPOOR_RETURN_IF_ERROR(
          Prepare("SELECT 1 FROM releases WHERE dataset = ?1 AND data_version = ?2 AND "
                  "rows = ?3 AND selected = ?4 AND subset = ?5 LIMIT 1",
                  st));
      SqliteBind(st.get(), 1, dataset);
      SqliteBind(st.get(), 2, data_version);
      sqlite3_bind_int64(st.get(), 3, subset.rows());
      sqlite3_bind_int64(st.get(), 4, selected);
      sqlite3_bind_blob64(st.get(), 5, bytes.data(), bytes.size(), SQLITE_STATIC);
      int rc = sqlite3_step(st.get());
      if (rc == SQLITE_ROW) return absl::OkStatus();  // recorded before
      if (rc != SQLITE_DONE) return Error("look up a release");
    }
    SqliteStatement st;
    SPOOR_RETURN_IF_ERROR(
        Prepare("INSERT INTO releases(dataset, data_version, subset, rows, selected, time) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                st));
    SqliteBind(st.get(), 1, dataset);
    SqliteBind(st.get(), 2, data_version);
    sqlite3_bind_blob64(st.get(), 3, bytes.data(), bytes.size(), SQLITE_STATIC);
    sqlite3_bind_int64(st.get(), 4, subset.rows());
    sqlite3_bind_int64(st.get(), 5, selected);
    sqlite3_bind_int64(st.get(), 6, absl::ToUnixMicros(clock_.Now()));
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("record a release");
    return absl::OkStatus();
  }

  absl::Status Error(const std::string& what) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::InternalError(
        absl::StrCat("release history ", path_, ": ", what, ": ", sqlite3_errmsg(db_)));
  }

  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return SqliteExec(db_, sql, absl::StrCat("release history ", path_));
  }

  absl::Status Prepare(const char* sql, SqliteStatement& st) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (sqlite3_prepare_v2(db_, sql, -1, st.out(), nullptr) != SQLITE_OK) return Error(sql);
    return absl::OkStatus();
  }

  const Clock& clock_;
  const std::string path_;
  mutable absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

RowSubset::RowSubset(int64_t rows) : rows_(rows), words_(WordCount(rows), 0) { assert(rows >= 0); }

void RowSubset::Set(int64_t row) {
  assert(row >= 0 && row < rows_);
  words_[row / 64] |= uint64_t{1} << (row % 64);
}

bool RowSubset::Get(int64_t row) const {
  assert(row >= 0 && row < rows_);
  return (words_[row / 64] >> (row % 64)) & 1;
}

int64_t RowSubset::count() const {
  int64_t count = 0;
  for (uint64_t word : words_) count += std::popcount(word);
  return count;
}

std::string RowSubset::Serialize() const {
  std::string bytes(words_.size() * 8, '\0');
  for (size_t i = 0; i < words_.size(); ++i) {
    for (int b = 0; b < 8; ++b) bytes[i * 8 + b] = static_cast<char>(words_[i] >> (8 * b));
  }
  return bytes;
}

absl::StatusOr<RowSubset> RowSubset::Parse(std::string_view bytes, int64_t rows) {
  if (rows < 0) {
    return absl::InvalidArgumentError(absl::StrCat("a row subset of ", rows, " rows"));
  }
  // Compared in words, so that a huge `rows` cannot overflow.
  if (bytes.size() % 8 != 0 || static_cast<int64_t>(bytes.size() / 8) != WordCount(rows)) {
    return absl::InvalidArgumentError(absl::StrCat("a row subset of ", rows, " rows is ",
                                                   WordCount(rows), " 64-bit words, not ",
                                                   bytes.size(), " bytes"));
  }
  RowSubset subset(rows);
  for (size_t i = 0; i < subset.words_.size(); ++i) {
    uint64_t word = 0;
    for (int b = 0; b < 8; ++b) {
      word |= uint64_t{static_cast<unsigned char>(bytes[i * 8 + b])} << (8 * b);
    }
    subset.words_[i] = word;
  }
  if (rows % 64 != 0 && (subset.words_.back() >> (rows % 64)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a row subset of ", rows, " rows selects rows past the last"));
  }
  return subset;
}

int64_t SymmetricDifference(const RowSubset& a, const RowSubset& b) {
  assert(a.rows() == b.rows());
  int64_t difference = 0;
  for (size_t i = 0; i < a.words().size() && i < b.words().size(); ++i) {
    difference += std::popcount(a.words()[i] ^ b.words()[i]);
  }
  return difference;
}

absl::StatusOr<std::unique_ptr<ReleaseHistory>> ReleaseHistory::Open(const std::string& path,
                                                                     const Clock& clock) {
  SPOOR_ASSIGN_OR_RETURN(sqlite3 * db, SqliteOpen(path, "the release history"));
  auto history = std::make_unique<SqliteReleaseHistory>(db, path, clock);
  SPOOR_RETURN_IF_ERROR(history->Init());
  return history;
}

}  // namespace spoor
