// Algorithm references: a registered container algorithm is named
// NAME@VERSION (a built-in one by its name alone).
#ifndef SPOOR_COMMON_ALGORITHM_REFERENCE_H_
#define SPOOR_COMMON_ALGORITHM_REFERENCE_H_

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace spoor {

// True for a container algorithm's NAME@VERSION, false for a built-in
// algorithm's name.
inline bool IsContainerReference(std::string_view algorithm) {
  return algorithm.find('@') != std::string_view::npos;
}

// "NAME@VERSION" -> {name, version}; INVALID_ARGUMENT saying the form.
absl::StatusOr<std::pair<std::string, std::string>> ParseAlgorithmReference(
    std::string_view reference);

// "NAME@VERSION", the name by which jobs run a registered algorithm.
std::string AlgorithmReference(std::string_view name, std::string_view version);

}  // namespace spoor

#endif  // SPOOR_COMMON_ALGORITHM_REFERENCE_H_
