#include "node/sql_source.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "algorithms/csv_reader.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Debian's Abseil has its own string_view type, distinct from std::string_view.
absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

std::string SourceOf(const SqlRead& what) {
  return what.source_name.empty() ? std::string("SQL source") : what.source_name;
}

// The statement that reads `what`: the operator's query as written, or
// SELECT * from the table with each name part quoted as an identifier (the
// same quoting, "" for ", in SQLite and PostgreSQL).
absl::StatusOr<std::string> ReadStatement(const SqlRead& what) {
  const bool has_table = !absl::StripAsciiWhitespace(what.table).empty();
  const bool has_query = !absl::StripAsciiWhitespace(what.query).empty();
  if (has_table && has_query) {
    return absl::FailedPreconditionError(absl::StrCat(
        SourceOf(what), ": both a table and a query are set; keep one of them in node.toml"));
  }
  if (!has_table && !has_query) {
    return absl::FailedPreconditionError(absl::StrCat(
        SourceOf(what), ": neither a table nor a query is set; name one of them in node.toml"));
  }
  if (has_query) return what.query;
  std::vector<std::string> parts = absl::StrSplit(what.table, '.');
  if (parts.size() > 2 ||
      std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) {
    return absl::FailedPreconditionError(
        absl::StrCat(SourceOf(what), ": table '", what.table,
                     "' is not a name or schema.name; fix it in node.toml, or use a query"));
  }
  std::string statement = "SELECT * FROM ";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) statement += '.';
    statement += '"';
    for (char c : parts[i]) {
      statement += c;
      if (c == '"') statement += '"';
    }
    statement += '"';
  }
  return statement;
}

// Column names come from the result; they name the dataset's variables, so
// they must be non-empty and distinct (as the CSV reader requires of a
// header). Names are schema, not data, and may appear in messages.
absl::Status CheckColumnNames(const std::string& source, const std::vector<std::string>& names) {
  if (names.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(source, ": the result has no columns; select the dataset's columns"));
  }
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      return absl::FailedPreconditionError(absl::StrCat(source, ": column ", i + 1,
                                                        " of the result has no name; name it "
                                                        "with AS in the query"));
    }
    if (!seen.insert(names[i]).second) {
      return absl::FailedPreconditionError(
          absl::StrCat(source, ": the result has two columns named '", names[i],
                       "'; rename one with AS in the query"));
    }
  }
  return absl::OkStatus();
}

absl::Status BinaryColumnError(const std::string& source, const std::string& column) {
  return absl::FailedPreconditionError(absl::StrCat(source, ": column '", column,
                                                    "' holds binary data; select it out or cast "
                                                    "it in the query"));
}

absl::Status NonFiniteColumnError(const std::string& source, const std::string& column) {
  return absl::FailedPreconditionError(
      absl::StrCat(source, ": column '", column,
                   "' holds a NaN or infinite number; filter it out or map it to NULL in the "
                   "query"));
}

// Builds one column value by value with the typing rules of sql_source.h.
//
// Design: like the CSV reader, a column starts numeric and stays so while
// every value is missing or a number. Numbers are kept as doubles plus a
// one-byte kind per row, and number-like text additionally as its text, so
// that if a later value is not a number the column can switch to
// categorical and recover every earlier value's text exactly ("007" stays
// "007", an integer prints as "%lld", a real in shortest form). After the
// switch values go straight into a dictionary of distinct texts; Finish()
// sorts it into levels.
class ColumnBuilder {
 public:
  explicit ColumnBuilder(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }

  void AddMissing() {
    if (categorical_) {
      codes_.push_back(-1);
    } else {
      numbers_.push_back(kNaN);
      kinds_.push_back(Kind::kMissing);
    }
  }

  void AddInteger(int64_t value) {
    constexpr int64_t kExact = int64_t{1} << 53;
    if (value > kExact || value < -kExact) {
      // Not exactly a double: keep the exact digits as text.
      char buffer[24];
      auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
      AddText(std::string_view(buffer, static_cast<size_t>(end - buffer)));
      return;
    }
    if (categorical_) {
      codes_.push_back(Intern(FormatInteger(value)));
    } else {
      numbers_.push_back(static_cast<double>(value));
      kinds_.push_back(Kind::kInteger);
    }
  }

  // `value` must be finite.
  void AddReal(double value) {
    if (categorical_) {
      codes_.push_back(Intern(FormatReal(value)));
    } else {
      numbers_.push_back(value);
      kinds_.push_back(Kind::kReal);
    }
  }

