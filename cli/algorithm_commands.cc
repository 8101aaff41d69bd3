// spoor algorithm keygen | package | sign | verify | register | list | show |
// review | revoke, and spoor run NAME@VERSION.
//
// The image commands work on local files (common/oci_image.h,
// common/algorithm_signature.h); the others talk to the coordinator's
// Registry and Research services through ResearchClient.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/algorithm_reference.h"
#include "common/algorithm_signature.h"
#include "common/file_util.h"
#include "common/oci_image.h"
#include "common/status.h"

namespace spoor {
namespace {

namespace fs = std::filesystem;

// A file the command reads, with the flag that named it in the error.
absl::StatusOr<std::string> ReadInput(const std::string& flag, const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (bytes.ok()) return bytes;
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(absl::StrCat(flag, " ", path, ": no such file"));
  }
  return absl::Status(bytes.status().code(),
                      absl::StrCat(flag, " ", path, ": ", bytes.status().message()));
}

// FAILED_PRECONDITION unless the directory a new file `path` goes into
// exists.
absl::Status CheckParentDirectory(const std::string& flag, const std::string& path) {
  const fs::path file(path);
  const std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        flag, " ", path, ": directory ", dir, " does not exist; create it or choose another path"));
  }
  return absl::OkStatus();
}

// An error about image `path`, prefixed with it unless it already names it.
absl::Status AboutImage(const std::string& path, const absl::Status& status) {
  if (status.ok() || absl::StrContains(status.message(), path)) return status;
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

struct LoadedImage {
  OciImage image;
  ResolvedImage resolved;
};

// Reads (verifying every blob) and resolves the image at `path`.
absl::StatusOr<LoadedImage> LoadImage(const std::string& path) {
  LoadedImage loaded;
  absl::StatusOr<OciImage> image = ReadImage(path);
  if (!image.ok()) {
    if (absl::IsNotFound(image.status())) {
      return absl::NotFoundError(absl::StrCat(
          path, ": no such image; make one with `spoor algorithm package ... --out ", path, "`"));
    }
    return AboutImage(path, image.status());
  }
  loaded.image = *std::move(image);
  absl::StatusOr<ResolvedImage> resolved = ResolveImage(loaded.image);
  if (!resolved.ok()) return AboutImage(path, resolved.status());
  loaded.resolved = *std::move(resolved);
  return loaded;
}

std::string Reference(const AlgorithmInfo& info) {
  return AlgorithmReference(info.name, info.version);
}

std::string Reference(const v1::AlgorithmRecord& record) {
  return AlgorithmReference(record.name(), record.version());
}

// "--param NAME:TYPE[:required][:DESCRIPTION]" of `package`.
absl::StatusOr<ParameterSpec> ParseParameterSpec(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(':', 3));
  if (parts.size() < 2 || parts[0].empty() || parts[1].empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--param '", text,
        "': write NAME:TYPE[:required][:DESCRIPTION] with TYPE number, text, numbers or texts, "
        "e.g. --param vars:texts:required:the variables to average"));
  }
  ParameterSpec spec;
  spec.name = parts[0];
  spec.type = parts[1];
  size_t next = 2;
  if (next < parts.size() && (parts[next] == "required" || parts[next] == "optional")) {
    spec.required = parts[next] == "required";
    ++next;
  }
  // The description may itself hold colons.
  std::vector<std::string> rest(parts.begin() + next, parts.end());
  spec.description = absl::StrJoin(rest, ":");
  return spec;
}

bool MatchesName(const std::string& text, size_t max, absl::FunctionRef<bool(char)> first,
                 absl::FunctionRef<bool(char)> rest) {
  if (text.empty() || text.size() > max || !first(text[0])) return false;
  return std::all_of(text.begin() + 1, text.end(), [&](char c) { return rest(c); });
}

