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

#include "absl/status/statusor.h"
#include "algorithms/algorithm.h"
#include "algorithms/data_frame.h"
#include "algorithms/frame_proto.h"
#include "common/container_runner.h"
#include "common/oci_image.h"
#include "spoor/v1/container.pb.h"

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

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_CONTAINER_ALGORITHM_H_
