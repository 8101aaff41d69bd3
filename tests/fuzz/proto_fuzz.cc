// Fuzz target for the wire messages a node receives and the coordinator
// receives back (proto/spoor/v1/job.proto): any bytes must parse or fail, and
// the disclosure gate must judge any aggregate that parses without crashing.
#include <cstddef>
#include <cstdint>

#include "algorithms/disclosure_gate.h"
#include "spoor/v1/job.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // protobuf takes an int size; larger inputs are not meaningful here.
  if (size > (1u << 24)) return 0;
  const int length = static_cast<int>(size);

  spoor::v1::Task task;
  (void)task.ParseFromArray(data, length);

  spoor::v1::TaskResult result;
  if (result.ParseFromArray(data, length) && result.has_aggregate()) {
    const spoor::DisclosureGate gate{spoor::DisclosureRules{}};
    (void)gate.Check(result.aggregate());
    spoor::DisclosureRules permissive;
    permissive.allow_event_time_sums = true;
    permissive.allow_extremes = true;
    permissive.min_time_bin = 30;
    (void)spoor::DisclosureGate(permissive).Check(result.aggregate());
  }
  return 0;
}
