#include "common/image_fetch.h"

#include <deque>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

bool IsIndexType(const std::string& media_type) {
  return media_type == "application/vnd.oci.image.index.v1+json" ||
         media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool IsManifestType(const std::string& media_type) {
  return media_type == "application/vnd.oci.image.manifest.v1+json" ||
         media_type == "application/vnd.docker.distribution.manifest.v2+json";
}

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
};

absl::StatusOr<Descriptor> ParseDescriptor(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object() || !json.contains("digest") || !json["digest"].is_string() ||
      !json.contains("size") || !json["size"].is_number_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": a descriptor lacks its digest or size"));
  }
  Descriptor descriptor;
  descriptor.digest = json["digest"].get<std::string>();
  descriptor.size = json["size"].get<int64_t>();
  if (json.contains("mediaType") && json["mediaType"].is_string()) {
    descriptor.media_type = json["mediaType"].get<std::string>();
  }
  SPOOR_RETURN_IF_ERROR(CheckDigest(descriptor.digest));
  if (descriptor.size < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": a descriptor has a negative size"));
  }
  return descriptor;
}

absl::StatusOr<nlohmann::json> ParseJson(const std::string& text, const std::string& what) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a JSON object"));
  }
  return json;
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::string>> ParseAlgorithmReference(
    std::string_view reference) {
  size_t at = reference.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == reference.size() ||
      reference.find('@', at + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(reference),
                     "' is not an algorithm reference; write NAME@VERSION, e.g. colmean@1.0.0"));
  }
  return std::make_pair(std::string(reference.substr(0, at)),
                        std::string(reference.substr(at + 1)));
}

absl::StatusOr<OciImage> FetchImage(const std::string& index_json, const BlobSource& source,
                                    int64_t max_bytes) {
  OciImage image;
  image.index_json = index_json;
  SPOOR_ASSIGN_OR_RETURN(nlohmann::json index, ParseJson(index_json, "index.json"));
  if (!index.contains("manifests") || !index["manifests"].is_array()) {
    return absl::InvalidArgumentError("index.json lists no manifests");
  }
  // Descriptors still to fetch, and whether each is a JSON document to walk.
  std::deque<Descriptor> pending;
  for (const nlohmann::json& entry : index["manifests"]) {
    SPOOR_ASSIGN_OR_RETURN(Descriptor descriptor, ParseDescriptor(entry, "index.json"));
    pending.push_back(std::move(descriptor));
  }
  int64_t total = 0;
  while (!pending.empty()) {
    Descriptor descriptor = std::move(pending.front());
    pending.pop_front();
    if (image.blobs.contains(descriptor.digest)) continue;
    SPOOR_ASSIGN_OR_RETURN(std::string bytes, source(descriptor.digest));
    if (static_cast<int64_t>(bytes.size()) != descriptor.size ||
        Sha256Digest(bytes) != descriptor.digest) {
      return absl::DataLossError(absl::StrCat("blob ", descriptor.digest,
                                              " does not match its digest (the image was "
                                              "altered after it was made)"));
    }
    total += descriptor.size;
    if (total > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("the image is larger than the limit of ", max_bytes, " bytes"));
    }
    if (IsIndexType(descriptor.media_type) || IsManifestType(descriptor.media_type)) {
      SPOOR_ASSIGN_OR_RETURN(nlohmann::json document, ParseJson(bytes, descriptor.digest));
      if (IsIndexType(descriptor.media_type)) {
        if (!document.contains("manifests") || !document["manifests"].is_array()) {
          return absl::InvalidArgumentError(
              absl::StrCat("index ", descriptor.digest, " lists no manifests"));
        }
        for (const nlohmann::json& entry : document["manifests"]) {
          SPOOR_ASSIGN_OR_RETURN(Descriptor child, ParseDescriptor(entry, descriptor.digest));
          pending.push_back(std::move(child));
        }
      } else {
        if (!document.contains("config")) {
          return absl::InvalidArgumentError(
              absl::StrCat("manifest ", descriptor.digest, " has no config"));
        }
        SPOOR_ASSIGN_OR_RETURN(Descriptor config,
                               ParseDescriptor(document["config"], descriptor.digest));
        pending.push_back(std::move(config));
        if (document.contains("layers") && document["layers"].is_array()) {
          for (const nlohmann::json& entry : document["layers"]) {
            SPOOR_ASSIGN_OR_RETURN(Descriptor layer, ParseDescriptor(entry, descriptor.digest));
            pending.push_back(std::move(layer));
          }
        }
      }
    }
    image.blobs.emplace(descriptor.digest, std::move(bytes));
  }
  return image;
}

}  // namespace spoor
