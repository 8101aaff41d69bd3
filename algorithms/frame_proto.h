// A data frame as a container algorithm reads it (v1::FrameData, written to
// /data/frame.pb), and back: the node's side and the SDK's side of the
// process boundary. No I/O, so that the SDK links it on its own.
#ifndef SPOOR_ALGORITHMS_FRAME_PROTO_H_
#define SPOOR_ALGORITHMS_FRAME_PROTO_H_

#include "absl/status/statusor.h"
#include "algorithms/data_frame.h"
#include "spoor/v1/container.pb.h"

namespace spoor {

v1::FrameData FrameToProto(const DataFrame& frame);

// INVALID_ARGUMENT for columns of unequal length, duplicate names, codes out
// of range or unsorted levels.
absl::StatusOr<DataFrame> FrameFromProto(const v1::FrameData& frame);

}  // namespace spoor

#endif  // SPOOR_ALGORITHMS_FRAME_PROTO_H_
