#include "common/audit_log.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
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
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/pki.h"
#include "common/temp_dir_test_support.h"

namespace spoor {
namespace {

// A fresh directory per test, removed afterwards.
using ::spoor::testing::TempDir;

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
  TempDir dir("spoor_audit_test");
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
  TempDir dir("spoor_audit_test");
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
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  absl::StatusOr<std::unique_ptr<AuditLog>> first = AuditLog::Open(path, clock);
  REQUIRE(first.ok());
  absl::StatusOr<std::unique_ptr<AuditLog>> second = AuditLog::Open(path, clock);
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("VerifyAuditLog detects an edited record", "[audit]") {
  TempDir dir("spoor_audit_test");
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
  CHECK(Contains(s, "audit log " + path + " is broken at record 3: hash does not match"));
  // The message never quotes record content.
  CHECK_FALSE(Contains(s, "t9"));
}

TEST_CASE("VerifyAuditLog detects a removed record", "[audit]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 5);

  std::vector<std::string> lines = ReadLines(path);
  lines.erase(lines.begin() + 1);
  WriteLines(path, lines);
  absl::Status s = VerifyAuditLog(path).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(s, "is broken at record 2: seq is 3, expected 2"));
}

TEST_CASE("VerifyAuditLog detects reordered and rehashed records", "[audit]") {
  TempDir dir("spoor_audit_test");
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
  CHECK(Contains(s, "is broken at record 3: \"prev\" does not match"));

  std::swap(lines[0], lines[1]);
  WriteLines(path, lines);
  CHECK(Contains(VerifyAuditLog(path).status(), "is broken at record 1: seq is 2, expected 1"));

  WriteLines(path, {lines[1], "not json", lines[2]});
  CHECK(Contains(VerifyAuditLog(path).status(), "is broken at record 2: not valid JSON"));
}

TEST_CASE("AuditLog::Open refuses a broken log", "[audit]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 3);
  std::vector<std::string> lines = ReadLines(path);
  lines.erase(lines.begin());
  WriteLines(path, lines);

  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock);
  CHECK(log.status().code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(log.status(), "audit log " + path + " is broken at record 1: "));
  CHECK(Contains(log.status(), "; keep it for investigation and start a new log"));
  CHECK(ReadLines(path).size() == 2);  // left untouched
}

