#include "algorithms/algorithm.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "algorithms/catalogue.h"
#include "algorithms/count.h"
#include "algorithms/cox.h"
#include "algorithms/crosstab.h"
#include "algorithms/glm.h"
#include "algorithms/km.h"
#include "algorithms/meta.h"
#include "algorithms/summary.h"

namespace spoor {

absl::Status AlgorithmRegistry::Register(std::unique_ptr<Algorithm> algorithm) {
  std::string name(algorithm->name());
  if (algorithms_.contains(name)) {
    return absl::FailedPreconditionError(
        absl::StrCat("algorithm '", name, "' is registered twice"));
  }
  algorithms_.emplace(std::move(name), std::move(algorithm));
  return absl::OkStatus();
}

const Algorithm* AlgorithmRegistry::Find(const std::string& name) const {
  auto it = algorithms_.find(name);
  return it == algorithms_.end() ? nullptr : it->second.get();
}

std::vector<std::string> AlgorithmRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(algorithms_.size());
  for (const auto& [name, algorithm] : algorithms_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::unique_ptr<AlgorithmRegistry> MakeBuiltinRegistry() {
  auto registry = std::make_unique<AlgorithmRegistry>();
  // Names are distinct by construction, so Register cannot fail here.
  (void)registry->Register(std::make_unique<CatalogueAlgorithm>());
  (void)registry->Register(std::make_unique<CountAlgorithm>());
  (void)registry->Register(std::make_unique<CoxAlgorithm>());
  (void)registry->Register(std::make_unique<CrosstabAlgorithm>());
  (void)registry->Register(std::make_unique<GlmAlgorithm>());
  (void)registry->Register(std::make_unique<KmAlgorithm>());
  (void)registry->Register(std::make_unique<MetaAlgorithm>());
  (void)registry->Register(std::make_unique<SummaryAlgorithm>());
  return registry;
}

}  // namespace spoor
