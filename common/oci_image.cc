// The OCI image layout on disk (ReadImage, WriteImage), digests, and the
// signature documents kept in index.json. Manifests are read and built in
// internal/oci_manifest.cc, layers unpacked in internal/oci_unpack.cc.
#include "common/oci_image.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/audit_log.h"
#include "common/file_util.h"
#include "common/internal/oci_descriptor.h"
#include "common/internal/oci_tar.h"
#include "common/status.h"

namespace spoor {
namespace {

using internal::Descriptor;
using internal::Sv;

constexpr char kOciLayoutFile[] = "oci-layout";
constexpr char kIndexFile[] = "index.json";
constexpr char kOciLayoutJson[] = R"({"imageLayoutVersion":"1.0.0"})";
// Nested indexes deeper than this are refused (no real image comes close).
constexpr int kMaxIndexDepth = 8;

// Reads one file of the layout by its path inside it: nullopt if absent.
using LayoutFileReader =
    std::function<absl::StatusOr<std::optional<std::string>>(const std::string& name)>;

// Loads the blobs reachable from index.json into an OciImage, verifying each.
class BlobLoader {
 public:
  BlobLoader(std::string image_path, LayoutFileReader read, OciImage& image)
      : image_path_(std::move(image_path)), read_(std::move(read)), image_(image) {}

  // Loads the descriptor `j` found in `where`, and what it refers to.
  absl::Status Load(const nlohmann::json& j, const std::string& where, int depth) {
    SPOOR_ASSIGN_OR_RETURN(Descriptor d, internal::ParseDescriptor(j, where));
    if (auto it = image_.blobs.find(d.digest); it != image_.blobs.end()) {
      // Already loaded (and its key is its digest): only the size can differ.
      if (static_cast<int64_t>(it->second.size()) != d.size) {
        return internal::BlobMismatchError(d.digest);
      }
      return absl::OkStatus();
    }
    const std::string name = internal::BlobPath(d.digest);
    SPOOR_ASSIGN_OR_RETURN(std::optional<std::string> bytes, read_(name));
    if (!bytes.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          image_path_, " lacks ", name, " (referenced by ", where,
          "); the image is incomplete: export it again, e.g. podman save --format oci-archive "
          "-o IMAGE.tar NAME"));
    }
    SPOOR_RETURN_IF_ERROR(internal::VerifyBlob(d, *bytes));
    const std::string& blob = image_.blobs.emplace(d.digest, *std::move(bytes)).first->second;

    if (internal::IsIndexMediaType(d.media_type)) {
      if (depth >= kMaxIndexDepth) {
        return absl::InvalidArgumentError(
            absl::StrCat(image_path_, ": indexes nested more than ", kMaxIndexDepth, " deep"));
      }
      return LoadIndex(blob, absl::StrCat("index ", d.digest), depth + 1);
    }
    if (internal::IsManifestMediaType(d.media_type)) {
      const std::string what = absl::StrCat("manifest ", d.digest);
      SPOOR_ASSIGN_OR_RETURN(nlohmann::json manifest, internal::ParseJson(blob, what));
      if (!manifest.is_object()) return NotAnObject(what);
      auto config = manifest.find("config");
      if (config == manifest.end()) {
        return absl::InvalidArgumentError(absl::StrCat(what, " has no config descriptor"));
      }
      SPOOR_RETURN_IF_ERROR(Load(*config, what, depth));
      auto layers = manifest.find("layers");
      if (layers != manifest.end()) {
        if (!layers->is_array()) {
          return absl::InvalidArgumentError(absl::StrCat(what, ": \"layers\" is not an array"));
        }
        for (const nlohmann::json& layer : *layers) SPOOR_RETURN_IF_ERROR(Load(layer, what, depth));
      }
    }
    // Any other media type (config, layer, artifact) is an opaque blob.
    return absl::OkStatus();
  }

