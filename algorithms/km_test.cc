#include "algorithms/km.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "algorithms/csv_reader.h"
#include "algorithms/test_rounds.h"
#include "nlohmann/json.hpp"

namespace spoor {
namespace {

using Json = nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

v1::Parameters Params(const std::string& time, const std::string& event, const std::string& by = "",
                      double time_bin = 0) {
  v1::Parameters p;
  (*p.mutable_values())["time"].set_text(time);
  (*p.mutable_values())["event"].set_text(event);
  if (!by.empty()) (*p.mutable_values())["by"].set_text(by);
  if (time_bin > 0) (*p.mutable_values())["time_bin"].set_number(time_bin);
  return p;
}

// Runs the job as the coordinator would: Begin, then every node's Local and
// the Central step, round after round, until Central is done.
absl::StatusOr<v1::KmResult> RunJob(const KmAlgorithm& km, const v1::Parameters& params,
                                    const std::vector<DataFrame>& nodes, int* rounds = nullptr) {
  absl::Status valid = km.ValidateParameters(params);
  if (!valid.ok()) return valid;
  absl::StatusOr<v1::Parameters> state = km.Begin(params);
  if (!state.ok()) return state.status();
  for (int round = 1; round <= 5; ++round) {
    std::vector<NodeAggregate> aggregates;
    for (size_t k = 0; k < nodes.size(); ++k) {
      absl::StatusOr<v1::Aggregate> local = km.Local({params, *state, round, nodes[k]});
      if (!local.ok()) return local.status();
      aggregates.push_back({"node" + std::to_string(k + 1), *std::move(local)});
    }
    absl::StatusOr<CentralStep> step = km.Central({params, *state, round, aggregates});
    if (!step.ok()) return step.status();
    if (step->done) {
      if (rounds != nullptr) *rounds = round;
      return step->result.km();
    }
    state = step->next_round_state;
  }
  return absl::InternalError("km did not finish in 5 rounds");
}

DataFrame Frame(std::vector<double> time, std::vector<double> event,
                std::vector<std::string> levels = {}, std::vector<int32_t> codes = {}) {
  std::vector<Column> columns;
  const size_t n = time.size();
  columns.push_back(Column::Numeric("days", std::move(time)));
  columns.push_back(Column::Numeric("status", std::move(event)));
  if (codes.empty()) codes.assign(n, 0), levels = {"A"};
  columns.push_back(Column::Categorical("arm", std::move(levels), std::move(codes)));
  return *DataFrame::Make(std::move(columns));
}

// |a - b| <= tolerance * max(|a|, |b|); NaN only matches NaN (R's NA).
bool Close(double a, double b, double tolerance = 1e-12) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::abs(a - b) <= tolerance * std::max(std::abs(a), std::abs(b));
}

double Number(const Json& value) { return value.is_null() ? kNaN : value.get<double>(); }

template <typename Repeated>
void CheckSeries(const char* what, const Repeated& actual, const Json& expected) {
  INFO(what);
  REQUIRE(static_cast<size_t>(actual.size()) == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("row " << i << ": spoor " << actual[static_cast<int>(i)] << ", R " << expected[i].dump());
    CHECK(Close(static_cast<double>(actual[static_cast<int>(i)]), Number(expected[i])));
  }
}

template <typename Repeated>
void CheckCounts(const char* what, const Repeated& actual, const Json& expected) {
  INFO(what);
  REQUIRE(static_cast<size_t>(actual.size()) == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("row " << i);
    CHECK(static_cast<double>(actual[static_cast<int>(i)]) == expected[i].get<double>());
  }
}

// ---- Against R -----------------------------------------------------------

// Fixtures from tests/reference/km.R; tests run from the repository root.
constexpr char kReference[] = "tests/reference/";

TEST_CASE("km: three nodes equal R's survfit on the pooled data", "[km]") {
  const Json expected = testing::ReferenceJson("km_expected.json");
  std::vector<DataFrame> nodes;
  for (const Json& site : expected.at("sites")) {
    absl::StatusOr<DataFrame> frame =
        ReadCsvFile(std::string(kReference) + site.get<std::string>());
    REQUIRE(frame.ok());
    nodes.push_back(*std::move(frame));
  }
  REQUIRE(nodes.size() == 3);
  const std::string time = expected.at("time").get<std::string>();
  const std::string event = expected.at("event").get<std::string>();
  KmAlgorithm km;

  for (const Json& c : expected.at("cases")) {
    const std::string by = c.at("by").is_null() ? "" : c.at("by").get<std::string>();
    const double time_bin = c.at("time_bin").get<double>();
    INFO("by = '" << by << "', time_bin = " << time_bin);
    int rounds = 0;
    absl::StatusOr<v1::KmResult> result =
        RunJob(km, Params(time, event, by, time_bin), nodes, &rounds);
    INFO(result.status().ToString());
    REQUIRE(result.ok());
    CHECK(rounds == (by.empty() ? 1 : 2));
    CHECK(result->time_bin() == time_bin);
    const Json& curves = c.at("curves");
    REQUIRE(static_cast<size_t>(result->curves_size()) == curves.size());
    for (size_t s = 0; s < curves.size(); ++s) {
      const Json& r = curves[s];
      const v1::KmCurve& curve = result->curves(static_cast<int>(s));
      INFO("stratum " << r.at("stratum"));
      CHECK(curve.stratum() == r.at("stratum").get<std::string>());
      CHECK(curve.n() == r.at("n").get<int64_t>());
      CHECK(curve.events() == r.at("events").get<int64_t>());
      CHECK(Close(curve.median(), Number(r.at("median"))));
      CheckCounts("time", curve.time(), r.at("time"));
      CheckCounts("n.risk", curve.n_risk(), r.at("n_risk"));
      CheckCounts("n.event", curve.n_event(), r.at("n_event"));
      CheckSeries("surv", curve.survival(), r.at("surv"));
      CheckSeries("std.err", curve.std_error(), r.at("std_err"));
      CheckSeries("lower", curve.conf_low(), r.at("lower"));
      CheckSeries("upper", curve.conf_high(), r.at("upper"));
      CheckCounts("censor times", curve.censor_time(), r.at("censor_time"));
      CheckCounts("n.censor", curve.n_censor(), r.at("n_censor"));
    }
  }
}

// ---- What leaves a node --------------------------------------------------

TEST_CASE("km: a node sends per-time counts per stratum, binned when asked", "[km]") {
  KmAlgorithm km;
  // arm B, rows 3..5; row 6 has no arm and is not a complete case.
  DataFrame frame =
      Frame({1, 29, 30, 31, 5, 61, 7}, {1, 0, 1, 1, 0, 1, 1}, {"A", "B"}, {0, 0, 0, 0, 1, 1, -1});
  v1::Parameters params = Params("days", "status", "arm", 30);
  v1::Parameters state = *km.Begin(params);
  CHECK(state.values().at("phase").text() == "levels");
  absl::StatusOr<v1::Aggregate> levels = km.Local({params, state, 1, frame});
  REQUIRE(levels.ok());
  REQUIRE(levels->blocks_size() == 1);
  CHECK(levels->blocks(0).name() == "arm");
  CHECK(levels->blocks(0).record_count() == 6);
  CHECK(levels->blocks(0).levels().values_size() == 2);

  std::vector<NodeAggregate> aggregates = {{"n1", *levels}};
  absl::StatusOr<CentralStep> step = km.Central({params, state, 1, aggregates});
  REQUIRE(step.ok());
  REQUIRE_FALSE(step->done);
  state = step->next_round_state;
  absl::StatusOr<v1::Aggregate> counts = km.Local({params, state, 2, frame});
  REQUIRE(counts.ok());
  REQUIRE(counts->blocks_size() == 7);
  auto values = [](const v1::Block& b) {
    return std::vector<double>(b.vector().values().begin(), b.vector().values().end());
  };
  CHECK(counts->blocks(0).name() == "arm=A/time");
  CHECK(values(counts->blocks(0)) == std::vector<double>{30, 60});  // ceiling(t / 30) * 30
  CHECK(counts->blocks(1).name() == "arm=A/events");
  CHECK(values(counts->blocks(1)) == std::vector<double>{2, 1});
  CHECK(counts->blocks(2).name() == "arm=A/censored");
  CHECK(values(counts->blocks(2)) == std::vector<double>{1, 0});
  for (int i = 0; i < 3; ++i) CHECK(counts->blocks(i).record_count() == 4);
  CHECK(counts->blocks(3).name() == "arm=B/time");
  CHECK(values(counts->blocks(3)) == std::vector<double>{30, 90});
  CHECK(counts->blocks(5).record_count() == 2);
  CHECK(counts->blocks(6).name() == "event_codes");
  CHECK(counts->blocks(6).record_count() == 7);
}

TEST_CASE("km: numeric by levels sort as numbers and name strata as R does", "[km]") {
  KmAlgorithm km;
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("t", {3, 4, 5, 6, 7, 8}));
  columns.push_back(Column::Numeric("e", {1, 1, 0, 1, 1, 0}));
  columns.push_back(Column::Numeric("g", {10, 2, 2.5, 10, 2, 2.5}));
  DataFrame frame = *DataFrame::Make(std::move(columns));
  absl::StatusOr<v1::KmResult> result = RunJob(km, Params("t", "e", "g"), {frame});
  REQUIRE(result.ok());
  REQUIRE(result->curves_size() == 3);
  CHECK(result->curves(0).stratum() == "g=2");
  CHECK(result->curves(1).stratum() == "g=2.5");
  CHECK(result->curves(2).stratum() == "g=10");
}

