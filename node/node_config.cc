#include "node/node_config.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/file_util.h"
#include "common/status.h"

namespace spoor {

absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(ConfigTable root, LoadConfig(path));
  SPOOR_RETURN_IF_ERROR(root.CheckKnownKeys(
      {"name", "coordinator", "data_dir", "tls", "disclosure", "datasets"}));
  NodeConfig config;
  SPOOR_ASSIGN_OR_RETURN(config.name, root.RequiredString("name"));
  SPOOR_ASSIGN_OR_RETURN(config.coordinator, root.RequiredString("coordinator"));
  SPOOR_ASSIGN_OR_RETURN(config.data_dir, root.RequiredString("data_dir"));
  config.data_dir = ResolveRelativeTo(path, config.data_dir);
  SPOOR_ASSIGN_OR_RETURN(config.tls, ReadTlsFiles(root, path));

  SPOOR_ASSIGN_OR_RETURN(ConfigTable disclosure, root.Table("disclosure"));
  SPOOR_RETURN_IF_ERROR(disclosure.CheckKnownKeys({"min_records"}));
  SPOOR_ASSIGN_OR_RETURN(config.disclosure.min_records,
                         disclosure.OptionalInteger("min_records", 10, 1, 1'000'000'000));

  SPOOR_ASSIGN_OR_RETURN(std::vector<ConfigTable> datasets, root.TableArray("datasets"));
  if (datasets.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no [[datasets]] configured; add one with name and path"));
  }
  absl::flat_hash_set<std::string> names;
  for (const ConfigTable& table : datasets) {
    SPOOR_RETURN_IF_ERROR(table.CheckKnownKeys({"name", "path"}));
    DatasetConfig dataset;
    SPOOR_ASSIGN_OR_RETURN(dataset.name, table.RequiredString("name"));
    SPOOR_ASSIGN_OR_RETURN(dataset.path, table.RequiredString("path"));
    dataset.path = ResolveRelativeTo(path, dataset.path);
    if (!names.insert(dataset.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          table.file(), ":", table.LineOf("name"), ": dataset '", dataset.name,
          "' is declared twice; dataset names must be unique"));
    }
    config.datasets.push_back(std::move(dataset));
  }
  return config;
}

}  // namespace spoor
