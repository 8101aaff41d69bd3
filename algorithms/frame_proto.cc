#include "algorithms/frame_proto.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace spoor {

v1::FrameData FrameToProto(const DataFrame& frame) {
  v1::FrameData data;
  data.set_rows(static_cast<int64_t>(frame.num_rows()));
  for (const Column& column : frame.columns()) {
    v1::FrameColumn* out = data.add_columns();
    out->set_name(column.name());
    if (column.type() == ColumnType::kNumeric) {
      out->mutable_numeric()->mutable_values()->Add(column.numbers().begin(),
                                                    column.numbers().end());
    } else {
      v1::CategoricalColumn* categorical = out->mutable_categorical();
      categorical->mutable_levels()->Add(column.levels().begin(), column.levels().end());
      categorical->mutable_codes()->Add(column.codes().begin(), column.codes().end());
    }
  }
  return data;
}

absl::StatusOr<DataFrame> FrameFromProto(const v1::FrameData& data) {
  std::vector<Column> columns;
  columns.reserve(data.columns_size());
  for (const v1::FrameColumn& column : data.columns()) {
    int64_t size = 0;
    if (column.has_numeric()) {
      size = column.numeric().values_size();
      columns.push_back(Column::Numeric(
          column.name(),
          std::vector<double>(column.numeric().values().begin(), column.numeric().values().end())));
    } else if (column.has_categorical()) {
      const v1::CategoricalColumn& categorical = column.categorical();
      std::vector<std::string> levels(categorical.levels().begin(), categorical.levels().end());
      if (!std::is_sorted(levels.begin(), levels.end()) ||
          std::adjacent_find(levels.begin(), levels.end()) != levels.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("frame column '", column.name(), "': levels must be distinct and sorted"));
      }
      for (int32_t code : categorical.codes()) {
        if (code < -1 || code >= static_cast<int64_t>(levels.size())) {
          return absl::InvalidArgumentError(
              absl::StrCat("frame column '", column.name(), "': a code is out of range"));
        }
      }
      size = categorical.codes_size();
      columns.push_back(Column::Categorical(
          column.name(), std::move(levels),
          std::vector<int32_t>(categorical.codes().begin(), categorical.codes().end())));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("frame column '", column.name(), "' has no data"));
    }
    if (size != data.rows()) {
      return absl::InvalidArgumentError(absl::StrCat("frame column '", column.name(), "' has ",
                                                     size, " rows, the frame ", data.rows()));
    }
  }
  return DataFrame::Make(std::move(columns));
}

}  // namespace spoor
