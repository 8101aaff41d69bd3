#include "common/pki.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/revocation_list.h"

namespace spoor {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

struct OpenSslDeleter {
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
  void operator()(BASIC_CONSTRAINTS* p) const { BASIC_CONSTRAINTS_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(X509* p) const { X509_free(p); }
};
template <typename T>
using OsslPtr = std::unique_ptr<T, OpenSslDeleter>;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

OsslPtr<X509> ParseCert(const std::string& pem) {
  OsslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  REQUIRE(bio);
  OsslPtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(cert);
  return cert;
}

OsslPtr<EVP_PKEY> ParseKey(const std::string& pem) {
  OsslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  REQUIRE(bio);
  OsslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(key);
  return key;
}

std::string CertToPem(X509* cert) {
  OsslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(bio.get(), cert) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
  return std::string(data, static_cast<size_t>(len));
}

time_t AsTimeT(const ASN1_TIME* t) {
  struct tm tm {};
  REQUIRE(ASN1_TIME_to_tm(t, &tm) == 1);
  return timegm(&tm);
}

// A self-signed certificate whose subject is exactly `entries`: lets tests
// build subjects IssueCertificate would never produce.
std::string SelfSignedWithSubject(const std::vector<std::pair<int, std::string>>& entries) {
  OsslPtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  REQUIRE(key);
  OsslPtr<X509> cert(X509_new());
  REQUIRE(X509_set_version(cert.get(), X509_VERSION_3) == 1);
  REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& [nid, value] : entries) {
    REQUIRE(X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), -1, 0) == 1);
  }
  REQUIRE(X509_set_issuer_name(cert.get(), name) == 1);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) != nullptr);
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600) != nullptr);
  REQUIRE(X509_set_pubkey(cert.get(), key.get()) == 1);
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  return CertToPem(cert.get());
}

CertificateAndKey MakeCa(const std::string& consortium = "test consortium") {
  CaOptions options;
  options.consortium = consortium;
  absl::StatusOr<CertificateAndKey> ca = CreateCertificateAuthority(options);
  REQUIRE(ca.ok());
  return *std::move(ca);
}

IssueOptions NodeOptions() {
  IssueOptions options;
  options.identity = {"node-1", "St Elsewhere Hospital", Role::kNode};
  return options;
}

CertificateAndKey Issue(const CertificateAndKey& ca, const IssueOptions& options) {
  absl::StatusOr<CertificateAndKey> issued = IssueCertificate(ca, options);
  INFO(issued.status().ToString());
  REQUIRE(issued.ok());
  return *std::move(issued);
}

std::string NameEntry(X509* cert, int nid) {
  X509_NAME* name = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  REQUIRE(index >= 0);
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

bool ExtensionIsCritical(X509* cert, int nid) {
  int index = X509_get_ext_by_NID(cert, nid, -1);
  REQUIRE(index >= 0);
  return X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

struct SubjectAltNames {
  std::set<std::string> dns;
  std::set<std::string> ip_octets;
};

SubjectAltNames ReadSubjectAltNames(X509* cert) {
  OsslPtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  REQUIRE(names);
  SubjectAltNames out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    std::string bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                      static_cast<size_t>(ASN1_STRING_length(value)));
    if (type == GEN_DNS) out.dns.insert(bytes);
    if (type == GEN_IPADD) out.ip_octets.insert(bytes);
  }
  return out;
}

TEST_CASE("RoleName and ParseRole round-trip every role", "[pki]") {
  for (Role role : {Role::kCoordinator, Role::kNode, Role::kResearcher, Role::kAdmin}) {
    absl::StatusOr<Role> parsed = ParseRole(RoleName(role));
    REQUIRE(parsed.ok());
    CHECK(*parsed == role);
  }
  CHECK(RoleName(Role::kCoordinator) == "coordinator");
  CHECK(RoleName(Role::kNode) == "node");
  CHECK(RoleName(Role::kResearcher) == "researcher");
  CHECK(RoleName(Role::kAdmin) == "admin");
}

