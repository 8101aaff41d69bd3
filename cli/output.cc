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

std::string FormatPValue(double p) {
  if (std::isnan(p)) return "NA";
  if (p < 2e-16) return "< 2e-16";
  return FormatNumber(p, 3);
}

nlohmann::ordered_json GlmToJson(const v1::GlmResult& glm) {
  nlohmann::ordered_json coefficients = nlohmann::ordered_json::array();
  for (const v1::Coefficient& c : glm.coefficients()) {
    coefficients.push_back({{"term", c.term()},
                            {"estimate", JsonNumber(c.estimate())},
                            {"std_error", JsonNumber(c.std_error())},
                            {"statistic", JsonNumber(c.statistic())},
                            {"p_value", JsonNumber(c.p_value())},
                            {"conf_low", JsonNumber(c.conf_low())},
                            {"conf_high", JsonNumber(c.conf_high())},
                            {"aliased", c.aliased()}});
  }
  return {{"family", glm.family()},
          {"link", glm.link()},
          {"coefficients", std::move(coefficients)},
          {"deviance", JsonNumber(glm.deviance())},
          {"null_deviance", JsonNumber(glm.null_deviance())},
          {"df_residual", glm.df_residual()},
          {"df_null", glm.df_null()},
          {"aic", JsonNumber(glm.aic())},
          {"dispersion", JsonNumber(glm.dispersion())},
          {"iterations", glm.iterations()},
          {"converged", glm.converged()},
          {"n", glm.n()},
          {"warnings", std::vector<std::string>(glm.warnings().begin(), glm.warnings().end())}};
}

std::string GlmToText(const v1::GlmResult& glm) {
  const bool t = glm.family() == "gaussian";
  std::vector<std::vector<std::string>> rows;
  bool aliased = false;
  for (const v1::Coefficient& c : glm.coefficients()) {
    if (c.aliased()) {
      aliased = true;
      rows.push_back({c.term(), "NA", "NA", "NA", "NA", "NA", "NA"});
      continue;
    }
    rows.push_back({c.term(), FormatNumber(c.estimate()), FormatNumber(c.std_error()),
                    FormatNumber(c.statistic(), 4), FormatPValue(c.p_value()),
                    FormatNumber(c.conf_low()), FormatNumber(c.conf_high())});
  }
  std::string out = FormatTable(
      {"term", "estimate", "std_error", t ? "t value" : "z value", t ? "Pr(>|t|)" : "Pr(>|z|)",
       "2.5 %", "97.5 %"},
      rows,
      {Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight, Align::kRight,
       Align::kRight});
  if (aliased) out += "(terms marked NA are aliased: linearly dependent on the terms before them)\n";
  absl::StrAppend(&out, "\n(Dispersion parameter for ", glm.family(), " family taken to be ",
                  FormatNumber(glm.dispersion()), ")\n");
  absl::StrAppend(&out, "    Null deviance: ", FormatNumber(glm.null_deviance()), "  on ",
                  glm.df_null(), " degrees of freedom\n");
  absl::StrAppend(&out, "Residual deviance: ", FormatNumber(glm.deviance()), "  on ",
                  glm.df_residual(), " degrees of freedom\n");
  absl::StrAppend(&out, "AIC: ", FormatNumber(glm.aic()), "\n");
  absl::StrAppend(&out, "Number of Fisher Scoring iterations: ", glm.iterations(), "\n");
  absl::StrAppend(&out, "Complete cases: ", glm.n(), "\n");
  for (const std::string& w : glm.warnings()) absl::StrAppend(&out, "Warning: ", w, "\n");
  return out;
}

nlohmann::ordered_json ResultToJson(const v1::Result& result) {
  switch (result.kind_case()) {
    case v1::Result::kSummary:
      return SummaryToJson(result.summary());
    case v1::Result::kCount:
      return {{"records", result.count().records()}};
    case v1::Result::kGlm:
      return GlmToJson(result.glm());
    default:
      return nullptr;
  }
}

std::string ResultToText(const v1::Result& result) {
  switch (result.kind_case()) {
    case v1::Result::kSummary:
      return SummaryToTable(result.summary());
    case v1::Result::kCount:
      return absl::StrCat("records: ", result.count().records(), "\n");
    case v1::Result::kGlm:
      return GlmToText(result.glm());
    default:
      return "";
  }
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
