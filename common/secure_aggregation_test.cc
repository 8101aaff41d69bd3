#include "common/secure_aggregation.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/pki.h"
#include "common/temp_dir_test_support.h"

namespace spoor::secagg {
namespace {

using Catch::Matchers::Contains;

// A fresh directory per test, removed afterwards.
using ::spoor::testing::TempDir;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

std::string Unhex(const char* hex) { return absl::HexStringToBytes(hex); }

// A participant of a test scope.
struct Party {
  std::string id;
  AgreementKey key;
};

std::vector<Party> MakeParties(int n) {
  std::vector<Party> parties;
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<AgreementKey> key = AgreementKey::Generate();
    REQUIRE(key.ok());
    parties.push_back({absl::StrCat("node-", i), *std::move(key)});
  }
  return parties;
}

// Parties with fixed keys, for tests whose outcome must not depend on luck.
std::vector<Party> MakeFixedParties(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Party> parties;
  for (int i = 0; i < n; ++i) {
    std::string raw(kPublicKeySize, '\0');
    for (char& c : raw) c = static_cast<char>(rng());
    absl::StatusOr<AgreementKey> key = AgreementKey::FromPrivateBytes(raw);
    REQUIRE(key.ok());
    parties.push_back({absl::StrCat("node-", i), *std::move(key)});
  }
  return parties;
}

std::vector<Peer> Roster(const std::vector<Party>& parties) {
  std::vector<Peer> roster;
  for (const Party& p : parties) roster.push_back({p.id, p.key.public_key()});
  return roster;
}

std::vector<uint64_t> MaskOf(const Party& self, const std::vector<Peer>& roster,
                             const MaskScope& scope, size_t length) {
  absl::StatusOr<std::vector<uint64_t>> mask =
      PairwiseMask(self.key, self.id, roster, scope, length);
  INFO(mask.status().ToString());
  REQUIRE(mask.ok());
  return *std::move(mask);
}

FixedPointCodec Codec(int fraction_bits, int participants) {
  absl::StatusOr<FixedPointCodec> codec = FixedPointCodec::Create(fraction_bits, participants);
  REQUIRE(codec.ok());
  return *codec;
}

std::vector<uint64_t> Mask(const std::vector<double>& values, const FixedPointCodec& codec,
                           const std::vector<uint64_t>& mask) {
  absl::StatusOr<std::vector<uint64_t>> masked = MaskValues(values, codec, mask);
  INFO(masked.status().ToString());
  REQUIRE(masked.ok());
  return *std::move(masked);
}

const MaskScope kScope{"job-42", 3, 0};

// --- X25519 ---

// RFC 7748 section 6.1.
constexpr char kAlicePrivate[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr char kAlicePublic[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr char kBobPrivate[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr char kBobPublic[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr char kSharedSecret[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

TEST_CASE("X25519 reproduces the RFC 7748 section 6.1 test vector", "[secagg]") {
  absl::StatusOr<AgreementKey> alice = AgreementKey::FromPrivateBytes(Unhex(kAlicePrivate));
  absl::StatusOr<AgreementKey> bob = AgreementKey::FromPrivateBytes(Unhex(kBobPrivate));
  REQUIRE(alice.ok());
  REQUIRE(bob.ok());
  CHECK(absl::BytesToHexString(alice->public_key()) == kAlicePublic);
  CHECK(absl::BytesToHexString(bob->public_key()) == kBobPublic);
  absl::StatusOr<std::string> alice_secret = alice->SharedSecret(bob->public_key());
  absl::StatusOr<std::string> bob_secret = bob->SharedSecret(alice->public_key());
  REQUIRE(alice_secret.ok());
  REQUIRE(bob_secret.ok());
  CHECK(absl::BytesToHexString(*alice_secret) == kSharedSecret);
  CHECK(absl::BytesToHexString(*bob_secret) == kSharedSecret);
}

TEST_CASE("AgreementKey::Generate makes distinct keys that agree", "[secagg]") {
  std::vector<Party> parties = MakeParties(2);
  CHECK(parties[0].key.public_key().size() == kPublicKeySize);
  CHECK(parties[0].key.public_key() != parties[1].key.public_key());
  absl::StatusOr<std::string> a = parties[0].key.SharedSecret(parties[1].key.public_key());
  absl::StatusOr<std::string> b = parties[1].key.SharedSecret(parties[0].key.public_key());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  CHECK(a->size() == 32);
}

TEST_CASE("AgreementKey rejects wrong-size keys and low-order peer points", "[secagg]") {
  CHECK(AgreementKey::FromPrivateBytes(std::string(31, 'x')).status().code() ==
        absl::StatusCode::kInvalidArgument);
  std::vector<Party> parties = MakeParties(1);
  const AgreementKey& key = parties[0].key;
  for (size_t size : {0, 31, 33, 65}) {
    absl::StatusOr<std::string> secret = key.SharedSecret(std::string(size, '\x09'));
    CHECK(secret.status().code() == absl::StatusCode::kInvalidArgument);
  }
  // Points of small order: X25519 of any scalar with them is all zeros.
  for (const char* point : {"0000000000000000000000000000000000000000000000000000000000000000",
                            "0100000000000000000000000000000000000000000000000000000000000000",
                            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
                            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
    INFO(point);
    absl::StatusOr<std::string> secret = key.SharedSecret(Unhex(point));
    CHECK(secret.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(Message(secret.status()), Contains("low-order"));
  }
}

// --- Masks ---

TEST_CASE("PairwiseMask matches an independent implementation", "[secagg]") {
  // Expected words computed with Python's `cryptography` package (X25519,
  // HKDF-SHA256, AES-256-CTR), not with this code:
  //   k = X25519(alice, bob) (the RFC 7748 keys above)
  //   seed = HKDF(SHA256, 32, salt=b"spoor secure aggregation v1",
  //               info=b"job-7\0" b"3\0" b"1\0" b"alice\0" b"bob").derive(k)
  //   words = struct.unpack("<5000Q", AES-CTR(seed, iv=0).update(bytes(40000)))
  absl::StatusOr<AgreementKey> alice = AgreementKey::FromPrivateBytes(Unhex(kAlicePrivate));
  absl::StatusOr<AgreementKey> bob = AgreementKey::FromPrivateBytes(Unhex(kBobPrivate));
  REQUIRE(alice.ok());
  REQUIRE(bob.ok());
  const MaskScope scope{"job-7", 3, 1};
  absl::StatusOr<std::vector<uint64_t>> alice_mask =
      PairwiseMask(*alice, "alice", {{"bob", bob->public_key()}}, scope, 5000);
  absl::StatusOr<std::vector<uint64_t>> bob_mask =
      PairwiseMask(*bob, "bob", {{"alice", alice->public_key()}}, scope, 5000);
  REQUIRE(alice_mask.ok());
  REQUIRE(bob_mask.ok());
  const std::pair<size_t, uint64_t> expected[] = {
      {0, 0x661e3e9d881e37f1ULL},   {1, 0x39ef227d3f6d9c0cULL},    {2, 0xb464422b09d6c80bULL},
      {3, 0x9897a7c578a83b3dULL},   {4095, 0x015baea3a89f9b1dULL}, {4096, 0xb0d9aac2294bafe6ULL},
      {4999, 0x48c2dac2d6e89876ULL}};
  for (const auto& [index, word] : expected) {
    INFO("index " << index);
    // "alice" < "bob": Alice adds the stream, Bob subtracts it.
    CHECK((*alice_mask)[index] == word);
    CHECK((*bob_mask)[index] == uint64_t{0} - word);
  }
}

TEST_CASE("The masks of all participants sum to zero mod 2^64", "[secagg]") {
  for (int n : {2, 3, 5}) {
    INFO(n << " participants");
    std::vector<Party> parties = MakeParties(n);
    std::vector<Peer> roster = Roster(parties);
    constexpr size_t kLength = 1000;
    std::vector<uint64_t> sum(kLength, 0);
    std::vector<std::vector<uint64_t>> masks;
    for (const Party& party : parties) {
      masks.push_back(MaskOf(party, roster, kScope, kLength));
      for (size_t i = 0; i < kLength; ++i) sum[i] += masks.back()[i];
    }
    CHECK(sum == std::vector<uint64_t>(kLength, 0));
    // And no mask is trivial: each is far from zero and from the others.
    for (size_t p = 0; p < masks.size(); ++p) {
      CHECK(std::count(masks[p].begin(), masks[p].end(), uint64_t{0}) == 0);
      for (size_t q = p + 1; q < masks.size(); ++q) CHECK(masks[p] != masks[q]);
    }
  }
}

TEST_CASE("PairwiseMask is deterministic and fresh for each job, round and attempt", "[secagg]") {
  std::vector<Party> parties = MakeParties(3);
  std::vector<Peer> roster = Roster(parties);
  const std::vector<uint64_t> base = MaskOf(parties[0], roster, kScope, 256);
  CHECK(MaskOf(parties[0], roster, kScope, 256) == base);
  // A shorter mask is a prefix of a longer one (the same keystream).
  std::vector<uint64_t> shorter = MaskOf(parties[0], roster, kScope, 10);
  CHECK(std::equal(shorter.begin(), shorter.end(), base.begin()));

  for (const MaskScope& other : {MaskScope{"job-43", 3, 0}, MaskScope{"job-42", 4, 0},
                                 MaskScope{"job-42", 3, 1}, MaskScope{"job-4", 23, 0}}) {
    INFO(other.job_id << " round " << other.round << " attempt " << other.attempt);
    std::vector<uint64_t> mask = MaskOf(parties[0], roster, other, 256);
    size_t equal = 0;
    for (size_t i = 0; i < mask.size(); ++i) equal += mask[i] == base[i];
    CHECK(equal == 0);
  }
}

TEST_CASE("PairwiseMask ignores peer order and an entry for the node itself", "[secagg]") {
  std::vector<Party> parties = MakeParties(5);
  std::vector<Peer> roster = Roster(parties);
  const std::vector<uint64_t> base = MaskOf(parties[2], roster, kScope, 100);

  std::vector<Peer> reversed(roster.rbegin(), roster.rend());
  CHECK(MaskOf(parties[2], reversed, kScope, 100) == base);
  std::vector<Peer> rotated = roster;
  std::rotate(rotated.begin(), rotated.begin() + 3, rotated.end());
  CHECK(MaskOf(parties[2], rotated, kScope, 100) == base);
  std::vector<Peer> without_self = roster;
  without_self.erase(without_self.begin() + 2);
  CHECK(MaskOf(parties[2], without_self, kScope, 100) == base);
}

TEST_CASE("PairwiseMask with no other participant is zero", "[secagg]") {
  std::vector<Party> parties = MakeParties(1);
  CHECK(MaskOf(parties[0], Roster(parties), kScope, 8) == std::vector<uint64_t>(8, 0));
  CHECK(MaskOf(parties[0], {}, kScope, 0).empty());
}

TEST_CASE("PairwiseMask rejects a bad roster or scope", "[secagg]") {
  std::vector<Party> parties = MakeParties(3);
  std::vector<Peer> roster = Roster(parties);
  auto code = [&](const std::vector<Peer>& peers, const MaskScope& scope,
                  std::string_view self_id = "node-0") {
    absl::StatusOr<std::vector<uint64_t>> mask =
        PairwiseMask(parties[0].key, self_id, peers, scope, 16);
    INFO(mask.status().ToString());
    return mask.status().code();
  };
  SECTION("a duplicate peer") {
    std::vector<Peer> peers = roster;
    peers.push_back(roster[1]);
    CHECK(code(peers, kScope) == absl::StatusCode::kInvalidArgument);
    // Even with a different key.
    peers.back().public_key = roster[2].public_key;
    CHECK(code(peers, kScope) == absl::StatusCode::kInvalidArgument);
    absl::StatusOr<std::vector<uint64_t>> mask =
        PairwiseMask(parties[0].key, "node-0", peers, kScope, 16);
    CHECK_THAT(Message(mask.status()), Contains("node-1") && Contains("twice"));
  }
  SECTION("the node itself listed with someone else's key") {
    std::vector<Peer> peers = roster;
    peers[0].public_key = roster[1].public_key;
    CHECK(code(peers, kScope) == absl::StatusCode::kInvalidArgument);
  }
  SECTION("a peer key of the wrong size or of low order") {
    std::vector<Peer> peers = roster;
    peers[1].public_key.pop_back();
    CHECK(code(peers, kScope) == absl::StatusCode::kInvalidArgument);
    peers[1].public_key = std::string(32, '\0');
    CHECK(code(peers, kScope) == absl::StatusCode::kInvalidArgument);
  }
  SECTION("bad ids and scopes") {
    std::vector<Peer> peers = roster;
    peers[1].node_id = "";
    CHECK(code(peers, kScope) == absl::StatusCode::kInvalidArgument);
    peers[1].node_id = std::string("node\0x", 6);
    CHECK(code(peers, kScope) == absl::StatusCode::kInvalidArgument);
    peers[1].node_id = std::string(256, 'n');
    CHECK(code(peers, kScope) == absl::StatusCode::kInvalidArgument);
    CHECK(code(roster, kScope, "") == absl::StatusCode::kInvalidArgument);
    CHECK(code(roster, MaskScope{std::string("job\0", 4), 1, 0}) ==
          absl::StatusCode::kInvalidArgument);
    CHECK(code(roster, MaskScope{"", 1, 0}) == absl::StatusCode::kInvalidArgument);
    CHECK(code(roster, MaskScope{"job", -1, 0}) == absl::StatusCode::kInvalidArgument);
    CHECK(code(roster, MaskScope{"job", 1, -1}) == absl::StatusCode::kInvalidArgument);
  }
}

// --- Statistical indistinguishability ---

// How far a vector of words is from uniform: the largest deviation of a bit
// position's set fraction from 1/2, in standard errors, and the chi-square
// statistic of the top byte over 256 buckets (255 degrees of freedom).
struct Uniformity {
  double worst_bit_sigmas = 0;
  double top_byte_chi2 = 0;
};

Uniformity Measure(const std::vector<uint64_t>& words) {
  const double n = static_cast<double>(words.size());
  std::vector<double> bit_counts(64, 0);
  std::vector<double> buckets(256, 0);
  for (uint64_t w : words) {
    for (int b = 0; b < 64; ++b) bit_counts[b] += (w >> b) & 1;
    buckets[w >> 56] += 1;
  }
  Uniformity u;
  const double sigma = std::sqrt(0.25 / n);
  for (double count : bit_counts) {
    u.worst_bit_sigmas = std::max(u.worst_bit_sigmas, std::fabs(count / n - 0.5) / sigma);
  }
  const double expected = n / 256;
  for (double count : buckets)
    u.top_byte_chi2 += (count - expected) * (count - expected) / expected;
  return u;
}

template <typename A, typename B>
double Pearson(const std::vector<A>& a, const std::vector<B>& b) {
  REQUIRE(a.size() == b.size());
  const double n = static_cast<double>(a.size());
  double mean_a = 0, mean_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    mean_a += static_cast<double>(a[i]) / n;
    mean_b += static_cast<double>(b[i]) / n;
  }
  double cov = 0, var_a = 0, var_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double da = static_cast<double>(a[i]) - mean_a;
    const double db = static_cast<double>(b[i]) - mean_b;
    cov += da * db;
    var_a += da * da;
    var_b += db * db;
  }
  return cov / std::sqrt(var_a * var_b);
}

TEST_CASE("A masked vector is indistinguishable from uniform random words", "[secagg]") {
  constexpr size_t kLength = 200000;
  // 5 sigma per bit position (64 of them); chi2 with 255 df has
  // P(chi2 > 400) < 1e-8.
  constexpr double kMaxBitSigmas = 5;
  constexpr double kMaxChi2 = 400;
  const FixedPointCodec codec = Codec(32, 3);
  // Fixed keys: the statistics are then the same on every run (random keys
  // would fail the 5-sigma bit test about once in 10^4 runs).
  std::vector<Party> parties = MakeFixedParties(3, 2017);
  std::vector<Peer> roster = Roster(parties);
  const std::vector<uint64_t> mask = MaskOf(parties[1], roster, kScope, kLength);

  for (double value : {42.0, 0.0}) {
    INFO("every input is " << value);
    const std::vector<double> values(kLength, value);
    const Uniformity masked = Measure(Mask(values, codec, mask));
    CHECK(masked.worst_bit_sigmas < kMaxBitSigmas);
    CHECK(masked.top_byte_chi2 < kMaxChi2);
    // The same statistics flag the unmasked encoding: the test has teeth.
    const Uniformity plain = Measure(Mask(values, codec, std::vector<uint64_t>(kLength, 0)));
    CHECK(plain.worst_bit_sigmas > 100);
    CHECK(plain.top_byte_chi2 > 1e5);
  }

  SECTION("masked vectors are uncorrelated with their inputs and each other") {
    std::mt19937_64 rng(20170930);
    std::uniform_real_distribution<double> uniform(-1000, 1000);
    std::vector<double> x(kLength), y(kLength);
    for (size_t i = 0; i < kLength; ++i) {
      x[i] = uniform(rng);
      y[i] = 2 * x[i] + 1;
    }
    REQUIRE(Pearson(x, y) > 0.999);
    const std::vector<uint64_t> masked_x = Mask(x, codec, mask);
    const std::vector<uint64_t> masked_y =
        Mask(y, codec, MaskOf(parties[1], roster, MaskScope{"job-42", 3, 1}, kLength));
    // |r| < 0.02 is about 9 standard errors (1 / sqrt(n) = 0.0022).
    CHECK(std::fabs(Pearson(masked_x, masked_y)) < 0.02);
    CHECK(std::fabs(Pearson(x, masked_x)) < 0.02);
    CHECK(std::fabs(Pearson(y, masked_y)) < 0.02);
  }
}

// --- Masked sums ---

TEST_CASE("UnmaskSum recovers the sum of the participants' values", "[secagg]") {
  constexpr size_t kLength = 1000;
  const FixedPointCodec codec = Codec(32, 3);
  std::vector<Party> parties = MakeParties(3);
  std::vector<Peer> roster = Roster(parties);
  std::mt19937_64 rng(7748);

  SECTION("real values to within the rounding of three encodings") {
    std::uniform_real_distribution<double> uniform(-1e4, 1e4);
    std::vector<double> plain_sum(kLength, 0);
    std::vector<std::vector<uint64_t>> masked;
    for (const Party& party : parties) {
      std::vector<double> values(kLength);
      for (size_t i = 0; i < kLength; ++i) {
        values[i] = uniform(rng);
        plain_sum[i] += values[i];
      }
      masked.push_back(Mask(values, codec, MaskOf(party, roster, kScope, kLength)));
    }
    absl::StatusOr<std::vector<double>> sum = UnmaskSum(masked, codec);
    REQUIRE(sum.ok());
    REQUIRE(sum->size() == kLength);
    const double tolerance = 3 * std::ldexp(1.0, -32);
    double worst = 0;
    for (size_t i = 0; i < kLength; ++i)
      worst = std::max(worst, std::fabs((*sum)[i] - plain_sum[i]));
    CHECK(worst <= tolerance);

    // Without one participant the masks do not cancel: the sum is noise.
    masked.pop_back();
    absl::StatusOr<std::vector<double>> partial = UnmaskSum(masked, codec);
    REQUIRE(partial.ok());
    size_t near = 0;
    for (size_t i = 0; i < kLength; ++i) near += std::fabs((*partial)[i] - plain_sum[i]) < 1e6;
    CHECK(near < 5);
  }

  SECTION("integer counts exactly") {
    std::uniform_int_distribution<int> counts(0, 1'000'000);
    std::vector<double> plain_sum(kLength, 0);
    std::vector<std::vector<uint64_t>> masked;
    for (const Party& party : parties) {
      std::vector<double> values(kLength);
      for (size_t i = 0; i < kLength; ++i) {
        values[i] = counts(rng);
        plain_sum[i] += values[i];
      }
      masked.push_back(Mask(values, codec, MaskOf(party, roster, kScope, kLength)));
    }
    absl::StatusOr<std::vector<double>> sum = UnmaskSum(masked, codec);
    REQUIRE(sum.ok());
    CHECK(*sum == plain_sum);
  }
}

TEST_CASE("MaskValues and UnmaskSum reject mismatched shapes", "[secagg]") {
  const FixedPointCodec codec = Codec(16, 2);
  CHECK(MaskValues({1, 2, 3}, codec, {0, 0}).status().code() == absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::vector<uint64_t>> too_big = MaskValues({1, 1e300, 3}, codec, {0, 0, 0});
  CHECK(too_big.status().code() == absl::StatusCode::kOutOfRange);
  CHECK_THAT(Message(too_big.status()), Contains("element 1"));
  CHECK(MaskValues({1, NAN}, codec, {0, 0}).status().code() == absl::StatusCode::kInvalidArgument);

  CHECK(UnmaskSum({}, codec).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(UnmaskSum({{1, 2}, {3}}, codec).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(UnmaskSum({{1}, {2}, {3}}, codec).status().code() == absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::vector<double>> empty_vectors = UnmaskSum({{}, {}}, codec);
  REQUIRE(empty_vectors.ok());
  CHECK(empty_vectors->empty());
}

// --- Fixed point ---

TEST_CASE("FixedPointCodec encodes two's complement fixed point", "[secagg]") {
  const FixedPointCodec codec = Codec(32, 3);
  const double two32 = std::ldexp(1.0, 32);
  CHECK(*codec.Encode(0.0) == 0);
  CHECK(*codec.Encode(-0.0) == 0);
  CHECK(*codec.Encode(1.0) == uint64_t{1} << 32);
  CHECK(*codec.Encode(-1.5) == static_cast<uint64_t>(int64_t{-3} << 31));
  CHECK(*codec.Encode(1 / two32) == 1);
  CHECK(*codec.Encode(-1 / two32) == ~uint64_t{0});
  // Below half a step rounds to zero; half a step rounds away from zero.
  CHECK(*codec.Encode(0.49 / two32) == 0);
  CHECK(*codec.Encode(0.5 / two32) == 1);
  for (double x : {0.0, 1.0, -1.0, -1.5, 3.25, -12345.75, 1e-9, -7e8}) {
    INFO(x);
    CHECK(codec.Decode(*codec.Encode(x)) == Approx(x).margin(0.5 / two32));
  }
  std::mt19937_64 rng(31);
  std::uniform_real_distribution<double> uniform(-1e6, 1e6);
  for (int i = 0; i < 10000; ++i) {
    const double x = uniform(rng);
    REQUIRE(std::fabs(codec.Decode(*codec.Encode(x)) - x) <= 0.5 / two32);
  }
}

TEST_CASE("FixedPointCodec range: bound() and its edges", "[secagg]") {
  const FixedPointCodec codec = Codec(32, 3);
  CHECK(codec.bound() == std::ldexp(1.0, 31) / 3);
  CHECK(Codec(0, 1).bound() == std::ldexp(1.0, 63));
  CHECK(Codec(52, 1).bound() == std::ldexp(1.0, 11));
  const double below = std::nextafter(codec.bound(), 0.0);
  for (double x : {below, -below}) {
    INFO(x);
    absl::StatusOr<uint64_t> encoded = codec.Encode(x);
    REQUIRE(encoded.ok());
    CHECK(codec.Decode(*encoded) == Approx(x).margin(1e-9));
  }
  // Three values just below the bound sum without wrapping, either sign.
  for (double x : {below, -below}) {
    const std::vector<uint64_t> zeros(1, 0);
    absl::StatusOr<std::vector<double>> sum = UnmaskSum(
        {Mask({x}, codec, zeros), Mask({x}, codec, zeros), Mask({x}, codec, zeros)}, codec);
    REQUIRE(sum.ok());
    CHECK((*sum)[0] == Approx(3 * x).margin(1e-8));
  }
  for (double x : {codec.bound(), -codec.bound(), 2 * codec.bound(), -1e300, 1e300}) {
    INFO(x);
    CHECK(codec.Encode(x).status().code() == absl::StatusCode::kOutOfRange);
  }

  SECTION("a value that rounds onto the bound is out of range too") {
    // 2^20 participants, no fraction bits: bound 2^43, and the largest
    // magnitude whose 2^20-fold sum fits in int64 is 2^43 - 1.
    const FixedPointCodec wide = Codec(0, 1 << 20);
    REQUIRE(wide.bound() == std::ldexp(1.0, 43));
    CHECK(wide.Encode(std::ldexp(1.0, 43) - 0.25).status().code() == absl::StatusCode::kOutOfRange);
    CHECK(wide.Encode(-(std::ldexp(1.0, 43) - 0.25)).status().code() ==
          absl::StatusCode::kOutOfRange);
    CHECK(*wide.Encode(std::ldexp(1.0, 43) - 1) == (uint64_t{1} << 43) - 1);
  }
}

TEST_CASE("FixedPointCodec errors: NaN, infinity, out of range, bad parameters", "[secagg]") {
  const FixedPointCodec codec = Codec(32, 3);
  for (double x :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity()}) {
    CHECK(codec.Encode(x).status().code() == absl::StatusCode::kInvalidArgument);
  }
  const double secret = 987654321012.375;
  absl::StatusOr<uint64_t> encoded = codec.Encode(secret);
  REQUIRE(encoded.status().code() == absl::StatusCode::kOutOfRange);
  const std::string message = Message(encoded.status());
  CHECK_THAT(message, Contains("32 fraction bits") && Contains("fewer fraction bits") &&
                          Contains(absl::StrFormat("%g", codec.bound())));
  // The value never appears, in any usual rendering.
  for (const std::string& rendering :
       {absl::StrCat(secret), absl::StrFormat("%g", secret), absl::StrFormat("%f", secret),
        absl::StrFormat("%e", secret), std::string("987654")}) {
    INFO(rendering);
    CHECK(message.find(rendering) == std::string::npos);
  }

  for (auto [bits, participants] :
       std::vector<std::pair<int, int>>{{-1, 1}, {53, 1}, {64, 1}, {32, 0}, {32, -3}}) {
    INFO(bits << " fraction bits, " << participants << " participants");
    CHECK(FixedPointCodec::Create(bits, participants).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

// --- Key announcements ---

CertificateAndKey MakeCa(const std::string& consortium) {
  CaOptions options;
  options.consortium = consortium;
  absl::StatusOr<CertificateAndKey> ca = CreateCertificateAuthority(options);
  REQUIRE(ca.ok());
  return *std::move(ca);
}

CertificateAndKey Issue(const CertificateAndKey& ca, const std::string& name, Role role,
                        absl::Duration validity = absl::Hours(24)) {
  IssueOptions options;
  options.identity.name = name;
  options.identity.organisation = "St Elsewhere Hospital";
  options.identity.role = role;
  options.validity = validity;
  absl::StatusOr<CertificateAndKey> issued = IssueCertificate(ca, options);
  INFO(issued.status().ToString());
  REQUIRE(issued.ok());
  return *std::move(issued);
}

std::string Sign(const CertificateAndKey& cert, const std::string& node_id,
                 const std::string& public_key) {
  absl::StatusOr<std::string> signature =
      SignKeyAnnouncement(cert.private_key_pem, node_id, public_key);
  INFO(signature.status().ToString());
  REQUIRE(signature.ok());
  return *std::move(signature);
}

TEST_CASE("Key announcements verify only for the right node, CA, key and time", "[secagg]") {
  const CertificateAndKey ca = MakeCa("test consortium");
  const CertificateAndKey node = Issue(ca, "node-1", Role::kNode);
  std::vector<Party> parties = MakeParties(2);
  const std::string& public_key = parties[0].key.public_key();
  const std::string signature = Sign(node, "node-1", public_key);
  const absl::Time now = absl::Now();

  REQUIRE(VerifyKeyAnnouncement(ca.certificate_pem, node.certificate_pem, "node-1", public_key,
                                signature, now)
              .ok());

  auto denied = [&](const absl::Status& status, const std::string& why) {
    INFO(status.ToString());
    CHECK(status.code() == absl::StatusCode::kPermissionDenied);
    CHECK_THAT(Message(status), Contains(why));
    // Never key or signature bytes.
    CHECK_THAT(Message(status), !Contains(absl::BytesToHexString(public_key).substr(0, 16)));
    CHECK_THAT(Message(status), !Contains(absl::BytesToHexString(signature).substr(0, 16)));
  };
  SECTION("another node's id") {
    denied(VerifyKeyAnnouncement(ca.certificate_pem, node.certificate_pem, "node-2", public_key,
                                 signature, now),
           "is for 'node-1'");
    // Even when node-1 signed the claim about node-2.
    denied(VerifyKeyAnnouncement(ca.certificate_pem, node.certificate_pem, "node-2", public_key,
                                 Sign(node, "node-2", public_key), now),
           "is for 'node-1'");
  }
  SECTION("a researcher's certificate with the node's name") {
    const CertificateAndKey researcher = Issue(ca, "node-1", Role::kResearcher);
    denied(VerifyKeyAnnouncement(ca.certificate_pem, researcher.certificate_pem, "node-1",
                                 public_key, Sign(researcher, "node-1", public_key), now),
           "role researcher");
  }
  SECTION("a certificate from another CA") {
    const CertificateAndKey other_ca = MakeCa("rogue consortium");
    const CertificateAndKey impostor = Issue(other_ca, "node-1", Role::kNode);
    denied(VerifyKeyAnnouncement(ca.certificate_pem, impostor.certificate_pem, "node-1", public_key,
                                 Sign(impostor, "node-1", public_key), now),
           "not one of this consortium's");
  }
  SECTION("a tampered or missing signature") {
    for (size_t at : {size_t{8}, signature.size() / 2, signature.size() - 1}) {
      std::string tampered = signature;
      tampered[at] ^= 0x01;
      denied(VerifyKeyAnnouncement(ca.certificate_pem, node.certificate_pem, "node-1", public_key,
                                   tampered, now),
             "signature");
    }
    denied(VerifyKeyAnnouncement(ca.certificate_pem, node.certificate_pem, "node-1", public_key, "",
                                 now),
           "signature");
    // A valid signature by another node's key.
    const CertificateAndKey node2 = Issue(ca, "node-2", Role::kNode);
    denied(VerifyKeyAnnouncement(ca.certificate_pem, node.certificate_pem, "node-1", public_key,
                                 Sign(node2, "node-1", public_key), now),
           "signature");
  }
  SECTION("a different agreement key (substituted by the coordinator)") {
    denied(VerifyKeyAnnouncement(ca.certificate_pem, node.certificate_pem, "node-1",
                                 parties[1].key.public_key(), signature, now),
           "signature");
    denied(VerifyKeyAnnouncement(ca.certificate_pem, node.certificate_pem, "node-1",
                                 public_key.substr(0, 31), signature, now),
           "31 bytes");
  }
  SECTION("an expired or not yet valid certificate") {
    const CertificateAndKey short_lived = Issue(ca, "node-1", Role::kNode, absl::Hours(1));
    const std::string short_signature = Sign(short_lived, "node-1", public_key);
    REQUIRE(VerifyKeyAnnouncement(ca.certificate_pem, short_lived.certificate_pem, "node-1",
                                  public_key, short_signature, now)
                .ok());
    denied(VerifyKeyAnnouncement(ca.certificate_pem, short_lived.certificate_pem, "node-1",
                                 public_key, short_signature, now + absl::Hours(2)),
           "expired");
    denied(VerifyKeyAnnouncement(ca.certificate_pem, short_lived.certificate_pem, "node-1",
                                 public_key, short_signature, now - absl::Hours(1)),
           "not yet valid");
  }
  SECTION("a certificate that does not parse") {
    denied(VerifyKeyAnnouncement(ca.certificate_pem, "not a certificate", "node-1", public_key,
                                 signature, now),
           "certificate");
  }
  SECTION("a CA that does not parse is the caller's error") {
    absl::Status status = VerifyKeyAnnouncement("not a CA", node.certificate_pem, "node-1",
                                                public_key, signature, now);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("SignKeyAnnouncement rejects bad inputs without quoting the key", "[secagg]") {
  const CertificateAndKey ca = MakeCa("test consortium");
  const CertificateAndKey node = Issue(ca, "node-1", Role::kNode);
  const std::string public_key(kPublicKeySize, '\x42');
  CHECK(SignKeyAnnouncement(node.private_key_pem, "", public_key).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(SignKeyAnnouncement(node.private_key_pem, "node\n1", public_key).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(SignKeyAnnouncement(node.private_key_pem, "node-1", "short").status().code() ==
        absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> garbled =
      SignKeyAnnouncement(node.private_key_pem.substr(0, 100), "node-1", public_key);
  CHECK(garbled.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(garbled.status()), !Contains(node.private_key_pem.substr(30, 40)));

  // An X25519 key is not a signing key.
  TempDir dir("spoor_secagg_test");
  const std::string path = dir.File("agreement.pem");
  REQUIRE(AgreementKey::LoadOrCreate(path).ok());
  absl::StatusOr<std::string> pem = ReadFile(path);
  REQUIRE(pem.ok());
  CHECK(SignKeyAnnouncement(*pem, "node-1", public_key).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

// --- Key files ---

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

TEST_CASE("AgreementKey::LoadOrCreate creates a private key file once", "[secagg]") {
  TempDir dir("spoor_secagg_test");
  const std::string path = dir.File("agreement.pem");
  absl::StatusOr<AgreementKey> created = AgreementKey::LoadOrCreate(path);
  REQUIRE(created.ok());
  CHECK(ModeOf(path) == 0600);
  absl::StatusOr<std::string> pem = ReadFile(path);
  REQUIRE(pem.ok());
  CHECK_THAT(*pem, Catch::Matchers::StartsWith("-----BEGIN PRIVATE KEY-----"));
  // No temporary file is left beside it.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.File("")),
                      std::filesystem::directory_iterator()) == 1);

  absl::StatusOr<AgreementKey> loaded = AgreementKey::LoadOrCreate(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->public_key() == created->public_key());
  CHECK(*ReadFile(path) == *pem);
  // The loaded key holds the private half too: it agrees with a peer.
  std::vector<Party> peer = MakeParties(1);
  CHECK(*loaded->SharedSecret(peer[0].key.public_key()) ==
        *peer[0].key.SharedSecret(created->public_key()));

  // A read-only owner-only file is fine as well.
  std::filesystem::permissions(path, std::filesystem::perms::owner_read);
  CHECK(AgreementKey::LoadOrCreate(path).ok());
}

TEST_CASE("AgreementKey::LoadOrCreate refuses a file others can read", "[secagg]") {
  TempDir dir("spoor_secagg_test");
  const std::string path = dir.File("agreement.pem");
  REQUIRE(AgreementKey::LoadOrCreate(path).ok());
  const std::string pem = *ReadFile(path);
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    INFO(absl::StrFormat("mode %o", mode));
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    absl::StatusOr<AgreementKey> key = AgreementKey::LoadOrCreate(path);
    CHECK(key.status().code() == absl::StatusCode::kPermissionDenied);
    CHECK_THAT(Message(key.status()), Contains(path) && Contains("chmod 600"));
    CHECK_THAT(Message(key.status()), !Contains(pem.substr(30, 20)));
  }
}

TEST_CASE("AgreementKey::LoadOrCreate refuses a file that is not an X25519 key", "[secagg]") {
  TempDir dir("spoor_secagg_test");
  const CertificateAndKey ca = MakeCa("test consortium");
  const std::string ec_path = dir.File("tls.pem");
  REQUIRE(WriteFileAtomically(ec_path, ca.private_key_pem, 0600).ok());
  absl::StatusOr<AgreementKey> ec = AgreementKey::LoadOrCreate(ec_path);
  CHECK(ec.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(Message(ec.status()), Contains(ec_path) && Contains("X25519"));
  CHECK_THAT(Message(ec.status()), !Contains(ca.private_key_pem.substr(30, 20)));
  // The file is left alone.
  CHECK(*ReadFile(ec_path) == ca.private_key_pem);

  const std::string garbage_path = dir.File("garbage.pem");
  REQUIRE(WriteFileAtomically(garbage_path, "hello", 0600).ok());
  CHECK(AgreementKey::LoadOrCreate(garbage_path).status().code() ==
        absl::StatusCode::kInvalidArgument);

  CHECK(AgreementKey::LoadOrCreate(dir.File("no/such/dir/key.pem")).status().code() ==
        absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace spoor::secagg
