#include "cli/output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

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

nlohmann::ordered_json CatalogueToJson(const std::string& dataset,
                                       const v1::CatalogueResult& catalogue) {
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  for (const v1::NodeCatalogue& node : catalogue.nodes()) {
    const v1::DatasetDescription& d = node.description();
    nlohmann::ordered_json variables = nlohmann::ordered_json::array();
    for (const v1::VariableDescription& v : d.variables()) {
      nlohmann::ordered_json variable = {{"name", v.name()},
                                         {"type", v.categorical() ? "categorical" : "numeric"},
                                         {"missing_share", v.missing_share()}};
      if (v.categorical()) {
        if (!v.levels_withheld()) {
          variable["levels"] = std::vector<std::string>(v.levels().begin(), v.levels().end());
        }
        variable["levels_withheld"] = v.levels_withheld();
      }
      variables.push_back(std::move(variable));
    }
    nodes.push_back(
        {{"node", node.node_id()},
         {"title", d.title()},
         {"description", d.description()},
         {"contact", d.contact()},
         {"licence", d.licence()},
         {"keywords", std::vector<std::string>(d.keywords().begin(), d.keywords().end())},
         {"records", node.records_rounded()},
         {"variables", std::move(variables)}});
  }
  return {{"dataset", dataset}, {"nodes", std::move(nodes)}};
}

std::string CatalogueToText(const std::string& dataset, const v1::CatalogueResult& catalogue) {
  std::string out = absl::StrCat("dataset '", dataset, "'\n");
  for (const v1::NodeCatalogue& node : catalogue.nodes()) {
    const v1::DatasetDescription& d = node.description();
    absl::StrAppend(&out, "\nnode ", node.node_id(), ": at least ", node.records_rounded(),
                    " records");
    if (!d.title().empty()) absl::StrAppend(&out, ", \"", d.title(), "\"");
    out += "\n";
    if (!d.description().empty()) absl::StrAppend(&out, "  ", d.description(), "\n");
    std::vector<std::string> facts;
    if (!d.contact().empty()) facts.push_back(absl::StrCat("contact: ", d.contact()));
    if (!d.licence().empty()) facts.push_back(absl::StrCat("licence: ", d.licence()));
    if (d.keywords_size() > 0) {
      facts.push_back(absl::StrCat("keywords: ", absl::StrJoin(d.keywords(), ", ")));
    }
    if (!facts.empty()) absl::StrAppend(&out, "  ", absl::StrJoin(facts, "; "), "\n");
    std::vector<std::vector<std::string>> rows;
    for (const v1::VariableDescription& v : d.variables()) {
      std::string levels;
      if (v.levels_withheld()) {
        levels = "(withheld: more than the node's max_levels)";
      } else {
        levels = absl::StrJoin(v.levels(), ", ");
      }
      rows.push_back({v.name(), v.categorical() ? "categorical" : "numeric",
                      absl::StrCat(std::lround(v.missing_share() * 100), "%"), levels});
    }
    out += "\n";
    out += FormatTable({"variable", "type", "missing", "levels"}, rows,
                       {Align::kLeft, Align::kLeft, Align::kRight, Align::kLeft});
  }
  return out;
}

nlohmann::ordered_json JsonNumber(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}

nlohmann::ordered_json SummaryToJson(const v1::SummaryResult& summary) {
  nlohmann::ordered_json variables = nlohmann::ordered_json::array();
  for (const v1::VariableSummary& v : summary.variables()) {
    nlohmann::ordered_json j = {{"name", v.name()},         {"n", v.n()},
                                {"missing", v.missing()},   {"mean", JsonNumber(v.mean())},
                                {"sd", JsonNumber(v.sd())}, {"sites", v.sites()}};
    // Asked-for extras only (NaN when not computed).
    for (const auto& [key, value] :
         {std::pair{"min", v.min()}, std::pair{"max", v.max()}, std::pair{"q1", v.q1()},
          std::pair{"median", v.median()}, std::pair{"q3", v.q3()}}) {
      if (!std::isnan(value)) j[key] = value;
    }
    variables.push_back(std::move(j));
  }
  return {{"variables", std::move(variables)}};
}

