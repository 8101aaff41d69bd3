#include "common/algorithm_signature.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/oci_image.h"
#include "common/oci_test_support.h"
#include "common/temp_dir_test_support.h"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

struct OpenSslDeleter {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
template <typename T>
using OsslPtr = std::unique_ptr<T, OpenSslDeleter>;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

const std::string kDigest = Sha256Digest("a manifest");
const std::string kOtherDigest = Sha256Digest("another manifest");

absl::Time SigningTime() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0), absl::UTCTimeZone());
}

SigningKeyPair NewKey() {
  absl::StatusOr<SigningKeyPair> key = GenerateSigningKey();
  REQUIRE(key.ok());
  return *key;
}

TrustedSigner Trusted(const std::string& name, const SigningKeyPair& key) {
  return {name, key.public_pem, *SigningKeyId(key.public_pem)};
}

AlgorithmSignature Sign(const SigningKeyPair& key, const std::string& digest = kDigest) {
  absl::StatusOr<AlgorithmSignature> s =
      SignManifest(key.private_pem, "Alice Example (UMC Utrecht)", digest, SigningTime());
  REQUIRE(s.ok());
  return *s;
}

OsslPtr<EVP_PKEY> ReadPublicKey(const std::string& pem) {
  OsslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  OsslPtr<EVP_PKEY> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(key);
  return key;
}

std::string PemOf(EVP_PKEY* key, bool private_key) {
  OsslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (private_key) {
    REQUIRE(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  } else {
    REQUIRE(PEM_write_bio_PUBKEY(bio.get(), key) == 1);
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
  return std::string(data, static_cast<size_t>(len));
}

// A fresh directory for one test, removed afterwards.
using ::spoor::testing::TempDir;

TEST_CASE("Key ids are SHA-256 of the raw Ed25519 public key", "[signature]") {
  SigningKeyPair key = NewKey();
  CHECK_THAT(key.private_pem, StartsWith("-----BEGIN PRIVATE KEY-----"));
  CHECK_THAT(key.public_pem, StartsWith("-----BEGIN PUBLIC KEY-----"));
  absl::StatusOr<std::string> id = SigningKeyId(key.public_pem);
  REQUIRE(id.ok());

  // Independent computation with OpenSSL's one-shot SHA256().
  OsslPtr<EVP_PKEY> pkey = ReadPublicKey(key.public_pem);
  unsigned char raw[32];
  size_t raw_size = sizeof(raw);
  REQUIRE(EVP_PKEY_get_raw_public_key(pkey.get(), raw, &raw_size) == 1);
  unsigned char hash[SHA256_DIGEST_LENGTH];
  SHA256(raw, raw_size, hash);
  std::string expected = "ed25519:";
  for (int i = 0; i < 16; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    expected += kHex[hash[i] >> 4];
    expected += kHex[hash[i] & 0xf];
  }
  CHECK(*id == expected);
  CHECK(*SigningKeyId(key.public_pem) == *id);
  CHECK(*SigningKeyId(NewKey().public_pem) != *id);
}

TEST_CASE("SigningKeyId refuses other keys and garbage", "[signature]") {
  OsslPtr<EVP_PKEY> ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  REQUIRE(ec);
  absl::Status status = SigningKeyId(PemOf(ec.get(), false)).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(status), Contains("Ed25519"));
  CHECK(SigningKeyId("not a key").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(SigningKeyId("").status().code() == absl::StatusCode::kInvalidArgument);
  // A private key is not a public key.
  CHECK(SigningKeyId(NewKey().private_pem).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A signature covers the documented message and round-trips as JSON", "[signature]") {
  SigningKeyPair key = NewKey();
  AlgorithmSignature s = Sign(key);
  CHECK(s.manifest_digest == kDigest);
  CHECK(s.signer == "Alice Example (UMC Utrecht)");
  CHECK(s.key_id == *SigningKeyId(key.public_pem));
  CHECK(s.signed_at == "2026-11-23T09:00:00Z");

  // Verify with OpenSSL directly over the message the header documents.
  std::string message = "spoor-algorithm-signature/v1\n" + kDigest +
                        "\nAlice Example (UMC Utrecht)\n" + s.key_id + "\n2026-11-23T09:00:00Z\n";
  std::string raw;
  REQUIRE(absl::Base64Unescape(s.signature_base64, &raw));
  REQUIRE(raw.size() == 64);
  OsslPtr<EVP_PKEY> pkey = ReadPublicKey(key.public_pem);
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1);
  CHECK(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                         reinterpret_cast<const unsigned char*>(message.data()),
                         message.size()) == 1);

  std::string json = SignatureToJson(s);
  nlohmann::json j = nlohmann::json::parse(json);
  CHECK(j["type"] == "spoor-algorithm-signature/v1");
  CHECK(j["signature"] == s.signature_base64);
  absl::StatusOr<AlgorithmSignature> back = SignatureFromJson(json);
  REQUIRE(back.ok());
  CHECK(back->manifest_digest == s.manifest_digest);
  CHECK(back->signer == s.signer);
  CHECK(back->key_id == s.key_id);
  CHECK(back->signed_at == s.signed_at);
  CHECK(back->signature_base64 == s.signature_base64);
}

TEST_CASE("SignatureFromJson refuses malformed documents", "[signature]") {
  nlohmann::json good = nlohmann::json::parse(SignatureToJson(Sign(NewKey())));
  REQUIRE(SignatureFromJson(good.dump()).ok());
  auto code_with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = good;
    if (value.is_null()) {
      j.erase(key);
    } else {
      j[key] = value;
    }
    return SignatureFromJson(j.dump()).status().code();
  };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  CHECK(code_with("type", "spoor-algorithm-signature/v2") == kInvalid);
  CHECK(code_with("signer", nullptr) == kInvalid);
  CHECK(code_with("signer", 7) == kInvalid);
  CHECK(code_with("manifest_digest", "sha256:abc") == kInvalid);
  CHECK(code_with("key_id", "rsa:0123") == kInvalid);
  CHECK(code_with("signed_at", "yesterday") == kInvalid);
  CHECK(code_with("signature", "!!!") == kInvalid);
  CHECK(code_with("signature", absl::Base64Escape("short")) == kInvalid);
  CHECK(SignatureFromJson("{").status().code() == kInvalid);
  CHECK(SignatureFromJson("[]").status().code() == kInvalid);
}