// The package flags by common/oci_image.h's rules, each error naming its
// flag (PackageBinary checks again, in terms of image annotations).
absl::Status CheckPackageInfo(const AlgorithmInfo& info) {
  auto lower_or_digit = [](char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c); };
  if (!MatchesName(info.name, 64, lower_or_digit,
                   [&](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; })) {
    return absl::InvalidArgumentError(
        absl::StrCat("--name '", info.name,
                     "': use 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"));
  }
  if (!MatchesName(info.version, 64, absl::ascii_isalnum, [](char c) {
        return absl::ascii_isalnum(c) || c == '.' || c == '+' || c == '_' || c == '-';
      })) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--version '", info.version,
        "': use 1-64 of letters, digits, '.', '+', '_' and '-', starting with a letter or digit, "
        "e.g. 1.0.0"));
  }
  std::set<std::string> names;
  for (const ParameterSpec& p : info.parameters) {
    if (!MatchesName(
            p.name, 64, [](char c) { return absl::ascii_isalpha(c) || c == '_'; },
            [](char c) { return absl::ascii_isalnum(c) || c == '_'; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("--param ", p.name,
                       ":...: a parameter name is 1-64 letters, digits and '_', not starting "
                       "with a digit"));
    }
    if (p.type != "number" && p.type != "text" && p.type != "numbers" && p.type != "texts") {
      return absl::InvalidArgumentError(absl::StrCat(
          "--param ", p.name, ":", p.type, ": the type is number, text, numbers or texts"));
    }
    if (!names.insert(p.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("--param ", p.name, " is given twice"));
    }
  }
  const std::set<std::string> kAggregates = {"count_table", "vector", "matrix", "histogram",
                                             "levels"};
  std::set<std::string> aggregates;
  for (const std::string& aggregate : info.aggregates) {
    if (!kAggregates.contains(aggregate)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--aggregates: '", aggregate,
                       "' is none of count_table, vector, matrix, histogram, levels"));
    }
    if (!aggregates.insert(aggregate).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--aggregates: '", aggregate, "' is given twice"));
    }
  }
  return absl::OkStatus();
}

// The image format at an existing `path`: a directory or a tar.
ImageFormat FormatOf(const std::string& path) {
  std::error_code error;
  return fs::is_directory(path, error) ? ImageFormat::kDirectory : ImageFormat::kTar;
}

}  // namespace

absl::Status AlgorithmKeygenCommand(const AlgorithmKeygenOptions& options) {
  const std::string public_path = options.out + ".pub";
  std::error_code error;
  if (fs::is_directory(options.out, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--out ", options.out, " is a directory; give a file name, e.g. --out ",
                     (fs::path(options.out) / "signing.key").lexically_normal().string()));
  }
  SPOOR_RETURN_IF_ERROR(CheckParentDirectory("--out", options.out));
  if (!options.force) {
    for (const std::string& path : {options.out, public_path}) {
      if (fs::exists(path, error)) {
        return absl::AlreadyExistsError(
            absl::StrCat(path,
                         " already exists; choose another --out, or pass --force to replace it "
                         "(images signed with the old key then need signing again)"));
      }
    }
  }
  SPOOR_ASSIGN_OR_RETURN(SigningKeyPair pair, GenerateSigningKey());
  SPOOR_ASSIGN_OR_RETURN(std::string key_id, SigningKeyId(pair.public_pem));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(options.out, pair.private_pem, 0600));
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(public_path, pair.public_pem, 0644));
  std::cout << "key " << key_id << " written to " << options.out << " (public key " << public_path
            << ")\n";
  return absl::OkStatus();
}

