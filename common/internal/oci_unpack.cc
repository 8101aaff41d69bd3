// Part of common/oci_image.h, kept apart so no file grows past a few hundred
// lines: UnpackImage, extracting an image's layers into a root filesystem.
//
// Layers come from algorithm authors and are treated as hostile. Two guards
// stand between an entry and the host filesystem:
//  - our own checks, before libarchive sees the entry: the name has no
//    absolute path or "..", and no existing component of its path (nor of a
//    hard link's target, nor of a whiteout's target) is a symbolic link;
//  - libarchive's ARCHIVE_EXTRACT_SECURE_SYMLINKS and SECURE_NODOTDOT.
// libarchive resolves relative names against the process's working
// directory, which a multi-threaded server must not change; so each entry is
// given the absolute name <realpath(rootfs)>/<name>, and
// ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS (which would refuse that) is
// replaced by our own check of the original name.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/internal/oci_descriptor.h"
#include "common/internal/oci_tar.h"
#include "common/oci_image.h"
#include "common/status.h"

namespace spoor {
namespace {

using internal::LayerCompression;
using internal::Sv;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";

class LayerUnpacker {
 public:
  LayerUnpacker(std::string root, std::string digest, const std::string& bytes,
                LayerCompression compression)
      : root_(std::move(root)), digest_(std::move(digest)), bytes_(bytes) {
    if (compression == LayerCompression::kSniff) {
      bool gzip = bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
                  static_cast<unsigned char>(bytes[1]) == 0x8b;
      compression = gzip ? LayerCompression::kGzip : LayerCompression::kNone;
    }
    gzip_ = compression == LayerCompression::kGzip;
  }

  // Whiteouts only hide what lower layers hold, so they are all applied
  // before any entry of this layer is written.
  absl::Status Unpack() {
    SPOOR_RETURN_IF_ERROR(
        ForEachEntry([this](struct archive*, struct archive_entry* entry, const std::string& name) {
          return ApplyWhiteout(entry, name);
        }));
    internal::ArchiveWriter disk(archive_write_disk_new());
    if (disk == nullptr) return absl::InternalError("out of memory");
    archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_UNLINK |
                                                   ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                   ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    SPOOR_RETURN_IF_ERROR(
        ForEachEntry([this, &disk](struct archive* reader, struct archive_entry* entry,
                                   const std::string& name) {
          return Extract(reader, disk.get(), entry, name);
        }));
    if (archive_write_close(disk.get()) < ARCHIVE_WARN) {
      return internal::ArchiveError(absl::StatusCode::kInternal, disk.get(),
                                    absl::StrCat("cannot finish unpacking layer ", digest_));
    }
    return absl::OkStatus();
  }

 private:
  template <typename Visit>
  absl::Status ForEachEntry(Visit visit) {
    internal::ArchiveReader reader(archive_read_new());
    if (reader == nullptr) return absl::InternalError("out of memory");
    archive_read_support_format_tar(reader.get());
    if (gzip_) archive_read_support_filter_gzip(reader.get());
    if (archive_read_open_memory(reader.get(), bytes_.data(), bytes_.size()) != ARCHIVE_OK) {
      return internal::ArchiveError(absl::StatusCode::kInvalidArgument, reader.get(),
                                    absl::StrCat("layer ", digest_, " is not a readable tar"));
    }
    for (;;) {
      struct archive_entry* entry = nullptr;
      int r = archive_read_next_header(reader.get(), &entry);
      if (r == ARCHIVE_EOF) return absl::OkStatus();
      if (r < ARCHIVE_WARN) {
        return internal::ArchiveError(absl::StatusCode::kInvalidArgument, reader.get(),
                                      absl::StrCat("layer ", digest_, " is not a readable tar"));
      }
      const char* raw = archive_entry_pathname(entry);
      absl::StatusOr<std::string> name = internal::NormalizeEntryPath(raw == nullptr ? "" : raw);
      if (!name.ok()) return Refuse(raw == nullptr ? "" : raw, "has an absolute path or \"..\"");
      SPOOR_RETURN_IF_ERROR(visit(reader.get(), entry, *name));
    }
  }

  absl::Status Refuse(std::string_view entry, std::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat("layer ", digest_, ": entry \"", Sv(entry),
                                                   "\" ", Sv(why), "; refusing the image"));
  }

