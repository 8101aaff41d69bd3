#include "common/revocation_list.h"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/status.h"

namespace spoor {

absl::StatusOr<std::unique_ptr<RevocationList>> RevocationList::Load(std::string ca_pem,
                                                                     std::string path) {
  std::unique_ptr<RevocationList> list(new RevocationList(std::move(ca_pem), std::move(path)));
  if (list->path_.empty()) return list;
  absl::MutexLock lock(&list->mu_);
  SPOOR_RETURN_IF_ERROR(list->Reload());
  return list;
}

absl::Status RevocationList::Reload() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot read the revocation list ", path_));
  }
  if (st.st_size == size_ && st.st_mtim.tv_sec == mtime_.tv_sec &&
      st.st_mtim.tv_nsec == mtime_.tv_nsec) {
    return absl::OkStatus();
  }
  // Remember the attempt either way, so a bad file is reported once.
  size_ = st.st_size;
  mtime_ = st.st_mtim;
  SPOOR_ASSIGN_OR_RETURN(std::string pem, ReadFile(path_));
  absl::StatusOr<std::vector<RevokedCertificate>> revoked = ReadRevocationList(ca_pem_, pem);
  if (!revoked.ok()) {
    return absl::Status(revoked.status().code(),
                        absl::StrCat("revocation list ", path_, ": ", revoked.status().message()));
  }
  std::set<std::string> serials;
  for (const RevokedCertificate& entry : *revoked) serials.insert(entry.serial);
  serials_ = std::move(serials);
  return absl::OkStatus();
}

absl::Status RevocationList::Check(const Identity& identity) {
  if (path_.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (absl::Status reloaded = Reload(); !reloaded.ok()) {
    LogWarning(reloaded.message(), "; the last good revocation list stays in force");
  }
  if (serials_.count(identity.serial) == 0) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("the certificate of ", identity.name, " (serial ", identity.serial,
                   ") has been revoked by the consortium; ask the consortium admin for a new one"));
}

}  // namespace spoor
