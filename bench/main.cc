// spoor-bench: benchmarks that print their figures and a ratio against a
// reference measured in the same run. See bench/README.md.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "bench/bench.h"

int main(int argc, char** argv) {
  // Debian's Abseil keeps a lock graph for deadlock detection on every
  // mutex operation; it costs more than the locking itself on the hot path.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"spoor benchmarks"};
  app.require_subcommand(1);
  spoor::bench::RoundtripOptions roundtrip;
  CLI::App* rt = app.add_subcommand("roundtrip", "latency of one federated round vs a bare gRPC call");
  rt->add_option("--nodes", roundtrip.nodes, "number of nodes (default 10)");
  rt->add_option("--rounds", roundtrip.rounds, "measured rounds (default 2000)");
  rt->add_option("--warmup", roundtrip.warmup, "unmeasured rounds first (default 200)");
  rt->add_flag("--json", roundtrip.json, "print one JSON object");
  rt->add_option("--mode", roundtrip.mode, "processes (default) or threads")
      ->check(CLI::IsMember({"processes", "threads"}));
  rt->add_option("--node-dir", roundtrip.node_dir,
                 "parent directory of the nodes' data directories (default /dev/shm, a "
                 "tmpfs; see bench/README.md)");
  absl::Status status;
  rt->callback([&] { status = spoor::bench::Roundtrip(roundtrip); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!status.ok()) {
    std::fprintf(stderr, "spoor-bench: error: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
