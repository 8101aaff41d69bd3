#include "coordinator/algorithm_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/file_util.h"
#include "common/pki.h"
#include "common/sqlite_statement.h"
#include "common/status.h"
#include "google/protobuf/util/time_util.h"

namespace spoor {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS algorithms (
  reference TEXT PRIMARY KEY,
  digest    TEXT NOT NULL,
  record    BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS algorithms_by_digest ON algorithms(digest);
)sql";

std::string Reference(const v1::AlgorithmRecord& record) {
  return AlgorithmReference(record.name(), record.version());
}

bool MayReview(const std::string& role) {
  return role == RoleName(Role::kReviewer) || role == RoleName(Role::kAdmin);
}

// Approved, rejected or still pending, from the reviews and the policy.
v1::AlgorithmState StateFromReviews(const v1::AlgorithmRecord& record) {
  int approvals = 0;
  std::set<std::string> organisations;
  for (const v1::Review& review : record.reviews()) {
    if (review.verdict() == v1::VERDICT_REJECT) return v1::ALGORITHM_STATE_REJECTED;
    if (review.verdict() == v1::VERDICT_APPROVE) {
      ++approvals;
      organisations.insert(review.organisation());
    }
  }
  if (approvals >= record.required_approvals() &&
      static_cast<int>(organisations.size()) >= record.required_organisations()) {
    return v1::ALGORITHM_STATE_APPROVED;
  }
  return v1::ALGORITHM_STATE_PENDING_REVIEW;
}

using Statement = SqliteStatement;

class SqliteAlgorithmStore final : public AlgorithmStore {
 public:
  SqliteAlgorithmStore(std::string dir, sqlite3* db, RegistryPolicy policy, const Clock& clock)
      : dir_(std::move(dir)), db_(db), policy_(std::move(policy)), clock_(clock) {}
  ~SqliteAlgorithmStore() override { sqlite3_close_v2(db_); }

  absl::Status Init() {
    absl::MutexLock lock(&mu_);
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
    SPOOR_RETURN_IF_ERROR(Exec("PRAGMA busy_timeout=5000"));
    return Exec(kSchema);
  }

  absl::Status PutBlob(const std::string& digest, std::string_view bytes) override {
    SPOOR_RETURN_IF_ERROR(CheckDigest(digest));
    if (Sha256Digest(bytes) != digest) {
      return absl::DataLossError(absl::StrCat(
          "blob ", digest, " does not match its digest; upload it again (it was altered)"));
    }
    std::string path = BlobPath(digest);
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return absl::OkStatus();
    return WriteFileAtomically(path, bytes, 0644);
  }

  absl::StatusOr<std::string> ReadBlob(const std::string& digest) const override {
    SPOOR_RETURN_IF_ERROR(CheckDigest(digest));
    absl::StatusOr<std::string> bytes = ReadFile(BlobPath(digest));
    if (absl::IsNotFound(bytes.status())) {
      return absl::NotFoundError(absl::StrCat("blob ", digest, " has not been uploaded"));
    }
    return bytes;
  }

  absl::StatusOr<v1::AlgorithmRecord> Register(const v1::Requester& by,
                                               const std::string& index_json) override {
    absl::StatusOr<OciImage> image =
        FetchImage(index_json, [this](const std::string& digest) { return ReadBlob(digest); });
    if (absl::IsNotFound(image.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat(image.status().message(), "; upload every blob before registering"));
    }
    if (!image.ok()) return image.status();
    SPOOR_ASSIGN_OR_RETURN(ResolvedImage resolved, ResolveImage(*image));
    SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> documents, ImageSignatures(*image));
    std::vector<AlgorithmSignature> signatures;
    for (const std::string& document : documents) {
      SPOOR_ASSIGN_OR_RETURN(AlgorithmSignature signature, SignatureFromJson(document));
      signatures.push_back(std::move(signature));
    }
    SPOOR_ASSIGN_OR_RETURN(
        TrustedSigner signer,
        VerifyAlgorithmSignatures(signatures, resolved.manifest_digest, policy_.trusted_signers));

