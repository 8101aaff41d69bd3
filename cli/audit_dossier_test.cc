#include "cli/audit_dossier.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/audit_log.h"
#include "common/clock.h"
#include "common/pki.h"
#include "common/temp_dir_test_support.h"

namespace spoor {
namespace {

using ::spoor::testing::TempDir;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

absl::Time At(const std::string& text) {
  absl::StatusOr<absl::Time> t = ParseAuditTime(text, false);
  REQUIRE(t.ok());
  return *t;
}

struct Party {
  CertificateAndKey ca;
  CertificateAndKey node;
  Party() {
    absl::StatusOr<CertificateAndKey> ca_made = CreateCertificateAuthority({});
    REQUIRE(ca_made.ok());
    ca = *ca_made;
    IssueOptions options;
    options.identity = Identity{"hospital-a", "Hospital A", Role::kNode};
    absl::StatusOr<CertificateAndKey> issued = IssueCertificate(ca, options);
    REQUIRE(issued.ok());
    node = *issued;
  }
  AuditSigner Signer() const { return {node.private_key_pem, node.certificate_pem, 2}; }
};

const std::string kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// A node's log over three days: a release, a refusal, a container release
// with a field the dossier does not know, then a coordinator-style refusal.
void WriteSampleLog(const std::string& path, FakeClock& clock, const Party& party) {
  absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock, party.Signer());
  REQUIRE(log.ok());
  nlohmann::json released = {
      {"blocks", {{{"name", "sbp"}, {"type", "vector"}, {"records", 1261}, {"values", 5}}}},
      {"bytes", 54},
      {"sha256", std::string(64, 'a')}};
  REQUIRE((*log)
              ->Append("task_released", {{"task", "t-1"},
                                         {"job", "j-1"},
                                         {"round", 1},
                                         {"requester", "j.jansen"},
                                         {"organisation", "Hospital B"},
                                         {"algorithm", "summary"},
                                         {"dataset", "cohort"},
                                         {"where", "age >= 50 && sex == 'F'"},
                                         {"released", released}})
              .ok());
  clock.Advance(absl::Hours(23));  // 2026-11-23T09:00
  REQUIRE((*log)
              ->Append("task_refused", {{"task", "t-2"},
                                        {"job", "j-2"},
                                        {"round", 1},
                                        {"requester", "a.smith"},
                                        {"organisation", "UMC"},
                                        {"algorithm", "colmean@1.0.0"},
                                        {"algorithm_digest", kDigest},
                                        {"dataset", "registry"},
                                        {"where", ""},
                                        {"rule", "min_records"},
                                        {"message", "a block describes fewer than 10 records"}})
              .ok());
  clock.Advance(absl::Hours(3));  // 2026-11-23T12:00
  released["blocks"][0]["name"] = "mean_age";
  REQUIRE((*log)
              ->Append("task_released", {{"task", "t-3"},
                                         {"job", "j-3"},
                                         {"round", 1},
                                         {"requester", "a.smith"},
                                         {"organisation", "UMC"},
                                         {"study", "cardio-2026"},
                                         {"algorithm", "colmean@1.0.0"},
                                         {"algorithm_digest", kDigest},
                                         {"dataset", "registry"},
                                         {"where", ""},
                                         {"novel_field", "kept"},
                                         {"released", released}})
              .ok());
  clock.Advance(absl::Hours(20));  // 2026-11-24T08:00
  REQUIRE((*log)
              ->Append("call_refused", {{"who", "mallory"},
                                        {"role", "researcher"},
                                        {"action", "submit jobs"},
                                        {"code", "PERMISSION_DENIED"},
                                        {"reason", "certificate revoked"}})
              .ok());
  // The destructor seals the last record.
}

std::vector<uint64_t> Seqs(const nlohmann::ordered_json& dossier) {
  std::vector<uint64_t> seqs;
  for (const auto& entry : dossier["entries"]) seqs.push_back(entry["seq"].get<uint64_t>());
  return seqs;
}

TEST_CASE("ParseAuditTime reads dates and timestamps", "[audit_dossier]") {
  CHECK(*ParseAuditTime("2026-11-23", false) ==
        absl::FromCivil(absl::CivilDay(2026, 11, 23), absl::UTCTimeZone()));
  CHECK(*ParseAuditTime("2026-11-23", true) ==
        absl::FromCivil(absl::CivilDay(2026, 11, 24), absl::UTCTimeZone()) - absl::Nanoseconds(1));
  absl::Time nine = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0), absl::UTCTimeZone());
  for (const char* text :
       {"2026-11-23T09:00:00.000Z", "2026-11-23T09:00:00Z", "2026-11-23T09:00:00",
        "2026-11-23T09:00", "2026-11-23T10:00+01:00", "2026-11-23T10:00:00.000+01:00"}) {
    INFO(text);
    absl::StatusOr<absl::Time> t = ParseAuditTime(text, true);
    REQUIRE(t.ok());
    CHECK(*t == nine);
  }
  for (const char* text : {"", "yesterday", "23-11-2026", "2026-11-23 09:00"}) {
    absl::Status s = ParseAuditTime(text, false).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(Has(std::string(s.message()), "is neither a date (2026-11-23) nor a time"));
  }
}