absl::Status AlgorithmPackageCommand(const AlgorithmPackageOptions& options) {
  ImageFormat format;
  if (options.format.empty()) {
    format = absl::EndsWith(options.out, ".tar") ? ImageFormat::kTar : ImageFormat::kDirectory;
  } else if (options.format == "dir" || options.format == "tar") {
    format = options.format == "tar" ? ImageFormat::kTar : ImageFormat::kDirectory;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--format ", options.format, ": say dir or tar"));
  }
  AlgorithmInfo info;
  info.name = options.name;
  info.version = options.version;
  info.description = options.description;
  for (const std::string& text : options.parameters) {
    SPOOR_ASSIGN_OR_RETURN(ParameterSpec spec, ParseParameterSpec(text));
    info.parameters.push_back(std::move(spec));
  }
  for (const std::string& aggregate : options.aggregates) {
    std::string type(absl::StripAsciiWhitespace(aggregate));
    if (!type.empty()) info.aggregates.push_back(std::move(type));
  }
  // Check the description first, so a typo costs no reading of the binary.
  SPOOR_RETURN_IF_ERROR(CheckPackageInfo(info));
  SPOOR_RETURN_IF_ERROR(AlgorithmAnnotations(info).status());
  SPOOR_RETURN_IF_ERROR(CheckParentDirectory("--out", options.out));
  SPOOR_ASSIGN_OR_RETURN(std::string binary, ReadInput("--binary", options.binary));
  absl::StatusOr<OciImage> image = PackageBinary(binary, info);
  if (!image.ok()) {
    return absl::Status(image.status().code(),
                        absl::StrCat("--binary ", options.binary, ": ", image.status().message()));
  }
  SPOOR_ASSIGN_OR_RETURN(ResolvedImage resolved, ResolveImage(*image));
  absl::Status written = WriteImage(*image, options.out, format);
  if (!written.ok()) return AboutImage(options.out, written);
  std::cerr << "packaged " << Reference(info) << " into " << options.out << " ("
            << (format == ImageFormat::kTar ? "tar" : "directory")
            << "); sign it with `spoor algorithm sign --key KEY --signer \"NAME (ORGANISATION)\" "
            << options.out << "`\n";
  std::cout << resolved.manifest_digest << "\n";
  return absl::OkStatus();
}

absl::Status AlgorithmSignCommand(const AlgorithmSignOptions& options) {
  SPOOR_RETURN_IF_ERROR(CheckPrivateFileMode(options.key));
  SPOOR_ASSIGN_OR_RETURN(std::string private_pem, ReadInput("--key", options.key));
  SPOOR_ASSIGN_OR_RETURN(LoadedImage loaded, LoadImage(options.image));
  absl::StatusOr<AlgorithmSignature> signature =
      SignManifest(private_pem, options.signer, loaded.resolved.manifest_digest, absl::Now());
  if (!signature.ok()) {
    return absl::Status(
        signature.status().code(),
        absl::StrCat("cannot sign with --key ", options.key, ": ", signature.status().message()));
  }
  SPOOR_RETURN_IF_ERROR(
      AboutImage(options.image, AddImageSignature(loaded.image, SignatureToJson(*signature))));
  // Only index.json changes (signatures live there, outside the signed
  // manifest): a directory gets a new index.json by rename, a tar is
  // rewritten whole into a sibling and renamed over the old one.
  if (FormatOf(options.image) == ImageFormat::kDirectory) {
    SPOOR_RETURN_IF_ERROR(WriteFileAtomically((fs::path(options.image) / "index.json").string(),
                                              loaded.image.index_json, 0644));
  } else {
    SPOOR_RETURN_IF_ERROR(
        AboutImage(options.image, WriteImage(loaded.image, options.image, ImageFormat::kTar)));
  }
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> signatures, ImageSignatures(loaded.image));
  std::cout << "signed " << Reference(loaded.resolved.algorithm) << " ("
            << loaded.resolved.manifest_digest << ") as " << options.signer << " with key "
            << signature->key_id << "; " << options.image << " holds " << signatures.size()
            << " signature(s)\n";
  return absl::OkStatus();
}

