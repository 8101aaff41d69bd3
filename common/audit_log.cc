#include "common/audit_log.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/internal/openssl_util.h"
#include "common/log.h"
#include "common/pki.h"
#include "common/status.h"

namespace spoor {
namespace {

// Debian's Abseil is built with its own absl::string_view, which does not
// convert from std::string_view; hence the std::string(...) around views
// passed to absl::StrCat and absl::FormatTime.

using internal::ErrorQueueScope;
using internal::NoPassphrase;
using internal::OsslPtr;
using internal::ReadOnlyBio;
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kTimeFormat = "%Y-%m-%dT%H:%M:%E3SZ";
constexpr std::string_view kTimeParseFormat = "%Y-%m-%dT%H:%M:%E*SZ";
constexpr std::string_view kCheckpointMessagePrefix = "spoor audit checkpoint v1\n";
const std::string kZeroHash(64, '0');
constexpr const char* kReservedKeys[] = {"seq", "time", "event", "prev", "hash"};

bool IsHexDigest(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// What a checkpoint's signature covers.
std::string CheckpointMessage(const std::string& covers, uint64_t records) {
  return absl::StrCat(std::string(kCheckpointMessagePrefix), covers, "\n", records);
}

// --- OpenSSL: parsing the signer's PEM files, signing, verifying. ---

OsslPtr<X509> ParseCertificatePem(std::string_view pem) {
  absl::StatusOr<OsslPtr<BIO>> bio = ReadOnlyBio(pem, "certificate");
  if (!bio.ok()) return nullptr;
  return OsslPtr<X509>(PEM_read_bio_X509(bio->get(), nullptr, NoPassphrase, nullptr));
}

// The public key of a PEM certificate, or null if it does not parse.
OsslPtr<EVP_PKEY> CertificateKey(std::string_view pem) {
  OsslPtr<X509> cert = ParseCertificatePem(pem);
  if (!cert) return nullptr;
  return OsslPtr<EVP_PKEY>(X509_get_pubkey(cert.get()));
}

// Base64 of the DER ECDSA-SHA256 signature of `message` by `key`.
absl::StatusOr<std::string> SignMessage(EVP_PKEY* key, const std::string& message) {
  SPOOR_ASSIGN_OR_RETURN(std::string signature, internal::SignSha256(key, message));
  return absl::Base64Escape(signature);
}

bool SignatureVerifies(EVP_PKEY* key, const std::string& message, const std::string& der) {
  absl::StatusOr<bool> verified = internal::VerifySha256(key, message, der);
  return verified.ok() && *verified;
}

// --- Checking a log, record by record. ---

// The line number and reason of the first broken record; messages never
// quote record content, which is what the log protects.
struct Break {
  uint64_t line = 0;
  std::string why;
};

// Checks one complete line (without its newline) as record number `line`
// following a record whose hash is `prev`. On success fills `record` and
// `hash` and returns true; otherwise sets `why`.
bool CheckRecord(std::string_view text, uint64_t line, const std::string& prev, OrderedJson* record,
                 std::string* hash, std::string* why) {
  if (text.empty()) {
    *why = "empty line";
    return false;
  }
  *record = OrderedJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (record->is_discarded()) {
    *why = "not valid JSON";
    return false;
  }
  if (!record->is_object()) {
    *why = "not a JSON object";
    return false;
  }
  auto hash_it = record->find("hash");
  if (hash_it == record->end() || !hash_it->is_string() ||
      !IsHexDigest(hash_it->get<std::string>())) {
    *why = "missing or malformed \"hash\"";
    return false;
  }
  *hash = hash_it->get<std::string>();
  record->erase(hash_it);
  // Parsing and re-dumping a line this class wrote reproduces its bytes, so
  // the digest covers exactly what was hashed at append time.
  std::string body;
  try {
    body = record->dump();
  } catch (const OrderedJson::exception&) {
    *why = "not valid UTF-8";
    return false;
  }
  if (Sha256Hex(body) != *hash) {
    *why = "hash does not match the record's content (the record was altered)";
    return false;
  }
  auto seq_it = record->find("seq");
  if (seq_it == record->end() || !seq_it->is_number_unsigned()) {
    *why = "missing or malformed \"seq\"";
    return false;
  }
  if (uint64_t seq = seq_it->get<uint64_t>(); seq != line) {
    *why = absl::StrCat("seq is ", seq, ", expected ", line,
                        " (a record was removed, inserted or reordered)");
    return false;
  }
  auto prev_it = record->find("prev");
  if (prev_it == record->end() || !prev_it->is_string() || prev_it->get<std::string>() != prev) {
    *why =
        "\"prev\" does not match the hash of the previous record "
        "(a record was removed, inserted or reordered)";
    return false;
  }
  return true;
}

// The string member `key` of `record`, or nullptr if absent or not a string.
const std::string* StringMember(const OrderedJson& record, const char* key) {
  auto it = record.find(key);
  if (it == record.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

// Checks a log's records in order: the chain, and every checkpoint.
class ChainChecker {
 public:
  explicit ChainChecker(const AuditVerifyOptions& options) : options_(options) {
    result_.signatures_checked = !options_.ca_pem.empty();
  }

  // Checks the next complete line. False, with `why`, if it breaks the log.
  bool Next(std::string_view text, std::string* why) {
    const uint64_t line = result_.records + 1;
    OrderedJson record;
    std::string hash;
    if (!CheckRecord(text, line, prev_, &record, &hash, why)) return false;
    const std::string* event = StringMember(record, "event");
    if (event != nullptr && *event == kAuditCheckpointEvent &&
        !CheckCheckpoint(record, line, why)) {
      return false;
    }
    prev_ = hash;
    result_.records = line;
    result_.last_hash = std::move(hash);
    return true;
  }

  const AuditVerification& result() const { return result_; }

 private:
  // `record` (number `line`) passed CheckRecord and is a checkpoint; prev_
  // is still the hash of the record before it.
  bool CheckCheckpoint(const OrderedJson& record, uint64_t line, std::string* why) {
    if (line == 1) {
      *why = "a checkpoint cannot be the first record (it has nothing to cover)";
      return false;
    }
    auto records_it = record.find("records");
    if (records_it == record.end() || !records_it->is_number_unsigned() ||
        records_it->get<uint64_t>() != line - 1) {
      *why = "checkpoint's \"records\" is not the number of the record before it";
      return false;
    }
    const std::string* covers = StringMember(record, "covers");
    if (covers == nullptr || *covers != prev_) {
      *why = "checkpoint's \"covers\" is not the hash of the record before it";
      return false;
    }
    const std::string* signer = StringMember(record, "signer");
    const std::string* certificate = StringMember(record, "certificate");
    const std::string* signature = StringMember(record, "signature");
    if (signer == nullptr || signer->empty() || certificate == nullptr || signature == nullptr) {
      *why = "checkpoint lacks \"signer\", \"certificate\" or \"signature\"";
      return false;
    }
    if (options_.ca_pem.empty()) {
      // Nothing to check the certificate against: only who it claims.
    } else if (!CheckSignature(record, line, *signer, *certificate, *signature, why)) {
      return false;
    }
    if (!result_.signer.empty() && *signer != result_.signer) {
      *why = absl::StrCat("checkpoint is signed by '", *signer, "' but the log's earlier ",
                          "checkpoints by '", result_.signer, "' (a checkpoint by another writer)");
      return false;
    }
    result_.signer = *signer;
    ++result_.checkpoints;
    result_.signed_records = line;
    return true;
  }

  bool CheckSignature(const OrderedJson& record, uint64_t line, const std::string& signer,
                      const std::string& certificate, const std::string& signature,
                      std::string* why) {
    const std::string* time_text = StringMember(record, "time");
    absl::Time time;
    std::string parse_error;
    if (time_text == nullptr ||
        !absl::ParseTime(std::string(kTimeParseFormat), *time_text, &time, &parse_error)) {
      *why = "checkpoint has no readable \"time\"";
      return false;
    }
    // At the checkpoint's time: a certificate that expired since does not
    // undo the checkpoints it signed while it was valid.
    if (absl::Status valid = VerifyCertificate(options_.ca_pem, certificate, time); !valid.ok()) {
      *why = absl::StrCat("checkpoint's certificate is not valid for the given CA at the ",
                          "checkpoint's time: ", std::string(valid.message()));
      return false;
    }
    absl::StatusOr<Identity> identity = IdentityFromCertificate(certificate);
    if (!identity.ok() || identity->name != signer) {
      *why = "checkpoint's \"signer\" is not the CN of its certificate";
      return false;
    }
    ErrorQueueScope errors;
    if (certificate != key_certificate_) {
      key_ = CertificateKey(certificate);
      key_certificate_ = key_ ? certificate : std::string();
    }
    std::string der;
    if (!key_ || !absl::Base64Unescape(signature, &der) ||
        !SignatureVerifies(key_.get(), CheckpointMessage(prev_, line - 1), der)) {
      *why = "checkpoint's signature does not verify (forged, or made with another key)";
      return false;
    }
    return true;
  }

  const AuditVerifyOptions& options_;
  AuditVerification result_;
  std::string prev_ = kZeroHash;
  // The public key of the last checkpoint's certificate, parsed once.
  std::string key_certificate_;
  OsslPtr<EVP_PKEY> key_;
};

// Reads `fd` from its current offset to the end, feeding every line to
// `checker`. IO errors come back as a status; a broken log as `broken`.
absl::Status ScanFd(int fd, const std::string& path, ChainChecker& checker, Break* broken) {
  std::string pending;  // bytes of the current, not yet terminated line
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          absl::StrCat("cannot read audit log ", path, ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    for (;;) {
      size_t newline = chunk.find('\n');
      if (newline == std::string_view::npos) {
        pending.append(chunk);
        break;
      }
      pending.append(chunk.substr(0, newline));
      chunk.remove_prefix(newline + 1);
      std::string why;
      if (!checker.Next(pending, &why)) {
        *broken = Break{checker.result().records + 1, std::move(why)};
        return absl::OkStatus();
      }
      pending.clear();
    }
  }
  if (!pending.empty()) {
    *broken = Break{checker.result().records + 1,
                    "incomplete last line (no final newline; a writer may have crashed)"};
  }
  return absl::OkStatus();
}

std::string BrokenMessage(const std::string& path, const Break& broken) {
  return absl::StrCat("audit log ", path, " is broken at record ", broken.line, ": ", broken.why);
}

absl::Status OpenError(int err, const std::string& path) {
  std::string message = absl::StrCat("cannot open audit log ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

}  // namespace

struct AuditLog::SignerState {
  OsslPtr<EVP_PKEY> key;
  std::string certificate_pem;
  std::string name;  // the certificate's CN
  uint64_t every_records = 0;
};

namespace {

// The error never quotes the PEM: the key is secret.
absl::StatusOr<OsslPtr<EVP_PKEY>> ParseSignerKey(std::string_view pem) {
  SPOOR_ASSIGN_OR_RETURN(OsslPtr<BIO> bio, ReadOnlyBio(pem, "the audit signer's key"));
  OsslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(
        "the audit signer's key is not an unencrypted PEM private key");
  }
  if (EVP_PKEY_is_a(key.get(), "EC") != 1) {
    return absl::InvalidArgumentError(
        "the audit signer's key is not an ECDSA key (use the party's TLS key from `spoor pki "
        "issue`)");
  }
  return key;
}

}  // namespace

absl::StatusOr<AuditVerification> VerifyAuditLog(const std::string& path,
                                                 const AuditVerifyOptions& options) {
  if (!options.ca_pem.empty()) {
    ErrorQueueScope errors;
    if (!ParseCertificatePem(options.ca_pem)) {
      return absl::InvalidArgumentError("the CA certificate is not a PEM certificate");
    }
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OpenError(errno, path);
  ChainChecker checker(options);
  Break broken;
  absl::Status scanned = ScanFd(fd, path, checker, &broken);
  ::close(fd);
  SPOOR_RETURN_IF_ERROR(scanned);
  if (broken.line != 0) return absl::DataLossError(BrokenMessage(path, broken));
  const AuditVerification& result = checker.result();
  if (options.require_checkpoint && result.signed_records < result.records) {
    return absl::DataLossError(absl::StrCat("audit log ", path, ": the last ",
                                            result.records - result.signed_records,
                                            " records are not covered by a signed checkpoint"));
  }
  return result;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    // Only fails on allocation failure or a broken OpenSSL install; an empty
    // digest never matches, so callers fail closed.
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * length, '\0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path,
                                                         const Clock& clock,
                                                         std::optional<AuditSigner> signer) {
  std::unique_ptr<SignerState> state;
  if (signer.has_value()) {
    if (signer->every_records < 1) {
      return absl::InvalidArgumentError("the audit signer's every_records must be at least 1");
    }
    ErrorQueueScope errors;
    state = std::make_unique<SignerState>();
    absl::StatusOr<OsslPtr<EVP_PKEY>> key = ParseSignerKey(signer->private_key_pem);
    // Our copy of the secret is not needed again, whatever the outcome.
    OPENSSL_cleanse(signer->private_key_pem.data(), signer->private_key_pem.size());
    SPOOR_RETURN_IF_ERROR(key.status());
    state->key = *std::move(key);
    OsslPtr<X509> cert = ParseCertificatePem(signer->certificate_pem);
    if (!cert) {
      return absl::InvalidArgumentError("the audit signer's certificate is not a PEM certificate");
    }
    if (X509_check_private_key(cert.get(), state->key.get()) != 1) {
      return absl::InvalidArgumentError(
          "the audit signer's key does not belong to its certificate");
    }
    absl::StatusOr<Identity> identity = IdentityFromCertificate(signer->certificate_pem);
    if (!identity.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("the audit signer's certificate: ",
                                                     std::string(identity.status().message())));
    }
    state->name = identity->name;
    state->certificate_pem = std::move(signer->certificate_pem);
    state->every_records = static_cast<uint64_t>(signer->every_records);
  }

  // Read and append through the same descriptor, so the file verified is the
  // file appended to. O_APPEND makes every write land at the end whatever
  // the read offset.
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    // Not NOT_FOUND for a missing directory: the writer's state is wrong.
    if (err == EACCES || err == EPERM) return OpenError(err, path);
    return absl::InternalError(
        absl::StrCat("cannot open audit log ", path, ": ", std::strerror(err)));
  }
  // Two writers would each continue the chain from their own last record
  // and fork it; refuse the second one instead.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "audit log ", path, " is already open for writing by another process or instance"));
    }
    return absl::InternalError(
        absl::StrCat("cannot lock audit log ", path, ": ", std::strerror(err)));
  }
  // The chain and the checkpoints' places in it; signatures need the CA,
  // which `spoor audit verify` is given.
  AuditVerifyOptions no_ca;
  ChainChecker checker(no_ca);
  Break broken;
  absl::Status scanned = ScanFd(fd, path, checker, &broken);
  if (!scanned.ok() || broken.line != 0) {
    ::close(fd);
    SPOOR_RETURN_IF_ERROR(scanned);
    return absl::DataLossError(absl::StrCat(BrokenMessage(path, broken),
                                            "; keep it for investigation and start a new log"));
  }
  const AuditVerification& verified = checker.result();
  if (state && !verified.signer.empty() && verified.signer != state->name) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "audit log ", path, " is sealed by '", verified.signer, "' but this writer is '",
        state->name, "'; keep it and start a new log for the new writer"));
  }
  std::string last_hash = verified.records == 0 ? kZeroHash : verified.last_hash;
  std::unique_ptr<AuditLog> log(
      new AuditLog(fd, path, clock, verified.records, std::move(last_hash),
                   verified.records - verified.signed_records, std::move(state)));
  if (log->signer_) {
    // Seal what the previous run wrote after its last checkpoint.
    absl::MutexLock lock(&log->mu_);
    SPOOR_RETURN_IF_ERROR(log->CheckpointLocked());
  }
  return log;
}