    v1::AlgorithmRecord record;
    record.set_name(resolved.algorithm.name);
    record.set_version(resolved.algorithm.version);
    record.set_description(resolved.algorithm.description);
    record.set_manifest_digest(resolved.manifest_digest);
    for (const ParameterSpec& spec : resolved.algorithm.parameters) {
      v1::AlgorithmParameter* parameter = record.add_parameters();
      parameter->set_name(spec.name);
      parameter->set_type(spec.type);
      parameter->set_required(spec.required);
      parameter->set_description(spec.description);
    }
    for (const std::string& type : resolved.algorithm.aggregates) record.add_aggregates(type);
    record.set_signer(signer.name);
    record.set_key_id(signer.key_id);
    for (const std::string& document : documents) record.add_signatures(document);
    record.set_index_json(index_json);
    record.set_registered_by(by.name());
    record.set_registered_organisation(by.organisation());
    *record.mutable_registered_at() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_.Now()));
    record.set_required_approvals(policy_.required_approvals);
    record.set_required_organisations(policy_.required_organisations);
    record.set_state(StateFromReviews(record));

    absl::MutexLock lock(&mu_);
    absl::StatusOr<v1::AlgorithmRecord> existing = Load(Reference(record));
    if (existing.ok()) {
      if (existing->manifest_digest() == record.manifest_digest()) return *existing;
      return absl::AlreadyExistsError(
          absl::StrCat(Reference(record),
                       " is registered with another image; versions are "
                       "immutable: register the change as a new version"));
    }
    if (!absl::IsNotFound(existing.status())) return existing.status();
    SPOOR_RETURN_IF_ERROR(Save(record));
    return record;
  }

  absl::StatusOr<v1::AlgorithmRecord> Get(const std::string& reference) const override {
    absl::MutexLock lock(&mu_);
    if (reference.rfind("sha256:", 0) == 0) return LoadByDigest(reference);
    SPOOR_RETURN_IF_ERROR(ParseAlgorithmReference(reference).status());
    return Load(reference);
  }

  absl::StatusOr<std::vector<v1::AlgorithmRecord>> List() const override {
    absl::MutexLock lock(&mu_);
    Statement st;
    SPOOR_RETURN_IF_ERROR(Prepare("SELECT record FROM algorithms", st));
    std::vector<v1::AlgorithmRecord> records;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      SPOOR_ASSIGN_OR_RETURN(v1::AlgorithmRecord record, Decode(st.get()));
      records.push_back(std::move(record));
    }
    if (rc != SQLITE_DONE) return Error("list algorithms");
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
      return std::tie(a.name(), a.version()) < std::tie(b.name(), b.version());
    });
    return records;
  }

  absl::StatusOr<v1::AlgorithmRecord> Review(const v1::Requester& by, const std::string& reference,
                                             v1::Verdict verdict,
                                             const std::string& comment) override {
    if (!MayReview(by.role())) {
      return absl::PermissionDeniedError(
          "only a reviewer or admin certificate may review algorithms; ask the consortium "
          "admin for one (spoor pki issue --role reviewer)");
    }
    if (verdict != v1::VERDICT_APPROVE && verdict != v1::VERDICT_REJECT) {
      return absl::InvalidArgumentError("a review approves or rejects: --approve or --reject");
    }
    absl::MutexLock lock(&mu_);
    SPOOR_ASSIGN_OR_RETURN(v1::AlgorithmRecord record, Load(reference));
    if (record.state() == v1::ALGORITHM_STATE_REVOKED) {
      return absl::FailedPreconditionError(
          absl::StrCat(reference, " is revoked; it cannot be reviewed"));
    }
    if (by.name() == record.registered_by() &&
        by.organisation() == record.registered_organisation()) {
      return absl::PermissionDeniedError(
          absl::StrCat("you registered ", reference, "; it needs reviews from others (four eyes)"));
    }
    auto* reviews = record.mutable_reviews();
    auto mine = std::find_if(reviews->begin(), reviews->end(), [&](const v1::Review& review) {
      return review.reviewer() == by.name() && review.organisation() == by.organisation();
    });
    v1::Review* review = mine != reviews->end() ? &*mine : record.add_reviews();
    review->set_reviewer(by.name());
    review->set_organisation(by.organisation());
    review->set_verdict(verdict);
    review->set_comment(comment);
    *review->mutable_at() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(clock_.Now()));
    record.set_state(StateFromReviews(record));
    SPOOR_RETURN_IF_ERROR(Save(record));
    return record;
  }

  absl::StatusOr<v1::AlgorithmRecord> Revoke(const v1::Requester& by, const std::string& reference,
                                             const std::string& reason) override {
    if (by.role() != RoleName(Role::kAdmin)) {
      return absl::PermissionDeniedError(
          "only a consortium admin may revoke an algorithm; ask one to run spoor algorithm revoke");
    }
    if (reason.empty()) {
      return absl::InvalidArgumentError("say why the algorithm is revoked: --reason TEXT");
    }
    absl::MutexLock lock(&mu_);
    SPOOR_ASSIGN_OR_RETURN(v1::AlgorithmRecord record, Load(reference));
    record.set_state(v1::ALGORITHM_STATE_REVOKED);
    record.set_revocation_reason(reason);
    SPOOR_RETURN_IF_ERROR(Save(record));
    return record;
  }

  absl::StatusOr<OciImage> LoadImage(const v1::AlgorithmRecord& record) const override {
    return FetchImage(record.index_json(),
                      [this](const std::string& digest) { return ReadBlob(digest); });
  }

 private:
  std::string BlobPath(const std::string& digest) const {
    return absl::StrCat(dir_, "/blobs/sha256/", digest.substr(7));
  }

  absl::Status Error(const std::string& what) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::InternalError(
        absl::StrCat("algorithm registry: ", what, ": ", sqlite3_errmsg(db_)));
  }

  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return SqliteExec(db_, sql, "algorithm registry");
  }

  absl::Status Prepare(const char* sql, Statement& st) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (sqlite3_prepare_v2(db_, sql, -1, st.out(), nullptr) != SQLITE_OK) return Error(sql);
    return absl::OkStatus();
  }

  static absl::StatusOr<v1::AlgorithmRecord> Decode(sqlite3_stmt* st) {
    v1::AlgorithmRecord record;
    const void* bytes = sqlite3_column_blob(st, 0);
    int size = sqlite3_column_bytes(st, 0);
    if (!record.ParseFromArray(bytes, size)) {
      return absl::DataLossError("algorithm registry: a record does not parse");
    }
    return record;
  }

  absl::StatusOr<v1::AlgorithmRecord> LoadWhere(const char* sql, const std::string& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Statement st;
    SPOOR_RETURN_IF_ERROR(Prepare(sql, st));
    sqlite3_bind_text(st.get(), 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_ROW) return Decode(st.get());
    if (rc != SQLITE_DONE) return Error("read algorithm");
    return absl::NotFoundError(
        absl::StrCat("no algorithm ", key, " is registered; see spoor algorithm list"));
  }

  absl::StatusOr<v1::AlgorithmRecord> Load(const std::string& reference) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return LoadWhere("SELECT record FROM algorithms WHERE reference = ?1", reference);
  }

  absl::StatusOr<v1::AlgorithmRecord> LoadByDigest(const std::string& digest) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return LoadWhere("SELECT record FROM algorithms WHERE digest = ?1", digest);
  }

  absl::Status Save(const v1::AlgorithmRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Statement st;
    SPOOR_RETURN_IF_ERROR(Prepare(
        "INSERT OR REPLACE INTO algorithms(reference, digest, record) VALUES (?1, ?2, ?3)", st));
    std::string reference = Reference(record);
    std::string bytes = record.SerializeAsString();
    sqlite3_bind_text(st.get(), 1, reference.data(), static_cast<int>(reference.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st.get(), 2, record.manifest_digest().data(),
                      static_cast<int>(record.manifest_digest().size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(st.get(), 3, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(st.get()) != SQLITE_DONE) return Error("save algorithm");
    return absl::OkStatus();
  }

  const std::string dir_;
  mutable absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  const RegistryPolicy policy_;
  const Clock& clock_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AlgorithmStore>> OpenAlgorithmStore(const std::string& dir,
                                                                   RegistryPolicy policy,
                                                                   const Clock& clock) {
  std::error_code error;
  std::filesystem::create_directories(absl::StrCat(dir, "/blobs/sha256"), error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create the algorithm registry in ", dir, ": ", error.message()));
  }
  std::string path = absl::StrCat(dir, "/registry.db");
  SPOOR_ASSIGN_OR_RETURN(sqlite3 * db, SqliteOpen(path, "the algorithm registry"));
  auto store = std::make_unique<SqliteAlgorithmStore>(dir, db, std::move(policy), clock);
  SPOOR_RETURN_IF_ERROR(store->Init());
  return store;
}

}  // namespace spoor
