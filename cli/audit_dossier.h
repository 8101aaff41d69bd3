// `spoor audit verify|export`: the parts that do not print, so tests call
// them. cli/audit_commands.cc wires them to the command line.
//
// A dossier is what a data protection officer reads about one audit log
// (a node's or the coordinator's data_dir/audit.jsonl): who wrote it, whether
// it verifies, and for every record in a time window who asked, under which
// study, with which algorithm (and its digest), on which dataset, which rule
// refused it, and what left the node. It holds the log's identifiers, rule
// names, counts and digests, never more than the log itself does.
//
// Thread-compatible: no shared state.
#ifndef SPOOR_CLI_AUDIT_DOSSIER_H_
#define SPOOR_CLI_AUDIT_DOSSIER_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/audit_log.h"
#include "nlohmann/json.hpp"

namespace spoor {

// Parses --from / --to: a date, 2026-11-23 (its start for --from,
// `end_of_range` false; its last instant for --to), or a timestamp
// 2026-11-23T09:00, 2026-11-23T09:00:00 or 2026-11-23T09:00:00.000, each
// optionally followed by Z or an offset (+01:00); UTC without one.
// INVALID_ARGUMENT naming the accepted forms.
absl::StatusOr<absl::Time> ParseAuditTime(std::string_view text, bool end_of_range);

// "1234 records, chain intact, 12 signed checkpoints by hospital-a, last 3
// records not yet covered by a checkpoint", and its variants (no
// checkpoints; signatures not checked without a CA).
std::string DescribeAuditVerification(const AuditVerification& verification);

// `spoor audit verify --json`: {"ok", "log", "records", "checkpoints",
// "signed_records", "signer", "signatures_checked", "error"}; when the log
// fails verification the counts and signer are null and "error" is the
// message (null when ok).
nlohmann::ordered_json AuditVerificationToJson(
    const std::string& path, const absl::StatusOr<AuditVerification>& verification);

struct AuditDossierOptions {
  std::string log;                     // the audit log's path
  std::string ca_pem;                  // the consortium CA; empty: signatures are not checked
  std::string ca_path;                 // where ca_pem came from, named in the dossier
  std::optional<absl::Time> from;      // inclusive; none: from the first record
  std::optional<absl::Time> to;        // inclusive; none: to the last record
  bool force = false;                  // export a log that fails verification, marked so
  absl::Time now = absl::UnixEpoch();  // when the dossier was made
};

// Verifies the log, then reads its records in [from, to]. The dossier
// (JSON):
//   {"log", "generated_at", "writer", "writer_verified",
//    "period": {"from", "to"} (null where open),
//    "verification": {"ok", "records", "checkpoints", "signed_records",
//                     "signer", "signatures_checked", "ca", "error",
//                     "last_checkpoint": {"seq", "hash"} or null},
//    "records_in_log", "records_in_period", "first_time", "last_time",
//    "entries": [{"seq", "time", "event", "hash", then those present of
//                 "requester" (from "requester" or "who"), "organisation",
//                 "role", "study", "action", "job", "task", "round",
//                 "algorithm", "algorithm_digest" (from "algorithm_digest"
//                 or "digest"), "dataset", "where", "rule", "code",
//                 "message", "reason", "verdict", "sites", "released",
//                 for checkpoints "records", "covers", "signer",
//                 "certificate_sha256", "signature"; and "other": every
//                 other field, so nothing is hidden}],
//    "summary": {"events": {EVENT: n}, "requesters": [{"requester",
//                "organisation", "records", "releases", "refusals"}],
//                "releases": [{"dataset", "releases", "bytes"}],
//                "refusals": {RULE: n}}}
// Errors: the log's verification error (DATA_LOSS naming the record, with
// what to do) unless `force`; NOT_FOUND / PERMISSION_DENIED if it cannot be
// read; INVALID_ARGUMENT if from > to or the CA does not parse.
absl::StatusOr<nlohmann::ordered_json> BuildAuditDossier(const AuditDossierOptions& options);

// The dossier as Markdown: a header (log, writer, period, verification,
// record counts), one section per record, then the summary tables.
std::string AuditDossierToMarkdown(const nlohmann::ordered_json& dossier);

}  // namespace spoor

#endif  // SPOOR_CLI_AUDIT_DOSSIER_H_
