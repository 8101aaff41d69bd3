// Fuzz target for TOML configuration files (common/config.h): any bytes must
// parse or give an error, and every accessor must answer a value or an error
// whatever type the file gives a key.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "common/config.h"

namespace {

// Reads `key` of `table` with every accessor; only crashes matter here.
void ReadKey(const spoor::ConfigTable& table, std::string_view key) {
  (void)table.Has(key);
  (void)table.LineOf(key);
  (void)table.RequiredString(key);
  (void)table.OptionalString(key, "");
  (void)table.OptionalInteger(key, 0, std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max());
  (void)table.OptionalInteger(key, 10, 1, 1000);
  (void)table.OptionalDouble(key, 0.5);
  (void)table.OptionalBool(key, false);
  (void)table.OptionalStringList(key);
  (void)table.OptionalIntegerList(key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto root = spoor::ParseConfig("fuzz.toml", text);
  if (!root.ok()) return 0;
  // The keys node.toml has (node/node_config.cc).
  (void)root->CheckKnownKeys({"name", "coordinator", "data_dir", "tls", "disclosure", "datasets"});
  for (const std::string& key : root->Keys()) ReadKey(*root, key);
  for (std::string_view key : {"name", "coordinator", "data_dir"}) ReadKey(*root, key);
  if (const auto disclosure = root->Table("disclosure"); disclosure.ok()) {
    for (const std::string& key : disclosure->Keys()) ReadKey(*disclosure, key);
  }
  if (const auto datasets = root->TableArray("datasets"); datasets.ok()) {
    for (const spoor::ConfigTable& dataset : *datasets) {
      for (std::string_view key : {"name", "source", "path", "refresh_seconds"}) {
        ReadKey(dataset, key);
      }
      if (const auto metadata = dataset.Table("metadata"); metadata.ok()) {
        ReadKey(*metadata, "keywords");
      }
    }
  }
  return 0;
}
