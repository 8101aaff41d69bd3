// A main() for fuzz targets built without libFuzzer (GCC, ordinary test
// builds): runs LLVMFuzzerTestOneInput once on every file named on the command
// line or found (recursively) under a named directory, so that ctest replays
// the seed corpus and every past crash input as a regression test.
//
// Exits 0 when every input ran; 1 if a path cannot be read or no input was
// found. A crashing input crashes this program, as it would the fuzzer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// Runs the target on the file at `path`; false if it cannot be read.
bool ReplayFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "replay: cannot open " << path << "\n";
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  if (in.bad()) {
    std::cerr << "replay: cannot read " << path << "\n";
    return false;
  }
  // A copy of exactly `size` bytes, so ASan catches reads past the end.
  std::vector<uint8_t> data(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool ok = true;
  size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path root(argv[i]);
    std::error_code error;
    if (std::filesystem::is_directory(root, error)) {
      std::vector<std::filesystem::path> files;
      for (auto it = std::filesystem::recursive_directory_iterator(root, error);
           !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
        if (it->is_regular_file()) files.push_back(it->path());
      }
      if (error) {
        std::cerr << "replay: cannot list " << root << ": " << error.message() << "\n";
        ok = false;
      }
      std::sort(files.begin(), files.end());  // a stable order for reproducible runs
      for (const auto& file : files) {
        ok = ReplayFile(file) && ok;
        ++count;
      }
    } else {
      ok = ReplayFile(root) && ok;
      ++count;
    }
  }
  if (count == 0) {
    std::cerr << "replay: no inputs\n";
    return 1;
  }
  std::cout << "replay: ran " << count << " input(s)\n";
  return ok ? 0 : 1;
}
