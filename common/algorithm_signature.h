// Ed25519 signatures over an algorithm image's manifest digest.
//
// A signature document is one JSON object:
//   {"type":"spoor-algorithm-signature/v1","manifest_digest":"sha256:...",
//    "signer":"Alice Example (UMC Utrecht)","key_id":"ed25519:<32 hex>",
//    "signed_at":"2026-11-23T09:00:00Z","signature":"<base64>"}
// The signature is Ed25519 over the UTF-8 text
//   "spoor-algorithm-signature/v1\n" + manifest_digest + "\n" + signer + "\n"
//   + key_id + "\n" + signed_at + "\n"
// so the signer's stated identity and time are covered as well as the image.
// The manifest digest covers the config, the layers and the algorithm's
// annotations (common/oci_image.h), so any change to the image breaks the
// signature. Documents are stored in the image's index.json
// (AddImageSignature / ImageSignatures in common/oci_image.h).
//
// A key is identified by "ed25519:" + the hex of the first 16 bytes of
// SHA-256 over the raw 32-byte public key.
//
// Private keys are PEM (PKCS#8, unencrypted); callers store them with mode
// 0600 (WriteFileAtomically(path, pem, 0600), CheckPrivateFileMode in
// common/file_util.h). No error message ever quotes a private key.
//
// Thread-safe: no shared state.
#ifndef SPOOR_COMMON_ALGORITHM_SIGNATURE_H_
#define SPOOR_COMMON_ALGORITHM_SIGNATURE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace spoor {

inline constexpr char kAlgorithmSignatureType[] = "spoor-algorithm-signature/v1";

struct SigningKeyPair {
  std::string private_pem;  // PKCS#8 "BEGIN PRIVATE KEY"; secret
  std::string public_pem;   // SubjectPublicKeyInfo "BEGIN PUBLIC KEY"
};

// A fresh Ed25519 key pair. INTERNAL only if OpenSSL fails.
absl::StatusOr<SigningKeyPair> GenerateSigningKey();

// "ed25519:<hex>" for an Ed25519 public key PEM. INVALID_ARGUMENT if the PEM
// does not parse or holds another kind of key.
absl::StatusOr<std::string> SigningKeyId(std::string_view public_pem);

struct AlgorithmSignature {
  std::string manifest_digest;   // "sha256:<64 hex>"
  std::string signer;            // who signed, as they chose to be named
  std::string key_id;            // "ed25519:<32 hex>"
  std::string signed_at;         // "YYYY-MM-DDTHH:MM:SSZ" (UTC)
  std::string signature_base64;  // 64-byte Ed25519 signature, standard base64
};

// The document's JSON (one line, keys sorted).
std::string SignatureToJson(const AlgorithmSignature& signature);

// Parses a document. INVALID_ARGUMENT if it is not JSON, its type is not
// spoor-algorithm-signature/v1, a member is missing or not a string, the
// digest or key id is malformed, or the signature is not base64 of 64 bytes.
// Unknown members are ignored.
absl::StatusOr<AlgorithmSignature> SignatureFromJson(std::string_view json);

// Signs `manifest_digest` with the Ed25519 private key `private_pem`, naming
// `signer` and the time `now` (to the second, UTC). INVALID_ARGUMENT if the
// key does not parse or is not Ed25519, the digest is malformed, or `signer`
// is empty, longer than 256 bytes, or holds a control character.
absl::StatusOr<AlgorithmSignature> SignManifest(std::string_view private_pem,
                                                std::string_view signer,
                                                std::string_view manifest_digest, absl::Time now);

// A signer a node trusts to vouch for algorithms.
struct TrustedSigner {
  std::string name;        // for messages and audit records
  std::string public_pem;  // Ed25519 public key
  std::string key_id;      // SigningKeyId(public_pem)
};

// Loads a trusted signer from an Ed25519 public key PEM file; the name is the
// file's stem ("alice.pem" -> "alice"), which the caller may replace.
// NOT_FOUND / PERMISSION_DENIED if it cannot be read; INVALID_ARGUMENT naming
// the file if it is not an Ed25519 public key.
absl::StatusOr<TrustedSigner> LoadTrustedSigner(const std::string& path);

// LoadTrustedSigner for each of `paths` (a config's trusted_signers); the
// first error.
absl::StatusOr<std::vector<TrustedSigner>> LoadTrustedSigners(
    const std::vector<std::string>& paths);

// Checks that one of `signatures` is a valid signature of `manifest_digest`
// by one of `trusted` (matched by key id, recomputed from each trusted
// public key, so a stale TrustedSigner::key_id cannot mislead). Returns the
// trusted signer of the first valid signature, with key_id filled in.
//   FAILED_PRECONDITION "the algorithm is not signed ..." if `signatures` is
//     empty;
//   PERMISSION_DENIED "signed by an unknown signer (key ed25519:...) ..." if
//     no signature's key is trusted;
//   PERMISSION_DENIED "the signature does not match the image (the manifest
//     was altered after signing, or the signature belongs to another image)"
//     if a trusted key signed, but another digest or the Ed25519 check fails;
//   INVALID_ARGUMENT if a trusted signer's public key does not parse.
absl::StatusOr<TrustedSigner> VerifyAlgorithmSignatures(
    const std::vector<AlgorithmSignature>& signatures, std::string_view manifest_digest,
    const std::vector<TrustedSigner>& trusted);

}  // namespace spoor

#endif  // SPOOR_COMMON_ALGORITHM_SIGNATURE_H_
