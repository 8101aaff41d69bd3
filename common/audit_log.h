// An append-only, hash-chained audit log in JSON lines.
//
// Every record is one JSON object on one line:
//   {"seq":1,"time":"2026-11-23T09:00:00.000Z","event":"task_released",
//    ...fields..., "prev":"<hex sha256 of previous line>","hash":"<hex sha256>"}
// where "hash" is the SHA-256 of the record serialised without its "hash"
// member (same key order, no spaces), and "prev" is the previous record's
// "hash" (64 zeros for the first). Editing, removing or reordering any record
// breaks the chain, which VerifyAuditLog detects.
//
// Records hold identifiers, rule names, counts and digests: never a
// patient-level value.
#ifndef SPOOR_COMMON_AUDIT_LOG_H_
#define SPOOR_COMMON_AUDIT_LOG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "nlohmann/json.hpp"

namespace spoor {

// Thread-safe.
class AuditLog {
 public:
  // Opens (or creates, mode 0600) the log at `path`, reading the existing
  // records to continue the chain. DATA_LOSS if the existing log is broken
  // (names the first bad line); the caller must not append to it then.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& path,
                                                        const Clock& clock);
  ~AuditLog();

  // Appends one record with the given event name and fields (a JSON object;
  // "seq", "time", "event", "prev" and "hash" are set here and must not be
  // in `fields`). The line is written with a single write(2) and fdatasync'd
  // before returning.
  absl::Status Append(const std::string& event, const nlohmann::json& fields);

  // Number of records in the log.
  uint64_t size() const;

 private:
  AuditLog(int fd, const Clock& clock, uint64_t seq, std::string last_hash);

  const Clock& clock_;
  mutable absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_);
  std::string last_hash_ ABSL_GUARDED_BY(mu_);
};

struct AuditVerification {
  uint64_t records = 0;
  std::string last_hash;
};

// Checks the whole chain. DATA_LOSS naming the first broken line (1-based)
// and why (bad JSON, wrong seq, prev mismatch, hash mismatch).
absl::StatusOr<AuditVerification> VerifyAuditLog(const std::string& path);

// Hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace spoor

#endif  // SPOOR_COMMON_AUDIT_LOG_H_
