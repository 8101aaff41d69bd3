#include "common/pki.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <climits>
#include <ctime>
#include <initializer_list>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/internal/openssl_util.h"
#include "common/status.h"

namespace spoor {
namespace {

using internal::Absl;
using internal::BioContents;
using internal::ErrorQueueScope;
using internal::NoPassphrase;
using internal::OsslPtr;
using internal::ReadOnlyBio;

// Drains the queue: the first entry is usually the root cause, later ones add
// context, so all of them go into the message.
std::string DrainOpenSslErrors() {
  std::string out;
  unsigned long code;  // NOLINT(runtime/int): OpenSSL's type.
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("no OpenSSL error queued") : out;
}

absl::Status OpenSslError(absl::StatusCode code, absl::string_view what) {
  return absl::Status(code, absl::StrCat(what, ": ", DrainOpenSslErrors()));
}

absl::Status OpenSslInternal(absl::string_view what) {
  return OpenSslError(absl::StatusCode::kInternal, what);
}

absl::StatusOr<OsslPtr<X509>> ParseCertificate(std::string_view pem, absl::string_view what) {
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<BIO> bio,
                         ReadOnlyBio(pem, std::string_view(what.data(), what.size())));
  OsslPtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!cert) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat(what, " is not a PEM certificate"));
  }
  return cert;
}

// The error never quotes the PEM: it is secret.
absl::StatusOr<OsslPtr<EVP_PKEY>> ParsePrivateKey(std::string_view pem, absl::string_view what) {
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<BIO> bio,
                         ReadOnlyBio(pem, std::string_view(what.data(), what.size())));
  OsslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat(what, " is not an unencrypted PEM private key"));
  }
  return key;
}

absl::StatusOr<std::string> CertificateToPem(X509* cert) {
  OsslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslInternal("cannot allocate a memory BIO");
  if (PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslInternal("cannot PEM-encode the certificate");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  // A secure-memory BIO wipes its buffer when freed, so no copy of the key
  // lingers in freed heap beyond the string we hand back.
  OsslPtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio) return OpenSslInternal("cannot allocate a memory BIO");
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY").
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslInternal("cannot PEM-encode the private key");
  }
  return BioContents(bio.get());
}

absl::StatusOr<OsslPtr<EVP_PKEY>> GenerateKey() {
  OsslPtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpenSslInternal("cannot generate an ECDSA P-256 key");
  return key;
}

// Rejects text that cannot go into a subject: an embedded NUL is the classic
// way to make "evil\0.good" display as something it is not.
absl::Status CheckSubjectText(std::string_view value, absl::string_view field) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("certificate ", field, " must not be empty"));
  }
  if (value.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate ", field, " must not contain a NUL character"));
  }
  return absl::OkStatus();
}

struct NameEntry {
  int nid;
  std::string_view value;
};

absl::StatusOr<OsslPtr<X509_NAME>> BuildName(std::initializer_list<NameEntry> entries) {
  OsslPtr<X509_NAME> name(X509_NAME_new());
  if (!name) return OpenSslInternal("cannot allocate an X509_NAME");
  for (const NameEntry& entry : entries) {
    // OpenSSL enforces the X.520 length bounds (64 characters for CN, O and
    // OU) and UTF-8 validity here, so a failure is the caller's input.
    if (entry.value.size() > static_cast<size_t>(INT_MAX) ||
        X509_NAME_add_entry_by_NID(name.get(), entry.nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(entry.value.data()),
                                   static_cast<int>(entry.value.size()), -1, 0) != 1) {
      return OpenSslError(
          absl::StatusCode::kInvalidArgument,
          absl::StrCat("cannot put ", OBJ_nid2sn(entry.nid), " '",
                       absl::CHexEscape(Absl(entry.value)), "' in a certificate subject"));
    }
  }
  return name;
}

