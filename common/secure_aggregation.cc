#include "common/secure_aggregation.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/internal/openssl_util.h"
#include "common/pki.h"
#include "common/status.h"

namespace spoor::secagg {
namespace {

using internal::Absl;
using internal::BioContents;
using internal::ErrorQueueScope;
using internal::NoPassphrase;
using internal::OsslPtr;
using internal::ReadOnlyBio;

constexpr char kAnnouncementPrefix[] = "spoor secure aggregation key v1\n";
constexpr char kSeedSalt[] = "spoor secure aggregation v1";
constexpr size_t kSeedSize = 32;
// OpenSSL 3.0's HKDF takes at most 1024 bytes of info; three ids of this size
// plus the separators and two decimal int32s stay well below it.
constexpr size_t kMaxIdSize = 255;
// Mask words produced per AES-CTR call.
constexpr size_t kChunkWords = 4096;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Overwrites a secret held in a std::string when it goes out of scope.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& secret) : secret_(secret) {}
  ~WipeOnExit() { OPENSSL_cleanse(secret_.data(), secret_.size()); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& secret_;
};

// The error never quotes the PEM: it is secret.
absl::StatusOr<OsslPtr<EVP_PKEY>> ParsePrivateKey(std::string_view pem, std::string_view what) {
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<BIO> bio, ReadOnlyBio(pem, what));
  OsslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(what), " is not an unencrypted PEM private key"));
  }
  return key;
}

// Ids go into the HKDF info, NUL-separated, so they must not hold NUL.
absl::Status CheckId(std::string_view id, std::string_view what) {
  if (id.empty() || id.size() > kMaxIdSize || id.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(what), " must be 1 to ", kMaxIdSize, " bytes without NUL characters"));
  }
  return absl::OkStatus();
}

absl::Status CheckScope(const MaskScope& scope) {
  SPOOR_RETURN_IF_ERROR(CheckId(scope.job_id, "the job id"));
  if (scope.round < 0 || scope.attempt < 0) {
    return absl::InvalidArgumentError("the round and attempt must not be negative");
  }
  return absl::OkStatus();
}

std::string SeedInfo(const MaskScope& scope, std::string_view lower_id,
                     std::string_view higher_id) {
  const absl::string_view nul("\0", 1);
  return absl::StrCat(scope.job_id, nul, scope.round, nul, scope.attempt, nul, Absl(lower_id), nul,
                      Absl(higher_id));
}

// seed = HKDF-SHA256(ikm = shared secret, salt = kSeedSalt, info).
absl::Status DeriveSeed(std::string_view shared_secret, const std::string& info,
                        unsigned char (&seed)[kSeedSize]) {
  OsslPtr<EVP_KDF> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return absl::InternalError("OpenSSL has no HKDF");
  OsslPtr<EVP_KDF_CTX> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return absl::InternalError("cannot allocate an EVP_KDF_CTX");
  char digest[] = "SHA256";
  // OSSL_PARAM wants non-const pointers; HKDF only reads them.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(shared_secret.data()),
                                        shared_secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(kSeedSalt),
                                        sizeof(kSeedSalt) - 1),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()),
                                        info.size()),
      OSSL_PARAM_construct_end()};
  if (EVP_KDF_derive(ctx.get(), seed, kSeedSize, params) != 1) {
    return absl::InternalError("HKDF-SHA256 failed");
  }
  return absl::OkStatus();
}