std::string SummaryToTable(const v1::SummaryResult& summary) {
  bool extremes = false, quantiles = false;
  for (const v1::VariableSummary& v : summary.variables()) {
    extremes = extremes || !std::isnan(v.min());
    quantiles = quantiles || !std::isnan(v.median());
  }
  std::vector<std::string> header = {"variable", "n", "missing", "mean", "sd"};
  if (extremes) header.push_back("min");
  if (quantiles) header.insert(header.end(), {"q1", "median", "q3"});
  if (extremes) header.push_back("max");
  header.push_back("sites");
  std::vector<std::vector<std::string>> rows;
  for (const v1::VariableSummary& v : summary.variables()) {
    std::vector<std::string> row = {v.name(), absl::StrCat(v.n()), absl::StrCat(v.missing()),
                                    FormatNumber(v.mean()), FormatNumber(v.sd())};
    if (extremes) row.push_back(FormatNumber(v.min()));
    if (quantiles) {
      row.insert(row.end(), {FormatNumber(v.q1()), FormatNumber(v.median()), FormatNumber(v.q3())});
    }
    if (extremes) row.push_back(FormatNumber(v.max()));
    row.push_back(absl::StrCat(v.sites()));
    rows.push_back(std::move(row));
  }
  std::vector<Align> align(header.size(), Align::kRight);
  align[0] = Align::kLeft;
  return FormatTable(header, rows, align);
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
  std::string out = FormatTable({"term", "estimate", "std_error", t ? "t value" : "z value",
                                 t ? "Pr(>|t|)" : "Pr(>|z|)", "2.5 %", "97.5 %"},
                                rows,
                                {Align::kLeft, Align::kRight, Align::kRight, Align::kRight,
                                 Align::kRight, Align::kRight, Align::kRight});
  if (aliased)
    out += "(terms marked NA are aliased: linearly dependent on the terms before them)\n";
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

// A count of a crosstab, or JSON null when it is withheld (suppressed).
template <typename Counts, typename Flags>
nlohmann::ordered_json CountOrNull(const Counts& counts, const Flags& withheld, int k) {
  if (k < withheld.size() && withheld[k]) return nullptr;
  return counts[k];
}

template <typename Counts, typename Flags>
std::string CountText(const Counts& counts, const Flags& withheld, int k) {
  if (k < withheld.size() && withheld[k]) return "*";
  return absl::StrCat(counts[k]);
}

nlohmann::ordered_json CrosstabToJson(const v1::CrosstabResult& crosstab) {
  const int cols = crosstab.col_labels_size();
  nlohmann::ordered_json counts = nlohmann::ordered_json::array();
  for (int i = 0; i < crosstab.row_labels_size(); ++i) {
    nlohmann::ordered_json row = nlohmann::ordered_json::array();
    for (int j = 0; j < cols && i * cols + j < crosstab.counts_size(); ++j) {
      row.push_back(CountOrNull(crosstab.counts(), crosstab.suppressed(), i * cols + j));
    }
    counts.push_back(std::move(row));
  }
  auto totals = [](const auto& values, const auto& withheld) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (int k = 0; k < values.size(); ++k) out.push_back(CountOrNull(values, withheld, k));
    return out;
  };
  auto texts = [](const auto& field) {
    return std::vector<std::string>(field.begin(), field.end());
  };
  return {{"rows", crosstab.row_variable()},
          {"cols", crosstab.col_variable()},
          {"row_labels", texts(crosstab.row_labels())},
          {"col_labels", texts(crosstab.col_labels())},
          {"counts", std::move(counts)},
          {"row_totals", totals(crosstab.row_totals(), crosstab.row_total_suppressed())},
          {"col_totals", totals(crosstab.col_totals(), crosstab.col_total_suppressed())},
          {"total", crosstab.total_suppressed() ? nlohmann::ordered_json(nullptr)
                                                : nlohmann::ordered_json(crosstab.total())},
          {"chi_square", JsonNumber(crosstab.chi_square())},
          {"df", crosstab.df()},
          {"p_value", JsonNumber(crosstab.p_value())},
          {"warnings", texts(crosstab.warnings())}};
}