TEST_CASE("The dossier names who, what, where and what left the node", "[audit_dossier]") {
  TempDir dir("spoor_dossier_test");
  std::string path = dir.File("audit.jsonl");
  Party party;
  FakeClock clock(At("2026-11-22T10:00:00Z"));
  WriteSampleLog(path, clock, party);

  AuditDossierOptions options;
  options.log = path;
  options.now = At("2026-12-01T00:00:00Z");
  absl::StatusOr<nlohmann::ordered_json> dossier = BuildAuditDossier(options);
  INFO(dossier.status().ToString());
  REQUIRE(dossier.ok());
  const nlohmann::ordered_json& d = *dossier;
  // r r C r r C (the destructor seals record 5)
  CHECK(d["records_in_log"] == 6);
  CHECK(d["records_in_period"] == 6);
  CHECK(d["generated_at"] == "2026-12-01T00:00:00.000Z");
  CHECK(d["writer"] == "hospital-a");
  CHECK(d["writer_verified"] == false);  // no CA given
  CHECK(d["verification"]["ok"] == true);
  CHECK(d["verification"]["checkpoints"] == 2);
  CHECK(d["verification"]["last_checkpoint"]["seq"] == 6);
  CHECK(d["first_time"] == "2026-11-22T10:00:00.000Z");
  CHECK(d["last_time"] == "2026-11-24T08:00:00.000Z");

  const nlohmann::ordered_json& first = d["entries"][0];
  CHECK(first["event"] == "task_released");
  CHECK(first["requester"] == "j.jansen");
  CHECK(first["organisation"] == "Hospital B");
  CHECK(first["dataset"] == "cohort");
  CHECK(first["released"]["blocks"][0]["name"] == "sbp");
  CHECK(first["hash"].get<std::string>().size() == 64);
  CHECK_FALSE(first.contains("other"));
  const nlohmann::ordered_json& refused = d["entries"][1];
  CHECK(refused["rule"] == "min_records");
  CHECK(refused["algorithm_digest"] == kDigest);
  const nlohmann::ordered_json& checkpoint = d["entries"][2];
  CHECK(checkpoint["event"] == "checkpoint");
  CHECK(checkpoint["signer"] == "hospital-a");
  CHECK(checkpoint["records"] == 2);
  CHECK(checkpoint["certificate_sha256"] == Sha256Hex(party.node.certificate_pem));
  CHECK_FALSE(checkpoint.contains("certificate"));
  const nlohmann::ordered_json& container = d["entries"][3];
  CHECK(container["study"] == "cardio-2026");
  CHECK(container["other"]["novel_field"] == "kept");  // nothing hidden
  const nlohmann::ordered_json& call = d["entries"][4];
  CHECK(call["requester"] == "mallory");  // from "who"
  CHECK(call["role"] == "researcher");

  const nlohmann::ordered_json& summary = d["summary"];
  CHECK(summary["events"]["task_released"] == 2);
  CHECK(summary["events"]["checkpoint"] == 2);
  CHECK(summary["refusals"]["min_records"] == 1);
  CHECK(summary["refusals"]["access: PERMISSION_DENIED"] == 1);
  REQUIRE(summary["requesters"].size() == 3);
  CHECK(summary["requesters"][0] == nlohmann::ordered_json{{"requester", "a.smith"},
                                                           {"organisation", "UMC"},
                                                           {"records", 2},
                                                           {"releases", 1},
                                                           {"refusals", 1}});
  CHECK(summary["releases"] == nlohmann::ordered_json::parse(
                                   R"([{"dataset":"cohort","releases":1,"bytes":54},
                                       {"dataset":"registry","releases":1,"bytes":54}])"));

  std::string md = AuditDossierToMarkdown(d);
  INFO(md);
  CHECK(Has(md, "# Audit dossier: `" + path + "`"));
  CHECK(Has(md,
            "- **Writer:** hospital-a (as its checkpoints claim; not proven: no CA was "
            "given to check them)"));
  CHECK(Has(md,
            "- **Period:** the whole log (2026-11-22T10:00:00.000Z to "
            "2026-11-24T08:00:00.000Z)"));
  CHECK(Has(md,
            "- **Verification:** 6 records, chain intact, 2 signed checkpoints by "
            "hospital-a (signatures not checked; pass --ca to check them), every record "
            "covered"));
  CHECK(Has(md, "- **Records:** 6 in the log, 6 in the period"));
  CHECK(Has(md,
            "### Record 1 · 2026-11-22T10:00:00.000Z · `task_released`: an aggregate left "
            "the node"));
  CHECK(Has(md, "- **Who:** j.jansen, Hospital B\n"));
  CHECK(Has(md, "- **Dataset:** `cohort`"));
  CHECK(Has(md, "- **Cohort filter:** `age >= 50 && sex == 'F'`"));
  CHECK(Has(md, "- **What left the node:** 54 bytes, SHA-256 `" + std::string(64, 'a') + "`"));
  CHECK(Has(md,
            "  | Block | Type | Records | Values |\n  |---|---|---:|---:|\n"
            "  | `sbp` | `vector` | 1261 | 5 |\n"));
  CHECK(Has(md, "- **Algorithm digest:** `" + kDigest + "`"));
  CHECK(Has(md, "- **Rule applied:** `min_records`"));
  CHECK(Has(md, "- **Cohort filter:** none (all records)"));
  CHECK(Has(md, "- **Study:** cardio-2026"));
  CHECK(Has(md, "- **Other fields:**\n  - novel\\_field: kept\n"));
  CHECK(Has(md, "- **Who:** mallory (researcher)"));
  CHECK(Has(md, "- **Reason:** certificate revoked"));
  CHECK(Has(md, "- **Signed by:** hospital-a"));
  CHECK(Has(md, "| a.smith | UMC | 2 | 1 | 1 |"));
  CHECK(Has(md, "| `registry` | 1 | 54 |"));
  CHECK(Has(md, "| `min_records` | 1 |"));
  CHECK_FALSE(Has(md, "BEGIN CERTIFICATE"));
}