  // Loads every descriptor in the index `text`'s "manifests".
  absl::Status LoadIndex(std::string_view text, const std::string& where, int depth) {
    SPOOR_ASSIGN_OR_RETURN(nlohmann::json index, internal::ParseJson(text, where));
    if (!index.is_object()) return NotAnObject(where);
    auto manifests = index.find("manifests");
    if (manifests == index.end() || !manifests->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " in ", image_path_, " has no \"manifests\" array"));
    }
    for (const nlohmann::json& d : *manifests) SPOOR_RETURN_IF_ERROR(Load(d, where, depth));
    return absl::OkStatus();
  }

 private:
  absl::Status NotAnObject(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " in ", image_path_, " is not a JSON object"));
  }

  const std::string image_path_;
  const LayoutFileReader read_;
  OciImage& image_;
};

absl::StatusOr<OciImage> ReadLayout(const std::string& path, const LayoutFileReader& read) {
  SPOOR_ASSIGN_OR_RETURN(std::optional<std::string> layout, read(kOciLayoutFile));
  if (!layout.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     " is not an OCI image layout (it has no oci-layout file); save the image with "
                     "podman save --format oci-archive -o IMAGE.tar NAME, or skopeo copy ... "
                     "oci-archive:IMAGE.tar"));
  }
  SPOOR_ASSIGN_OR_RETURN(nlohmann::json layout_json,
                         internal::ParseJson(*layout, absl::StrCat(path, "/oci-layout")));
  auto version =
      layout_json.is_object() ? layout_json.find("imageLayoutVersion") : layout_json.end();
  if (version == layout_json.end() || !version->is_string() ||
      version->get<std::string>().rfind("1.", 0) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     "/oci-layout does not say imageLayoutVersion 1.x; this is not an image layout "
                     "spoor can read"));
  }

  SPOOR_ASSIGN_OR_RETURN(std::optional<std::string> index, read(kIndexFile));
  if (!index.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " has no index.json; the image is incomplete, export it again"));
  }
  OciImage image;
  image.index_json = *std::move(index);
  BlobLoader loader(path, read, image);
  SPOOR_RETURN_IF_ERROR(loader.LoadIndex(image.index_json, absl::StrCat(path, "/index.json"), 0));
  return image;
}

absl::Status CheckBlobsForWriting(const OciImage& image) {
  for (const auto& [digest, bytes] : image.blobs) {
    if (!CheckDigest(digest).ok() || Sha256Digest(bytes) != digest) {
      return absl::InvalidArgumentError(
          absl::StrCat("the image's blob \"", digest, "\" is not keyed by its sha256 digest"));
    }
  }
  SPOOR_ASSIGN_OR_RETURN(nlohmann::json index, internal::ParseJson(image.index_json, "index.json"));
  if (!index.is_object()) return absl::InvalidArgumentError("index.json is not a JSON object");
  return absl::OkStatus();
}

// A unique sibling of `path` for writing before the rename.
std::string TemporarySibling(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  std::string base = path;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return absl::StrCat(base, ".tmp.", ::getpid(), ".", counter.fetch_add(1));
}

absl::Status WriteDirectory(const OciImage& image, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    std::error_code ec;
    if (!S_ISDIR(st.st_mode) || !std::filesystem::is_empty(path, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " already exists and is not an empty directory; remove it or choose another path"));
    }
  } else if (errno != ENOENT) {
    return ErrnoStatus(errno, absl::StrCat("cannot write the image to ", path));
  }
  const std::string tmp = TemporarySibling(path);
  auto write_all = [&]() -> absl::Status {
    for (const std::string& dir : {tmp, tmp + "/blobs", tmp + "/blobs/sha256"}) {
      if (::mkdir(dir.c_str(), 0755) != 0) {
        return ErrnoStatus(errno, absl::StrCat("cannot create ", dir));
      }
    }
    SPOOR_RETURN_IF_ERROR(WriteFileAtomically(tmp + "/" + kOciLayoutFile, kOciLayoutJson));
    SPOOR_RETURN_IF_ERROR(WriteFileAtomically(tmp + "/" + kIndexFile, image.index_json));
    for (const auto& [digest, bytes] : image.blobs) {
      SPOOR_RETURN_IF_ERROR(
          WriteFileAtomically(absl::StrCat(tmp, "/", internal::BlobPath(digest)), bytes));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      return ErrnoStatus(errno, absl::StrCat("cannot rename ", tmp, " to ", path));
    }
    return absl::OkStatus();
  };
  absl::Status status = write_all();
  if (!status.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
  }
  return status;
}