std::string CrosstabToText(const v1::CrosstabResult& crosstab) {
  const int cols = crosstab.col_labels_size();
  std::vector<std::string> header = {
      absl::StrCat(crosstab.row_variable(), " \\ ", crosstab.col_variable())};
  header.insert(header.end(), crosstab.col_labels().begin(), crosstab.col_labels().end());
  header.push_back("total");
  std::vector<Align> align(header.size(), Align::kRight);
  align[0] = Align::kLeft;
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < crosstab.row_labels_size(); ++i) {
    std::vector<std::string> row = {crosstab.row_labels(i)};
    for (int j = 0; j < cols && i * cols + j < crosstab.counts_size(); ++j) {
      row.push_back(CountText(crosstab.counts(), crosstab.suppressed(), i * cols + j));
    }
    row.push_back(i < crosstab.row_totals_size()
                      ? CountText(crosstab.row_totals(), crosstab.row_total_suppressed(), i)
                      : "");
    rows.push_back(std::move(row));
  }
  std::vector<std::string> totals = {"total"};
  for (int j = 0; j < crosstab.col_totals_size(); ++j) {
    totals.push_back(CountText(crosstab.col_totals(), crosstab.col_total_suppressed(), j));
  }
  totals.push_back(crosstab.total_suppressed() ? "*" : absl::StrCat(crosstab.total()));
  rows.push_back(std::move(totals));
  // FormatTable's rule, again above the totals row.
  std::string out = FormatTable(header, rows, align);
  const size_t rule_start = out.find('\n') + 1;
  const std::string rule = out.substr(rule_start, out.find('\n', rule_start) + 1 - rule_start);
  const size_t last_line = out.rfind('\n', out.size() - 2) + 1;
  out.insert(last_line, rule);
  if (crosstab.df() > 0) {
    const std::string p = FormatPValue(crosstab.p_value());
    absl::StrAppend(&out, "\nPearson's chi-square: ", FormatNumber(crosstab.chi_square()), " on ",
                    crosstab.df(), " df, p ", p[0] == '<' ? p : absl::StrCat("= ", p), "\n");
  }
  for (const std::string& w : crosstab.warnings()) absl::StrAppend(&out, "Warning: ", w, "\n");
  return out;
}

namespace {

template <typename Field>
nlohmann::ordered_json JsonNumbers(const Field& values) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (double v : values) out.push_back(JsonNumber(v));
  return out;
}

}  // namespace

nlohmann::ordered_json KmToJson(const v1::KmResult& km) {
  nlohmann::ordered_json curves = nlohmann::ordered_json::array();
  for (const v1::KmCurve& c : km.curves()) {
    curves.push_back(
        {{"stratum", c.stratum()},
         {"n", c.n()},
         {"events", c.events()},
         {"median", JsonNumber(c.median())},
         {"time", JsonNumbers(c.time())},
         {"n_risk", std::vector<int64_t>(c.n_risk().begin(), c.n_risk().end())},
         {"n_event", std::vector<int64_t>(c.n_event().begin(), c.n_event().end())},
         {"survival", JsonNumbers(c.survival())},
         {"std_error", JsonNumbers(c.std_error())},
         {"conf_low", JsonNumbers(c.conf_low())},
         {"conf_high", JsonNumbers(c.conf_high())},
         {"censor_time", JsonNumbers(c.censor_time())},
         {"n_censor", std::vector<int64_t>(c.n_censor().begin(), c.n_censor().end())}});
  }
  return {{"curves", std::move(curves)}, {"time_bin", JsonNumber(km.time_bin())}};
}

