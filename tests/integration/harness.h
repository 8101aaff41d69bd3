// Running `spoor` processes from integration tests.
#ifndef SPOOR_TESTS_INTEGRATION_HARNESS_H_
#define SPOOR_TESTS_INTEGRATION_HARNESS_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace spoor::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  nlohmann::json Json() const { return nlohmann::json::parse(out); }
};

// Runs `spoor args...` to completion, capturing stdout and stderr.
RunResult RunSpoor(const std::vector<std::string>& args);

// Starts `spoor args...` in the background, stdout and stderr to `log`.
pid_t StartSpoor(const std::vector<std::string>& args, const std::string& log);

// Waits for a background process; returns its exit code (or 128+signal).
int WaitExit(pid_t pid);

// A fresh temporary directory, removed (after stopping any sandbox in it) on
// destruction.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The pid of a sandbox daemon ("coordinator" or a node name).
pid_t SandboxPid(const std::string& dir, const std::string& name);

std::string ExampleCsv(const std::string& hospital);  // "a" -> .../hospital-a.csv

// Polls `predicate` every 20 ms for up to `seconds`.
bool Eventually(double seconds, const std::function<bool()>& predicate);

}  // namespace spoor::testing

#endif  // SPOOR_TESTS_INTEGRATION_HARNESS_H_