  std::string Host(std::string_view name) const { return absl::StrCat(root_, "/", Sv(name)); }

  // The first existing component of `name` (all but its last one unless
  // `include_last`) that is a symbolic link, or "" if there is none.
  absl::StatusOr<std::string> SymlinkOnPath(std::string_view name, bool include_last) const {
    size_t pos = 0;
    while (pos < name.size()) {
      size_t slash = name.find('/', pos);
      bool last = slash == std::string_view::npos;
      if (last && !include_last) break;
      std::string_view prefix = last ? name : name.substr(0, slash);
      std::string host = Host(prefix);
      struct stat st;
      if (::lstat(host.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::string();
        return ErrnoStatus(errno, absl::StrCat("cannot inspect ", host));
      }
      if (S_ISLNK(st.st_mode)) return std::string(prefix);
      if (!S_ISDIR(st.st_mode)) return std::string();  // nothing below a file
      if (last) break;
      pos = slash + 1;
    }
    return std::string();
  }

  // Refuses `entry` if `path` (its own, what it whites out, or with
  // `link_target` its hard link's target) passes through a symbolic link.
  absl::Status CheckNoSymlink(std::string_view entry, std::string_view path, bool include_last,
                              bool link_target = false) {
    SPOOR_ASSIGN_OR_RETURN(std::string link, SymlinkOnPath(path, include_last));
    if (link.empty()) return absl::OkStatus();
    std::string subject =
        link_target ? absl::StrCat("is a hard link to ", Sv(path), ", which goes") : "goes";
    return Refuse(entry, absl::StrCat(subject, " through the symbolic link ", link,
                                      "; spoor does not follow links when unpacking"));
  }

  absl::Status ApplyWhiteout(struct archive_entry*, const std::string& name) {
    size_t slash = name.rfind('/');
    std::string dir = slash == std::string::npos ? "" : name.substr(0, slash);
    std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    if (base.rfind(kWhiteoutPrefix, 0) != 0) return absl::OkStatus();
    std::error_code ec;
    if (base == kOpaqueWhiteout) {
      SPOOR_RETURN_IF_ERROR(CheckNoSymlink(name, dir, /*include_last=*/true));
      std::string host = dir.empty() ? root_ : Host(dir);
      if (!std::filesystem::is_directory(std::filesystem::symlink_status(host, ec))) {
        return absl::OkStatus();
      }
      for (const auto& child : std::filesystem::directory_iterator(host, ec)) {
        std::filesystem::remove_all(child.path(), ec);
        if (ec) return Refuse(name, absl::StrCat("cannot be applied: ", ec.message()));
      }
      if (ec) return Refuse(name, absl::StrCat("cannot be applied: ", ec.message()));
      return absl::OkStatus();
    }
    if (base.rfind(".wh..wh.", 0) == 0) {
      return absl::OkStatus();  // other AUFS metadata (.wh..wh.plnk etc.)
    }
    std::string target_base = base.substr(kWhiteoutPrefix.size());
    if (target_base.empty() || target_base == "." || target_base == "..") {
      return Refuse(name, "is a whiteout of nothing");
    }
    std::string target = dir.empty() ? target_base : absl::StrCat(dir, "/", target_base);
    SPOOR_RETURN_IF_ERROR(CheckNoSymlink(name, target, /*include_last=*/false));
    // remove_all removes a symbolic link itself, never what it points to.
    std::filesystem::remove_all(Host(target), ec);
    if (ec) return Refuse(name, absl::StrCat("cannot be applied: ", ec.message()));
    return absl::OkStatus();
  }

  absl::Status Extract(struct archive* reader, struct archive* disk, struct archive_entry* entry,
                       const std::string& name) {
    size_t slash = name.rfind('/');
    std::string_view base =
        std::string_view(name).substr(slash == std::string::npos ? 0 : slash + 1);
    if (name.empty() || base.rfind(kWhiteoutPrefix, 0) == 0) return absl::OkStatus();
    const char* raw_target = archive_entry_hardlink(entry);
    // libarchive may leave the file type of a hard link entry unset.
    const mode_t type = raw_target != nullptr ? AE_IFREG : archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
      return absl::OkStatus();  // device nodes, FIFOs, sockets: skipped
    }
    SPOOR_RETURN_IF_ERROR(CheckNoSymlink(name, name, /*include_last=*/false));

    if (raw_target != nullptr) {
      absl::StatusOr<std::string> target = internal::NormalizeEntryPath(raw_target);
      if (!target.ok() || target->empty()) {
        return Refuse(name, "is a hard link with an absolute path or \"..\"");
      }
      SPOOR_RETURN_IF_ERROR(
          CheckNoSymlink(name, *target, /*include_last=*/true, /*link_target=*/true));
      struct stat st;
      if (::lstat(Host(*target).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return Refuse(name, "is a hard link to something that is not a file of the image");
      }
      archive_entry_copy_hardlink(entry, Host(*target).c_str());
    }
    archive_entry_copy_pathname(entry, Host(name).c_str());
    mode_t perm = archive_entry_perm(entry) & ~static_cast<mode_t>(S_ISUID | S_ISGID);
    if (type == AE_IFDIR) perm |= S_IRWXU;  // later layers may add to it
    archive_entry_set_perm(entry, perm);
    archive_entry_set_uid(entry, ::geteuid());
    archive_entry_set_gid(entry, ::getegid());
    archive_entry_acl_clear(entry);
    archive_entry_xattr_clear(entry);

    if (archive_write_header(disk, entry) < ARCHIVE_WARN) {
      return Refuse(name, absl::StrCat("cannot be written: ", archive_error_string(disk)));
    }
    if (type == AE_IFREG && archive_entry_size(entry) > 0) {
      for (;;) {
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int r = archive_read_data_block(reader, &block, &size, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
          return Refuse(name, absl::StrCat("cannot be read: ", archive_error_string(reader)));
        }
        if (archive_write_data_block(disk, block, size, offset) < ARCHIVE_WARN) {
          return Refuse(name, absl::StrCat("cannot be written: ", archive_error_string(disk)));
        }
      }
    }
    if (archive_write_finish_entry(disk) < ARCHIVE_WARN) {
      return Refuse(name, absl::StrCat("cannot be written: ", archive_error_string(disk)));
    }
    return absl::OkStatus();
  }

  const std::string root_;
  const std::string digest_;
  const std::string& bytes_;
  bool gzip_ = false;
};

// The canonical path of `rootfs`, which must be an empty directory.
absl::StatusOr<std::string> CheckRootfs(const std::string& rootfs) {
  struct stat st;
  if (::stat(rootfs.c_str(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot unpack into ", rootfs));
  }
  std::error_code ec;
  if (!S_ISDIR(st.st_mode) || !std::filesystem::is_empty(rootfs, ec) || ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot unpack into ", rootfs, ": it is not an empty directory"));
  }
  char resolved[PATH_MAX];
  if (::realpath(rootfs.c_str(), resolved) == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("cannot resolve ", rootfs));
  }
  std::string root = resolved;
  if (root == "/") {
    return absl::FailedPreconditionError("cannot unpack an image into /");
  }
  return root;
}

}  // namespace

absl::Status UnpackImage(const OciImage& image, const ResolvedImage& resolved,
                         const std::string& rootfs) {
  if (resolved.layer_digests.size() != resolved.layer_media_types.size()) {
    return absl::InvalidArgumentError("the resolved image does not give one media type per layer");
  }
  SPOOR_ASSIGN_OR_RETURN(std::string root, CheckRootfs(rootfs));
  for (size_t i = 0; i < resolved.layer_digests.size(); ++i) {
    const std::string& digest = resolved.layer_digests[i];
    auto it = image.blobs.find(digest);
    if (it == image.blobs.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the image lacks layer ", digest, "; it is incomplete, export it again"));
    }
    if (Sha256Digest(it->second) != digest) return internal::BlobMismatchError(digest);
    LayerCompression compression = internal::LayerCompressionOf(resolved.layer_media_types[i]);
    if (compression == LayerCompression::kUnsupported) {
      return absl::InvalidArgumentError(absl::StrCat("layer ", digest, " has media type ",
                                                     resolved.layer_media_types[i],
                                                     ", which spoor cannot unpack"));
    }
    LayerUnpacker unpacker(root, digest, it->second, compression);
    SPOOR_RETURN_IF_ERROR(unpacker.Unpack());
  }
  return absl::OkStatus();
}

}  // namespace spoor
