// Part of common/oci_image.h, kept apart so no file grows past a few hundred
// lines: finding the one manifest of an image (ResolveImage), the algorithm
// annotations, and building a minimal image around a static binary
// (PackageBinary).
#include <elf.h>

#include <cstring>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/internal/oci_descriptor.h"
#include "common/internal/oci_tar.h"
#include "common/oci_image.h"
#include "common/status.h"

namespace spoor {
namespace {

using internal::Descriptor;
using internal::Sv;
using Json = nlohmann::json;

constexpr int kMaxIndexDepth = 8;
constexpr const char* kParameterTypes[] = {"number", "text", "numbers", "texts"};
constexpr const char* kAggregateTypes[] = {"count_table", "vector", "matrix", "histogram",
                                           "levels"};

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// [a-z0-9][a-z0-9._-]{0,63}
bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > 64 || !IsLowerAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

// [0-9A-Za-z][0-9A-Za-z.+_-]{0,63}
bool IsValidVersion(std::string_view s) {
  if (s.empty() || s.size() > 64 || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '.' && c != '+' && c != '_' && c != '-') return false;
  }
  return true;
}

// [A-Za-z_][A-Za-z0-9_]{0,63}
bool IsValidParameterName(std::string_view s) {
  if (s.empty() || s.size() > 64 || (!IsAlnum(s[0]) && s[0] != '_') ||
      (s[0] >= '0' && s[0] <= '9')) {
    return false;
  }
  for (char c : s) {
    if (!IsAlnum(c) && c != '_') return false;
  }
  return true;
}

// The string member `key` of `j`, or "" if absent or not a string.
std::string StringMember(const Json& j, const char* key) {
  auto it = j.is_object() ? j.find(key) : j.end();
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <size_t N>
bool OneOf(std::string_view s, const char* const (&options)[N]) {
  for (const char* option : options) {
    if (s == option) return true;
  }
  return false;
}

// INVALID_ARGUMENT about annotation `key`, with how to set it.
absl::Status AnnotationError(std::string_view key, std::string_view problem,
                             std::string_view example_value) {
  return absl::InvalidArgumentError(absl::StrCat(
      "the image manifest's annotation ", Sv(key), " ", Sv(problem),
      "; set it when building the image, e.g. podman build --annotation '", Sv(key), "=",
      Sv(example_value), "' (spoor's own packaging sets it from the algorithm's info)"));
}

absl::Status ValidateInfo(const AlgorithmInfo& info) {
  if (!IsValidName(info.name)) {
    return AnnotationError(kTitleAnnotation,
                           absl::StrCat("(the algorithm's name) is \"", info.name,
                                        "\", not 1-64 of [a-z0-9._-] starting with [a-z0-9]"),
                           "NAME");
  }
  if (!IsValidVersion(info.version)) {
    return AnnotationError(
        kVersionAnnotation,
        absl::StrCat("(the algorithm's version) is \"", info.version,
                     "\", not 1-64 of [0-9A-Za-z.+_-] starting with a letter or digit"),
        "1.0.0");
  }
  constexpr char kParameterExample[] =
      R"([{"name":"alpha","type":"number","required":true,"description":"..."}])";
  std::set<std::string> names;
  for (const ParameterSpec& p : info.parameters) {
    if (!IsValidParameterName(p.name)) {
      return AnnotationError(kParametersAnnotation,
                             absl::StrCat("names a parameter \"", p.name,
                                          "\", not 1-64 of [A-Za-z0-9_] starting with a letter "
                                          "or _"),
                             kParameterExample);
    }
    if (!names.insert(p.name).second) {
      return AnnotationError(kParametersAnnotation,
                             absl::StrCat("lists parameter \"", p.name, "\" twice"),
                             kParameterExample);
    }
    if (!OneOf(p.type, kParameterTypes)) {
      return AnnotationError(kParametersAnnotation,
                             absl::StrCat("gives parameter \"", p.name, "\" type \"", p.type,
                                          "\", not number, text, numbers or texts"),
                             kParameterExample);
    }
  }
  std::set<std::string> aggregates;
  for (const std::string& a : info.aggregates) {
    if (!OneOf(a, kAggregateTypes)) {
      return AnnotationError(kAggregatesAnnotation,
                             absl::StrCat("lists \"", a,
                                          "\", not one of count_table, vector, matrix, "
                                          "histogram, levels"),
                             "count_table,vector");
    }
    if (!aggregates.insert(a).second) {
      return AnnotationError(kAggregatesAnnotation, absl::StrCat("lists \"", a, "\" twice"),
                             "count_table,vector");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ParameterSpec>> ParseParameters(const std::string& text) {
  constexpr char kExample[] =
      R"([{"name":"alpha","type":"number","required":true,"description":"..."}])";
  absl::StatusOr<Json> parsed = internal::ParseJson(text, kParametersAnnotation);
  if (!parsed.ok() || !parsed->is_array()) {
    return AnnotationError(kParametersAnnotation, "is not a JSON array", kExample);
  }
  std::vector<ParameterSpec> out;
  for (const Json& j : *parsed) {
    auto string_member = [&](const char* key, std::string* value) {
      auto it = j.find(key);
      if (it == j.end()) return true;
      if (!it->is_string()) return false;
      *value = it->get<std::string>();
      return true;
    };
    ParameterSpec p;
    if (!j.is_object() || !j.contains("name") || !j.contains("type") ||
        !string_member("name", &p.name) || !string_member("type", &p.type) ||
        !string_member("description", &p.description)) {
      return AnnotationError(kParametersAnnotation,
                             "holds an entry without string \"name\" and \"type\"", kExample);
    }
    if (auto it = j.find("required"); it != j.end()) {
      if (!it->is_boolean()) {
        return AnnotationError(kParametersAnnotation,
                               absl::StrCat("gives parameter \"", p.name,
                                            "\" a \"required\" that is not true or false"),
                               kExample);
      }
      p.required = it->get<bool>();
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Entrypoint, Cmd and Env from an image config.
absl::Status ReadConfig(std::string_view text, const std::string& what, ResolvedImage& out) {
  SPOOR_ASSIGN_OR_RETURN(Json config, internal::ParseJson(text, what));
  if (!config.is_object())
    return absl::InvalidArgumentError(absl::StrCat(what, " is not an object"));
  auto inner = config.find("config");
  if (inner == config.end() || inner->is_null()) return absl::OkStatus();
  if (!inner->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": \"config\" is not an object"));
  }
  auto strings = [&](const char* key, std::vector<std::string>& into) -> absl::Status {
    auto it = inner->find(key);
    if (it == inner->end() || it->is_null()) return absl::OkStatus();
    if (it->is_array()) {
      bool all_strings = true;
      for (const Json& s : *it) all_strings = all_strings && s.is_string();
      if (all_strings) {
        for (const Json& s : *it) into.push_back(s.get<std::string>());
        return absl::OkStatus();
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", key, "\" is not an array of strings"));
  };
  SPOOR_RETURN_IF_ERROR(strings("Entrypoint", out.entrypoint));
  SPOOR_RETURN_IF_ERROR(strings("Cmd", out.entrypoint));
  return strings("Env", out.env);
}

// The blob for `d`, checked against it. INVALID_ARGUMENT if absent.
absl::StatusOr<const std::string*> VerifiedBlob(const OciImage& image, const Descriptor& d,
                                                std::string_view where) {
  auto it = image.blobs.find(d.digest);
  if (it == image.blobs.end()) {
    return absl::InvalidArgumentError(absl::StrCat("the image lacks blob ", d.digest,
                                                   " (referenced by ", Sv(where),
                                                   "); it is incomplete, export it again"));
  }
  SPOOR_RETURN_IF_ERROR(internal::VerifyBlob(d, it->second));
  return &it->second;
}

// The one manifest or index an index's "manifests" leads to.
absl::StatusOr<Descriptor> PickManifest(const Json& index, const std::string& where) {
  auto manifests = index.is_object() ? index.find("manifests") : index.end();
  if (manifests == index.end() || !manifests->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " has no \"manifests\" array"));
  }
  std::vector<Descriptor> candidates;
  std::vector<Descriptor> amd64;
  std::set<std::string> seen;
  std::set<std::string> platforms;
  for (const Json& j : *manifests) {
    SPOOR_ASSIGN_OR_RETURN(Descriptor d, internal::ParseDescriptor(j, where));
    if (!internal::IsIndexMediaType(d.media_type) && !internal::IsManifestMediaType(d.media_type)) {
      continue;
    }
    const Json& platform = j.contains("platform") ? j["platform"] : Json();
    std::string os = StringMember(platform, "os");
    std::string arch = StringMember(platform, "architecture");
    if (os == "unknown") continue;                // attestations (docker buildx)
    if (!seen.insert(d.digest).second) continue;  // several tags for one manifest
    platforms.insert(os.empty() ? std::string("unspecified") : absl::StrCat(os, "/", arch));
    if (os == "linux" && arch == "amd64") amd64.push_back(d);
    candidates.push_back(std::move(d));
  }
  if (candidates.size() == 1) return candidates.front();
  if (candidates.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " lists no image manifest"));
  }
  if (amd64.size() == 1) return amd64.front();
  if (amd64.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " lists ", candidates.size(), " images and none for linux/amd64 (found ",
        absl::StrJoin(platforms, ", "), "); build it with podman build --platform linux/amd64"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      where, " lists ", amd64.size(),
      " different linux/amd64 images; save only one: podman save --format oci-archive -o "
      "IMAGE.tar NAME"));
}

absl::StatusOr<ResolvedImage> ResolveManifest(const OciImage& image, const Descriptor& d,
                                              const std::string& bytes) {
  const std::string what = absl::StrCat("manifest ", d.digest);
  SPOOR_ASSIGN_OR_RETURN(Json manifest, internal::ParseJson(bytes, what));
  auto schema = manifest.is_object() ? manifest.find("schemaVersion") : manifest.end();
  if (schema == manifest.end() || *schema != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not an image manifest with schemaVersion 2"));
  }
  if (auto m = manifest.find("mediaType");
      m != manifest.end() &&
      (!m->is_string() || !internal::IsManifestMediaType(m->get<std::string>()))) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has an unknown mediaType"));
  }
  ResolvedImage out;
  out.manifest_digest = d.digest;
  out.manifest_json = bytes;

