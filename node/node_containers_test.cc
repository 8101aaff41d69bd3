// The node's side of container algorithms, against a registry it is handed
// (InMemoryRegistryClient): every refusal the node makes on its own, whatever the
// coordinator says, and a container that runs under runc (label container;
// the runc parts skip with a warning where runc or root is missing).
#include "node/node_containers.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/algorithm_reference.h"
#include "common/algorithm_signature.h"
#include "common/file_util.h"
#include "common/oci_image.h"
#include "common/runc_sandbox.h"
#include "nlohmann/json.hpp"
#include "node/sql_test_support.h"

namespace spoor {
namespace {

using ::Catch::Matchers::Contains;

std::string AlgorithmBinary() {
  absl::StatusOr<std::string> binary = ReadFile(SPOOR_ALGORITHM_DIR "/colmean");
  REQUIRE(binary.ok());
  return *binary;
}

AlgorithmInfo ColmeanInfo(const std::string& version = "1.0.0") {
  AlgorithmInfo info;
  info.name = "colmean";
  info.version = version;
  info.description = "column means";
  info.parameters = {{"vars", "texts", true, "numeric columns"}};
  info.aggregates = {"vector"};
  return info;
}

std::string Sign(const OciImage& image, const std::string& private_pem) {
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(image);
  REQUIRE(resolved.ok());
  absl::StatusOr<AlgorithmSignature> signature =
      SignManifest(private_pem, "Test Signer (Test Org)", resolved->manifest_digest, absl::Now());
  REQUIRE(signature.ok());
  return SignatureToJson(*signature);
}

// A node with [containers] enabled, trusting one signer, and a registry
// holding colmean@1.0.0 signed by that signer and approved by reviewers.
struct ContainerNode {
  explicit ContainerNode(bool require_local_approval = true, std::vector<std::string> allow = {})
      : node(dir.path, {CsvDataset("cohort", "examples/three-hospitals/hospital-a.csv")}) {
    absl::StatusOr<SigningKeyPair> key = GenerateSigningKey();
    REQUIRE(key.ok());
    signer = *key;
    REQUIRE(WriteFileAtomically(dir.path + "/signer.pub", signer.public_pem).ok());
    policy.enabled = true;
    policy.trusted_signers = {dir.path + "/signer.pub"};
    policy.require_local_approval = require_local_approval;
    policy.allow = std::move(allow);
    policy.work_dir = dir.path + "/containers";
    policy.limits.timeout = absl::Seconds(20);

    absl::StatusOr<OciImage> image = PackageBinary(AlgorithmBinary(), ColmeanInfo());
    REQUIRE(image.ok());
    registry.image = *std::move(image);
    SetRecord(Sign(registry.image, signer.private_pem));

    absl::StatusOr<std::unique_ptr<ApprovalStore>> opened =
        ApprovalStore::Open(dir.path + "/approvals.db");
    REQUIRE(opened.ok());
    approvals = *std::move(opened);
    absl::StatusOr<std::unique_ptr<NodeContainers>> created =
        NodeContainers::Create(policy, registry, *approvals, node.clock);
    REQUIRE(created.ok());
    containers = *std::move(created);
    executor = std::make_unique<TaskExecutor>(*node.algorithms, node.cache, node.gate, *node.audit,
                                              containers.get());
  }

  // The registry's record for its image, with `signature` (none if empty).
  void SetRecord(const std::string& signature) {
    std::vector<std::string> signatures;
    if (!signature.empty()) signatures.push_back(signature);
    REQUIRE(registry.Publish(signatures).ok());
  }

  v1::Task Task(int n) const {
    v1::Task task;
    task.set_task_id(absl::StrCat("job/1/", n));
    task.set_job_id("job");
    task.set_round(1);
    task.set_algorithm("colmean@1.0.0");
    task.set_algorithm_digest(registry.record.manifest_digest());
    task.set_dataset("cohort");
    task.mutable_requester()->set_name("researcher");
    for (const char* site : {"a", "b", "c"}) task.add_participants(site);
    SetTextList(*task.mutable_parameters(), "vars", {"age"});
    return task;
  }

