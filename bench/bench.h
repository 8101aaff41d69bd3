// spoor-bench subcommands.
#ifndef SPOOR_BENCH_BENCH_H_
#define SPOOR_BENCH_BENCH_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace spoor::bench {

// The p-quantile (0..1) of `v` by nearest rank; `v` must not be empty.
inline double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct RoundtripOptions {
  int nodes = 10;
  int rounds = 2000;
  int warmup = 200;
  bool json = false;
  // "processes": each node is a `spoor node` process (as deployed);
  // "threads": nodes are threads of the benchmark process.
  std::string mode = "processes";
  // Where the nodes keep their data directories (audit logs). Deployed, each
  // node writes and fdatasyncs its audit record on its own hospital's disk,
  // in parallel with the others; ten nodes sharing this machine's one disk
  // would serialise ten journal commits per round instead. So by default the
  // nodes' directories are on tmpfs (/dev/shm) and one fdatasync of an audit
  // record on this disk is measured and reported on its own
  // ("fdatasync_p50_us"). `--node-dir DIR` puts them elsewhere.
  std::string node_dir;
};

// One federated round (job submitted in-process to the coordinator's job
// manager, a task to each of N nodes over mTLS gRPC, a trivial aggregate
// back, central step, result persisted) against a bare unary gRPC call over
// the same kind of channel, in the same run.
absl::Status Roundtrip(const RoundtripOptions& options);

struct SynthOptions {
  std::string kind = "glm";  // glm: y (0/1), x1..xP; cox: time (days), status, x1..xP
  int sites = 8;
  int64_t rows = 250000;  // per site
  int covariates = 20;
  uint64_t seed = 1;
  std::string out;  // directory for site1.csv .. siteN.csv
};

// Writes synthetic sites for bench/analysis_vs_r.sh.
absl::Status Synth(const SynthOptions& options);

struct LoadOptions {
  std::string csv;         // a CSV file to load; empty: generate a mixed cohort
  int64_t rows = 2000000;  // rows of the generated cohort
  int repeat = 3;          // best of this many loads
  uint64_t seed = 1;
  bool json = false;
  // Sources to load the same rows from: csv, sqlite, postgresql.
  std::vector<std::string> sources = {"csv"};
};

// Load throughput of a node's dataset (MB/s, rows/s), the second task's cost
// on the cached dataset, and peak memory, against reading the same bytes.
absl::Status Load(const LoadOptions& options);

struct ContainerOptions {
  int tasks = 50;         // measured tasks of each kind
  int64_t rows = 3000;    // rows of the generated dataset (age, bmi)
  std::string algorithm;  // the colmean executable; default: beside spoor-bench
  bool json = false;
};

// Per-task latency at a node of a container algorithm (colmean, signed,
// verified, unpacked once, run with runc for every task) against the same
// statistic built in (summary of the same two variables), in the same
// process on the same data: the added latency of the container boundary.
absl::Status Container(const ContainerOptions& options);

}  // namespace spoor::bench

#endif  // SPOOR_BENCH_BENCH_H_
