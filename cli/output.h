// Rendering results for people (aligned tables) and for scripts (one JSON
// object on stdout, nothing else).
#ifndef SPOOR_CLI_OUTPUT_H_
#define SPOOR_CLI_OUTPUT_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "spoor/v1/job.pb.h"
#include "spoor/v1/registry.pb.h"
#include "spoor/v1/research.pb.h"

namespace spoor {

enum class Align { kLeft, kRight };

// Prints `value` to stdout, indented by two, and a newline.
void PrintJson(const nlohmann::ordered_json& value);

// A plain-text table: header, a rule, then rows; columns padded to width.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::vector<Align>& align);

// `value` with `digits` significant digits, "NA" for NaN (as R prints).
std::string FormatNumber(double value, int digits = 6);

// JSON numbers; NaN and infinities become null.
nlohmann::ordered_json JsonNumber(double value);

// One dataset's catalogue: {"dataset", "nodes":[{"node", "title", "description",
// "contact", "licence", "keywords", "records", "variables":[{"name", "type",
// "missing_share", "levels" (absent when withheld), "levels_withheld"}]}]}.
nlohmann::ordered_json CatalogueToJson(const std::string& dataset,
                                       const v1::CatalogueResult& catalogue);
std::string CatalogueToText(const std::string& dataset, const v1::CatalogueResult& catalogue);

nlohmann::ordered_json SummaryToJson(const v1::SummaryResult& summary);
std::string SummaryToTable(const v1::SummaryResult& summary);

// R's format.pval for summary tables: "< 2e-16" below machine precision,
// else three significant digits.
std::string FormatPValue(double p);

nlohmann::ordered_json GlmToJson(const v1::GlmResult& glm);
// R's summary.glm layout: the coefficient table with 95% Wald intervals,
// then dispersion, deviances, AIC, iterations and any warnings.
std::string GlmToText(const v1::GlmResult& glm);

// docs/design.md's crosstab JSON: {"rows", "cols", "row_labels",
// "col_labels", "counts" (one array per row), "row_totals", "col_totals",
// "total", "chi_square", "df", "p_value", "warnings"}; a test that was not
// computed (NaN) is null.
nlohmann::ordered_json CrosstabToJson(const v1::CrosstabResult& crosstab);
// The table with row and column labels and totals (as R's
// addmargins(table(rows, cols)) prints it), then "Pearson's chi-square: X on
// DF df, p = P" (as chisq.test(correct = FALSE)) and any warnings.
std::string CrosstabToText(const v1::CrosstabResult& crosstab);

// docs/design.md's km JSON: {"curves": [{"stratum", "n", "events", "median",
// "time", "n_risk", "n_event", "survival", "std_error", "conf_low",
// "conf_high", "censor_time", "n_censor"}...], "time_bin"}. NaN (a standard
// error once S(t) = 0, a median never reached) is null.
nlohmann::ordered_json KmToJson(const v1::KmResult& km);
// Per stratum, its name with n, events and median, then the rows of R's
// summary(survfit()): time, n.risk, n.event, survival, std.err and the 95%
// limits (log-log).
std::string KmToText(const v1::KmResult& km);

nlohmann::ordered_json CoxToJson(const v1::CoxResult& cox);
// R's summary.coxph layout: coefficients with hazard ratios and their 95%
// intervals, then n, events and the three tests.
std::string CoxToText(const v1::CoxResult& cox);

nlohmann::ordered_json MetaToJson(const v1::MetaResult& meta);
// Per term: the sites' estimates, the fixed and random effects, and the
// heterogeneity statistics.
std::string MetaToText(const v1::MetaResult& meta);

// A container algorithm's result: {"algorithm" (only when not empty),
// "values": {key: number | string | bool | [numbers] | [strings]}}, keys
// sorted; a NaN or infinite number is null.
nlohmann::ordered_json ContainerResultToJson(const v1::ContainerResult& container,
                                             const std::string& algorithm = "");
// When every list value has the same length N > 1: a table with one column
// per list (text lists first, then number lists, each in key order) and
// below it the other values as "key: value" lines. Otherwise every value as
// a "key: value" line (lists comma-separated), in key order.
std::string ContainerResultToText(const v1::ContainerResult& container);

// Any result, for `spoor job`: JSON, or text (empty when there is none).
nlohmann::ordered_json ResultToJson(const v1::Result& result);
std::string ResultToText(const v1::Result& result);

nlohmann::ordered_json JobToJson(const v1::Job& job);
nlohmann::ordered_json NodeToJson(const v1::NodeStatus& node);

std::string JobStateName(v1::JobState state);

// "YYYY-MM-DDTHH:MM:SSZ" (UTC, to the second).
std::string FormatTimestamp(const google::protobuf::Timestamp& t);

// --- The algorithm registry. ---

// pending_review, approved, rejected, revoked ("unknown" otherwise).
std::string AlgorithmStateName(v1::AlgorithmState state);

// approve, reject ("unknown" otherwise).
std::string VerdictName(v1::Verdict verdict);

// "sha256:" and the first 12 hex digits: enough to tell images apart, and
// accepted as a digest prefix by `spoor node approvals`.
std::string ShortDigest(const std::string& digest);

// One record with snake_case keys: name, version, description,
// manifest_digest, state, signer, key_id, parameters [{name, type, required,
// description}], aggregates, reviews [{reviewer, organisation, verdict
// (approve|reject), comment, at}], registered_by, registered_organisation,
// registered_at, revocation_reason, required_approvals,
// required_organisations. Times are RFC 3339 UTC.
nlohmann::ordered_json AlgorithmRecordToJson(const v1::AlgorithmRecord& record);

}  // namespace spoor

#endif  // SPOOR_CLI_OUTPUT_H_
