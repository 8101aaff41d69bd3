// spoor audit verify|export: check a node's or the coordinator's audit log,
// and turn it into a dossier a data protection officer can read. Both work on
// a copy of the file as well as on the live log (the writer only appends).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/audit_dossier.h"
#include "cli/commands.h"
#include "common/audit_log.h"
#include "common/file_util.h"
#include "common/status.h"

namespace spoor {
namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr char kRecordTimeFormat[] = "%Y-%m-%dT%H:%M:%E3SZ";
constexpr char kRecordTimeParseFormat[] = "%Y-%m-%dT%H:%M:%E*SZ";

std::string FormatRecordTime(absl::Time t) {
  return absl::FormatTime(kRecordTimeFormat, t, absl::UTCTimeZone());
}

std::optional<absl::Time> RecordTime(const OrderedJson& record) {
  auto it = record.find("time");
  if (it == record.end() || !it->is_string()) return std::nullopt;
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(kRecordTimeParseFormat, it->get<std::string>(), &t, &error)) {
    return std::nullopt;
  }
  return t;
}

// "3 records", "1 record".
std::string Count(uint64_t n, const char* singular, const char* plural) {
  return absl::StrCat(n, " ", n == 1 ? singular : plural);
}

// A JSON value as one line of text: strings as they are, the rest as JSON.
std::string ValueText(const OrderedJson& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

std::string StringOr(const OrderedJson& object, const char* key, const std::string& fallback) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  return ValueText(*it);
}

// Never throws, whatever a (possibly forged) record holds.
uint64_t UintOr(const OrderedJson& object, const char* key, uint64_t fallback) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_unsigned()) return fallback;
  return it->get<uint64_t>();
}

// --- Entries: one record, its fields under stable names. ---

// Dossier name <- record field, in the order a reader wants them. A name
// fed by two fields takes the first present; the other stays under "other".
constexpr std::pair<const char*, const char*> kMappedFields[] = {
    {"requester", "requester"},
    {"requester", "who"},
    {"organisation", "organisation"},
    {"role", "role"},
    {"study", "study"},
    {"action", "action"},
    {"job", "job"},
    {"task", "task"},
    {"round", "round"},
    {"algorithm", "algorithm"},
    {"algorithm_digest", "algorithm_digest"},
    {"algorithm_digest", "digest"},
    {"dataset", "dataset"},
    {"where", "where"},
    {"rule", "rule"},
    {"code", "code"},
    {"message", "message"},
    {"reason", "reason"},
    {"verdict", "verdict"},
    {"sites", "sites"},
    {"released", "released"},
};
constexpr const char* kCheckpointFields[] = {"records", "covers", "signer", "signature"};
constexpr const char* kChainFields[] = {"seq", "time", "event", "prev", "hash"};

OrderedJson EntryFromRecord(const OrderedJson& record) {
  OrderedJson entry = OrderedJson::object();
  std::vector<std::string> used(std::begin(kChainFields), std::end(kChainFields));
  for (const char* key : {"seq", "time", "event", "hash"}) {
    entry[key] = record.contains(key) ? record[key] : OrderedJson(nullptr);
  }
  for (const auto& [name, field] : kMappedFields) {
    if (entry.contains(name) || !record.contains(field)) continue;
    entry[name] = record[field];
    used.push_back(field);
  }
  if (StringOr(record, "event", "") == kAuditCheckpointEvent) {
    for (const char* field : kCheckpointFields) {
      if (!record.contains(field)) continue;
      entry[field] = record[field];
      used.push_back(field);
    }
    // The PEM is long and public; its digest identifies it.
    if (auto it = record.find("certificate"); it != record.end() && it->is_string()) {
      entry["certificate_sha256"] = Sha256Hex(it->get<std::string>());
      used.push_back("certificate");
    }
  }
  OrderedJson other = OrderedJson::object();
  for (const auto& [key, value] : record.items()) {
    if (std::find(used.begin(), used.end(), key) == used.end()) other[key] = value;
  }
  if (!other.empty()) entry["other"] = std::move(other);
  return entry;
}