  auto config_json = manifest.find("config");
  if (config_json == manifest.end()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has no config"));
  }
  SPOOR_ASSIGN_OR_RETURN(Descriptor config, internal::ParseDescriptor(*config_json, what));
  if (!internal::IsConfigMediaType(config.media_type)) {
    return absl::InvalidArgumentError(absl::StrCat(what, "'s config has media type ",
                                                   config.media_type, ", not an image config"));
  }
  SPOOR_ASSIGN_OR_RETURN(const std::string* config_bytes, VerifiedBlob(image, config, what));
  out.config_digest = config.digest;
  SPOOR_RETURN_IF_ERROR(ReadConfig(*config_bytes, absl::StrCat("config ", config.digest), out));
  if (out.entrypoint.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", config.digest,
                     " has no Entrypoint or Cmd, so there is nothing to run; set one "
                     "(ENTRYPOINT [\"/algorithm\"] in the Containerfile)"));
  }

  auto layers = manifest.find("layers");
  if (layers == manifest.end() || !layers->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has no \"layers\" array"));
  }
  for (const Json& j : *layers) {
    SPOOR_ASSIGN_OR_RETURN(Descriptor layer, internal::ParseDescriptor(j, what));
    if (internal::LayerCompressionOf(layer.media_type) ==
        internal::LayerCompression::kUnsupported) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layer ", layer.digest, " has media type ", layer.media_type,
          ", which spoor cannot unpack (only tar and tar+gzip layers); save the image without "
          "zstd compression"));
    }
    auto it = image.blobs.find(layer.digest);
    if (it == image.blobs.end()) {
      return absl::InvalidArgumentError(absl::StrCat("the image lacks layer ", layer.digest,
                                                     "; it is incomplete, export it again"));
    }
    if (static_cast<int64_t>(it->second.size()) != layer.size) {
      return internal::BlobMismatchError(layer.digest);
    }
    out.layer_digests.push_back(layer.digest);
    out.layer_media_types.push_back(layer.media_type);
  }

  std::map<std::string, std::string> annotations;
  if (auto a = manifest.find("annotations"); a != manifest.end()) {
    if (!a->is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(what, "'s annotations are not an object"));
    }
    for (const auto& [key, value] : a->items()) {
      if (value.is_string()) annotations[key] = value.get<std::string>();
    }
  }
  SPOOR_ASSIGN_OR_RETURN(out.algorithm, AlgorithmInfoFromAnnotations(annotations));
  return out;
}