  void AddText(std::string_view text) {
    if (IsMissingField(text)) {
      AddMissing();
      return;
    }
    if (!categorical_) {
      double value;
      if (ParseNumberField(text, value)) {
        numbers_.push_back(value);
        kinds_.push_back(Kind::kText);
        texts_.append(text);
        text_ends_.push_back(texts_.size());
        return;
      }
      SwitchToCategorical();
    }
    codes_.push_back(Intern(text));
  }

  Column Finish() && {
    if (!categorical_) return Column::Numeric(std::move(name_), std::move(numbers_));
    return Column::CategoricalSorting(
        std::move(name_),
        std::vector<std::string>(std::make_move_iterator(dictionary_levels_.begin()),
                                 std::make_move_iterator(dictionary_levels_.end())),
        std::move(codes_));
  }

 private:
  enum class Kind : uint8_t { kMissing, kInteger, kReal, kText };

  static std::string FormatInteger(double value) {
    char buffer[24];
    auto end = std::to_chars(buffer, buffer + sizeof buffer, static_cast<int64_t>(value)).ptr;
    return std::string(buffer, end);
  }

  // The shortest text that reads back as the same double.
  static std::string FormatReal(double value) {
    char buffer[32];
    auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    return std::string(buffer, end);
  }

  int32_t Intern(std::string_view text) {
    auto it = dictionary_.find(AsAbsl(text));
    if (it != dictionary_.end()) return it->second;
    const auto code = static_cast<int32_t>(dictionary_levels_.size());
    dictionary_levels_.emplace_back(text);  // a deque: views of earlier levels stay valid
    dictionary_.emplace(AsAbsl(dictionary_levels_.back()), code);
    return code;
  }

  void SwitchToCategorical() {
    codes_.reserve(numbers_.size() + 1);
    size_t text_index = 0;
    for (size_t row = 0; row < numbers_.size(); ++row) {
      switch (kinds_[row]) {
        case Kind::kMissing:
          codes_.push_back(-1);
          break;
        case Kind::kInteger:
          codes_.push_back(Intern(FormatInteger(numbers_[row])));
          break;
        case Kind::kReal:
          codes_.push_back(Intern(FormatReal(numbers_[row])));
          break;
        case Kind::kText: {
          const size_t begin = text_index == 0 ? 0 : text_ends_[text_index - 1];
          const size_t end = text_ends_[text_index++];
          codes_.push_back(Intern(std::string_view(texts_).substr(begin, end - begin)));
          break;
        }
      }
    }
    categorical_ = true;
    std::vector<double>().swap(numbers_);
    std::vector<Kind>().swap(kinds_);
    std::string().swap(texts_);
    std::vector<size_t>().swap(text_ends_);
  }

  std::string name_;
  bool categorical_ = false;
  // While numeric.
  std::vector<double> numbers_;  // NaN = missing
  std::vector<Kind> kinds_;
  std::string texts_;              // the text of each kText row, concatenated
  std::vector<size_t> text_ends_;  // where each kText row's text ends in texts_
  // Once categorical: codes into dictionary_levels_ (first-seen order).
  std::vector<int32_t> codes_;
  std::deque<std::string> dictionary_levels_;
  absl::flat_hash_map<absl::string_view, int32_t> dictionary_;
};

absl::StatusOr<DataFrame> MakeFrame(const std::string& source,
                                    std::vector<ColumnBuilder>& builders) {
  std::vector<Column> columns;
  columns.reserve(builders.size());
  for (ColumnBuilder& builder : builders) columns.push_back(std::move(builder).Finish());
  absl::StatusOr<DataFrame> frame = DataFrame::Make(std::move(columns));
  if (!frame.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(source, ": ", frame.status().message()));
  }
  return frame;
}

// ---------------------------------------------------------------- SQLite

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStatement = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

constexpr int kSqliteBusyTimeoutMs = 10'000;

// A locked database may clear; anything else needs the operator.
absl::StatusCode SqliteStatusCode(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? absl::StatusCode::kUnavailable
                                                            : absl::StatusCode::kFailedPrecondition;
}

absl::Status SqliteWriteRefused(const std::string& source) {
  return absl::FailedPreconditionError(
      absl::StrCat(source,
                   ": the query tried to write; datasets are read through read-only "
                   "connections, so the query must only read"));
}