// ---- Hand-checked curves -------------------------------------------------

TEST_CASE("km: median is the midpoint where the curve is exactly 0.5", "[km]") {
  KmAlgorithm km;
  // R: survfit(Surv(c(1,2,3,4), c(1,1,0,1)) ~ 1) has median 3 (S(2) = 0.5,
  // next drop at 4) and S(4) = 0 with std.err NaN and NA limits.
  absl::StatusOr<v1::KmResult> result =
      RunJob(km, Params("days", "status"), {Frame({1, 2, 3, 4}, {1, 1, 0, 1})});
  REQUIRE(result.ok());
  const v1::KmCurve& curve = result->curves(0);
  CHECK(curve.stratum() == "");
  CHECK(curve.n() == 4);
  CHECK(curve.events() == 3);
  CHECK(curve.median() == 3);
  REQUIRE(curve.time_size() == 3);
  CHECK(curve.survival(1) == 0.5);
  CHECK(curve.survival(2) == 0);
  CHECK(std::isnan(curve.std_error(2)));
  CHECK(std::isnan(curve.conf_low(2)));
  CHECK(std::isnan(curve.conf_high(2)));
  CHECK(curve.censor_time_size() == 1);
  CHECK(curve.censor_time(0) == 3);

  // R: survfit(Surv(c(1,2,2,3,4,5,5,6), c(1,1,0,1,0,1,1,1)) ~ 1,
  //            conf.type = "log-log"), summary() and print().
  result = RunJob(km, Params("days", "status"),
                  {Frame({1, 2, 2, 3}, {1, 1, 0, 1}), Frame({4, 5, 5, 6}, {0, 1, 1, 1})});
  REQUIRE(result.ok());
  const v1::KmCurve& pooled = result->curves(0);
  REQUIRE(pooled.time_size() == 5);
  CHECK(pooled.n_risk(3) == 3);
  CHECK(pooled.n_event(3) == 2);
  CHECK(Close(pooled.survival(3), 0.2));
  CHECK(Close(pooled.std_error(3), 0.1741647, 1e-6));
  CHECK(Close(pooled.conf_low(3), 0.009583794, 1e-6));
  CHECK(Close(pooled.conf_high(3), 0.5727365, 1e-6));
  CHECK(pooled.median() == 5);
}

