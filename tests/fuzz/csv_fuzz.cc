// Fuzz target for the CSV reader (algorithms/csv_reader.h): any bytes must
// give a DataFrame or an error, never a crash, and the result must not depend
// on the chunk size the text is read in.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "algorithms/csv_reader.h"
#include "algorithms/data_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto whole = spoor::ParseCsv(text, "fuzz.csv");
  const auto chunked = spoor::ParseCsv(text, "fuzz.csv", spoor::CsvOptions{.chunk_bytes = 7});
  if (whole.ok() && chunked.ok()) {
    if (whole->num_rows() != chunked->num_rows() ||
        whole->num_columns() != chunked->num_columns()) {
      std::abort();
    }
    for (size_t c = 0; c < whole->num_columns(); ++c) {
      const spoor::Column& a = whole->columns()[c];
      const spoor::Column& b = chunked->columns()[c];
      if (a.name() != b.name() || a.type() != b.type() || a.size() != b.size()) std::abort();
    }
  }
  return 0;
}