absl::StatusOr<OsslPtr<BIGNUM>> RandomSerial() {
  OsslPtr<BIGNUM> serial(BN_new());
  if (!serial) return OpenSslInternal("cannot allocate a BIGNUM");
  // Top bit forced to one: exactly 128 random-ish bits, never zero, and
  // BIGNUMs from BN_rand are non-negative, so the serial is positive and its
  // DER form (17 octets at most) is within RFC 5280's 20.
  if (BN_rand(serial.get(), 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1) {
    return OpenSslInternal("cannot generate a random serial number");
  }
  return serial;
}

absl::Status SetTime(ASN1_TIME* field, absl::Time t, absl::string_view what) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture() ||
      ASN1_TIME_set(field, absl::ToTimeT(t)) == nullptr) {
    return OpenSslError(
        absl::StatusCode::kInvalidArgument,
        absl::StrCat("certificate ", what, " ", absl::FormatTime(t), " cannot be represented"));
  }
  return absl::OkStatus();
}

// A certificate with everything but extensions and signature: version 3,
// random serial, names, validity window and the subject's public key.
absl::StatusOr<OsslPtr<X509>> NewCertificate(EVP_PKEY* subject_key, const X509_NAME* subject,
                                             const X509_NAME* issuer, absl::Time not_before,
                                             absl::Time not_after) {
  OsslPtr<X509> cert(X509_new());
  if (!cert) return OpenSslInternal("cannot allocate an X509");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpenSslInternal("cannot set the certificate version");
  }
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<BIGNUM> serial, RandomSerial());
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpenSslInternal("cannot set the certificate serial number");
  }
  if (X509_set_subject_name(cert.get(), subject) != 1 ||
      X509_set_issuer_name(cert.get(), issuer) != 1) {
    return OpenSslInternal("cannot set the certificate subject or issuer");
  }
  SPOOR_RETURN_IF_ERROR(SetTime(X509_getm_notBefore(cert.get()), not_before, "notBefore"));
  SPOOR_RETURN_IF_ERROR(SetTime(X509_getm_notAfter(cert.get()), not_after, "notAfter"));
  if (X509_set_pubkey(cert.get(), subject_key) != 1) {
    return OpenSslInternal("cannot set the certificate public key");
  }
  return cert;
}

// Upper-case hex without leading zeros ("0" for zero), as `openssl x509
// -serial` prints it.
absl::StatusOr<std::string> SerialHex(const ASN1_INTEGER* serial) {
  OsslPtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return OpenSslError(absl::StatusCode::kInvalidArgument, "malformed serial number");
  OsslPtr<char> hex(BN_bn2hex(bn.get()));
  if (!hex) return OpenSslInternal("cannot print a serial number");
  return std::string(hex.get());
}

absl::StatusOr<OsslPtr<ASN1_INTEGER>> SerialFromHex(const std::string& hex) {
  bool valid = !hex.empty() && hex.size() <= 40;
  for (char c : hex) valid = valid && std::isxdigit(static_cast<unsigned char>(c));
  if (!valid) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", hex, "' is not a certificate serial number (1-40 hex digits)"));
  }
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) == 0) return OpenSslInternal("cannot parse a serial number");
  OsslPtr<BIGNUM> bn(raw);
  OsslPtr<ASN1_INTEGER> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return OpenSslInternal("cannot encode a serial number");
  return serial;
}

absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  // A NULL conf is enough: every value is a literal, with no @section refs.
  OsslPtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext) {
    return OpenSslInternal(absl::StrCat("cannot build the ", OBJ_nid2sn(nid), " extension"));
  }
  // X509_add_ext copies the extension; ours is freed by `ext`.
  if (X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslInternal(absl::StrCat("cannot add the ", OBJ_nid2sn(nid), " extension"));
  }
  return absl::OkStatus();
}

absl::Status Sign(X509* cert, EVP_PKEY* key) {
  // X509_sign returns the signature length, 0 on failure.
  if (X509_sign(cert, key, EVP_sha256()) <= 0) {
    return OpenSslInternal("cannot sign the certificate");
  }
  return absl::OkStatus();
}