absl::Status WriteTar(const OciImage& image, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is a directory; choose a file name for the image tar"));
  }
  std::vector<internal::TarEntry> entries;
  entries.push_back({kOciLayoutFile, internal::TarEntry::Type::kFile, kOciLayoutJson, "", 0644});
  entries.push_back({kIndexFile, internal::TarEntry::Type::kFile, image.index_json, "", 0644});
  entries.push_back({"blobs/", internal::TarEntry::Type::kDirectory, "", "", 0755});
  entries.push_back({"blobs/sha256/", internal::TarEntry::Type::kDirectory, "", "", 0755});
  for (const auto& [digest, bytes] : image.blobs) {
    entries.push_back(
        {internal::BlobPath(digest), internal::TarEntry::Type::kFile, bytes, "", 0644});
  }

  const std::string tmp = TemporarySibling(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot create ", tmp));
  ::fchmod(fd, 0644);  // umask may have narrowed it
  absl::Status status = internal::WriteTarToFd(entries, fd, tmp);
  if (status.ok() && ::fsync(fd) != 0) {
    status = ErrnoStatus(errno, absl::StrCat("cannot flush ", tmp));
  }
  if (::close(fd) != 0 && status.ok()) {
    status = ErrnoStatus(errno, absl::StrCat("cannot close ", tmp));
  }
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

// The signature documents in `index`'s annotations.
absl::StatusOr<nlohmann::ordered_json> SignatureArray(const nlohmann::ordered_json& index) {
  nlohmann::ordered_json none = nlohmann::ordered_json::array();
  if (!index.is_object()) return absl::InvalidArgumentError("index.json is not a JSON object");
  auto annotations = index.find("annotations");
  if (annotations == index.end()) return none;
  if (!annotations->is_object()) {
    return absl::InvalidArgumentError("index.json's \"annotations\" is not a JSON object");
  }
  auto value = annotations->find(kSignaturesAnnotation);
  if (value == annotations->end()) return none;
  const std::string what = absl::StrCat("index.json's annotation ", kSignaturesAnnotation);
  if (!value->is_string())
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a string"));
  SPOOR_ASSIGN_OR_RETURN(nlohmann::ordered_json signatures,
                         internal::ParseOrderedJson(value->get<std::string>(), what));
  if (!signatures.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a JSON array"));
  }
  for (const auto& signature : signatures) {
    if (!signature.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " holds an entry that is not an object"));
    }
  }
  return signatures;
}

}  // namespace

std::string Sha256Digest(std::string_view bytes) {
  return absl::StrCat("sha256:", Sha256Hex(bytes));
}

absl::Status CheckDigest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  bool ok = digest.size() == kPrefix.size() + 64 && digest.substr(0, kPrefix.size()) == kPrefix;
  for (size_t i = kPrefix.size(); ok && i < digest.size(); ++i) {
    char c = digest[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", Sv(digest.substr(0, 80)), "\" is not a digest (sha256:<64 lowercase hex>)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<OciImage> ReadImage(const std::string& path, int64_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot read the image ", path));
  }
  if (S_ISDIR(st.st_mode)) {
    int64_t total = 0;
    LayoutFileReader read =
        [&](const std::string& name) -> absl::StatusOr<std::optional<std::string>> {
      const std::string file = absl::StrCat(path, "/", name);
      struct stat file_st;
      if (::stat(file.c_str(), &file_st) != 0) {
        if (errno == ENOENT) return std::nullopt;
        return ErrnoStatus(errno, absl::StrCat("cannot read ", file));
      }
      if (!S_ISREG(file_st.st_mode)) return std::nullopt;
      if (file_st.st_size > max_bytes - total) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, " holds more than ", max_bytes, " bytes, the most an algorithm image may hold"));
      }
      SPOOR_ASSIGN_OR_RETURN(std::string contents, ReadFile(file));
      total += static_cast<int64_t>(contents.size());
      return contents;
    };
    return ReadLayout(path, read);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is neither a directory nor a tar file"));
  }
  if (st.st_size > max_bytes + (int64_t{1} << 20)) {  // leave room for tar headers
    return absl::InvalidArgumentError(absl::StrCat(path, " holds more than ", max_bytes,
                                                   " bytes, the most an algorithm image may hold"));
  }
  SPOOR_ASSIGN_OR_RETURN(auto files, internal::ReadTarFiles(path, max_bytes));
  LayoutFileReader read =
      [&](const std::string& name) -> absl::StatusOr<std::optional<std::string>> {
    auto it = files.find(name);
    if (it == files.end()) return std::nullopt;
    return std::move(it->second);  // each blob is read once (the loader keeps it)
  };
  return ReadLayout(path, read);
}