TEST_CASE("SignManifest refuses bad keys, digests and signer names", "[signature]") {
  SigningKeyPair key = NewKey();
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  CHECK(SignManifest(key.private_pem, "A", "sha256:xyz", SigningTime()).status().code() ==
        kInvalid);
  CHECK(SignManifest(key.private_pem, "", kDigest, SigningTime()).status().code() == kInvalid);
  CHECK(SignManifest(key.private_pem, "A\nsha256:forged", kDigest, SigningTime()).status().code() ==
        kInvalid);
  CHECK(SignManifest(key.public_pem, "A", kDigest, SigningTime()).status().code() == kInvalid);
  OsslPtr<EVP_PKEY> ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  absl::Status status = SignManifest(PemOf(ec.get(), true), "A", kDigest, SigningTime()).status();
  CHECK(status.code() == kInvalid);
  CHECK_THAT(Message(status), !Contains("PRIVATE KEY"));
}

TEST_CASE("VerifyAlgorithmSignatures accepts a trusted signer's signature", "[signature]") {
  SigningKeyPair alice = NewKey();
  SigningKeyPair bob = NewKey();
  std::vector<TrustedSigner> trusted = {Trusted("bob", bob), Trusted("alice", alice)};
  absl::StatusOr<TrustedSigner> who = VerifyAlgorithmSignatures({Sign(alice)}, kDigest, trusted);
  REQUIRE(who.ok());
  CHECK(who->name == "alice");
  CHECK(who->key_id == *SigningKeyId(alice.public_pem));

  // An unknown signature first does not hide a valid one after it.
  SigningKeyPair stranger = NewKey();
  who = VerifyAlgorithmSignatures({Sign(stranger), Sign(bob)}, kDigest, trusted);
  REQUIRE(who.ok());
  CHECK(who->name == "bob");

  // A stale key_id in the trusted list does not matter: it is recomputed.
  trusted[1].key_id = "ed25519:00000000000000000000000000000000";
  CHECK(VerifyAlgorithmSignatures({Sign(alice)}, kDigest, trusted).ok());
}