// OK if `binary` is a statically linked x86-64 ELF executable.
absl::Status CheckStaticElf(std::string_view binary) {
  auto refuse = [](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the algorithm binary ", Sv(why),
        "; package a statically linked Linux x86-64 executable (C/C++: link with -static; Go: "
        "CGO_ENABLED=0; Rust: --target x86_64-unknown-linux-musl)"));
  };
  Elf64_Ehdr header;
  if (binary.size() < sizeof(header) || std::memcmp(binary.data(), ELFMAG, SELFMAG) != 0) {
    return refuse("is not an ELF executable");
  }
  std::memcpy(&header, binary.data(), sizeof(header));
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_machine != EM_X86_64) {
    return refuse("is not a 64-bit x86-64 ELF file");
  }
  if ((header.e_type != ET_EXEC && header.e_type != ET_DYN) || header.e_entry == 0) {
    return refuse("is not an executable (it may be a library or an object file)");
  }
  if (header.e_phnum == 0 || header.e_phnum == PN_XNUM ||
      header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phoff > binary.size() ||
      (binary.size() - header.e_phoff) / sizeof(Elf64_Phdr) < header.e_phnum) {
    return refuse("has no valid program headers");
  }
  for (size_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, binary.data() + header.e_phoff + i * sizeof(ph), sizeof(ph));
    if (ph.p_type == PT_INTERP) {
      return refuse("is dynamically linked (it names a program interpreter)");
    }
  }
  return absl::OkStatus();
}

