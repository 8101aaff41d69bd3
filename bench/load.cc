// spoor-bench load: how fast a node loads a dataset, and what a second task
// on the cached dataset costs.
//
// Generates a mixed cohort (numeric and categorical columns, some missing
// values, as the demo's hospitals) unless --csv names a file, then in one
// process:
//   1. the node's load: DatasetCache::Get on a fresh cache (stat, read,
//      parse into columns), best of --repeat, and a second Get on the same
//      cache (the cached frame); for the CSV its peak memory over the frame;
//   2. the same for the same rows in SQLite and in PostgreSQL (a throwaway
//      server on a unix socket, tests/postgres_server.h) with --sources;
//   3. the reference: reading the same bytes through one reused buffer of the
//      reader's chunk size, nothing parsed (the I/O floor), best of --repeat.
#include <fcntl.h>
#include <malloc.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "algorithms/csv_reader.h"
#include "bench/bench.h"
#include "common/file_util.h"
#include "common/status.h"
#include "node/dataset_cache.h"
#include "tests/postgres_server.h"

namespace spoor::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Resident set size fields of /proc/self/status, in bytes.
size_t ProcStatusBytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0) return std::stoull(line.substr(n + 1)) * 1024;
  }
  return 0;
}

// The demo's columns, at scale: id, age, sex, bmi (some missing), smoker,
// sbp, stage, followup_days, event.
absl::Status WriteCohort(const std::string& path, int64_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit;
  const char* smoker[] = {"never", "former", "current"};
  std::string out = "id,age,sex,bmi,smoker,sbp,stage,followup_days,event\n";
  out.reserve(static_cast<size_t>(rows) * 44);
  for (int64_t i = 1; i <= rows; ++i) {
    const double bmi = std::round((26 + 4 * normal(rng)) * 10) / 10;
    absl::StrAppend(&out, i, ",", static_cast<int>(55 + 12 * normal(rng)), ",",
                    unit(rng) < 0.5 ? "F" : "M", ",");
    if (unit(rng) < 0.05) {
      out += "NA";
    } else {
      absl::StrAppendFormat(&out, "%.1f", bmi);
    }
    absl::StrAppend(&out, ",", smoker[static_cast<int>(unit(rng) * 3)], ",",
                    static_cast<int>(130 + 15 * normal(rng)), ",",
                    1 + static_cast<int>(unit(rng) * 4), ",",
                    1 + static_cast<int>(unit(rng) * 3650), ",", unit(rng) < 0.3 ? 1 : 0, "\n");
  }
  return WriteFileAtomically(path, out);
}

// One source's figures: the best load of --repeat on a fresh cache, the
// cached second Get, rows, frame size and (first load) peak memory.
struct SourceFigures {
  std::string source;
  double load_s = 1e300;
  double cached_s = 1e300;
  size_t rows = 0;
  size_t frame_bytes = 0;
  size_t peak_bytes = 0;
};

absl::StatusOr<SourceFigures> MeasureSource(const std::string& source, const DatasetConfig& config,
                                            int repeat) {
  SourceFigures figures;
  figures.source = source;
  for (int i = 0; i < repeat; ++i) {
    DatasetCache cache({config});
    // Reset the high-water mark to the current resident set (Linux >= 4.0).
    std::ofstream("/proc/self/clear_refs") << "5";
    const size_t rss_before = ProcStatusBytes("VmRSS:");
    auto start = Clock::now();
    SPOOR_ASSIGN_OR_RETURN(std::shared_ptr<const DataFrame> frame, cache.Get("cohort"));
    figures.load_s = std::min(figures.load_s, Seconds(Clock::now() - start));
    if (i == 0) {
      // The high-water mark over the resident set before the load.
      const size_t hwm = ProcStatusBytes("VmHWM:");
      figures.peak_bytes = hwm > rss_before ? hwm - rss_before : 0;
    }
    figures.rows = frame->num_rows();
    figures.frame_bytes = frame->memory_bytes();
    start = Clock::now();
    SPOOR_ASSIGN_OR_RETURN(std::shared_ptr<const DataFrame> again, cache.Get("cohort"));
    figures.cached_s = std::min(figures.cached_s, Seconds(Clock::now() - start));
  }
  return figures;
}

