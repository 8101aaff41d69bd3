#include "algorithms/disclosure_gate.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace spoor {
namespace {

v1::Aggregate WithBlock(int64_t records) {
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name("age");
  block->set_record_count(records);
  block->mutable_vector()->add_values(41.5);
  return aggregate;
}

TEST_CASE("the gate releases blocks backed by at least min_records", "[gate]") {
  DisclosureGate gate({.min_records = 10});
  CHECK_FALSE(gate.Check(WithBlock(10)).has_value());
  CHECK_FALSE(gate.Check(WithBlock(5000)).has_value());
  CHECK_FALSE(gate.Check(v1::Aggregate()).has_value());
}

TEST_CASE("min_records refuses small blocks, naming the rule but not the count", "[gate]") {
  DisclosureGate gate({.min_records = 10});
  std::optional<GateRefusal> refusal = gate.Check(WithBlock(7));
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "min_records");
  CHECK_THAT(refusal->message, Catch::Contains("'age'"));
  CHECK_THAT(refusal->message, !Catch::Contains("7"));
  CHECK_THAT(refusal->message, !Catch::Contains("41.5"));
}

TEST_CASE("the operator's threshold is honoured", "[gate]") {
  DisclosureGate strict({.min_records = 50});
  CHECK(strict.Check(WithBlock(49)).has_value());
  CHECK_FALSE(strict.Check(WithBlock(50)).has_value());
}

TEST_CASE("every block is judged, not only the first", "[gate]") {
  DisclosureGate gate({.min_records = 10});
  v1::Aggregate aggregate = WithBlock(100);
  v1::Block* small = aggregate.add_blocks();
  small->set_name("bmi");
  small->set_record_count(3);
  small->mutable_vector()->add_values(1);
  std::optional<GateRefusal> refusal = gate.Check(aggregate);
  REQUIRE(refusal.has_value());
  CHECK_THAT(refusal->message, Catch::Contains("'bmi'"));
}

TEST_CASE("untyped blocks and negative counts are refused", "[gate]") {
  DisclosureGate gate({.min_records = 1});
  v1::Aggregate untyped;
  untyped.add_blocks()->set_record_count(100);
  REQUIRE(gate.Check(untyped).has_value());
  CHECK(gate.Check(untyped)->rule == "typed_aggregate");
  CHECK(gate.Check(WithBlock(-1))->rule == "typed_aggregate");
}

TEST_CASE("the rules' defaults are the documented ones", "[gate]") {
  DisclosureRules rules;
  CHECK(rules.min_records == 10);
  CHECK(rules.min_cell_count == 5);
  CHECK(rules.max_parameter_fraction == 0.33);
  CHECK(rules.max_levels == 40);
  CHECK(rules.min_sites == 3);
}

v1::Aggregate WithTable(std::vector<int64_t> counts, int64_t records = 100) {
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name("stage_by_sex");
  block->set_record_count(records);
  v1::CountTable* table = block->mutable_count_table();
  table->add_row_labels("1");
  for (size_t c = 0; c < counts.size(); ++c) table->add_col_labels(std::to_string(c));
  for (int64_t count : counts) table->add_counts(count);
  return aggregate;
}

v1::Aggregate WithHistogram(std::vector<int64_t> counts, int64_t records = 100) {
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name("age_bins");
  block->set_record_count(records);
  v1::Histogram* histogram = block->mutable_histogram();
  for (size_t i = 0; i <= counts.size(); ++i) histogram->add_edges(10.0 * static_cast<double>(i));
  for (int64_t count : counts) histogram->add_counts(count);
  return aggregate;
}

// A p x p matrix backed by `records` records, with a consistent triangle.
v1::Aggregate WithMatrix(uint32_t p, int64_t records) {
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name("xtwx");
  block->set_record_count(records);
  v1::SymmetricMatrix* matrix = block->mutable_matrix();
  matrix->set_dimension(p);
  for (uint32_t i = 0; i < p * (p + 1) / 2; ++i) matrix->add_upper(1.0);
  return aggregate;
}