// Counts for the summary tables.
class DossierSummary {
 public:
  void Add(const OrderedJson& entry) {
    const std::string event = StringOr(entry, "event", "(none)");
    ++events_[event];
    const bool released = event == "task_released";
    const bool refused = event == "task_refused" || event == "call_refused";
    if (entry.contains("requester")) {
      Requester& r =
          requesters_[{StringOr(entry, "requester", ""), StringOr(entry, "organisation", "")}];
      ++r.records;
      r.releases += released ? 1 : 0;
      r.refusals += refused ? 1 : 0;
    }
    if (released) {
      Release& release = releases_[StringOr(entry, "dataset", "")];
      ++release.releases;
      if (auto it = entry.find("released"); it != entry.end()) {
        release.bytes += UintOr(*it, "bytes", 0);
      }
    }
    if (event == "task_refused") ++refusals_[StringOr(entry, "rule", "(no rule)")];
    if (event == "call_refused") {
      ++refusals_[absl::StrCat("access: ", StringOr(entry, "code", "(no code)"))];
    }
  }

  OrderedJson ToJson() const {
    OrderedJson events = OrderedJson::object();
    for (const auto& [event, n] : events_) events[event] = n;
    OrderedJson requesters = OrderedJson::array();
    for (const auto& [who, r] : requesters_) {
      requesters.push_back({{"requester", who.first},
                            {"organisation", who.second},
                            {"records", r.records},
                            {"releases", r.releases},
                            {"refusals", r.refusals}});
    }
    OrderedJson releases = OrderedJson::array();
    for (const auto& [dataset, r] : releases_) {
      releases.push_back({{"dataset", dataset}, {"releases", r.releases}, {"bytes", r.bytes}});
    }
    OrderedJson refusals = OrderedJson::object();
    for (const auto& [rule, n] : refusals_) refusals[rule] = n;
    return {{"events", std::move(events)},
            {"requesters", std::move(requesters)},
            {"releases", std::move(releases)},
            {"refusals", std::move(refusals)}};
  }

 private:
  struct Requester {
    uint64_t records = 0, releases = 0, refusals = 0;
  };
  struct Release {
    uint64_t releases = 0, bytes = 0;
  };
  std::map<std::string, uint64_t> events_;
  std::map<std::pair<std::string, std::string>, Requester> requesters_;
  std::map<std::string, Release> releases_;
  std::map<std::string, uint64_t> refusals_;
};

OrderedJson VerificationJson(const AuditDossierOptions& options,
                             const absl::StatusOr<AuditVerification>& verified) {
  OrderedJson j;
  j["ok"] = verified.ok();
  if (verified.ok()) {
    j["records"] = verified->records;
    j["checkpoints"] = verified->checkpoints;
    j["signed_records"] = verified->signed_records;
    j["signer"] = verified->signer;
    j["description"] = DescribeAuditVerification(*verified);
  } else {
    for (const char* key : {"records", "checkpoints", "signed_records", "signer", "description"}) {
      j[key] = nullptr;
    }
  }
  j["signatures_checked"] = !options.ca_pem.empty();
  j["ca"] = options.ca_path.empty() ? OrderedJson(nullptr) : OrderedJson(options.ca_path);
  j["error"] =
      verified.ok() ? OrderedJson(nullptr) : OrderedJson(std::string(verified.status().message()));
  j["last_checkpoint"] = nullptr;
  return j;
}

// --- Markdown. ---

// Free text: no control characters, Markdown's specials escaped.
std::string MdText(const std::string& s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out.push_back(' ');
      continue;
    }
    if (std::string_view("\\`*_[]<>|").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// An identifier, as a code span (a backtick inside gets a wider fence);
// `in_table` escapes the pipe, which would end the cell.
std::string Code(const std::string& s, bool in_table = false) {
  std::string text;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      text.push_back(' ');
    } else if (c == '|' && in_table) {
      text += "\\|";
    } else {
      text.push_back(c);
    }
  }
  if (text.empty()) return "(empty)";
  if (text.find('`') != std::string::npos) return absl::StrCat("`` ", text, " ``");
  return absl::StrCat("`", text, "`");
}

// Every line starts with `indent` (to nest the table under a list item).
std::string MdTable(const std::vector<std::string>& header,
                    const std::vector<std::vector<std::string>>& rows,
                    const std::vector<bool>& right_aligned, const std::string& indent = "") {
  std::string out = absl::StrCat(indent, "| ", absl::StrJoin(header, " | "), " |\n", indent, "|");
  for (bool right : right_aligned) out += right ? "---:|" : "---|";
  out += "\n";
  for (const auto& row : rows) {
    out += absl::StrCat(indent, "| ", absl::StrJoin(row, " | "), " |\n");
  }
  return out;
}

