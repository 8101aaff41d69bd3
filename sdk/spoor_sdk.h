// The container algorithm SDK: what an algorithm author links to run the
// local and central steps of a spoor::Algorithm (algorithms/algorithm.h)
// inside a container, against the same typed requests and aggregates as the
// built-in algorithms.
//
//   class ColumnMean final : public spoor::Algorithm { ... Local ... Central ... };
//   int main(int argc, char** argv) { return spoor::sdk::Main(argc, argv, ColumnMean()); }
//
// Build it with the CMake function spoor_container_algorithm (sdk/CMakeLists.txt),
// which links it statically, then wrap it with `spoor algorithm package`.
// docs/algorithm-authors.md walks through one.
//
// The process boundary (proto/spoor/v1/container.proto): spoor starts the
// container with the request in /io/request.pb; a local step's data frame is
// in /data/frame.pb (read-only); the answer goes to /io/response.pb. Nothing
// else leaves: no network, a read-only root, a private /tmp. A step that
// fails answers with an error (code and message) instead of an aggregate;
// messages must name variables, never values.
#ifndef SPOOR_SDK_SPOOR_SDK_H_
#define SPOOR_SDK_SPOOR_SDK_H_

#include <string>

#include "algorithms/algorithm.h"
#include "spoor/v1/container.pb.h"

namespace spoor::sdk {

// Answers one request with `algorithm`: reads the request (and the frame for
// a local step), calls Local or Central, writes the response. Returns the
// process exit code: 0 when a response was written (an error answer
// included), 1 when none could be. For testing outside a container:
//   ALGORITHM --request FILE --response FILE [--frame FILE]
int Main(int argc, char** argv, const Algorithm& algorithm);

// The same as a function, for tests: `frame` is used for a local step.
v1::ContainerResponse Answer(const Algorithm& algorithm, const v1::ContainerRequest& request,
                             const v1::FrameData* frame);

}  // namespace spoor::sdk

#endif  // SPOOR_SDK_SPOOR_SDK_H_