absl::Status AlgorithmVerifyCommand(const AlgorithmVerifyOptions& options) {
  std::vector<TrustedSigner> trusted;
  for (const std::string& path : options.trusted) {
    absl::StatusOr<TrustedSigner> signer = LoadTrustedSigner(path);
    if (!signer.ok()) {
      return absl::Status(signer.status().code(),
                          absl::StrCat("--trusted ", path, ": ", signer.status().message()));
    }
    trusted.push_back(*std::move(signer));
  }
  SPOOR_ASSIGN_OR_RETURN(LoadedImage loaded, LoadImage(options.image));
  absl::StatusOr<std::vector<std::string>> documents = ImageSignatures(loaded.image);
  if (!documents.ok()) return AboutImage(options.image, documents.status());
  std::vector<AlgorithmSignature> signatures;
  for (const std::string& document : *documents) {
    absl::StatusOr<AlgorithmSignature> signature = SignatureFromJson(document);
    if (!signature.ok()) {
      return absl::Status(signature.status().code(),
                          absl::StrCat(options.image, ": a signature in index.json is malformed (",
                                       signature.status().message(), ")"));
    }
    signatures.push_back(*std::move(signature));
  }
  const std::string& digest = loaded.resolved.manifest_digest;
  // The library's messages speak to a node's operator; say it for this
  // command where they would mislead.
  if (signatures.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.image,
                     " is not signed; sign it with `spoor algorithm sign --key KEY --signer "
                     "\"NAME (ORGANISATION)\" ",
                     options.image, "`"));
  }
  std::set<std::string> trusted_ids;
  for (const TrustedSigner& t : trusted) trusted_ids.insert(t.key_id);
  bool any_trusted = false;
  std::vector<std::string> signed_by;
  for (const AlgorithmSignature& s : signatures) {
    any_trusted = any_trusted || trusted_ids.contains(s.key_id);
    signed_by.push_back(absl::StrCat(s.signer, " (key ", s.key_id, ")"));
  }
  if (!any_trusted) {
    return absl::PermissionDeniedError(absl::StrCat(
        options.image,
        " is signed only by keys not given with --trusted: ", absl::StrJoin(signed_by, ", ")));
  }
  absl::StatusOr<TrustedSigner> signer = VerifyAlgorithmSignatures(signatures, digest, trusted);
  if (!signer.ok()) return AboutImage(options.image, signer.status());
  // The signer as the signature names itself (the stated identity is signed
  // too), and the trusted key file that vouched for it.
  std::string stated = signer->name;
  for (const AlgorithmSignature& signature : signatures) {
    if (signature.key_id == signer->key_id && signature.manifest_digest == digest) {
      stated = signature.signer;
      break;
    }
  }
  std::cout << options.image << ": " << Reference(loaded.resolved.algorithm) << " " << digest
            << " signed by " << stated << " (key " << signer->key_id << ", trusted as "
            << signer->name << ")\n";
  return absl::OkStatus();
}

namespace {

// Approvals so far, and from how many distinct organisations.
std::pair<int, int> CountApprovals(const v1::AlgorithmRecord& record) {
  int approvals = 0;
  std::set<std::string> organisations;
  for (const v1::Review& review : record.reviews()) {
    if (review.verdict() != v1::VERDICT_APPROVE) continue;
    ++approvals;
    organisations.insert(review.organisation());
  }
  return {approvals, static_cast<int>(organisations.size())};
}

// "approved", "pending_review (1 of 2 approvals, from 1 of 2
// organisations)", "revoked (REASON)".
std::string StateSummary(const v1::AlgorithmRecord& record) {
  std::string out = AlgorithmStateName(record.state());
  if (record.state() == v1::ALGORITHM_STATE_REVOKED) {
    absl::StrAppend(&out, " (", record.revocation_reason(), ")");
  } else if (record.state() == v1::ALGORITHM_STATE_PENDING_REVIEW) {
    const auto [approvals, organisations] = CountApprovals(record);
    absl::StrAppend(&out, " (", approvals, " of ", record.required_approvals(), " approvals, from ",
                    organisations, " of ", record.required_organisations(), " organisations)");
  }
  return out;
}

// One row per record: name, version, state, approvals (n/required), signer,
// digest (short).
std::string AlgorithmListToText(const std::vector<v1::AlgorithmRecord>& records) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::AlgorithmRecord& record : records) {
    rows.push_back({record.name(), record.version(), AlgorithmStateName(record.state()),
                    absl::StrCat(CountApprovals(record).first, "/", record.required_approvals()),
                    record.signer(), ShortDigest(record.manifest_digest())});
  }
  return FormatTable({"name", "version", "state", "approvals", "signer", "digest"}, rows,
                     {Align::kLeft, Align::kLeft, Align::kLeft, Align::kRight});
}

