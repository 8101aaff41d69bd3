#include "common/masked_aggregate.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/pki.h"

namespace spoor::secagg {
namespace {

using Catch::Matchers::Contains;

struct Party {
  std::string id;
  AgreementKey key;
  v1::KeyAnnouncement announcement;
};

CertificateAndKey Ca() {
  static const CertificateAndKey ca = *CreateCertificateAuthority(CaOptions());
  return ca;
}

Party MakeParty(const std::string& id) {
  IssueOptions options;
  options.identity = {id, absl::StrCat("Hospital ", id), Role::kNode};
  CertificateAndKey cert = *IssueCertificate(Ca(), options);
  AgreementKey key = *AgreementKey::Generate();
  v1::KeyAnnouncement announcement;
  announcement.set_node_id(id);
  announcement.set_public_key(key.public_key());
  announcement.set_signature(*SignKeyAnnouncement(cert.private_key_pem, id, key.public_key()));
  announcement.set_certificate_pem(cert.certificate_pem);
  return {id, std::move(key), announcement};
}

// A GLM-like aggregate: levels (structure), a matrix, a vector and counts.
v1::Aggregate Sample(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> value(-1000, 1000);
  std::uniform_int_distribution<int64_t> count(0, 500);
  v1::Aggregate aggregate;
  v1::Block* levels = aggregate.add_blocks();
  levels->set_name("levels:stage");
  levels->set_record_count(count(rng));
  levels->mutable_levels()->add_values(std::string("I"));
  v1::Block* matrix = aggregate.add_blocks();
  matrix->set_name("xtwx");
  matrix->set_record_count(count(rng));
  matrix->mutable_matrix()->set_dimension(3);
  for (int i = 0; i < 6; ++i) matrix->mutable_matrix()->add_upper(value(rng));
  v1::Block* vector = aggregate.add_blocks();
  vector->set_name("xtwz");
  for (int i = 0; i < 3; ++i) vector->mutable_vector()->add_values(value(rng));
  v1::Block* table = aggregate.add_blocks();
  table->set_name("counts");
  table->mutable_count_table()->add_row_labels(std::string("a"));
  for (int i = 0; i < 4; ++i) table->mutable_count_table()->add_counts(count(rng));
  return aggregate;
}

TEST_CASE("three nodes' masked aggregates add up to the plain sum", "[secure]") {
  std::vector<Party> parties;
  for (const char* id : {"site-1", "site-2", "site-3"}) parties.push_back(MakeParty(id));
  v1::SecureAggregation secure;
  secure.set_fraction_bits(kDefaultFractionBits);
  for (const Party& p : parties) *secure.add_participants() = p.announcement;
  const MaskScope scope{"job-1", 2, 0};

  std::mt19937_64 rng(7);
  std::vector<double> expected;
  std::vector<v1::MaskedAggregate> masked;
  for (const Party& p : parties) {
    v1::Aggregate aggregate = Sample(rng);
    std::vector<double> values = SummedValues(aggregate);
    if (expected.empty()) expected.assign(values.size(), 0.0);
    for (size_t i = 0; i < values.size(); ++i) expected[i] += values[i];
    absl::StatusOr<v1::MaskedAggregate> one =
        MaskAggregate(aggregate, p.key, p.id, secure, scope, Ca().certificate_pem, absl::Now());
    REQUIRE(one.ok());
    // What leaves the node: structure without numbers, and masked numbers.
    CHECK(one->structure().blocks(0).levels().values(0) == "I");
    for (double v : SummedValues(one->structure())) CHECK(v == 0.0);
    masked.push_back(*one);
  }
  absl::StatusOr<v1::Aggregate> total = SumMaskedAggregates(masked, kDefaultFractionBits);
  REQUIRE(total.ok());
  std::vector<double> sums = SummedValues(*total);
  REQUIRE(sums.size() == expected.size());
  for (size_t i = 0; i < sums.size(); ++i) CHECK(sums[i] == Approx(expected[i]).margin(1e-9));
  CHECK(total->blocks(3).count_table().counts(0) ==
        static_cast<int64_t>(std::llround(expected[13])));

  // Without one node the total is noise, not a partial sum.
  masked.pop_back();
  absl::StatusOr<v1::Aggregate> partial = SumMaskedAggregates(masked, kDefaultFractionBits);
  REQUIRE(partial.ok());
  int close = 0;
  std::vector<double> partial_sums = SummedValues(*partial);
  for (size_t i = 0; i < partial_sums.size(); ++i) close += std::abs(partial_sums[i]) < 1e6;
  CHECK(close == 0);
}

TEST_CASE("a node refuses to mask for a substituted key or without itself", "[secure]") {
  Party a = MakeParty("site-1"), b = MakeParty("site-2");
  v1::Aggregate aggregate;
  aggregate.add_blocks()->mutable_vector()->add_values(1.0);
  v1::SecureAggregation secure;
  secure.set_fraction_bits(kDefaultFractionBits);
  *secure.add_participants() = a.announcement;
  v1::KeyAnnouncement forged = b.announcement;
  forged.set_public_key(AgreementKey::Generate()->public_key());  // the coordinator's key
  *secure.add_participants() = forged;
  absl::StatusOr<v1::MaskedAggregate> refused = MaskAggregate(
      aggregate, a.key, a.id, secure, {"job", 1, 0}, Ca().certificate_pem, absl::Now());
  CHECK(refused.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(std::string(refused.status().message()), Contains("site-2"));

  v1::SecureAggregation without_me;
  without_me.set_fraction_bits(kDefaultFractionBits);
  *without_me.add_participants() = b.announcement;
  CHECK(MaskAggregate(aggregate, a.key, a.id, without_me, {"job", 1, 0}, Ca().certificate_pem,
                      absl::Now())
            .status()
            .code() == absl::StatusCode::kPermissionDenied);
}

TEST_CASE("a NaN at one node makes that total NaN, as a plain sum would", "[secure]") {
  std::vector<Party> parties;
  for (const char* id : {"site-1", "site-2"}) parties.push_back(MakeParty(id));
  v1::SecureAggregation secure;
  secure.set_fraction_bits(kDefaultFractionBits);
  for (const Party& p : parties) *secure.add_participants() = p.announcement;
  std::vector<v1::MaskedAggregate> masked;
  for (size_t k = 0; k < parties.size(); ++k) {
    v1::Aggregate aggregate;
    v1::DenseVector* v = aggregate.add_blocks()->mutable_vector();
    v->add_values(1.5);
    v->add_values(k == 0 ? std::nan("") : 2.0);
    masked.push_back(*MaskAggregate(aggregate, parties[k].key, parties[k].id, secure, {"job", 1, 0},
                                    Ca().certificate_pem, absl::Now()));
  }
  absl::StatusOr<v1::Aggregate> total = SumMaskedAggregates(masked, kDefaultFractionBits);
  REQUIRE(total.ok());
  CHECK(total->blocks(0).vector().values(0) == 3.0);
  CHECK(std::isnan(total->blocks(0).vector().values(1)));
}

TEST_CASE("aggregates of different shapes are not added", "[secure]") {
  v1::MaskedAggregate one, two;
  one.mutable_structure()->add_blocks()->mutable_vector()->add_values(0);
  for (int i = 0; i < 4; ++i) one.add_masked(1);
  two.mutable_structure()->add_blocks()->mutable_vector();
  two.add_masked(1);
  two.add_masked(1);
  CHECK(SumMaskedAggregates({one, two}, 32).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace spoor::secagg