const char* EventMeaning(const std::string& event) {
  static const std::pair<const char*, const char*> kMeanings[] = {
      {"task_released", "an aggregate left the node"},
      {"task_refused", "the node's disclosure rules refused a result"},
      {"task_failed", "a task could not run"},
      {"call_refused", "the coordinator refused a call"},
      {"algorithm_registered", "an algorithm was registered"},
      {"algorithm_reviewed", "an algorithm was reviewed"},
      {"algorithm_revoked", "an algorithm was revoked"},
      {"checkpoint", "the writer signed the log so far"},
  };
  for (const auto& [name, meaning] : kMeanings) {
    if (event == name) return meaning;
  }
  return nullptr;
}

std::string ReleasedMarkdown(const OrderedJson& released) {
  if (!released.is_object())
    return absl::StrCat("- **What left the node:** ", MdText(ValueText(released)), "\n");
  std::string out = absl::StrCat("- **What left the node:** ",
                                 Count(UintOr(released, "bytes", 0), "byte", "bytes"), ", SHA-256 ",
                                 Code(StringOr(released, "sha256", "")), "\n");
  auto blocks = released.find("blocks");
  if (blocks == released.end() || !blocks->is_array() || blocks->empty()) return out;
  std::vector<std::vector<std::string>> rows;
  for (const OrderedJson& block : *blocks) {
    rows.push_back({Code(StringOr(block, "name", ""), true),
                    Code(StringOr(block, "type", ""), true), MdText(StringOr(block, "records", "")),
                    MdText(StringOr(block, "values", ""))});
  }
  // Nested under the list item.
  out += "\n";
  out += MdTable({"Block", "Type", "Records", "Values"}, rows, {false, false, true, true}, "  ");
  return out;
}

std::string EntryMarkdown(const OrderedJson& entry) {
  const std::string event = StringOr(entry, "event", "(no event)");
  std::string out = absl::StrCat("### Record ", StringOr(entry, "seq", "?"), " · ",
                                 StringOr(entry, "time", "(no time)"), " · ", Code(event));
  if (const char* meaning = EventMeaning(event)) absl::StrAppend(&out, ": ", meaning);
  out += "\n\n";
  auto line = [&](const char* label, const std::string& text) {
    absl::StrAppend(&out, "- **", label, ":** ", text, "\n");
  };
  auto has = [&](const char* key) { return entry.contains(key) && !entry[key].is_null(); };
  auto text = [&](const char* key) { return StringOr(entry, key, ""); };

  if (event == kAuditCheckpointEvent) {
    line("Signed by", MdText(text("signer")));
    line("Covers", absl::StrCat("records 1 to ", text("records"), " (hash of record ",
                                text("records"), ": ", Code(text("covers")), ")"));
    if (has("certificate_sha256")) line("Certificate SHA-256", Code(text("certificate_sha256")));
  }
  if (has("requester")) {
    std::string who = MdText(text("requester"));
    if (has("organisation")) absl::StrAppend(&who, ", ", MdText(text("organisation")));
    if (has("role")) absl::StrAppend(&who, " (", MdText(text("role")), ")");
    line("Who", who);
  } else if (has("organisation")) {
    line("Organisation", MdText(text("organisation")));
  }
  if (has("study")) line("Study", MdText(text("study")));
  if (has("action")) line("Action", MdText(text("action")));
  if (has("job") || has("task")) {
    std::vector<std::string> parts;
    if (has("job")) parts.push_back(absl::StrCat("job ", Code(text("job"))));
    if (has("task")) parts.push_back(absl::StrCat("task ", Code(text("task"))));
    if (has("round")) parts.push_back(absl::StrCat("round ", MdText(text("round"))));
    line("Job", absl::StrJoin(parts, ", "));
  }
  if (has("algorithm")) line("Algorithm", Code(text("algorithm")));
  if (has("algorithm_digest")) line("Algorithm digest", Code(text("algorithm_digest")));
  if (has("dataset")) line("Dataset", Code(text("dataset")));
  if (has("where")) {
    line("Cohort filter", text("where").empty() ? "none (all records)" : Code(text("where")));
  }
  if (has("rule")) line("Rule applied", Code(text("rule")));
  if (has("sites")) line("Sites", MdText(text("sites")));
  if (has("code")) line("Status", Code(text("code")));
  if (has("verdict")) line("Verdict", MdText(text("verdict")));
  if (has("reason")) line("Reason", MdText(text("reason")));
  if (has("message")) line("Message", MdText(text("message")));
  if (has("released")) out += ReleasedMarkdown(entry["released"]);
  if (auto other = entry.find("other"); other != entry.end() && other->is_object()) {
    out += "- **Other fields:**\n";
    for (const auto& [key, value] : other->items()) {
      absl::StrAppend(&out, "  - ", MdText(key), ": ", MdText(ValueText(value)), "\n");
    }
  }
  return out;
}