absl::StatusOr<OciImage> FetchImage(const std::string& index_json, const BlobSource& source,
                                    int64_t max_bytes) {
  constexpr std::string_view kBlobDir = "blobs/sha256/";
  int64_t total = 0;
  LayoutFileReader read =
      [&](const std::string& name) -> absl::StatusOr<std::optional<std::string>> {
    // The loader asks for blobs by their path in a layout.
    SPOOR_ASSIGN_OR_RETURN(std::string bytes,
                           source(absl::StrCat("sha256:", name.substr(kBlobDir.size()))));
    total += static_cast<int64_t>(bytes.size());
    if (total > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("the image is larger than the limit of ", max_bytes, " bytes"));
    }
    return bytes;
  };
  OciImage image;
  image.index_json = index_json;
  BlobLoader loader("the image", read, image);
  SPOOR_RETURN_IF_ERROR(loader.LoadIndex(image.index_json, "index.json", 0));
  return image;
}

absl::Status WriteImage(const OciImage& image, const std::string& path, ImageFormat format) {
  SPOOR_RETURN_IF_ERROR(CheckBlobsForWriting(image));
  return format == ImageFormat::kDirectory ? WriteDirectory(image, path) : WriteTar(image, path);
}

absl::StatusOr<std::vector<std::string>> ImageSignatures(const OciImage& image) {
  SPOOR_ASSIGN_OR_RETURN(nlohmann::ordered_json index,
                         internal::ParseOrderedJson(image.index_json, "index.json"));
  SPOOR_ASSIGN_OR_RETURN(nlohmann::ordered_json signatures, SignatureArray(index));
  std::vector<std::string> out;
  for (const auto& signature : signatures) out.push_back(signature.dump());
  return out;
}

absl::Status AddImageSignature(OciImage& image, const std::string& signature_json) {
  SPOOR_ASSIGN_OR_RETURN(nlohmann::ordered_json signature,
                         internal::ParseOrderedJson(signature_json, "the signature"));
  auto string_member = [&](const char* key) -> const nlohmann::ordered_json* {
    auto it = signature.is_object() ? signature.find(key) : signature.end();
    return it != signature.end() && it->is_string() ? &*it : nullptr;
  };
  const auto* key_id = string_member("key_id");
  const auto* manifest_digest = string_member("manifest_digest");
  if (key_id == nullptr || manifest_digest == nullptr) {
    return absl::InvalidArgumentError(
        "the signature is not a JSON object with string members key_id and manifest_digest");
  }
  SPOOR_ASSIGN_OR_RETURN(nlohmann::ordered_json index,
                         internal::ParseOrderedJson(image.index_json, "index.json"));
  SPOOR_ASSIGN_OR_RETURN(nlohmann::ordered_json signatures, SignatureArray(index));
  nlohmann::ordered_json kept = nlohmann::ordered_json::array();
  for (auto& existing : signatures) {
    auto same = [&](const char* key, const nlohmann::ordered_json& value) {
      auto it = existing.find(key);
      return it != existing.end() && *it == value;
    };
    if (!(same("key_id", *key_id) && same("manifest_digest", *manifest_digest))) {
      kept.push_back(std::move(existing));
    }
  }
  kept.push_back(std::move(signature));
  try {
    index["annotations"][kSignaturesAnnotation] = kept.dump();
    image.index_json = index.dump();
  } catch (const nlohmann::ordered_json::exception& e) {  // dump() throws on bad UTF-8
    return absl::InvalidArgumentError(absl::StrCat("cannot store the signature: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace spoor