// Host names are restricted to LDH labels (plus '_' seen on internal names
// and a leading "*." wildcard): anything else is a typo or an attempt to
// smuggle something into a name that TLS peers will match against.
absl::Status CheckDnsName(absl::string_view dns) {
  auto bad = [&dns] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid DNS name '", absl::CHexEscape(dns), "' for subjectAltName"));
  };
  if (dns.empty() || dns.size() > 253) return bad();
  absl::string_view rest = dns;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);
  if (rest.empty() || rest.front() == '.' || rest.back() == '.' ||
      rest.find("..") != absl::string_view::npos) {
    return bad();
  }
  for (char c : rest) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return bad();
  }
  return absl::OkStatus();
}

// inet_pton rather than OpenSSL's a2i_IPADDRESS: the latter parses IPv4 with
// sscanf and accepts trailing junk ("10.0.0.1x").
absl::StatusOr<std::string> ParseIpAddress(const std::string& ip) {
  unsigned char buf[16];
  if (ip.find('\0') == std::string::npos) {
    if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
      return std::string(reinterpret_cast<const char*>(buf), 4);
    }
    if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
      return std::string(reinterpret_cast<const char*>(buf), 16);
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid IP address '", absl::CHexEscape(ip), "' for subjectAltName"));
}

absl::Status PushGeneralName(GENERAL_NAMES* names, int type, std::string_view bytes) {
  OsslPtr<ASN1_STRING> value(type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new());
  if (!value || ASN1_STRING_set(value.get(), bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return OpenSslInternal("cannot build a subjectAltName entry");
  }
  OsslPtr<GENERAL_NAME> name(GENERAL_NAME_new());
  if (!name) return OpenSslInternal("cannot allocate a GENERAL_NAME");
  GENERAL_NAME_set0_value(name.get(), type, value.release());
  if (sk_GENERAL_NAME_push(names, name.get()) <= 0) {
    return OpenSslInternal("cannot build the subjectAltName extension");
  }
  name.release();  // Now owned by `names`.
  return absl::OkStatus();
}

// Builds subjectAltName structurally rather than from a "DNS:a,IP:b" config
// string, so no input can be read as config syntax.
absl::Status AddSubjectAltName(X509* cert, const IssueOptions& options) {
  OsslPtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslInternal("cannot allocate GENERAL_NAMES");
  for (const std::string& dns : options.dns_names) {
    SPOOR_RETURN_IF_ERROR(CheckDnsName(dns));
    SPOOR_RETURN_IF_ERROR(PushGeneralName(names.get(), GEN_DNS, dns));
  }
  for (const std::string& ip : options.ip_addresses) {
    SPOOR_ASSIGN_OR_RETURN(std::string octets, ParseIpAddress(ip));
    SPOOR_RETURN_IF_ERROR(PushGeneralName(names.get(), GEN_IPADD, octets));
  }
  if (options.dns_names.empty() && options.ip_addresses.empty()) {
    // Hostname checks need something to match; the party's name is the
    // natural default (node ids double as host names in deployments). It is
    // free text, so it only goes in if it is a valid host name.
    if (!CheckDnsName(options.identity.name).ok()) return absl::OkStatus();
    SPOOR_RETURN_IF_ERROR(PushGeneralName(names.get(), GEN_DNS, options.identity.name));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslInternal("cannot add the subjectAltName extension");
  }
  return absl::OkStatus();
}

// Reads the single `nid` entry of `name` as UTF-8. NOT_FOUND if absent;
// INVALID_ARGUMENT if repeated or unreadable, since a subject with two CNs
// means different things to different readers.
absl::StatusOr<std::string> NameField(const X509_NAME* name, int nid, absl::string_view label) {
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) {
    return absl::NotFoundError(absl::StrCat("certificate subject has no ", label));
  }
  if (X509_NAME_get_index_by_NID(name, nid, index) >= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate subject has more than one ", label));
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  OsslPtr<unsigned char> owned(utf8);
  if (len < 0) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat("certificate subject ", label, " is not valid text"));
  }
  std::string value(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  SPOOR_RETURN_IF_ERROR(CheckSubjectText(value, absl::StrCat("subject ", label)));
  return value;
}

