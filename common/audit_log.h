// An append-only, hash-chained audit log in JSON lines, sealed by signed
// checkpoints.
//
// Every record is one JSON object on one line:
//   {"seq":1,"time":"2026-11-23T09:00:00.000Z","event":"task_released",
//    ...fields..., "prev":"<hex sha256 of previous line>","hash":"<hex sha256>"}
// where "hash" is the SHA-256 of the record serialised without its "hash"
// member (same key order, no spaces), and "prev" is the previous record's
// "hash" (64 zeros for the first). Editing, removing or reordering any record
// breaks the chain, which VerifyAuditLog detects.
//
// Checkpoints. Anyone who can write the file can also rewrite it from the
// edited record onwards with freshly computed hashes; the chain alone cannot
// tell. A writer given an AuditSigner therefore appends, at regular
// intervals, a record with event "checkpoint":
//   {"seq":101,...,"event":"checkpoint","records":100,"covers":"<hash of 100>",
//    "signer":"<certificate CN>","certificate":"<PEM>","signature":"<base64>",
//    "prev":"<hash of 100>","hash":"..."}
// "signature" is the writer's ECDSA-SHA256 signature (DER, base64) of
//   "spoor audit checkpoint v1\n" + covers + "\n" + records
// (records in decimal, no trailing newline). A checkpoint covers every
// record up to and including number `records`, which is always the record
// just before it; rewriting any covered record changes its hash and every
// later one, so the checkpoint's "covers" no longer matches (or, if it is
// rewritten too, its signature no longer verifies) without the writer's key.
//
// What checkpoints cannot prove: that nothing was cut off the end. Cutting
// the file back after any record leaves a valid chain and valid earlier
// checkpoints. Records after the last checkpoint can also be rewritten
// undetectably. The latest checkpoint someone has seen elsewhere (printed by
// `spoor audit verify`, or in an exported dossier kept by the data
// protection officer) bounds what can be silently lost: a log whose signed
// length is now below it was truncated. Keep those outputs off the host.
//
// Records hold identifiers, rule names, counts and digests: never a
// patient-level value. Error messages name lines and reasons, never record
// content.
#ifndef SPOOR_COMMON_AUDIT_LOG_H_
#define SPOOR_COMMON_AUDIT_LOG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "nlohmann/json.hpp"

namespace spoor {

// The event name of checkpoint records; Append refuses it.
inline constexpr std::string_view kAuditCheckpointEvent = "checkpoint";

// Who seals a log, and how often.
struct AuditSigner {
  std::string private_key_pem;  // the writer's TLS key (ECDSA P-256, PKCS#8 PEM)
  std::string certificate_pem;  // its certificate; its CN names the writer
  int every_records = 100;      // a checkpoint after this many records (>= 1)
};

// Thread-safe.
class AuditLog {
 public:
  // Opens (or creates, mode 0600) the log at `path`, reading the existing
  // records to continue the chain. Errors:
  //   DATA_LOSS            the existing log is broken (names the first bad
  //                        record); the caller must not append to it then.
  //   INVALID_ARGUMENT     `signer` has a key or certificate that does not
  //                        parse, a key that is not ECDSA or does not belong
  //                        to the certificate, or every_records < 1.
  //   FAILED_PRECONDITION  another writer holds the log, or its checkpoints
  //                        were signed by another identity (CN) than
  //                        `signer`'s: start a new log for a new writer.
  //   PERMISSION_DENIED / INTERNAL  the file cannot be opened or written.
  // With a signer, records left unsealed by a previous run are sealed by a
  // checkpoint before Open returns. Without one, no checkpoints are written
  // (existing ones are kept and still chained).
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(
      const std::string& path, const Clock& clock,
      std::optional<AuditSigner> signer = std::nullopt);

  // Seals records appended since the last checkpoint (errors ignored), then
  // closes the file.
  ~AuditLog();

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one record with the given event name and fields (a JSON object;
  // "seq", "time", "event", "prev" and "hash" are set here and must not be
  // in `fields`; the event must not be "checkpoint"). The line is written
  // with a single write(2) and fdatasync'd before returning. INVALID_ARGUMENT
  // for a bad event or fields (nothing written); FAILED_PRECONDITION after an
  // earlier write failure; INTERNAL / DATA_LOSS if this write fails (the log
  // is then unusable).
  //
  // With a signer, every `every_records`-th record is followed by a
  // checkpoint. The record is durable when Append returns OK even if that
  // checkpoint fails: the failure is logged and the checkpoint retried at the
  // next Append, Checkpoint() or destruction.
  absl::Status Append(const std::string& event, const nlohmann::json& fields);

  // Appends a checkpoint covering every record so far. OK without writing
  // when nothing was appended since the last checkpoint (or the log is
  // empty). FAILED_PRECONDITION if the log was opened without a signer or
  // after an earlier write failure; INTERNAL / DATA_LOSS if signing or the
  // write fails.
  absl::Status Checkpoint();

  // Number of records in the log, checkpoints included.
  uint64_t size() const;

 private:
  struct SignerState;  // the parsed key, certificate and CN

  AuditLog(int fd, std::string path, const Clock& clock, uint64_t seq, std::string last_hash,
           uint64_t unsealed, std::unique_ptr<SignerState> signer);

  // Writes one record; `fields` are already checked.
  absl::Status AppendLocked(const std::string& event, const nlohmann::ordered_json& fields)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckpointLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const Clock& clock_;
  const std::unique_ptr<SignerState> signer_;  // null: no checkpoints
  mutable absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_);
  std::string last_hash_ ABSL_GUARDED_BY(mu_);
  // Records (not checkpoints) appended after the last checkpoint.
  uint64_t unsealed_ ABSL_GUARDED_BY(mu_);
};

struct AuditVerifyOptions {
  // The consortium CA (PEM). Empty: checkpoint signatures and certificates
  // are not checked, only their place in the chain and their signer's name.
  std::string ca_pem;
  // DATA_LOSS when records follow the last good checkpoint.
  bool require_checkpoint = false;
};

struct AuditVerification {
  uint64_t records = 0;  // checkpoints included
  std::string last_hash;
  uint64_t checkpoints = 0;
  // Records covered by the last good checkpoint (its seq: it covers itself
  // and everything before it); records - signed_records are unsealed.
  uint64_t signed_records = 0;
  std::string signer;               // the checkpoints' signer (CN); empty without any
  bool signatures_checked = false;  // a CA was given
};

// Checks the whole chain, and every checkpoint in it. DATA_LOSS naming the
// first broken record (1-based; record N is line N) and why: bad JSON, wrong
// seq, prev mismatch, hash mismatch, or a checkpoint that does not cover the
// record before it, whose certificate the CA did not issue or was not valid
// at the checkpoint's time, whose signature does not verify, or whose signer
// differs from the log's earlier checkpoints. With require_checkpoint, also
// DATA_LOSS when the last records are not covered by a checkpoint. NOT_FOUND
// / PERMISSION_DENIED / INTERNAL if the file cannot be read;
// INVALID_ARGUMENT if `ca_pem` does not parse. Messages never quote record
// content (they do name a checkpoint's signer).
absl::StatusOr<AuditVerification> VerifyAuditLog(const std::string& path,
                                                 const AuditVerifyOptions& options = {});

// Hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace spoor

#endif  // SPOOR_COMMON_AUDIT_LOG_H_
