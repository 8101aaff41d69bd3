#include "algorithms/catalogue.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "algorithms/disclosure_gate.h"

namespace spoor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 23 records: age with 1 missing, sex F/M, id with 23 distinct levels.
DataFrame Cohort() {
  std::vector<double> age;
  std::vector<int32_t> sex;
  std::vector<int32_t> id;
  std::vector<std::string> ids;
  for (int i = 0; i < 23; ++i) {
    age.push_back(i == 4 ? kNaN : 40 + i);
    sex.push_back(i % 2);
    id.push_back(i);
    ids.push_back(absl::StrCat("P", 100 + i));
  }
  absl::StatusOr<DataFrame> frame =
      DataFrame::Make({Column::Numeric("age", age), Column::Categorical("sex", {"F", "M"}, sex),
                       Column::Categorical("id", ids, id)});
  REQUIRE(frame.ok());
  return *std::move(frame);
}

v1::Aggregate Describe(const DataFrame& frame, const DisclosureRules& rules,
                       const DatasetMetadata* metadata = nullptr) {
  v1::Parameters none;
  LocalRequest request{none, none, 1, frame, &rules, metadata};
  absl::StatusOr<v1::Aggregate> aggregate = CatalogueAlgorithm().Local(request);
  REQUIRE(aggregate.ok());
  return *std::move(aggregate);
}

TEST_CASE("The catalogue rounds, withholds and passes the gate", "[catalogue]") {
  DisclosureRules rules;
  rules.max_levels = 10;
  DatasetMetadata metadata{"Cohort A",
                           "Adults followed since 1990",
                           "steward@a.example",
                           "CC-BY-4.0",
                           {"cardiology", "cohort"}};
  const v1::Aggregate aggregate = Describe(Cohort(), rules, &metadata);
  REQUIRE(aggregate.blocks_size() == 1);
  const v1::Block& block = aggregate.blocks(0);
  CHECK(block.record_count() == 20);  // 23 rounded down to a multiple of 10
  const v1::DatasetDescription& description = block.description();
  CHECK(description.title() == "Cohort A");
  CHECK(description.licence() == "CC-BY-4.0");
  CHECK(description.keywords_size() == 2);
  REQUIRE(description.variables_size() == 3);
  const v1::VariableDescription& age = description.variables(0);
  CHECK_FALSE(age.categorical());
  CHECK(age.missing_share() == Approx(0.05));  // 1/23 = 0.043, rounded up
  const v1::VariableDescription& sex = description.variables(1);
  CHECK(sex.categorical());
  CHECK(sex.levels_size() == 2);
  CHECK(sex.missing_share() == 0);
  const v1::VariableDescription& id = description.variables(2);
  CHECK(id.levels_withheld());
  CHECK(id.levels_size() == 0);
  CHECK_FALSE(DisclosureGate(rules).Check(aggregate).has_value());
}

TEST_CASE("The gate refuses a description that is not rounded", "[catalogue]") {
  DisclosureRules rules;
  rules.max_levels = 10;
  v1::Aggregate aggregate = Describe(Cohort(), rules);
  DisclosureGate gate(rules);

  v1::Aggregate exact = aggregate;
  exact.mutable_blocks(0)->set_record_count(23);
  std::optional<GateRefusal> refusal = gate.Check(exact);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "catalogue_rounding");
  CHECK(refusal->message.find("23") == std::string::npos);

  v1::Aggregate share = aggregate;
  share.mutable_blocks(0)->mutable_description()->mutable_variables(0)->set_missing_share(1.0 / 23);
  refusal = gate.Check(share);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "catalogue_rounding");

  v1::Aggregate levels = aggregate;
  v1::VariableDescription* id =
      levels.mutable_blocks(0)->mutable_description()->mutable_variables(2);
  for (int i = 0; i < 11; ++i) id->add_levels(absl::StrCat("Q", i));
  refusal = gate.Check(levels);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "max_levels");
}

TEST_CASE("A dataset smaller than min_records is not described", "[catalogue]") {
  DisclosureRules rules;
  rules.min_records = 50;
  const v1::Aggregate aggregate = Describe(Cohort(), rules);
  CHECK(aggregate.blocks(0).record_count() == 0);
  std::optional<GateRefusal> refusal = DisclosureGate(rules).Check(aggregate);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "min_records");
}

TEST_CASE("The catalogue's central step lists each node", "[catalogue]") {
  DisclosureRules rules;
  std::vector<NodeAggregate> aggregates = {{"a", Describe(Cohort(), rules)},
                                           {"b", Describe(Cohort(), rules)}};
  v1::Parameters none;
  absl::StatusOr<CentralStep> step = CatalogueAlgorithm().Central({none, none, 1, aggregates});
  REQUIRE(step.ok());
  REQUIRE(step->done);
  const v1::CatalogueResult& result = step->result.catalogue();
  REQUIRE(result.nodes_size() == 2);
  CHECK(result.nodes(1).node_id() == "b");
  CHECK(result.nodes(1).records_rounded() == 20);
  CHECK(result.nodes(1).description().variables_size() == 3);
}

}  // namespace
}  // namespace spoor
