// Who may call the coordinator, decided in one place for every service:
// the caller's certificate (mutual TLS), its role, the consortium's
// revocation list (re-read when it changes) and a per-identity rate limit.
// Every refusal is written to the coordinator's audit log before the caller
// hears of it. No gRPC header: services pass the peer's certificate PEM.
#ifndef SPOOR_COORDINATOR_ACCESS_CONTROL_H_
#define SPOOR_COORDINATOR_ACCESS_CONTROL_H_

#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/audit_log.h"
#include "common/clock.h"
#include "common/pki.h"
#include "common/revocation_list.h"
#include "spoor/v1/job.pb.h"

namespace spoor {

struct RateLimit {
  // Sustained calls per second and burst per identity; 0 calls_per_second
  // switches the limit off.
  double calls_per_second = 50;
  double burst = 200;
};

// Thread-safe. `revoked`, `audit` and `clock` must outlive it.
class AccessControl {
 public:
  AccessControl(RevocationList& revoked, AuditLog& audit, const Clock& clock, RateLimit limit)
      : revoked_(revoked), audit_(audit), clock_(clock), limit_(limit) {}

  // The caller behind `certificate_pem` (the TLS peer's; empty when none),
  // if its role is one of `roles`, its certificate is not revoked and it is
  // within its rate. UNAUTHENTICATED / PERMISSION_DENIED /
  // RESOURCE_EXHAUSTED saying why and what to do; `action` ("submit jobs")
  // completes the sentence "it may not ...". Refusals are audited as
  // "call_refused" with the identity, action and reason.
  absl::StatusOr<v1::Requester> Authorize(std::string_view certificate_pem,
                                          std::initializer_list<Role> roles,
                                          std::string_view action);
  // The same, returning the whole identity (with the certificate serial).
  absl::StatusOr<Identity> Authenticate(std::string_view certificate_pem,
                                        std::initializer_list<Role> roles, std::string_view action);

  // For a long-lived stream authorised earlier: PERMISSION_DENIED (audited)
  // once the certificate has been revoked. One stat of the revocation list;
  // not rate limited.
  absl::Status Recheck(const Identity& identity, std::string_view action);

  // Writes one record to the coordinator's audit log; a failure is logged
  // and returned (callers that must not act unaudited check it).
  absl::Status Audit(const std::string& event, const nlohmann::json& fields);

  // Refusal of an authenticated caller for a reason decided elsewhere (a
  // study rule): audited like Authorize's refusals, returns `refusal`.
  absl::Status Refuse(const v1::Requester& requester, std::string_view action,
                      absl::Status refusal);

 private:
  absl::Status RefuseIdentity(const std::string& name, const std::string& role,
                              std::string_view action, absl::Status refusal);
  enum class Rate { kWithin, kFirstRefusal, kRefused };
  Rate TakeToken(const std::string& key);

  RevocationList& revoked_;
  AuditLog& audit_;
  const Clock& clock_;
  const RateLimit limit_;

  struct Bucket {
    double tokens = 0;
    absl::Time last;
    bool refusing = false;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_ACCESS_CONTROL_H_
