// The coordinator's algorithm registry: signed container images, their
// reviews and their state. Domain logic and storage, no gRPC
// (registry_service.h is the RPC adapter).
//
// On disk, in the registry directory (data_dir/registry):
//   blobs/sha256/<hex>   content-addressed image blobs, verified on upload
//   registry.db          SQLite: one row per NAME@VERSION holding its
//                        AlgorithmRecord (reviews included)
//
// Rules:
//   - Register: every blob the image reaches is uploaded and verified, the
//     image resolves (common/oci_image.h), and some signature verifies
//     against the consortium's trusted signers. NAME@VERSION is immutable:
//     registering it again with another image is ALREADY_EXISTS, with the
//     same image returns the record as it is.
//   - Review: by a reviewer or admin certificate; not by whoever registered
//     the algorithm; one verdict per reviewer (a new one replaces theirs).
//     Approved once `required_approvals` approvals from at least
//     `required_organisations` distinct organisations are in and nobody
//     rejected; any rejection rejects this version.
//   - Revoke: by an admin, with a reason; final.
// Thread-safe.
#ifndef SPOOR_COORDINATOR_ALGORITHM_STORE_H_
#define SPOOR_COORDINATOR_ALGORITHM_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/algorithm_reference.h"
#include "common/algorithm_signature.h"
#include "common/clock.h"
#include "common/oci_image.h"
#include "spoor/v1/job.pb.h"
#include "spoor/v1/registry.pb.h"

namespace spoor {

struct RegistryPolicy {
  int required_approvals = 2;
  int required_organisations = 2;
  std::vector<TrustedSigner> trusted_signers;
};

class AlgorithmStore {
 public:
  virtual ~AlgorithmStore() = default;

  // Stores `bytes` as blob `digest` after checking that they hash to it
  // (DATA_LOSS otherwise; INVALID_ARGUMENT for a malformed digest).
  // Idempotent.
  virtual absl::Status PutBlob(const std::string& digest, std::string_view bytes) = 0;
  // NOT_FOUND for a blob not uploaded.
  virtual absl::StatusOr<std::string> ReadBlob(const std::string& digest) const = 0;

  virtual absl::StatusOr<v1::AlgorithmRecord> Register(const v1::Requester& by,
                                                       const std::string& index_json) = 0;
  // `reference` is NAME@VERSION or a manifest digest. NOT_FOUND naming it.
  virtual absl::StatusOr<v1::AlgorithmRecord> Get(const std::string& reference) const = 0;
  // Sorted by name, then version.
  virtual absl::StatusOr<std::vector<v1::AlgorithmRecord>> List() const = 0;
  // PERMISSION_DENIED for a caller who may not review it; FAILED_PRECONDITION
  // for a revoked algorithm.
  virtual absl::StatusOr<v1::AlgorithmRecord> Review(const v1::Requester& by,
                                                     const std::string& reference,
                                                     v1::Verdict verdict,
                                                     const std::string& comment) = 0;
  // PERMISSION_DENIED unless `by` is an admin; INVALID_ARGUMENT without a
  // reason.
  virtual absl::StatusOr<v1::AlgorithmRecord> Revoke(const v1::Requester& by,
                                                     const std::string& reference,
                                                     const std::string& reason) = 0;

  // The image of a registered algorithm with every blob loaded and verified.
  virtual absl::StatusOr<OciImage> LoadImage(const v1::AlgorithmRecord& record) const = 0;
};

// Opens (creating) the registry in `dir`. `clock` must outlive the store.
absl::StatusOr<std::unique_ptr<AlgorithmStore>> OpenAlgorithmStore(const std::string& dir,
                                                                   RegistryPolicy policy,
                                                                   const Clock& clock);

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_ALGORITHM_STORE_H_
