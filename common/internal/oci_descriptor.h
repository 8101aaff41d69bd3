// OCI content descriptors and JSON parsing shared by common/oci_*.cc. Not a
// public API.
#ifndef SPOOR_COMMON_INTERNAL_OCI_DESCRIPTOR_H_
#define SPOOR_COMMON_INTERNAL_OCI_DESCRIPTOR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace spoor::internal {

// Debian's Abseil has its own string_view, distinct from std's: StrCat and
// friends need this conversion.
inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// A content descriptor: {"mediaType", "digest", "size", ...}.
struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
};

// Parses `text` as JSON. INVALID_ARGUMENT "<what> is not valid JSON: ...".
absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what);
absl::StatusOr<nlohmann::ordered_json> ParseOrderedJson(std::string_view text,
                                                        std::string_view what);

// Reads the descriptor `j` found in `where` (e.g. "index.json"). Requires a
// string mediaType, a sha256 digest and a non-negative integer size;
// INVALID_ARGUMENT naming `where` otherwise.
absl::StatusOr<Descriptor> ParseDescriptor(const nlohmann::json& j, std::string_view where);

// DATA_LOSS "blob sha256:... does not match its digest (the image was altered
// after it was made)" unless `bytes` has the descriptor's size and digest.
absl::Status VerifyBlob(const Descriptor& descriptor, std::string_view bytes);

// The same message, for callers that found a mismatch themselves.
absl::Status BlobMismatchError(std::string_view digest);

bool IsIndexMediaType(std::string_view media_type);
bool IsManifestMediaType(std::string_view media_type);
bool IsConfigMediaType(std::string_view media_type);

// How a layer of the given media type is compressed; kUnsupported for types
// spoor cannot unpack (zstd, foreign layers), kSniff for the Docker types,
// whose compression is read from the blob's first bytes.
enum class LayerCompression { kNone, kGzip, kSniff, kUnsupported };
LayerCompression LayerCompressionOf(std::string_view media_type);

// "blobs/sha256/<hex>" for a checked digest.
std::string BlobPath(std::string_view digest);

}  // namespace spoor::internal

#endif  // SPOOR_COMMON_INTERNAL_OCI_DESCRIPTOR_H_