std::string KmToText(const v1::KmResult& km) {
  std::string out;
  if (km.time_bin() > 0) {
    absl::StrAppend(&out, "Times binned by the nodes: each rounded up to a multiple of ",
                    FormatNumber(km.time_bin()), "\n\n");
  }
  // Four significant digits, as summary.survfit prints.
  constexpr int kDigits = 4;
  for (int k = 0; k < km.curves_size(); ++k) {
    const v1::KmCurve& c = km.curves(k);
    if (k > 0) out += "\n";
    absl::StrAppend(&out, c.stratum().empty() ? "all records" : c.stratum(), ": n = ", c.n(),
                    ", events = ", c.events(), ", median = ", FormatNumber(c.median()), "\n");
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < c.time_size(); ++i) {
      auto at = [i](const auto& field) { return i < field.size() ? field.Get(i) : NAN; };
      rows.push_back(
          {FormatNumber(c.time(i)), i < c.n_risk_size() ? absl::StrCat(c.n_risk(i)) : "",
           i < c.n_event_size() ? absl::StrCat(c.n_event(i)) : "",
           FormatNumber(at(c.survival()), kDigits), FormatNumber(at(c.std_error()), kDigits),
           FormatNumber(at(c.conf_low()), kDigits), FormatNumber(at(c.conf_high()), kDigits)});
    }
    out += FormatTable(
        {"time", "n.risk", "n.event", "survival", "std.err", "lower 95% CI", "upper 95% CI"}, rows,
        std::vector<Align>(7, Align::kRight));
  }
  return out;
}

nlohmann::ordered_json CoxToJson(const v1::CoxResult& cox) {
  nlohmann::ordered_json coefficients = nlohmann::ordered_json::array();
  for (const v1::CoxTerm& t : cox.coefficients()) {
    coefficients.push_back({{"term", t.term()},
                            {"estimate", JsonNumber(t.estimate())},
                            {"std_error", JsonNumber(t.std_error())},
                            {"hazard_ratio", JsonNumber(t.hazard_ratio())},
                            {"statistic", JsonNumber(t.statistic())},
                            {"p_value", JsonNumber(t.p_value())},
                            {"hr_low", JsonNumber(t.hr_low())},
                            {"hr_high", JsonNumber(t.hr_high())},
                            {"aliased", t.aliased()}});
  }
  return {{"coefficients", std::move(coefficients)},
          {"loglik", {JsonNumber(cox.loglik_initial()), JsonNumber(cox.loglik_final())}},
          {"lr_test", JsonNumber(cox.lr_test())},
          {"lr_p", JsonNumber(cox.lr_p())},
          {"wald_test", JsonNumber(cox.wald_test())},
          {"wald_p", JsonNumber(cox.wald_p())},
          {"score_test", JsonNumber(cox.score_test())},
          {"score_p", JsonNumber(cox.score_p())},
          {"df", cox.df()},
          {"n", cox.n()},
          {"events", cox.events()},
          {"iterations", cox.iterations()},
          {"converged", cox.converged()},
          {"ties", cox.ties()},
          {"pooled", cox.pooled()},
          {"warnings", std::vector<std::string>(cox.warnings().begin(), cox.warnings().end())}};
}