uint64_t LoadLittleEndian64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// mask += PRG(seed) (or -= when !add), element-wise mod 2^64, where PRG is
// the AES-256-CTR keystream (IV 0) read as little-endian uint64 words.
absl::Status ApplyKeystream(const unsigned char (&seed)[kSeedSize], bool add,
                            std::vector<uint64_t>& mask) {
  OsslPtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return absl::InternalError("cannot allocate an EVP_CIPHER_CTX");
  const unsigned char iv[16] = {};
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, seed, iv) != 1) {
    return absl::InternalError("cannot start AES-256-CTR");
  }
  std::vector<unsigned char> stream(std::min(mask.size(), kChunkWords) * 8);
  absl::Status status = absl::OkStatus();
  for (size_t done = 0; done < mask.size();) {
    const size_t words = std::min(kChunkWords, mask.size() - done);
    const int bytes = static_cast<int>(words * 8);
    std::fill(stream.begin(), stream.begin() + bytes, 0);
    int out_len = 0;
    if (EVP_EncryptUpdate(ctx.get(), stream.data(), &out_len, stream.data(), bytes) != 1 ||
        out_len != bytes) {
      status = absl::InternalError("AES-256-CTR failed");
      break;
    }
    for (size_t i = 0; i < words; ++i) {
      const uint64_t word = LoadLittleEndian64(&stream[8 * i]);
      mask[done + i] += add ? word : -word;  // unsigned: wraps mod 2^64
    }
    done += words;
  }
  OPENSSL_cleanse(stream.data(), stream.size());
  return status;
}

absl::Status CheckNodeId(std::string_view node_id) {
  if (node_id.empty() || node_id.find_first_of(std::string_view("\n\0", 2)) != node_id.npos) {
    return absl::InvalidArgumentError("the node id must be non-empty without newline or NUL");
  }
  return absl::OkStatus();
}

std::string AnnouncementMessage(std::string_view node_id, std::string_view public_key) {
  return absl::StrCat(kAnnouncementPrefix, Absl(node_id), "\n",
                      absl::BytesToHexString(Absl(public_key)));
}

absl::Status CheckPublicKeySize(std::string_view public_key) {
  if (public_key.size() != kPublicKeySize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an agreement public key must be ", kPublicKeySize, " bytes, not ", public_key.size()));
  }
  return absl::OkStatus();
}

}  // namespace

// --- AgreementKey ---

void AgreementKey::KeyDeleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

absl::StatusOr<AgreementKey> AgreementKey::FromKey(KeyPtr key) {
  std::string public_key(kPublicKeySize, '\0');
  size_t size = public_key.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(public_key.data()),
                                  &size) != 1 ||
      size != kPublicKeySize) {
    return absl::InternalError("cannot read the raw X25519 public key");
  }
  return AgreementKey(std::move(key), std::move(public_key));
}

absl::StatusOr<AgreementKey> AgreementKey::Generate() {
  ErrorQueueScope errors;
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  if (!key) return absl::InternalError("cannot generate an X25519 key");
  return FromKey(std::move(key));
}

absl::StatusOr<AgreementKey> AgreementKey::FromPrivateBytes(std::string_view raw32) {
  if (raw32.size() != kPublicKeySize) {
    return absl::InvalidArgumentError(absl::StrCat("an X25519 private key must be ", kPublicKeySize,
                                                   " bytes, not ", raw32.size()));
  }
  ErrorQueueScope errors;
  KeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, Bytes(raw32), raw32.size()));
  if (!key) return absl::InternalError("cannot make an X25519 key from raw bytes");
  return FromKey(std::move(key));
}

