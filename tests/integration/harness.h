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

// tests/reference/FILE in the source tree.
std::string ReferenceFile(const std::string& file);

// Starts a sandbox in `dir` whose three nodes, site-1 .. site-3, serve
// tests/reference/PREFIX_site1.csv .. PREFIX_site3.csv as dataset "cohort".
// A failed start fails the calling test (REQUIRE), with spoor's stderr.
// `extra` are further `sandbox start` options.
void StartReferenceSites(const Scratch& dir, const std::string& prefix,
                         const std::vector<std::string>& extra = {});

// `args` after `--config DIR/client.toml`: a research command against the
// sandbox in `dir`.
std::vector<std::string> ClientArgs(const Scratch& dir, std::vector<std::string> args);

// |a - b| / max(|a|, |b|); 0 when a == b.
double RelativeDifference(double a, double b);

// Polls `predicate` every 20 ms for up to `seconds`.
bool Eventually(double seconds, const std::function<bool()>& predicate);

}  // namespace spoor::testing

#endif  // SPOOR_TESTS_INTEGRATION_HARNESS_H_
