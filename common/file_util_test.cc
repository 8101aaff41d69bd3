#include "common/file_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "absl/status/status.h"

namespace spoor {
namespace {

// A fresh directory for one test, removed afterwards.
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() /
              ("spoor_file_util_test_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bool Contains(const absl::Status& status, const std::string& text) {
  return std::string(status.message()).find(text) != std::string::npos;
}

TEST_CASE("WriteFileAtomically writes, replaces and leaves no temporary", "[file_util]") {
  TempDir dir("write");
  std::string path = dir.File("out.txt");
  REQUIRE(WriteFileAtomically(path, "first").ok());
  CHECK(*ReadFile(path) == "first");
  std::string binary("a\0b\nc", 5);
  REQUIRE(WriteFileAtomically(path, binary).ok());
  CHECK(*ReadFile(path) == binary);
  REQUIRE(WriteFileAtomically(path, "").ok());
  CHECK(ReadFile(path)->empty());

  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("WriteFileAtomically honours the mode whatever the umask", "[file_util]") {
  TempDir dir("mode");
  std::string key = dir.File("key.pem");
  REQUIRE(WriteFileAtomically(key, "secret", 0600).ok());
  CHECK(ModeOf(key) == 0600);

  mode_t old_umask = ::umask(0077);
  std::string shared = dir.File("shared.txt");
  absl::Status s = WriteFileAtomically(shared, "x", 0644);
  ::umask(old_umask);
  REQUIRE(s.ok());
  CHECK(ModeOf(shared) == 0644);

  // Replacing a file takes the new mode, not the old one.
  REQUIRE(WriteFileAtomically(shared, "y", 0600).ok());
  CHECK(ModeOf(shared) == 0600);
}

TEST_CASE("WriteFileAtomically into a missing directory fails", "[file_util]") {
  TempDir dir("missing_dir");
  absl::Status s = WriteFileAtomically(dir.File("no/such/file"), "x");
  CHECK(s.code() == absl::StatusCode::kNotFound);
}

TEST_CASE("ReadFile of a missing file is NOT_FOUND naming the path", "[file_util]") {
  TempDir dir("read");
  std::string path = dir.File("absent.txt");
  absl::StatusOr<std::string> contents = ReadFile(path);
  CHECK(contents.status().code() == absl::StatusCode::kNotFound);
  CHECK(Contains(contents.status(), path));
}

TEST_CASE("CheckPrivateFileMode accepts 0600 and 0400 only", "[file_util]") {
  TempDir dir("private");
  std::string key = dir.File("key.pem");
  REQUIRE(WriteFileAtomically(key, "secret", 0600).ok());
  CHECK(CheckPrivateFileMode(key).ok());

  REQUIRE(::chmod(key.c_str(), 0400) == 0);
  CHECK(CheckPrivateFileMode(key).ok());

  REQUIRE(::chmod(key.c_str(), 0644) == 0);
  absl::Status s = CheckPrivateFileMode(key);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(s, "chmod 600 " + key));

  REQUIRE(::chmod(key.c_str(), 0640) == 0);
  CHECK(CheckPrivateFileMode(key).code() == absl::StatusCode::kFailedPrecondition);

  CHECK(CheckPrivateFileMode(dir.File("absent.pem")).code() == absl::StatusCode::kNotFound);
  CHECK(CheckPrivateFileMode(dir.path().string()).code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("ResolveRelativeTo resolves against the config's directory", "[file_util]") {
  CHECK(ResolveRelativeTo("/etc/spoor/node.toml", "keys/node.pem") == "/etc/spoor/keys/node.pem");
  CHECK(ResolveRelativeTo("/etc/spoor/node.toml", "../data/a.csv") == "/etc/data/a.csv");
  CHECK(ResolveRelativeTo("/etc/spoor/node.toml", "/abs/a.csv") == "/abs/a.csv");
  CHECK(ResolveRelativeTo("node.toml", "a.csv") == "a.csv");
  CHECK(ResolveRelativeTo("conf/node.toml", "./a.csv") == "conf/a.csv");
  CHECK(ResolveRelativeTo("/etc/spoor/node.toml", "").empty());
}

}  // namespace
}  // namespace spoor
