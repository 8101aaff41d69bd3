// A container algorithm seen as an Algorithm: its local and central steps
// run behind a process boundary (a ContainerRunner: in production runc,
// common/container_runner.h), with request and response as protobuf
// messages (proto/spoor/v1/container.proto).
//
// Nothing a container says is trusted: a response that is not the expected
// kind (an aggregate for a local step, a central answer for a central step)
// is an error, and a local step's aggregate goes through the node's
// disclosure gate with the extra rules for containers
// (DisclosureGate::CheckContainer), which built-in algorithms, whose shapes
// are reviewed with the code, do not need.
#ifndef SPOOR_ALGORITHMS_CONTAINER_ALGORITHM_H_
#define SPOOR_ALGORITHMS_CONTAINER_ALGORITHM_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "algorithms/algorithm.h"
#include "algorithms/data_frame.h"
#include "algorithms/frame_proto.h"
#include "common/container_runner.h"
#include "common/oci_image.h"
#include "common/runc_sandbox.h"
#include "spoor/v1/container.pb.h"
#include "spoor/v1/registry.pb.h"

namespace spoor {

// Checks `parameters` against what the image's manifest declares: every
// required parameter present, each of the declared type, none undeclared.
// INVALID_ARGUMENT naming the parameter and the expected type.
absl::Status CheckDeclaredParameters(const AlgorithmInfo& info, const v1::Parameters& parameters);

class ContainerAlgorithm final : public Algorithm {
 public:
  // `reference` is NAME@VERSION, the name jobs use.
  ContainerAlgorithm(std::string reference, AlgorithmInfo info,
                     std::unique_ptr<const ContainerRunner> runner);

  const char* name() const override { return reference_.c_str(); }
  bool built_in() const override { return false; }
  const AlgorithmInfo& info() const { return info_; }

  absl::Status ValidateParameters(const v1::Parameters& parameters) const override;
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const override;
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override;

 private:
  std::string reference_;
  AlgorithmInfo info_;
  std::unique_ptr<const ContainerRunner> runner_;
};

// Registered container algorithms ready to run in a runc sandbox, one per
// verified image, made on first use and kept by manifest digest: the node's
// and the coordinator's image cache, under `work_dir` (images/ unpacked by
// digest, runs/ and logs/ as SandboxContainerRunner keeps them). Thread-safe.
class ContainerAlgorithmCache {
 public:
  ContainerAlgorithmCache(std::string runc, std::string work_dir, SandboxLimits limits);

  // The algorithm `record` names. On first use of its manifest digest the
  // image comes from `fetch` (every blob verified against its digest), must
  // be the image `record` names (its manifest digest, name and version;
  // DATA_LOSS otherwise) and is unpacked.
  absl::StatusOr<std::shared_ptr<const Algorithm>> Get(
      const v1::AlgorithmRecord& record, absl::FunctionRef<absl::StatusOr<OciImage>()> fetch);

 private:
  const std::string work_dir_;
  const RuncSandbox sandbox_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Algorithm>> loaded_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_CONTAINER_ALGORITHM_H_