Json DescriptorJson(std::string_view media_type, std::string_view bytes) {
  return Json{{"mediaType", std::string(media_type)},
              {"digest", Sha256Digest(bytes)},
              {"size", static_cast<int64_t>(bytes.size())}};
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> AlgorithmAnnotations(const AlgorithmInfo& info) {
  SPOOR_RETURN_IF_ERROR(ValidateInfo(info));
  std::map<std::string, std::string> out;
  out[kTitleAnnotation] = info.name;
  out[kVersionAnnotation] = info.version;
  if (!info.description.empty()) out[kDescriptionAnnotation] = info.description;
  if (!info.parameters.empty()) {
    Json parameters = Json::array();
    for (const ParameterSpec& p : info.parameters) {
      parameters.push_back(Json{{"name", p.name},
                                {"type", p.type},
                                {"required", p.required},
                                {"description", p.description}});
    }
    try {
      out[kParametersAnnotation] = parameters.dump();
    } catch (const Json::exception&) {
      return AnnotationError(kParametersAnnotation, "has a description that is not UTF-8", "[]");
    }
  }
  if (!info.aggregates.empty()) out[kAggregatesAnnotation] = absl::StrJoin(info.aggregates, ",");
  return out;
}

absl::StatusOr<AlgorithmInfo> AlgorithmInfoFromAnnotations(
    const std::map<std::string, std::string>& annotations) {
  AlgorithmInfo info;
  auto title = annotations.find(kTitleAnnotation);
  if (title == annotations.end()) {
    return AnnotationError(kTitleAnnotation, "(the algorithm's name) is missing", "NAME");
  }
  info.name = title->second;
  auto version = annotations.find(kVersionAnnotation);
  if (version == annotations.end()) {
    return AnnotationError(kVersionAnnotation, "(the algorithm's version) is missing", "1.0.0");
  }
  info.version = version->second;
  if (auto it = annotations.find(kDescriptionAnnotation); it != annotations.end()) {
    info.description = it->second;
  }
  if (auto it = annotations.find(kParametersAnnotation); it != annotations.end()) {
    SPOOR_ASSIGN_OR_RETURN(info.parameters, ParseParameters(it->second));
  }
  if (auto it = annotations.find(kAggregatesAnnotation); it != annotations.end()) {
    for (absl::string_view part : absl::StrSplit(it->second, ',')) {
      part = absl::StripAsciiWhitespace(part);
      if (!part.empty()) info.aggregates.emplace_back(part);
    }
  }
  SPOOR_RETURN_IF_ERROR(ValidateInfo(info));
  return info;
}

absl::StatusOr<std::string> AlgorithmAnnotationsJson(const AlgorithmInfo& info) {
  SPOOR_ASSIGN_OR_RETURN(auto annotations, AlgorithmAnnotations(info));
  return Json(annotations).dump();
}

absl::StatusOr<AlgorithmInfo> AlgorithmInfoFromAnnotationsJson(std::string_view json) {
  SPOOR_ASSIGN_OR_RETURN(Json j, internal::ParseJson(json, "the annotations"));
  if (!j.is_object()) return absl::InvalidArgumentError("the annotations are not a JSON object");
  std::map<std::string, std::string> annotations;
  for (const auto& [key, value] : j.items()) {
    if (value.is_string()) annotations[key] = value.get<std::string>();
  }
  return AlgorithmInfoFromAnnotations(annotations);
}

absl::StatusOr<ResolvedImage> ResolveImage(const OciImage& image) {
  std::string where = "index.json";
  SPOOR_ASSIGN_OR_RETURN(Json index, internal::ParseJson(image.index_json, where));
  for (int depth = 0; depth <= kMaxIndexDepth; ++depth) {
    SPOOR_ASSIGN_OR_RETURN(Descriptor d, PickManifest(index, where));
    SPOOR_ASSIGN_OR_RETURN(const std::string* bytes, VerifiedBlob(image, d, where));
    if (internal::IsManifestMediaType(d.media_type)) return ResolveManifest(image, d, *bytes);
    where = absl::StrCat("index ", d.digest);
    SPOOR_ASSIGN_OR_RETURN(index, internal::ParseJson(*bytes, where));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("index.json: indexes nested more than ", kMaxIndexDepth, " deep"));
}

absl::StatusOr<OciImage> PackageBinary(std::string_view binary, const AlgorithmInfo& info) {
  SPOOR_ASSIGN_OR_RETURN(auto annotations, AlgorithmAnnotations(info));
  SPOOR_RETURN_IF_ERROR(CheckStaticElf(binary));

  using Entry = internal::TarEntry;
  std::vector<Entry> entries = {{"algorithm", Entry::Type::kFile, binary, "", 0755}};
  // Mount points for the sandbox; /tmp is world-writable and sticky in case
  // nothing is mounted on it.
  for (const char* dir : {"data/", "dev/", "etc/", "io/", "proc/", "sys/", "tmp/"}) {
    entries.push_back(
        {dir, Entry::Type::kDirectory, "", "", std::string_view(dir) == "tmp/" ? 01777 : 0755});
  }
  SPOOR_ASSIGN_OR_RETURN(std::string layer_tar, internal::BuildTar(entries));
  SPOOR_ASSIGN_OR_RETURN(std::string layer, internal::Gzip(layer_tar));

  Json config = {
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config", {{"Entrypoint", Json::array({"/algorithm"})}, {"User", "65534:65534"}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", Json::array({Sha256Digest(layer_tar)})}}}};
  std::string config_bytes = config.dump();

  Json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifestMediaType},
                   {"config", DescriptorJson(kOciConfigMediaType, config_bytes)},
                   {"layers", Json::array({DescriptorJson(kOciLayerGzipMediaType, layer)})},
                   {"annotations", annotations}};
  std::string manifest_bytes;
  try {
    manifest_bytes = manifest.dump();
  } catch (const Json::exception&) {
    return absl::InvalidArgumentError("the algorithm's description is not valid UTF-8");
  }

  Json manifest_descriptor = DescriptorJson(kOciManifestMediaType, manifest_bytes);
  manifest_descriptor["annotations"] = {{kRefNameAnnotation, info.version}};
  manifest_descriptor["platform"] = {{"architecture", "amd64"}, {"os", "linux"}};
  Json index = {{"schemaVersion", 2},
                {"mediaType", kOciIndexMediaType},
                {"manifests", Json::array({manifest_descriptor})}};

  OciImage image;
  image.index_json = index.dump();
  image.blobs[Sha256Digest(config_bytes)] = std::move(config_bytes);
  image.blobs[Sha256Digest(layer)] = std::move(layer);
  image.blobs[Sha256Digest(manifest_bytes)] = std::move(manifest_bytes);
  return image;
}

}  // namespace spoor