v1::Aggregate WithLevels(int levels) {
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name("hospital_ward");
  block->set_record_count(1000);
  for (int i = 0; i < levels; ++i) block->mutable_levels()->add_values("ward" + std::to_string(i));
  return aggregate;
}

TEST_CASE("min_cell_count refuses small non-zero cells, releases zeros and the boundary",
          "[gate]") {
  DisclosureGate gate(DisclosureRules{});
  CHECK_FALSE(gate.Check(WithTable({0, 5, 12, 0})).has_value());
  std::optional<GateRefusal> refusal = gate.Check(WithTable({20, 3, 12}));
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "min_cell_count");
  CHECK_THAT(refusal->message, Catch::Contains("'stage_by_sex'") && Catch::Contains("(5)"));
  CHECK_THAT(refusal->message, !Catch::Contains("3") && !Catch::Contains("20"));
  CHECK(gate.Check(WithTable({4}))->rule == "min_cell_count");
  CHECK(gate.Check(WithTable({-7, 50}))->rule == "min_cell_count");  // nonsense is refused

  DisclosureGate strict({.min_cell_count = 11});
  CHECK_FALSE(strict.Check(WithTable({11, 0})).has_value());
  CHECK(strict.Check(WithTable({10, 0})).has_value());
}

TEST_CASE("min_cell_count also judges histogram bins", "[gate]") {
  DisclosureGate gate(DisclosureRules{});
  CHECK_FALSE(gate.Check(WithHistogram({5, 0, 40})).has_value());
  std::optional<GateRefusal> refusal = gate.Check(WithHistogram({40, 2, 58}));
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "min_cell_count");
  CHECK_THAT(refusal->message, Catch::Contains("'age_bins'"));
  CHECK_THAT(refusal->message, !Catch::Contains("2") && !Catch::Contains("58"));
}

TEST_CASE("max_parameter_fraction refuses a matrix with too many parameters for its records",
          "[gate]") {
  DisclosureGate gate(DisclosureRules{});
  // p > 0.33 * n refuses; 33 = 0.33 * 100 is the boundary and is released.
  CHECK_FALSE(gate.Check(WithMatrix(33, 100)).has_value());
  std::optional<GateRefusal> refusal = gate.Check(WithMatrix(34, 100));
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "max_parameter_fraction");
  CHECK_THAT(refusal->message, Catch::Contains("'xtwx'") && Catch::Contains("(0.33)"));
  CHECK_THAT(refusal->message, !Catch::Contains("34") && !Catch::Contains("100"));
  CHECK_FALSE(gate.Check(WithMatrix(0, 10)).has_value());

  DisclosureGate half({.max_parameter_fraction = 0.5});
  CHECK_FALSE(half.Check(WithMatrix(10, 20)).has_value());
  CHECK(half.Check(WithMatrix(11, 20))->rule == "max_parameter_fraction");
}

TEST_CASE("a matrix whose triangle disagrees with its dimension is not a typed aggregate",
          "[gate]") {
  // An algorithm claiming a small dimension must not slip a large matrix past
  // max_parameter_fraction.
  DisclosureGate gate(DisclosureRules{});
  v1::Aggregate aggregate = WithMatrix(40, 100);
  aggregate.mutable_blocks(0)->mutable_matrix()->set_dimension(2);
  std::optional<GateRefusal> refusal = gate.Check(aggregate);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "typed_aggregate");
  CHECK_THAT(refusal->message, Catch::Contains("'xtwx'"));
}

TEST_CASE("max_levels refuses a levels block with more values than the limit", "[gate]") {
  DisclosureGate gate(DisclosureRules{});
  CHECK_FALSE(gate.Check(WithLevels(40)).has_value());
  std::optional<GateRefusal> refusal = gate.Check(WithLevels(41));
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "max_levels");
  CHECK_THAT(refusal->message, Catch::Contains("'hospital_ward'") && Catch::Contains("(40)"));
  CHECK_THAT(refusal->message, !Catch::Contains("41") && !Catch::Contains("ward0"));

  DisclosureGate strict({.max_levels = 3});
  CHECK_FALSE(strict.Check(WithLevels(3)).has_value());
  CHECK(strict.Check(WithLevels(4))->rule == "max_levels");
}

