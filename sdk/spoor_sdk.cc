#include "sdk/spoor_sdk.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

#include "algorithms/frame_proto.h"

namespace spoor::sdk {
namespace {

v1::ContainerResponse ErrorResponse(const absl::Status& status) {
  v1::ContainerResponse response;
  response.mutable_error()->set_code(static_cast<int>(status.code()));
  response.mutable_error()->set_message(std::string(status.message()));
  return response;
}

bool ReadMessage(const std::string& path, google::protobuf::Message& message) {
  std::ifstream in(path, std::ios::binary);
  return in && message.ParseFromIstream(&in);
}

DisclosureRules RulesFrom(const v1::DisclosureLimits& limits) {
  DisclosureRules rules;
  if (limits.min_records() > 0) rules.min_records = limits.min_records();
  if (limits.min_cell_count() > 0) rules.min_cell_count = limits.min_cell_count();
  if (limits.max_parameter_fraction() > 0) {
    rules.max_parameter_fraction = limits.max_parameter_fraction();
  }
  if (limits.max_levels() > 0) rules.max_levels = limits.max_levels();
  return rules;
}

}  // namespace

v1::ContainerResponse Answer(const Algorithm& algorithm, const v1::ContainerRequest& request,
                             const v1::FrameData* frame) {
  if (request.has_local()) {
    const v1::LocalStepRequest& local = request.local();
    if (frame == nullptr) return ErrorResponse(absl::InternalError("no data frame was given"));
    absl::StatusOr<DataFrame> data = FrameFromProto(*frame);
    if (!data.ok()) return ErrorResponse(data.status());
    DisclosureRules rules = RulesFrom(local.limits());
    LocalRequest step{local.parameters(), local.round_state(), local.round(), *data, &rules};
    absl::StatusOr<v1::Aggregate> aggregate = algorithm.Local(step);
    if (!aggregate.ok()) return ErrorResponse(aggregate.status());
    v1::ContainerResponse response;
    *response.mutable_aggregate() = *std::move(aggregate);
    return response;
  }
  if (request.has_central()) {
    const v1::CentralStepRequest& central = request.central();
    std::vector<NodeAggregate> aggregates;
    for (const v1::NodeAggregateEntry& entry : central.aggregates()) {
      aggregates.push_back({entry.node_id(), entry.aggregate()});
    }
    CentralRequest step{central.parameters(), central.round_state(), central.round(), aggregates};
    absl::StatusOr<CentralStep> result = algorithm.Central(step);
    if (!result.ok()) return ErrorResponse(result.status());
    v1::ContainerResponse response;
    v1::CentralStepResponse* out = response.mutable_central();
    out->set_done(result->done);
    if (result->done) {
      if (!result->result.has_container()) {
        return ErrorResponse(absl::InternalError(
            "a container algorithm's central step must finish with a container result"));
      }
      *out->mutable_result() = result->result.container();
    } else {
      *out->mutable_next_round_state() = result->next_round_state;
    }
    return response;
  }
  return ErrorResponse(absl::InvalidArgumentError("the request names no step"));
}

int Main(int argc, char** argv, const Algorithm& algorithm) {
  std::string request_path = "/io/request.pb";
  std::string response_path = "/io/response.pb";
  std::string frame_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--request") {
      request_path = argv[i + 1];
    } else if (flag == "--response") {
      response_path = argv[i + 1];
    } else if (flag == "--frame") {
      frame_path = argv[i + 1];
    } else {
      std::cerr << algorithm.name() << ": unknown flag " << flag
                << "; use --request FILE --response FILE [--frame FILE]\n";
      return 1;
    }
  }
  v1::ContainerRequest request;
  v1::ContainerResponse response;
  v1::FrameData frame;
  bool have_frame = false;
  if (!ReadMessage(request_path, request)) {
    response = ErrorResponse(absl::InternalError("cannot read the request " + request_path));
  } else {
    if (request.has_local()) {
      if (frame_path.empty()) frame_path = request.local().frame_path();
      have_frame = ReadMessage(frame_path, frame);
    }
    if (request.has_local() && !have_frame) {
      response = ErrorResponse(absl::InternalError("cannot read the data frame " + frame_path));
    } else {
      response = Answer(algorithm, request, have_frame ? &frame : nullptr);
    }
  }
  std::ofstream out(response_path, std::ios::binary | std::ios::trunc);
  if (!out || !response.SerializeToOstream(&out)) {
    std::cerr << algorithm.name() << ": cannot write the response " << response_path << "\n";
    return 1;
  }
  out.close();
  return out ? 0 : 1;
}

}  // namespace spoor::sdk