TEST_CASE("The dossier honours --from and --to", "[audit_dossier]") {
  TempDir dir("spoor_dossier_test");
  std::string path = dir.File("audit.jsonl");
  Party party;
  FakeClock clock(At("2026-11-22T10:00:00Z"));
  WriteSampleLog(path, clock, party);
  AuditDossierOptions options;
  options.log = path;

  options.from = *ParseAuditTime("2026-11-23", false);
  options.to = *ParseAuditTime("2026-11-23", true);
  absl::StatusOr<nlohmann::ordered_json> d = BuildAuditDossier(options);
  REQUIRE(d.ok());
  // Records 2 (09:00) and 3 (its checkpoint, same instant) and 4 (12:00).
  CHECK(Seqs(*d) == std::vector<uint64_t>{2, 3, 4});
  CHECK((*d)["records_in_log"] == 6);
  CHECK((*d)["records_in_period"] == 3);
  CHECK((*d)["period"]["from"] == "2026-11-23T00:00:00.000Z");
  CHECK((*d)["period"]["to"] == "2026-11-23T23:59:59.999Z");
  CHECK((*d)["summary"]["events"]["task_released"] == 1);
  std::string md = AuditDossierToMarkdown(*d);
  CHECK(Has(md,
            "- **Period:** 2026-11-23T00:00:00.000Z to 2026-11-23T23:59:59.999Z (UTC, "
            "inclusive)"));
  CHECK(Has(md, "- **Records:** 6 in the log, 3 in the period"));
  CHECK_FALSE(Has(md, "j.jansen"));

  // A timestamp bound is inclusive to the millisecond.
  options.from = *ParseAuditTime("2026-11-23T12:00:00.000Z", false);
  options.to.reset();
  d = BuildAuditDossier(options);
  REQUIRE(d.ok());
  CHECK(Seqs(*d) == std::vector<uint64_t>{4, 5, 6});

  options.from.reset();
  options.to = *ParseAuditTime("2026-11-22", true);
  d = BuildAuditDossier(options);
  REQUIRE(d.ok());
  CHECK(Seqs(*d) == std::vector<uint64_t>{1});

  options.from = *ParseAuditTime("2026-11-25", false);
  options.to.reset();
  d = BuildAuditDossier(options);
  REQUIRE(d.ok());
  CHECK((*d)["entries"].empty());
  CHECK(Has(AuditDossierToMarkdown(*d), "No records in the period."));

  options.from = *ParseAuditTime("2026-11-25", false);
  options.to = *ParseAuditTime("2026-11-24", true);
  absl::Status s = BuildAuditDossier(options).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Has(std::string(s.message()), "--from is after --to"));
}

