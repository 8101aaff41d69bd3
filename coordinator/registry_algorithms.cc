#include "coordinator/registry_algorithms.h"

#include "absl/strings/str_cat.h"
#include "algorithms/container_algorithm.h"
#include "common/container_runner.h"
#include "common/status.h"

namespace spoor {

RegistryAlgorithms::RegistryAlgorithms(AlgorithmStore& store, std::string runc,
                                       std::string work_dir, SandboxLimits limits)
    : store_(store),
      work_dir_(std::move(work_dir)),
      sandbox_(std::move(runc), absl::StrCat(work_dir_, "/runc"), limits) {}

absl::StatusOr<ContainerAlgorithmSource::Found> RegistryAlgorithms::Find(
    const std::string& reference) {
  SPOOR_ASSIGN_OR_RETURN(v1::AlgorithmRecord record, store_.Get(reference));
  switch (record.state()) {
    case v1::ALGORITHM_STATE_APPROVED:
      break;
    case v1::ALGORITHM_STATE_REVOKED:
      return absl::FailedPreconditionError(
          absl::StrCat(reference, " has been revoked: ", record.revocation_reason()));
    case v1::ALGORITHM_STATE_REJECTED:
      return absl::FailedPreconditionError(absl::StrCat(
          reference, " was rejected by a reviewer; see spoor algorithm show ", reference));
    default:
      return absl::FailedPreconditionError(
          absl::StrCat(reference, " awaits review (", record.required_approvals(),
                       " approvals from ", record.required_organisations(),
                       " organisations); see spoor algorithm show ", reference));
  }
  Found found;
  found.manifest_digest = record.manifest_digest();
  {
    absl::MutexLock lock(&mu_);
    auto it = loaded_.find(record.manifest_digest());
    if (it != loaded_.end()) {
      found.algorithm = it->second;
      return found;
    }
  }
  SPOOR_ASSIGN_OR_RETURN(OciImage image, store_.LoadImage(record));
  SPOOR_ASSIGN_OR_RETURN(ResolvedImage resolved, ResolveImage(image));
  SPOOR_ASSIGN_OR_RETURN(
      ContainerImage prepared,
      PrepareContainerImage(absl::StrCat(work_dir_, "/images"), image, resolved));
  auto algorithm = std::make_shared<const ContainerAlgorithm>(
      reference, resolved.algorithm,
      std::make_unique<SandboxContainerRunner>(std::move(prepared), sandbox_, work_dir_));
  absl::MutexLock lock(&mu_);
  found.algorithm = loaded_.emplace(record.manifest_digest(), std::move(algorithm)).first->second;
  return found;
}

}  // namespace spoor