std::string HeaderMarkdown(const OrderedJson& d) {
  const OrderedJson& v = d["verification"];
  std::string out = absl::StrCat("# Audit dossier: ", Code(StringOr(d, "log", "")), "\n\n");
  auto line = [&](const char* label, const std::string& text) {
    absl::StrAppend(&out, "- **", label, ":** ", text, "\n");
  };
  line("Generated", StringOr(d, "generated_at", ""));
  const std::string writer = StringOr(d, "writer", "");
  if (writer.empty()) {
    line("Writer", "unknown: the log holds no signed checkpoint naming its writer");
  } else if (d.value("writer_verified", false)) {
    line("Writer", absl::StrCat(MdText(writer),
                                " (proven by its signed checkpoints, checked "
                                "against the CA ",
                                Code(StringOr(v, "ca", "")), ")"));
  } else {
    line("Writer", absl::StrCat(MdText(writer), " (as its checkpoints claim; not proven: ",
                                v.value("ok", false) ? "no CA was given to check them"
                                                     : "the log failed verification",
                                ")"));
  }
  const OrderedJson& period = d["period"];
  if (period["from"].is_null() && period["to"].is_null()) {
    line("Period", absl::StrCat("the whole log (", StringOr(d, "first_time", "no records"), " to ",
                                StringOr(d, "last_time", "no records"), ")"));
  } else {
    line("Period", absl::StrCat(StringOr(period, "from", "the first record"), " to ",
                                StringOr(period, "to", "the last record"), " (UTC, inclusive)"));
  }
  if (v.value("ok", false)) {
    line("Verification", MdText(StringOr(v, "description", "")));
  } else {
    line("Verification",
         absl::StrCat("**FAILED**: ", MdText(StringOr(v, "error", "")),
                      ". The records below are as read from the file and may have been altered."));
  }
  line("Records", absl::StrCat(StringOr(d, "records_in_log", "0"), " in the log, ",
                               StringOr(d, "records_in_period", "0"), " in the period"));
  if (const OrderedJson& last = v["last_checkpoint"]; last.is_object()) {
    line("Latest checkpoint",
         absl::StrCat("record ", StringOr(last, "seq", ""), ", hash ",
                      Code(StringOr(last, "hash", "")),
                      ". Keep this line: a later copy of the log whose signed records end "
                      "before it has been cut short."));
  }
  return out;
}

std::string SummaryMarkdown(const OrderedJson& summary) {
  std::string out = "## Summary\n\n### Records per event\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [event, n] : summary["events"].items())
    rows.push_back({Code(event, true), n.dump()});
  out += rows.empty() ? "No records in the period.\n"
                      : MdTable({"Event", "Records"}, rows, {false, true});

  out += "\n### Records per requester\n\n";
  rows.clear();
  for (const OrderedJson& r : summary["requesters"]) {
    rows.push_back({MdText(StringOr(r, "requester", "")), MdText(StringOr(r, "organisation", "")),
                    r["records"].dump(), r["releases"].dump(), r["refusals"].dump()});
  }
  out += rows.empty() ? "No record names a requester.\n"
                      : MdTable({"Requester", "Organisation", "Records", "Releases", "Refusals"},
                                rows, {false, false, true, true, true});

  out += "\n### Releases per dataset\n\n";
  rows.clear();
  for (const OrderedJson& r : summary["releases"]) {
    rows.push_back(
        {Code(StringOr(r, "dataset", ""), true), r["releases"].dump(), r["bytes"].dump()});
  }
  out += rows.empty() ? "Nothing left the node in the period.\n"
                      : MdTable({"Dataset", "Releases", "Bytes"}, rows, {false, true, true});

  if (!summary["refusals"].empty()) {
    out += "\n### Refusals per rule\n\n";
    rows.clear();
    for (const auto& [rule, n] : summary["refusals"].items()) {
      rows.push_back({Code(rule, true), n.dump()});
    }
    out += MdTable({"Rule", "Refusals"}, rows, {false, true});
  }
  return out;
}

