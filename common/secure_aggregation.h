// The cryptographic core of secure aggregation: pairwise masks after
// Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving
// Machine Learning", CCS 2017 (section 4, the pairwise-mask layer only: no
// secret sharing of seeds, no double masking, so no recovery from dropouts).
//
// Who holds what. Every node holds an X25519 key-agreement key (AgreementKey,
// kept in a 0600 file) and its consortium TLS certificate and key. It
// announces its agreement public key signed with its TLS key
// (SignKeyAnnouncement); the coordinator only relays these announcements, and
// every node checks each peer's announcement against the consortium CA
// (VerifyKeyAnnouncement) before using the key, so the coordinator cannot slip
// in keys of its own. Any two nodes i and j then derive the same seed s_ij
// from their X25519 shared secret, bound to the job, round and attempt
// (MaskScope). Node i adds PRG(s_ij) to its fixed-point encoded vector for
// every peer j that sorts after it and subtracts it for every peer that sorts
// before it (PairwiseMask, MaskValues), all mod 2^64. Each mask word appears
// once with + and once with -, so the masks cancel in the sum of all
// participants (UnmaskSum) and the coordinator learns the sum and nothing
// else: without a node's private key each masked vector is uniformly random
// in Z_(2^64)^n. If one participant's vector is missing, its pairwise masks
// with every other participant stay in the sum, which is then as random as
// any single masked vector; the round must be retried as a new attempt (a new
// MaskScope, hence fresh masks). A scope must never be used for two different
// participant sets or inputs: two vectors a node masks with the same scope
// differ by exactly the difference of its inputs. Security is against an
// honest-but-curious coordinator; a node can still corrupt the sum with a
// wrong input, and the sum itself is disclosed, so disclosure control must
// judge the sum.
//
// Fixed point. Values are encoded as round(x * 2^fraction_bits) in Z_(2^64),
// read as two's complement. More fraction bits mean finer resolution and a
// smaller range: the sum of `participants` values must stay below 2^63 in
// magnitude, so |x| < 2^(63 - fraction_bits) / participants. With 32
// fraction bits the resolution is 2^-32 = 2.3e-10 and |x| < 2^31 /
// participants (about 7e8 for 3 participants). A decoded sum keeps its full
// precision while |sum| * 2^fraction_bits < 2^53 (a double's mantissa).
//
// Thread-safety: the free functions are thread-safe. AgreementKey is
// thread-compatible: its const methods may be called concurrently.
#ifndef SPOOR_COMMON_SECURE_AGGREGATION_H_
#define SPOOR_COMMON_SECURE_AGGREGATION_H_

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace spoor::secagg {

// Size of a raw X25519 public key, private key and shared secret.
inline constexpr size_t kPublicKeySize = 32;

// A node's X25519 key-agreement key. Move-only (it owns the private key; a
// moved-from key may only be destroyed or assigned to). Const methods are
// thread-safe.
class AgreementKey {
 public:
  // A fresh random key. INTERNAL if OpenSSL cannot make one.
  static absl::StatusOr<AgreementKey> Generate();

  // The key whose raw private bytes (RFC 7748 scalar) are `raw32`.
  // INVALID_ARGUMENT if `raw32` is not 32 bytes.
  static absl::StatusOr<AgreementKey> FromPrivateBytes(std::string_view raw32);

  // Loads the PEM PKCS#8 X25519 private key at `path`, or, when there is no
  // file there, generates one and writes it atomically with mode 0600 (the
  // directory must exist). Errors: PERMISSION_DENIED naming the file and
  // "chmod 600" when group or others have any access to it or it is not a
  // regular file; INVALID_ARGUMENT if it is not an unencrypted PEM X25519
  // private key; NOT_FOUND / PERMISSION_DENIED / INTERNAL from the file
  // system (see ErrnoStatus). Two processes creating the same file at the same
  // moment may end up with different keys: give each node its own file.
  static absl::StatusOr<AgreementKey> LoadOrCreate(const std::string& path);

  AgreementKey(AgreementKey&&) = default;
  AgreementKey& operator=(AgreementKey&&) = default;

  // The 32 raw public key bytes (RFC 7748 u-coordinate).
  const std::string& public_key() const { return public_key_; }

  // The 32-byte X25519 shared secret with a peer's raw public key.
  // INVALID_ARGUMENT if the peer key is not 32 bytes or is a low-order point
  // (the secret would be all zeros, which an attacker controls).
  absl::StatusOr<std::string> SharedSecret(std::string_view peer_public_key) const;

 private:
  struct KeyDeleter {
    void operator()(EVP_PKEY* key) const;
  };
  using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

  static absl::StatusOr<AgreementKey> FromKey(KeyPtr key);
  AgreementKey(KeyPtr key, std::string public_key)
      : key_(std::move(key)), public_key_(std::move(public_key)) {}

  KeyPtr key_;  // never null
  std::string public_key_;
};

// The message a node signs so that peers know an agreement key belongs to it:
// "spoor secure aggregation key v1\n" + node_id + "\n" + hex(public_key).
//
// Signs it with the node's TLS private key (ECDSA P-256, PEM PKCS#8, as
// IssueCertificate makes) using SHA-256, and returns the DER signature.
// INVALID_ARGUMENT if the key does not parse or is not an EC key, if node_id
// is empty or holds a newline or NUL, or if public_key is not 32 bytes. The
// error never quotes the private key.
absl::StatusOr<std::string> SignKeyAnnouncement(std::string_view tls_private_key_pem,
                                                std::string_view node_id,
                                                std::string_view public_key);

// OK when `certificate_pem` was issued by `ca_pem` and is valid at `now`
// (VerifyCertificate), its subject has role node and CN == node_id
// (IdentityFromCertificate), and `signature` is its key's signature of the
// message above for `node_id` and `public_key`. PERMISSION_DENIED saying
// which check failed (including a certificate that does not parse and a
// public key that is not 32 bytes); INVALID_ARGUMENT if `ca_pem` does not
// parse. Messages name node ids, never key or signature bytes.
absl::Status VerifyKeyAnnouncement(std::string_view ca_pem, std::string_view certificate_pem,
                                   std::string_view node_id, std::string_view public_key,
                                   std::string_view signature, absl::Time now);

// What makes masks fresh: a new scope for every round and every attempt of a
// round. job_id must be 1 to 255 bytes without NUL; round and attempt must
// not be negative.
struct MaskScope {
  std::string job_id;
  int32_t round = 0;
  int32_t attempt = 0;
};

// A participant as the node knows it: its id (the CN of its certificate) and
// its verified agreement public key.
struct Peer {
  std::string node_id;
  std::string public_key;  // 32 raw bytes
};

// The node's mask for `scope`: the element-wise sum mod 2^64 over peers j of
// +PRG(seed_ij) when self_id < node_id of j (byte-wise string comparison) and
// -PRG(seed_ij) otherwise, `length` elements, where
//   seed_ij = HKDF-SHA256(ikm = X25519 shared secret,
//                         salt = "spoor secure aggregation v1",
//                         info = job_id '\0' round '\0' attempt '\0'
//                                lower_id '\0' higher_id) -> 32 bytes
// (round and attempt in decimal) and PRG(seed) is the AES-256-CTR keystream
// (key = seed, IV = 0) read as little-endian uint64 words. The masks of all
// participants of one scope sum to zero mod 2^64; peer order does not matter.
//
// `peers` are the other participants; an entry with self_id is skipped if
// its key is self_key's public key. With no other participant the mask is
// all zeros (the sum of one participant is its value).
//
// INVALID_ARGUMENT on an id (self, peer or job) that is empty, longer than
// 255 bytes or holds NUL; duplicate peer ids; an entry for self_id with
// another key; a bad peer key (see SharedSecret, the message names the peer);
// a negative round or attempt; or a length whose byte size overflows.
absl::StatusOr<std::vector<uint64_t>> PairwiseMask(const AgreementKey& self_key,
                                                   std::string_view self_id,
                                                   const std::vector<Peer>& peers,
                                                   const MaskScope& scope, size_t length);

// Fixed point in Z_(2^64): x -> round(x * 2^fraction_bits) as two's
// complement int64. Copyable; thread-safe.
class FixedPointCodec {
 public:
  // INVALID_ARGUMENT unless fraction_bits is in [0, 52] and participants >= 1.
  static absl::StatusOr<FixedPointCodec> Create(int fraction_bits, int participants);

  int fraction_bits() const { return fraction_bits_; }
  int participants() const { return participants_; }

  // 2^(63 - fraction_bits) / participants: every |x| below it encodes, and a
  // sum of `participants` encoded values cannot wrap.
  double bound() const;

  // INVALID_ARGUMENT for NaN or infinity; OUT_OF_RANGE when |x| >= bound()
  // (or rounds onto it), saying the bound, the fraction bits and to use fewer
  // fraction bits. Messages never quote x.
  absl::StatusOr<uint64_t> Encode(double x) const;

  // static_cast<int64_t>(v) * 2^-fraction_bits.
  double Decode(uint64_t v) const;

 private:
  FixedPointCodec(int fraction_bits, int participants)
      : fraction_bits_(fraction_bits), participants_(participants) {}

  int fraction_bits_;
  int participants_;
};

// Encode(values[i]) + mask[i] mod 2^64 for every i. INVALID_ARGUMENT if the
// sizes differ; Encode's errors (naming the element index, not its value).
absl::StatusOr<std::vector<uint64_t>> MaskValues(const std::vector<double>& values,
                                                 const FixedPointCodec& codec,
                                                 const std::vector<uint64_t>& mask);

// The element-wise sum mod 2^64 of every participant's masked vector,
// decoded. Meaningful only when `masked` holds the vectors of every
// participant of one scope. INVALID_ARGUMENT if there are none, if their
// lengths differ, or if there are more than codec.participants() (the sum
// could wrap).
absl::StatusOr<std::vector<double>> UnmaskSum(const std::vector<std::vector<uint64_t>>& masked,
                                              const FixedPointCodec& codec);

}  // namespace spoor::secagg

#endif  // SPOOR_COMMON_SECURE_AGGREGATION_H_
