// libarchive helpers shared by the OCI image code (common/oci_*.cc) and its
// tests. Not a public API: include only from common/.
//
// Every tar this file writes is deterministic: pax (restricted to ustar
// fields where they suffice), mtime 0, owner 0:0 with no user or group
// names, and gzip without a timestamp or file name, so the same entries give
// the same bytes and hence the same digest.
#ifndef SPOOR_COMMON_INTERNAL_OCI_TAR_H_
#define SPOOR_COMMON_INTERNAL_OCI_TAR_H_

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace spoor::internal {

struct ArchiveReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadDeleter>;
using ArchiveWriter = std::unique_ptr<struct archive, ArchiveWriteDeleter>;
using ArchiveEntryPtr = std::unique_ptr<struct archive_entry, ArchiveEntryDeleter>;

// "<what>: <libarchive's message>" with the given code.
absl::Status ArchiveError(absl::StatusCode code, struct archive* a, std::string_view what);

// One entry of a tar to write. `contents` is not owned: it must outlive the
// call that writes the tar.
struct TarEntry {
  enum class Type { kFile, kDirectory, kSymlink, kHardlink, kFifo };
  std::string path;
  Type type = Type::kFile;
  std::string_view contents;  // kFile only
  std::string link_target;    // kSymlink, kHardlink
  int mode = 0644;            // permission bits, including setuid etc.
};

// The uncompressed tar of `entries`, in the given order, in memory.
// INTERNAL if libarchive fails (out of memory).
absl::StatusOr<std::string> BuildTar(const std::vector<TarEntry>& entries);

// `data` compressed with gzip (no name, no timestamp, no padding after the
// stream: Go's gzip reader, used by Docker and podman, takes trailing bytes
// for a bad second member). INTERNAL on failure.
absl::StatusOr<std::string> Gzip(std::string_view data);

// Writes the (uncompressed) tar of `entries` to the open descriptor `fd`,
// which stays open. Errors name `what` (the file being written).
absl::Status WriteTarToFd(const std::vector<TarEntry>& entries, int fd, std::string_view what);

// Normalises the path of an entry in a tar that someone else made: strips
// leading "./" and "." components, repeated and trailing slashes. Returns ""
// for the root ("./"). INVALID_ARGUMENT for an absolute path or one with a
// ".." component, which no honest image holds.
absl::StatusOr<std::string> NormalizeEntryPath(std::string_view path);

// The regular files of the tar (optionally gzip-compressed) at `path`, by
// normalised name; directories are skipped, links and special files ignored.
// INVALID_ARGUMENT if it is not a tar, an entry name is unsafe (see
// NormalizeEntryPath), or the files add up to more than `max_bytes`.
absl::StatusOr<std::map<std::string, std::string>> ReadTarFiles(const std::string& path,
                                                                int64_t max_bytes);

}  // namespace spoor::internal

#endif  // SPOOR_COMMON_INTERNAL_OCI_TAR_H_
