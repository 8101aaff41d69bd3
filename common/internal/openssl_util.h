// What every file of ours that calls OpenSSL needs: owning pointers for the
// OpenSSL types we hold, and a guard that keeps the thread's error queue
// clean. Internal to spoor::common.
#ifndef SPOOR_COMMON_INTERNAL_OPENSSL_UTIL_H_
#define SPOOR_COMMON_INTERNAL_OPENSSL_UTIL_H_

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <climits>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace spoor::internal {

// One deleter for every OpenSSL type we own, so each owner is a plain
// OsslPtr<T> and a missing overload is a compile error rather than a leak.
struct OpenSslDeleter {
  // ASN1_IA5STRING and ASN1_OCTET_STRING are this same type.
  void operator()(ASN1_STRING* p) const { ASN1_STRING_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(GENERAL_NAME* p) const { GENERAL_NAME_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(X509_REVOKED* p) const { X509_REVOKED_free(p); }
  void operator()(X509_NAME* p) const { X509_NAME_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
  void operator()(char* p) const { OPENSSL_free(p); }
};

template <typename T>
using OsslPtr = std::unique_ptr<T, OpenSslDeleter>;

// Debian's Abseil is built with its own string_view, distinct from std's.
inline absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Clears the thread's OpenSSL error queue on entry and exit, so an error left
// by an earlier unrelated call never shows up in one of our messages, and ours
// never leak into someone else's.
class ErrorQueueScope {
 public:
  ErrorQueueScope() { ERR_clear_error(); }
  ~ErrorQueueScope() { ERR_clear_error(); }
  ErrorQueueScope(const ErrorQueueScope&) = delete;
  ErrorQueueScope& operator=(const ErrorQueueScope&) = delete;
};

// Never prompt on the terminal for a passphrase (OpenSSL's default callback
// does): an encrypted key is simply a key we cannot read. Pass it to every
// PEM_read_bio_* call.
inline int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return 0;
}

// A read-only memory BIO over `data` (which must outlive it).
// INVALID_ARGUMENT "<what> is empty" / "<what> is too large"; the message
// never quotes `data` (it may be a private key).
inline absl::StatusOr<OsslPtr<BIO>> ReadOnlyBio(std::string_view data, std::string_view what) {
  if (data.empty()) return absl::InvalidArgumentError(absl::StrCat(Absl(what), " is empty"));
  if (data.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(what), " is too large"));
  }
  OsslPtr<BIO> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return absl::InternalError("cannot allocate a memory BIO");
  return bio;
}

// What a memory BIO holds.
inline std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int): OpenSSL's type.
  if (len <= 0 || data == nullptr) return std::string();
  return std::string(data, static_cast<size_t>(len));
}

// The SHA-256 signature of `message` by `key` (DER for ECDSA). INTERNAL when
// OpenSSL fails.
inline absl::StatusOr<std::string> SignSha256(EVP_PKEY* key, std::string_view message) {
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::InternalError("cannot allocate an EVP_MD_CTX");
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return absl::InternalError("cannot start a SHA-256 signature");
  }
  size_t size = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &size, data, message.size()) != 1) {
    return absl::InternalError("cannot size a SHA-256 signature");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, data,
                     message.size()) != 1) {
    return absl::InternalError("SHA-256 signing failed");
  }
  signature.resize(size);
  return signature;
}

// Whether `signature` is `key`'s SHA-256 signature of `message`. INTERNAL
// when OpenSSL cannot start the verification.
inline absl::StatusOr<bool> VerifySha256(EVP_PKEY* key, std::string_view message,
                                         std::string_view signature) {
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::InternalError("cannot allocate an EVP_MD_CTX");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return absl::InternalError("cannot start a SHA-256 verification");
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace spoor::internal

#endif  // SPOOR_COMMON_INTERNAL_OPENSSL_UTIL_H_