absl::StatusOr<AgreementKey> AgreementKey::LoadOrCreate(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err != ENOENT) return ErrnoStatus(err, absl::StrCat("cannot read agreement key ", path));
    SPOOR_ASSIGN_OR_RETURN(AgreementKey key, Generate());
    ErrorQueueScope errors;
    // A secure-memory BIO wipes its buffer when freed.
    OsslPtr<BIO> bio(BIO_new(BIO_s_secmem()));
    if (!bio) return absl::InternalError("cannot allocate a memory BIO");
    // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY").
    if (PEM_write_bio_PrivateKey(bio.get(), key.key_.get(), nullptr, nullptr, 0, nullptr,
                                 nullptr) != 1) {
      return absl::InternalError("cannot PEM-encode the X25519 key");
    }
    std::string pem = BioContents(bio.get());
    WipeOnExit wipe(pem);
    SPOOR_RETURN_IF_ERROR(WriteFileAtomically(path, pem, 0600));
    return key;
  }

  absl::Status mode = CheckPrivateFileMode(path);
  if (absl::IsFailedPrecondition(mode)) return absl::PermissionDeniedError(mode.message());
  SPOOR_RETURN_IF_ERROR(mode);
  SPOOR_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  WipeOnExit wipe(pem);
  ErrorQueueScope errors;
  const std::string what = absl::StrCat("agreement key ", path);
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> parsed, ParsePrivateKey(pem, what));
  if (EVP_PKEY_get_id(parsed.get()) != EVP_PKEY_X25519) {
    const char* type = EVP_PKEY_get0_type_name(parsed.get());
    return absl::InvalidArgumentError(absl::StrCat(
        what, " holds a ", type != nullptr ? type : "non-X25519",
        " key, not an X25519 key; move the file away and a new key will be made in its place"));
  }
  return FromKey(KeyPtr(parsed.release()));
}

absl::StatusOr<std::string> AgreementKey::SharedSecret(std::string_view peer_public_key) const {
  SPOOR_RETURN_IF_ERROR(CheckPublicKeySize(peer_public_key));
  ErrorQueueScope errors;
  OsslPtr<EVP_PKEY> peer(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_X25519, nullptr, Bytes(peer_public_key), peer_public_key.size()));
  if (!peer) return absl::InternalError("cannot make an X25519 key from raw bytes");
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  if (!ctx) return absl::InternalError("cannot allocate an EVP_PKEY_CTX");
  if (EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1) {
    return absl::InternalError("cannot start an X25519 key agreement");
  }
  std::string secret(kPublicKeySize, '\0');
  size_t size = secret.size();
  // OpenSSL's X25519 fails the derivation when the result is all zeros,
  // which happens exactly for low-order peer points; check it ourselves too.
  static const unsigned char kZeros[kPublicKeySize] = {};
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &size) != 1 ||
      size != kPublicKeySize || CRYPTO_memcmp(secret.data(), kZeros, kPublicKeySize) == 0) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return absl::InvalidArgumentError(
        "the peer's agreement public key is a low-order point: it gives no shared secret");
  }
  return secret;
}

// --- Key announcements ---

absl::StatusOr<std::string> SignKeyAnnouncement(std::string_view tls_private_key_pem,
                                                std::string_view node_id,
                                                std::string_view public_key) {
  SPOOR_RETURN_IF_ERROR(CheckNodeId(node_id));
  SPOOR_RETURN_IF_ERROR(CheckPublicKeySize(public_key));
  ErrorQueueScope errors;
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> key,
                         ParsePrivateKey(tls_private_key_pem, "the node's TLS private key"));
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_EC) {
    return absl::InvalidArgumentError("the node's TLS private key is not an ECDSA key");
  }
  return internal::SignSha256(key.get(), AnnouncementMessage(node_id, public_key));
}