TEST_CASE("ParseRole rejects an unknown role and lists the accepted ones", "[pki]") {
  for (const char* bad : {"janitor", "", "Node", "admin "}) {
    absl::StatusOr<Role> parsed = ParseRole(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(parsed.status()),
               Contains("use one of coordinator, node, researcher, reviewer, admin"));
  }
  CHECK(Message(ParseRole("x").status()) ==
        "unknown role 'x'; use one of coordinator, node, researcher, reviewer, admin");
}

TEST_CASE("CreateCertificateAuthority makes a self-signed P-256 CA certificate", "[pki]") {
  CaOptions options;
  options.consortium = "Northern Health Consortium";
  options.validity = absl::Hours(24 * 30);
  const absl::Time before = absl::Now();
  absl::StatusOr<CertificateAndKey> ca = CreateCertificateAuthority(options);
  REQUIRE(ca.ok());
  OsslPtr<X509> cert = ParseCert(ca->certificate_pem);

  CHECK(X509_get_version(cert.get()) == X509_VERSION_3);
  CHECK(NameEntry(cert.get(), NID_commonName) == "Northern Health Consortium");
  CHECK(NameEntry(cert.get(), NID_organizationName) == "Northern Health Consortium");
  CHECK(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) == 0);

  // basicConstraints: critical CA:TRUE.
  OsslPtr<BASIC_CONSTRAINTS> bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert.get(), NID_basic_constraints, nullptr, nullptr)));
  REQUIRE(bc);
  CHECK(bc->ca != 0);
  CHECK(ExtensionIsCritical(cert.get(), NID_basic_constraints));
  CHECK(X509_check_ca(cert.get()) > 0);
  // keyUsage: critical keyCertSign|cRLSign and nothing else.
  CHECK(X509_get_key_usage(cert.get()) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  CHECK(ExtensionIsCritical(cert.get(), NID_key_usage));
  CHECK(X509_get0_subject_key_id(cert.get()) != nullptr);

  // Self-signed with ECDSA P-256 / SHA-256.
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  REQUIRE(pub != nullptr);
  CHECK(EVP_PKEY_is_a(pub, "EC") == 1);
  CHECK(EVP_PKEY_get_bits(pub) == 256);
  CHECK(X509_verify(cert.get(), pub) == 1);
  CHECK(X509_get_signature_nid(cert.get()) == NID_ecdsa_with_SHA256);

  // Serial: positive, 128 bits.
  OsslPtr<BIGNUM> serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  REQUIRE(serial);
  CHECK(BN_is_negative(serial.get()) == 0);
  CHECK(BN_num_bits(serial.get()) == 128);

  // Validity: back-dated a minute, ends `validity` from now.
  const absl::Time after = absl::Now();
  time_t not_before = AsTimeT(X509_get0_notBefore(cert.get()));
  time_t not_after = AsTimeT(X509_get0_notAfter(cert.get()));
  CHECK(not_before >= absl::ToTimeT(before - absl::Minutes(1)) - 1);
  CHECK(not_before <= absl::ToTimeT(after - absl::Minutes(1)));
  CHECK(not_after >= absl::ToTimeT(before + options.validity) - 1);
  CHECK(not_after <= absl::ToTimeT(after + options.validity));

  // The key is unencrypted PKCS#8 and belongs to the certificate.
  CHECK_THAT(ca->private_key_pem, StartsWith("-----BEGIN PRIVATE KEY-----"));
  OsslPtr<EVP_PKEY> key = ParseKey(ca->private_key_pem);
  CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
}

TEST_CASE("CreateCertificateAuthority gives each CA a fresh key and serial", "[pki]") {
  CertificateAndKey a = MakeCa();
  CertificateAndKey b = MakeCa();
  CHECK(a.private_key_pem != b.private_key_pem);
  OsslPtr<X509> cert_a = ParseCert(a.certificate_pem);
  OsslPtr<X509> cert_b = ParseCert(b.certificate_pem);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(cert_a.get()),
                         X509_get0_serialNumber(cert_b.get())) != 0);
  OsslPtr<EVP_PKEY> key_a = ParseKey(a.private_key_pem);
  CHECK(X509_check_private_key(cert_b.get(), key_a.get()) != 1);
}