TEST_CASE("km: a curve that stays above 0.5 has no median", "[km]") {
  KmAlgorithm km;
  absl::StatusOr<v1::KmResult> result =
      RunJob(km, Params("days", "status"), {Frame({1, 2, 3, 4, 5}, {1, 0, 0, 0, 0})});
  REQUIRE(result.ok());
  CHECK(std::isnan(result->curves(0).median()));
}

// ---- Event coding --------------------------------------------------------

TEST_CASE("km: events coded 1/2 or FALSE/TRUE give the 0/1 curves", "[km]") {
  KmAlgorithm km;
  std::vector<double> t1 = {5, 8, 8, 12, 15, 20}, t2 = {3, 8, 9, 14, 30};
  std::vector<double> e1 = {1, 0, 1, 1, 0, 1}, e2 = {0, 1, 1, 0, 1};
  auto plus_one = [](std::vector<double> v) {
    for (double& x : v) x += 1;
    return v;
  };
  absl::StatusOr<v1::KmResult> zero_one =
      RunJob(km, Params("days", "status"), {Frame(t1, e1), Frame(t2, e2)});
  absl::StatusOr<v1::KmResult> one_two =
      RunJob(km, Params("days", "status"), {Frame(t1, plus_one(e1)), Frame(t2, plus_one(e2))});
  REQUIRE(zero_one.ok());
  REQUIRE(one_two.ok());
  CHECK(zero_one->SerializeAsString() == one_two->SerializeAsString());

  // Logical at one node: a categorical column of FALSE/TRUE.
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("days", t2));
  columns.push_back(Column::Categorical("status", {"FALSE", "TRUE"}, {0, 1, 1, 0, 1}));
  DataFrame logical = *DataFrame::Make(std::move(columns));
  absl::StatusOr<v1::KmResult> mixed =
      RunJob(km, Params("days", "status"), {Frame(t1, e1), logical});
  REQUIRE(mixed.ok());
  CHECK(mixed->SerializeAsString() == zero_one->SerializeAsString());
}

