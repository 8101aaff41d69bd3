#include "common/audit_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"

namespace spoor {
namespace {

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            absl::StrCat("spoor_audit_test_", ::getpid(), "_", counter++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : lines) out << line << "\n";
}

bool Contains(const absl::Status& status, const std::string& text) {
  return std::string(status.message()).find(text) != std::string::npos;
}

// Writes `n` records to a new log at `path`.
void WriteRecords(const std::string& path, FakeClock& clock, int n) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock);
  REQUIRE(log.ok());
  for (int i = 0; i < n; ++i) {
    REQUIRE((*log)->Append("task_released", {{"task", absl::StrCat("t", i)}, {"count", i}}).ok());
    clock.Advance(absl::Milliseconds(1500));
  }
}

TEST_CASE("AuditLog appends a verifiable chain", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock);
  REQUIRE(log.ok());
  CHECK((*log)->size() == 0);
  CHECK(VerifyAuditLog(path)->records == 0);

  REQUIRE((*log)->Append("node_started", nlohmann::json::object()).ok());
  clock.Advance(absl::Milliseconds(250));
  nlohmann::ordered_json fields;
  fields["task"] = "t-17";
  fields["algorithm"] = "count";
  fields["rows"] = 42;
  REQUIRE((*log)->Append("task_released", fields).ok());
  REQUIRE((*log)->Append("task_refused", {{"rule", "min_records"}}).ok());
  CHECK((*log)->size() == 3);

  absl::StatusOr<AuditVerification> verified = VerifyAuditLog(path);
  INFO(verified.status().ToString());
  REQUIRE(verified.ok());
  CHECK(verified->records == 3);
  CHECK(verified->last_hash.size() == 64);

  std::vector<std::string> lines = ReadLines(path);
  REQUIRE(lines.size() == 3);
  nlohmann::ordered_json first = nlohmann::ordered_json::parse(lines[0]);
  CHECK(first["seq"] == 1);
  CHECK(first["time"] == "2023-11-14T22:13:20.000Z");
  CHECK(first["event"] == "node_started");
  CHECK(first["prev"] == std::string(64, '0'));
  nlohmann::ordered_json second = nlohmann::ordered_json::parse(lines[1]);
  CHECK(second["time"] == "2023-11-14T22:13:20.250Z");
  CHECK(second["prev"] == first["hash"]);
  // Key order is fixed: the header fields, then the caller's (converted to
  // sorted nlohmann::json by the call), then the chain.
  CHECK(lines[1].rfind(R"({"seq":2,"time":"2023-11-14T22:13:20.250Z","event":"task_released",)"
                       R"("algorithm":"count","rows":42,"task":"t-17","prev":")",
                       0) == 0);
  nlohmann::ordered_json third = nlohmann::ordered_json::parse(lines[2]);
  CHECK(third["hash"] == verified->last_hash);

  // The hash is the SHA-256 of the line without its "hash" member.
  nlohmann::ordered_json unhashed = third;
  unhashed.erase("hash");
  CHECK(Sha256Hex(unhashed.dump()) == third["hash"]);
}

TEST_CASE("Sha256Hex matches a known digest", "[audit]") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("AuditLog reopening continues the chain", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 3);
  std::string last_hash = VerifyAuditLog(path)->last_hash;

  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock);
  REQUIRE(log.ok());
  CHECK((*log)->size() == 3);
  REQUIRE((*log)->Append("node_stopped", {{"reason", "shutdown"}}).ok());
  CHECK((*log)->size() == 4);
  log->reset();

  absl::StatusOr<AuditVerification> verified = VerifyAuditLog(path);
  INFO(verified.status().ToString());
  REQUIRE(verified.ok());
  CHECK(verified->records == 4);
  nlohmann::ordered_json fourth = nlohmann::ordered_json::parse(ReadLines(path)[3]);
  CHECK(fourth["seq"] == 4);
  CHECK(fourth["prev"] == last_hash);
}