TEST_CASE("CreateCertificateAuthority rejects an empty consortium or non-positive validity",
          "[pki]") {
  CaOptions empty;
  empty.consortium = "";
  CHECK(CreateCertificateAuthority(empty).status().code() == absl::StatusCode::kInvalidArgument);
  CaOptions zero;
  zero.validity = absl::ZeroDuration();
  CHECK(CreateCertificateAuthority(zero).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IssueCertificate round-trips the identity for every role", "[pki]") {
  CertificateAndKey ca = MakeCa();
  for (Role role : {Role::kCoordinator, Role::kNode, Role::kResearcher, Role::kAdmin}) {
    IssueOptions options;
    options.identity = {"party-" + std::string(RoleName(role)), "University of Somewhere", role};
    CertificateAndKey issued = Issue(ca, options);
    absl::StatusOr<Identity> identity = IdentityFromCertificate(issued.certificate_pem);
    REQUIRE(identity.ok());
    CHECK(identity->name == options.identity.name);
    CHECK(identity->organisation == "University of Somewhere");
    CHECK(identity->role == role);
  }
}

TEST_CASE("IssueCertificate round-trips a non-ASCII organisation", "[pki]") {
  CertificateAndKey ca = MakeCa();
  IssueOptions options;
  options.identity = {"alice", "Universit\xC3\xA4t Z\xC3\xBCrich", Role::kResearcher};
  CertificateAndKey issued = Issue(ca, options);
  absl::StatusOr<Identity> identity = IdentityFromCertificate(issued.certificate_pem);
  REQUIRE(identity.ok());
  CHECK(identity->organisation == "Universit\xC3\xA4t Z\xC3\xBCrich");
}

TEST_CASE("IssueCertificate makes a leaf certificate with the expected extensions", "[pki]") {
  CertificateAndKey ca = MakeCa();
  CertificateAndKey issued = Issue(ca, NodeOptions());
  OsslPtr<X509> ca_cert = ParseCert(ca.certificate_pem);
  OsslPtr<X509> cert = ParseCert(issued.certificate_pem);

  CHECK(X509_get_version(cert.get()) == X509_VERSION_3);
  CHECK(NameEntry(cert.get(), NID_commonName) == "node-1");
  CHECK(NameEntry(cert.get(), NID_organizationName) == "St Elsewhere Hospital");
  CHECK(NameEntry(cert.get(), NID_organizationalUnitName) == "node");
  CHECK(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca_cert.get())) == 0);
  CHECK(X509_check_issued(ca_cert.get(), cert.get()) == X509_V_OK);
  CHECK(X509_verify(cert.get(), X509_get0_pubkey(ca_cert.get())) == 1);
  CHECK(X509_get_signature_nid(cert.get()) == NID_ecdsa_with_SHA256);

  OsslPtr<BASIC_CONSTRAINTS> bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert.get(), NID_basic_constraints, nullptr, nullptr)));
  REQUIRE(bc);
  CHECK(bc->ca == 0);
  CHECK(ExtensionIsCritical(cert.get(), NID_basic_constraints));
  CHECK(X509_check_ca(cert.get()) == 0);
  CHECK(X509_get_key_usage(cert.get()) == KU_DIGITAL_SIGNATURE);
  CHECK(ExtensionIsCritical(cert.get(), NID_key_usage));
  CHECK(X509_get_extended_key_usage(cert.get()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));

  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(cert.get());
  const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(cert.get());
  const ASN1_OCTET_STRING* ca_skid = X509_get0_subject_key_id(ca_cert.get());
  REQUIRE(skid != nullptr);
  REQUIRE(akid != nullptr);
  REQUIRE(ca_skid != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(akid, ca_skid) == 0);
  CHECK(ASN1_OCTET_STRING_cmp(skid, ca_skid) != 0);

  OsslPtr<BIGNUM> serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  REQUIRE(serial);
  CHECK(BN_is_negative(serial.get()) == 0);
  CHECK(BN_num_bits(serial.get()) == 128);
}