std::string CoxToText(const v1::CoxResult& cox) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::CoxTerm& t : cox.coefficients()) {
    if (t.aliased()) {
      rows.push_back({t.term(), "NA", "NA", "NA", "NA", "NA", "NA", "NA"});
      continue;
    }
    rows.push_back({t.term(), FormatNumber(t.estimate()), FormatNumber(t.hazard_ratio()),
                    FormatNumber(t.std_error()), FormatNumber(t.statistic(), 4),
                    FormatPValue(t.p_value()), FormatNumber(t.hr_low()),
                    FormatNumber(t.hr_high())});
  }
  std::string out = FormatTable(
      {"term", "coef", "exp(coef)", "se(coef)", "z", "Pr(>|z|)", "lower .95", "upper .95"}, rows,
      {Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight, Align::kRight,
       Align::kRight, Align::kRight});
  absl::StrAppend(&out, "\nn = ", cox.n(), ", number of events = ", cox.events(), "\n");
  auto test = [&](const char* name, double value, double p) {
    absl::StrAppend(&out, name, FormatNumber(value, 4), "  on ", cox.df(),
                    " df,   p = ", FormatPValue(p), "\n");
  };
  test("Likelihood ratio test = ", cox.lr_test(), cox.lr_p());
  test("Wald test             = ", cox.wald_test(), cox.wald_p());
  test("Score (logrank) test  = ", cox.score_test(), cox.score_p());
  absl::StrAppend(&out, "Ties: ", cox.ties(), "; baseline hazard: ",
                  cox.pooled() ? "one across all sites (pooled)" : "one per site (stratified)",
                  "; Newton-Raphson iterations: ", cox.iterations(), "\n");
  for (const std::string& w : cox.warnings()) absl::StrAppend(&out, "Warning: ", w, "\n");
  return out;
}

namespace {

nlohmann::ordered_json PooledEffect(double estimate, double std_error, double p) {
  return {{"estimate", JsonNumber(estimate)},
          {"std_error", JsonNumber(std_error)},
          {"p_value", JsonNumber(p)}};
}

}  // namespace

nlohmann::ordered_json MetaToJson(const v1::MetaResult& meta) {
  nlohmann::ordered_json terms = nlohmann::ordered_json::array();
  for (const v1::MetaTerm& t : meta.terms()) {
    nlohmann::ordered_json sites = nlohmann::ordered_json::array();
    for (const v1::MetaSiteEstimate& s : t.sites()) {
      sites.push_back({{"site", s.site()},
                       {"estimate", JsonNumber(s.estimate())},
                       {"std_error", JsonNumber(s.std_error())},
                       {"n", s.n()}});
    }
    terms.push_back(
        {{"term", t.term()},
         {"sites", std::move(sites)},
         {"fixed", PooledEffect(t.fixed_estimate(), t.fixed_std_error(), t.fixed_p_value())},
         {"random", PooledEffect(t.random_estimate(), t.random_std_error(), t.random_p_value())},
         {"tau2", JsonNumber(t.tau2())},
         {"q", JsonNumber(t.q())},
         {"q_df", t.q_df()},
         {"q_p_value", JsonNumber(t.q_p_value())},
         {"i2", JsonNumber(t.i2())}});
  }
  return {{"family", meta.family()}, {"link", meta.link()}, {"terms", std::move(terms)}};
}

std::string MetaToText(const v1::MetaResult& meta) {
  std::string out;
  for (const v1::MetaTerm& t : meta.terms()) {
    std::vector<std::vector<std::string>> rows;
    for (const v1::MetaSiteEstimate& s : t.sites()) {
      rows.push_back({s.site(), FormatNumber(s.estimate()), FormatNumber(s.std_error()),
                      absl::StrCat(s.n()), ""});
    }
    rows.push_back({"fixed effect", FormatNumber(t.fixed_estimate()),
                    FormatNumber(t.fixed_std_error()), "", FormatPValue(t.fixed_p_value())});
    rows.push_back({"random effects (DL)", FormatNumber(t.random_estimate()),
                    FormatNumber(t.random_std_error()), "", FormatPValue(t.random_p_value())});
    absl::StrAppend(
        &out, out.empty() ? "" : "\n", "term ", t.term(), "\n",
        FormatTable({"", "estimate", "std_error", "n", "p_value"}, rows,
                    {Align::kLeft, Align::kRight, Align::kRight, Align::kRight, Align::kRight}),
        "heterogeneity: tau^2 = ", FormatNumber(t.tau2(), 4), ", I^2 = ", FormatNumber(t.i2(), 3),
        "%, Q = ", FormatNumber(t.q(), 4), " on ", t.q_df(),
        " df, p = ", FormatPValue(t.q_p_value()), "\n");
  }
  return out;
}

