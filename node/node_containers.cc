#include "node/node_containers.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "algorithms/container_algorithm.h"
#include "common/algorithm_reference.h"
#include "common/container_runner.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "spoor/v1/registry.grpc.pb.h"

namespace spoor {
namespace {

constexpr absl::Duration kRegistryDeadline = absl::Seconds(30);

class GrpcRegistryClient final : public RegistryClient {
 public:
  explicit GrpcRegistryClient(std::shared_ptr<grpc::Channel> channel)
      : stub_(v1::Registry::NewStub(std::move(channel))) {}

  absl::StatusOr<v1::AlgorithmRecord> GetAlgorithm(const std::string& reference) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kRegistryDeadline));
    v1::GetAlgorithmRequest request;
    request.set_reference(reference);
    v1::AlgorithmRecord record;
    grpc::Status status = stub_->GetAlgorithm(&context, request, &record);
    if (!status.ok()) return FromGrpcStatus(status);
    return record;
  }

  absl::StatusOr<std::string> FetchBlob(const std::string& digest) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kRegistryDeadline));
    v1::FetchBlobRequest request;
    request.set_digest(digest);
    std::unique_ptr<grpc::ClientReader<v1::BlobChunk>> reader = stub_->FetchBlob(&context, request);
    std::string bytes;
    v1::BlobChunk chunk;
    while (reader->Read(&chunk)) bytes += chunk.data();
    grpc::Status status = reader->Finish();
    if (!status.ok()) return FromGrpcStatus(status);
    return bytes;
  }

 private:
  std::unique_ptr<v1::Registry::Stub> stub_;
};

GateRefusal Refusal(const char* rule, std::string message) {
  return GateRefusal{rule, std::move(message)};
}

}  // namespace

absl::StatusOr<v1::AlgorithmRecord> InMemoryRegistryClient::GetAlgorithm(
    const std::string& reference) {
  if (reference != AlgorithmReference(record.name(), record.version())) {
    return absl::NotFoundError(absl::StrCat("no algorithm ", reference, " is registered"));
  }
  return record;
}

absl::Status InMemoryRegistryClient::Publish(const std::vector<std::string>& signatures) {
  SPOOR_ASSIGN_OR_RETURN(ResolvedImage resolved, ResolveImage(image));
  record = v1::AlgorithmRecord();
  record.set_name(resolved.algorithm.name);
  record.set_version(resolved.algorithm.version);
  record.set_manifest_digest(resolved.manifest_digest);
  record.set_index_json(image.index_json);
  record.set_state(v1::ALGORITHM_STATE_APPROVED);
  for (const std::string& signature : signatures) record.add_signatures(signature);
  return absl::OkStatus();
}

absl::StatusOr<std::string> InMemoryRegistryClient::FetchBlob(const std::string& digest) {
  ++fetches;
  auto it = image.blobs.find(digest);
  if (it == image.blobs.end()) return absl::NotFoundError(absl::StrCat("no blob ", digest));
  return it->second;
}

absl::StatusOr<TrustedSigner> VerifyRecordSignatures(const v1::AlgorithmRecord& record,
                                                     const std::vector<TrustedSigner>& trusted) {
  std::vector<AlgorithmSignature> signatures;
  for (const std::string& document : record.signatures()) {
    absl::StatusOr<AlgorithmSignature> signature = SignatureFromJson(document);
    if (signature.ok()) signatures.push_back(*std::move(signature));
  }
  return VerifyAlgorithmSignatures(signatures, record.manifest_digest(), trusted);
}

std::unique_ptr<RegistryClient> MakeGrpcRegistryClient(std::shared_ptr<grpc::Channel> channel) {
  return std::make_unique<GrpcRegistryClient>(std::move(channel));
}

absl::StatusOr<std::unique_ptr<NodeContainers>> NodeContainers::Create(
    const ContainerPolicy& policy, RegistryClient& registry, ApprovalStore& approvals,
    const Clock& clock) {
  SPOOR_ASSIGN_OR_RETURN(std::vector<TrustedSigner> signers,
                         LoadTrustedSigners(policy.trusted_signers));
  return std::unique_ptr<NodeContainers>(
      new NodeContainers(policy, std::move(signers), registry, approvals, clock));
}

