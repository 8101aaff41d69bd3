// For tests: a fresh directory under the system's temporary directory,
// removed with everything in it on destruction. Header only.
#ifndef SPOOR_COMMON_TEMP_DIR_TEST_SUPPORT_H_
#define SPOOR_COMMON_TEMP_DIR_TEST_SUPPORT_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace spoor::testing {

class TempDir {
 public:
  // `prefix` names the test in the directory's name, for whoever finds one
  // left behind by a crash.
  explicit TempDir(const std::string& prefix = "spoor_test") {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace spoor::testing

#endif  // SPOOR_COMMON_TEMP_DIR_TEST_SUPPORT_H_
