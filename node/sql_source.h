// Reads a dataset from a SQL database, a SQLite file or a PostgreSQL server,
// into a DataFrame typed as the CSV reader (algorithms/csv_reader.h) types the
// same values, so that one cohort gives one frame whichever source holds it.
//
// What is read: exactly one of SqlRead::table or SqlRead::query.
// - `table` is a table or view name, optionally schema-qualified
//   ("cdm.person"). Every dot separates two names, so at most one dot is
//   allowed; each part is quoted as an identifier by the reader, so it must
//   match the stored name exactly (PostgreSQL folds unquoted names to lower
//   case when it creates them: write "person", not "Person").
// - `query` is one read-only statement written by the node operator, run as
//   it is (no parameters; a trailing ';' is fine, a second statement is not).
//
// Typing, value by value within each column of the result:
// - missing: SQL NULL, and text that the CSV reader counts missing
//   (IsMissingField: empty or "NA");
// - a number: SQLite INTEGER and REAL values; PostgreSQL int2, int4, int8,
//   float4, float8, numeric and oid values (domains over them too); booleans
//   as 1 (true) and 0 (false); and text that ParseNumberField accepts ("12",
//   "-3.5", "1e-3", but not " 1", "inf" or "nan"). Integers are stored as
//   doubles, exactly up to 2^53 in magnitude.
// - anything else is text: a column with one non-missing value that is not a
//   number is categorical, every value contributing its text: SQLite
//   integers as "%lld", reals in the shortest form that reads back as the
//   same double (std::to_chars, e.g. "0.1", "1e+20"), text as stored;
//   PostgreSQL values in the text form libpq returns, with DateStyle
//   'ISO, YMD' (dates 'YYYY-MM-DD', timestamps 'YYYY-MM-DD HH:MM:SS') and
//   extra_float_digits 3 set for the read. Levels are the distinct texts
//   sorted by byte order, codes -1 for missing, as Column::Categorical
//   expects.
// - a column with no non-missing value is numeric (all NaN), as in CSV.
// - errors, never silently coerced: binary data (SQLite BLOB values,
//   PostgreSQL bytea) and non-finite numbers (SQLite REAL infinity,
//   PostgreSQL float/numeric NaN and Infinity), each naming the column; a
//   result with no columns, an empty column name, or two columns of one name.
// Zero rows is a frame of zero-length columns.
//
// Errors are one line that starts with SqlRead::source_name, says what went
// wrong and what to do, and never holds a data value (a cell may be
// patient-level): PostgreSQL server messages are passed on only for the
// SQLSTATE classes whose messages name objects and not values (08
// connection, 28 authorisation, 3D database, 42 syntax, undefined objects
// and permissions, 25 transaction state), every other failure, data
// exceptions (class 22) included, reads "query failed (SQLSTATE xxxxx)".
// Codes:
//   FAILED_PRECONDITION  the node operator must fix node.toml or the data:
//                        bad table or query, missing SQLite file, a query
//                        that writes, a statement timeout, an unsupported
//                        value as above, any server error not listed below
//   UNAVAILABLE          retry later: the PostgreSQL server cannot be
//                        reached or refused the connection (libpq gives no
//                        SQLSTATE for connection failures, so a wrong
//                        database or password lands here too, with libpq's
//                        message saying which), the connection broke, the
//                        server is shutting down or short of resources
//                        (SQLSTATE classes 08, 53, 57P, 40), or the SQLite
//                        file is locked by a writer past the busy timeout
//
// Both functions block until the whole result is read, open their own
// connection per call and share nothing, so they may be called from many
// threads at once. Neither logs.
#ifndef SPOOR_NODE_SQL_SOURCE_H_
#define SPOOR_NODE_SQL_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "algorithms/data_frame.h"

namespace spoor {

// What to read: exactly one of `table` or `query` is non-empty
// (FAILED_PRECONDITION otherwise).
struct SqlRead {
  std::string table;        // table or view, may be "schema.name"; quoted by the reader
  std::string query;        // a read-only SELECT written by the node operator
  std::string source_name;  // starts every error message, e.g. "dataset 'cohort'"
};

// Reads `what` from the SQLite database file at `path`, opened read-only
// (SQLITE_OPEN_READONLY, never created: a missing file is
// FAILED_PRECONDITION) with `PRAGMA query_only = ON`; a statement that
// could write is refused before it runs. Waits up to 10 s for a writer's
// lock (then UNAVAILABLE). The path appears in error messages.
absl::StatusOr<DataFrame> ReadSqlite(const std::string& path, const SqlRead& what);

// Reads `what` from the PostgreSQL server that `conninfo` (a libpq
// connection string, e.g. "host=/run/postgresql port=5432 dbname=omop
// user=spoor") names; the conninfo never appears in a message, as it may hold
// a password. connect_timeout defaults to 30 s unless conninfo sets it.
//
// The read runs in `BEGIN TRANSACTION READ ONLY`, so a query that writes is
// refused by the server (FAILED_PRECONDITION, "the query tried to write"),
// and fetches through a server-side cursor 50,000 rows at a time, so memory
// beyond the frame itself stays bounded. `statement_timeout` bounds each
// statement of the read (the cursor's declaration and each fetch), clamped
// to [1 ms, 2^31-1 ms]; a statement cancelled by it is FAILED_PRECONDITION.
// The transaction always ends (commit after a full read, rollback
// otherwise) and the connection is closed before returning.
absl::StatusOr<DataFrame> ReadPostgres(const std::string& conninfo, const SqlRead& what,
                                       absl::Duration statement_timeout = absl::Minutes(10));

}  // namespace spoor

#endif  // SPOOR_NODE_SQL_SOURCE_H_