// Opens `path` read-only (never creating it) with query_only on.
absl::StatusOr<SqliteDb> OpenSqlite(const std::string& path, const std::string& source) {
  // sqlite3_open_v2 would say only "unable to open database file"; stat
  // says why.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(source, ": cannot read SQLite database ",
                                                      path, " (", std::strerror(errno),
                                                      "); check its path in node.toml"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        source, ": SQLite database ", path, " is not a file; check its path in node.toml"));
  }
  // Debian's SQLite reads names starting with "file:" as URIs, whose
  // parameters could change how it opens; "./" makes such a name a path.
  const std::string open_name = path.rfind("file:", 0) == 0 ? "./" + path : path;
  sqlite3* raw_db = nullptr;
  const int open_rc = sqlite3_open_v2(open_name.c_str(), &raw_db, SQLITE_OPEN_READONLY, nullptr);
  SqliteDb db(raw_db);
  if (open_rc != SQLITE_OK) {
    return absl::Status(
        SqliteStatusCode(open_rc),
        absl::StrCat(source, ": cannot open SQLite database ", path, ": ",
                     db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(open_rc), "; check the file"));
  }
  sqlite3_busy_timeout(db.get(), kSqliteBusyTimeoutMs);
  if (int rc = sqlite3_exec(db.get(), "PRAGMA query_only = ON", nullptr, nullptr, nullptr);
      rc != SQLITE_OK) {
    return absl::Status(SqliteStatusCode(rc),
                        absl::StrCat(source, ": cannot use SQLite database ", path, ": ",
                                     sqlite3_errmsg(db.get()), "; check the file"));
  }
  return db;
}

// Prepares `sql`, which must be one statement that only reads. Prepare
// messages name tables, columns and syntax, never values, so they are
// passed on.
absl::StatusOr<SqliteStatement> PrepareSqlite(sqlite3* db, const std::string& sql,
                                              const SqlRead& what, const std::string& source) {
  sqlite3_stmt* raw_statement = nullptr;
  const char* tail = nullptr;
  const int rc =
      sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &raw_statement, &tail);
  SqliteStatement statement(raw_statement);
  if (rc != SQLITE_OK) {
    return absl::Status(
        SqliteStatusCode(rc),
        absl::StrCat(source, ": SQLite rejected the ", what.query.empty() ? "table" : "query", ": ",
                     sqlite3_errmsg(db), "; fix it in node.toml"));
  }
  if (statement == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(source, ": the query holds no statement; fix it in node.toml"));
  }
  // Anything after the first statement but blanks, ';' and comments is a
  // second statement.
  sqlite3_stmt* raw_next = nullptr;
  const int next_rc = sqlite3_prepare_v2(db, tail, -1, &raw_next, nullptr);
  SqliteStatement next(raw_next);
  if (next_rc != SQLITE_OK || next != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        source, ": the query holds more than one statement; keep one SELECT in node.toml"));
  }
  if (!sqlite3_stmt_readonly(statement.get())) return SqliteWriteRefused(source);
  return statement;
}

// Adds the statement's current row to `builders`.
absl::Status AddSqliteRow(sqlite3_stmt* statement, std::vector<ColumnBuilder>& builders,
                          const std::string& source) {
  for (size_t column = 0; column < builders.size(); ++column) {
    ColumnBuilder& builder = builders[column];
    const int i = static_cast<int>(column);
    switch (sqlite3_column_type(statement, i)) {
      case SQLITE_NULL:
        builder.AddMissing();
        break;
      case SQLITE_INTEGER:
        builder.AddInteger(sqlite3_column_int64(statement, i));
        break;
      case SQLITE_FLOAT: {
        const double value = sqlite3_column_double(statement, i);
        if (!std::isfinite(value)) return NonFiniteColumnError(source, builder.name());
        builder.AddReal(value);
        break;
      }
      case SQLITE_TEXT: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, i));
        const int bytes = sqlite3_column_bytes(statement, i);
        builder.AddText(text == nullptr ? std::string_view()
                                        : std::string_view(text, static_cast<size_t>(bytes)));
        break;
      }
      default:  // SQLITE_BLOB
        return BinaryColumnError(source, builder.name());
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DataFrame> ReadSqlite(const std::string& path, const SqlRead& what) {
  const std::string source = SourceOf(what);
  SPOOR_ASSIGN_OR_RETURN(std::string sql, ReadStatement(what));
  SPOOR_ASSIGN_OR_RETURN(SqliteDb db, OpenSqlite(path, source));
  SPOOR_ASSIGN_OR_RETURN(SqliteStatement statement, PrepareSqlite(db.get(), sql, what, source));

  std::vector<std::string> names;
  for (int i = 0; i < sqlite3_column_count(statement.get()); ++i) {
    const char* name = sqlite3_column_name(statement.get(), i);
    names.emplace_back(name == nullptr ? "" : name);
  }
  SPOOR_RETURN_IF_ERROR(CheckColumnNames(source, names));
  std::vector<ColumnBuilder> builders;
  builders.reserve(names.size());
  for (std::string& name : names) builders.emplace_back(std::move(name));

  for (;;) {
    const int rc = sqlite3_step(statement.get());
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_ROW) {
      SPOOR_RETURN_IF_ERROR(AddSqliteRow(statement.get(), builders, source));
      continue;
    }
    // A write that sqlite3_stmt_readonly did not foresee (some PRAGMAs),
    // stopped by the read-only connection.
    if ((rc & 0xff) == SQLITE_READONLY) return SqliteWriteRefused(source);
    // sqlite3_errmsg may quote a value here (a failed cast or function);
    // the code's name cannot.
    return absl::Status(SqliteStatusCode(rc),
                        absl::StrCat(source, ": reading rows from SQLite database ", path,
                                     " failed: ", sqlite3_errstr(rc), " (SQLite code ", rc,
                                     "); check the query and the file"));
  }
  return MakeFrame(source, builders);
}