// The CSV's rows into a SQLite table `cohort` (one transaction, prepared
// insert; NA as NULL).
absl::Status WriteSqlite(const std::string& csv, const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(DataFrame frame, ReadCsvFile(csv));
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot create ", path));
  }
  std::string create = "CREATE TABLE cohort (";
  std::string insert = "INSERT INTO cohort VALUES (";
  for (size_t c = 0; c < frame.num_columns(); ++c) {
    const Column& column = frame.columns()[c];
    absl::StrAppend(&create, c ? ", " : "", column.name(),
                    column.type() == ColumnType::kNumeric ? " REAL" : " TEXT");
    absl::StrAppend(&insert, c ? ", " : "", "?");
  }
  create += ");";
  insert += ");";
  sqlite3_stmt* stmt = nullptr;
  bool ok = sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK &&
            sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK &&
            sqlite3_prepare_v2(db, insert.c_str(), -1, &stmt, nullptr) == SQLITE_OK;
  for (size_t r = 0; ok && r < frame.num_rows(); ++r) {
    for (size_t c = 0; c < frame.num_columns(); ++c) {
      const Column& column = frame.columns()[c];
      const int i = static_cast<int>(c) + 1;
      if (column.is_missing(r)) {
        sqlite3_bind_null(stmt, i);
      } else if (column.type() == ColumnType::kNumeric) {
        sqlite3_bind_double(stmt, i, column.numbers()[r]);
      } else {
        const std::string& level = column.levels()[column.codes()[r]];
        sqlite3_bind_text(stmt, i, level.data(), static_cast<int>(level.size()), SQLITE_STATIC);
      }
    }
    ok = sqlite3_step(stmt) == SQLITE_DONE && sqlite3_reset(stmt) == SQLITE_OK;
  }
  sqlite3_finalize(stmt);
  ok = ok && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  if (!ok) return absl::InternalError(absl::StrCat("cannot fill ", path));
  return absl::OkStatus();
}

void PrintFigures(const SourceFigures& f, double csv_load_s, double bytes, bool json) {
  const double rows_per_s = static_cast<double>(f.rows) / f.load_s;
  if (json) {
    std::printf(
        "{\"source\":\"%s\",\"rows\":%zu,\"load_s\":%.4f,\"rows_per_s\":%.0f,"
        "\"cached_get_us\":%.1f,\"vs_csv\":%.2f",
        f.source.c_str(), f.rows, f.load_s, rows_per_s, f.cached_s * 1e6, f.load_s / csv_load_s);
    if (f.source == "csv") {
      std::printf(",\"bytes\":%.0f,\"mb_per_s\":%.1f,\"frame_mb\":%.1f,\"peak_mb\":%.1f", bytes,
                  bytes / 1e6 / f.load_s, f.frame_bytes / 1e6, f.peak_bytes / 1e6);
    }
    std::printf("}\n");
    return;
  }
  std::printf("%-10s  %8.3f s  %10.0f rows/s", f.source.c_str(), f.load_s, rows_per_s);
  if (f.source == "csv") {
    std::printf("  %6.1f MB/s", bytes / 1e6 / f.load_s);
  } else {
    std::printf("  %5.1fx the CSV load", f.load_s / csv_load_s);
  }
  std::printf("  second task (cached) %6.1f us\n", f.cached_s * 1e6);
}

}  // namespace

