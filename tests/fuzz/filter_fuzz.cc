// Fuzz target for cohort filters (algorithms/filter.h): any bytes must parse
// or give an error, and a parsed filter must type-check and evaluate against
// a small frame without crashing, returning ascending in-range row indices.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "algorithms/data_frame.h"
#include "algorithms/filter.h"

namespace {

// age numeric (one missing), sex categorical (one missing), bmi numeric with
// a missing value.
spoor::DataFrame MakeFrame() {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::vector<spoor::Column> columns;
  columns.push_back(spoor::Column::Numeric("age", {45, 50, 62, kNaN, 70}));
  columns.push_back(spoor::Column::Categorical("sex", {"F", "M"}, {0, 1, 0, 1, -1}));
  columns.push_back(spoor::Column::Numeric("bmi", {22.0, kNaN, 30.5, 25.0, 19.0}));
  auto frame = spoor::DataFrame::Make(std::move(columns));
  if (!frame.ok()) std::abort();
  return *std::move(frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const spoor::DataFrame* const frame = new spoor::DataFrame(MakeFrame());
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto filter = spoor::RowFilter::Parse(text);
  if (!filter.ok()) return 0;
  const auto rows = filter->Select(*frame);
  if (rows.ok()) {
    for (size_t i = 0; i < rows->size(); ++i) {
      if ((*rows)[i] >= frame->num_rows() || (i > 0 && (*rows)[i - 1] >= (*rows)[i])) {
        std::abort();
      }
    }
  }
  return 0;
}
