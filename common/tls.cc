#include "common/tls.h"

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/file_util.h"
#include "common/status.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace spoor {
namespace {

using grpc::experimental::IdentityKeyCertPair;
using grpc::experimental::StaticDataCertificateProvider;

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no ", what, " file configured in [tls]"));
  }
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) {
    return absl::Status(pem.status().code(),
                        absl::StrCat("cannot read the ", what, " ", path, ": ",
                                     pem.status().message()));
  }
  return pem;
}

std::shared_ptr<StaticDataCertificateProvider> Provider(const TlsMaterial& material) {
  std::vector<IdentityKeyCertPair> pairs = {{material.key_pem, material.cert_pem}};
  return std::make_shared<StaticDataCertificateProvider>(material.ca_pem, pairs);
}

}  // namespace

absl::StatusOr<TlsFiles> ReadTlsFiles(const ConfigTable& root, const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(ConfigTable tls, root.Table("tls"));
  SPOOR_RETURN_IF_ERROR(tls.CheckKnownKeys({"ca", "cert", "key"}));
  TlsFiles files;
  SPOOR_ASSIGN_OR_RETURN(files.ca, tls.RequiredString("ca"));
  SPOOR_ASSIGN_OR_RETURN(files.cert, tls.RequiredString("cert"));
  SPOOR_ASSIGN_OR_RETURN(files.key, tls.RequiredString("key"));
  files.ca = ResolveRelativeTo(path, files.ca);
  files.cert = ResolveRelativeTo(path, files.cert);
  files.key = ResolveRelativeTo(path, files.key);
  return files;
}

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files) {
  TlsMaterial material;
  SPOOR_ASSIGN_OR_RETURN(material.ca_pem, ReadPem(files.ca, "CA certificate"));
  SPOOR_ASSIGN_OR_RETURN(material.cert_pem, ReadPem(files.cert, "certificate"));
  SPOOR_RETURN_IF_ERROR(CheckPrivateFileMode(files.key));
  SPOOR_ASSIGN_OR_RETURN(material.key_pem, ReadPem(files.key, "private key"));
  absl::StatusOr<Identity> identity = IdentityFromCertificate(material.cert_pem);
  if (!identity.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("certificate ", files.cert, ": ", identity.status().message()));
  }
  material.identity = *std::move(identity);
  absl::Status verified = VerifyCertificate(material.ca_pem, material.cert_pem, absl::Now());
  if (!verified.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate ", files.cert, " does not check against CA ", files.ca, ": ",
        verified.message(), "; issue a new one with `spoor pki issue`"));
  }
  return material;
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const TlsMaterial& material) {
  grpc::experimental::TlsServerCredentialsOptions options(Provider(material));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const TlsMaterial& material) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(Provider(material));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

absl::StatusOr<Identity> PeerIdentity(const grpc::AuthContext& context) {
  std::vector<grpc::string_ref> pems = context.FindPropertyValues("x509_pem_cert");
  if (pems.empty()) {
    return absl::UnauthenticatedError("the connection presented no client certificate");
  }
  absl::StatusOr<Identity> identity =
      IdentityFromCertificate(std::string_view(pems[0].data(), pems[0].size()));
  if (!identity.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate: ", identity.status().message()));
  }
  return identity;
}

}  // namespace spoor
