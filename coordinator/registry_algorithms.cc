#include "coordinator/registry_algorithms.h"

#include "absl/strings/str_cat.h"
#include "algorithms/container_algorithm.h"
#include "common/container_runner.h"
#include "common/status.h"

namespace spoor {

RegistryAlgorithms::RegistryAlgorithms(AlgorithmStore& store, std::string runc,
                                       std::string work_dir, SandboxLimits limits)
    : store_(store), images_(std::move(runc), std::move(work_dir), limits) {}

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
  SPOOR_ASSIGN_OR_RETURN(found.algorithm,
                         images_.Get(record, [&] { return store_.LoadImage(record); }));
  return found;
}

}  // namespace spoor
