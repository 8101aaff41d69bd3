// Small file helpers. Every write that others may read is atomic: a
// temporary file in the same directory, fsync, then rename, so a reader sees
// the old or the new content and never half of it.
#ifndef SPOOR_COMMON_FILE_UTIL_H_
#define SPOOR_COMMON_FILE_UTIL_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace spoor {

// A failed system call on a file as a Status: NOT_FOUND (ENOENT),
// PERMISSION_DENIED (EACCES, EPERM), INTERNAL otherwise; the message is
// "<what>: <strerror>".
absl::Status ErrnoStatus(int err, const std::string& what);

// Reads a whole file. NOT_FOUND if it does not exist, PERMISSION_DENIED if it
// cannot be read; the message names the path and what to do.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to `path` atomically with the given permission bits.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents,
                                 mode_t mode = 0644);

// FAILED_PRECONDITION unless `path` is a regular file readable and writable
// by its owner only (0600 or 0400), as private keys must be.
absl::Status CheckPrivateFileMode(const std::string& path);

// Resolves `path` relative to the directory holding `config_path`, unless it
// is absolute.
std::string ResolveRelativeTo(const std::string& config_path, const std::string& path);

}  // namespace spoor

#endif  // SPOOR_COMMON_FILE_UTIL_H_
