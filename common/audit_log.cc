#include "common/audit_log.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace spoor {
namespace {

// Debian's Abseil is built with its own absl::string_view, which does not
// convert from std::string_view; hence the std::string(...) around views
// passed to absl::StrCat and absl::FormatTime.

using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kTimeFormat = "%Y-%m-%dT%H:%M:%E3SZ";
const std::string kZeroHash(64, '0');
constexpr const char* kReservedKeys[] = {"seq", "time", "event", "prev", "hash"};

bool IsHexDigest(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The line number and reason of the first broken record; messages never
// quote record content, which is what the log protects.
struct Break {
  uint64_t line = 0;
  std::string why;
};

// Checks one complete line (without its newline) as record number `line`
// following a record whose hash is `prev`. On success returns the record's
// hash; otherwise sets `why`.
std::string CheckRecord(std::string_view text, uint64_t line, const std::string& prev,
                        std::string* why) {
  if (text.empty()) {
    *why = "empty line";
    return "";
  }
  OrderedJson record = OrderedJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded()) {
    *why = "not valid JSON";
    return "";
  }
  if (!record.is_object()) {
    *why = "not a JSON object";
    return "";
  }
  auto hash_it = record.find("hash");
  if (hash_it == record.end() || !hash_it->is_string() ||
      !IsHexDigest(hash_it->get<std::string>())) {
    *why = "missing or malformed \"hash\"";
    return "";
  }
  std::string hash = hash_it->get<std::string>();
  record.erase(hash_it);
  // Parsing and re-dumping a line this class wrote reproduces its bytes, so
  // the digest covers exactly what was hashed at append time.
  std::string body;
  try {
    body = record.dump();
  } catch (const OrderedJson::exception&) {
    *why = "not valid UTF-8";
    return "";
  }
  if (Sha256Hex(body) != hash) {
    *why = "hash does not match the record's content (the record was altered)";
    return "";
  }
  auto seq_it = record.find("seq");
  if (seq_it == record.end() || !seq_it->is_number_unsigned()) {
    *why = "missing or malformed \"seq\"";
    return "";
  }
  if (uint64_t seq = seq_it->get<uint64_t>(); seq != line) {
    *why = absl::StrCat("seq is ", seq, ", expected ", line,
                        " (a record was removed, inserted or reordered)");
    return "";
  }
  auto prev_it = record.find("prev");
  if (prev_it == record.end() || !prev_it->is_string() || prev_it->get<std::string>() != prev) {
    *why =
        "\"prev\" does not match the hash of the previous record "
        "(a record was removed, inserted or reordered)";
    return "";
  }
  return hash;
}

// Reads `fd` from its current offset to the end, checking every record.
// IO errors come back as a status; a broken chain as `broken`.
absl::StatusOr<AuditVerification> VerifyFd(int fd, const std::string& path, Break* broken) {
  AuditVerification result;
  std::string prev = kZeroHash;
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
      uint64_t line = result.records + 1;
      std::string why;
      std::string hash = CheckRecord(pending, line, prev, &why);
      if (hash.empty()) {
        *broken = Break{line, std::move(why)};
        return result;
      }
      pending.clear();
      prev = hash;
      result.records = line;
      result.last_hash = std::move(hash);
    }
  }
  if (!pending.empty()) {
    *broken = Break{result.records + 1,
                    "incomplete last line (no final newline; a writer may have crashed)"};
  }
  return result;
}

std::string BrokenMessage(const std::string& path, const Break& broken) {
  return absl::StrCat("audit log ", path, " is broken at line ", broken.line, ": ", broken.why);
}

}  // namespace

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

absl::StatusOr<AuditVerification> VerifyAuditLog(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string message = absl::StrCat("cannot open audit log ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  Break broken;
  absl::StatusOr<AuditVerification> result = VerifyFd(fd, path, &broken);
  ::close(fd);
  if (!result.ok()) return result.status();
  if (broken.line != 0) return absl::DataLossError(BrokenMessage(path, broken));
  return result;
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path,
                                                         const Clock& clock) {
  // Read and append through the same descriptor, so the file verified is the
  // file appended to. O_APPEND makes every write land at the end whatever
  // the read offset.
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    std::string message = absl::StrCat("cannot open audit log ", path, ": ", std::strerror(err));
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
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
  Break broken;
  absl::StatusOr<AuditVerification> verified = VerifyFd(fd, path, &broken);
  if (!verified.ok() || broken.line != 0) {
    ::close(fd);
    if (!verified.ok()) return verified.status();
    return absl::DataLossError(absl::StrCat(BrokenMessage(path, broken),
                                            "; keep it for investigation and start a new log"));
  }
  std::string last_hash = verified->records == 0 ? kZeroHash : verified->last_hash;
  return std::unique_ptr<AuditLog>(new AuditLog(fd, clock, verified->records, last_hash));
}

AuditLog::AuditLog(int fd, const Clock& clock, uint64_t seq, std::string last_hash)
    : clock_(clock), fd_(fd), seq_(seq), last_hash_(std::move(last_hash)) {}

AuditLog::~AuditLog() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) ::close(fd_);
}

uint64_t AuditLog::size() const {
  absl::MutexLock lock(&mu_);
  return seq_;
}

absl::Status AuditLog::Append(const std::string& event, const nlohmann::json& fields) {
  if (event.empty()) return absl::InvalidArgumentError("audit event name must not be empty");
  if (!fields.is_object()) {
    return absl::InvalidArgumentError("audit record fields must be a JSON object");
  }
  for (const char* reserved : kReservedKeys) {
    if (fields.contains(reserved)) {
      return absl::InvalidArgumentError(
          absl::StrCat("audit record field '", reserved, "' is reserved"));
    }
  }

  absl::MutexLock lock(&mu_);
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        "audit log is unusable after an earlier write failure; verify it and restart");
  }
  OrderedJson record;
  record["seq"] = seq_ + 1;
  record["time"] = absl::FormatTime(std::string(kTimeFormat), clock_.Now(), absl::UTCTimeZone());
  record["event"] = event;
  for (const auto& [key, value] : fields.items()) record[key] = OrderedJson(value);
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
