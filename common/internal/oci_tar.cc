#include "common/internal/oci_tar.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/internal/oci_descriptor.h"

namespace spoor::internal {
namespace {

// libarchive's write callback for BuildTar: appends to a std::string.
la_ssize_t AppendToString(struct archive*, void* client_data, const void* buffer, size_t length) {
  static_cast<std::string*>(client_data)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

absl::Status WriteEntries(struct archive* a, const std::vector<TarEntry>& entries,
                          std::string_view what) {
  for (const TarEntry& e : entries) {
    ArchiveEntryPtr entry(archive_entry_new());
    if (entry == nullptr) return absl::InternalError("out of memory");
    archive_entry_copy_pathname(entry.get(), e.path.c_str());
    archive_entry_set_perm(entry.get(), static_cast<mode_t>(e.mode) & 07777);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_mtime(entry.get(), 0, 0);
    int64_t size = 0;
    switch (e.type) {
      case TarEntry::Type::kFile:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        size = static_cast<int64_t>(e.contents.size());
        break;
      case TarEntry::Type::kDirectory:
        archive_entry_set_filetype(entry.get(), AE_IFDIR);
        break;
      case TarEntry::Type::kSymlink:
        archive_entry_set_filetype(entry.get(), AE_IFLNK);
        archive_entry_copy_symlink(entry.get(), e.link_target.c_str());
        break;
      case TarEntry::Type::kHardlink:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_copy_hardlink(entry.get(), e.link_target.c_str());
        break;
      case TarEntry::Type::kFifo:
        archive_entry_set_filetype(entry.get(), AE_IFIFO);
        break;
    }
    archive_entry_set_size(entry.get(), size);
    if (archive_write_header(a, entry.get()) < ARCHIVE_WARN) {
      return ArchiveError(absl::StatusCode::kInternal, a,
                          absl::StrCat("cannot write entry ", e.path, " of ", Sv(what)));
    }
    if (size > 0) {
      la_ssize_t n = archive_write_data(a, e.contents.data(), e.contents.size());
      if (n != static_cast<la_ssize_t>(size)) {
        return ArchiveError(absl::StatusCode::kInternal, a,
                            absl::StrCat("cannot write entry ", e.path, " of ", Sv(what)));
      }
    }
  }
  if (archive_write_close(a) != ARCHIVE_OK) {
    return ArchiveError(absl::StatusCode::kInternal, a, absl::StrCat("cannot finish ", Sv(what)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ArchiveError(absl::StatusCode code, struct archive* a, std::string_view what) {
  const char* message = a == nullptr ? nullptr : archive_error_string(a);
  return absl::Status(code,
                      absl::StrCat(Sv(what), ": ", message == nullptr ? "unknown error" : message));
}

absl::StatusOr<std::string> BuildTar(const std::vector<TarEntry>& entries) {
  ArchiveWriter a(archive_write_new());
  if (a == nullptr) return absl::InternalError("out of memory");
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK) {
    return ArchiveError(absl::StatusCode::kInternal, a.get(), "cannot select the tar format");
  }
  std::string out;
  if (archive_write_open(a.get(), &out, nullptr, &AppendToString, nullptr) != ARCHIVE_OK) {
    return ArchiveError(absl::StatusCode::kInternal, a.get(), "cannot start a tar");
  }
  absl::Status status = WriteEntries(a.get(), entries, "a tar in memory");
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::string> Gzip(std::string_view data) {
  ArchiveWriter a(archive_write_new());
  if (a == nullptr) return absl::InternalError("out of memory");
  std::string out;
  if (archive_write_set_format_raw(a.get()) != ARCHIVE_OK ||
      archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
      archive_write_open(a.get(), &out, nullptr, &AppendToString, nullptr) != ARCHIVE_OK) {
    return ArchiveError(absl::StatusCode::kInternal, a.get(), "cannot set up gzip");
  }
  ArchiveEntryPtr entry(archive_entry_new());
  if (entry == nullptr) return absl::InternalError("out of memory");
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_copy_pathname(entry.get(), "data");
  archive_entry_set_size(entry.get(), static_cast<int64_t>(data.size()));
  if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK ||
      (!data.empty() && archive_write_data(a.get(), data.data(), data.size()) !=
                            static_cast<la_ssize_t>(data.size())) ||
      archive_write_close(a.get()) != ARCHIVE_OK) {
    return ArchiveError(absl::StatusCode::kInternal, a.get(), "cannot compress");
  }
  return out;
}

absl::Status WriteTarToFd(const std::vector<TarEntry>& entries, int fd, std::string_view what) {
  ArchiveWriter a(archive_write_new());
  if (a == nullptr) return absl::InternalError("out of memory");
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_open_fd(a.get(), fd) != ARCHIVE_OK) {
    return ArchiveError(absl::StatusCode::kInternal, a.get(),
                        absl::StrCat("cannot write ", Sv(what)));
  }
  return WriteEntries(a.get(), entries, what);
}

absl::StatusOr<std::string> NormalizeEntryPath(std::string_view path) {
  if (!path.empty() && path.front() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("entry \"", Sv(path), "\" has an absolute path"));
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("entry \"", Sv(path), "\" has a \"..\" component"));
    }
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  return absl::StrJoin(parts, "/");
}

absl::StatusOr<std::map<std::string, std::string>> ReadTarFiles(const std::string& path,
                                                                int64_t max_bytes) {
  ArchiveReader a(archive_read_new());
  if (a == nullptr) return absl::InternalError("out of memory");
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_gzip(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return ArchiveError(absl::StatusCode::kInvalidArgument, a.get(),
                        absl::StrCat(path, " is neither an OCI image directory nor a tar of one"));
  }
  std::map<std::string, std::string> files;
  int64_t total = 0;
  const std::string too_big = absl::StrCat(path, " holds more than ", max_bytes,
                                           " bytes, the most an algorithm image may hold");
  for (;;) {
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return ArchiveError(absl::StatusCode::kInvalidArgument, a.get(),
                          absl::StrCat(path, " is not a readable tar"));
    }
    const char* raw_name = archive_entry_pathname(entry);
    absl::StatusOr<std::string> name = NormalizeEntryPath(raw_name == nullptr ? "" : raw_name);
    if (!name.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", name.status().message(), "; refusing the image"));
    }
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != nullptr) {
      continue;
    }
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > max_bytes - total) {
      return absl::InvalidArgumentError(too_big);
    }
    std::string contents;
    char buf[1 << 16];
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof(buf));
      if (n < 0) {
        return ArchiveError(absl::StatusCode::kInvalidArgument, a.get(),
                            absl::StrCat("cannot read ", *name, " from ", path));
      }
      if (n == 0) break;
      total += n;
      if (total > max_bytes) return absl::InvalidArgumentError(too_big);
      contents.append(buf, static_cast<size_t>(n));
    }
    files[*std::move(name)] = std::move(contents);
  }
  return files;
}

}  // namespace spoor::internal