  // The last audit record's event and fields.
  nlohmann::json LastAudit() const {
    std::ifstream in(node.audit_path);
    std::string line, last;
    while (std::getline(in, line)) last = line;
    return nlohmann::json::parse(last);
  }

  testing::TempDir dir;
  testing::TestNode node;
  SigningKeyPair signer;
  ContainerPolicy policy;
  InMemoryRegistryClient registry;
  std::unique_ptr<ApprovalStore> approvals;
  std::unique_ptr<NodeContainers> containers;
  std::unique_ptr<TaskExecutor> executor;
};

void RequireRefused(ContainerNode& node, const v1::TaskResult& result, const std::string& rule,
                    const std::string& message) {
  INFO(result.DebugString());
  REQUIRE(result.has_refusal());
  CHECK(result.refusal().rule() == rule);
  CHECK_THAT(result.refusal().message(), Contains(message));
  nlohmann::json audit = node.LastAudit();
  CHECK(audit["event"] == "task_refused");
  CHECK(audit["rule"] == rule);
  CHECK(audit["algorithm_digest"] == node.registry.record.manifest_digest());
}

// Whether runc can run here; warns when not.
bool CanRunContainers() {
  if (::geteuid() != 0 || !FindRunc("runc").ok()) {
    WARN("skipped: running containers needs root and runc (apt-get install runc)");
    return false;
  }
  return true;
}

TEST_CASE("an unsigned algorithm is refused by the node", "[container]") {
  ContainerNode node;
  node.SetRecord("");
  RequireRefused(node, node.executor->Execute(node.Task(1)), "signature", "not signed");
  CHECK(node.registry.fetches == 0);
}

TEST_CASE("an algorithm signed by a key the node does not trust is refused", "[container]") {
  ContainerNode node;
  absl::StatusOr<SigningKeyPair> stranger = GenerateSigningKey();
  REQUIRE(stranger.ok());
  node.SetRecord(Sign(node.registry.image, stranger->private_pem));
  RequireRefused(node, node.executor->Execute(node.Task(1)), "signature", "unknown signer");
}

TEST_CASE("a tampered manifest no longer matches its signature", "[container]") {
  ContainerNode node;
  std::string signature = Sign(node.registry.image, node.signer.private_pem);
  // Change the manifest's description and re-address it: a consistent image
  // whose manifest is not the one that was signed.
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(node.registry.image);
  REQUIRE(resolved.ok());
  nlohmann::json manifest = nlohmann::json::parse(resolved->manifest_json);
  manifest["annotations"]["org.opencontainers.image.description"] = "now does something else";
  std::string bytes = manifest.dump();
  std::string digest = Sha256Digest(bytes);
  node.registry.image.blobs.erase(resolved->manifest_digest);
  node.registry.image.blobs[digest] = bytes;
  nlohmann::json index = nlohmann::json::parse(node.registry.image.index_json);
  index["manifests"][0]["digest"] = digest;
  index["manifests"][0]["size"] = bytes.size();
  node.registry.image.index_json = index.dump();
  node.SetRecord(signature);
  RequireRefused(node, node.executor->Execute(node.Task(1)), "signature",
                 "does not match the image");
}

TEST_CASE("a tampered layer is caught by its digest and nothing runs", "[container]") {
  ContainerNode node(/*require_local_approval=*/false, {"colmean"});
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(node.registry.image);
  REQUIRE(resolved.ok());
  std::string& layer = node.registry.image.blobs[resolved->layer_digests[0]];
  layer[layer.size() / 2] ^= 0x01;
  v1::TaskResult result = node.executor->Execute(node.Task(1));
  REQUIRE(result.has_error());
  CHECK(result.error().code() == static_cast<int>(absl::StatusCode::kDataLoss));
  CHECK_THAT(result.error().message(), Contains("does not match its digest"));
  nlohmann::json audit = node.LastAudit();
  CHECK(audit["event"] == "task_failed");
  CHECK(!std::filesystem::exists(node.policy.work_dir + "/images"));
}

TEST_CASE("a revoked algorithm is refused at once", "[container]") {
  ContainerNode node(/*require_local_approval=*/false, {"colmean"});
  node.registry.record.set_state(v1::ALGORITHM_STATE_REVOKED);
  node.registry.record.set_revocation_reason("leaks row counts");
  RequireRefused(node, node.executor->Execute(node.Task(1)), "revoked", "leaks row counts");
}

TEST_CASE("deny by default: neither allowed nor approvable", "[container]") {
  ContainerNode node(/*require_local_approval=*/false, {"othermean"});
  RequireRefused(node, node.executor->Execute(node.Task(1)), "container_policy",
                 "not on this node's list");

  ContainerNode disabled;
  disabled.policy.enabled = false;
  absl::StatusOr<std::unique_ptr<NodeContainers>> off = NodeContainers::Create(
      disabled.policy, disabled.registry, *disabled.approvals, disabled.node.clock);
  REQUIRE(off.ok());
  TaskExecutor executor(*disabled.node.algorithms, disabled.node.cache, disabled.node.gate,
                        *disabled.node.audit, off->get());
  RequireRefused(disabled, executor.Execute(disabled.Task(1)), "container_policy",
                 "runs no container algorithms");
}

TEST_CASE("the registry cannot swap the image the task names", "[container]") {
  ContainerNode node(/*require_local_approval=*/false, {"colmean"});
  v1::Task task = node.Task(1);
  task.set_algorithm_digest(Sha256Digest("another image"));
  v1::TaskResult result = node.executor->Execute(task);
  REQUIRE(result.has_error());
  CHECK_THAT(result.error().message(), Contains("not the one the task names"));
}

TEST_CASE("a new image waits for the data steward, then runs in the sandbox", "[container]") {
  ContainerNode node;
  RequireRefused(node, node.executor->Execute(node.Task(1)), "local_approval",
                 "waits for this node's data steward");
  absl::StatusOr<std::vector<Approval>> queue = node.approvals->List();
  REQUIRE(queue.ok());
  REQUIRE(queue->size() == 1);
  CHECK((*queue)[0].reference == "colmean@1.0.0");
  CHECK((*queue)[0].state == ApprovalState::kPending);
  CHECK((*queue)[0].requested_by == "researcher");

  SECTION("rejected stays refused") {
    REQUIRE(node.approvals->Decide("colmean@1.0.0", false, "steward", "no", absl::Now()).ok());
    RequireRefused(node, node.executor->Execute(node.Task(2)), "local_approval", "rejected");
  }
  SECTION("approved runs, and the aggregate passes the gate") {
    REQUIRE(node.approvals->Decide("colmean@1.0.0", true, "steward", "", absl::Now()).ok());
    if (!CanRunContainers()) return;
    v1::TaskResult result = node.executor->Execute(node.Task(2));
    INFO(result.DebugString());
    REQUIRE(result.has_aggregate());
    REQUIRE(result.aggregate().blocks_size() == 1);
    CHECK(result.aggregate().blocks(0).name() == "age");
    CHECK(result.aggregate().blocks(0).vector().values_size() == 2);
    nlohmann::json audit = node.LastAudit();
    CHECK(audit["event"] == "task_released");
    CHECK(audit["algorithm_digest"] == node.registry.record.manifest_digest());
    // The image was fetched and unpacked once; a second task reuses it.
    int fetches = node.registry.fetches;
    REQUIRE(node.executor->Execute(node.Task(3)).has_aggregate());
    CHECK(node.registry.fetches == fetches);
  }
}

}  // namespace
}  // namespace spoor
