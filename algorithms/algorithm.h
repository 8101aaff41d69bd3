// The algorithm contract: a pair of pure functions over typed messages.
//
//   local:   (parameters, round state, local data frame) -> aggregate
//   central: (parameters, round state, aggregates of all nodes)
//              -> next round's state, or the final result
//
// Neither step does I/O or knows about gRPC, so both are unit-testable on
// their own. The node runs Local and passes its aggregate through the
// DisclosureGate; the coordinator runs Begin once and Central after each
// round. Implementations must be thread-safe (they are immutable).
#ifndef SPOOR_ALGORITHMS_ALGORITHM_H_
#define SPOOR_ALGORITHMS_ALGORITHM_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "algorithms/data_frame.h"
#include "algorithms/disclosure_gate.h"
#include "spoor/v1/aggregate.pb.h"
#include "spoor/v1/job.pb.h"
#include "spoor/v1/values.pb.h"

namespace spoor {

// A dataset's descriptive metadata, from the node operator's config
// (FAIR-style; shown by the catalogue).
struct DatasetMetadata {
  std::string title;
  std::string description;
  std::string contact;
  std::string licence;
  std::vector<std::string> keywords;
};

struct LocalRequest {
  const v1::Parameters& parameters;
  const v1::Parameters& round_state;
  int round = 1;
  const DataFrame& frame;
  // The node's disclosure rules, so that a local step can shape what it
  // releases to them (withhold rather than be refused). The gate checks the
  // result regardless. nullptr when unknown (unit tests).
  const DisclosureRules* rules = nullptr;
  // The dataset's metadata; nullptr when the node has none.
  const DatasetMetadata* metadata = nullptr;
};

struct NodeAggregate {
  std::string node_id;
  v1::Aggregate aggregate;
};

struct CentralRequest {
  const v1::Parameters& parameters;
  const v1::Parameters& round_state;
  int round = 1;
  // One entry per participating node, in participant order.
  const std::vector<NodeAggregate>& aggregates;
};

// What the central step decided: either another round with new state, or
// the final result.
struct CentralStep {
  bool done = false;
  v1::Parameters next_round_state;  // when !done
  v1::Result result;                // when done
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;

  virtual const char* name() const = 0;

  // Built in (reviewed with this code base), or a container algorithm whose
  // aggregates the node judges with the gate's extra container rules.
  virtual bool built_in() const { return true; }

  // Whether the algorithm runs under secure aggregation: its central step
  // only ever adds the nodes' summed numbers (record counts, counts, vector
  // and matrix values; common/masked_aggregate.h) across nodes, so that it
  // gives the same answer when it sees their total in the first node's
  // aggregate and zeros in the others'.
  virtual bool secure_aggregation() const { return false; }

  // Checks the researcher's parameters before any node sees the job.
  // INVALID_ARGUMENT saying which parameter is wrong and how to fix it.
  virtual absl::Status ValidateParameters(const v1::Parameters& parameters) const = 0;

  // The state of round 1. Default: empty.
  virtual absl::StatusOr<v1::Parameters> Begin(const v1::Parameters& parameters) const {
    return v1::Parameters();
  }

  // Runs at a node. INVALID_ARGUMENT / FAILED_PRECONDITION for problems with
  // the request or this node's data (e.g. a variable the dataset lacks);
  // messages name variables, never values.
  virtual absl::StatusOr<v1::Aggregate> Local(const LocalRequest& request) const = 0;

  // Runs at the coordinator once every node has answered the round.
  virtual absl::StatusOr<CentralStep> Central(const CentralRequest& request) const = 0;
};

// The algorithms a process knows, by name. Built once in main() and passed
// by reference; thread-safe for lookups after construction.
class AlgorithmRegistry {
 public:
  // FAILED_PRECONDITION if the name is already taken.
  absl::Status Register(std::unique_ptr<Algorithm> algorithm);
  // nullptr if unknown.
  const Algorithm* Find(const std::string& name) const;
  std::vector<std::string> Names() const;  // sorted

 private:
  absl::flat_hash_map<std::string, std::unique_ptr<Algorithm>> algorithms_;
};

// A registry holding every built-in algorithm.
std::unique_ptr<AlgorithmRegistry> MakeBuiltinRegistry();

// --- Parameter helpers shared by the algorithms. ---

// The text list under `key`; INVALID_ARGUMENT naming the key if absent or of
// another type.
absl::StatusOr<std::vector<std::string>> GetTextList(const v1::Parameters& parameters,
                                                     std::string_view key);
void SetTextList(v1::Parameters& parameters, std::string_view key,
                 const std::vector<std::string>& values);

// The value under `key`, or nullptr when absent.
const v1::Value* FindParameter(const v1::Parameters& parameters, std::string_view key);

// One text under `key` (a text, or a list of exactly one). INVALID_ARGUMENT
// naming the key when absent or of another type.
absl::StatusOr<std::string> GetText(const v1::Parameters& parameters, std::string_view key);

// A number under `key` (a number or an integer); `fallback` when absent.
// INVALID_ARGUMENT naming the key when of another type.
absl::StatusOr<double> GetNumber(const v1::Parameters& parameters, std::string_view key,
                                 double fallback);

// The numbers under `key` (a number list); INVALID_ARGUMENT naming the key
// when absent or of another type.
absl::StatusOr<std::vector<double>> GetNumbers(const v1::Parameters& parameters,
                                               std::string_view key);

void SetText(v1::Parameters& parameters, std::string_view key, std::string value);
void SetNumber(v1::Parameters& parameters, std::string_view key, double value);
void SetNumbers(v1::Parameters& parameters, std::string_view key,
                const std::vector<double>& values);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_ALGORITHM_H_