TEST_CASE("min_sites refuses jobs over fewer sites than the node's minimum", "[gate]") {
  DisclosureGate gate(DisclosureRules{});
  CHECK_FALSE(gate.CheckSites(3).has_value());
  CHECK_FALSE(gate.CheckSites(12).has_value());
  std::optional<GateRefusal> refusal = gate.CheckSites(2);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "min_sites");
  CHECK_THAT(refusal->message, Catch::Contains("(3)") && !Catch::Contains("2"));
  CHECK(gate.CheckSites(0).has_value());

  DisclosureGate single({.min_sites = 1});
  CHECK_FALSE(single.CheckSites(1).has_value());
  CHECK(single.CheckSites(0).has_value());
}

TEST_CASE("event-time blocks leave only where the policy allows them", "[gate]") {
  v1::Aggregate aggregate = WithBlock(100);
  aggregate.mutable_blocks(0)->set_kind(v1::BLOCK_KIND_EVENT_TIMES);
  DisclosureGate by_default{DisclosureRules{}};
  std::optional<GateRefusal> refusal = by_default.Check(aggregate);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "event_time_sums");
  CHECK_THAT(refusal->message, Catch::Contains("allow_event_time_sums"));
  CHECK_FALSE(DisclosureGate({.allow_event_time_sums = true}).Check(aggregate).has_value());
  // Other rules still apply to an allowed event-time block.
  aggregate.mutable_blocks(0)->set_record_count(3);
  CHECK(DisclosureGate({.allow_event_time_sums = true}).Check(aggregate)->rule == "min_records");
}

TEST_CASE("extremes leave only where the policy allows them", "[gate]") {
  v1::Aggregate aggregate = WithBlock(100);
  aggregate.mutable_blocks(0)->set_name("age/extremes");
  aggregate.mutable_blocks(0)->set_kind(v1::BLOCK_KIND_EXTREMES);
  std::optional<GateRefusal> refusal = DisclosureGate{DisclosureRules{}}.Check(aggregate);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "extremes");
  CHECK_THAT(refusal->message, Catch::Contains("'age/extremes'"));
  CHECK_THAT(refusal->message, Catch::Contains("allow_extremes"));
  CHECK_THAT(refusal->message, !Catch::Contains("41.5"));
  CHECK_FALSE(DisclosureGate({.allow_extremes = true}).Check(aggregate).has_value());
  // Other rules still apply to allowed extremes.
  aggregate.mutable_blocks(0)->set_record_count(3);
  CHECK(DisclosureGate({.allow_extremes = true}).Check(aggregate)->rule == "min_records");
}

TEST_CASE("quantile counts leave unless the policy refuses them", "[gate]") {
  v1::Aggregate aggregate = WithBlock(100);
  aggregate.mutable_blocks(0)->set_name("age/below");
  aggregate.mutable_blocks(0)->set_kind(v1::BLOCK_KIND_QUANTILE_COUNTS);
  CHECK_FALSE(DisclosureGate{DisclosureRules{}}.Check(aggregate).has_value());
  std::optional<GateRefusal> refusal = DisclosureGate({.allow_quantiles = false}).Check(aggregate);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "quantiles");
  CHECK_THAT(refusal->message, Catch::Contains("'age/below'"));
  CHECK_THAT(refusal->message, Catch::Contains("allow_quantiles"));
  aggregate.mutable_blocks(0)->set_record_count(3);
  CHECK(DisclosureGate{DisclosureRules{}}.Check(aggregate)->rule == "min_records");
  // The kind, not the name, decides: a renamed block is judged the same.
  aggregate.mutable_blocks(0)->set_record_count(100);
  aggregate.mutable_blocks(0)->set_name("innocent");
  CHECK(DisclosureGate({.allow_quantiles = false}).Check(aggregate)->rule == "quantiles");
}