TEST_CASE("AuditLog refuses a second writer", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  absl::StatusOr<std::unique_ptr<AuditLog>> first = AuditLog::Open(path, clock);
  REQUIRE(first.ok());
  absl::StatusOr<std::unique_ptr<AuditLog>> second = AuditLog::Open(path, clock);
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("VerifyAuditLog detects an edited record", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 5);

  std::vector<std::string> lines = ReadLines(path);
  size_t at = lines[2].find("\"t2\"");
  REQUIRE(at != std::string::npos);
  lines[2][at + 2] = '9';  // one byte of a middle record
  WriteLines(path, lines);

  absl::Status s = VerifyAuditLog(path).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(s, "audit log " + path + " is broken at line 3: hash does not match"));
  // The message never quotes record content.
  CHECK_FALSE(Contains(s, "t9"));
}

TEST_CASE("VerifyAuditLog detects a removed record", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 5);

  std::vector<std::string> lines = ReadLines(path);
  lines.erase(lines.begin() + 1);
  WriteLines(path, lines);
  absl::Status s = VerifyAuditLog(path).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(s, "is broken at line 2: seq is 3, expected 2"));
}

TEST_CASE("VerifyAuditLog detects reordered and rehashed records", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 3);

  // Someone who knows the format rewrites line 2 with a fresh seq and hash,
  // but cannot fix the prev of line 3 without rewriting it too.
  std::vector<std::string> lines = ReadLines(path);
  nlohmann::ordered_json record = nlohmann::ordered_json::parse(lines[1]);
  record.erase("hash");
  record["count"] = 100;
  record["hash"] = Sha256Hex(record.dump());
  lines[1] = record.dump();
  WriteLines(path, lines);
  absl::Status s = VerifyAuditLog(path).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(s, "is broken at line 3: \"prev\" does not match"));

  std::swap(lines[0], lines[1]);
  WriteLines(path, lines);
  CHECK(Contains(VerifyAuditLog(path).status(), "is broken at line 1: seq is 2, expected 1"));

  WriteLines(path, {lines[1], "not json", lines[2]});
  CHECK(Contains(VerifyAuditLog(path).status(), "is broken at line 2: not valid JSON"));
}

TEST_CASE("AuditLog::Open refuses a broken log", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 3);
  std::vector<std::string> lines = ReadLines(path);
  lines.erase(lines.begin());
  WriteLines(path, lines);

  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock);
  CHECK(log.status().code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(log.status(), "audit log " + path + " is broken at line 1: "));
  CHECK(Contains(log.status(), "; keep it for investigation and start a new log"));
  CHECK(ReadLines(path).size() == 2);  // left untouched
}

TEST_CASE("AuditLog::Open refuses a log ending in a partial line", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 2);
  std::vector<std::string> lines = ReadLines(path);
  {
    std::ofstream out(path, std::ios::trunc);
    out << lines[0] << "\n" << lines[1].substr(0, lines[1].size() / 2);
  }
  absl::Status s = VerifyAuditLog(path).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(s, "is broken at line 2: incomplete last line"));
  CHECK(AuditLog::Open(path, clock).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("AuditLog creates the file with mode 0600", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 1);
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("AuditLog rejects reserved keys and non-object fields", "[audit]") {
  TempDir dir;
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock);
  REQUIRE(log.ok());
  for (const char* key : {"seq", "time", "event", "prev", "hash"}) {
    absl::Status s = (*log)->Append("x", {{key, 1}});
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(Contains(s, std::string("'") + key + "' is reserved"));
  }
  CHECK((*log)->Append("x", nlohmann::json::array({1, 2})).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK((*log)->Append("x", nlohmann::json(3)).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*log)->Append("", nlohmann::json::object()).code() == absl::StatusCode::kInvalidArgument);
  CHECK((*log)->Append("x", {{"bad", std::string("\xff\xfe")}}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK((*log)->size() == 0);
  CHECK(VerifyAuditLog(path)->records == 0);
}

TEST_CASE("VerifyAuditLog of a missing file is NOT_FOUND", "[audit]") {
  TempDir dir;
  CHECK(VerifyAuditLog(dir.File("none.jsonl")).status().code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace spoor