// --- The commands. ---

struct VerifyArgs {
  std::string log;
  std::string ca;
  bool require_checkpoint = false;
  bool json = false;
};

struct ExportArgs {
  std::string log;
  std::string from;
  std::string to;
  std::string ca;
  std::string out;
  bool force = false;
  bool json = false;
};

absl::StatusOr<std::string> ReadCa(const std::string& path) {
  if (path.empty()) return std::string();
  return ReadFile(path);
}

absl::StatusOr<absl::Time> ParseTimeOption(const char* option, const std::string& text,
                                           bool end_of_range) {
  absl::StatusOr<absl::Time> t = ParseAuditTime(text, end_of_range);
  if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat(option, ": ", t.status().message()));
  return t;
}

// A missing log or a CA that is not one: say what the option wants.
absl::Status ExplainLogError(absl::Status status, const std::string& ca_path) {
  if (absl::IsNotFound(status)) {
    return absl::NotFoundError(absl::StrCat(
        status.message(), "; --log takes a node's or the coordinator's data_dir/audit.jsonl"));
  }
  if (absl::IsInvalidArgument(status) && !ca_path.empty() &&
      absl::StrContains(status.message(), "CA certificate")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ca ", ca_path, ": ", status.message(), "; give the consortium's ca.crt"));
  }
  return status;
}

absl::Status AuditVerifyCommand(const VerifyArgs& args) {
  SPOOR_ASSIGN_OR_RETURN(std::string ca_pem, ReadCa(args.ca));
  AuditVerifyOptions options{ca_pem, args.require_checkpoint};
  absl::StatusOr<AuditVerification> verified = VerifyAuditLog(args.log, options);
  if (!verified.ok()) verified = ExplainLogError(verified.status(), args.ca);
  if (args.json) {
    std::cout << AuditVerificationToJson(args.log, verified).dump(2) << "\n";
    return verified.status();
  }
  SPOOR_RETURN_IF_ERROR(verified.status());
  std::cout << "audit log " << args.log << ": " << DescribeAuditVerification(*verified) << "\n";
  return absl::OkStatus();
}

absl::Status AuditExportCommand(const ExportArgs& args) {
  AuditDossierOptions options;
  options.log = args.log;
  options.ca_path = args.ca;
  options.force = args.force;
  options.now = absl::Now();
  if (!args.from.empty()) {
    SPOOR_ASSIGN_OR_RETURN(options.from,
                           ParseTimeOption("--from", args.from, /*end_of_range=*/false));
  }
  if (!args.to.empty()) {
    SPOOR_ASSIGN_OR_RETURN(options.to, ParseTimeOption("--to", args.to, /*end_of_range=*/true));
  }
  SPOOR_ASSIGN_OR_RETURN(options.ca_pem, ReadCa(args.ca));
  absl::StatusOr<OrderedJson> dossier = BuildAuditDossier(options);
  if (!dossier.ok()) return ExplainLogError(dossier.status(), args.ca);
  std::string text =
      args.json ? dossier->dump(2, ' ', false, OrderedJson::error_handler_t::replace) + "\n"
                : AuditDossierToMarkdown(*dossier);
  if (!(*dossier)["verification"].value("ok", false)) {
    std::fprintf(stderr, "spoor: warning: audit log %s failed verification; the dossier says so\n",
                 args.log.c_str());
  }
  if (args.out.empty()) {
    std::cout << text;
    return absl::OkStatus();
  }
  // Who asked what is personal data too: readable by its owner only.
  SPOOR_RETURN_IF_ERROR(WriteFileAtomically(args.out, text, 0600));
  std::fprintf(stderr, "spoor: wrote the dossier of %s (%s in the period) to %s\n",
               args.log.c_str(),
               Count((*dossier)["records_in_period"].get<uint64_t>(), "record", "records").c_str(),
               args.out.c_str());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<absl::Time> ParseAuditTime(std::string_view text, bool end_of_range) {
  const std::string input(text);
  absl::Time t;
  std::string error;
  if (absl::ParseTime("%Y-%m-%d", input, absl::UTCTimeZone(), &t, &error)) {
    return end_of_range ? t + absl::Hours(24) - absl::Nanoseconds(1) : t;
  }
  for (const char* format : {"%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d%ET%H:%M%Ez",
                             "%Y-%m-%d%ET%H:%M:%E*S", "%Y-%m-%d%ET%H:%M"}) {
    if (absl::ParseTime(format, input, absl::UTCTimeZone(), &t, &error)) return t;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", input, "' is neither a date (2026-11-23) nor a time (2026-11-23T09:00:00Z, ",
      "2026-11-23T10:00+01:00; UTC without an offset)"));
}