namespace {

// The values of a container result in key order (a proto map has none).
std::map<std::string, const v1::Value*> SortedValues(const v1::ContainerResult& container) {
  std::map<std::string, const v1::Value*> sorted;
  for (const auto& [key, value] : container.values().values()) sorted[key] = &value;
  return sorted;
}

nlohmann::ordered_json ValueToJson(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kNumber:
      return JsonNumber(value.number());
    case v1::Value::kInteger:
      return value.integer();
    case v1::Value::kText:
      return value.text();
    case v1::Value::kFlag:
      return value.flag();
    case v1::Value::kNumbers:
      return JsonNumbers(value.numbers().values());
    case v1::Value::kTexts:
      return std::vector<std::string>(value.texts().values().begin(), value.texts().values().end());
    default:
      return nullptr;
  }
}

std::string ValueToText(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kNumber:
      return FormatNumber(value.number());
    case v1::Value::kInteger:
      return absl::StrCat(value.integer());
    case v1::Value::kText:
      return value.text();
    case v1::Value::kFlag:
      return value.flag() ? "true" : "false";
    case v1::Value::kNumbers:
      return absl::StrJoin(value.numbers().values(), ", ",
                           [](std::string* out, double v) { out->append(FormatNumber(v)); });
    case v1::Value::kTexts:
      return absl::StrJoin(value.texts().values(), ", ");
    default:
      return "";
  }
}

bool IsList(const v1::Value& value) { return value.has_numbers() || value.has_texts(); }

int ListSize(const v1::Value& value) {
  return value.has_numbers() ? value.numbers().values_size() : value.texts().values_size();
}

}  // namespace

nlohmann::ordered_json ContainerResultToJson(const v1::ContainerResult& container,
                                             const std::string& algorithm) {
  nlohmann::ordered_json values = nlohmann::ordered_json::object();
  for (const auto& [key, value] : SortedValues(container)) values[key] = ValueToJson(*value);
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!algorithm.empty()) out["algorithm"] = algorithm;
  out["values"] = std::move(values);
  return out;
}

std::string ContainerResultToText(const v1::ContainerResult& container) {
  const std::map<std::string, const v1::Value*> values = SortedValues(container);
  // A table when the lists line up: columns of one length N > 1.
  std::vector<std::string> text_lists, number_lists;
  std::set<int> sizes;
  for (const auto& [key, value] : values) {
    if (!IsList(*value)) continue;
    (value->has_texts() ? text_lists : number_lists).push_back(key);
    sizes.insert(ListSize(*value));
  }
  const bool table = sizes.size() == 1 && *sizes.begin() > 1;
  std::string out;
  if (table) {
    std::vector<std::string> header = text_lists;
    header.insert(header.end(), number_lists.begin(), number_lists.end());
    std::vector<Align> align(text_lists.size(), Align::kLeft);
    align.resize(header.size(), Align::kRight);
    std::vector<std::vector<std::string>> rows(*sizes.begin());
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
      for (const std::string& key : text_lists) {
        rows[i].push_back(values.at(key)->texts().values(i));
      }
      for (const std::string& key : number_lists) {
        rows[i].push_back(FormatNumber(values.at(key)->numbers().values(i)));
      }
    }
    out = FormatTable(header, rows, align);
  }
  std::string lines;
  for (const auto& [key, value] : values) {
    if (table && IsList(*value)) continue;
    absl::StrAppend(&lines, key, ": ", ValueToText(*value), "\n");
  }
  if (!out.empty() && !lines.empty()) out += "\n";
  return out + lines;
}