AuditLog::AuditLog(int fd, std::string path, const Clock& clock, uint64_t seq,
                   std::string last_hash, uint64_t unsealed, std::unique_ptr<SignerState> signer)
    : path_(std::move(path)),
      clock_(clock),
      signer_(std::move(signer)),
      fd_(fd),
      seq_(seq),
      last_hash_(std::move(last_hash)),
      unsealed_(unsealed) {}

AuditLog::~AuditLog() {
  absl::MutexLock lock(&mu_);
  if (signer_ && fd_ >= 0 && unsealed_ > 0) CheckpointLocked().IgnoreError();
  if (fd_ >= 0) ::close(fd_);
}

uint64_t AuditLog::size() const {
  absl::MutexLock lock(&mu_);
  return seq_;
}

absl::Status AuditLog::Append(const std::string& event, const nlohmann::json& fields) {
  if (event.empty()) return absl::InvalidArgumentError("audit event name must not be empty");
  if (event == kAuditCheckpointEvent) {
    return absl::InvalidArgumentError(
        "audit event name 'checkpoint' is reserved for the log's signed checkpoints");
  }
  if (!fields.is_object()) {
    return absl::InvalidArgumentError("audit record fields must be a JSON object");
  }
  for (const char* reserved : kReservedKeys) {
    if (fields.contains(reserved)) {
      return absl::InvalidArgumentError(
          absl::StrCat("audit record field '", reserved, "' is reserved"));
    }
  }
  OrderedJson ordered = OrderedJson::object();
  for (const auto& [key, value] : fields.items()) ordered[key] = OrderedJson(value);

  absl::MutexLock lock(&mu_);
  SPOOR_RETURN_IF_ERROR(AppendLocked(event, ordered));
  ++unsealed_;
  if (signer_ && unsealed_ >= signer_->every_records) {
    // The record is on disk; a checkpoint that fails now is retried at the
    // next Append, and the log stays verifiable meanwhile.
    if (absl::Status sealed = CheckpointLocked(); !sealed.ok()) {
      LogError("audit log ", path_, ": cannot write a checkpoint: ", sealed.message());
    }
  }
  return absl::OkStatus();
}

