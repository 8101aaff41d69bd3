// spoor-bench load: how fast a node loads a dataset, and what a second task
// on the cached dataset costs.
//
// Generates a mixed cohort (numeric and categorical columns, some missing
// values, as the demo's hospitals) unless --csv names a file, then in one
// process:
//   1. the node's load: DatasetCache::Get on a fresh cache (stat, read,
//      parse into columns), best of --repeat; its peak memory over the frame;
//   2. a second Get on the same cache (the cached frame);
//   3. the reference: reading the same bytes through one reused buffer of the
//      reader's chunk size, nothing parsed (the I/O floor), best of --repeat.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "algorithms/csv_reader.h"
#include "bench/bench.h"
#include "common/file_util.h"
#include "common/status.h"
#include "node/dataset_cache.h"

namespace spoor::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Resident set size fields of /proc/self/status, in bytes.
size_t ProcStatusBytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0) return std::stoull(line.substr(n + 1)) * 1024;
  }
  return 0;
}

// The demo's columns, at scale: id, age, sex, bmi (some missing), smoker,
// sbp, stage, followup_days, event.
absl::Status WriteCohort(const std::string& path, int64_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> unit;
  const char* smoker[] = {"never", "former", "current"};
  std::string out = "id,age,sex,bmi,smoker,sbp,stage,followup_days,event\n";
  out.reserve(static_cast<size_t>(rows) * 44);
  for (int64_t i = 1; i <= rows; ++i) {
    const double bmi = std::round((26 + 4 * normal(rng)) * 10) / 10;
    absl::StrAppend(&out, i, ",", static_cast<int>(55 + 12 * normal(rng)), ",",
                    unit(rng) < 0.5 ? "F" : "M", ",");
    if (unit(rng) < 0.05) {
      out += "NA";
    } else {
      absl::StrAppendFormat(&out, "%.1f", bmi);
    }
    absl::StrAppend(&out, ",", smoker[static_cast<int>(unit(rng) * 3)], ",",
                    static_cast<int>(130 + 15 * normal(rng)), ",",
                    1 + static_cast<int>(unit(rng) * 4), ",",
                    1 + static_cast<int>(unit(rng) * 3650), ",", unit(rng) < 0.3 ? 1 : 0, "\n");
  }
  return WriteFileAtomically(path, out);
}

}  // namespace

absl::Status Load(const LoadOptions& options) {
  if (options.rows < 1 || options.repeat < 1) {
    return absl::InvalidArgumentError("--rows and --repeat must be at least 1");
  }
  std::string path = options.csv;
  std::string generated_dir;
  if (path.empty()) {
    generated_dir = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                 "/spoor-bench-load-", ::getpid());
    std::filesystem::create_directories(generated_dir);
    path = generated_dir + "/cohort.csv";
    SPOOR_RETURN_IF_ERROR(WriteCohort(path, options.rows, options.seed));
  }
  const double bytes = static_cast<double>(std::filesystem::file_size(path));
  // Warm the page cache: both sides then read from memory.
  SPOOR_RETURN_IF_ERROR(ReadFile(path).status());

  // 1. The node's load, on a fresh cache each time. The first run also
  // measures peak memory: the high-water mark over the resident set before.
  double load_s = 1e300;
  double cached_s = 1e300;
  size_t rows = 0;
  size_t frame_bytes = 0;
  size_t peak_over_frame = 0;
  for (int i = 0; i < options.repeat; ++i) {
    DatasetCache cache({CsvDataset("cohort", path)});
    const size_t rss_before = ProcStatusBytes("VmRSS:");
    auto start = Clock::now();
    SPOOR_ASSIGN_OR_RETURN(std::shared_ptr<const DataFrame> frame, cache.Get("cohort"));
    load_s = std::min(load_s, Seconds(Clock::now() - start));
    if (i == 0) {
      const size_t hwm = ProcStatusBytes("VmHWM:");
      peak_over_frame = hwm > rss_before ? hwm - rss_before : 0;
    }
    rows = frame->num_rows();
    frame_bytes = frame->memory_bytes();
    start = Clock::now();
    SPOOR_ASSIGN_OR_RETURN(std::shared_ptr<const DataFrame> again, cache.Get("cohort"));
    cached_s = std::min(cached_s, Seconds(Clock::now() - start));
  }

  // 3. The reference: the same bytes read, not parsed.
  double read_s = 1e300;
  std::vector<char> buffer(CsvOptions().chunk_bytes);
  for (int i = 0; i < options.repeat; ++i) {
    auto start = Clock::now();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    while (::read(fd, buffer.data(), buffer.size()) > 0) {
    }
    ::close(fd);
    read_s = std::min(read_s, Seconds(Clock::now() - start));
  }
  if (!generated_dir.empty()) std::filesystem::remove_all(generated_dir);

  const double mb = bytes / 1e6;
  if (options.json) {
    std::printf(
        "{\"source\":\"csv\",\"bytes\":%.0f,\"rows\":%zu,\"load_s\":%.4f,\"mb_per_s\":%.1f,"
        "\"rows_per_s\":%.0f,\"cached_get_us\":%.1f,\"read_mb_per_s\":%.1f,"
        "\"frame_mb\":%.1f,\"peak_mb\":%.1f}\n",
        bytes, rows, load_s, mb / load_s, static_cast<double>(rows) / load_s, cached_s * 1e6,
        mb / read_s, frame_bytes / 1e6, peak_over_frame / 1e6);
  } else {
    std::printf("csv: %.1f MB, %zu rows, %zu-byte frame\n", mb, rows, frame_bytes);
    std::printf("  load (best of %d)      %8.3f s  %7.1f MB/s  %10.0f rows/s\n", options.repeat,
                load_s, mb / load_s, static_cast<double>(rows) / load_s);
    std::printf("  second task, cached   %8.1f us\n", cached_s * 1e6);
    std::printf("  reference: read only %8.3f s  %7.1f MB/s  (load = %.1fx the read)\n", read_s,
                mb / read_s, load_s / read_s);
    std::printf("  peak memory of the load %.1f MB = %.2fx the frame (%.1f MB)\n",
                peak_over_frame / 1e6, static_cast<double>(peak_over_frame) / frame_bytes,
                frame_bytes / 1e6);
  }
  return absl::OkStatus();
}

}  // namespace spoor::bench
