// spoor-bench container: the latency a container algorithm adds per task at
// the node, against the built-in equivalent on the same data.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "algorithms/algorithm.h"
#include "bench/bench.h"
#include "common/algorithm_signature.h"
#include "common/audit_log.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/status.h"
#include "nlohmann/json.hpp"
#include "node/dataset_cache.h"
#include "node/node_containers.h"
#include "node/task_executor.h"

namespace spoor::bench {
namespace {

absl::Status WriteCohort(const std::string& path, int64_t rows) {
  std::mt19937_64 random(1);
  std::normal_distribution<double> age(60, 10), bmi(27, 4);
  std::ofstream out(path);
  out << "age,bmi\n";
  for (int64_t i = 0; i < rows; ++i) {
    out << static_cast<int>(age(random)) << "," << static_cast<int>(bmi(random) * 10) / 10.0
        << "\n";
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

v1::Task MakeTask(const std::string& algorithm, int n) {
  v1::Task task;
  task.set_task_id(absl::StrCat("bench/", algorithm, "/", n));
  task.set_job_id("bench");
  task.set_round(1);
  task.set_algorithm(algorithm);
  task.set_dataset("cohort");
  for (const char* site : {"a", "b", "c"}) task.add_participants(site);
  SetTextList(*task.mutable_parameters(), "vars", {"age", "bmi"});
  return task;
}

// Microseconds per task, each a fresh task id (nothing answered from memory).
absl::StatusOr<std::vector<double>> Time(TaskExecutor& executor, const v1::Task& prototype,
                                         int first, int count) {
  std::vector<double> us;
  for (int i = 0; i < count; ++i) {
    v1::Task task = prototype;
    task.set_task_id(absl::StrCat(prototype.task_id(), "/", first + i));
    absl::Time start = absl::Now();
    v1::TaskResult result = executor.Execute(task);
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
    if (!result.has_aggregate()) {
      return absl::InternalError(
          absl::StrCat("task ", task.algorithm(), " did not succeed: ", result.DebugString()));
    }
  }
  return us;
}

}  // namespace

absl::Status Container(const ContainerOptions& options) {
  if (::geteuid() != 0) {
    return absl::FailedPreconditionError("the container benchmark runs runc and needs root");
  }
  std::string binary = options.algorithm;
  if (binary.empty()) {
    binary = (std::filesystem::canonical("/proc/self/exe").parent_path() / "algorithms/colmean")
                 .string();
  }
  SPOOR_ASSIGN_OR_RETURN(std::string executable, ReadFile(binary));
  std::string dir = absl::StrCat("/tmp/spoor-bench-container-", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};

  SPOOR_RETURN_IF_ERROR(WriteCohort(dir + "/cohort.csv", options.rows));
  RealClock clock;
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<AuditLog> audit,
                         AuditLog::Open(dir + "/audit.jsonl", clock));
  DatasetCache datasets({CsvDataset("cohort", dir + "/cohort.csv")});
  DisclosureGate gate(DisclosureRules{});
  std::unique_ptr<AlgorithmRegistry> builtins = MakeBuiltinRegistry();

  // colmean@1.0.0, signed by a key the node trusts and allowed by name.
  AlgorithmInfo info;
  info.name = "colmean";
  info.version = "1.0.0";
  info.parameters = {{"vars", "texts", true, ""}};
  info.aggregates = {"vector"};
  InMemoryRegistryClient registry;
  SPOOR_ASSIGN_OR_RETURN(registry.image, PackageBinary(executable, info));
  SPOOR_ASSIGN_OR_RETURN(ResolvedImage resolved, ResolveImage(registry.image));
  SPOOR_ASSIGN_OR_RETURN(SigningKeyPair key, GenerateSigningKey());
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(dir + "/signer.pub", key.public_pem));
  SPOOR_ASSIGN_OR_RETURN(
      AlgorithmSignature signature,
      SignManifest(key.private_pem, "bench", resolved.manifest_digest, absl::Now()));
  SPOOR_RETURN_IF_ERROR(registry.Publish({SignatureToJson(signature)}));
  ContainerPolicy policy;
  policy.enabled = true;
  policy.trusted_signers = {dir + "/signer.pub"};
  policy.allow = {"colmean"};
  policy.work_dir = dir + "/containers";
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<ApprovalStore> approvals,
                         ApprovalStore::Open(dir + "/approvals.db"));
  SPOOR_ASSIGN_OR_RETURN(std::unique_ptr<NodeContainers> containers,
                         NodeContainers::Create(policy, registry, *approvals, clock));
  TaskExecutor executor(*builtins, datasets, gate, *audit, containers.get());

  v1::Task builtin = MakeTask("summary", 0);
  v1::Task container = MakeTask("colmean@1.0.0", 0);
  container.set_algorithm_digest(resolved.manifest_digest);
  // Warm both: the dataset loads once, the image is fetched, verified and
  // unpacked once.
  absl::Time first_start = absl::Now();
  SPOOR_RETURN_IF_ERROR(Time(executor, container, -1, 1).status());
  double first_us = absl::ToDoubleMicroseconds(absl::Now() - first_start);
  SPOOR_RETURN_IF_ERROR(Time(executor, builtin, -1, 3).status());

  SPOOR_ASSIGN_OR_RETURN(std::vector<double> builtin_us, Time(executor, builtin, 0, options.tasks));
  SPOOR_ASSIGN_OR_RETURN(std::vector<double> container_us,
                         Time(executor, container, 0, options.tasks));
  double builtin_p50 = Percentile(builtin_us, 0.5), container_p50 = Percentile(container_us, 0.5);
  nlohmann::ordered_json figures = {{"rows", options.rows},
                                    {"tasks", options.tasks},
                                    {"builtin_p50_us", builtin_p50},
                                    {"container_p50_us", container_p50},
                                    {"container_p99_us", Percentile(container_us, 0.99)},
                                    {"added_p50_ms", (container_p50 - builtin_p50) / 1000},
                                    {"first_task_ms", first_us / 1000},
                                    {"image_bytes", executable.size()}};
  if (options.json) {
    std::cout << figures.dump() << "\n";
    return absl::OkStatus();
  }
  std::printf(
      "container task vs built-in, %lld rows, %d tasks each\n"
      "  built-in summary      p50 %10.1f us\n"
      "  container colmean     p50 %10.1f us   p99 %.1f us\n"
      "  added per task        p50 %10.2f ms   (target <= 100 ms)\n"
      "  first task (fetch, verify, unpack, run): %.1f ms\n",
      static_cast<long long>(options.rows), options.tasks, builtin_p50, container_p50,
      Percentile(container_us, 0.99), (container_p50 - builtin_p50) / 1000, first_us / 1000);
  return absl::OkStatus();
}

}  // namespace spoor::bench
