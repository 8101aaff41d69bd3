#include "cli/output.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace spoor {

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::vector<Align>& align) {
  std::vector<size_t> width(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < width.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      std::string pad(width[c] - cell.size(), ' ');
      bool right = c < align.size() && align[c] == Align::kRight;
      absl::StrAppend(&out, c ? "  " : "", right ? pad + cell : cell + pad);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header);
  size_t total = 0;
  for (size_t c = 0; c < width.size(); ++c) total += width[c] + (c ? 2 : 0);
  out += std::string(total, '-') + "\n";
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string FormatNumber(double value, int digits) {
  if (std::isnan(value)) return "NA";
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, value);
  return buf;
}

nlohmann::ordered_json JsonNumber(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}

nlohmann::ordered_json SummaryToJson(const v1::SummaryResult& summary) {
  nlohmann::ordered_json variables = nlohmann::ordered_json::array();
  for (const v1::VariableSummary& v : summary.variables()) {
    variables.push_back({{"name", v.name()},
                         {"n", v.n()},
                         {"missing", v.missing()},
                         {"mean", JsonNumber(v.mean())},
                         {"sd", JsonNumber(v.sd())},
                         {"sites", v.sites()}});
  }
  return {{"variables", std::move(variables)}};
}

std::string SummaryToTable(const v1::SummaryResult& summary) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::VariableSummary& v : summary.variables()) {
    rows.push_back({v.name(), absl::StrCat(v.n()), absl::StrCat(v.missing()),
                    FormatNumber(v.mean()), FormatNumber(v.sd()), absl::StrCat(v.sites())});
  }
  return FormatTable({"variable", "n", "missing", "mean", "sd", "sites"}, rows,
                     {Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight,
                      Align::kRight});
}

std::string JobStateName(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_RUNNING: return "running";
    case v1::JOB_STATE_SUCCEEDED: return "succeeded";
    case v1::JOB_STATE_FAILED: return "failed";
    default: return "unknown";
  }
}

static std::string FormatTimestamp(const google::protobuf::Timestamp& t) {
  absl::Time time = absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

nlohmann::ordered_json JobToJson(const v1::Job& job) {
  nlohmann::ordered_json out = {
      {"job_id", job.job_id()},
      {"algorithm", job.spec().algorithm()},
      {"dataset", job.spec().dataset()},
      {"state", JobStateName(job.state())},
      {"round", job.round()},
      {"requester", job.requester().name()},
      {"organisation", job.requester().organisation()},
      {"nodes", std::vector<std::string>(job.participants().begin(), job.participants().end())},
      {"created_at", FormatTimestamp(job.created_at())},
      {"updated_at", FormatTimestamp(job.updated_at())}};
  if (job.state() == v1::JOB_STATE_FAILED) out["failure_reason"] = job.failure_reason();
  return out;
}

nlohmann::ordered_json NodeToJson(const v1::NodeStatus& node) {
  return {{"node_id", node.node_id()},
          {"organisation", node.organisation()},
          {"connected", node.connected()},
          {"datasets", std::vector<std::string>(node.datasets().begin(), node.datasets().end())},
          {"last_seen", FormatTimestamp(node.last_seen())},
          {"version", node.software_version()}};
}

}  // namespace spoor
