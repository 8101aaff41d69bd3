#include "node/dataset_cache.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "algorithms/csv_reader.h"
#include "algorithms/harmonise.h"
#include "common/log.h"
#include "common/status.h"
#include "node/omop.h"
#include "node/sql_source.h"

namespace spoor {

DatasetCache::DatasetCache(std::vector<DatasetConfig> datasets, const Clock* clock)
    : clock_(clock != nullptr ? *clock : real_clock_) {
  for (DatasetConfig& d : datasets) {
    std::string name = d.name;
    entries_.try_emplace(name).first->second.config = std::move(d);
  }
}

std::vector<std::string> DatasetCache::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

const DatasetConfig* DatasetCache::Config(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second.config;
}

absl::StatusOr<bool> DatasetCache::Current(const Entry& entry, struct ::stat& st) const {
  if (entry.config.source == DatasetSource::kPostgres) {
    return entry.frame != nullptr && clock_.Now() - entry.loaded < entry.config.refresh;
  }
  if (::stat(entry.config.path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("dataset '", entry.config.name, "' cannot be read (", std::strerror(errno),
                     "); the node operator should check its path in node.toml"));
  }
  return entry.frame != nullptr && st.st_mtim.tv_sec == entry.mtime.tv_sec &&
         st.st_mtim.tv_nsec == entry.mtime.tv_nsec && st.st_size == entry.size;
}

absl::StatusOr<DataFrame> DatasetCache::Load(const DatasetConfig& config) const {
  const std::string source_name = absl::StrCat("dataset '", config.name, "'");
  SqlRead what{config.table, config.query, source_name};
  if (config.omop) {
    SPOOR_ASSIGN_OR_RETURN(
        what.query,
        OmopViewSql(*config.omop, config.source == DatasetSource::kPostgres ? SqlDialect::kPostgres
                                                                            : SqlDialect::kSqlite));
  }
  absl::StatusOr<DataFrame> frame;
  switch (config.source) {
    case DatasetSource::kCsv:
      frame = ReadCsvFile(config.path);
      break;
    case DatasetSource::kSqlite:
      frame = ReadSqlite(config.path, what);
      break;
    case DatasetSource::kPostgres:
      frame = ReadPostgres(config.connection, what, config.timeout);
      break;
  }
  if (!frame.ok() || config.variables.empty()) return frame;
  HarmonisationReport report;
  absl::StatusOr<DataFrame> harmonised = Harmonise(*frame, config.variables, source_name, &report);
  for (const HarmonisationReport::Unmapped& unmapped : report.unmapped) {
    // Counts only: which values had no mapping is for the operator to look up.
    LogWarning(source_name, ": ", unmapped.values, " records of variable '", unmapped.variable,
               "' hold a code with no mapping in node.toml and are missing");
  }
  return harmonised;
}

absl::StatusOr<std::shared_ptr<const DataFrame>> DatasetCache::Get(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat("this node has no dataset '", name, "'"));
  }
  Entry& entry = it->second;
  // The entry's lock over its load: two tasks asking for the same stale
  // dataset read it once, not twice in parallel; other datasets go on.
  absl::MutexLock lock(&entry.mu);
  struct ::stat st {};
  SPOOR_ASSIGN_OR_RETURN(bool current, Current(entry, st));
  if (current) return entry.frame;
  const absl::Time started = clock_.Now();
  absl::StatusOr<DataFrame> frame = Load(entry.config);
  if (!frame.ok()) {
    LogError("dataset '", name, "': ", frame.status().message());
    const absl::StatusCode code = frame.status().code() == absl::StatusCode::kUnavailable
                                      ? absl::StatusCode::kUnavailable
                                      : absl::StatusCode::kFailedPrecondition;
    return absl::Status(
        code, absl::StrCat("dataset '", name,
                           "' could not be loaded at this node: ", frame.status().message()));
  }
  LogInfo("loaded dataset '", name, "': ", frame->num_rows(), " rows, ", frame->num_columns(),
          " columns");
  entry.frame = std::make_shared<const DataFrame>(*std::move(frame));
  entry.mtime = st.st_mtim;
  entry.size = st.st_size;
  entry.loaded = started;
  return entry.frame;
}

}  // namespace spoor
