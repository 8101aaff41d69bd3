#include "coordinator/algorithm_store.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/oci_test_support.h"

namespace spoor {
namespace {

using ::Catch::Matchers::Contains;

v1::Requester Person(const std::string& name, const std::string& organisation,
                     const std::string& role) {
  v1::Requester requester;
  requester.set_name(name);
  requester.set_organisation(organisation);
  requester.set_role(role);
  return requester;
}

struct Registry {
  Registry() : dir(absl::StrCat("/tmp/spoor-registry-test-", ::getpid(), "-", ++count)) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    absl::StatusOr<SigningKeyPair> key = GenerateSigningKey();
    REQUIRE(key.ok());
    signer = *key;
    REQUIRE(WriteFileAtomically(dir + "/signer.pub", signer.public_pem).ok());
    absl::StatusOr<TrustedSigner> trusted = LoadTrustedSigner(dir + "/signer.pub");
    REQUIRE(trusted.ok());
    RegistryPolicy policy;
    policy.trusted_signers = {*trusted};
    absl::StatusOr<std::unique_ptr<AlgorithmStore>> opened =
        OpenAlgorithmStore(dir + "/registry", policy, clock);
    REQUIRE(opened.ok());
    store = *std::move(opened);
  }
  ~Registry() { std::filesystem::remove_all(dir); }

  // An image of NAME@VERSION, signed with `key` (unsigned if empty).
  OciImage Image(const std::string& version, const std::string& key,
                 const std::string& description = "") {
    AlgorithmInfo info;
    info.name = "colmean";
    info.version = version;
    info.description = description;
    absl::StatusOr<OciImage> image = PackageBinary(testing::MinimalElf(false), info);
    INFO(image.status().message());
    REQUIRE(image.ok());
    if (!key.empty()) {
      absl::StatusOr<ResolvedImage> resolved = ResolveImage(*image);
      REQUIRE(resolved.ok());
      absl::StatusOr<AlgorithmSignature> signature =
          SignManifest(key, "Signer (Org)", resolved->manifest_digest, absl::Now());
      REQUIRE(signature.ok());
      REQUIRE(AddImageSignature(*image, SignatureToJson(*signature)).ok());
    }
    return *image;
  }

  absl::StatusOr<v1::AlgorithmRecord> Upload(const OciImage& image) {
    for (const auto& [digest, bytes] : image.blobs) {
      absl::Status put = store->PutBlob(digest, bytes);
      if (!put.ok()) return put;
    }
    return store->Register(Person("lead", "Consortium", "admin"), image.index_json);
  }

