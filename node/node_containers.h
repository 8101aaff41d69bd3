// Container algorithms at the node: the policy check, fetch, verification
// and unpacking that stand between a task naming NAME@VERSION and a
// ContainerAlgorithm the task executor may run.
//
// For every task (nothing is trusted from an earlier one but the unpacked
// image, which is keyed by its verified digest):
//   1. [containers] enabled, else refused (rule container_policy);
//   2. the registry's record of NAME@VERSION: its manifest digest must be the
//      task's; a revoked algorithm is refused (rule revoked) at once;
//   3. its signatures verified against this node's own trusted signers, not
//      the coordinator's (rule signature: unsigned, unknown signer, or a
//      signature that does not match the image);
//   4. allowed by name, NAME@VERSION or digest; else, with
//      require_local_approval, approved by the data steward (a new digest is
//      queued and refused, rule local_approval); else refused
//      (rule container_policy): deny by default;
//   5. the image fetched blob by blob from the registry, each blob checked
//      against its digest and the manifest against the signed digest, then
//      unpacked into the image cache (once per digest).
// Thread-safe.
#ifndef SPOOR_NODE_NODE_CONTAINERS_H_
#define SPOOR_NODE_NODE_CONTAINERS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "algorithms/algorithm.h"
#include "algorithms/container_algorithm.h"
#include "algorithms/disclosure_gate.h"
#include "common/algorithm_signature.h"
#include "common/clock.h"
#include "common/oci_image.h"
#include "node/approvals.h"
#include "node/node_config.h"
#include "spoor/v1/job.pb.h"
#include "spoor/v1/registry.pb.h"

namespace grpc {
class Channel;
}

namespace spoor {

// The node's view of the coordinator's registry.
class RegistryClient {
 public:
  virtual ~RegistryClient() = default;
  virtual absl::StatusOr<v1::AlgorithmRecord> GetAlgorithm(const std::string& reference) = 0;
  virtual absl::StatusOr<std::string> FetchBlob(const std::string& digest) = 0;
};

// A registry of one algorithm held in memory, for tests and benchmarks
// (which tamper with `record` and `image` at will). Not thread-safe.
class InMemoryRegistryClient final : public RegistryClient {
 public:
  // Makes `record` describe `image` as the registry would (name and version
  // from its manifest, its digest and index.json, approved) with these
  // signature documents. INVALID_ARGUMENT when the image does not resolve.
  absl::Status Publish(const std::vector<std::string>& signatures);

  absl::StatusOr<v1::AlgorithmRecord> GetAlgorithm(const std::string& reference) override;
  absl::StatusOr<std::string> FetchBlob(const std::string& digest) override;

  v1::AlgorithmRecord record;
  OciImage image;
  int fetches = 0;  // blobs fetched
};

// Over the node's own mTLS channel to the coordinator.
std::unique_ptr<RegistryClient> MakeGrpcRegistryClient(std::shared_ptr<grpc::Channel> channel);

// The trusted signer behind `record`'s signature documents (malformed ones
// are ignored), as VerifyAlgorithmSignatures decides over its manifest
// digest: the node's own check, whatever the registry concluded.
absl::StatusOr<TrustedSigner> VerifyRecordSignatures(const v1::AlgorithmRecord& record,
                                                     const std::vector<TrustedSigner>& trusted);

// What Resolve decided: an algorithm to run, or a refusal naming the rule.
struct ContainerResolution {
  std::shared_ptr<const Algorithm> algorithm;  // shared with the cache of verified images
  std::optional<GateRefusal> refusal;
  std::string digest;  // the image's manifest digest, for the audit record
};

class NodeContainers {
 public:
  // Loads the trusted signers. Every reference must outlive this object.
  static absl::StatusOr<std::unique_ptr<NodeContainers>> Create(const ContainerPolicy& policy,
                                                                RegistryClient& registry,
                                                                ApprovalStore& approvals,
                                                                const Clock& clock);

  // Errors (a Status) are failures to reach or read the registry or to
  // unpack; policy decisions are refusals.
  absl::StatusOr<ContainerResolution> Resolve(const v1::Task& task);

  const ContainerPolicy& policy() const { return policy_; }

 private:
  NodeContainers(const ContainerPolicy& policy, std::vector<TrustedSigner> signers,
                 RegistryClient& registry, ApprovalStore& approvals, const Clock& clock);

  bool Allowed(const v1::AlgorithmRecord& record) const;

  const ContainerPolicy policy_;
  const std::vector<TrustedSigner> signers_;
  RegistryClient& registry_;
  ApprovalStore& approvals_;
  const Clock& clock_;
  ContainerAlgorithmCache images_;
};

}  // namespace spoor

#endif  // SPOOR_NODE_NODE_CONTAINERS_H_
