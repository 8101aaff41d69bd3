// Reading TOML configuration files (toml++) with errors a hospital operator
// can act on: every error names the file, the line and the key, and says
// what was expected, e.g.
//   node.toml:7: key 'disclosure.min_records' must be an integer >= 1, found a string
#ifndef SPOOR_COMMON_CONFIG_H_
#define SPOOR_COMMON_CONFIG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace toml {
inline namespace v3 {
class node;
class table;
}  // namespace v3
}  // namespace toml

namespace spoor {

// One table of a parsed config file. Cheap to copy (shares the parsed tree).
// Every accessor returns INVALID_ARGUMENT with "FILE:LINE: ..." on a wrong
// type or value; Required* also when the key is absent (pointing at the
// table's line). Keys are looked up in this table only ("a.b" for nested
// tables goes through Table()).
class ConfigTable {
 public:
  // The file this table came from and the dotted path of the table ("" for
  // the root, "disclosure", "datasets[1]").
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

  absl::StatusOr<std::string> RequiredString(std::string_view key) const;
  absl::StatusOr<std::string> OptionalString(std::string_view key, std::string fallback) const;
  absl::StatusOr<int64_t> OptionalInteger(std::string_view key, int64_t fallback, int64_t min,
                                          int64_t max) const;
  absl::StatusOr<double> OptionalDouble(std::string_view key, double fallback) const;
  absl::StatusOr<bool> OptionalBool(std::string_view key, bool fallback) const;
  absl::StatusOr<std::vector<std::string>> OptionalStringList(std::string_view key) const;
  absl::StatusOr<std::vector<int64_t>> OptionalIntegerList(std::string_view key) const;

  // Whether this table has `key`.
  bool Has(std::string_view key) const;
  // This table's keys in the order of the file (for tables whose keys are
  // data, such as a code mapping { "1" = "M" }).
  std::vector<std::string> Keys() const;

  // A sub-table; absent gives an empty table (all Optional* fall back).
  absl::StatusOr<ConfigTable> Table(std::string_view key) const;
  // An array of tables ([[datasets]]); absent gives an empty vector.
  absl::StatusOr<std::vector<ConfigTable>> TableArray(std::string_view key) const;

  // INVALID_ARGUMENT naming the first key of this table not in `known`
  // ("node.toml:12: unknown key 'min_record' in [disclosure]; known keys: ...").
  // Catches typos that would otherwise silently use a default.
  absl::Status CheckKnownKeys(const std::set<std::string>& known) const;

  // Line of `key` in the file, or of the table itself if absent (0 unknown).
  int LineOf(std::string_view key) const;

 private:
  friend absl::StatusOr<ConfigTable> ParseConfig(const std::string&, std::string_view);
  // `table` null means an absent sub-table: every lookup misses and lines
  // point at `line` (where the parent table starts).
  ConfigTable(std::shared_ptr<const void> root, const toml::table* table, std::string file,
              std::string path, int line)
      : root_(std::move(root)),
        table_(table),
        file_(std::move(file)),
        path_(std::move(path)),
        line_(line) {}

  std::string KeyPath(std::string_view key) const;
  const toml::node* Find(std::string_view key) const;
  absl::Status TypeError(std::string_view key, std::string_view expected,
                         const toml::node& found) const;

  std::shared_ptr<const void> root_;  // keeps the parsed tree alive
  const toml::table* table_ = nullptr;
  std::string file_;
  std::string path_;
  int line_ = 0;
};

// Reads and parses `path`. NOT_FOUND if missing; INVALID_ARGUMENT with
// "FILE:LINE:COLUMN: <parser message>" on a syntax error.
absl::StatusOr<ConfigTable> LoadConfig(const std::string& path);

// Parses `text` as if read from `file_name` (for tests).
absl::StatusOr<ConfigTable> ParseConfig(const std::string& file_name, std::string_view text);

}  // namespace spoor

#endif  // SPOOR_COMMON_CONFIG_H_