TEST_CASE("IssueCertificate returns a PKCS#8 key matching the certificate public key", "[pki]") {
  CertificateAndKey ca = MakeCa();
  CertificateAndKey issued = Issue(ca, NodeOptions());
  CHECK_THAT(issued.private_key_pem, StartsWith("-----BEGIN PRIVATE KEY-----"));
  OsslPtr<X509> cert = ParseCert(issued.certificate_pem);
  OsslPtr<EVP_PKEY> key = ParseKey(issued.private_key_pem);
  CHECK(EVP_PKEY_is_a(key.get(), "EC") == 1);
  CHECK(EVP_PKEY_get_bits(key.get()) == 256);
  CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
  // A fresh key, not the CA's.
  OsslPtr<EVP_PKEY> ca_key = ParseKey(ca.private_key_pem);
  CHECK(X509_check_private_key(cert.get(), ca_key.get()) != 1);
}

TEST_CASE("IssueCertificate puts the requested DNS names and IP addresses in subjectAltName",
          "[pki]") {
  CertificateAndKey ca = MakeCa();
  IssueOptions options;
  options.identity = {"coordinator", "Consortium Office", Role::kCoordinator};
  options.dns_names = {"coordinator.example.org", "localhost"};
  options.ip_addresses = {"127.0.0.1", "::1", "10.1.2.3"};
  CertificateAndKey issued = Issue(ca, options);
  OsslPtr<X509> cert = ParseCert(issued.certificate_pem);
  SubjectAltNames san = ReadSubjectAltNames(cert.get());
  CHECK(san.dns == std::set<std::string>{"coordinator.example.org", "localhost"});
  std::string ipv6_loopback(16, '\0');
  ipv6_loopback[15] = 1;
  CHECK(san.ip_octets == std::set<std::string>{std::string("\x7f\x00\x00\x01", 4),
                                               std::string("\x0a\x01\x02\x03", 4), ipv6_loopback});
  // And OpenSSL's own hostname/IP matching agrees.
  CHECK(X509_check_host(cert.get(), "coordinator.example.org", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(cert.get(), "other.example.org", 0, 0, nullptr) != 1);
  CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(cert.get(), "::1", 0) == 1);
  CHECK(X509_check_ip_asc(cert.get(), "10.1.2.4", 0) != 1);
}

TEST_CASE("IssueCertificate defaults subjectAltName to DNS:<name>", "[pki]") {
  CertificateAndKey ca = MakeCa();
  CertificateAndKey issued = Issue(ca, NodeOptions());
  OsslPtr<X509> cert = ParseCert(issued.certificate_pem);
  SubjectAltNames san = ReadSubjectAltNames(cert.get());
  CHECK(san.dns == std::set<std::string>{"node-1"});
  CHECK(san.ip_octets.empty());
}

TEST_CASE("IssueCertificate rejects an invalid IP address and names it", "[pki]") {
  CertificateAndKey ca = MakeCa();
  for (const char* bad : {"10.0.0.256", "10.0.0.1x", "not-an-ip", "", "1.2.3"}) {
    IssueOptions options = NodeOptions();
    options.ip_addresses = {"127.0.0.1", bad};
    absl::StatusOr<CertificateAndKey> issued = IssueCertificate(ca, options);
    REQUIRE_FALSE(issued.ok());
    CHECK(issued.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(issued.status()), Contains(std::string("'") + bad + "'"));
  }
}

