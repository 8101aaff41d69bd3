// Mutual TLS for every spoor connection, from the consortium PKI's PEM files.
//
// Both sides present a certificate issued by the consortium CA and verify the
// other's. gRPC 1.51 with OpenSSL 3 negotiates TLS 1.3 (see docs/security.md
// for what the gRPC version in Debian does and does not let us pin).
#ifndef SPOOR_COMMON_TLS_H_
#define SPOOR_COMMON_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/pki.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace spoor {

// Paths of the PEM files a party needs.
struct TlsFiles {
  std::string ca;
  std::string cert;
  std::string key;
};

class ConfigTable;

// Reads the [tls] table (ca, cert, key) of a config file, resolving paths
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

// The verified peer's identity from its certificate. UNAUTHENTICATED if the
// connection carries no certificate or it does not name a party.
absl::StatusOr<Identity> PeerIdentity(const grpc::AuthContext& context);

}  // namespace spoor

#endif  // SPOOR_COMMON_TLS_H_