nlohmann::ordered_json ResultToJson(const v1::Result& result) {
  switch (result.kind_case()) {
    case v1::Result::kSummary:
      return SummaryToJson(result.summary());
    case v1::Result::kCount:
      return {{"records", result.count().records()}};
    case v1::Result::kGlm:
      return GlmToJson(result.glm());
    case v1::Result::kCox:
      return CoxToJson(result.cox());
    case v1::Result::kMeta:
      return MetaToJson(result.meta());
    case v1::Result::kCrosstab:
      return CrosstabToJson(result.crosstab());
    case v1::Result::kKm:
      return KmToJson(result.km());
    case v1::Result::kContainer:
      return ContainerResultToJson(result.container());
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
    case v1::Result::kCox:
      return CoxToText(result.cox());
    case v1::Result::kMeta:
      return MetaToText(result.meta());
    case v1::Result::kCrosstab:
      return CrosstabToText(result.crosstab());
    case v1::Result::kKm:
      return KmToText(result.km());
    case v1::Result::kContainer:
      return ContainerResultToText(result.container());
    default:
      return "";
  }
}

std::string JobStateName(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_RUNNING:
      return "running";
    case v1::JOB_STATE_SUCCEEDED:
      return "succeeded";
    case v1::JOB_STATE_FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

std::string FormatTimestamp(const google::protobuf::Timestamp& t) {
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

std::string AlgorithmStateName(v1::AlgorithmState state) {
  switch (state) {
    case v1::ALGORITHM_STATE_PENDING_REVIEW:
      return "pending_review";
    case v1::ALGORITHM_STATE_APPROVED:
      return "approved";
    case v1::ALGORITHM_STATE_REJECTED:
      return "rejected";
    case v1::ALGORITHM_STATE_REVOKED:
      return "revoked";
    default:
      return "unknown";
  }
}

std::string ShortDigest(const std::string& digest) {
  constexpr size_t kPrefix = 7 + 12;  // "sha256:" and 12 hex digits
  return digest.size() > kPrefix ? digest.substr(0, kPrefix) : digest;
}

std::string VerdictName(v1::Verdict verdict) {
  switch (verdict) {
    case v1::VERDICT_APPROVE:
      return "approve";
    case v1::VERDICT_REJECT:
      return "reject";
    default:
      return "unknown";
  }
}

nlohmann::ordered_json AlgorithmRecordToJson(const v1::AlgorithmRecord& record) {
  nlohmann::ordered_json parameters = nlohmann::ordered_json::array();
  for (const v1::AlgorithmParameter& p : record.parameters()) {
    parameters.push_back({{"name", p.name()},
                          {"type", p.type()},
                          {"required", p.required()},
                          {"description", p.description()}});
  }
  nlohmann::ordered_json reviews = nlohmann::ordered_json::array();
  for (const v1::Review& r : record.reviews()) {
    reviews.push_back({{"reviewer", r.reviewer()},
                       {"organisation", r.organisation()},
                       {"verdict", VerdictName(r.verdict())},
                       {"comment", r.comment()},
                       {"at", FormatTimestamp(r.at())}});
  }
  return {{"name", record.name()},
          {"version", record.version()},
          {"description", record.description()},
          {"manifest_digest", record.manifest_digest()},
          {"state", AlgorithmStateName(record.state())},
          {"signer", record.signer()},
          {"key_id", record.key_id()},
          {"parameters", std::move(parameters)},
          {"aggregates",
           std::vector<std::string>(record.aggregates().begin(), record.aggregates().end())},
          {"reviews", std::move(reviews)},
          {"registered_by", record.registered_by()},
          {"registered_organisation", record.registered_organisation()},
          {"registered_at", FormatTimestamp(record.registered_at())},
          {"revocation_reason", record.revocation_reason()},
          {"required_approvals", record.required_approvals()},
          {"required_organisations", record.required_organisations()}};
}

void PrintJson(const nlohmann::ordered_json& value) { std::cout << value.dump(2) << "\n"; }

}  // namespace spoor
