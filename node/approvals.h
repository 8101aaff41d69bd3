// The data steward's approval queue for container algorithms
// (node.toml [containers] require_local_approval = true).
//
// The first task for an algorithm image (by manifest digest) that the
// node's allow list does not name puts it in the queue as pending and is
// refused; the steward approves or rejects it with
//   spoor node approvals list|approve|reject --config node.toml
// which opens the same SQLite file (data_dir/approvals.db) while the node
// runs; the next task sees the decision. A decision is for one digest: a new
// version (a new image) waits again.
#ifndef SPOOR_NODE_APPROVALS_H_
#define SPOOR_NODE_APPROVALS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace spoor {

enum class ApprovalState { kPending, kApproved, kRejected };

const char* ApprovalStateName(ApprovalState state);  // pending, approved, rejected

struct Approval {
  std::string digest;     // manifest digest
  std::string reference;  // NAME@VERSION
  std::string signer;     // as the node verified it
  std::string description;
  std::string requested_by;  // the researcher of the first task
  ApprovalState state = ApprovalState::kPending;
  absl::Time requested_at;
  absl::Time decided_at;  // InfinitePast while pending
  std::string decided_by;
  std::string note;
};

// Thread-safe; several processes may share the file.
class ApprovalStore {
 public:
  // Opens (creating) `path`.
  static absl::StatusOr<std::unique_ptr<ApprovalStore>> Open(const std::string& path);
  virtual ~ApprovalStore() = default;

  // The entry for `digest`, inserting `pending` (as given) when there is
  // none yet.
  virtual absl::StatusOr<Approval> FindOrQueue(const Approval& pending) = 0;
  // NOT_FOUND when `digest` was never queued.
  virtual absl::StatusOr<Approval> Find(const std::string& digest) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<Approval>> List() = 0;
  // Decides the entry named by `key` (a digest, a unique digest prefix of at
  // least 12 characters after "sha256:", or NAME@VERSION): NOT_FOUND when
  // nothing matches, INVALID_ARGUMENT when several do.
  virtual absl::StatusOr<Approval> Decide(const std::string& key, bool approve,
                                          const std::string& by, const std::string& note,
                                          absl::Time now) = 0;
};

}  // namespace spoor

#endif  // SPOOR_NODE_APPROVALS_H_
