#include "common/tls.h"

#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <mutex>

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
    return absl::Status(pem.status().code(), absl::StrCat("cannot read the ", what, " ", path, ": ",
                                                          pem.status().message()));
  }
  return pem;
}

std::shared_ptr<StaticDataCertificateProvider> Provider(const TlsMaterial& material) {
  std::vector<IdentityKeyCertPair> pairs = {{material.key_pem, material.cert_pem}};
  return std::make_shared<StaticDataCertificateProvider>(material.ca_pem, pairs);
}

// OpenSSL configuration that every SSL_CTX of this process starts from (the
// ssl_conf module's "system_default"). gRPC 1.51 sets a minimum version of
// TLS 1.2 on its contexts and offers no C++ setting to raise it; the
// protocol list below turns TLS 1.2 and older off through the context's
// options, which that minimum does not clear. The cipher line keeps
// Debian's own system default.
constexpr char kTls13OnlyConfig[] =
    "spoor_openssl_conf = spoor_openssl\n"
    "[spoor_openssl]\n"
    "ssl_conf = spoor_ssl\n"
    "[spoor_ssl]\n"
    "system_default = spoor_tls\n"
    "[spoor_tls]\n"
    "MinProtocol = TLSv1.3\n"
    "Protocol = -ALL, TLSv1.3\n"
    "CipherString = DEFAULT:@SECLEVEL=2\n";

absl::Status LoadTls13OnlyConfig() {
  // Loads the system configuration first, so that ours is applied after it.
  if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1) {
    return absl::InternalError("cannot initialise OpenSSL");
  }
  BIO* bio = BIO_new_mem_buf(kTls13OnlyConfig, -1);
  CONF* conf = NCONF_new(nullptr);
  long error_line = 0;
  bool ok = bio != nullptr && conf != nullptr && NCONF_load_bio(conf, bio, &error_line) > 0 &&
            CONF_modules_load(conf, "spoor_openssl_conf", 0) > 0;
  NCONF_free(conf);
  BIO_free(bio);
  if (!ok) {
    ERR_clear_error();
    return absl::InternalError("cannot configure OpenSSL for TLS 1.3 only");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RequireTls13() {
  // Process-wide by nature: OpenSSL's configuration is global. Loaded once.
  static std::once_flag once;
  static absl::Status* status = nullptr;
  std::call_once(once, [] { status = new absl::Status(LoadTls13OnlyConfig()); });
  return *status;
}

absl::StatusOr<TlsFiles> ReadTlsFiles(const ConfigTable& root, const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(ConfigTable tls, root.Table("tls"));
  SPOOR_RETURN_IF_ERROR(tls.CheckKnownKeys({"ca", "cert", "key", "crl"}));
  TlsFiles files;
  SPOOR_ASSIGN_OR_RETURN(files.ca, tls.RequiredString("ca"));
  SPOOR_ASSIGN_OR_RETURN(files.cert, tls.RequiredString("cert"));
  SPOOR_ASSIGN_OR_RETURN(files.key, tls.RequiredString("key"));
  files.ca = ResolveRelativeTo(path, files.ca);
  files.cert = ResolveRelativeTo(path, files.cert);
  files.key = ResolveRelativeTo(path, files.key);
  SPOOR_ASSIGN_OR_RETURN(files.crl, tls.OptionalString("crl", ""));
  if (!files.crl.empty()) files.crl = ResolveRelativeTo(path, files.crl);
  return files;
}

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files) {
  SPOOR_RETURN_IF_ERROR(RequireTls13());
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
    return absl::FailedPreconditionError(
        absl::StrCat("certificate ", files.cert, " does not check against CA ", files.ca, ": ",
                     verified.message(), "; issue a new one with `spoor pki issue`"));
  }
  return material;
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const TlsMaterial& material) {
  RequireTls13().IgnoreError();  // LoadTlsMaterial reported a failure already
  grpc::experimental::TlsServerCredentialsOptions options(Provider(material));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const TlsMaterial& material) {
  RequireTls13().IgnoreError();  // LoadTlsMaterial reported a failure already
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(Provider(material));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

std::string PeerCertificatePem(const grpc::AuthContext& context) {
  std::vector<grpc::string_ref> pems = context.FindPropertyValues("x509_pem_cert");
  if (pems.empty()) return "";
  return std::string(pems[0].data(), pems[0].size());
}

absl::StatusOr<Identity> PeerIdentity(const grpc::AuthContext& context) {
  std::string pem = PeerCertificatePem(context);
  if (pem.empty()) {
    return absl::UnauthenticatedError("the connection presented no client certificate");
  }
  absl::StatusOr<Identity> identity = IdentityFromCertificate(pem);
  if (!identity.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate: ", identity.status().message()));
  }
  return identity;
}

absl::StatusOr<Identity> AuthenticatePeer(const grpc::AuthContext& context,
                                          RevocationList& revoked) {
  SPOOR_ASSIGN_OR_RETURN(Identity identity, PeerIdentity(context));
  SPOOR_RETURN_IF_ERROR(revoked.Check(identity));
  return identity;
}

}  // namespace spoor
