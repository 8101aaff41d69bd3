// The node's part in secure aggregation: its X25519 key (kept in
// data_dir/secure_aggregation.key, mode 0600), the announcement of that key
// signed with its certificate's key (sent in the hello), and the masking of
// a released aggregate's sums for a task under --secure
// (common/masked_aggregate.h). Thread-safe.
#ifndef SPOOR_NODE_SECURE_MASKING_H_
#define SPOOR_NODE_SECURE_MASKING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/secure_aggregation.h"
#include "common/tls.h"
#include "spoor/v1/job.pb.h"

namespace spoor {

class SecureMasking {
 public:
  // Loads (or creates) the key at `key_path` and signs its announcement
  // with `tls`'s key. Errors as secagg::AgreementKey::LoadOrCreate and
  // secagg::SignKeyAnnouncement. `clock` must outlive the object.
  // `revoked` (optional, must outlive the object): a participant whose
  // certificate the consortium revoked is refused.
  static absl::StatusOr<std::unique_ptr<SecureMasking>> Create(const std::string& key_path,
                                                               const TlsMaterial& tls,
                                                               const Clock& clock,
                                                               RevocationList* revoked = nullptr);

  // For the hello.
  const v1::KeyAnnouncement& announcement() const { return announcement_; }

  // `aggregate`'s sums masked for `task` (which must carry `secure`): every
  // participant's announcement checked against the consortium CA first.
  // PERMISSION_DENIED for a key that does not check (the coordinator cannot
  // substitute one) or a participant whose certificate was revoked;
  // OUT_OF_RANGE for a value too large for fixed point.
  absl::StatusOr<v1::MaskedAggregate> Mask(const v1::Task& task,
                                           const v1::Aggregate& aggregate) const;

 private:
  SecureMasking(secagg::AgreementKey key, std::string node_id, std::string ca_pem,
                v1::KeyAnnouncement announcement, const Clock& clock, RevocationList* revoked)
      : key_(std::move(key)),
        node_id_(std::move(node_id)),
        ca_pem_(std::move(ca_pem)),
        announcement_(std::move(announcement)),
        clock_(clock),
        revoked_(revoked) {}

  const secagg::AgreementKey key_;
  const std::string node_id_;
  const std::string ca_pem_;
  const v1::KeyAnnouncement announcement_;
  const Clock& clock_;
  RevocationList* const revoked_;
};

}  // namespace spoor

#endif  // SPOOR_NODE_SECURE_MASKING_H_