// One record in detail: what it is, its state, its signer, parameters and
// reviews.
std::string AlgorithmRecordToText(const v1::AlgorithmRecord& record) {
  std::string out = absl::StrCat(Reference(record), "\n");
  if (!record.description().empty()) absl::StrAppend(&out, "  ", record.description(), "\n");
  absl::StrAppend(
      &out, "\nstate:       ", StateSummary(record), "\ndigest:      ", record.manifest_digest(),
      "\nsigned by:   ", record.signer(), " (key ", record.key_id(), ")",
      "\nregistered:  ", FormatTimestamp(record.registered_at()), " by ", record.registered_by(),
      " (", record.registered_organisation(), ")", "\naggregates:  ",
      record.aggregates().empty() ? "none" : absl::StrJoin(record.aggregates(), ", "), "\n");
  if (record.parameters().empty()) {
    out += "\nparameters: none\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const v1::AlgorithmParameter& p : record.parameters()) {
      rows.push_back({p.name(), p.type(), p.required() ? "yes" : "no", p.description()});
    }
    absl::StrAppend(&out, "\nparameters:\n",
                    FormatTable({"name", "type", "required", "description"}, rows, {}));
  }
  if (record.reviews().empty()) {
    out += "\nreviews: none yet\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const v1::Review& r : record.reviews()) {
      rows.push_back({r.reviewer(), r.organisation(), VerdictName(r.verdict()),
                      FormatTimestamp(r.at()), r.comment()});
    }
    absl::StrAppend(
        &out, "\nreviews:\n",
        FormatTable({"reviewer", "organisation", "verdict", "at", "comment"}, rows, {}));
  }
  return out;
}

void PrintRecord(const OutputOptions& output, const v1::AlgorithmRecord& record) {
  if (output.json) {
    PrintJson(AlgorithmRecordToJson(record));
  } else {
    std::cout << AlgorithmRecordToText(record);
  }
}

// Review and Revoke name an algorithm by NAME@VERSION; a digest is looked up
// first.
absl::StatusOr<std::string> NameAndVersion(ResearchClient& client, const std::string& reference) {
  if (!absl::StartsWith(reference, "sha256:")) {
    SPOOR_RETURN_IF_ERROR(ParseAlgorithmReference(reference).status());
    return reference;
  }
  SPOOR_ASSIGN_OR_RETURN(v1::AlgorithmRecord record, client.GetAlgorithm(reference));
  return Reference(record);
}

std::string Size(size_t bytes) {
  if (bytes < (1 << 20)) return absl::StrCat((bytes + 1023) / 1024, " KiB");
  return absl::StrCat(FormatNumber(static_cast<double>(bytes) / (1 << 20), 3), " MiB");
}

}  // namespace

absl::Status AlgorithmRegisterCommand(const std::string& config_path, const std::string& image,
                                      const OutputOptions& output) {
  SPOOR_ASSIGN_OR_RETURN(LoadedImage loaded, LoadImage(image));
  SPOOR_ASSIGN_OR_RETURN(std::vector<std::string> signatures, ImageSignatures(loaded.image));
  if (signatures.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(image,
                     " is not signed; sign it first with `spoor algorithm sign --key KEY "
                     "--signer \"NAME (ORGANISATION)\" ",
                     image, "`"));
  }
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  // Every blob, every time: the registry stores each digest once and
  // verifies what it receives.
  const bool progress = ::isatty(STDERR_FILENO) && !output.json;
  size_t done = 0, total = 0;
  for (const auto& [digest, bytes] : loaded.image.blobs) total += bytes.size();
  int count = 0;
  for (const auto& [digest, bytes] : loaded.image.blobs) {
    if (progress) {
      std::fprintf(stderr, "\r\033[Kuploading blob %d/%zu (%s of %s)", ++count,
                   loaded.image.blobs.size(), Size(done).c_str(), Size(total).c_str());
      std::fflush(stderr);
    }
    absl::Status uploaded = client->PutBlob(digest, bytes);
    if (!uploaded.ok()) {
      if (progress) std::fprintf(stderr, "\r\033[K");
      return absl::Status(uploaded.code(), absl::StrCat("uploading blob ", ShortDigest(digest),
                                                        " of ", image, ": ", uploaded.message()));
    }
    done += bytes.size();
  }
  if (progress) std::fprintf(stderr, "\r\033[K");
  absl::StatusOr<v1::AlgorithmRecord> registered =
      client->RegisterAlgorithm(loaded.image.index_json);
  if (!registered.ok()) {
    if (absl::IsUnavailable(registered.status())) return registered.status();
    return absl::Status(
        registered.status().code(),
        absl::StrCat("the registry refused ", image, ": ", registered.status().message()));
  }
  const v1::AlgorithmRecord& record = *registered;
  PrintRecord(output, record);
  if (!output.json && record.state() == v1::ALGORITHM_STATE_PENDING_REVIEW) {
    std::cout << "\nreviewers approve it with `spoor algorithm review " << Reference(record)
              << " --approve`\n";
  }
  return absl::OkStatus();
}

