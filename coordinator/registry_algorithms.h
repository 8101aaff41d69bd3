// Container algorithms for jobs, from the coordinator's registry: an
// approved, unrevoked NAME@VERSION becomes a ContainerAlgorithm whose
// central step runs here, in the same runc sandbox the nodes use for the
// local step (coordinator.toml [containers]). Images are unpacked once per
// digest under work_dir/images.
#ifndef SPOOR_COORDINATOR_REGISTRY_ALGORITHMS_H_
#define SPOOR_COORDINATOR_REGISTRY_ALGORITHMS_H_

#include <memory>
#include <string>

#include "algorithms/container_algorithm.h"
#include "common/runc_sandbox.h"
#include "coordinator/algorithm_store.h"
#include "coordinator/job_manager.h"

namespace spoor {

class RegistryAlgorithms final : public ContainerAlgorithmSource {
 public:
  // `store` must outlive this object.
  RegistryAlgorithms(AlgorithmStore& store, std::string runc, std::string work_dir,
                     SandboxLimits limits);

  absl::StatusOr<Found> Find(const std::string& reference) override;

 private:
  AlgorithmStore& store_;
  ContainerAlgorithmCache images_;
};

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_REGISTRY_ALGORITHMS_H_