absl::StatusOr<std::string> RequiredNameField(const X509_NAME* name, int nid,
                                              absl::string_view label) {
  absl::StatusOr<std::string> value = NameField(name, nid, label);
  if (absl::IsNotFound(value.status())) {
    return absl::InvalidArgumentError(value.status().message());
  }
  return value;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kCoordinator:
      return "coordinator";
    case Role::kNode:
      return "node";
    case Role::kResearcher:
      return "researcher";
    case Role::kReviewer:
      return "reviewer";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(std::string_view name) {
  for (Role role :
       {Role::kCoordinator, Role::kNode, Role::kResearcher, Role::kReviewer, Role::kAdmin}) {
    if (name == RoleName(role)) return role;
  }
  // Escaped because the name may come from a certificate, i.e. a stranger.
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role '", absl::CHexEscape(Absl(name)),
                   "'; use one of coordinator, node, researcher, reviewer, admin"));
}

absl::StatusOr<CertificateAndKey> CreateCertificateAuthority(const CaOptions& options) {
  ErrorQueueScope errors;
  SPOOR_RETURN_IF_ERROR(CheckSubjectText(options.consortium, "consortium name"));
  if (options.validity <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CA validity must be positive");
  }
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> key, GenerateKey());
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509_NAME> name,
                         BuildName({{NID_commonName, options.consortium},
                                    {NID_organizationName, options.consortium}}));
  const absl::Time now = absl::Now();
  // Back-dated a minute so a peer whose clock lags slightly still accepts it.
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509> cert,
                         NewCertificate(key.get(), name.get(), name.get(), now - absl::Minutes(1),
                                        now + options.validity));

  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509V3_set_ctx_nodb(&ctx);
  SPOOR_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE"));
  SPOOR_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
  SPOOR_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  SPOOR_RETURN_IF_ERROR(Sign(cert.get(), key.get()));

  CertificateAndKey out;
  SPOOR_ASSIGN_OR_RETURN(out.certificate_pem, CertificateToPem(cert.get()));
  SPOOR_ASSIGN_OR_RETURN(out.private_key_pem, PrivateKeyToPem(key.get()));
  return out;
}

