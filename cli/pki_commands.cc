// spoor pki init | issue | revoke
#include <filesystem>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "common/file_util.h"
#include "common/pki.h"
#include "common/status.h"

namespace spoor {
namespace {

bool ValidPartyName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// The CA in `dir` (ca.crt and ca.key).
absl::StatusOr<CertificateAndKey> LoadCa(const std::string& dir) {
  absl::StatusOr<std::string> ca_cert = ReadFile(dir + "/ca.crt");
  absl::StatusOr<std::string> ca_key = ReadFile(dir + "/ca.key");
  if (!ca_cert.ok() || !ca_key.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no CA in ", dir, "; create one with `spoor pki init --dir ", dir, "`"));
  }
  CertificateAndKey ca;
  ca.certificate_pem = *std::move(ca_cert);
  ca.private_key_pem = *std::move(ca_key);
  return ca;
}

}  // namespace

absl::Status PkiInit(const std::string& dir, const std::string& consortium) {
  std::filesystem::create_directories(dir);
  std::string cert = dir + "/ca.crt", key = dir + "/ca.key";
  if (std::filesystem::exists(cert) || std::filesystem::exists(key)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a CA already exists in ", dir,
                     "; refusing to overwrite it (remove ca.crt and ca.key "
                     "yourself if you really mean to start a new consortium)"));
  }
  CaOptions options;
  options.consortium = consortium;
  SPOOR_ASSIGN_OR_RETURN(CertificateAndKey ca, CreateCertificateAuthority(options));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(key, ca.private_key_pem, 0600));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(cert, ca.certificate_pem, 0644));
  SPOOR_ASSIGN_OR_RETURN(std::string crl, CreateRevocationList(ca, {}, absl::Now()));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(dir + "/crl.pem", crl, 0644));
  std::cerr << "created consortium CA " << cert << " (key " << key
            << ", mode 0600: keep it offline) and an empty revocation list " << dir << "/crl.pem\n";
  return absl::OkStatus();
}

absl::Status PkiIssue(const PkiIssueOptions& options) {
  if (!ValidPartyName(options.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "name '", options.name, "' is not usable; use 1-64 letters, digits, '.', '-' or '_'"));
  }
  if (options.days < 1 || options.days > 3650) {
    return absl::InvalidArgumentError("--days must be between 1 and 3650");
  }
  SPOOR_ASSIGN_OR_RETURN(Role role, ParseRole(options.role));
  SPOOR_ASSIGN_OR_RETURN(CertificateAndKey ca, LoadCa(options.dir));
  std::string cert = absl::StrCat(options.dir, "/", options.name, ".crt");
  std::string key = absl::StrCat(options.dir, "/", options.name, ".key");
  if (std::filesystem::exists(cert) || std::filesystem::exists(key)) {
    return absl::AlreadyExistsError(
        absl::StrCat(cert, " already exists; choose another --name or remove the old files first"));
  }
  IssueOptions issue;
  issue.identity = {options.name, options.organisation, role};
  issue.dns_names = options.dns_names;
  issue.ip_addresses = options.ip_addresses;
  issue.validity = absl::Hours(24) * options.days;
  SPOOR_ASSIGN_OR_RETURN(CertificateAndKey issued, IssueCertificate(ca, issue));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(key, issued.private_key_pem, 0600));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(cert, issued.certificate_pem, 0644));
  std::cerr << "issued " << RoleName(role) << " certificate " << cert << " for " << options.name
            << " (" << options.organisation << "), valid " << options.days << " days\n";
  return absl::OkStatus();
}

absl::Status PkiRevoke(const std::string& dir, const std::string& certificate, std::string serial) {
  if (certificate.empty() == serial.empty()) {
    return absl::InvalidArgumentError("give exactly one of --cert FILE or --serial HEX");
  }
  SPOOR_ASSIGN_OR_RETURN(CertificateAndKey ca, LoadCa(dir));
  std::string who = "serial " + serial;
  if (!certificate.empty()) {
    SPOOR_ASSIGN_OR_RETURN(std::string pem, ReadFile(certificate));
    if (absl::Status issued = VerifyCertificate(ca.certificate_pem, pem, absl::Now());
        !issued.ok() && !absl::StrContains(issued.message(), "expired")) {
      return absl::FailedPreconditionError(
          absl::StrCat(certificate, " was not issued by the CA in ", dir, ": ", issued.message()));
    }
    SPOOR_ASSIGN_OR_RETURN(Identity identity, IdentityFromCertificate(pem));
    serial = identity.serial;
    who = absl::StrCat(identity.name, " (", identity.organisation, ", ",
                       std::string(RoleName(identity.role)), ", serial ", serial, ")");
  }
  const std::string path = dir + "/crl.pem";
  std::vector<RevokedCertificate> revoked;
  if (std::filesystem::exists(path)) {
    SPOOR_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
    absl::StatusOr<std::vector<RevokedCertificate>> current =
        ReadRevocationList(ca.certificate_pem, pem);
    if (!current.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": ", current.status().message(), "; move it aside and try again"));
    }
    revoked = *std::move(current);
  }
  for (const RevokedCertificate& entry : revoked) {
    if (absl::AsciiStrToUpper(entry.serial) == absl::AsciiStrToUpper(serial)) {
      std::cerr << who << " is already revoked in " << path << "\n";
      return absl::OkStatus();
    }
  }
  revoked.push_back({serial, absl::Now()});
  SPOOR_ASSIGN_OR_RETURN(std::string crl, CreateRevocationList(ca, revoked, absl::Now()));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(path, crl, 0644));
  std::cerr << "revoked " << who << " in " << path << " (" << revoked.size()
            << " revoked in all); copy it to the coordinator and every node ([tls] crl): they "
               "re-read it on the next call, no restart needed\n";
  return absl::OkStatus();
}

}  // namespace spoor
