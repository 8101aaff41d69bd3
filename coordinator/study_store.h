// Studies: named sets of organisations and researchers, kept by the
// coordinator in SQLite (data_dir/studies.db). A researcher may run jobs
// only on the nodes of a study they belong to, and see only those jobs and
// nodes; consortium admins create and change studies. The rules live here,
// with no gRPC: ResearchService asks, and audits the refusals.
#ifndef SPOOR_COORDINATOR_STUDY_STORE_H_
#define SPOOR_COORDINATOR_STUDY_STORE_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "spoor/v1/job.pb.h"
#include "spoor/v1/research.pb.h"

namespace spoor {

// Thread-safe.
class StudyStore {
 public:
  // Opens (creating) the database at `path`. FAILED_PRECONDITION naming the
  // file when it cannot be opened. `clock` must outlive the store.
  static absl::StatusOr<std::unique_ptr<StudyStore>> Open(const std::string& path,
                                                          const Clock& clock);
  virtual ~StudyStore() = default;

  // Admin only (PERMISSION_DENIED otherwise). INVALID_ARGUMENT for a name
  // that is not 1-64 letters, digits, '.', '-' or '_'; ALREADY_EXISTS.
  virtual absl::StatusOr<v1::Study> Create(const v1::Requester& by, const std::string& name) = 0;
  // Admin only. Adds (or removes) one organisation or researcher. NOT_FOUND
  // for an unknown study or, on removal, member; INVALID_ARGUMENT when the
  // request names no member.
  virtual absl::StatusOr<v1::Study> Change(const v1::Requester& by,
                                           const v1::ChangeStudyRequest& change) = 0;
  // Every study (admins), or the requester's own (everyone else); sorted.
  virtual absl::StatusOr<std::vector<v1::Study>> List(const v1::Requester& requester) const = 0;

  // The study a job of `requester` runs under: `name`, or when empty the
  // requester's only study. PERMISSION_DENIED when they are not a member
  // (admins too: administering studies is not taking part in them) or in
  // no study; INVALID_ARGUMENT when they are in several and named none;
  // NOT_FOUND for an unknown study.
  virtual absl::StatusOr<v1::Study> ForJob(const v1::Requester& requester,
                                           const std::string& name) const = 0;

  // May `requester` see `job`? Admins see every job; others the jobs of
  // their studies and their own.
  virtual absl::StatusOr<bool> MaySee(const v1::Requester& requester, const v1::Job& job) const = 0;

  // The organisations whose nodes `requester` may see (union over their
  // studies). `all` is set for admins, who see every node.
  struct Visible {
    bool all = false;
    std::set<std::string> organisations;
  };
  virtual absl::StatusOr<Visible> VisibleOrganisations(const v1::Requester& requester) const = 0;
};

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_STUDY_STORE_H_