absl::Status AuditLog::Checkpoint() {
  absl::MutexLock lock(&mu_);
  return CheckpointLocked();
}

absl::Status AuditLog::CheckpointLocked() {
  if (!signer_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "audit log ", path_, " has no signer; open it with the writer's key to write checkpoints"));
  }
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        "audit log is unusable after an earlier write failure; verify it and restart");
  }
  if (unsealed_ == 0) return absl::OkStatus();
  absl::StatusOr<std::string> signature;
  {
    ErrorQueueScope errors;
    signature = SignMessage(signer_->key.get(), CheckpointMessage(last_hash_, seq_));
  }
  SPOOR_RETURN_IF_ERROR(signature.status());
  OrderedJson fields = OrderedJson::object();
  fields["records"] = seq_;
  fields["covers"] = last_hash_;
  fields["signer"] = signer_->name;
  fields["certificate"] = signer_->certificate_pem;
  fields["signature"] = *std::move(signature);
  SPOOR_RETURN_IF_ERROR(AppendLocked(std::string(kAuditCheckpointEvent), fields));
  unsealed_ = 0;
  return absl::OkStatus();
}

absl::Status AuditLog::AppendLocked(const std::string& event, const OrderedJson& fields) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        "audit log is unusable after an earlier write failure; verify it and restart");
  }
  OrderedJson record;
  record["seq"] = seq_ + 1;
  record["time"] = absl::FormatTime(std::string(kTimeFormat), clock_.Now(), absl::UTCTimeZone());
  record["event"] = event;
  for (const auto& [key, value] : fields.items()) record[key] = value;
  record["prev"] = last_hash_;

  std::string line;
  std::string hash;
  try {
    hash = Sha256Hex(record.dump());
    record["hash"] = hash;
    line = record.dump();
  } catch (const OrderedJson::exception&) {
    // dump() throws on strings that are not UTF-8.
    return absl::InvalidArgumentError("audit record has a string that is not valid UTF-8");
  }
  if (hash.empty()) return absl::InternalError("SHA-256 failed");
  line.push_back('\n');

  // One write(2) on an O_APPEND descriptor: the record lands whole at the
  // end or, if the process dies mid-way, as a partial last line that Open()
  // and VerifyAuditLog() report.
  ssize_t n;
  do {
    n = ::write(fd_, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  int write_errno = errno;
  bool written = n == static_cast<ssize_t>(line.size());
  if (!written || ::fdatasync(fd_) != 0) {
    int err = written ? errno : write_errno;
    // The file may now end in a partial record or hold an unsynced one; any
    // further record would chain onto an unknown state.
    ::close(fd_);
    fd_ = -1;
    if (n >= 0 && !written) {
      return absl::DataLossError("short write to the audit log; verify it and start a new log");
    }
    return absl::InternalError(absl::StrCat("cannot write the audit log: ", std::strerror(err)));
  }
  ++seq_;
  last_hash_ = std::move(hash);
  return absl::OkStatus();
}

}  // namespace spoor
