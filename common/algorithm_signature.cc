#include "common/algorithm_signature.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <climits>
#include <filesystem>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/audit_log.h"
#include "common/file_util.h"
#include "common/internal/openssl_util.h"
#include "common/oci_image.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

using Json = nlohmann::json;

constexpr size_t kEd25519KeySize = 32;
constexpr size_t kEd25519SignatureSize = 64;
constexpr size_t kMaxSignerSize = 256;
constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%SZ";

using internal::Absl;
using internal::BioContents;
using internal::ErrorQueueScope;
using internal::NoPassphrase;
using internal::OsslPtr;
using internal::ReadOnlyBio;

absl::Status CheckEd25519(const EVP_PKEY* key, std::string_view what) {
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(what), " is not an Ed25519 key; make one with spoor's key generation"));
  }
  return absl::OkStatus();
}

absl::StatusOr<OsslPtr<EVP_PKEY>> ParsePublicKey(std::string_view pem, std::string_view what) {
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<BIO> bio, ReadOnlyBio(pem, what));
  OsslPtr<EVP_PKEY> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(what), " is not a PEM public key"));
  }
  SPOOR_RETURN_IF_ERROR(CheckEd25519(key.get(), what));
  return key;
}

// The error never quotes the PEM: it is secret.
absl::StatusOr<OsslPtr<EVP_PKEY>> ParsePrivateKey(std::string_view pem) {
  constexpr char kWhat[] = "the signing key";
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<BIO> bio, ReadOnlyBio(pem, kWhat));
  OsslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, " is not an unencrypted PEM private key"));
  }
  SPOOR_RETURN_IF_ERROR(CheckEd25519(key.get(), kWhat));
  return key;
}

// "ed25519:" + hex of the first 16 bytes of SHA-256(raw public key).
absl::StatusOr<std::string> KeyIdOf(const EVP_PKEY* key) {
  unsigned char raw[kEd25519KeySize];
  size_t raw_size = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(key, raw, &raw_size) != 1 || raw_size != sizeof(raw)) {
    return absl::InternalError("cannot read the raw Ed25519 public key");
  }
  std::string hex = Sha256Hex(std::string_view(reinterpret_cast<const char*>(raw), raw_size));
  if (hex.size() < 32) return absl::InternalError("SHA-256 failed");
  return absl::StrCat("ed25519:", hex.substr(0, 32));
}

std::string SignedMessage(const AlgorithmSignature& s) {
  return absl::StrCat(kAlgorithmSignatureType, "\n", s.manifest_digest, "\n", s.signer, "\n",
                      s.key_id, "\n", s.signed_at, "\n");
}

bool IsKeyId(std::string_view id) {
  constexpr std::string_view kPrefix = "ed25519:";
  if (id.size() != kPrefix.size() + 32 || id.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : id.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::Status CheckSigner(std::string_view signer) {
  if (signer.empty() || signer.size() > kMaxSignerSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("the signer's name must be 1 to ", kMaxSignerSize, " bytes"));
  }
  for (char c : signer) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError("the signer's name must not hold control characters");
    }
  }
  try {
    (void)Json(std::string(signer)).dump();
  } catch (const Json::exception&) {
    return absl::InvalidArgumentError("the signer's name is not valid UTF-8");
  }
  return absl::OkStatus();
}

// True if `signature` is a valid Ed25519 signature by `key` of its message.
absl::StatusOr<bool> Ed25519Verifies(EVP_PKEY* key, const AlgorithmSignature& signature) {
  std::string raw;
  if (!absl::Base64Unescape(signature.signature_base64, &raw) ||
      raw.size() != kEd25519SignatureSize) {
    return false;
  }
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::InternalError("cannot allocate an EVP_MD_CTX");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1) {
    return absl::InternalError("cannot start an Ed25519 verification");
  }
  std::string message = SignedMessage(signature);
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace

absl::StatusOr<SigningKeyPair> GenerateSigningKey() {
  ErrorQueueScope errors;
  OsslPtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return absl::InternalError("cannot generate an Ed25519 key");
  // A secure-memory BIO wipes its buffer when freed.
  OsslPtr<BIO> private_bio(BIO_new(BIO_s_secmem()));
  OsslPtr<BIO> public_bio(BIO_new(BIO_s_mem()));
  if (!private_bio || !public_bio) return absl::InternalError("cannot allocate a memory BIO");
  if (PEM_write_bio_PrivateKey(private_bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1 ||
      PEM_write_bio_PUBKEY(public_bio.get(), key.get()) != 1) {
    return absl::InternalError("cannot PEM-encode the Ed25519 key");
  }
  return SigningKeyPair{BioContents(private_bio.get()), BioContents(public_bio.get())};
}

absl::StatusOr<std::string> SigningKeyId(std::string_view public_pem) {
  ErrorQueueScope errors;
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> key, ParsePublicKey(public_pem, "the public key"));
  return KeyIdOf(key.get());
}