TEST_CASE("AuditLog::Open refuses a log ending in a partial line", "[audit]") {
  TempDir dir("spoor_audit_test");
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
  CHECK(Contains(s, "is broken at record 2: incomplete last line"));
  CHECK(AuditLog::Open(path, clock).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("AuditLog creates the file with mode 0600", "[audit]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  FakeClock clock;
  WriteRecords(path, clock, 1);
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("AuditLog rejects reserved keys and non-object fields", "[audit]") {
  TempDir dir("spoor_audit_test");
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
  TempDir dir("spoor_audit_test");
  CHECK(VerifyAuditLog(dir.File("none.jsonl")).status().code() == absl::StatusCode::kNotFound);
}

// --- Signed checkpoints. ---

// A consortium CA and certificates it issues, made once per test.
struct Pki {
  CertificateAndKey ca;
  CertificateAndKey hospital_a;

  Pki() {
    absl::StatusOr<CertificateAndKey> made = CreateCertificateAuthority({});
    REQUIRE(made.ok());
    ca = *made;
    hospital_a = Issue(ca, "hospital-a");
  }

  static CertificateAndKey Issue(const CertificateAndKey& ca, const std::string& name,
                                 absl::Time not_before = absl::InfinitePast(),
                                 absl::Duration validity = absl::Hours(24 * 365)) {
    IssueOptions options;
    options.identity = Identity{name, "Hospital", Role::kNode};
    options.not_before = not_before;
    options.validity = validity;
    absl::StatusOr<CertificateAndKey> issued = IssueCertificate(ca, options);
    REQUIRE(issued.ok());
    return *issued;
  }

  AuditSigner Signer(int every, const CertificateAndKey* party = nullptr) const {
    const CertificateAndKey& p = party != nullptr ? *party : hospital_a;
    return AuditSigner{p.private_key_pem, p.certificate_pem, every};
  }
};

// The documented signed message, built here independently of audit_log.cc.
std::string CheckpointMessageForTest(const std::string& covers, uint64_t records) {
  return "spoor audit checkpoint v1\n" + covers + "\n" + std::to_string(records);
}

// Base64 of an ECDSA-SHA256 signature by `key_pem`, with OpenSSL directly.
std::string SignForTest(const std::string& key_pem, const std::string& message) {
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(key != nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t size = 0;
  REQUIRE(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1);
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  REQUIRE(EVP_DigestSign(ctx, nullptr, &size, data, message.size()) == 1);
  std::string signature(size, '\0');
  REQUIRE(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size, data,
                         message.size()) == 1);
  signature.resize(size);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return absl::Base64Escape(signature);
}

bool VerifiesForTest(const std::string& certificate_pem, const std::string& message,
                     const std::string& signature_base64) {
  BIO* bio = BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(cert != nullptr);
  EVP_PKEY* key = X509_get_pubkey(cert);
  std::string der;
  REQUIRE(absl::Base64Unescape(signature_base64, &der));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  X509_free(cert);
  return ok;
}

nlohmann::ordered_json Parse(const std::string& line) {
  return nlohmann::ordered_json::parse(line);
}

// Re-hashes lines[from..] so that the chain holds again: what someone who
// knows the format, but not the writer's key, can do after an edit.
void Rechain(std::vector<std::string>& lines, size_t from) {
  std::string prev =
      from == 0 ? std::string(64, '0') : Parse(lines[from - 1])["hash"].get<std::string>();
  for (size_t i = from; i < lines.size(); ++i) {
    nlohmann::ordered_json record = Parse(lines[i]);
    record.erase("hash");
    record["prev"] = prev;
    prev = Sha256Hex(record.dump());
    record["hash"] = prev;
    lines[i] = record.dump();
  }
}

// Writes `n` records with a signer; the destructor seals the rest.
void WriteSigned(const std::string& path, FakeClock& clock, const AuditSigner& signer, int n) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock, signer);
  INFO(log.status().ToString());
  REQUIRE(log.ok());
  for (int i = 0; i < n; ++i) {
    REQUIRE((*log)->Append("task_released", {{"task", absl::StrCat("t", i)}, {"count", i}}).ok());
    clock.Advance(absl::Seconds(1));
  }
}

std::vector<std::string> Events(const std::string& path) {
  std::vector<std::string> events;
  for (const std::string& line : ReadLines(path)) events.push_back(Parse(line)["event"]);
  return events;
}

TEST_CASE("AuditLog writes a signed checkpoint every N records", "[audit][checkpoint]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  Pki pki;
  FakeClock clock(absl::Now());
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock, pki.Signer(3));
  REQUIRE(log.ok());
  for (int i = 0; i < 7; ++i) {
    REQUIRE((*log)->Append("task_released", {{"task", absl::StrCat("t", i)}}).ok());
  }
  // r r r C r r r C r
  CHECK((*log)->size() == 9);
  std::vector<std::string> lines = ReadLines(path);
  REQUIRE(lines.size() == 9);
  CHECK(Events(path) == std::vector<std::string>{"task_released", "task_released", "task_released",
                                                 "checkpoint", "task_released", "task_released",
                                                 "task_released", "checkpoint", "task_released"});

  nlohmann::ordered_json checkpoint = Parse(lines[3]);
  CHECK(checkpoint["seq"] == 4);
  CHECK(checkpoint["records"] == 3);
  CHECK(checkpoint["covers"] == Parse(lines[2])["hash"]);
  CHECK(checkpoint["prev"] == Parse(lines[2])["hash"]);
  CHECK(checkpoint["signer"] == "hospital-a");
  CHECK(checkpoint["certificate"] == pki.hospital_a.certificate_pem);
  // The fields are in the documented order, after the header.
  CHECK(lines[3].rfind(R"({"seq":4,"time":")", 0) == 0);
  CHECK(lines[3].find(R"("event":"checkpoint","records":3,"covers":")") != std::string::npos);
  // The signature is ECDSA-SHA256 over the documented message, checked
  // here with OpenSSL directly.
  CHECK(VerifiesForTest(pki.hospital_a.certificate_pem,
                        CheckpointMessageForTest(checkpoint["covers"], 3),
                        checkpoint["signature"]));
  CHECK_FALSE(VerifiesForTest(pki.hospital_a.certificate_pem,
                              CheckpointMessageForTest(checkpoint["covers"], 4),
                              checkpoint["signature"]));
  CHECK(Parse(lines[7])["records"] == 7);

  // Checkpoint(): now, once; then nothing left to seal.
  REQUIRE((*log)->Checkpoint().ok());
  CHECK((*log)->size() == 10);
  REQUIRE((*log)->Checkpoint().ok());
  CHECK((*log)->size() == 10);
  log->reset();
  CHECK(ReadLines(path).size() == 10);  // nothing unsealed: the destructor adds none

  AuditVerifyOptions options;
  options.ca_pem = pki.ca.certificate_pem;
  options.require_checkpoint = true;
  absl::StatusOr<AuditVerification> verified = VerifyAuditLog(path, options);
  INFO(verified.status().ToString());
  REQUIRE(verified.ok());
  CHECK(verified->records == 10);
  CHECK(verified->checkpoints == 3);
  CHECK(verified->signed_records == 10);
  CHECK(verified->signer == "hospital-a");
  CHECK(verified->signatures_checked);
  CHECK(verified->last_hash == Parse(ReadLines(path)[9])["hash"]);

  // Without a CA: the same checkpoints, their signatures unchecked.
  verified = VerifyAuditLog(path);
  REQUIRE(verified.ok());
  CHECK(verified->checkpoints == 3);
  CHECK_FALSE(verified->signatures_checked);
}

TEST_CASE("AuditLog seals at Open and on destruction", "[audit][checkpoint]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  Pki pki;
  FakeClock clock(absl::Now());
  WriteRecords(path, clock, 2);  // an unsigned run

  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock, pki.Signer(100));
    REQUIRE(log.ok());
    // The previous run's two records are sealed before anything else.
    CHECK((*log)->size() == 3);
    nlohmann::ordered_json sealed = Parse(ReadLines(path)[2]);
    CHECK(sealed["event"] == "checkpoint");
    CHECK(sealed["records"] == 2);
    REQUIRE((*log)->Append("node_stopped", nlohmann::json::object()).ok());
  }
  // The destructor sealed the one record since.
  CHECK(Events(path) == std::vector<std::string>{"task_released", "task_released", "checkpoint",
                                                 "node_stopped", "checkpoint"});
  {
    // Nothing unsealed: Open adds nothing.
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock, pki.Signer(100));
    REQUIRE(log.ok());
    CHECK((*log)->size() == 5);
  }
  CHECK(ReadLines(path).size() == 5);
  {
    // A run without a signer writes no checkpoints, and Checkpoint() says why.
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append("node_started", nlohmann::json::object()).ok());
    absl::Status s = (*log)->Checkpoint();
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(Contains(s, "has no signer"));
  }
  CHECK(ReadLines(path).size() == 6);

  AuditVerifyOptions options;
  options.ca_pem = pki.ca.certificate_pem;
  absl::StatusOr<AuditVerification> verified = VerifyAuditLog(path, options);
  INFO(verified.status().ToString());
  REQUIRE(verified.ok());
  CHECK(verified->records == 6);
  CHECK(verified->checkpoints == 2);
  CHECK(verified->signed_records == 5);  // the last record is unsealed

  // require_checkpoint turns unsealed records into an error.
  options.require_checkpoint = true;
  absl::Status s = VerifyAuditLog(path, options).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(
      s, "audit log " + path + ": the last 1 records are not covered by a signed checkpoint"));

  // A log with no checkpoint at all is wholly unsealed.
  std::string plain = dir.File("plain.jsonl");
  WriteRecords(plain, clock, 4);
  CHECK(Contains(VerifyAuditLog(plain, options).status(),
                 "the last 4 records are not covered by a signed checkpoint"));
  CHECK(VerifyAuditLog(plain, {pki.ca.certificate_pem, false})->signed_records == 0);
}

