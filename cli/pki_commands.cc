// spoor pki init | issue
#include <filesystem>
#include <iostream>

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
  std::cerr << "created consortium CA " << cert << " (key " << key
            << ", mode 0600: keep it offline)\n";
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
  CertificateAndKey ca;
  absl::StatusOr<std::string> ca_cert = ReadFile(options.dir + "/ca.crt");
  absl::StatusOr<std::string> ca_key = ReadFile(options.dir + "/ca.key");
  if (!ca_cert.ok() || !ca_key.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no CA in ", options.dir, "; create one with `spoor pki init --dir ", options.dir, "`"));
  }
  ca.certificate_pem = *std::move(ca_cert);
  ca.private_key_pem = *std::move(ca_key);
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

}  // namespace spoor
