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
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string_view>

#include "absl/strings/string_view.h"

namespace spoor::internal {

// One deleter for every OpenSSL type we own, so each owner is a plain
// OsslPtr<T> and a missing overload is a compile error rather than a leak.
struct OpenSslDeleter {
  // ASN1_IA5STRING and ASN1_OCTET_STRING are this same type.
  void operator()(ASN1_STRING* p) const { ASN1_STRING_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
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

}  // namespace spoor::internal

#endif  // SPOOR_COMMON_INTERNAL_OPENSSL_UTIL_H_