TEST_CASE("min_time_bin releases times only as whole multiples of the bin", "[gate]") {
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name("sex=F/time");
  block->set_record_count(100);
  block->set_kind(v1::BLOCK_KIND_TIMES);
  for (double t : {30.0, 60.0, 3625.0}) block->mutable_vector()->add_values(t);
  // Exact times by default.
  CHECK_FALSE(DisclosureGate(DisclosureRules{}).Check(aggregate).has_value());
  // 3625 is not a multiple of 30 days.
  std::optional<GateRefusal> refusal = DisclosureGate({.min_time_bin = 30}).Check(aggregate);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "min_time_bin");
  CHECK_THAT(refusal->message, Catch::Contains("--time-bin 30"));
  CHECK_THAT(refusal->message, !Catch::Contains("3625"));
  block->mutable_vector()->set_values(2, 3660);
  CHECK_FALSE(DisclosureGate({.min_time_bin = 30}).Check(aggregate).has_value());
  CHECK_FALSE(DisclosureGate({.min_time_bin = 10}).Check(aggregate).has_value());
  // Blocks of other kinds are not times.
  block->set_kind(v1::BLOCK_KIND_UNSPECIFIED);
  block->mutable_vector()->set_values(0, 7);
  CHECK_FALSE(DisclosureGate({.min_time_bin = 30}).Check(aggregate).has_value());
}

TEST_CASE("every rule judges every block, whatever its name or position", "[gate]") {
  DisclosureGate gate(DisclosureRules{});
  v1::Aggregate aggregate = WithBlock(100);
  *aggregate.add_blocks() = WithLevels(2).blocks(0);
  *aggregate.add_blocks() = WithTable({30, 1}).blocks(0);
  aggregate.mutable_blocks(2)->set_name("age");  // a name an algorithm uses for vectors
  std::optional<GateRefusal> refusal = gate.Check(aggregate);
  REQUIRE(refusal.has_value());
  CHECK(refusal->rule == "min_cell_count");
  CHECK_THAT(refusal->message, Catch::Contains("'age'"));
}

TEST_CASE("container aggregates obey the container rules too", "[gate]") {
  DisclosureGate gate({.min_records = 10});
  const int64_t records = 200;
  // Sums of 20 columns over 200 records: released.
  v1::Aggregate sums;
  v1::Block* block = sums.add_blocks();
  block->set_name("sums");
  block->set_record_count(records);
  for (int i = 0; i < 20; ++i) block->mutable_vector()->add_values(i);
  CHECK_FALSE(gate.CheckContainer(sums, records).has_value());

  SECTION("the base rules still apply") {
    CHECK(gate.CheckContainer(WithBlock(7), records)->rule == "min_records");
  }
  SECTION("a column of values is row-level data, in one block or spread over many") {
    v1::Aggregate column;
    v1::Block* values = column.add_blocks();
    values->set_name("age");
    values->set_record_count(records);
    for (int i = 0; i < records; ++i) values->mutable_vector()->add_values(40 + i % 30);
    std::optional<GateRefusal> refusal = gate.CheckContainer(column, records);
    REQUIRE(refusal.has_value());
    CHECK(refusal->rule == "row_level");
    v1::Aggregate spread;
    for (int i = 0; i < records; ++i) {
      v1::Block* one = spread.add_blocks();
      one->set_name("v");
      one->set_record_count(records);
      one->mutable_vector()->add_values(i);
    }
    CHECK(gate.CheckContainer(spread, records)->rule == "row_level");
  }
  SECTION("no block may claim more records than the dataset holds") {
    CHECK(gate.CheckContainer(sums, records - 1)->rule == "container_records");
  }
  SECTION("special kinds are for the built-in algorithms only") {
    // Quantile counts pass the base rules by default; not from a container.
    block->set_kind(v1::BLOCK_KIND_QUANTILE_COUNTS);
    CHECK_FALSE(gate.Check(sums).has_value());
    CHECK(gate.CheckContainer(sums, records)->rule == "container_kind");
  }
}

}  // namespace
}  // namespace spoor
