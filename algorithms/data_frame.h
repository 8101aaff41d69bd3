// A columnar, immutable data frame: what a node loads from a data source and
// what every local step reads.
//
// Columns are numeric (double, NaN = missing) or categorical (integer codes
// into a sorted level list, -1 = missing). Sorting levels by byte order gives
// R's reference level for ASCII level names ("F" before "M").
// Thread-compatible; immutable after construction, so safe to share across
// threads once built.
#ifndef SPOOR_ALGORITHMS_DATA_FRAME_H_
#define SPOOR_ALGORITHMS_DATA_FRAME_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace spoor {

enum class ColumnType { kNumeric, kCategorical };

class Column {
 public:
  static Column Numeric(std::string name, std::vector<double> values);
  // `codes[i]` indexes `levels` or is -1 (missing). Levels must be distinct.
  static Column Categorical(std::string name, std::vector<std::string> levels,
                            std::vector<int32_t> codes);
  // As Categorical, from levels in any order (a reader's order of first
  // appearance): sorts them by byte order and renumbers the codes to match.
  static Column CategoricalSorting(std::string name, std::vector<std::string> levels,
                                   std::vector<int32_t> codes);

  const std::string& name() const { return name_; }
  ColumnType type() const { return type_; }
  size_t size() const { return type_ == ColumnType::kNumeric ? numbers_.size() : codes_.size(); }
  bool is_missing(size_t row) const {
    return type_ == ColumnType::kNumeric ? std::isnan(numbers_[row]) : codes_[row] < 0;
  }
  size_t missing_count() const;

  // Numeric columns only (empty otherwise).
  const std::vector<double>& numbers() const { return numbers_; }
  // Categorical columns only (empty otherwise).
  const std::vector<int32_t>& codes() const { return codes_; }
  const std::vector<std::string>& levels() const { return levels_; }

  // Approximate bytes held (sizes, not reserved capacity), for memory
  // accounting.
  size_t memory_bytes() const;

 private:
  Column() = default;
  std::string name_;
  ColumnType type_ = ColumnType::kNumeric;
  std::vector<double> numbers_;
  std::vector<int32_t> codes_;
  std::vector<std::string> levels_;
};

class DataFrame {
 public:
  DataFrame() = default;
  // INVALID_ARGUMENT if the columns differ in length or two share a name.
  static absl::StatusOr<DataFrame> Make(std::vector<Column> columns);

  size_t num_rows() const { return num_rows_; }
  size_t num_columns() const { return columns_.size(); }
  const std::vector<Column>& columns() const { return columns_; }
  // nullptr if there is no such column.
  const Column* Find(std::string_view name) const;
  size_t memory_bytes() const;

  // Unique per frame made by Make or SelectRows in this process (copies
  // share it: they hold the same data), so that caches of derived data can
  // tell a reloaded dataset from the one they were built from.
  uint64_t id() const { return id_; }

  // A frame of the given rows (indices < num_rows(), in the order given),
  // every column kept; categorical levels are kept as they are.
  DataFrame SelectRows(const std::vector<size_t>& rows) const;

 private:
  std::vector<Column> columns_;
  absl::flat_hash_map<std::string, size_t> index_;
  size_t num_rows_ = 0;
  uint64_t id_ = 0;
};

// The rows (ascending) where none of `columns` is missing; `num_rows` is
// their common length. Column by column, so that it runs at memory speed.
std::vector<size_t> CompleteRows(const std::vector<const Column*>& columns, size_t num_rows);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_DATA_FRAME_H_
