#include "node/secure_masking.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/masked_aggregate.h"
#include "common/pki.h"
#include "common/status.h"

namespace spoor {

absl::StatusOr<std::unique_ptr<SecureMasking>> SecureMasking::Create(const std::string& key_path,
                                                                     const TlsMaterial& tls,
                                                                     const Clock& clock,
                                                                     RevocationList* revoked) {
  SPOOR_ASSIGN_OR_RETURN(secagg::AgreementKey key, secagg::AgreementKey::LoadOrCreate(key_path));
  v1::KeyAnnouncement announcement;
  announcement.set_node_id(tls.identity.name);
  announcement.set_public_key(key.public_key());
  SPOOR_ASSIGN_OR_RETURN(
      *announcement.mutable_signature(),
      secagg::SignKeyAnnouncement(tls.key_pem, tls.identity.name, key.public_key()));
  announcement.set_certificate_pem(tls.cert_pem);
  return std::unique_ptr<SecureMasking>(new SecureMasking(
      std::move(key), tls.identity.name, tls.ca_pem, std::move(announcement), clock, revoked));
}

absl::StatusOr<v1::MaskedAggregate> SecureMasking::Mask(const v1::Task& task,
                                                        const v1::Aggregate& aggregate) const {
  if (revoked_ != nullptr) {
    for (const v1::KeyAnnouncement& announced : task.secure().participants()) {
      absl::StatusOr<Identity> peer = IdentityFromCertificate(announced.certificate_pem());
      if (!peer.ok()) {
        return absl::PermissionDeniedError(
            absl::StrCat("secure aggregation: the certificate announced for ", announced.node_id(),
                         " does not parse"));
      }
      SPOOR_RETURN_IF_ERROR(revoked_->Check(*peer));
    }
  }
  const secagg::MaskScope scope{task.job_id(), task.round(), task.secure().attempt()};
  return secagg::MaskAggregate(aggregate, key_, node_id_, task.secure(), scope, ca_pem_,
                               clock_.Now());
}

}  // namespace spoor