NodeContainers::NodeContainers(const ContainerPolicy& policy, std::vector<TrustedSigner> signers,
                               RegistryClient& registry, ApprovalStore& approvals,
                               const Clock& clock)
    : policy_(policy),
      signers_(std::move(signers)),
      registry_(registry),
      approvals_(approvals),
      clock_(clock),
      images_(policy.runc, policy.work_dir, policy.limits) {}

bool NodeContainers::Allowed(const v1::AlgorithmRecord& record) const {
  const std::string reference = AlgorithmReference(record.name(), record.version());
  return std::any_of(policy_.allow.begin(), policy_.allow.end(), [&](const std::string& entry) {
    return entry == record.name() || entry == reference || entry == record.manifest_digest();
  });
}

absl::StatusOr<ContainerResolution> NodeContainers::Resolve(const v1::Task& task) {
  ContainerResolution resolution;
  resolution.digest = task.algorithm_digest();
  if (!policy_.enabled) {
    resolution.refusal = Refusal(
        "container_policy",
        "this node runs no container algorithms (its operator has not enabled [containers])");
    return resolution;
  }
  SPOOR_ASSIGN_OR_RETURN(v1::AlgorithmRecord record, registry_.GetAlgorithm(task.algorithm()));
  if (record.manifest_digest() != task.algorithm_digest() ||
      AlgorithmReference(record.name(), record.version()) != task.algorithm()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the registry's image of ", task.algorithm(),
                     " is not the one the task names; refusing to run either"));
  }
  if (record.state() == v1::ALGORITHM_STATE_REVOKED) {
    resolution.refusal = Refusal(
        "revoked", absl::StrCat(task.algorithm(),
                                " has been revoked at the registry: ", record.revocation_reason()));
    return resolution;
  }
  if (record.state() != v1::ALGORITHM_STATE_APPROVED) {
    resolution.refusal =
        Refusal("container_policy",
                absl::StrCat(task.algorithm(), " is not approved by the consortium's reviewers"));
    return resolution;
  }
  absl::StatusOr<TrustedSigner> signer = VerifyRecordSignatures(record, signers_);
  if (!signer.ok()) {
    resolution.refusal = Refusal("signature", std::string(signer.status().message()));
    return resolution;
  }
  if (!Allowed(record)) {
    if (!policy_.require_local_approval) {
      resolution.refusal = Refusal(
          "container_policy",
          absl::StrCat(task.algorithm(), " is not on this node's list of allowed algorithms"));
      return resolution;
    }
    Approval pending;
    pending.digest = record.manifest_digest();
    pending.reference = task.algorithm();
    pending.signer = signer->name;
    pending.description = record.description();
    pending.requested_by = task.requester().name();
    pending.requested_at = clock_.Now();
    SPOOR_ASSIGN_OR_RETURN(Approval approval, approvals_.FindOrQueue(pending));
    if (approval.state == ApprovalState::kPending) {
      LogInfo("algorithm ", task.algorithm(), " (", record.manifest_digest(),
              ") waits for the data steward: spoor node approvals approve ", task.algorithm());
      resolution.refusal = Refusal(
          "local_approval", absl::StrCat(task.algorithm(),
                                         " waits for this node's data steward to approve it; "
                                         "ask them, then run the job again"));
      return resolution;
    }
    if (approval.state == ApprovalState::kRejected) {
      resolution.refusal =
          Refusal("local_approval",
                  absl::StrCat(task.algorithm(), " was rejected by this node's data steward"));
      return resolution;
    }
  }
  SPOOR_ASSIGN_OR_RETURN(resolution.algorithm, images_.Get(record, [&] {
    return FetchImage(record.index_json(),
                      [this](const std::string& digest) { return registry_.FetchBlob(digest); });
  }));
  return resolution;
}

}  // namespace spoor
