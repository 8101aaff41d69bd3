// The consortium PKI: one CA per consortium, and certificates for every party
// (coordinator, node, researcher, reviewer, admin). Keys are ECDSA P-256 (accepted by
// every TLS 1.3 stack). The subject carries who a party is:
//   CN = the party's name (node id, researcher name, "coordinator")
//   O  = its organisation (hospital, university)
//   OU = its role: "coordinator", "node", "researcher", "reviewer" (reviews
//        algorithms for the registry) or "admin"
// Thread-compatible: no shared state.
#ifndef SPOOR_COMMON_PKI_H_
#define SPOOR_COMMON_PKI_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace spoor {

enum class Role { kCoordinator, kNode, kResearcher, kReviewer, kAdmin };

// "coordinator", "node", "researcher", "reviewer", "admin".
std::string_view RoleName(Role role);
// INVALID_ARGUMENT naming the accepted roles if `name` is none of them.
absl::StatusOr<Role> ParseRole(std::string_view name);

// Who a certificate says its holder is.
struct Identity {
  std::string name;               // subject CN
  std::string organisation;       // subject O
  Role role = Role::kResearcher;  // subject OU
  std::string serial = {};        // serial number, upper-case hex (what a CRL lists)
};

// PEM-encoded certificate and private key (PKCS#8).
struct CertificateAndKey {
  std::string certificate_pem;
  std::string private_key_pem;
};

struct CaOptions {
  std::string consortium = "spoor consortium";  // CA subject CN and O
  absl::Duration validity = absl::Hours(24 * 365 * 5);
};

// Creates a self-signed CA certificate (basicConstraints CA:TRUE, keyUsage
// keyCertSign|cRLSign) and its key.
absl::StatusOr<CertificateAndKey> CreateCertificateAuthority(const CaOptions& options);

struct IssueOptions {
  Identity identity;
  // DNS names and IP addresses for the subjectAltName extension; a party that
  // serves TLS (the coordinator) needs the names clients dial.
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  absl::Duration validity = absl::Hours(24 * 365);
  // Start of validity; defaults to now minus one minute (clock skew).
  absl::Time not_before = absl::InfinitePast();
};

// Issues a leaf certificate (CA:FALSE; keyUsage digitalSignature;
// extendedKeyUsage serverAuth and clientAuth) signed by `ca`, with a fresh key
// and a random 128-bit serial. INVALID_ARGUMENT if the identity has an empty
// name or organisation or the CA material does not parse.
absl::StatusOr<CertificateAndKey> IssueCertificate(const CertificateAndKey& ca,
                                                   const IssueOptions& options);

// Reads the identity from a PEM certificate's subject. INVALID_ARGUMENT if it
// does not parse or lacks CN, O or a known OU role.
absl::StatusOr<Identity> IdentityFromCertificate(std::string_view certificate_pem);

// OK if `certificate_pem` was signed by `ca_certificate_pem` and is within its
// validity period at `now`; PERMISSION_DENIED otherwise, saying why.
absl::Status VerifyCertificate(std::string_view ca_certificate_pem,
                               std::string_view certificate_pem, absl::Time now);

// --- Revocation: the CA's certificate revocation list (X.509 CRL, PEM). ---

struct RevokedCertificate {
  std::string serial;  // upper-case hex, as Identity::serial
  absl::Time revoked_at;
};

// A CRL signed by `ca` listing `revoked`, issued at `now` and due for renewal
// at `now + next_update`. INVALID_ARGUMENT for a malformed serial or CA.
absl::StatusOr<std::string> CreateRevocationList(
    const CertificateAndKey& ca, const std::vector<RevokedCertificate>& revoked, absl::Time now,
    absl::Duration next_update = absl::Hours(24 * 365));

// The serials a CRL lists, after checking that `ca_certificate_pem` signed it.
// INVALID_ARGUMENT if it does not parse; PERMISSION_DENIED if another key
// signed it (a forged or foreign list).
absl::StatusOr<std::vector<RevokedCertificate>> ReadRevocationList(
    std::string_view ca_certificate_pem, std::string_view crl_pem);

}  // namespace spoor

#endif  // SPOOR_COMMON_PKI_H_