absl::Status Load(const LoadOptions& options) {
  if (options.rows < 1 || options.repeat < 1) {
    return absl::InvalidArgumentError("--rows and --repeat must be at least 1");
  }
  // Large blocks straight from mmap and back to the kernel on free, so that
  // a load cannot reuse memory an earlier one freed and the resident set
  // measures what each load needs.
  ::mallopt(M_MMAP_THRESHOLD, 256 << 10);
  const std::string dir = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                       "/spoor-bench-load-", ::getpid());
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  std::string path = options.csv;
  if (path.empty()) {
    path = dir + "/cohort.csv";
    SPOOR_RETURN_IF_ERROR(WriteCohort(path, options.rows, options.seed));
  }
  const double bytes = static_cast<double>(std::filesystem::file_size(path));
  // Warm the page cache: the load and the reference then read from memory.
  SPOOR_RETURN_IF_ERROR(ReadFile(path).status());

  // 1. The CSV load, first, so that its peak memory is measured cleanly.
  SPOOR_ASSIGN_OR_RETURN(SourceFigures csv,
                         MeasureSource("csv", CsvDataset("cohort", path), options.repeat));
  // 3. The reference: the same bytes read, not parsed.
  double read_s = 1e300;
  std::vector<char> buffer(CsvOptions().chunk_bytes);
  for (int i = 0; i < options.repeat; ++i) {
    auto start = Clock::now();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    while (::read(fd, buffer.data(), buffer.size()) > 0) {
    }
    ::close(fd);
    read_s = std::min(read_s, Seconds(Clock::now() - start));
  }
  const double mb = bytes / 1e6;

  // 2. The same rows from SQLite and PostgreSQL, if asked for.
  std::vector<SourceFigures> others;
  for (const std::string& source : options.sources) {
    if (source == "csv") continue;
    DatasetConfig config;
    config.name = "cohort";
    config.table = "cohort";
    std::unique_ptr<testing::PostgresServer> server;
    if (source == "sqlite") {
      config.source = DatasetSource::kSqlite;
      config.path = dir + "/cohort.sqlite";
      SPOOR_RETURN_IF_ERROR(WriteSqlite(path, config.path));
    } else if (source == "postgresql") {
      SPOOR_ASSIGN_OR_RETURN(server, testing::PostgresServer::Start());
      SPOOR_ASSIGN_OR_RETURN(DataFrame frame, ReadCsvFile(path));
      std::string create = "CREATE TABLE cohort (";
      for (size_t c = 0; c < frame.num_columns(); ++c) {
        const Column& column = frame.columns()[c];
        absl::StrAppend(&create, c ? ", " : "", column.name(),
                        column.type() == ColumnType::kNumeric ? " float8" : " text");
      }
      // The server reads the file itself (it runs as another user: the file
      // must be readable by all, as a temporary file is).
      std::filesystem::permissions(path, std::filesystem::perms::others_read,
                                   std::filesystem::perm_options::add);
      std::filesystem::permissions(dir, std::filesystem::perms::others_exec,
                                   std::filesystem::perm_options::add);
      SPOOR_RETURN_IF_ERROR(server->Execute(absl::StrCat(
          create, "); COPY cohort FROM '", path, "' WITH (FORMAT csv, HEADER true, NULL 'NA');")));
      config.source = DatasetSource::kPostgres;
      config.connection = server->conninfo();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--sources: unknown source '", source, "'; csv, sqlite or postgresql"));
    }
    SPOOR_ASSIGN_OR_RETURN(SourceFigures figures, MeasureSource(source, config, options.repeat));
    if (figures.rows != csv.rows) {
      return absl::InternalError(
          absl::StrCat(source, " gave ", figures.rows, " rows, not ", csv.rows));
    }
    others.push_back(figures);
  }

  if (!options.json) {
    std::printf("cohort: %.1f MB of CSV, %zu rows, %.1f MB frame; best of %d loads\n", mb, csv.rows,
                csv.frame_bytes / 1e6, options.repeat);
  }
  PrintFigures(csv, csv.load_s, bytes, options.json);
  for (const SourceFigures& figures : others) {
    PrintFigures(figures, csv.load_s, bytes, options.json);
  }
  if (!options.json) {
    std::printf(
        "reference: reading the CSV's bytes, unparsed: %.3f s, %.0f MB/s (CSV load = "
        "%.1fx)\n",
        read_s, mb / read_s, csv.load_s / read_s);
    std::printf("peak memory of the CSV load: %.1f MB = %.2fx its frame\n", csv.peak_bytes / 1e6,
                static_cast<double>(csv.peak_bytes) / csv.frame_bytes);
    for (const SourceFigures& f : others) {
      std::printf("peak memory of the %s load: %.1f MB = %.2fx its frame\n", f.source.c_str(),
                  f.peak_bytes / 1e6, static_cast<double>(f.peak_bytes) / f.frame_bytes);
    }
  }
  return absl::OkStatus();
}

}  // namespace spoor::bench
