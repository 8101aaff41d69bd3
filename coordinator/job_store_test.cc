#include "coordinator/job_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

namespace spoor {
namespace {

std::string TempDir() {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("spoor-store-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

v1::Job MakeJob(const std::string& id, int64_t created, v1::JobState state) {
  v1::Job job;
  job.set_job_id(id);
  job.set_state(state);
  job.set_round(2);
  job.mutable_created_at()->set_seconds(created);
  job.mutable_spec()->set_algorithm("summary");
  return job;
}

TEST_CASE("the SQLite store keeps jobs and their round state across reopen", "[job_store]") {
  std::string dir = TempDir();
  std::string path = dir + "/jobs.db";
  {
    absl::StatusOr<std::unique_ptr<JobStore>> store = OpenSqliteJobStore(path);
    REQUIRE(store.ok());
    v1::Parameters state;
    (*state.mutable_values())["beta"].set_number(1.5);
    REQUIRE((*store)->SaveJob(MakeJob("j1", 100, v1::JOB_STATE_RUNNING), state).ok());
    REQUIRE((*store)->SaveJob(MakeJob("j2", 200, v1::JOB_STATE_SUCCEEDED), {}).ok());
    REQUIRE((*store)->Maintain().ok());
  }
  absl::StatusOr<std::unique_ptr<JobStore>> store = OpenSqliteJobStore(path);
  REQUIRE(store.ok());
  absl::StatusOr<std::vector<StoredJob>> running = (*store)->LoadRunningJobs();
  REQUIRE(running.ok());
  REQUIRE(running->size() == 1);
  CHECK((*running)[0].job.job_id() == "j1");
  CHECK((*running)[0].round_state.values().at("beta").number() == 1.5);
  CHECK((*running)[0].job.round() == 2);
  absl::StatusOr<std::vector<v1::Job>> jobs = (*store)->ListJobs(10);
  REQUIRE(jobs->size() == 2);
  CHECK((*jobs)[0].job_id() == "j2");  // newest first
  CHECK((*store)->LoadJob("j2")->has_value());
  CHECK(!(*store)->LoadJob("nope")->has_value());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a second coordinator cannot open a store in use", "[job_store]") {
  std::string dir = TempDir();
  absl::StatusOr<std::unique_ptr<JobStore>> first = OpenSqliteJobStore(dir + "/jobs.db");
  REQUIRE(first.ok());
  REQUIRE((*first)->SaveJob(MakeJob("j1", 100, v1::JOB_STATE_RUNNING), {}).ok());
  absl::StatusOr<std::unique_ptr<JobStore>> second = OpenSqliteJobStore(dir + "/jobs.db");
  CHECK_FALSE(second.ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("the SQLite store explains an unusable path", "[job_store]") {
  absl::StatusOr<std::unique_ptr<JobStore>> store =
      OpenSqliteJobStore("/nonexistent-dir-for-spoor/jobs.db");
  REQUIRE(!store.ok());
  CHECK(absl::IsFailedPrecondition(store.status()));
  CHECK_THAT(std::string(store.status().message()), Catch::Contains("data_dir"));
}

}  // namespace
}  // namespace spoor