absl::Status AlgorithmListCommand(const std::string& config_path, const OutputOptions& output) {
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  SPOOR_ASSIGN_OR_RETURN(std::vector<v1::AlgorithmRecord> records, client->ListAlgorithms());
  if (output.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const v1::AlgorithmRecord& record : records) list.push_back(AlgorithmRecordToJson(record));
    PrintJson({{"algorithms", std::move(list)}});
    return absl::OkStatus();
  }
  if (records.empty()) {
    std::cout << "no algorithms registered yet; register one with `spoor algorithm register "
                 "IMAGE`\n";
    return absl::OkStatus();
  }
  std::cout << AlgorithmListToText(records);
  return absl::OkStatus();
}

absl::Status AlgorithmShowCommand(const std::string& config_path, const std::string& reference,
                                  const OutputOptions& output) {
  if (!absl::StartsWith(reference, "sha256:")) {
    SPOOR_RETURN_IF_ERROR(ParseAlgorithmReference(reference).status());
  }
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  SPOOR_ASSIGN_OR_RETURN(v1::AlgorithmRecord record, client->GetAlgorithm(reference));
  PrintRecord(output, record);
  return absl::OkStatus();
}

absl::Status AlgorithmReviewCommand(const std::string& config_path,
                                    const AlgorithmReviewOptions& options,
                                    const OutputOptions& output) {
  if (options.approve == options.reject) {
    return absl::InvalidArgumentError("say either --approve or --reject");
  }
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  SPOOR_ASSIGN_OR_RETURN(std::string reference, NameAndVersion(*client, options.reference));
  SPOOR_ASSIGN_OR_RETURN(
      v1::AlgorithmRecord record,
      client->ReviewAlgorithm(reference, options.approve ? v1::VERDICT_APPROVE : v1::VERDICT_REJECT,
                              options.comment));
  if (output.json) {
    PrintJson(AlgorithmRecordToJson(record));
  } else {
    std::cout << "you " << (options.approve ? "approved " : "rejected ") << reference
              << "; it is now " << StateSummary(record) << "\n";
  }
  return absl::OkStatus();
}

absl::Status AlgorithmRevokeCommand(const std::string& config_path, const std::string& reference,
                                    const std::string& reason, const OutputOptions& output) {
  if (absl::StripAsciiWhitespace(reason).empty()) {
    return absl::InvalidArgumentError(
        "--reason is empty; say why, for the nodes' operators and the audit trail");
  }
  SPOOR_ASSIGN_OR_RETURN(auto client, ConnectResearchClient(config_path));
  SPOOR_ASSIGN_OR_RETURN(std::string name_version, NameAndVersion(*client, reference));
  SPOOR_ASSIGN_OR_RETURN(v1::AlgorithmRecord record, client->RevokeAlgorithm(name_version, reason));
  if (output.json) {
    PrintJson(AlgorithmRecordToJson(record));
  } else {
    std::cout << name_version << " is now " << StateSummary(record)
              << "; nodes refuse it from their next task\n";
  }
  return absl::OkStatus();
}

}  // namespace spoor