std::string SignatureToJson(const AlgorithmSignature& signature) {
  Json j = {{"type", kAlgorithmSignatureType},  {"manifest_digest", signature.manifest_digest},
            {"signer", signature.signer},       {"key_id", signature.key_id},
            {"signed_at", signature.signed_at}, {"signature", signature.signature_base64}};
  // Replacing bad UTF-8 keeps this total; such a document never verifies.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::StatusOr<AlgorithmSignature> SignatureFromJson(std::string_view json) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("malformed algorithm signature: ", Absl(why)));
  };
  Json j;
  try {
    j = Json::parse(json.begin(), json.end());
  } catch (const Json::exception& e) {
    return bad(absl::StrCat("not valid JSON (", e.what(), ")"));
  }
  if (!j.is_object()) return bad("not a JSON object");
  AlgorithmSignature s;
  std::string type;
  const std::pair<const char*, std::string*> members[] = {{"type", &type},
                                                          {"manifest_digest", &s.manifest_digest},
                                                          {"signer", &s.signer},
                                                          {"key_id", &s.key_id},
                                                          {"signed_at", &s.signed_at},
                                                          {"signature", &s.signature_base64}};
  for (const auto& [key, into] : members) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return bad(absl::StrCat("no string \"", key, "\""));
    *into = it->get<std::string>();
  }
  if (type != kAlgorithmSignatureType) {
    return bad(absl::StrCat("type is not ", kAlgorithmSignatureType));
  }
  if (!CheckDigest(s.manifest_digest).ok()) return bad("manifest_digest is not sha256:<64 hex>");
  if (!IsKeyId(s.key_id)) return bad("key_id is not ed25519:<32 hex>");
  if (!CheckSigner(s.signer).ok())
    return bad("signer is empty, too long or has control characters");
  absl::Time when;
  std::string error;
  if (!absl::ParseTime(kTimeFormat, s.signed_at, &when, &error)) {
    return bad("signed_at is not YYYY-MM-DDTHH:MM:SSZ");
  }
  std::string raw;
  if (!absl::Base64Unescape(s.signature_base64, &raw) || raw.size() != kEd25519SignatureSize) {
    return bad("signature is not the base64 of a 64-byte Ed25519 signature");
  }
  return s;
}

absl::StatusOr<AlgorithmSignature> SignManifest(std::string_view private_pem,
                                                std::string_view signer,
                                                std::string_view manifest_digest, absl::Time now) {
  ErrorQueueScope errors;
  SPOOR_RETURN_IF_ERROR(CheckDigest(manifest_digest));
  SPOOR_RETURN_IF_ERROR(CheckSigner(signer));
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> key, ParsePrivateKey(private_pem));
  AlgorithmSignature s;
  s.manifest_digest = std::string(manifest_digest);
  s.signer = std::string(signer);
  SPOOR_ASSIGN_OR_RETURN(s.key_id, KeyIdOf(key.get()));
  s.signed_at = absl::FormatTime(kTimeFormat, now, absl::UTCTimeZone());

  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::InternalError("cannot allocate an EVP_MD_CTX");
  // Ed25519 hashes internally: no message digest is given (NULL md).
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return absl::InternalError("cannot start an Ed25519 signature");
  }
  std::string message = SignedMessage(s);
  unsigned char raw[kEd25519SignatureSize];
  size_t raw_size = sizeof(raw);
  if (EVP_DigestSign(ctx.get(), raw, &raw_size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      raw_size != sizeof(raw)) {
    return absl::InternalError("Ed25519 signing failed");
  }
  s.signature_base64 =
      absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(raw), raw_size));
  return s;
}

absl::StatusOr<TrustedSigner> LoadTrustedSigner(const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  ErrorQueueScope errors;
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> key,
                         ParsePublicKey(pem, absl::StrCat("trusted signer key ", path)));
  TrustedSigner signer;
  signer.name = std::filesystem::path(path).stem().string();
  signer.public_pem = std::move(pem);
  SPOOR_ASSIGN_OR_RETURN(signer.key_id, KeyIdOf(key.get()));
  return signer;
}

absl::StatusOr<std::vector<TrustedSigner>> LoadTrustedSigners(
    const std::vector<std::string>& paths) {
  std::vector<TrustedSigner> signers;
  for (const std::string& path : paths) {
    SPOOR_ASSIGN_OR_RETURN(TrustedSigner signer, LoadTrustedSigner(path));
    signers.push_back(std::move(signer));
  }
  return signers;
}

absl::StatusOr<TrustedSigner> VerifyAlgorithmSignatures(
    const std::vector<AlgorithmSignature>& signatures, std::string_view manifest_digest,
    const std::vector<TrustedSigner>& trusted) {
  if (signatures.empty()) {
    return absl::FailedPreconditionError(
        "the algorithm is not signed; ask a signer this node trusts to sign the image "
        "before it can run here");
  }
  ErrorQueueScope errors;
  struct Key {
    const TrustedSigner* signer;
    std::string key_id;
    OsslPtr<EVP_PKEY> key;
  };
  std::vector<Key> keys;
  for (const TrustedSigner& t : trusted) {
    SPOOR_ASSIGN_OR_RETURN(
        OsslPtr<EVP_PKEY> key,
        ParsePublicKey(t.public_pem, absl::StrCat("the public key of trusted signer ", t.name)));
    SPOOR_ASSIGN_OR_RETURN(std::string key_id, KeyIdOf(key.get()));
    keys.push_back({&t, std::move(key_id), std::move(key)});
  }
  const std::string digest(manifest_digest);
  const Key* mismatched = nullptr;
  for (const AlgorithmSignature& signature : signatures) {
    for (const Key& k : keys) {
      if (k.key_id != signature.key_id) continue;
      if (signature.manifest_digest == digest) {
        SPOOR_ASSIGN_OR_RETURN(bool valid, Ed25519Verifies(k.key.get(), signature));
        if (valid) {
          TrustedSigner out = *k.signer;
          out.key_id = k.key_id;
          return out;
        }
      }
      if (mismatched == nullptr) mismatched = &k;
    }
  }
  if (mismatched != nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the signature does not match the image (the manifest was altered after signing, or "
        "the signature belongs to another image); signer ",
        mismatched->signer->name, ", key ", mismatched->key_id, ", image ", digest));
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "signed by an unknown signer (key ", signatures.front().key_id,
      "); add the signer's public key to this node's trusted algorithm signers, or ask a signer "
      "the node already trusts to sign the image"));
}

}  // namespace spoor
