// The consortium's revoked certificates, from the CRL file `spoor pki revoke`
// writes. The file is re-read whenever it changes, so a revocation takes
// effect on the next call without restarting anything.
#ifndef SPOOR_COMMON_REVOCATION_LIST_H_
#define SPOOR_COMMON_REVOCATION_LIST_H_

#include <sys/types.h>

#include <ctime>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/pki.h"

namespace spoor {

// Thread-safe.
class RevocationList {
 public:
  // An empty `path` revokes nothing, ever (no CRL configured). Otherwise
  // reads and verifies the file now: NOT_FOUND / INVALID_ARGUMENT /
  // PERMISSION_DENIED naming the file, as ReadRevocationList.
  static absl::StatusOr<std::unique_ptr<RevocationList>> Load(std::string ca_pem, std::string path);

  // PERMISSION_DENIED naming the holder and serial when `identity`'s
  // certificate is revoked. Looks at the file's size and modification time
  // first (one stat) and re-reads it when they changed. A file that no
  // longer reads or verifies leaves the last good list in force and is
  // reported once (log warning) until it changes again.
  absl::Status Check(const Identity& identity);

  const std::string& path() const { return path_; }

 private:
  RevocationList(std::string ca_pem, std::string path) : ca_pem_(ca_pem), path_(path) {}
  absl::Status Reload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string ca_pem_;
  const std::string path_;
  absl::Mutex mu_;
  std::set<std::string> serials_ ABSL_GUARDED_BY(mu_);
  off_t size_ ABSL_GUARDED_BY(mu_) = -1;
  timespec mtime_ ABSL_GUARDED_BY(mu_) = {};
};

}  // namespace spoor

#endif  // SPOOR_COMMON_REVOCATION_LIST_H_
