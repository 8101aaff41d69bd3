#include "algorithms/container_algorithm.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/algorithm_reference.h"
#include "common/status.h"

namespace spoor {
namespace {

// The type name a manifest declares for a parameter, as the value holds it.
bool HasDeclaredType(const v1::Value& value, const std::string& type) {
  if (type == "number") {
    return value.kind_case() == v1::Value::kNumber || value.kind_case() == v1::Value::kInteger;
  }
  if (type == "text") return value.kind_case() == v1::Value::kText;
  if (type == "numbers") {
    return value.kind_case() == v1::Value::kNumbers || value.kind_case() == v1::Value::kNumber ||
           value.kind_case() == v1::Value::kInteger;
  }
  if (type == "texts") {
    return value.kind_case() == v1::Value::kTexts || value.kind_case() == v1::Value::kText;
  }
  return false;
}

v1::DisclosureLimits LimitsFor(const DisclosureRules* rules) {
  DisclosureRules defaults;
  const DisclosureRules& r = rules != nullptr ? *rules : defaults;
  v1::DisclosureLimits limits;
  limits.set_min_records(r.min_records);
  limits.set_min_cell_count(r.min_cell_count);
  limits.set_max_parameter_fraction(r.max_parameter_fraction);
  limits.set_max_levels(r.max_levels);
  return limits;
}

// The container's own refusal, passed on with its code (a code outside the
// known range becomes INTERNAL).
absl::Status StatusFromError(const v1::TaskError& error) {
  int code = error.code();
  if (code <= 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    code = static_cast<int>(absl::StatusCode::kInternal);
  }
  return absl::Status(static_cast<absl::StatusCode>(code),
                      absl::StrCat("the algorithm said: ", error.message()));
}

}  // namespace

absl::Status CheckDeclaredParameters(const AlgorithmInfo& info, const v1::Parameters& parameters) {
  absl::flat_hash_set<std::string> declared;
  for (const ParameterSpec& spec : info.parameters) {
    declared.insert(spec.name);
    auto it = parameters.values().find(spec.name);
    if (it == parameters.values().end()) {
      if (spec.required) {
        return absl::InvalidArgumentError(absl::StrCat(info.name, " needs parameter '", spec.name,
                                                       "' (", spec.type, "): pass --param ",
                                                       spec.name, "=..."));
      }
      continue;
    }
    if (!HasDeclaredType(it->second, spec.type)) {
      return absl::InvalidArgumentError(
          absl::StrCat(info.name, ": parameter '", spec.name, "' must be of type ", spec.type));
    }
  }
  for (const auto& [key, value] : parameters.values()) {
    if (!declared.contains(key)) {
      std::string known;
      for (const ParameterSpec& spec : info.parameters) {
        absl::StrAppend(&known, known.empty() ? "" : ", ", spec.name);
      }
      return absl::InvalidArgumentError(
          absl::StrCat(info.name, " takes no parameter '", key,
                       "'; it takes: ", known.empty() ? "none" : known));
    }
  }
  return absl::OkStatus();
}

ContainerAlgorithm::ContainerAlgorithm(std::string reference, AlgorithmInfo info,
                                       std::unique_ptr<const ContainerRunner> runner)
    : reference_(std::move(reference)), info_(std::move(info)), runner_(std::move(runner)) {}

absl::Status ContainerAlgorithm::ValidateParameters(const v1::Parameters& parameters) const {
  return CheckDeclaredParameters(info_, parameters);
}

absl::StatusOr<v1::Aggregate> ContainerAlgorithm::Local(const LocalRequest& request) const {
  v1::ContainerRequest container_request;
  v1::LocalStepRequest* local = container_request.mutable_local();
  *local->mutable_parameters() = request.parameters;
  *local->mutable_round_state() = request.round_state;
  local->set_round(request.round);
  local->set_frame_path("/data/frame.pb");
  *local->mutable_limits() = LimitsFor(request.rules);
  v1::FrameData frame = FrameToProto(request.frame);
  SPOOR_ASSIGN_OR_RETURN(v1::ContainerResponse response, runner_->Run(container_request, &frame));
  switch (response.outcome_case()) {
    case v1::ContainerResponse::kAggregate:
      return std::move(*response.mutable_aggregate());
    case v1::ContainerResponse::kError:
      return StatusFromError(response.error());
    default:
      return absl::FailedPreconditionError(
          absl::StrCat(reference_, ": the local step answered without an aggregate"));
  }
}

absl::StatusOr<CentralStep> ContainerAlgorithm::Central(const CentralRequest& request) const {
  v1::ContainerRequest container_request;
  v1::CentralStepRequest* central = container_request.mutable_central();
  *central->mutable_parameters() = request.parameters;
  *central->mutable_round_state() = request.round_state;
  central->set_round(request.round);
  for (const NodeAggregate& aggregate : request.aggregates) {
    v1::NodeAggregateEntry* entry = central->add_aggregates();
    entry->set_node_id(aggregate.node_id);
    *entry->mutable_aggregate() = aggregate.aggregate;
  }
  SPOOR_ASSIGN_OR_RETURN(v1::ContainerResponse response, runner_->Run(container_request, nullptr));
  if (response.has_error()) return StatusFromError(response.error());
  if (!response.has_central()) {
    return absl::FailedPreconditionError(
        absl::StrCat(reference_, ": the central step answered without a central result"));
  }
  CentralStep step;
  step.done = response.central().done();
  if (step.done) {
    *step.result.mutable_container() = response.central().result();
  } else {
    step.next_round_state = response.central().next_round_state();
  }
  return step;
}

ContainerAlgorithmCache::ContainerAlgorithmCache(std::string runc, std::string work_dir,
                                                 SandboxLimits limits)
    : work_dir_(std::move(work_dir)),
      sandbox_(std::move(runc), absl::StrCat(work_dir_, "/runc"), limits) {}

absl::StatusOr<std::shared_ptr<const Algorithm>> ContainerAlgorithmCache::Get(
    const v1::AlgorithmRecord& record, absl::FunctionRef<absl::StatusOr<OciImage>()> fetch) {
  {
    absl::MutexLock lock(&mu_);
    auto it = loaded_.find(record.manifest_digest());
    if (it != loaded_.end()) return it->second;
  }
  const std::string reference = AlgorithmReference(record.name(), record.version());
  SPOOR_ASSIGN_OR_RETURN(OciImage image, fetch());
  SPOOR_ASSIGN_OR_RETURN(ResolvedImage resolved, ResolveImage(image));
  if (resolved.manifest_digest != record.manifest_digest() ||
      resolved.algorithm.name != record.name() || resolved.algorithm.version != record.version()) {
    return absl::DataLossError(absl::StrCat("the image fetched for ", reference,
                                            " is not the signed one (manifest ",
                                            resolved.manifest_digest, ")"));
  }
  SPOOR_ASSIGN_OR_RETURN(
      ContainerImage prepared,
      PrepareContainerImage(absl::StrCat(work_dir_, "/images"), image, resolved));
  auto algorithm = std::make_shared<const ContainerAlgorithm>(
      reference, resolved.algorithm,
      std::make_unique<SandboxContainerRunner>(std::move(prepared), sandbox_, work_dir_));
  absl::MutexLock lock(&mu_);
  return loaded_.emplace(record.manifest_digest(), std::move(algorithm)).first->second;
}

}  // namespace spoor