absl::StatusOr<CertificateAndKey> IssueCertificate(const CertificateAndKey& ca,
                                                   const IssueOptions& options) {
  ErrorQueueScope errors;
  const Identity& identity = options.identity;
  SPOOR_RETURN_IF_ERROR(CheckSubjectText(identity.name, "name (CN)"));
  SPOOR_RETURN_IF_ERROR(CheckSubjectText(identity.organisation, "organisation (O)"));
  if (options.validity <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("certificate validity must be positive");
  }
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509> ca_cert,
                         ParseCertificate(ca.certificate_pem, "CA certificate"));
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> ca_key,
                         ParsePrivateKey(ca.private_key_pem, "CA private key"));
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ERR_clear_error();  // The queued detail is just "key values mismatch".
    return absl::InvalidArgumentError("CA private key does not match the CA certificate");
  }
  if (X509_check_ca(ca_cert.get()) <= 0) {
    return absl::InvalidArgumentError("CA certificate is not a CA (no basicConstraints CA:TRUE)");
  }

  SPOOR_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> key, GenerateKey());
  std::string_view role = RoleName(identity.role);
  // Guards against an out-of-range enum value cast in from elsewhere.
  if (!ParseRole(role).ok()) return absl::InvalidArgumentError("identity has an unknown role");
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509_NAME> subject,
                         BuildName({{NID_commonName, identity.name},
                                    {NID_organizationName, identity.organisation},
                                    {NID_organizationalUnitName, role}}));
  // Default: back-dated a minute for clock skew, valid for `validity` from
  // now. An explicit start means the window is [start, start + validity].
  absl::Time not_before = options.not_before;
  absl::Time not_after;
  if (not_before == absl::InfinitePast()) {
    const absl::Time now = absl::Now();
    not_before = now - absl::Minutes(1);
    not_after = now + options.validity;
  } else {
    not_after = not_before + options.validity;
  }
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509> cert, NewCertificate(key.get(), subject.get(),
                                                            X509_get_subject_name(ca_cert.get()),
                                                            not_before, not_after));

  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, ca_cert.get(), cert.get(), nullptr, nullptr, 0);
  X509V3_set_ctx_nodb(&ctx);
  SPOOR_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  // ECDSA keys sign; they cannot encipher, so keyEncipherment would be a lie.
  SPOOR_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  SPOOR_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth"));
  SPOOR_RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  // "always": fail loudly instead of silently omitting the extension.
  SPOOR_RETURN_IF_ERROR(
      AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  SPOOR_RETURN_IF_ERROR(AddSubjectAltName(cert.get(), options));
  SPOOR_RETURN_IF_ERROR(Sign(cert.get(), ca_key.get()));

  CertificateAndKey out;
  SPOOR_ASSIGN_OR_RETURN(out.certificate_pem, CertificateToPem(cert.get()));
  SPOOR_ASSIGN_OR_RETURN(out.private_key_pem, PrivateKeyToPem(key.get()));
  return out;
}

absl::StatusOr<Identity> IdentityFromCertificate(std::string_view certificate_pem) {
  ErrorQueueScope errors;
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509> cert, ParseCertificate(certificate_pem, "certificate"));
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  if (subject == nullptr) return absl::InvalidArgumentError("certificate has no subject");
  Identity identity;
  SPOOR_ASSIGN_OR_RETURN(identity.name, RequiredNameField(subject, NID_commonName, "CN (name)"));
  SPOOR_ASSIGN_OR_RETURN(identity.organisation,
                         RequiredNameField(subject, NID_organizationName, "O (organisation)"));
  SPOOR_ASSIGN_OR_RETURN(std::string role,
                         RequiredNameField(subject, NID_organizationalUnitName, "OU (role)"));
  absl::StatusOr<Role> parsed = ParseRole(role);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate subject OU: ", parsed.status().message()));
  }
  identity.role = *parsed;
  SPOOR_ASSIGN_OR_RETURN(identity.serial, SerialHex(X509_get0_serialNumber(cert.get())));
  return identity;
}

absl::Status VerifyCertificate(std::string_view ca_certificate_pem,
                               std::string_view certificate_pem, absl::Time now) {
  ErrorQueueScope errors;
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509> ca_cert,
                         ParseCertificate(ca_certificate_pem, "CA certificate"));
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509> cert, ParseCertificate(certificate_pem, "certificate"));

  OsslPtr<X509_STORE> store(X509_STORE_new());
  if (!store) return OpenSslInternal("cannot allocate an X509_STORE");
  // X509_STORE_add_cert takes its own reference.
  if (X509_STORE_add_cert(store.get(), ca_cert.get()) != 1) {
    return OpenSslInternal("cannot add the CA certificate to the trust store");
  }
  OsslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx) return OpenSslInternal("cannot allocate an X509_STORE_CTX");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return OpenSslInternal("cannot initialise certificate verification");
  }
  // Verify at the caller's `now` (a FakeClock in tests), not the wall clock.
  X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(now));
  // Any purpose: TLS layers check serverAuth/clientAuth themselves; this is
  // about "did our CA issue it, and is it current".
  if (X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_ANY) != 1) {
    return OpenSslInternal("cannot set the verification purpose");
  }
  if (X509_verify_cert(ctx.get()) == 1) return absl::OkStatus();

  int error = X509_STORE_CTX_get_error(ctx.get());
  absl::StatusOr<std::string> cn =
      NameField(X509_get_subject_name(cert.get()), NID_commonName, "CN");
  return absl::PermissionDeniedError(
      absl::StrCat("certificate for ", cn.ok() ? *cn : std::string("<no CN>"),
                   " is not valid: ", X509_verify_cert_error_string(error)));
}