TEST_CASE("The dossier refuses a broken log unless forced", "[audit_dossier]") {
  TempDir dir("spoor_dossier_test");
  std::string path = dir.File("audit.jsonl");
  Party party;
  FakeClock clock(At("2026-11-22T10:00:00Z"));
  WriteSampleLog(path, clock, party);
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  size_t at = lines[0].find("\"records\":1261");
  REQUIRE(at != std::string::npos);
  lines[0].replace(at, 14, "\"records\":1262");
  {
    std::ofstream out(path, std::ios::trunc);
    for (const std::string& line : lines) out << line << "\n";
  }

  AuditDossierOptions options;
  options.log = path;
  absl::Status s = BuildAuditDossier(options).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Has(std::string(s.message()), "audit log " + path +
                                          " is broken at record 1: hash does "
                                          "not match"));
  CHECK(Has(std::string(s.message()), "pass --force"));

  options.force = true;
  absl::StatusOr<nlohmann::ordered_json> d = BuildAuditDossier(options);
  REQUIRE(d.ok());
  CHECK((*d)["verification"]["ok"] == false);
  CHECK((*d)["verification"]["records"].is_null());
  CHECK((*d)["writer_verified"] == false);
  CHECK((*d)["entries"].size() == 6);
  std::string md = AuditDossierToMarkdown(*d);
  CHECK(Has(md, "- **Verification:** **FAILED**: audit log "));
  CHECK(Has(md, "may have been altered"));
  CHECK(Has(md, "not proven: the log failed verification"));

  options.log = dir.File("missing.jsonl");
  CHECK(BuildAuditDossier(options).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("The dossier proves the writer with the CA", "[audit_dossier]") {
  TempDir dir("spoor_dossier_test");
  std::string path = dir.File("audit.jsonl");
  Party party;
  FakeClock clock(absl::Now());  // the certificate is valid from now
  {
    absl::StatusOr<std::unique_ptr<AuditLog>> log = AuditLog::Open(path, clock, party.Signer());
    REQUIRE(log.ok());
    for (int i = 0; i < 3; ++i) {
      REQUIRE((*log)->Append("task_failed", {{"task", absl::StrCat("t", i)}}).ok());
    }
    REQUIRE((*log)->Checkpoint().ok());
    REQUIRE((*log)->Append("task_failed", {{"task", "t9"}}).ok());
    // Without the destructor's checkpoint: the log is copied while live.
    std::filesystem::copy_file(path, dir.File("copy.jsonl"));
  }
  AuditDossierOptions options;
  options.log = dir.File("copy.jsonl");
  options.ca_pem = party.ca.certificate_pem;
  options.ca_path = "ca.crt";
  absl::StatusOr<nlohmann::ordered_json> d = BuildAuditDossier(options);
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  CHECK((*d)["writer_verified"] == true);
  CHECK((*d)["verification"]["signed_records"] == 5);
  std::string md = AuditDossierToMarkdown(*d);
  CHECK(Has(md,
            "- **Writer:** hospital-a (proven by its signed checkpoints, checked against the "
            "CA `ca.crt`)"));
  CHECK(Has(md,
            "- **Verification:** 6 records, chain intact, 2 signed checkpoints by "
            "hospital-a, last record not yet covered by a checkpoint"));
  CHECK(Has(md, "- **Latest checkpoint:** record 5, hash `"));

  // A different CA does not prove it: the dossier is refused.
  absl::StatusOr<CertificateAndKey> other_ca = CreateCertificateAuthority({"other"});
  REQUIRE(other_ca.ok());
  options.ca_pem = other_ca->certificate_pem;
  absl::Status s = BuildAuditDossier(options).status();
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(Has(std::string(s.message()), "is broken at record 3: checkpoint's certificate"));
}

TEST_CASE("The verify summary and JSON", "[audit_dossier]") {
  AuditVerification v;
  v.records = 1234;
  v.checkpoints = 12;
  v.signed_records = 1231;
  v.signer = "hospital-a";
  v.signatures_checked = true;
  CHECK(DescribeAuditVerification(v) ==
        "1234 records, chain intact, 12 signed checkpoints by hospital-a, last 3 records not yet "
        "covered by a checkpoint");
  v.signed_records = 1234;
  CHECK(DescribeAuditVerification(v) ==
        "1234 records, chain intact, 12 signed checkpoints by hospital-a, every record covered");
  CHECK(DescribeAuditVerification(AuditVerification{1, "", 0, 0, "", true}) ==
        "1 record, chain intact, no signed checkpoints (nothing proves who wrote it)");
  CHECK(DescribeAuditVerification(AuditVerification{}) == "0 records, chain intact");

  nlohmann::ordered_json j = AuditVerificationToJson("a.jsonl", v);
  CHECK(j.dump() ==
        R"({"ok":true,"log":"a.jsonl","records":1234,"checkpoints":12,"signed_records":1234,)"
        R"("signer":"hospital-a","signatures_checked":true,"error":null})");
  j = AuditVerificationToJson("a.jsonl", absl::DataLossError("audit log a.jsonl is broken"));
  CHECK(j["ok"] == false);
  CHECK(j["records"].is_null());
  CHECK(j["error"] == "audit log a.jsonl is broken");
}

}  // namespace
}  // namespace spoor
