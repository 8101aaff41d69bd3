// Algorithm references and fetching an image blob by blob: how the registry
// loads an image from its blob store and how a node fetches one from the
// registry. Either way every blob is verified against its digest.
#ifndef SPOOR_COMMON_IMAGE_FETCH_H_
#define SPOOR_COMMON_IMAGE_FETCH_H_

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "common/oci_image.h"

namespace spoor {

// True for a container algorithm's NAME@VERSION, false for a built-in
// algorithm's name.
inline bool IsContainerReference(std::string_view algorithm) {
  return algorithm.find('@') != std::string_view::npos;
}

// "NAME@VERSION" -> {name, version}; INVALID_ARGUMENT saying the form.
absl::StatusOr<std::pair<std::string, std::string>> ParseAlgorithmReference(
    std::string_view reference);

// Returns the bytes of one blob, or NOT_FOUND.
using BlobSource = std::function<absl::StatusOr<std::string>(const std::string& digest)>;

// The image whose index.json is `index_json`, with every blob it reaches
// (manifests, nested indexes, configs, layers) taken from `source` and
// checked against its digest and size (DATA_LOSS naming the blob
// otherwise). INVALID_ARGUMENT for a malformed index or manifest;
// `max_bytes` caps the image's total size.
absl::StatusOr<OciImage> FetchImage(const std::string& index_json, const BlobSource& source,
                                    int64_t max_bytes = int64_t{1} << 30);

}  // namespace spoor

#endif  // SPOOR_COMMON_IMAGE_FETCH_H_