absl::Status VerifyKeyAnnouncement(std::string_view ca_pem, std::string_view certificate_pem,
                                   std::string_view node_id, std::string_view public_key,
                                   std::string_view signature, absl::Time now) {
  const std::string shown_id = absl::CHexEscape(Absl(node_id));
  auto deny = [&shown_id](absl::string_view why) {
    return absl::PermissionDeniedError(
        absl::StrCat("key announcement of node '", shown_id, "' rejected: ", why));
  };
  if (!CheckNodeId(node_id).ok()) return deny("the node id is empty or holds a newline or NUL");
  if (public_key.size() != kPublicKeySize) {
    return deny(absl::StrCat("the agreement public key is ", public_key.size(), " bytes, not ",
                             kPublicKeySize));
  }
  absl::StatusOr<Identity> identity = IdentityFromCertificate(certificate_pem);
  if (!identity.ok()) {
    return deny(
        absl::StrCat("its certificate does not name a party: ", identity.status().message()));
  }
  absl::Status chain = VerifyCertificate(ca_pem, certificate_pem, now);
  // The certificate parsed above, so INVALID_ARGUMENT here is about the CA.
  if (absl::IsInvalidArgument(chain) || absl::IsInternal(chain)) return chain;
  if (!chain.ok()) {
    return deny(absl::StrCat("its certificate is not one of this consortium's or not valid now (",
                             chain.message(), ")"));
  }
  if (identity->role != Role::kNode) {
    return deny(
        absl::StrCat("its certificate is for role ", Absl(RoleName(identity->role)), ", not node"));
  }
  if (identity->name != node_id) {
    return deny(absl::StrCat("its certificate is for '", absl::CHexEscape(identity->name), "'"));
  }

  ErrorQueueScope errors;
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<BIO> bio, ReadOnlyBio(certificate_pem, "the certificate"));
  OsslPtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!cert) return deny("its certificate does not parse");
  EVP_PKEY* cert_key = X509_get0_pubkey(cert.get());  // owned by cert
  if (cert_key == nullptr || EVP_PKEY_get_id(cert_key) != EVP_PKEY_EC) {
    return deny("its certificate does not hold an ECDSA key");
  }
  SPOOR_ASSIGN_OR_RETURN(
      bool verified,
      internal::VerifySha256(cert_key, AnnouncementMessage(node_id, public_key), signature));
  if (!verified) {
    return deny(
        "the signature is not its certificate key's signature of this node id and agreement key");
  }
  return absl::OkStatus();
}

// --- Masks ---

absl::StatusOr<std::vector<uint64_t>> PairwiseMask(const AgreementKey& self_key,
                                                   std::string_view self_id,
                                                   const std::vector<Peer>& peers,
                                                   const MaskScope& scope, size_t length) {
  SPOOR_RETURN_IF_ERROR(CheckScope(scope));
  SPOOR_RETURN_IF_ERROR(CheckId(self_id, "this node's id"));
  if (length > std::numeric_limits<size_t>::max() / 8) {
    return absl::InvalidArgumentError("the mask length is too large");
  }
  // Check the whole roster before any cryptography.
  std::set<std::string_view> seen;
  std::vector<const Peer*> others;
  for (const Peer& peer : peers) {
    SPOOR_RETURN_IF_ERROR(CheckId(peer.node_id, "a peer's node id"));
    if (!seen.insert(peer.node_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer '", absl::CHexEscape(peer.node_id), "' is listed twice"));
    }
    if (peer.node_id == self_id) {
      if (peer.public_key != self_key.public_key()) {
        return absl::InvalidArgumentError(
            "the peers list this node with an agreement key that is not its own");
      }
      continue;
    }
    others.push_back(&peer);
  }

  std::vector<uint64_t> mask(length, 0);
  for (const Peer* peer : others) {
    absl::StatusOr<std::string> secret = self_key.SharedSecret(peer->public_key);
    if (!secret.ok()) {
      return absl::Status(secret.status().code(),
                          absl::StrCat("peer '", absl::CHexEscape(peer->node_id),
                                       "': ", secret.status().message()));
    }
    WipeOnExit wipe_secret(*secret);
    const bool self_is_lower = self_id < std::string_view(peer->node_id);
    const std::string info = self_is_lower ? SeedInfo(scope, self_id, peer->node_id)
                                           : SeedInfo(scope, peer->node_id, self_id);
    unsigned char seed[kSeedSize];
    absl::Status status = DeriveSeed(*secret, info, seed);
    if (status.ok()) status = ApplyKeystream(seed, self_is_lower, mask);
    OPENSSL_cleanse(seed, sizeof(seed));
    SPOOR_RETURN_IF_ERROR(status);
  }
  return mask;
}

// --- Fixed point ---

absl::StatusOr<FixedPointCodec> FixedPointCodec::Create(int fraction_bits, int participants) {
  if (fraction_bits < 0 || fraction_bits > 52) {
    return absl::InvalidArgumentError(
        absl::StrCat("fraction_bits must be between 0 and 52, not ", fraction_bits));
  }
  if (participants < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("participants must be at least 1, not ", participants));
  }
  return FixedPointCodec(fraction_bits, participants);
}