TEST_CASE("VerifyAlgorithmSignatures says why it refuses", "[signature]") {
  SigningKeyPair alice = NewKey();
  std::vector<TrustedSigner> trusted = {Trusted("alice", alice)};

  absl::Status unsigned_status = VerifyAlgorithmSignatures({}, kDigest, trusted).status();
  CHECK(unsigned_status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(Message(unsigned_status), StartsWith("the algorithm is not signed"));

  SigningKeyPair stranger = NewKey();
  absl::Status unknown = VerifyAlgorithmSignatures({Sign(stranger)}, kDigest, trusted).status();
  CHECK(unknown.code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(Message(unknown), StartsWith("signed by an unknown signer (key " +
                                          *SigningKeyId(stranger.public_pem) + ")"));
  CHECK(VerifyAlgorithmSignatures({Sign(alice)}, kDigest, {}).status().code() ==
        absl::StatusCode::kPermissionDenied);

  auto refuses_as_mismatch = [&](const AlgorithmSignature& s) {
    absl::Status status = VerifyAlgorithmSignatures({s}, kDigest, trusted).status();
    CHECK(status.code() == absl::StatusCode::kPermissionDenied);
    CHECK_THAT(Message(status), StartsWith("the signature does not match the image"));
  };
  refuses_as_mismatch(Sign(alice, kOtherDigest));  // another image's signature
  AlgorithmSignature forged = Sign(alice, kOtherDigest);
  forged.manifest_digest = kDigest;  // relabelled
  refuses_as_mismatch(forged);
  AlgorithmSignature renamed = Sign(alice);
  renamed.signer = "Mallory";
  refuses_as_mismatch(renamed);
  AlgorithmSignature redated = Sign(alice);
  redated.signed_at = "2030-01-01T00:00:00Z";
  refuses_as_mismatch(redated);
  AlgorithmSignature flipped = Sign(alice);
  std::string raw;
  REQUIRE(absl::Base64Unescape(flipped.signature_base64, &raw));
  raw[10] ^= 0x01;
  flipped.signature_base64 = absl::Base64Escape(raw);
  refuses_as_mismatch(flipped);

  trusted.push_back({"broken", "not a pem", ""});
  CHECK(VerifyAlgorithmSignatures({Sign(alice)}, kDigest, trusted).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("LoadTrustedSigner reads a public key file named after the signer", "[signature]") {
  TempDir dir("spoor_signature_test");
  SigningKeyPair key = NewKey();
  REQUIRE(WriteFileAtomically(dir.File("alice.pem"), key.public_pem).ok());
  absl::StatusOr<TrustedSigner> signer = LoadTrustedSigner(dir.File("alice.pem"));
  REQUIRE(signer.ok());
  CHECK(signer->name == "alice");
  CHECK(signer->public_pem == key.public_pem);
  CHECK(signer->key_id == *SigningKeyId(key.public_pem));
  CHECK(LoadTrustedSigner(dir.File("bob.pem")).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(WriteFileAtomically(dir.File("junk.pem"), "junk").ok());
  absl::Status junk = LoadTrustedSigner(dir.File("junk.pem")).status();
  CHECK(junk.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(junk), Contains("junk.pem"));
}

TEST_CASE("A signed packaged image verifies after a trip through a tar", "[signature]") {
  TempDir dir("spoor_signature_test");
  AlgorithmInfo info;
  info.name = "counts";
  info.version = "1";
  absl::StatusOr<OciImage> image = PackageBinary(testing::MinimalElf(false), info);
  REQUIRE(image.ok());
  std::string digest = ResolveImage(*image)->manifest_digest;

  SigningKeyPair key = NewKey();
  REQUIRE(AddImageSignature(*image, SignatureToJson(Sign(key, digest))).ok());
  REQUIRE(WriteImage(*image, dir.File("signed.tar"), ImageFormat::kTar).ok());

  absl::StatusOr<OciImage> read = ReadImage(dir.File("signed.tar"));
  REQUIRE(read.ok());
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(*read);
  REQUIRE(resolved.ok());
  std::vector<AlgorithmSignature> signatures;
  absl::StatusOr<std::vector<std::string>> documents = ImageSignatures(*read);
  REQUIRE(documents.ok());
  for (const std::string& json : *documents) {
    absl::StatusOr<AlgorithmSignature> s = SignatureFromJson(json);
    REQUIRE(s.ok());
    signatures.push_back(*s);
  }
  absl::StatusOr<TrustedSigner> who =
      VerifyAlgorithmSignatures(signatures, resolved->manifest_digest, {Trusted("alice", key)});
  REQUIRE(who.ok());
  CHECK(who->name == "alice");
}

}  // namespace
}  // namespace spoor
