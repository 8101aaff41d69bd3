// Rendering results for people (aligned tables) and for scripts (one JSON
// object on stdout, nothing else).
#ifndef SPOOR_CLI_OUTPUT_H_
#define SPOOR_CLI_OUTPUT_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "spoor/v1/job.pb.h"
#include "spoor/v1/research.pb.h"

namespace spoor {

enum class Align { kLeft, kRight };

// A plain-text table: header, a rule, then rows; columns padded to width.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows,
                        const std::vector<Align>& align);

// `value` with `digits` significant digits, "NA" for NaN (as R prints).
std::string FormatNumber(double value, int digits = 6);

// JSON numbers; NaN and infinities become null.
nlohmann::ordered_json JsonNumber(double value);

nlohmann::ordered_json SummaryToJson(const v1::SummaryResult& summary);
std::string SummaryToTable(const v1::SummaryResult& summary);

// R's format.pval for summary tables: "< 2e-16" below machine precision,
// else three significant digits.
std::string FormatPValue(double p);

nlohmann::ordered_json GlmToJson(const v1::GlmResult& glm);
// R's summary.glm layout: the coefficient table with 95% Wald intervals,
// then dispersion, deviances, AIC, iterations and any warnings.
std::string GlmToText(const v1::GlmResult& glm);

// Any result, for `spoor job`: JSON, or text (empty when there is none).
nlohmann::ordered_json ResultToJson(const v1::Result& result);
std::string ResultToText(const v1::Result& result);

nlohmann::ordered_json JobToJson(const v1::Job& job);
nlohmann::ordered_json NodeToJson(const v1::NodeStatus& node);

std::string JobStateName(v1::JobState state);

}  // namespace spoor

#endif  // SPOOR_CLI_OUTPUT_H_