double FixedPointCodec::bound() const {
  return std::ldexp(1.0, 63 - fraction_bits_) / participants_;
}

absl::StatusOr<uint64_t> FixedPointCodec::Encode(double x) const {
  if (!std::isfinite(x)) {
    return absl::InvalidArgumentError("a value to aggregate is NaN or infinite");
  }
  auto out_of_range = [this] {
    return absl::OutOfRangeError(absl::StrFormat(
        "a value to aggregate is outside the fixed-point range: with %d fraction bits and %d "
        "participants every |value| must be below %g; use fewer fraction bits (each one fewer "
        "doubles the range)",
        fraction_bits_, participants_, bound()));
  };
  if (std::fabs(x) >= bound()) return out_of_range();
  // Exact: scaling by a power of two; |scaled| < 2^63, so the cast is defined.
  const double scaled = std::round(std::ldexp(x, fraction_bits_));
  const int64_t encoded = static_cast<int64_t>(scaled);
  // Rounding can reach 2^63 / participants; keep every sum of
  // `participants` values within int64.
  const uint64_t max_abs = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) /
                           static_cast<uint64_t>(participants_);
  const uint64_t magnitude =
      encoded < 0 ? -static_cast<uint64_t>(encoded) : static_cast<uint64_t>(encoded);
  if (magnitude > max_abs) return out_of_range();
  return static_cast<uint64_t>(encoded);
}

double FixedPointCodec::Decode(uint64_t v) const {
  return std::ldexp(static_cast<double>(static_cast<int64_t>(v)), -fraction_bits_);
}

absl::StatusOr<std::vector<uint64_t>> MaskValues(const std::vector<double>& values,
                                                 const FixedPointCodec& codec,
                                                 const std::vector<uint64_t>& mask) {
  if (values.size() != mask.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "there are ", values.size(), " values but the mask has ", mask.size(), " elements"));
  }
  std::vector<uint64_t> masked(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    absl::StatusOr<uint64_t> encoded = codec.Encode(values[i]);
    if (!encoded.ok()) {
      return absl::Status(encoded.status().code(),
                          absl::StrCat("element ", i, ": ", encoded.status().message()));
    }
    masked[i] = *encoded + mask[i];
  }
  return masked;
}

absl::StatusOr<std::vector<double>> UnmaskSum(const std::vector<std::vector<uint64_t>>& masked,
                                              const FixedPointCodec& codec) {
  if (masked.empty()) return absl::InvalidArgumentError("there are no masked vectors to sum");
  if (masked.size() > static_cast<size_t>(codec.participants())) {
    return absl::InvalidArgumentError(
        absl::StrCat("there are ", masked.size(), " masked vectors but the codec allows ",
                     codec.participants(), " participants; the sum could wrap"));
  }
  const size_t length = masked.front().size();
  std::vector<uint64_t> sum(length, 0);
  for (size_t k = 0; k < masked.size(); ++k) {
    if (masked[k].size() != length) {
      return absl::InvalidArgumentError(absl::StrCat("masked vector ", k, " has ", masked[k].size(),
                                                     " elements, vector 0 has ", length));
    }
    for (size_t i = 0; i < length; ++i) sum[i] += masked[k][i];
  }
  std::vector<double> decoded(length);
  for (size_t i = 0; i < length; ++i) decoded[i] = codec.Decode(sum[i]);
  return decoded;
}

}  // namespace spoor::secagg