TEST_CASE("AuditLog refuses a bad signer", "[audit][checkpoint]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  Pki pki;
  FakeClock clock(absl::Now());
  CertificateAndKey other = Pki::Issue(pki.ca, "hospital-b");

  AuditSigner mismatched{other.private_key_pem, pki.hospital_a.certificate_pem, 10};
  absl::Status s = AuditLog::Open(path, clock, mismatched).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(s, "key does not belong to its certificate"));

  AuditSigner garbage{"not a key", pki.hospital_a.certificate_pem, 10};
  s = AuditLog::Open(path, clock, garbage).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(Contains(s, "not a key"));  // never quotes the key

  s = AuditLog::Open(path, clock, pki.Signer(0)).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);

  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock, pki.Signer(10));
  REQUIRE(log.ok());
  s = (*log)->Append("checkpoint", {{"records", 0}});
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(s, "'checkpoint' is reserved"));
  REQUIRE((*log)->Append("node_started", nlohmann::json::object()).ok());
  log->reset();

  // Another writer may not continue a log sealed by hospital-a.
  s = AuditLog::Open(path, clock, pki.Signer(10, &other)).status();
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(s, "is sealed by 'hospital-a' but this writer is 'hospital-b'"));

  CHECK(VerifyAuditLog(path, {"not a certificate", false}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("VerifyAuditLog names an edited record before or after a checkpoint",
          "[audit][checkpoint]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  Pki pki;
  FakeClock clock(absl::Now());
  WriteSigned(path, clock, pki.Signer(3), 5);  // r r r C r r C
  const std::vector<std::string> original = ReadLines(path);
  REQUIRE(original.size() == 7);
  AuditVerifyOptions options{pki.ca.certificate_pem, false};
  REQUIRE(VerifyAuditLog(path, options).ok());

  for (size_t index : {size_t{1}, size_t{4}}) {
    std::vector<std::string> lines = original;
    size_t at = lines[index].find("\"count\":");
    REQUIRE(at != std::string::npos);
    lines[index][at + 8] = '7';
    WriteLines(path, lines);
    absl::Status s = VerifyAuditLog(path, options).status();
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(Contains(s, absl::StrCat("is broken at record ", index + 1, ": hash does not match")));
  }

  SECTION("a rewritten chain breaks at the checkpoint that covered it") {
    std::vector<std::string> lines = original;
    nlohmann::ordered_json record = Parse(lines[1]);
    record["count"] = 70;
    lines[1] = record.dump();
    Rechain(lines, 1);
    WriteLines(path, lines);
    absl::Status s = VerifyAuditLog(path, options).status();
    CHECK(Contains(s, "is broken at record 4: checkpoint's \"covers\" is not the hash"));
    // Even without the CA: "covers" no longer matches.
    CHECK(Contains(VerifyAuditLog(path).status(), "is broken at record 4: "));

    // Fixing "covers" too needs a new signature, which only the key makes.
    for (size_t i : {size_t{3}, size_t{6}}) {
      nlohmann::ordered_json c = Parse(lines[i]);
      c["covers"] = c["prev"];
      lines[i] = c.dump();
      Rechain(lines, i);
    }
    WriteLines(path, lines);
    s = VerifyAuditLog(path, options).status();
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(Contains(s, "is broken at record 4: checkpoint's signature does not verify"));
    // Without a CA, signatures are not checked: this is what the CA is for.
    CHECK(VerifyAuditLog(path).ok());
  }
}

// Replaces the checkpoint at lines[index] by `mutate`'s version, re-chaining
// everything after it.
template <typename Mutate>
void ForgeCheckpoint(std::vector<std::string>& lines, size_t index, Mutate mutate) {
  nlohmann::ordered_json checkpoint = Parse(lines[index]);
  REQUIRE(checkpoint["event"] == "checkpoint");
  mutate(checkpoint);
  lines[index] = checkpoint.dump();
  Rechain(lines, index);
}

TEST_CASE("VerifyAuditLog refuses a forged checkpoint", "[audit][checkpoint]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  Pki pki;
  FakeClock clock(absl::Now());
  WriteSigned(path, clock, pki.Signer(2), 4);  // r r C r r C
  const std::vector<std::string> original = ReadLines(path);
  REQUIRE(original.size() == 6);
  AuditVerifyOptions options{pki.ca.certificate_pem, false};
  const std::string covers = Parse(original[1])["hash"];
  const std::string message = CheckpointMessageForTest(covers, 2);

  std::vector<std::string> lines = original;
  std::string expected;
  SECTION("signed by another key of the same CA") {
    CertificateAndKey other = Pki::Issue(pki.ca, "hospital-a");  // same CN, other key
    ForgeCheckpoint(lines, 2, [&](nlohmann::ordered_json& c) {
      c["signature"] = SignForTest(other.private_key_pem, message);
    });
    expected = "is broken at record 3: checkpoint's signature does not verify";
  }
  SECTION("a certificate from another CA") {
    absl::StatusOr<CertificateAndKey> rogue_ca = CreateCertificateAuthority({"rogue"});
    REQUIRE(rogue_ca.ok());
    CertificateAndKey rogue = Pki::Issue(*rogue_ca, "hospital-a");
    ForgeCheckpoint(lines, 2, [&](nlohmann::ordered_json& c) {
      c["certificate"] = rogue.certificate_pem;
      c["signature"] = SignForTest(rogue.private_key_pem, message);
    });
    expected = "is broken at record 3: checkpoint's certificate is not valid for the given CA";
  }
  SECTION("a validly signed but wrong \"covers\"") {
    const std::string wrong = Parse(original[0])["hash"];
    ForgeCheckpoint(lines, 2, [&](nlohmann::ordered_json& c) {
      c["covers"] = wrong;
      c["signature"] =
          SignForTest(pki.hospital_a.private_key_pem, CheckpointMessageForTest(wrong, 2));
    });
    expected = "is broken at record 3: checkpoint's \"covers\" is not the hash of the record";
  }
  SECTION("a wrong \"records\"") {
    ForgeCheckpoint(lines, 2, [&](nlohmann::ordered_json& c) {
      c["records"] = 1;
      c["signature"] =
          SignForTest(pki.hospital_a.private_key_pem, CheckpointMessageForTest(covers, 1));
    });
    expected = "is broken at record 3: checkpoint's \"records\" is not the number";
  }
  SECTION("a \"signer\" that is not the certificate's CN") {
    ForgeCheckpoint(lines, 2, [&](nlohmann::ordered_json& c) { c["signer"] = "hospital-z"; });
    expected = "is broken at record 3: checkpoint's \"signer\" is not the CN of its certificate";
  }
  SECTION("a checkpoint without its signature") {
    ForgeCheckpoint(lines, 2, [&](nlohmann::ordered_json& c) { c.erase("signature"); });
    expected = "is broken at record 3: checkpoint lacks";
  }
  SECTION("a checkpoint as the first record") {
    lines.erase(lines.begin(), lines.begin() + 2);
    for (size_t i = 0; i < lines.size(); ++i) {
      nlohmann::ordered_json r = Parse(lines[i]);
      r["seq"] = i + 1;
      lines[i] = r.dump();
    }
    Rechain(lines, 0);
    expected = "is broken at record 1: a checkpoint cannot be the first record";
  }
  WriteLines(path, lines);
  absl::Status s = VerifyAuditLog(path, options).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(s, "audit log " + path + " " + expected));
  // The message never quotes a certificate or a signature.
  CHECK_FALSE(Contains(s, "BEGIN CERTIFICATE"));
}

TEST_CASE("VerifyAuditLog refuses a checkpoint by another writer", "[audit][checkpoint]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  Pki pki;
  FakeClock clock(absl::Now());
  WriteSigned(path, clock, pki.Signer(2), 2);  // r r C
  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append("node_started", nlohmann::json::object()).ok());
  }
  // hospital-b, a genuine party of the same consortium, seals record 4.
  CertificateAndKey other = Pki::Issue(pki.ca, "hospital-b");
  std::vector<std::string> lines = ReadLines(path);
  REQUIRE(lines.size() == 4);
  std::string covers = Parse(lines[3])["hash"];
  nlohmann::ordered_json c;
  c["seq"] = 5;
  c["time"] = Parse(lines[3])["time"];
  c["event"] = "checkpoint";
  c["records"] = 4;
  c["covers"] = covers;
  c["signer"] = "hospital-b";
  c["certificate"] = other.certificate_pem;
  c["signature"] = SignForTest(other.private_key_pem, CheckpointMessageForTest(covers, 4));
  c["prev"] = covers;
  c["hash"] = Sha256Hex(c.dump());
  lines.push_back(c.dump());
  WriteLines(path, lines);

  AuditVerifyOptions options{pki.ca.certificate_pem, false};
  absl::Status s = VerifyAuditLog(path, options).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(s,
                 "is broken at record 5: checkpoint is signed by 'hospital-b' but the log's "
                 "earlier checkpoints by 'hospital-a'"));
  CHECK(Contains(VerifyAuditLog(path).status(), "is broken at record 5: checkpoint is signed by"));
}

