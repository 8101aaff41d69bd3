#include "algorithms/disclosure_gate.h"

#include <catch2/catch.hpp>

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

}  // namespace
}  // namespace spoor
