#include "algorithms/data_frame.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace spoor {
namespace {

uint64_t NextFrameId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Column Column::Numeric(std::string name, std::vector<double> values) {
  Column column;
  column.name_ = std::move(name);
  column.type_ = ColumnType::kNumeric;
  column.numbers_ = std::move(values);
  return column;
}

Column Column::Categorical(std::string name, std::vector<std::string> levels,
                           std::vector<int32_t> codes) {
#ifndef NDEBUG
  // Programming errors, checked in debug builds only.
  for (int32_t code : codes) {
    assert(code >= -1 && static_cast<size_t>(code + 1) <= levels.size());
  }
  absl::flat_hash_set<absl::string_view> distinct(levels.begin(), levels.end());
  assert(distinct.size() == levels.size());
#endif
  Column column;
  column.name_ = std::move(name);
  column.type_ = ColumnType::kCategorical;
  column.levels_ = std::move(levels);
  column.codes_ = std::move(codes);
  return column;
}

Column Column::CategoricalSorting(std::string name, std::vector<std::string> levels,
                                  std::vector<int32_t> codes) {
  const size_t n = levels.size();
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return levels[a] < levels[b]; });
  std::vector<int32_t> remap(n);
  std::vector<std::string> sorted;
  sorted.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    remap[order[i]] = static_cast<int32_t>(i);
    sorted.push_back(std::move(levels[order[i]]));
  }
  for (int32_t& code : codes) {
    if (code >= 0) code = remap[code];
  }
  return Categorical(std::move(name), std::move(sorted), std::move(codes));
}

size_t Column::missing_count() const {
  if (type_ == ColumnType::kNumeric) {
    return static_cast<size_t>(
        std::count_if(numbers_.begin(), numbers_.end(), [](double v) { return std::isnan(v); }));
  }
  return static_cast<size_t>(
      std::count_if(codes_.begin(), codes_.end(), [](int32_t c) { return c < 0; }));
}

size_t Column::memory_bytes() const {
  size_t bytes = sizeof(Column) + name_.size();
  // Sizes, not capacities: reserved room never written is not resident.
  bytes += numbers_.size() * sizeof(double);
  bytes += codes_.size() * sizeof(int32_t);
  bytes += levels_.size() * sizeof(std::string);
  for (const std::string& level : levels_) bytes += level.size();
  return bytes;
}

absl::StatusOr<DataFrame> DataFrame::Make(std::vector<Column> columns) {
  DataFrame frame;
  frame.index_.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    const Column& column = columns[i];
    if (column.size() != columns[0].size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("column '", column.name(), "' has ", column.size(), " rows but column '",
                       columns[0].name(), "' has ", columns[0].size()));
    }
    if (!frame.index_.emplace(column.name(), i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate column name '", column.name(), "'"));
    }
  }
  frame.num_rows_ = columns.empty() ? 0 : columns[0].size();
  frame.id_ = NextFrameId();
  frame.columns_ = std::move(columns);
  return frame;
}

const Column* DataFrame::Find(std::string_view name) const {
  auto it = index_.find(absl::string_view(name.data(), name.size()));
  return it == index_.end() ? nullptr : &columns_[it->second];
}

size_t DataFrame::memory_bytes() const {
  size_t bytes = sizeof(DataFrame);
  for (const Column& column : columns_) bytes += column.memory_bytes();
  bytes += index_.capacity() * (sizeof(std::pair<std::string, size_t>) + 1);
  for (const auto& [name, unused] : index_) bytes += name.size();
  return bytes;
}

DataFrame DataFrame::SelectRows(const std::vector<size_t>& rows) const {
  DataFrame out;
  out.columns_.reserve(columns_.size());
  for (const Column& column : columns_) {
    if (column.type() == ColumnType::kNumeric) {
      std::vector<double> values;
      values.reserve(rows.size());
      for (size_t r : rows) values.push_back(column.numbers()[r]);
      out.columns_.push_back(Column::Numeric(column.name(), std::move(values)));
    } else {
      std::vector<int32_t> codes;
      codes.reserve(rows.size());
      for (size_t r : rows) codes.push_back(column.codes()[r]);
      out.columns_.push_back(Column::Categorical(column.name(), column.levels(), std::move(codes)));
    }
  }
  out.index_ = index_;
  out.num_rows_ = rows.size();
  out.id_ = NextFrameId();
  return out;
}

std::vector<size_t> CompleteRows(const std::vector<const Column*>& columns, size_t num_rows) {
  std::vector<uint8_t> complete(num_rows, 1);
  for (const Column* column : columns) {
    if (column->type() == ColumnType::kNumeric) {
      const double* x = column->numbers().data();
      for (size_t r = 0; r < num_rows; ++r) complete[r] &= static_cast<uint8_t>(x[r] == x[r]);
    } else {
      const int32_t* codes = column->codes().data();
      for (size_t r = 0; r < num_rows; ++r) complete[r] &= static_cast<uint8_t>(codes[r] >= 0);
    }
  }
  std::vector<size_t> rows;
  rows.reserve(num_rows);
  for (size_t r = 0; r < num_rows; ++r) {
    if (complete[r]) rows.push_back(r);
  }
  return rows;
}

}  // namespace spoor