TEST_CASE("VerifyAuditLog checks a certificate at its checkpoint's time", "[audit][checkpoint]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  Pki pki;
  // Valid for one day, starting tomorrow: not valid now, but at the time of
  // the checkpoints written below. Verification does not use the wall clock,
  // so a certificate that expired since does not undo old checkpoints.
  const absl::Time start = absl::Now() + absl::Hours(24);
  CertificateAndKey later = Pki::Issue(pki.ca, "hospital-a", start, absl::Hours(24));
  FakeClock clock(start + absl::Hours(1));
  WriteSigned(path, clock, pki.Signer(2, &later), 4);
  AuditVerifyOptions options{pki.ca.certificate_pem, true};
  absl::StatusOr<AuditVerification> verified = VerifyAuditLog(path, options);
  INFO(verified.status().ToString());
  REQUIRE(verified.ok());
  CHECK(verified->checkpoints == 2);

  // A checkpoint written after the certificate expired does not count.
  clock.Advance(absl::Hours(48));
  WriteSigned(path, clock, pki.Signer(2, &later), 1);
  absl::Status s = VerifyAuditLog(path, options).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(s, "is broken at record 8: checkpoint's certificate is not valid"));
  CHECK(Contains(s, "expired"));
}

TEST_CASE("Truncating the tail is only bounded by the last checkpoint seen",
          "[audit][checkpoint]") {
  TempDir dir("spoor_audit_test");
  std::string path = dir.File("audit.jsonl");
  Pki pki;
  FakeClock clock(absl::Now());
  WriteSigned(path, clock, pki.Signer(2), 4);  // r r C r r C
  AuditVerifyOptions options{pki.ca.certificate_pem, true};
  absl::StatusOr<AuditVerification> before = VerifyAuditLog(path, options);
  REQUIRE(before.ok());
  CHECK(before->signed_records == 6);

  // Cutting back to the first checkpoint leaves a log that verifies: the
  // file alone cannot tell. Only someone who kept the earlier result (6
  // signed records, its last hash) sees that it shrank.
  std::vector<std::string> lines = ReadLines(path);
  lines.resize(3);
  WriteLines(path, lines);
  absl::StatusOr<AuditVerification> after = VerifyAuditLog(path, options);
  REQUIRE(after.ok());
  CHECK(after->signed_records == 3);
  CHECK(after->signed_records < before->signed_records);
  CHECK(after->last_hash != before->last_hash);
}

}  // namespace
}  // namespace spoor
