#include "common/internal/oci_descriptor.h"

#include "absl/strings/str_cat.h"
#include "common/oci_image.h"
#include "common/status.h"

namespace spoor::internal {
namespace {

template <typename Json>
absl::StatusOr<Json> ParseAs(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(what), " is not valid JSON: ", e.what()));
  }
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what) {
  return ParseAs<nlohmann::json>(text, what);
}

absl::StatusOr<nlohmann::ordered_json> ParseOrderedJson(std::string_view text,
                                                        std::string_view what) {
  return ParseAs<nlohmann::ordered_json>(text, what);
}

absl::StatusOr<Descriptor> ParseDescriptor(const nlohmann::json& j, std::string_view where) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("a descriptor in ", Sv(where), " ", Sv(why),
                                                   "; the image is malformed, build it again"));
  };
  if (!j.is_object()) return bad("is not a JSON object");
  auto media_type = j.find("mediaType");
  if (media_type == j.end() || !media_type->is_string()) return bad("has no string \"mediaType\"");
  auto digest = j.find("digest");
  if (digest == j.end() || !digest->is_string()) return bad("has no string \"digest\"");
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return bad("has no non-negative integer \"size\"");
  }
  Descriptor d;
  d.media_type = media_type->get<std::string>();
  d.digest = digest->get<std::string>();
  d.size = size->get<int64_t>();
  if (absl::Status s = CheckDigest(d.digest); !s.ok()) {
    return bad(absl::StrCat("has digest \"", d.digest, "\", not sha256:<64 lowercase hex>"));
  }
  return d;
}

absl::Status BlobMismatchError(std::string_view digest) {
  return absl::DataLossError(absl::StrCat(
      "blob ", Sv(digest), " does not match its digest (the image was altered after it was made)"));
}

absl::Status VerifyBlob(const Descriptor& descriptor, std::string_view bytes) {
  if (static_cast<int64_t>(bytes.size()) != descriptor.size ||
      Sha256Digest(bytes) != descriptor.digest) {
    return BlobMismatchError(descriptor.digest);
  }
  return absl::OkStatus();
}

bool IsIndexMediaType(std::string_view media_type) {
  return media_type == kOciIndexMediaType || media_type == kDockerManifestListMediaType;
}

bool IsManifestMediaType(std::string_view media_type) {
  return media_type == kOciManifestMediaType || media_type == kDockerManifestMediaType;
}

bool IsConfigMediaType(std::string_view media_type) {
  return media_type == kOciConfigMediaType || media_type == kDockerConfigMediaType;
}

LayerCompression LayerCompressionOf(std::string_view media_type) {
  if (media_type == kOciLayerMediaType) return LayerCompression::kNone;
  if (media_type == kOciLayerGzipMediaType) return LayerCompression::kGzip;
  if (media_type == kDockerLayerMediaType ||
      media_type == "application/vnd.docker.image.rootfs.diff.tar") {
    return LayerCompression::kSniff;
  }
  return LayerCompression::kUnsupported;
}

std::string BlobPath(std::string_view digest) {
  return absl::StrCat("blobs/sha256/", Sv(digest.substr(std::string_view("sha256:").size())));
}

}  // namespace spoor::internal
