#include "common/oci_image.h"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/file_util.h"
#include "common/internal/oci_tar.h"
#include "common/oci_test_support.h"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using internal::TarEntry;
using Json = nlohmann::json;

// A fresh directory for one test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("spoor_oci_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  // A new empty subdirectory.
  std::string Dir(const std::string& name) const {
    fs::create_directories(path_ / name);
    return File(name);
  }

 private:
  fs::path path_;
};

std::string Message(const absl::Status& status) { return std::string(status.message()); }

AlgorithmInfo TestInfo() {
  AlgorithmInfo info;
  info.name = "mean-age";
  info.version = "1.2.0+build.7";
  info.description = "Mean age by site";
  info.parameters = {{"variable", "text", true, "the column to average"},
                     {"weights", "numbers", false, ""}};
  info.aggregates = {"vector", "count_table"};
  return info;
}

OciImage Packaged() {
  absl::StatusOr<OciImage> image = PackageBinary(testing::MinimalElf(false), TestInfo());
  REQUIRE(image.ok());
  return *std::move(image);
}

// Stores `bytes` as a blob and returns its descriptor.
Json AddBlob(OciImage& image, const std::string& media_type, std::string bytes) {
  std::string digest = Sha256Digest(bytes);
  Json d = {{"mediaType", media_type}, {"digest", digest}, {"size", bytes.size()}};
  image.blobs[digest] = std::move(bytes);
  return d;
}

std::string Tar(const std::vector<TarEntry>& entries) {
  absl::StatusOr<std::string> tar = internal::BuildTar(entries);
  REQUIRE(tar.ok());
  return *std::move(tar);
}

TarEntry File(std::string path, std::string_view contents, int mode = 0644) {
  return {std::move(path), TarEntry::Type::kFile, contents, "", mode};
}
TarEntry Dir(std::string path) {
  return {std::move(path), TarEntry::Type::kDirectory, "", "", 0755};
}
TarEntry Symlink(std::string path, std::string target) {
  return {std::move(path), TarEntry::Type::kSymlink, "", std::move(target), 0777};
}

Json Annotations() {
  Json out;
  absl::StatusOr<std::map<std::string, std::string>> annotations = AlgorithmAnnotations(TestInfo());
  REQUIRE(annotations.ok());
  for (const auto& [key, value] : *annotations) out[key] = value;
  return out;
}

// An image (OCI media types) with the given uncompressed layers.
OciImage ImageWithLayers(const std::vector<std::string>& layers, Json annotations = Annotations()) {
  OciImage image;
  Json config = {{"architecture", "amd64"},
                 {"os", "linux"},
                 {"config",
                  {{"Entrypoint", Json::array({"/bin/run"})},
                   {"Cmd", Json::array({"--fast"})},
                   {"Env", Json::array({"PATH=/bin"})}}}};
  Json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifestMediaType},
                   {"config", AddBlob(image, kOciConfigMediaType, config.dump())},
                   {"layers", Json::array()}};
  for (const std::string& layer : layers) {
    manifest["layers"].push_back(AddBlob(image, kOciLayerMediaType, layer));
  }
  if (!annotations.is_null()) manifest["annotations"] = annotations;
  Json index = {
      {"schemaVersion", 2},
      {"manifests", Json::array({AddBlob(image, kOciManifestMediaType, manifest.dump())})}};
  image.index_json = index.dump();
  return image;
}

absl::Status UnpackLayers(const std::vector<std::string>& layers, const std::string& rootfs) {
  OciImage image = ImageWithLayers(layers);
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(image);
  REQUIRE(resolved.ok());
  return UnpackImage(image, *resolved, rootfs);
}

std::string ManifestDigestOf(const OciImage& image) {
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(image);
  REQUIRE(resolved.ok());
  return resolved->manifest_digest;
}