  static inline int count = 0;
  std::string dir;
  FakeClock clock;
  SigningKeyPair signer;
  std::unique_ptr<AlgorithmStore> store;
};

TEST_CASE("registration needs every blob, verified, and a trusted signature", "[registry]") {
  Registry registry;
  OciImage image = registry.Image("1.0.0", registry.signer.private_pem);
  const auto& [digest, bytes] = *image.blobs.begin();
  CHECK(registry.store->PutBlob(digest, bytes + "x").code() == absl::StatusCode::kDataLoss);
  absl::StatusOr<v1::AlgorithmRecord> early =
      registry.store->Register(Person("lead", "Consortium", "admin"), image.index_json);
  CHECK(early.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(early.status().message()), Contains("upload every blob"));

  absl::StatusOr<v1::AlgorithmRecord> record = registry.Upload(image);
  REQUIRE(record.ok());
  CHECK(record->name() == "colmean");
  CHECK(record->version() == "1.0.0");
  CHECK(record->signer() == "signer");
  CHECK(record->state() == v1::ALGORITHM_STATE_PENDING_REVIEW);
  CHECK(record->signatures_size() == 1);
  CHECK(registry.store->Get(record->manifest_digest())->name() == "colmean");

  absl::StatusOr<v1::AlgorithmRecord> unsigned_image = registry.Upload(registry.Image("1.0.1", ""));
  CHECK_THAT(std::string(unsigned_image.status().message()), Contains("not signed"));
  absl::StatusOr<SigningKeyPair> stranger = GenerateSigningKey();
  REQUIRE(stranger.ok());
  absl::StatusOr<v1::AlgorithmRecord> unknown =
      registry.Upload(registry.Image("1.0.2", stranger->private_pem));
  CHECK(unknown.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(std::string(unknown.status().message()), Contains("unknown signer"));
}

TEST_CASE("versions are immutable", "[registry]") {
  Registry registry;
  REQUIRE(registry.Upload(registry.Image("1.0.0", registry.signer.private_pem)).ok());
  // The same image again is the same record; another image is refused.
  REQUIRE(registry.Upload(registry.Image("1.0.0", registry.signer.private_pem)).ok());
  absl::StatusOr<v1::AlgorithmRecord> changed =
      registry.Upload(registry.Image("1.0.0", registry.signer.private_pem, "changed"));
  CHECK(changed.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK_THAT(std::string(changed.status().message()), Contains("new version"));
}

TEST_CASE("approval takes two reviewers of two organisations, not the registrant", "[registry]") {
  Registry registry;
  REQUIRE(registry.Upload(registry.Image("1.0.0", registry.signer.private_pem)).ok());
  AlgorithmStore& store = *registry.store;
  const std::string ref = "colmean@1.0.0";
  CHECK(store.Review(Person("r", "Org A", "researcher"), ref, v1::VERDICT_APPROVE, "")
            .status()
            .code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(
      std::string(store.Review(Person("lead", "Consortium", "admin"), ref, v1::VERDICT_APPROVE, "")
                      .status()
                      .message()),
      Contains("four eyes"));
  absl::StatusOr<v1::AlgorithmRecord> one =
      store.Review(Person("ann", "Org A", "reviewer"), ref, v1::VERDICT_APPROVE, "fine");
  REQUIRE(one.ok());
  CHECK(one->state() == v1::ALGORITHM_STATE_PENDING_REVIEW);
  // A second approval from the same organisation is not enough.
  absl::StatusOr<v1::AlgorithmRecord> same_org =
      store.Review(Person("bob", "Org A", "reviewer"), ref, v1::VERDICT_APPROVE, "");
  REQUIRE(same_org.ok());
  CHECK(same_org->state() == v1::ALGORITHM_STATE_PENDING_REVIEW);
  absl::StatusOr<v1::AlgorithmRecord> two =
      store.Review(Person("cy", "Org B", "reviewer"), ref, v1::VERDICT_APPROVE, "");
  REQUIRE(two.ok());
  CHECK(two->state() == v1::ALGORITHM_STATE_APPROVED);
  CHECK(two->reviews_size() == 3);

  SECTION("one rejection rejects the version") {
    absl::StatusOr<v1::AlgorithmRecord> rejected =
        store.Review(Person("bob", "Org A", "reviewer"), ref, v1::VERDICT_REJECT, "leaks");
    REQUIRE(rejected.ok());
    CHECK(rejected->state() == v1::ALGORITHM_STATE_REJECTED);
    CHECK(rejected->reviews_size() == 3);  // bob's verdict replaced
  }
  SECTION("only an admin revokes, with a reason, and it is final") {
    CHECK(store.Revoke(Person("ann", "Org A", "reviewer"), ref, "x").status().code() ==
          absl::StatusCode::kPermissionDenied);
    CHECK(store.Revoke(Person("lead", "Consortium", "admin"), ref, "").status().code() ==
          absl::StatusCode::kInvalidArgument);
    absl::StatusOr<v1::AlgorithmRecord> revoked =
        store.Revoke(Person("lead", "Consortium", "admin"), ref, "leaks");
    REQUIRE(revoked.ok());
    CHECK(revoked->state() == v1::ALGORITHM_STATE_REVOKED);
    CHECK(store.Review(Person("cy", "Org B", "reviewer"), ref, v1::VERDICT_APPROVE, "")
              .status()
              .code() == absl::StatusCode::kFailedPrecondition);
    CHECK(store.Get(ref)->state() == v1::ALGORITHM_STATE_REVOKED);
  }
}

TEST_CASE("the registry survives a restart and lists what it holds", "[registry]") {
  Registry registry;
  OciImage image = registry.Image("1.0.0", registry.signer.private_pem);
  REQUIRE(registry.Upload(image).ok());
  REQUIRE(registry.Upload(registry.Image("0.9.0", registry.signer.private_pem)).ok());
  registry.store.reset();
  RegistryPolicy policy;
  absl::StatusOr<std::unique_ptr<AlgorithmStore>> reopened =
      OpenAlgorithmStore(registry.dir + "/registry", policy, registry.clock);
  REQUIRE(reopened.ok());
  absl::StatusOr<std::vector<v1::AlgorithmRecord>> list = (*reopened)->List();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].version() == "0.9.0");
  absl::StatusOr<OciImage> loaded = (*reopened)->LoadImage((*list)[1]);
  REQUIRE(loaded.ok());
  CHECK(loaded->blobs == image.blobs);
  CHECK((*reopened)->Get("colmean@2.0").status().code() == absl::StatusCode::kNotFound);
  CHECK((*reopened)->Get("colmean").status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace spoor
