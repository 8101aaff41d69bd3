// Algorithm containers as OCI images.
//
// An algorithm ships as an OCI image in the standard image layout
// (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
// an `oci-layout` file, `index.json`, and content-addressed blobs under
// `blobs/sha256/<hex>`; either as a directory or as an uncompressed tar of
// that directory (what `podman save --format oci-archive` and
// `skopeo copy ... oci-archive:` write).
//
// The spoor description of the algorithm travels in the image manifest's
// annotations, so that a signature over the manifest digest covers it:
//   org.opencontainers.image.title        name (required;
//                                         [a-z0-9][a-z0-9._-]{0,63})
//   org.opencontainers.image.version      version (required;
//                                         [0-9A-Za-z][0-9A-Za-z.+_-]{0,63})
//   org.opencontainers.image.description  description (optional)
//   dev.spoor.algorithm.parameters        JSON array of {"name", "type"
//                                         ("number"|"text"|"numbers"|"texts"),
//                                         "required": bool, "description"}
//                                         (optional; absent = none)
//   dev.spoor.algorithm.aggregates        comma-separated block payload types
//                                         the algorithm returns, a subset of
//                                         count_table,vector,matrix,histogram,
//                                         levels (optional; absent = none)
//
// Signatures (common/algorithm_signature.h) are kept in index.json, which is
// not content-addressed: its top-level "annotations" map holds
// "dev.spoor.signatures", a string with a JSON array of signature documents.
// Adding a signature therefore never changes the manifest digest it signs.
//
// Every function here is thread-safe in the sense that it touches only its
// arguments (and, for the file functions, the named paths).
#ifndef SPOOR_COMMON_OCI_IMAGE_H_
#define SPOOR_COMMON_OCI_IMAGE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace spoor {