TEST_CASE("IssueCertificate rejects a DNS name that is not a host name", "[pki]") {
  CertificateAndKey ca = MakeCa();
  for (const char* bad : {"a.example,IP:1.2.3.4", "", "has space.example", "a..b"}) {
    IssueOptions options = NodeOptions();
    options.dns_names = {bad};
    absl::StatusOr<CertificateAndKey> issued = IssueCertificate(ca, options);
    REQUIRE_FALSE(issued.ok());
    CHECK(issued.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("IssueCertificate rejects an empty name or organisation", "[pki]") {
  CertificateAndKey ca = MakeCa();
  IssueOptions no_name = NodeOptions();
  no_name.identity.name = "";
  CHECK(IssueCertificate(ca, no_name).status().code() == absl::StatusCode::kInvalidArgument);
  IssueOptions no_org = NodeOptions();
  no_org.identity.organisation = "";
  CHECK(IssueCertificate(ca, no_org).status().code() == absl::StatusCode::kInvalidArgument);
  IssueOptions too_long = NodeOptions();
  too_long.identity.name = std::string(65, 'a');  // X.520 caps CN at 64.
  CHECK(IssueCertificate(ca, too_long).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IssueCertificate rejects CA material that does not parse or does not fit", "[pki]") {
  CertificateAndKey ca = MakeCa();
  const IssueOptions options = NodeOptions();

  CertificateAndKey garbage_cert = ca;
  garbage_cert.certificate_pem = "-----BEGIN CERTIFICATE-----\nnot base64!\n";
  CHECK(IssueCertificate(garbage_cert, options).status().code() ==
        absl::StatusCode::kInvalidArgument);

  CertificateAndKey garbage_key = ca;
  garbage_key.private_key_pem = "garbage";
  absl::Status status = IssueCertificate(garbage_key, options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(status), Contains("CA private key"));

  CHECK(IssueCertificate(CertificateAndKey{}, options).status().code() ==
        absl::StatusCode::kInvalidArgument);

  // Another CA's key does not match this CA's certificate.
  CertificateAndKey mismatched = ca;
  mismatched.private_key_pem = MakeCa().private_key_pem;
  status = IssueCertificate(mismatched, options).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(status), Contains("does not match"));

  // A leaf certificate cannot act as a CA.
  CertificateAndKey leaf = Issue(ca, options);
  CHECK(IssueCertificate(leaf, options).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IssueCertificate error messages never contain the CA private key", "[pki]") {
  CertificateAndKey ca = MakeCa();
  CertificateAndKey mismatched = ca;
  mismatched.private_key_pem = MakeCa().private_key_pem;
  absl::Status status = IssueCertificate(mismatched, NodeOptions()).status();
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(Message(status), !Contains("PRIVATE KEY"));
  // Any 40-character run of the key's base64 body would be a leak.
  std::string body = mismatched.private_key_pem.substr(28, 40);
  CHECK_THAT(Message(status), !Contains(body));
}

TEST_CASE("VerifyCertificate accepts a certificate from the CA while it is valid", "[pki]") {
  CertificateAndKey ca = MakeCa();
  CertificateAndKey issued = Issue(ca, NodeOptions());
  absl::Status status = VerifyCertificate(ca.certificate_pem, issued.certificate_pem, absl::Now());
  INFO(status.ToString());
  CHECK(status.ok());
}

TEST_CASE("VerifyCertificate denies a certificate issued by another CA", "[pki]") {
  CertificateAndKey ca = MakeCa("consortium A");
  CertificateAndKey other_ca = MakeCa("consortium B");
  CertificateAndKey issued = Issue(ca, NodeOptions());
  absl::Status status =
      VerifyCertificate(other_ca.certificate_pem, issued.certificate_pem, absl::Now());
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(Message(status), StartsWith("certificate for node-1 is not valid: "));

  // Same consortium name, different key: still denied, since the name is not
  // what is trusted.
  CertificateAndKey impostor_ca = MakeCa("consortium A");
  status = VerifyCertificate(impostor_ca.certificate_pem, issued.certificate_pem, absl::Now());
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
}

TEST_CASE("VerifyCertificate denies a certificate after it has expired", "[pki]") {
  CertificateAndKey ca = MakeCa();
  IssueOptions options = NodeOptions();
  options.validity = absl::Hours(1);
  CertificateAndKey issued = Issue(ca, options);
  const absl::Time now = absl::Now();
  CHECK(
      VerifyCertificate(ca.certificate_pem, issued.certificate_pem, now + absl::Minutes(30)).ok());
  absl::Status status =
      VerifyCertificate(ca.certificate_pem, issued.certificate_pem, now + absl::Hours(2));
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(Message(status), Contains("node-1"));
  CHECK_THAT(Message(status), Contains("expired"));
}

TEST_CASE("VerifyCertificate denies a certificate before its not_before", "[pki]") {
  CertificateAndKey ca = MakeCa();
  IssueOptions options = NodeOptions();
  const absl::Time start = absl::Now() + absl::Hours(24);
  options.not_before = start;
  options.validity = absl::Hours(1);
  CertificateAndKey issued = Issue(ca, options);

  OsslPtr<X509> cert = ParseCert(issued.certificate_pem);
  CHECK(AsTimeT(X509_get0_notBefore(cert.get())) == absl::ToTimeT(start));
  CHECK(AsTimeT(X509_get0_notAfter(cert.get())) == absl::ToTimeT(start + absl::Hours(1)));

  absl::Status status = VerifyCertificate(ca.certificate_pem, issued.certificate_pem, absl::Now());
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(Message(status), Contains("not yet valid"));
  CHECK(
      VerifyCertificate(ca.certificate_pem, issued.certificate_pem, start + absl::Minutes(1)).ok());
  CHECK(VerifyCertificate(ca.certificate_pem, issued.certificate_pem, start + absl::Hours(2))
            .code() == absl::StatusCode::kPermissionDenied);
}

TEST_CASE("VerifyCertificate rejects PEM that does not parse", "[pki]") {
  CertificateAndKey ca = MakeCa();
  CertificateAndKey issued = Issue(ca, NodeOptions());
  CHECK(VerifyCertificate(ca.certificate_pem, "garbage", absl::Now()).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(VerifyCertificate("", issued.certificate_pem, absl::Now()).code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IdentityFromCertificate rejects garbage PEM", "[pki]") {
  for (const char* bad :
       {"", "garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}) {
    absl::StatusOr<Identity> identity = IdentityFromCertificate(bad);
    REQUIRE_FALSE(identity.ok());
    CHECK(identity.status().code() == absl::StatusCode::kInvalidArgument);
  }
  // A private key is not a certificate.
  CertificateAndKey ca = MakeCa();
  CHECK(IdentityFromCertificate(ca.private_key_pem).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("IdentityFromCertificate rejects a subject whose OU is not a role", "[pki]") {
  std::string pem = SelfSignedWithSubject({{NID_commonName, "mallory"},
                                           {NID_organizationName, "Evil Corp"},
                                           {NID_organizationalUnitName, "janitor"}});
  absl::StatusOr<Identity> identity = IdentityFromCertificate(pem);
  REQUIRE_FALSE(identity.ok());
  CHECK(identity.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(identity.status()), Contains("unknown role 'janitor'"));
}

TEST_CASE("IdentityFromCertificate rejects a subject missing CN, O or OU", "[pki]") {
  struct Case {
    std::vector<std::pair<int, std::string>> subject;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{NID_organizationName, "Org"}, {NID_organizationalUnitName, "node"}},
       "certificate subject has no CN (name)"},
      {{{NID_commonName, "node-1"}, {NID_organizationalUnitName, "node"}},
       "certificate subject has no O (organisation)"},
      {{{NID_commonName, "node-1"}, {NID_organizationName, "Org"}},
       "certificate subject has no OU (role)"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Identity> identity = IdentityFromCertificate(SelfSignedWithSubject(c.subject));
    REQUIRE_FALSE(identity.ok());
    CHECK(identity.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Message(identity.status()) == c.message);
  }
}

TEST_CASE("IdentityFromCertificate rejects a subject with two roles", "[pki]") {
  std::string pem = SelfSignedWithSubject({{NID_commonName, "node-1"},
                                           {NID_organizationName, "Org"},
                                           {NID_organizationalUnitName, "node"},
                                           {NID_organizationalUnitName, "admin"}});
  CHECK(IdentityFromCertificate(pem).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace spoor

namespace spoor {
namespace {

CertificateAndKey IssueFor(const CertificateAndKey& ca, const std::string& name, Role role) {
  IssueOptions options;
  options.identity = {name, "St Elsewhere Hospital", role};
  absl::StatusOr<CertificateAndKey> issued = IssueCertificate(ca, options);
  REQUIRE(issued.ok());
  return *issued;
}

TEST_CASE("IdentityFromCertificate reads the serial a CRL lists", "[pki]") {
  CertificateAndKey ca = MakeCa();
  CertificateAndKey alice = IssueFor(ca, "alice", Role::kResearcher);
  absl::StatusOr<Identity> identity = IdentityFromCertificate(alice.certificate_pem);
  REQUIRE(identity.ok());
  // The serial as `openssl x509 -serial` prints it: upper-case hex.
  OsslPtr<X509> cert = ParseCert(alice.certificate_pem);
  OsslPtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  char* hex = BN_bn2hex(bn.get());
  CHECK(identity->serial == hex);
  OPENSSL_free(hex);
  CHECK(identity->serial.size() >= 30);
}

TEST_CASE("CreateRevocationList and ReadRevocationList round-trip the revoked serials", "[pki]") {
  CertificateAndKey ca = MakeCa();
  Identity alice =
      *IdentityFromCertificate(IssueFor(ca, "alice", Role::kResearcher).certificate_pem);
  Identity bob = *IdentityFromCertificate(IssueFor(ca, "bob", Role::kNode).certificate_pem);
  const absl::Time now = absl::FromUnixSeconds(1'790'000'000);
  absl::StatusOr<std::string> crl =
      CreateRevocationList(ca, {{alice.serial, now}, {bob.serial, now}}, now);
  REQUIRE(crl.ok());
  CHECK_THAT(*crl, StartsWith("-----BEGIN X509 CRL-----"));
  absl::StatusOr<std::vector<RevokedCertificate>> read =
      ReadRevocationList(ca.certificate_pem, *crl);
  REQUIRE(read.ok());
  std::set<std::string> serials;
  for (const RevokedCertificate& entry : *read) {
    serials.insert(entry.serial);
    CHECK(entry.revoked_at == now);
  }
  CHECK(serials == std::set<std::string>{alice.serial, bob.serial});

  // An empty list is a valid list.
  absl::StatusOr<std::string> empty = CreateRevocationList(ca, {}, now);
  REQUIRE(empty.ok());
  CHECK(ReadRevocationList(ca.certificate_pem, *empty)->empty());
}

TEST_CASE("ReadRevocationList refuses a list another CA signed and garbage", "[pki]") {
  CertificateAndKey ca = MakeCa();
  CertificateAndKey other = MakeCa("other consortium");
  absl::StatusOr<std::string> forged = CreateRevocationList(other, {}, absl::Now());
  REQUIRE(forged.ok());
  absl::StatusOr<std::vector<RevokedCertificate>> read =
      ReadRevocationList(ca.certificate_pem, *forged);
  CHECK(read.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(Message(read.status()), Contains("not signed by the consortium CA"));
  CHECK(ReadRevocationList(ca.certificate_pem, "not a crl").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(CreateRevocationList(ca, {{"XYZ", absl::Now()}}, absl::Now()).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("RevocationList re-reads its file when it changes and keeps the last good list",
          "[pki]") {
  char dir_template[] = "/tmp/spoor-crl-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::string path = std::string(dir_template) + "/crl.pem";
  CertificateAndKey ca = MakeCa();
  Identity alice =
      *IdentityFromCertificate(IssueFor(ca, "alice", Role::kResearcher).certificate_pem);
  Identity bob = *IdentityFromCertificate(IssueFor(ca, "bob", Role::kResearcher).certificate_pem);
  auto write = [&](const std::string& text) {
    // A new inode each time, as WriteFileAtomically does (rename).
    std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs(text.c_str(), f);
    std::fclose(f);
    REQUIRE(std::rename(tmp.c_str(), path.c_str()) == 0);
  };
  write(*CreateRevocationList(ca, {}, absl::Now()));

  CHECK(RevocationList::Load(ca.certificate_pem, path + ".missing").status().code() ==
        absl::StatusCode::kNotFound);
  absl::StatusOr<std::unique_ptr<RevocationList>> list =
      RevocationList::Load(ca.certificate_pem, path);
  REQUIRE(list.ok());
  CHECK((*list)->Check(alice).ok());

  write(*CreateRevocationList(ca, {{alice.serial, absl::Now()}}, absl::Now()));
  absl::Status refused = (*list)->Check(alice);
  CHECK(refused.code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(Message(refused), Contains("alice") && Contains("revoked"));
  CHECK((*list)->Check(bob).ok());

  // A broken or forged file does not un-revoke anyone.
  write("garbage");
  CHECK((*list)->Check(alice).code() == absl::StatusCode::kPermissionDenied);
  write(*CreateRevocationList(MakeCa("other"), {}, absl::Now()));
  CHECK((*list)->Check(alice).code() == absl::StatusCode::kPermissionDenied);

  // No list configured: nobody is revoked.
  absl::StatusOr<std::unique_ptr<RevocationList>> none =
      RevocationList::Load(ca.certificate_pem, "");
  REQUIRE(none.ok());
  CHECK((*none)->Check(alice).ok());
  std::remove(path.c_str());
  ::rmdir(dir_template);
}

}  // namespace
}  // namespace spoor