// ---------------------------------------------------------------- PostgreSQL

namespace {

// Type OIDs from PostgreSQL's catalog/pg_type.dat; fixed across versions.
// Row descriptions report a domain's base type, so domains need no care.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

constexpr int kFetchRows = 50'000;
constexpr const char* kCursorName = "spoor_read";

enum class PgValueKind { kNumber, kBoolean, kBinary, kText };

PgValueKind KindOfType(Oid type) {
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return PgValueKind::kNumber;
    case kBoolOid:
      return PgValueKind::kBoolean;
    case kByteaOid:
      return PgValueKind::kBinary;
    default:
      return PgValueKind::kText;
  }
}

// Server and libpq messages may span lines; a status is one line.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultCloser {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultCloser>;

// One read over one connection: connect, open a read-only transaction,
// declare a cursor, fetch in batches. The destructor ends the transaction
// (if the connection is idle in one) and closes the connection.
class PostgresRead {
 public:
  PostgresRead(const SqlRead& what, absl::Duration statement_timeout)
      : what_(what),
        source_(SourceOf(what)),
        timeout_(std::clamp(statement_timeout, absl::Milliseconds(1),
                            absl::Milliseconds(std::numeric_limits<int32_t>::max()))) {}

  ~PostgresRead() {
    if (conn_ == nullptr) return;
    const PGTransactionStatusType state = PQtransactionStatus(conn_.get());
    // ACTIVE means a query is still running (after a cancel): closing the
    // connection makes the server roll back.
    if (state == PQTRANS_INTRANS || state == PQTRANS_INERROR) {
      PgResult(PQexec(conn_.get(), "ROLLBACK"));
    }
  }

  absl::StatusOr<DataFrame> Run(const std::string& conninfo) {
    SPOOR_ASSIGN_OR_RETURN(std::string sql, ReadStatement(what_));
    SPOOR_RETURN_IF_ERROR(Connect(conninfo));
    const std::string begin =
        absl::StrCat("BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = ",
                     absl::ToInt64Milliseconds(timeout_),
                     "; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL extra_float_digits = 3");
    SPOOR_RETURN_IF_ERROR(Command(begin.c_str()));
    SPOOR_RETURN_IF_ERROR(DeclareCursor(sql));
    const std::string fetch = absl::StrCat("FETCH FORWARD ", kFetchRows, " FROM ", kCursorName);
    for (;;) {
      PgResult batch(PQexecParams(conn_.get(), fetch.c_str(), 0, nullptr, nullptr, nullptr, nullptr,
                                  /*resultFormat=*/0));
      if (PQresultStatus(batch.get()) != PGRES_TUPLES_OK) return ErrorOf(batch.get());
      if (builders_.empty()) SPOOR_RETURN_IF_ERROR(StartColumns(batch.get()));
      SPOOR_RETURN_IF_ERROR(AddRows(batch.get()));
      if (PQntuples(batch.get()) < kFetchRows) break;
    }
    // Every row is in; a failed COMMIT of a read-only transaction loses
    // nothing, and the destructor rolls back whatever remains.
    PgResult(PQexec(conn_.get(), "COMMIT"));
    return MakeFrame(source_, builders_);
  }