// Media types this code reads and writes.
inline constexpr char kOciIndexMediaType[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kOciManifestMediaType[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciConfigMediaType[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kOciLayerMediaType[] = "application/vnd.oci.image.layer.v1.tar";
inline constexpr char kOciLayerGzipMediaType[] = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr char kDockerManifestListMediaType[] =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kDockerManifestMediaType[] =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerConfigMediaType[] = "application/vnd.docker.container.image.v1+json";
inline constexpr char kDockerLayerMediaType[] = "application/vnd.docker.image.rootfs.diff.tar.gzip";

// Annotation keys.
inline constexpr char kTitleAnnotation[] = "org.opencontainers.image.title";
inline constexpr char kVersionAnnotation[] = "org.opencontainers.image.version";
inline constexpr char kDescriptionAnnotation[] = "org.opencontainers.image.description";
inline constexpr char kParametersAnnotation[] = "dev.spoor.algorithm.parameters";
inline constexpr char kAggregatesAnnotation[] = "dev.spoor.algorithm.aggregates";
inline constexpr char kRefNameAnnotation[] = "org.opencontainers.image.ref.name";
inline constexpr char kSignaturesAnnotation[] = "dev.spoor.signatures";

// One parameter an algorithm accepts. `type` is "number", "text",
// "numbers" or "texts"; `name` matches [A-Za-z_][A-Za-z0-9_]{0,63}.
struct ParameterSpec {
  std::string name;
  std::string type;
  bool required = false;
  std::string description;
};

// What an algorithm is, as its image's manifest annotations say.
struct AlgorithmInfo {
  std::string name;
  std::string version;
  std::string description;
  std::vector<ParameterSpec> parameters;
  std::vector<std::string> aggregates;  // block payload types, no duplicates
};

// An image held in memory: index.json's text and every blob by digest
// ("sha256:<64 hex>").
struct OciImage {
  std::string index_json;
  std::map<std::string, std::string> blobs;
};

// The one image manifest an OciImage describes, and what it says.
struct ResolvedImage {
  std::string manifest_digest;  // "sha256:..."
  std::string manifest_json;    // the manifest blob's bytes
  std::string config_digest;
  std::vector<std::string> layer_digests;  // in order, base first
  std::vector<std::string> layer_media_types;
  std::vector<std::string> entrypoint;  // config Entrypoint followed by Cmd
  std::vector<std::string> env;         // config Env ("NAME=value")
  AlgorithmInfo algorithm;
};

// "sha256:<lowercase hex of SHA-256(bytes)>".
std::string Sha256Digest(std::string_view bytes);

// OK if `digest` is "sha256:" followed by 64 lowercase hex digits, else
// INVALID_ARGUMENT (no other algorithm is accepted).
absl::Status CheckDigest(std::string_view digest);

// Reads the image at `path`, a directory or a tar (decided by stat; a
// gzip-compressed tar is accepted too): checks oci-layout, parses index.json
// and loads every blob reachable from it (manifests, nested indexes, configs,
// layers; blobs nothing refers to are left out), verifying each blob's
// SHA-256 and size against the descriptor that refers to it. The whole
// image is held in memory.
// Errors: NOT_FOUND if `path` does not exist; INVALID_ARGUMENT if it is not
// an OCI image layout, has bad JSON, lacks a referenced blob, holds a tar
// entry with an absolute path or "..", or holds more than `max_bytes` (each
// message names the file and what to do); DATA_LOSS "blob sha256:... does
// not match its digest (the image was altered after it was made)" when a
// blob's content or size differs from its descriptor.
absl::StatusOr<OciImage> ReadImage(const std::string& path, int64_t max_bytes = int64_t{1} << 30);

// Returns the bytes of one blob, or a status (NOT_FOUND when it has none).
using BlobSource = std::function<absl::StatusOr<std::string>(const std::string& digest)>;

// As ReadImage, for an image held blob by blob elsewhere (the registry's
// blob store, or the registry as a node fetches from it): the image whose
// index.json is `index_json`, with every blob it reaches taken from `source`
// and verified in the same way. A status from `source` (e.g. NOT_FOUND for a
// blob never uploaded) is returned as it is; `max_bytes` caps the image's
// total size (INVALID_ARGUMENT beyond).
absl::StatusOr<OciImage> FetchImage(const std::string& index_json, const BlobSource& source,
                                    int64_t max_bytes = int64_t{1} << 30);

enum class ImageFormat { kDirectory, kTar };

// Writes `image` to `path` as an OCI image layout directory or an
// uncompressed tar of one. Atomic: written into a temporary sibling, then
// renamed into place. An existing tar (any non-directory) at `path` is
// replaced; for kDirectory, FAILED_PRECONDITION if `path` exists and is not
// an empty directory. INVALID_ARGUMENT if a blob's key is not its digest.
absl::Status WriteImage(const OciImage& image, const std::string& path, ImageFormat format);

// Finds the one image manifest: index.json -> (nested index ->)* manifest.
// Where an index lists several candidates, picks platform linux/amd64 (or the
// only one; attestation manifests with platform unknown/unknown are ignored).
// Accepts the OCI media types and their Docker v2 schema2 equivalents,
// checks the digests of the manifest, config and any nested index (layers
// are checked by UnpackImage), parses the config and reads the algorithm's
// annotations. INVALID_ARGUMENT naming what is missing or wrong and how to
// fix it (for an annotation, e.g. `podman build --annotation
// org.opencontainers.image.title=NAME`), also for a config with neither
// Entrypoint nor Cmd (nothing to run) and for layers that are neither tar
// nor tar+gzip (e.g. zstd); DATA_LOSS for a digest mismatch.
absl::StatusOr<ResolvedImage> ResolveImage(const OciImage& image);

// A minimal image around one statically linked x86-64 executable: one
// tar+gzip layer holding /algorithm (0755, owner 0:0) and the empty mount
// point directories /data /io /tmp /proc /dev /sys /etc; a config for
// linux/amd64 with Entrypoint ["/algorithm"] and User "65534:65534"; a
// manifest annotated from `info`; index.json with one manifest descriptor
// annotated org.opencontainers.image.ref.name = info.version.
// Deterministic: the same binary and info give the same manifest digest.
// INVALID_ARGUMENT for a bad name, version, parameter or aggregate, or a
// binary that is not a static 64-bit x86-64 ELF executable (one with a
// PT_INTERP program header is dynamically linked and refused).
absl::StatusOr<OciImage> PackageBinary(std::string_view binary, const AlgorithmInfo& info);

// Extracts the layers of `resolved` (from `image`), base first, into
// `rootfs`, which must exist and be an empty directory (NOT_FOUND /
// FAILED_PRECONDITION otherwise). Verifies each layer's digest again
// (DATA_LOSS), reads gzip or uncompressed layers (by media type; by magic for
// the Docker type) and applies OCI whiteouts (`.wh.NAME` deletes NAME from
// lower layers, `.wh..wh..opq` empties its directory of lower layers'
// entries).
// Safe against hostile layers: an entry with an absolute path or "..", or
// whose path (or hard link target) passes through a symbolic link, is
// refused with INVALID_ARGUMENT naming the layer and the entry; nothing is
// ever written outside `rootfs`. Device nodes, FIFOs and sockets are skipped,
// setuid/setgid bits dropped, directories kept writable by their owner, and
// owners not restored: every file belongs to the caller. On error `rootfs`
// is left partly filled; the caller removes it.
absl::Status UnpackImage(const OciImage& image, const ResolvedImage& resolved,
                         const std::string& rootfs);

// The spoor annotations for `info` (title and version always; description,
// parameters and aggregates when not empty). INVALID_ARGUMENT if `info` is
// not valid (see the rules at the top of this file).
absl::StatusOr<std::map<std::string, std::string>> AlgorithmAnnotations(const AlgorithmInfo& info);

// The AlgorithmInfo in a manifest's annotations (other keys are ignored).
// INVALID_ARGUMENT naming the missing or malformed annotation and how to set
// it.
absl::StatusOr<AlgorithmInfo> AlgorithmInfoFromAnnotations(
    const std::map<std::string, std::string>& annotations);

// The same as a JSON object text ({"org.opencontainers.image.title": ...}),
// keys sorted, for printing and for reading back.
absl::StatusOr<std::string> AlgorithmAnnotationsJson(const AlgorithmInfo& info);
absl::StatusOr<AlgorithmInfo> AlgorithmInfoFromAnnotationsJson(std::string_view json);

// The signature documents (each a JSON object's text) stored in index.json;
// empty if there are none. INVALID_ARGUMENT if index.json or the
// annotation is malformed.
absl::StatusOr<std::vector<std::string>> ImageSignatures(const OciImage& image);

// Adds one signature document (a JSON object with string members "key_id"
// and "manifest_digest") to index.json, replacing any earlier one with the
// same key_id and manifest_digest. The rest of index.json keeps its content
// and key order. INVALID_ARGUMENT if either JSON is malformed; `image` is
// unchanged on error.
absl::Status AddImageSignature(OciImage& image, const std::string& signature_json);

}  // namespace spoor

#endif  // SPOOR_COMMON_OCI_IMAGE_H_
