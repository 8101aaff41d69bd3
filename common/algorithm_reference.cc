#include "common/algorithm_reference.h"

#include "absl/strings/str_cat.h"

namespace spoor {

absl::StatusOr<std::pair<std::string, std::string>> ParseAlgorithmReference(
    std::string_view reference) {
  size_t at = reference.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == reference.size() ||
      reference.find('@', at + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(reference),
                     "' is not an algorithm reference; write NAME@VERSION, e.g. colmean@1.0.0"));
  }
  return std::make_pair(std::string(reference.substr(0, at)),
                        std::string(reference.substr(at + 1)));
}

std::string AlgorithmReference(std::string_view name, std::string_view version) {
  return absl::StrCat(std::string(name), "@", std::string(version));
}

}  // namespace spoor
