#include "algorithms/container_algorithm.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

namespace spoor {
namespace {

// Answers every request with a fixed response and remembers what it saw.
class FakeRunner final : public ContainerRunner {
 public:
  explicit FakeRunner(v1::ContainerResponse response) : response_(std::move(response)) {}
  absl::StatusOr<v1::ContainerResponse> Run(const v1::ContainerRequest& request,
                                            const v1::FrameData* frame) const override {
    last_request_ = request;
    last_rows_ = frame != nullptr ? frame->rows() : -1;
    return response_;
  }
  v1::ContainerResponse response_;
  mutable v1::ContainerRequest last_request_;
  mutable int64_t last_rows_ = -2;
};

DataFrame SmallFrame() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return *DataFrame::Make(
      {Column::Numeric("age", {41, nan, 63}), Column::Categorical("sex", {"F", "M"}, {0, 1, -1})});
}

AlgorithmInfo MeanInfo() {
  AlgorithmInfo info;
  info.name = "colmean";
  info.version = "1.0.0";
  info.parameters = {{"vars", "texts", true, "columns"}, {"scale", "number", false, ""}};
  info.aggregates = {"vector"};
  return info;
}

TEST_CASE("a frame crosses the process boundary unchanged", "[container]") {
  DataFrame frame = SmallFrame();
  absl::StatusOr<DataFrame> back = FrameFromProto(FrameToProto(frame));
  REQUIRE(back.ok());
  REQUIRE(back->num_rows() == 3);
  CHECK(back->Find("age")->numbers()[0] == 41);
  CHECK(std::isnan(back->Find("age")->numbers()[1]));
  CHECK(back->Find("sex")->levels() == std::vector<std::string>{"F", "M"});
  CHECK(back->Find("sex")->codes() == std::vector<int32_t>{0, 1, -1});

  v1::FrameData bad = FrameToProto(frame);
  bad.mutable_columns(1)->mutable_categorical()->set_codes(0, 7);
  CHECK(FrameFromProto(bad).status().code() == absl::StatusCode::kInvalidArgument);
  bad = FrameToProto(frame);
  bad.set_rows(4);
  CHECK(FrameFromProto(bad).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("parameters are checked against the manifest's declaration", "[container]") {
  AlgorithmInfo info = MeanInfo();
  v1::Parameters parameters;
  CHECK_THAT(std::string(CheckDeclaredParameters(info, parameters).message()),
             Catch::Contains("needs parameter 'vars'"));
  SetTextList(parameters, "vars", {"age"});
  CHECK(CheckDeclaredParameters(info, parameters).ok());
  SetText(parameters, "scale", "big");
  CHECK_THAT(std::string(CheckDeclaredParameters(info, parameters).message()),
             Catch::Contains("'scale' must be of type number"));
  SetNumber(parameters, "scale", 2);
  SetNumber(parameters, "bogus", 1);
  CHECK_THAT(std::string(CheckDeclaredParameters(info, parameters).message()),
             Catch::Contains("takes no parameter 'bogus'; it takes: vars, scale"));
}

TEST_CASE("the local step hands over the frame and passes on only an aggregate", "[container]") {
  DataFrame frame = SmallFrame();
  v1::Parameters parameters, state;
  SetTextList(parameters, "vars", {"age"});
  DisclosureRules rules{.min_records = 12};
  LocalRequest request{parameters, state, 2, frame, &rules};

  v1::ContainerResponse answer;
  answer.mutable_aggregate()->add_blocks()->set_name("sums");
  auto runner = std::make_unique<FakeRunner>(answer);
  const FakeRunner* seen = runner.get();
  ContainerAlgorithm algorithm("colmean@1.0.0", MeanInfo(), std::move(runner));
  CHECK(std::string(algorithm.name()) == "colmean@1.0.0");
  CHECK_FALSE(algorithm.built_in());
  absl::StatusOr<v1::Aggregate> aggregate = algorithm.Local(request);
  REQUIRE(aggregate.ok());
  CHECK(aggregate->blocks(0).name() == "sums");
  CHECK(seen->last_rows_ == 3);
  CHECK(seen->last_request_.local().round() == 2);
  CHECK(seen->last_request_.local().limits().min_records() == 12);
  CHECK(seen->last_request_.local().frame_path() == "/data/frame.pb");

  v1::ContainerResponse declined;
  declined.mutable_error()->set_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
  declined.mutable_error()->set_message("no column 'bmi'");
  ContainerAlgorithm declining("colmean@1.0.0", MeanInfo(), std::make_unique<FakeRunner>(declined));
  absl::Status status = declining.Local(request).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("no column 'bmi'"));

  v1::ContainerResponse wrong;
  wrong.mutable_central()->set_done(true);
  ContainerAlgorithm confused("colmean@1.0.0", MeanInfo(), std::make_unique<FakeRunner>(wrong));
  CHECK(confused.Local(request).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("the central step gets every node's aggregate and may finish", "[container]") {
  v1::Parameters parameters, state;
  std::vector<NodeAggregate> aggregates = {{"a", v1::Aggregate()}, {"b", v1::Aggregate()}};
  CentralRequest request{parameters, state, 1, aggregates};

  v1::ContainerResponse answer;
  answer.mutable_central()->set_done(true);
  (*answer.mutable_central()->mutable_result()->mutable_values()->mutable_values())["mean"]
      .set_number(4.5);
  auto runner = std::make_unique<FakeRunner>(answer);
  const FakeRunner* seen = runner.get();
  ContainerAlgorithm algorithm("colmean@1.0.0", MeanInfo(), std::move(runner));
  absl::StatusOr<CentralStep> step = algorithm.Central(request);
  REQUIRE(step.ok());
  CHECK(step->done);
  CHECK(step->result.container().values().values().at("mean").number() == 4.5);
  CHECK(seen->last_rows_ == -1);
  CHECK(seen->last_request_.central().aggregates_size() == 2);
  CHECK(seen->last_request_.central().aggregates(1).node_id() == "b");
}

}  // namespace
}  // namespace spoor
