#include "coordinator/access_control.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"

namespace spoor {

absl::StatusOr<v1::Requester> AccessControl::Authorize(std::string_view certificate_pem,
                                                       std::initializer_list<Role> roles,
                                                       std::string_view action) {
  SPOOR_ASSIGN_OR_RETURN(Identity identity, Authenticate(certificate_pem, roles, action));
  v1::Requester requester;
  requester.set_name(identity.name);
  requester.set_organisation(identity.organisation);
  requester.set_role(std::string(RoleName(identity.role)));
  return requester;
}

absl::Status AccessControl::Recheck(const Identity& identity, std::string_view action) {
  absl::Status revoked = revoked_.Check(identity);
  if (revoked.ok()) return revoked;
  return RefuseIdentity(identity.name, std::string(RoleName(identity.role)), action,
                        std::move(revoked));
}

absl::StatusOr<Identity> AccessControl::Authenticate(std::string_view certificate_pem,
                                                     std::initializer_list<Role> roles,
                                                     std::string_view action) {
  if (certificate_pem.empty()) {
    return RefuseIdentity("", "", action,
                          absl::UnauthenticatedError("the connection presented no certificate"));
  }
  absl::StatusOr<Identity> identity = IdentityFromCertificate(certificate_pem);
  if (!identity.ok()) {
    return RefuseIdentity("", "", action,
                          absl::UnauthenticatedError(
                              absl::StrCat("client certificate: ", identity.status().message())));
  }
  const std::string role(RoleName(identity->role));
  if (std::find(roles.begin(), roles.end(), identity->role) == roles.end()) {
    return RefuseIdentity(
        identity->name, role, action,
        absl::PermissionDeniedError(absl::StrCat("certificate of ", identity->name, " has role ",
                                                 role, "; it may not ", std::string(action))));
  }
  if (absl::Status revoked = revoked_.Check(*identity); !revoked.ok()) {
    return RefuseIdentity(identity->name, role, action, std::move(revoked));
  }
  if (Rate rate = TakeToken(absl::StrCat(role, "/", identity->name)); rate != Rate::kWithin) {
    absl::Status refusal = absl::ResourceExhaustedError(
        absl::StrCat("too many calls from ", identity->name, ": the coordinator allows ",
                     limit_.calls_per_second, " per second (bursts of ", limit_.burst,
                     "); wait a moment and retry"));
    // A flooding caller would flood the audit log too: audit the first
    // refusal of a run of them.
    if (rate == Rate::kFirstRefusal) return RefuseIdentity(identity->name, role, action, refusal);
    return refusal;
  }
  return identity;
}

absl::Status AccessControl::Audit(const std::string& event, const nlohmann::json& fields) {
  absl::Status written = audit_.Append(event, fields);
  if (!written.ok()) LogError("coordinator audit log: ", written.message());
  return written;
}

absl::Status AccessControl::Refuse(const v1::Requester& requester, std::string_view action,
                                   absl::Status refusal) {
  return RefuseIdentity(requester.name(), requester.role(), action, std::move(refusal));
}

absl::Status AccessControl::RefuseIdentity(const std::string& name, const std::string& role,
                                           std::string_view action, absl::Status refusal) {
  Audit("call_refused", {{"who", name},
                         {"role", role},
                         {"action", std::string(action)},
                         {"code", absl::StatusCodeToString(refusal.code())},
                         {"reason", std::string(refusal.message())}})
      .IgnoreError();
  LogWarning("refused ", name.empty() ? std::string("an unidentified caller") : name, ": ",
             refusal.message());
  return refusal;
}

AccessControl::Rate AccessControl::TakeToken(const std::string& key) {
  if (limit_.calls_per_second <= 0) return Rate::kWithin;
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{limit_.burst, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    bucket.tokens =
        std::min(limit_.burst, bucket.tokens + absl::ToDoubleSeconds(now - bucket.last) *
                                                   limit_.calls_per_second);
    bucket.last = now;
  }
  if (bucket.tokens < 1) {
    if (bucket.refusing) return Rate::kRefused;
    bucket.refusing = true;
    return Rate::kFirstRefusal;
  }
  bucket.refusing = false;
  bucket.tokens -= 1;
  return Rate::kWithin;
}

}  // namespace spoor