 private:
  absl::Status Connect(const std::string& conninfo) {
    // Checked first so that a malformed string is the operator's to fix; its
    // parse message is not passed on, as it may quote a password.
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
    if (parse_error != nullptr) PQfreemem(parse_error);
    if (options == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          source_, ": the PostgreSQL connection string is malformed; fix it in node.toml"));
    }
    PQconninfoFree(options);
    // Later entries override earlier ones, so the operator's connect_timeout
    // wins over the default.
    const char* const keys[] = {"connect_timeout", "dbname", "fallback_application_name", nullptr};
    const char* const values[] = {"30", conninfo.c_str(), "spoor-node", nullptr};
    conn_.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
    if (conn_ == nullptr || PQstatus(conn_.get()) != CONNECTION_OK) {
      // Connection messages name the server, user and database, not data.
      const std::string message =
          conn_ == nullptr ? "out of memory" : OneLine(PQerrorMessage(conn_.get()));
      return absl::UnavailableError(
          absl::StrCat(source_, ": cannot connect to PostgreSQL: ", message,
                       "; retry later, or check host, port, dbname and user in node.toml"));
    }
    if (PQsetClientEncoding(conn_.get(), "UTF8") != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          source_, ": the PostgreSQL server cannot send UTF-8; check the server's encoding"));
    }
    return absl::OkStatus();
  }

  // Runs statements of our own that return no rows.
  absl::Status Command(const char* sql) {
    PgResult result(PQexec(conn_.get(), sql));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) return ErrorOf(result.get());
    return absl::OkStatus();
  }

  absl::Status DeclareCursor(const std::string& sql) {
    const bool is_query = !absl::StripAsciiWhitespace(what_.query).empty();
    // A savepoint lets a rejected DECLARE be followed by the diagnosis below.
    if (is_query) SPOOR_RETURN_IF_ERROR(Command("SAVEPOINT spoor_declare"));
    // The extended protocol (PQexecParams) takes exactly one statement, so a
    // query cannot smuggle a second one past the cursor.
    const std::string declare =
        absl::StrCat("DECLARE ", kCursorName, " NO SCROLL CURSOR FOR ", sql);
    PgResult result(
        PQexecParams(conn_.get(), declare.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) == PGRES_COMMAND_OK) return absl::OkStatus();
    const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    if (is_query && state != nullptr &&
        (std::strcmp(state, "42601") == 0 || std::strcmp(state, "0A000") == 0)) {
      return DiagnoseUndeclarable(result.get());
    }
    return ErrorOf(result.get());
  }

  // DECLARE takes only SELECT, VALUES and TABLE (and no data-modifying
  // WITH), so it rejects an INSERT as a syntax error. Running the query bare
  // in the read-only transaction lets the server say what is really wrong
  // ("cannot execute INSERT in a read-only transaction", or the same syntax
  // error). Single-row mode and a cancel keep a statement that does run from
  // sending its whole result.
  absl::Status DiagnoseUndeclarable(const PGresult* declare_error) {
    if (!Command("ROLLBACK TO SAVEPOINT spoor_declare").ok() ||
        !PQsendQueryParams(conn_.get(), what_.query.c_str(), 0, nullptr, nullptr, nullptr, nullptr,
                           0)) {
      return ErrorOf(declare_error);
    }
    PQsetSingleRowMode(conn_.get());
    PgResult first(PQgetResult(conn_.get()));
    const ExecStatusType status = PQresultStatus(first.get());
    if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR) return ErrorOf(first.get());
    if (PGcancel* cancel = PQgetCancel(conn_.get())) {
      char ignored[256];
      PQcancel(cancel, ignored, sizeof ignored);
      PQfreeCancel(cancel);
    }
    return absl::FailedPreconditionError(
        absl::StrCat(source_,
                     ": the query cannot be read through a cursor; it must be a single "
                     "SELECT, VALUES or TABLE statement without data-modifying WITH (SQLSTATE ",
                     PQresultErrorField(declare_error, PG_DIAG_SQLSTATE), ")"));
  }

  absl::Status StartColumns(const PGresult* batch) {
    const int num_columns = PQnfields(batch);
    std::vector<std::string> names;
    for (int i = 0; i < num_columns; ++i) {
      const char* name = PQfname(batch, i);
      names.emplace_back(name == nullptr ? "" : name);
      kinds_.push_back(KindOfType(PQftype(batch, i)));
    }
    SPOOR_RETURN_IF_ERROR(CheckColumnNames(source_, names));
    builders_.reserve(names.size());
    for (std::string& name : names) builders_.emplace_back(std::move(name));
    return absl::OkStatus();
  }

  absl::Status AddRows(const PGresult* batch) {
    const int num_rows = PQntuples(batch);
    // Column by column: each builder's vectors stay hot in cache.
    for (size_t column = 0; column < builders_.size(); ++column) {
      ColumnBuilder& builder = builders_[column];
      const int c = static_cast<int>(column);
      for (int row = 0; row < num_rows; ++row) {
        if (PQgetisnull(batch, row, c)) {
          builder.AddMissing();
          continue;
        }
        const std::string_view text(PQgetvalue(batch, row, c),
                                    static_cast<size_t>(PQgetlength(batch, row, c)));
        switch (kinds_[column]) {
          case PgValueKind::kNumber: {
            // Integers, floats and numerics print as decimal numbers; only
            // NaN and (-)Infinity do not.
            double value;
            if (!ParseNumberField(text, value))
              return NonFiniteColumnError(source_, builder.name());
            builder.AddReal(value);
            break;
          }
          case PgValueKind::kBoolean:
            builder.AddReal(text == "t" ? 1.0 : 0.0);
            break;
          case PgValueKind::kBinary:
            return BinaryColumnError(source_, builder.name());
          case PgValueKind::kText:
            builder.AddText(text);
            break;
        }
      }
    }
    return absl::OkStatus();
  }

  // The status for a failed statement. Only SQLSTATE classes whose messages
  // name objects, never values, pass the server's message on.
  absl::Status ErrorOf(const PGresult* result) const {
    const char* state_field =
        result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
    if (state_field == nullptr || std::strlen(state_field) != 5) {
      // No SQLSTATE: libpq itself failed, almost always a broken connection.
      // PQerrorMessage is not passed on: it may still hold a server message.
      if (PQstatus(conn_.get()) == CONNECTION_BAD) {
        return absl::UnavailableError(
            absl::StrCat(source_,
                         ": the connection to PostgreSQL broke during the read; "
                         "retry later"));
      }
      return absl::UnavailableError(
          absl::StrCat(source_, ": the PostgreSQL client failed without a SQLSTATE; retry later"));
    }
    const std::string state(state_field);
    const std::string klass = state.substr(0, 2);
    const char* primary_field = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const std::string primary = OneLine(primary_field == nullptr ? "" : primary_field);
    const std::string code = absl::StrCat(" (SQLSTATE ", state, ")");
    if (state == "25006") {
      return absl::FailedPreconditionError(
          absl::StrCat(source_,
                       ": the query tried to write; datasets are read through read-only "
                       "transactions, so the query must only read",
                       code));
    }
    if (klass == "08") {
      return absl::UnavailableError(absl::StrCat(
          source_, ": PostgreSQL connection failed: ", primary, code, "; retry later"));
    }
    if (klass == "28" || klass == "3D" || klass == "42" || klass == "25") {
      return absl::FailedPreconditionError(absl::StrCat(
          source_, ": PostgreSQL rejected the ", what_.query.empty() ? "table" : "query", ": ",
          primary, code, "; fix it in node.toml"));
    }
    if (state == "57014") {
      return absl::FailedPreconditionError(
          absl::StrCat(source_, ": the query was cancelled, by the statement timeout of ",
                       absl::FormatDuration(timeout_), " unless an administrator cancelled it",
                       code, "; make the query cheaper or raise timeout_seconds in node.toml"));
    }
    if (klass == "53" || klass == "40" || state.rfind("57P", 0) == 0) {
      return absl::UnavailableError(absl::StrCat(source_, ": query failed", code,
                                                 "; the server is busy or restarting, "
                                                 "retry later"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat(source_, ": query failed", code, "; check the query and the data"));
  }

  const SqlRead& what_;
  const std::string source_;
  const absl::Duration timeout_;
  std::unique_ptr<PGconn, PgConnCloser> conn_;
  std::vector<PgValueKind> kinds_;
  std::vector<ColumnBuilder> builders_;
};

}  // namespace

absl::StatusOr<DataFrame> ReadPostgres(const std::string& conninfo, const SqlRead& what,
                                       absl::Duration statement_timeout) {
  PostgresRead read(what, statement_timeout);
  return read.Run(conninfo);
}

}  // namespace spoor