TEST_CASE("km: a node with only 1s is all censored when the pooled coding is 1/2", "[km]") {
  KmAlgorithm km;
  // Pooled, R sees max(status) == 2, so node 2's 1s are censorings.
  absl::StatusOr<v1::KmResult> result = RunJob(
      km, Params("days", "status"), {Frame({1, 2, 3, 4}, {2, 1, 2, 2}), Frame({2, 5}, {1, 1})});
  REQUIRE(result.ok());
  absl::StatusOr<v1::KmResult> expected =
      RunJob(km, Params("days", "status"), {Frame({1, 2, 3, 4, 2, 5}, {1, 0, 1, 1, 0, 0})});
  REQUIRE(expected.ok());
  CHECK(result->SerializeAsString() == expected->SerializeAsString());
  CHECK(result->curves(0).events() == 3);

  // Without a 2 anywhere the same node's 1s are events.
  result = RunJob(km, Params("days", "status"),
                  {Frame({1, 2, 3, 4}, {1, 0, 1, 1}), Frame({2, 5}, {1, 1})});
  REQUIRE(result.ok());
  CHECK(result->curves(0).events() == 5);
}

TEST_CASE("km: bad event coding is INVALID_ARGUMENT and shows no values", "[km]") {
  KmAlgorithm km;
  absl::StatusOr<v1::KmResult> result =
      RunJob(km, Params("days", "status"), {Frame({1, 2, 3}, {0, 1, 7})});
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(result.status().message()), Catch::Contains("'status'"));
  CHECK_THAT(std::string(result.status().message()), !Catch::Contains("7"));

  // 0 with 2 at one node: neither 0/1 nor 1/2.
  result = RunJob(km, Params("days", "status"), {Frame({1, 2, 3}, {0, 1, 2})});
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);

  // ... or spread over two nodes, which only the coordinator can see.
  result = RunJob(km, Params("days", "status"),
                  {Frame({1, 2, 3}, {0, 1, 1}), Frame({1, 2, 3}, {1, 2, 2})});
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(result.status().message()), Catch::Contains("'status'"));

  // Text that is not a logical.
  std::vector<Column> columns;
  columns.push_back(Column::Numeric("days", {1, 2, 3}));
  columns.push_back(Column::Categorical("status", {"alive", "dead"}, {0, 1, 1}));
  DataFrame text = *DataFrame::Make(std::move(columns));
  result = RunJob(km, Params("days", "status"), {text});
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(result.status().message()), !Catch::Contains("dead"));

  // A categorical time.
  std::vector<Column> by_text;
  by_text.push_back(Column::Categorical("days", {"long", "short"}, {0, 1, 1}));
  by_text.push_back(Column::Numeric("status", {1, 0, 1}));
  result = RunJob(km, Params("days", "status"), {*DataFrame::Make(std::move(by_text))});
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(result.status().message()), !Catch::Contains("short"));
}

