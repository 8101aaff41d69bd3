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
  CLI::App* rt =
      app.add_subcommand("roundtrip", "latency of one federated round vs a bare gRPC call");
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
  spoor::bench::SynthOptions synth;
  CLI::App* sy =
      app.add_subcommand("synth", "write synthetic multi-site data for the analysis benchmarks");
  sy->add_option("--kind", synth.kind, "glm (default) or cox")
      ->check(CLI::IsMember({"glm", "cox"}));
  sy->add_option("--sites", synth.sites, "number of sites (default 8)");
  sy->add_option("--rows", synth.rows, "rows per site (default 250000)");
  sy->add_option("--covariates", synth.covariates, "covariates x1..xP (default 20)");
  sy->add_option("--seed", synth.seed, "random seed (default 1)");
  sy->add_option("--out", synth.out, "output directory")->required();
  sy->callback([&] { status = spoor::bench::Synth(synth); });
  rt->callback([&] { status = spoor::bench::Roundtrip(roundtrip); });
  spoor::bench::LoadOptions load;
  CLI::App* ld = app.add_subcommand("load", "dataset load throughput and cached second task");
  ld->add_option("--csv", load.csv, "CSV file to load (default: generate a mixed cohort)");
  ld->add_option("--rows", load.rows, "rows of the generated cohort (default 2000000)");
  ld->add_option("--repeat", load.repeat, "best of this many loads (default 3)");
  ld->add_option("--seed", load.seed, "random seed (default 1)");
  ld->add_option("--sources", load.sources, "csv (default), sqlite, postgresql; comma-separated")
      ->delimiter(',');
  ld->add_flag("--json", load.json, "print one JSON object per source");
  ld->callback([&] { status = spoor::bench::Load(load); });
  spoor::bench::ContainerOptions container;
  CLI::App* ct = app.add_subcommand(
      "container", "added latency of a container algorithm's task over the built-in one");
  ct->add_option("--tasks", container.tasks, "measured tasks of each kind (default 50)");
  ct->add_option("--rows", container.rows, "rows of the generated dataset (default 3000)");
  ct->add_option("--algorithm", container.algorithm,
                 "the colmean executable (default: algorithms/colmean beside spoor-bench)");
  ct->add_flag("--json", container.json, "print one JSON object");
  ct->callback([&] { status = spoor::bench::Container(container); });
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