std::string DescribeAuditVerification(const AuditVerification& v) {
  std::string out = absl::StrCat(Count(v.records, "record", "records"), ", chain intact");
  if (v.checkpoints == 0) {
    if (v.records > 0) out += ", no signed checkpoints (nothing proves who wrote it)";
    return out;
  }
  absl::StrAppend(&out, ", ", Count(v.checkpoints, "signed checkpoint", "signed checkpoints"),
                  " by ", v.signer);
  if (!v.signatures_checked) out += " (signatures not checked; pass --ca to check them)";
  const uint64_t unsealed = v.records - v.signed_records;
  if (unsealed == 0) {
    out += ", every record covered";
  } else if (unsealed == 1) {
    out += ", last record not yet covered by a checkpoint";
  } else {
    absl::StrAppend(&out, ", last ", unsealed, " records not yet covered by a checkpoint");
  }
  return out;
}

OrderedJson AuditVerificationToJson(const std::string& path,
                                    const absl::StatusOr<AuditVerification>& verification) {
  OrderedJson j;
  j["ok"] = verification.ok();
  j["log"] = path;
  if (verification.ok()) {
    j["records"] = verification->records;
    j["checkpoints"] = verification->checkpoints;
    j["signed_records"] = verification->signed_records;
    j["signer"] = verification->signer;
    j["signatures_checked"] = verification->signatures_checked;
    j["error"] = nullptr;
  } else {
    for (const char* key :
         {"records", "checkpoints", "signed_records", "signer", "signatures_checked"}) {
      j[key] = nullptr;
    }
    j["error"] = std::string(verification.status().message());
  }
  return j;
}

absl::StatusOr<OrderedJson> BuildAuditDossier(const AuditDossierOptions& options) {
  if (options.from && options.to && *options.from > *options.to) {
    return absl::InvalidArgumentError("--from is after --to; give the earlier time to --from");
  }
  absl::StatusOr<AuditVerification> verified =
      VerifyAuditLog(options.log, AuditVerifyOptions{options.ca_pem, false});
  if (!verified.ok()) {
    if (!absl::IsDataLoss(verified.status())) return verified.status();
    if (!options.force) {
      return absl::DataLossError(absl::StrCat(
          verified.status().message(),
          "; not exported: keep the file as evidence, or pass --force to export what it holds, "
          "marked as unverified"));
    }
  }
  std::ifstream in(options.log);
  if (!in) {
    return absl::InternalError(absl::StrCat("cannot read audit log ", options.log));
  }
  OrderedJson verification = VerificationJson(options, verified);
  OrderedJson entries = OrderedJson::array();
  DossierSummary summary;
  uint64_t lines = 0;
  std::string first_time, last_time, claimed_signer;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    OrderedJson record = OrderedJson::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) continue;  // only in a forced export of a broken log
    const std::string time = StringOr(record, "time", "");
    if (first_time.empty()) first_time = time;
    last_time = time;
    const bool checkpoint = StringOr(record, "event", "") == kAuditCheckpointEvent;
    if (checkpoint) {
      // In a verified log every checkpoint is good; in a forced export of a
      // broken one, this is what the file claims (the header says so).
      claimed_signer = StringOr(record, "signer", "");
      verification["last_checkpoint"] = {{"seq", UintOr(record, "seq", 0)},
                                         {"hash", StringOr(record, "hash", "")}};
    }
    if (options.from || options.to) {
      std::optional<absl::Time> t = RecordTime(record);
      if (!t || (options.from && *t < *options.from) || (options.to && *t > *options.to)) continue;
    }
    OrderedJson entry = EntryFromRecord(record);
    summary.Add(entry);
    entries.push_back(std::move(entry));
  }
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read audit log ", options.log));

  OrderedJson d;
  d["log"] = options.log;
  d["generated_at"] = FormatRecordTime(options.now);
  const bool proven = verified.ok() && verified->signatures_checked && !verified->signer.empty();
  std::string writer = verified.ok() ? verified->signer : claimed_signer;
  d["writer"] = writer.empty() ? OrderedJson(nullptr) : OrderedJson(writer);
  d["writer_verified"] = proven;
  d["period"] = {
      {"from", options.from ? OrderedJson(FormatRecordTime(*options.from)) : OrderedJson(nullptr)},
      {"to", options.to ? OrderedJson(FormatRecordTime(*options.to)) : OrderedJson(nullptr)}};
  d["verification"] = std::move(verification);
  d["records_in_log"] = lines;
  d["records_in_period"] = entries.size();
  d["first_time"] = first_time.empty() ? OrderedJson(nullptr) : OrderedJson(first_time);
  d["last_time"] = last_time.empty() ? OrderedJson(nullptr) : OrderedJson(last_time);
  d["entries"] = std::move(entries);
  d["summary"] = summary.ToJson();
  return d;
}