TEST_CASE("Digests are sha256 with 64 lowercase hex digits", "[oci]") {
  CHECK(Sha256Digest("") ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(CheckDigest(Sha256Digest("x")).ok());
  CHECK(CheckDigest("sha512:" + std::string(64, 'a')).code() == absl::StatusCode::kInvalidArgument);
  CHECK(CheckDigest("sha256:" + std::string(64, 'A')).code() == absl::StatusCode::kInvalidArgument);
  CHECK(CheckDigest("sha256:" + std::string(63, 'a')).code() == absl::StatusCode::kInvalidArgument);
  CHECK(CheckDigest("sha256:../../" + std::string(58, 'a')).code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A packaged binary resolves to its name, parameters and entrypoint", "[oci]") {
  OciImage image = Packaged();
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(image);
  REQUIRE(resolved.ok());
  CHECK(resolved->manifest_digest == Sha256Digest(resolved->manifest_json));
  CHECK(resolved->algorithm.name == "mean-age");
  CHECK(resolved->algorithm.version == "1.2.0+build.7");
  CHECK(resolved->algorithm.description == "Mean age by site");
  REQUIRE(resolved->algorithm.parameters.size() == 2);
  CHECK(resolved->algorithm.parameters[0].name == "variable");
  CHECK(resolved->algorithm.parameters[0].type == "text");
  CHECK(resolved->algorithm.parameters[0].required);
  CHECK(resolved->algorithm.parameters[0].description == "the column to average");
  CHECK(resolved->algorithm.parameters[1].type == "numbers");
  CHECK_FALSE(resolved->algorithm.parameters[1].required);
  CHECK(resolved->algorithm.aggregates == std::vector<std::string>{"vector", "count_table"});
  CHECK(resolved->entrypoint == std::vector<std::string>{"/algorithm"});
  CHECK(resolved->env.empty());
  REQUIRE(resolved->layer_digests.size() == 1);
  CHECK(resolved->layer_media_types[0] == kOciLayerGzipMediaType);

  Json config = Json::parse(image.blobs.at(resolved->config_digest));
  CHECK(config["architecture"] == "amd64");
  CHECK(config["os"] == "linux");
  CHECK(config["config"]["User"] == "65534:65534");
  Json index = Json::parse(image.index_json);
  CHECK(index["manifests"][0]["annotations"][kRefNameAnnotation] == "1.2.0+build.7");
  CHECK(image.blobs.size() == 3);
}

TEST_CASE("Packaging is deterministic", "[oci]") {
  OciImage first = Packaged();
  OciImage second = Packaged();
  CHECK(first.index_json == second.index_json);
  CHECK(first.blobs == second.blobs);
  // The gzip header carries no timestamp (bytes 4-7).
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(first);
  REQUIRE(resolved.ok());
  const std::string& layer = first.blobs.at(resolved->layer_digests[0]);
  REQUIRE(layer.size() > 10);
  CHECK(layer.substr(0, 2) == "\x1f\x8b");
  CHECK(layer.substr(4, 4) == std::string(4, '\0'));
  // Nothing after the stream: it ends with ISIZE, the tar's length (one
  // 10240-byte record), not with zero padding.
  CHECK(layer.substr(layer.size() - 4) == std::string("\x00\x28\x00\x00", 4));
  // A different version is a different image.
  AlgorithmInfo info = TestInfo();
  info.version = "1.2.1";
  absl::StatusOr<OciImage> other = PackageBinary(testing::MinimalElf(false), info);
  REQUIRE(other.ok());
  CHECK(ManifestDigestOf(*other) != resolved->manifest_digest);
}

TEST_CASE("PackageBinary refuses bad binaries and bad info", "[oci]") {
  auto code_of = [](std::string_view binary, const AlgorithmInfo& info) {
    return PackageBinary(binary, info).status().code();
  };
  const std::string elf = testing::MinimalElf(false);
  absl::Status dynamic = PackageBinary(testing::MinimalElf(true), TestInfo()).status();
  CHECK(dynamic.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(dynamic), Contains("dynamically linked") && Contains("static"));
  CHECK(code_of("#!/bin/sh\necho hi\n", TestInfo()) == absl::StatusCode::kInvalidArgument);
  CHECK(code_of(elf.substr(0, 70), TestInfo()) == absl::StatusCode::kInvalidArgument);

  AlgorithmInfo info = TestInfo();
  info.name = "Mean Age";
  CHECK_THAT(Message(PackageBinary(elf, info).status()), Contains(kTitleAnnotation));
  info = TestInfo();
  info.version = "-1";
  CHECK(code_of(elf, info) == absl::StatusCode::kInvalidArgument);
  info = TestInfo();
  info.parameters[1].type = "matrix";
  CHECK_THAT(Message(PackageBinary(elf, info).status()), Contains(kParametersAnnotation));
  info = TestInfo();
  info.parameters[1].name = "variable";
  CHECK(code_of(elf, info) == absl::StatusCode::kInvalidArgument);
  info = TestInfo();
  info.aggregates.push_back("patients");
  CHECK_THAT(Message(PackageBinary(elf, info).status()), Contains(kAggregatesAnnotation));
}

TEST_CASE("Annotations JSON round-trips AlgorithmInfo", "[oci]") {
  absl::StatusOr<std::string> json = AlgorithmAnnotationsJson(TestInfo());
  REQUIRE(json.ok());
  absl::StatusOr<AlgorithmInfo> info = AlgorithmInfoFromAnnotationsJson(*json);
  REQUIRE(info.ok());
  CHECK(info->name == "mean-age");
  CHECK(info->parameters.size() == 2);
  CHECK(info->aggregates == TestInfo().aggregates);
  // Hand-written annotations: spaces in the list, "required" left out.
  absl::StatusOr<AlgorithmInfo> written =
      AlgorithmInfoFromAnnotations({{kTitleAnnotation, "t"},
                                    {kVersionAnnotation, "2"},
                                    {kParametersAnnotation, R"([{"name":"k","type":"number"}])"},
                                    {kAggregatesAnnotation, "matrix, levels"}});
  REQUIRE(written.ok());
  CHECK_FALSE(written->parameters[0].required);
  CHECK(written->aggregates == std::vector<std::string>{"matrix", "levels"});
  CHECK(AlgorithmInfoFromAnnotations({{kTitleAnnotation, "t"},
                                      {kVersionAnnotation, "2"},
                                      {kParametersAnnotation, "{not json"}})
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("An image round-trips through a directory and a tar", "[oci]") {
  TempDir dir;
  OciImage image = Packaged();
  for (ImageFormat format : {ImageFormat::kDirectory, ImageFormat::kTar}) {
    std::string path = dir.File(format == ImageFormat::kTar ? "image.tar" : "image");
    REQUIRE(WriteImage(image, path, format).ok());
    absl::StatusOr<OciImage> read = ReadImage(path);
    REQUIRE(read.ok());
    CHECK(read->index_json == image.index_json);
    CHECK(read->blobs == image.blobs);
  }
  CHECK(*ReadFile(dir.File("image/oci-layout")) == R"({"imageLayoutVersion":"1.0.0"})");
  // A tar is replaced; a non-empty directory is not; an empty one is filled.
  CHECK(WriteImage(image, dir.File("image.tar"), ImageFormat::kTar).ok());
  CHECK(WriteImage(image, dir.File("image"), ImageFormat::kDirectory).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(WriteImage(image, dir.Dir("empty"), ImageFormat::kDirectory).ok());
  CHECK(ReadImage(dir.File("empty")).ok());
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir.File(""))) {
    CHECK_THAT(entry.path().filename().string(), !Contains(".tmp."));
    ++entries;
  }
  CHECK(entries == 3);
  // A blob that is not keyed by its digest is refused.
  image.blobs.begin()->second += "x";
  CHECK(WriteImage(image, dir.File("bad.tar"), ImageFormat::kTar).code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("ReadImage reports missing, foreign, incomplete and oversized images", "[oci]") {
  TempDir dir;
  CHECK(ReadImage(dir.File("nothing")).status().code() == absl::StatusCode::kNotFound);
  absl::Status not_layout = ReadImage(dir.Dir("plain")).status();
  CHECK(not_layout.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(not_layout), Contains("oci-layout") && Contains("podman save"));
  REQUIRE(WriteFileAtomically(dir.File("notes.txt"), "not a tar").ok());
  CHECK(ReadImage(dir.File("notes.txt")).status().code() == absl::StatusCode::kInvalidArgument);

  OciImage image = Packaged();
  std::string path = dir.File("image");
  REQUIRE(WriteImage(image, path, ImageFormat::kDirectory).ok());
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(image);
  REQUIRE(resolved.ok());
  CHECK(ReadImage(path, 100).status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(WriteImage(image, dir.File("image.tar"), ImageFormat::kTar).ok());
  CHECK_THAT(Message(ReadImage(dir.File("image.tar"), 100).status()), Contains("more than 100"));

  fs::remove(path + "/blobs/sha256/" + resolved->config_digest.substr(7));
  absl::Status missing = ReadImage(path).status();
  CHECK(missing.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(missing), Contains(resolved->config_digest.substr(7)));
}

TEST_CASE("Altering a layer or the manifest is DATA_LOSS naming the blob", "[oci]") {
  TempDir dir;
  OciImage image = Packaged();
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(image);
  REQUIRE(resolved.ok());
  for (const std::string& digest : {resolved->layer_digests[0], resolved->manifest_digest}) {
    std::string path = dir.File(digest.substr(7, 8));
    REQUIRE(WriteImage(image, path, ImageFormat::kDirectory).ok());
    std::string blob = path + "/blobs/sha256/" + digest.substr(7);
    std::string bytes = *ReadFile(blob);
    bytes[bytes.size() / 2] ^= 0x01;
    REQUIRE(WriteFileAtomically(blob, bytes).ok());
    absl::Status status = ReadImage(path).status();
    CHECK(status.code() == absl::StatusCode::kDataLoss);
    CHECK_THAT(Message(status), Contains("blob " + digest) && Contains("altered"));
  }
  // In memory, ResolveImage and UnpackImage check again.
  OciImage altered = image;
  altered.blobs[resolved->manifest_digest] += " ";
  CHECK(ResolveImage(altered).status().code() == absl::StatusCode::kDataLoss);
  altered = image;
  altered.blobs[resolved->layer_digests[0]][20] ^= 0x01;
  CHECK(UnpackImage(altered, *resolved, dir.Dir("rootfs")).code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("A manifest without the algorithm annotations is refused with a fix", "[oci]") {
  Json annotations = Annotations();
  annotations.erase(kTitleAnnotation);
  absl::Status status = ResolveImage(ImageWithLayers({}, annotations)).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(status), Contains(kTitleAnnotation) && Contains("podman build --annotation"));
  CHECK(ResolveImage(ImageWithLayers({}, Json())).status().code() ==
        absl::StatusCode::kInvalidArgument);
  annotations = Annotations();
  annotations[kAggregatesAnnotation] = "vector,rows";
  CHECK_THAT(Message(ResolveImage(ImageWithLayers({}, annotations)).status()), Contains("rows"));
}

TEST_CASE("A packaged image unpacks to /algorithm and its mount points", "[oci]") {
  TempDir dir;
  OciImage image = Packaged();
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(image);
  REQUIRE(resolved.ok());
  std::string rootfs = dir.Dir("rootfs");
  REQUIRE(UnpackImage(image, *resolved, rootfs).ok());
  CHECK(*ReadFile(rootfs + "/algorithm") == testing::MinimalElf(false));
  struct stat st;
  REQUIRE(::stat((rootfs + "/algorithm").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
  CHECK(st.st_uid == ::geteuid());
  for (const char* mount : {"data", "io", "tmp", "proc", "dev", "sys", "etc"}) {
    CHECK(fs::is_directory(rootfs + "/" + mount));
  }
  // The root must be empty.
  CHECK(UnpackImage(image, *resolved, rootfs).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(UnpackImage(image, *resolved, dir.File("none")).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Images made by other tools: ./ entries, nested index, Docker types", "[oci]") {
  TempDir dir;
  OciImage parts;
  std::string layer =
      Tar({Dir("./bin/"), File("./bin/run", "#!run", 0755), File("./README", "hi")});
  Json config = {{"architecture", "amd64"},
                 {"os", "linux"},
                 {"config",
                  {{"Entrypoint", Json::array({"/bin/run"})},
                   {"Cmd", Json::array({"--fast"})},
                   {"Env", Json::array({"PATH=/bin"})}}}};
  Json manifest = {{"schemaVersion", 2},
                   {"mediaType", kDockerManifestMediaType},
                   {"config", AddBlob(parts, kDockerConfigMediaType, config.dump())},
                   {"layers", Json::array({AddBlob(parts, kDockerLayerMediaType, layer)})},
                   {"annotations", Annotations()}};
  Json amd64 = AddBlob(parts, kDockerManifestMediaType, manifest.dump());
  amd64["platform"] = {{"architecture", "amd64"}, {"os", "linux"}};
  manifest["annotations"][kVersionAnnotation] = "9.9-arm";
  Json arm64 = AddBlob(parts, kDockerManifestMediaType, manifest.dump());
  arm64["platform"] = {{"architecture", "arm64"}, {"os", "linux"}};
  Json attestation = amd64;
  attestation["platform"] = {{"architecture", "unknown"}, {"os", "unknown"}};
  Json nested = {{"schemaVersion", 2},
                 {"mediaType", kOciIndexMediaType},
                 {"manifests", Json::array({arm64, attestation, amd64})}};
  Json top = {{"schemaVersion", 2},
              {"manifests", Json::array({AddBlob(parts, kOciIndexMediaType, nested.dump())})}};

  const std::string index_json = top.dump();  // TarEntry only points at its contents
  std::vector<TarEntry> entries = {File("./oci-layout", R"({"imageLayoutVersion": "1.0.0"})"),
                                   File("./index.json", index_json), Dir("./blobs/"),
                                   Dir("./blobs/sha256/")};
  for (const auto& [digest, bytes] : parts.blobs) {
    entries.push_back(File("./blobs/sha256/" + digest.substr(7), bytes));
  }
  entries.push_back(File("./blobs/sha256/unreferenced", "ignored"));
  std::string tar_path = dir.File("other.tar");
  REQUIRE(WriteFileAtomically(tar_path, Tar(entries)).ok());

  absl::StatusOr<OciImage> image = ReadImage(tar_path);
  REQUIRE(image.ok());
  CHECK(image->blobs == parts.blobs);
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(*image);
  REQUIRE(resolved.ok());
  CHECK(resolved->manifest_digest == amd64["digest"]);
  CHECK(resolved->entrypoint == std::vector<std::string>{"/bin/run", "--fast"});
  CHECK(resolved->env == std::vector<std::string>{"PATH=/bin"});
  std::string rootfs = dir.Dir("rootfs");
  REQUIRE(UnpackImage(*image, *resolved, rootfs).ok());
  CHECK(*ReadFile(rootfs + "/bin/run") == "#!run");
  CHECK(*ReadFile(rootfs + "/README") == "hi");

  // Two images for other platforms: nothing to pick.
  Json windows = amd64;
  windows["platform"]["os"] = "windows";
  nested["manifests"] = Json::array({arm64, windows});
  OciImage two;
  two.blobs = image->blobs;
  two.index_json =
      Json{{"manifests", Json::array({AddBlob(two, kOciIndexMediaType, nested.dump())})}}.dump();
  CHECK_THAT(Message(ResolveImage(two).status()), Contains("linux/amd64"));
}

TEST_CASE("Whiteouts in an upper layer delete and hide lower entries", "[oci]") {
  TempDir dir;
  std::string lower =
      Tar({Dir("etc/"), File("etc/a", "a"), File("etc/b", "b"), Dir("keep/"), File("keep/x", "x"),
           Dir("opq/"), File("opq/old", "old"), Dir("opq/sub/"), File("opq/sub/old2", "old2"),
           Dir("gone/"), File("gone/y", "y")});
  std::string upper =
      Tar({File("opq/new", "new"), File("etc/.wh.a", ""), File("opq/.wh..wh..opq", ""),
           File(".wh.gone", ""), File("etc/.wh.missing", "")});
  std::string rootfs = dir.Dir("rootfs");
  REQUIRE(UnpackLayers({lower, upper}, rootfs).ok());
  CHECK_FALSE(fs::exists(rootfs + "/etc/a"));
  CHECK(*ReadFile(rootfs + "/etc/b") == "b");
  CHECK(*ReadFile(rootfs + "/keep/x") == "x");
  CHECK_FALSE(fs::exists(rootfs + "/opq/old"));
  CHECK_FALSE(fs::exists(rootfs + "/opq/sub"));
  CHECK(*ReadFile(rootfs + "/opq/new") == "new");  // same layer as the opaque marker
  CHECK_FALSE(fs::exists(rootfs + "/gone"));
  CHECK_FALSE(fs::exists(rootfs + "/etc/.wh.a"));
  CHECK_FALSE(fs::exists(rootfs + "/opq/.wh..wh..opq"));
}

TEST_CASE("Hostile layers never write outside the root", "[oci]") {
  TempDir dir;
  std::string outside = dir.Dir("outside");
  REQUIRE(WriteFileAtomically(outside + "/secret", "keep me").ok());
  int run = 0;
  // Unpacks into a fresh root; returns whether it succeeded.
  auto unpack = [&](const std::vector<std::string>& layers) {
    std::string rootfs = dir.Dir("root" + std::to_string(run++) + "/fs");
    absl::Status status = UnpackLayers(layers, rootfs);
    if (!status.ok()) CHECK_THAT(Message(status), Contains("layer sha256:"));
    return status.ok();
  };
  auto outside_untouched = [&] {
    CHECK(*ReadFile(outside + "/secret") == "keep me");
    int entries = 0;
    for (const auto& e : fs::directory_iterator(outside)) entries += e.is_regular_file() ? 1 : 2;
    CHECK(entries == 1);
  };

  CHECK_FALSE(unpack({Tar({File("../escape", "x")})}));
  CHECK_FALSE(unpack({Tar({File("a/../../escape", "x")})}));
  CHECK_FALSE(unpack({Tar({File(outside + "/absolute", "x")})}));
  // A symbolic link out, then a file through it: in one layer and across two.
  CHECK_FALSE(unpack({Tar({Symlink("link", outside), File("link/pwned", "x")})}));
  CHECK_FALSE(unpack({Tar({Symlink("link", outside)}), Tar({File("link/pwned", "x")})}));
  CHECK_FALSE(unpack({Tar({Symlink("link", "../../outside")}), Tar({Dir("link/sub/")})}));
  // A hard link to a file outside, through a symbolic link.
  CHECK_FALSE(unpack({Tar(
      {Symlink("link", outside), {"hard", TarEntry::Type::kHardlink, "", "link/secret", 0644}})}));
  CHECK_FALSE(unpack({Tar({{"hard", TarEntry::Type::kHardlink, "", "../outside/secret", 0644}})}));
  // A whiteout through a symbolic link must not delete outside.
  CHECK_FALSE(unpack({Tar({Symlink("link", outside)}), Tar({File("link/.wh.secret", "")})}));
  CHECK_FALSE(unpack({Tar({Symlink("link", outside)}), Tar({File("link/.wh..wh..opq", "")})}));
  // Replacing the link itself (not going through it) is fine and leaves the
  // target alone.
  CHECK(unpack({Tar({Symlink("link", outside)}), Tar({File("link", "now a file")})}));
  CHECK(unpack({Tar({Symlink("link", outside)}), Tar({File(".wh.link", "")})}));
  outside_untouched();
  for (const auto& e : fs::recursive_directory_iterator(dir.File(""))) {
    std::string name = e.path().filename().string();
    CHECK(name != "escape");
    CHECK(name != "absolute");
    CHECK(name != "pwned");
  }
}

TEST_CASE("Unpacking drops special files, setuid bits and keeps links inside", "[oci]") {
  TempDir dir;
  std::string rootfs = dir.Dir("rootfs");
  std::string layer = Tar({{"fifo", TarEntry::Type::kFifo, "", "", 0644},
                           File("suid", "s", 04755),
                           Dir("ro/"),
                           File("ro/f", "f", 0444),
                           Symlink("abs", "/etc/passwd"),
                           File("data", "d"),
                           {"data.link", TarEntry::Type::kHardlink, "", "data", 0644}});
  REQUIRE(UnpackLayers({layer}, rootfs).ok());
  CHECK_FALSE(fs::exists(fs::symlink_status(rootfs + "/fifo")));
  struct stat st;
  REQUIRE(::stat((rootfs + "/suid").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0755);
  CHECK(fs::is_symlink(rootfs + "/abs"));
  CHECK(fs::read_symlink(rootfs + "/abs") == "/etc/passwd");  // resolved in the container
  CHECK(*ReadFile(rootfs + "/data.link") == "d");
  REQUIRE(::stat((rootfs + "/data.link").c_str(), &st) == 0);
  CHECK(st.st_nlink == 2);
}

TEST_CASE("Signatures are stored in index.json without changing the manifest", "[oci]") {
  TempDir dir;
  OciImage image = Packaged();
  std::string digest = ManifestDigestOf(image);
  CHECK(ImageSignatures(image)->empty());
  Json alice = {{"key_id", "ed25519:aa"}, {"manifest_digest", digest}, {"signer", "Alice"}};
  Json bob = {{"key_id", "ed25519:bb"}, {"manifest_digest", digest}, {"signer", "Bob"}};
  REQUIRE(AddImageSignature(image, alice.dump()).ok());
  REQUIRE(AddImageSignature(image, bob.dump()).ok());
  alice["signer"] = "Alice, again";
  REQUIRE(AddImageSignature(image, alice.dump()).ok());  // replaces the first

  REQUIRE(WriteImage(image, dir.File("signed.tar"), ImageFormat::kTar).ok());
  absl::StatusOr<OciImage> read = ReadImage(dir.File("signed.tar"));
  REQUIRE(read.ok());
  absl::StatusOr<std::vector<std::string>> signatures = ImageSignatures(*read);
  REQUIRE(signatures.ok());
  REQUIRE(signatures->size() == 2);
  CHECK(Json::parse((*signatures)[0])["signer"] == "Bob");
  CHECK(Json::parse((*signatures)[1])["signer"] == "Alice, again");
  CHECK(ManifestDigestOf(*read) == digest);
  Json index = Json::parse(read->index_json);
  CHECK(index["schemaVersion"] == 2);
  CHECK(index["manifests"].size() == 1);
  CHECK(index["mediaType"] == kOciIndexMediaType);

  CHECK(AddImageSignature(image, R"({"key_id": 1})").code() == absl::StatusCode::kInvalidArgument);
  CHECK(AddImageSignature(image, "[").code() == absl::StatusCode::kInvalidArgument);
  Json broken = Json::parse(image.index_json);
  broken["annotations"][kSignaturesAnnotation] = "{";
  image.index_json = broken.dump();
  CHECK(ImageSignatures(image).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace spoor
