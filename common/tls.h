// Mutual TLS for every spoor connection, from the consortium PKI's PEM files.
//
// Both sides present a certificate issued by the consortium CA and verify the
// other's, over TLS 1.3 only: RequireTls13 turns older versions off for
// every TLS context of the process (docs/security.md says how).
#ifndef SPOOR_COMMON_TLS_H_
#define SPOOR_COMMON_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/pki.h"
#include "common/revocation_list.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace spoor {

// Paths of the PEM files a party needs.
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
  // The consortium's revocation list (optional; empty: none).
  std::string crl = {};
};

class ConfigTable;

// Makes every TLS context this process creates from now on refuse TLS 1.2
// and older (OpenSSL's process-wide configuration; gRPC 1.51 has no per-
// credentials setting for it). Idempotent and thread-safe; LoadTlsMaterial
// and the Make*Credentials functions call it. INTERNAL if OpenSSL refuses
// the configuration.
absl::Status RequireTls13();

// Reads the [tls] table (ca, cert, key, optional crl) of a config file, resolving paths
// against the directory of `config_path`.
absl::StatusOr<TlsFiles> ReadTlsFiles(const ConfigTable& root, const std::string& config_path);

// The loaded material, checked: the key file is private (0600), the
// certificate parses, carries an identity and was issued by the CA.
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  Identity identity;
};

// FAILED_PRECONDITION / NOT_FOUND / PERMISSION_DENIED naming the file and
// what to do.
absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files);

// Server side: requires and verifies a client certificate from the CA.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const TlsMaterial& material);

// Client side: presents our certificate, verifies the server's against the
// CA and the host name dialled.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const TlsMaterial& material);

// The verified peer's certificate (PEM), or "" when it presented none.
std::string PeerCertificatePem(const grpc::AuthContext& context);

// The verified peer's identity from its certificate. UNAUTHENTICATED if the
// connection carries no certificate or it does not name a party.
absl::StatusOr<Identity> PeerIdentity(const grpc::AuthContext& context);

// PeerIdentity, then PERMISSION_DENIED if `revoked` lists the certificate.
absl::StatusOr<Identity> AuthenticatePeer(const grpc::AuthContext& context,
                                          RevocationList& revoked);

}  // namespace spoor

#endif  // SPOOR_COMMON_TLS_H_