absl::StatusOr<std::string> CreateRevocationList(const CertificateAndKey& ca,
                                                 const std::vector<RevokedCertificate>& revoked,
                                                 absl::Time now, absl::Duration next_update) {
  ErrorQueueScope errors;
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509> ca_cert,
                         ParseCertificate(ca.certificate_pem, "CA certificate"));
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<EVP_PKEY> ca_key, ParsePrivateKey(ca.private_key_pem, "CA key"));
  OsslPtr<X509_CRL> crl(X509_CRL_new());
  if (!crl) return OpenSslInternal("cannot allocate an X509_CRL");
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert.get())) != 1) {
    return OpenSslInternal("cannot set the CRL's version or issuer");
  }
  OsslPtr<ASN1_TIME> last(ASN1_TIME_set(nullptr, absl::ToTimeT(now)));
  OsslPtr<ASN1_TIME> next(ASN1_TIME_set(nullptr, absl::ToTimeT(now + next_update)));
  if (!last || !next || X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    return OpenSslInternal("cannot set the CRL's update times");
  }
  for (const RevokedCertificate& entry : revoked) {
    SPOOR_ASSIGN_OR_RETURN(OsslPtr<ASN1_INTEGER> serial, SerialFromHex(entry.serial));
    OsslPtr<X509_REVOKED> item(X509_REVOKED_new());
    OsslPtr<ASN1_TIME> when(ASN1_TIME_set(nullptr, absl::ToTimeT(entry.revoked_at)));
    if (!item || !when || X509_REVOKED_set_serialNumber(item.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(item.get(), when.get()) != 1) {
      return OpenSslInternal("cannot build a CRL entry");
    }
    // On success the CRL owns the entry.
    if (X509_CRL_add0_revoked(crl.get(), item.get()) != 1) {
      return OpenSslInternal("cannot add a CRL entry");
    }
    item.release();
  }
  if (X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), ca_key.get(), EVP_sha256()) <= 0) {
    return OpenSslInternal("cannot sign the CRL");
  }
  OsslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
    return OpenSslInternal("cannot write the CRL as PEM");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::vector<RevokedCertificate>> ReadRevocationList(
    std::string_view ca_certificate_pem, std::string_view crl_pem) {
  ErrorQueueScope errors;
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<X509> ca_cert,
                         ParseCertificate(ca_certificate_pem, "CA certificate"));
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<BIO> bio, ReadOnlyBio(crl_pem, "CRL"));
  OsslPtr<X509_CRL> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!crl) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "not a PEM certificate revocation list");
  }
  EVP_PKEY* ca_key = X509_get0_pubkey(ca_cert.get());
  if (ca_key == nullptr || X509_CRL_verify(crl.get(), ca_key) != 1) {
    return absl::PermissionDeniedError(
        "the revocation list was not signed by the consortium CA; use the one `spoor pki "
        "revoke` writes");
  }
  std::vector<RevokedCertificate> out;
  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
    const X509_REVOKED* entry = sk_X509_REVOKED_value(entries, i);
    RevokedCertificate revoked;
    SPOOR_ASSIGN_OR_RETURN(revoked.serial, SerialHex(X509_REVOKED_get0_serialNumber(entry)));
    const ASN1_TIME* when = X509_REVOKED_get0_revocationDate(entry);
    struct tm tm {};
    if (when != nullptr && ASN1_TIME_to_tm(when, &tm) == 1) {
      revoked.revoked_at = absl::FromTimeT(timegm(&tm));
    }
    out.push_back(std::move(revoked));
  }
  return out;
}

}  // namespace spoor