std::string AuditDossierToMarkdown(const OrderedJson& dossier) {
  std::string out = HeaderMarkdown(dossier);
  out += "\n## Records\n\n";
  const OrderedJson& entries = dossier["entries"];
  if (entries.empty()) out += "No records in the period.\n\n";
  for (const OrderedJson& entry : entries) {
    out += EntryMarkdown(entry);
    out += "\n";
  }
  out += SummaryMarkdown(dossier["summary"]);
  return out;
}

void AddAuditCommands(CLI::App& app, absl::Status& status) {
  // CLI11 writes the options into these during parse and the callbacks read
  // them afterwards. The callbacks, which `app` keeps, share ownership: that
  // keeps the arguments alive exactly as long as the commands.
  auto verify_args = std::make_shared<VerifyArgs>();
  auto export_args = std::make_shared<ExportArgs>();

  CLI::App* audit = app.add_subcommand(
      "audit",
      "check an audit log (a node's or the coordinator's data_dir/audit.jsonl) and "
      "export it for a data protection officer");
  audit->require_subcommand(1);

  CLI::App* verify = audit->add_subcommand(
      "verify", "prove the hash chain and the signed checkpoints; name the first broken record");
  verify->add_option("--log", verify_args->log, "the audit log, e.g. /var/lib/spoor/audit.jsonl")
      ->required();
  verify->add_option("--ca", verify_args->ca,
                     "the consortium CA certificate: check the checkpoints' signatures and "
                     "who made them (without it only the chain is proven)");
  verify->add_flag("--require-checkpoint", verify_args->require_checkpoint,
                   "fail when the last records are not yet covered by a signed checkpoint");
  verify->add_flag("--json", verify_args->json, "print JSON");
  verify->callback([verify_args, &status] { status = AuditVerifyCommand(*verify_args); });

  CLI::App* export_command = audit->add_subcommand(
      "export",
      "verify the log, then write a dossier (Markdown, or --json) of who asked for "
      "what and what left the node");
  export_command
      ->add_option("--log", export_args->log, "the audit log, e.g. /var/lib/spoor/audit.jsonl")
      ->required();
  export_command->add_option(
      "--from", export_args->from,
      "first day or time, e.g. 2026-11-01 or 2026-11-01T09:00:00Z (UTC; default: "
      "the first record)");
  export_command->add_option(
      "--to", export_args->to,
      "last day or time, inclusive, e.g. 2026-11-30 (default: the last record)");
  export_command->add_option("--ca", export_args->ca,
                             "the consortium CA certificate, to prove who wrote the log");
  export_command->add_flag("--force", export_args->force,
                           "export a log that fails verification; the dossier says it failed");
  export_command->add_flag("--json", export_args->json, "write JSON instead of Markdown");
  export_command->add_option("--out", export_args->out,
                             "write to this file (mode 0600), not stdout");
  export_command->callback([export_args, &status] { status = AuditExportCommand(*export_args); });
}

}  // namespace spoor