// ---- Errors --------------------------------------------------------------

TEST_CASE("km: a variable missing at a node is FAILED_PRECONDITION naming it", "[km]") {
  KmAlgorithm km;
  DataFrame frame = Frame({1, 2, 3}, {1, 0, 1});
  for (const char* missing : {"time", "event", "by"}) {
    v1::Parameters params = Params("days", "status", "arm");
    (*params.mutable_values())[missing].set_text("ecog");
    absl::StatusOr<v1::KmResult> result = RunJob(km, params, {frame});
    INFO(missing);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(result.status().message()), Catch::Contains("'ecog'"));
  }
}

TEST_CASE("km: parameters are checked before any node sees the job", "[km]") {
  KmAlgorithm km;
  CHECK(km.ValidateParameters(Params("days", "status")).ok());
  CHECK(km.ValidateParameters(Params("days", "status", "arm", 30)).ok());

  v1::Parameters no_event;
  (*no_event.mutable_values())["time"].set_text("days");
  CHECK(km.ValidateParameters(no_event).code() == absl::StatusCode::kInvalidArgument);
  CHECK(km.ValidateParameters(Params("days", "days")).code() == absl::StatusCode::kInvalidArgument);
  CHECK(km.ValidateParameters(Params("days", "status", "status")).code() ==
        absl::StatusCode::kInvalidArgument);

  v1::Parameters two_times = Params("days", "status");
  SetTextList(two_times, "time", {"a", "b"});
  CHECK(km.ValidateParameters(two_times).code() == absl::StatusCode::kInvalidArgument);

  for (double bin : {0.0, -1.0, kNaN, std::numeric_limits<double>::infinity()}) {
    v1::Parameters p = Params("days", "status");
    (*p.mutable_values())["time_bin"].set_number(bin);
    INFO("time_bin " << bin);
    absl::Status status = km.ValidateParameters(p);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(status.message()), Catch::Contains("time_bin"));
  }
  v1::Parameters text_bin = Params("days", "status");
  (*text_bin.mutable_values())["time_bin"].set_text("month");
  CHECK(km.ValidateParameters(text_bin).code() == absl::StatusCode::kInvalidArgument);
  v1::Parameters integer_bin = Params("days", "status");
  (*integer_bin.mutable_values())["time_bin"].set_integer(7);
  CHECK(km.ValidateParameters(integer_bin).ok());
}

TEST_CASE("km: the coordinator rejects a malformed aggregate", "[km]") {
  KmAlgorithm km;
  v1::Parameters params = Params("days", "status");
  v1::Parameters state = *km.Begin(params);
  absl::StatusOr<v1::Aggregate> good = km.Local({params, state, 1, Frame({1, 2, 3}, {1, 0, 1})});
  REQUIRE(good.ok());

  v1::Aggregate short_events = *good;
  short_events.mutable_blocks(1)->mutable_vector()->add_values(1);
  v1::Aggregate wrong_count = *good;
  wrong_count.mutable_blocks(0)->set_record_count(99);
  v1::Aggregate extra = *good;
  extra.add_blocks()->set_name("sex=F/time");
  v1::Aggregate no_codes = *good;
  no_codes.mutable_blocks()->RemoveLast();
  for (const v1::Aggregate& bad : {short_events, wrong_count, extra, no_codes}) {
    std::vector<NodeAggregate> aggregates = {{"n1", *good}, {"n2", bad}};
    absl::StatusOr<CentralStep> step = km.Central({params, state, 1, aggregates});
    REQUIRE_FALSE(step.ok());
    CHECK(step.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(step.status().message()), Catch::Contains("n2"));
  }
}

TEST_CASE("km: the builtin registry knows km", "[km]") {
  std::unique_ptr<AlgorithmRegistry> registry = MakeBuiltinRegistry();
  CHECK(registry->Find("km") != nullptr);
}

}  // namespace
}  // namespace spoor
