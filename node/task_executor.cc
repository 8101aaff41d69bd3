#include "node/task_executor.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "algorithms/filter.h"
#include "common/algorithm_reference.h"
#include "common/log.h"
#include "common/status.h"

namespace spoor {
namespace {

constexpr size_t kRememberedResults = 1024;
constexpr size_t kRememberedFilters = 4;

const char* PayloadName(const v1::Block& block) {
  switch (block.payload_case()) {
    case v1::Block::kCountTable:
      return "count_table";
    case v1::Block::kVector:
      return "vector";
    case v1::Block::kMatrix:
      return "matrix";
    case v1::Block::kHistogram:
      return "histogram";
    case v1::Block::kLevels:
      return "levels";
    case v1::Block::kDescription:
      return "description";
    default:
      return "none";
  }
}

int64_t PayloadSize(const v1::Block& block) {
  switch (block.payload_case()) {
    case v1::Block::kCountTable:
      return block.count_table().counts_size();
    case v1::Block::kVector:
      return block.vector().values_size();
    case v1::Block::kMatrix:
      return block.matrix().upper_size();
    case v1::Block::kHistogram:
      return block.histogram().counts_size();
    case v1::Block::kLevels:
      return block.levels().values_size();
    case v1::Block::kDescription:
      return block.description().variables_size();
    default:
      return 0;
  }
}

nlohmann::json TaskFields(const v1::Task& task) {
  return {{"task", task.task_id()},
          {"job", task.job_id()},
          {"round", task.round()},
          {"requester", task.requester().name()},
          {"organisation", task.requester().organisation()},
          {"algorithm", task.algorithm()},
          {"dataset", task.dataset()},
          {"where", task.where()}};
}

// Distinct, named participants: a node listed twice is still one site.
int64_t CountSites(const v1::Task& task) {
  absl::flat_hash_set<std::string> sites;
  for (const std::string& node : task.participants()) {
    if (!node.empty()) sites.insert(node);
  }
  return static_cast<int64_t>(sites.size());
}

v1::TaskResult ErrorResult(const v1::Task& task, const absl::Status& status) {
  v1::TaskResult result;
  result.set_task_id(task.task_id());
  result.mutable_error()->set_code(static_cast<int32_t>(status.code()));
  result.mutable_error()->set_message(std::string(status.message()));
  return result;
}

}  // namespace

TaskExecutor::TaskExecutor(const AlgorithmRegistry& algorithms, DatasetCache& datasets,
                           const DisclosureGate& gate, AuditLog& audit, NodeContainers* containers)
    : algorithms_(algorithms),
      datasets_(datasets),
      gate_(gate),
      audit_(audit),
      containers_(containers) {}

v1::TaskResult TaskExecutor::Execute(const v1::Task& task) {
  {
    absl::MutexLock lock(&mu_);
    auto it = results_.find(task.task_id());
    if (it != results_.end()) return it->second;
  }
  v1::TaskResult result = Run(task);
  absl::MutexLock lock(&mu_);
  if (results_.emplace(task.task_id(), result).second) {
    order_.push_back(task.task_id());
    if (order_.size() > kRememberedResults) {
      results_.erase(order_.front());
      order_.pop_front();
    }
  }
  return result;
}

v1::TaskResult TaskExecutor::Run(const v1::Task& task) {
  nlohmann::json fields = TaskFields(task);
  auto fail = [&](const absl::Status& status) {
    fields["code"] = absl::StatusCodeToString(status.code());
    fields["message"] = std::string(status.message());
    absl::Status audited = audit_.Append("task_failed", fields);
    if (!audited.ok()) LogError("audit log: ", audited.message());
    LogWarning("task ", task.task_id(), " failed: ", status.message());
    return ErrorResult(task, status);
  };

  auto refuse = [&](const GateRefusal& refusal) {
    fields["rule"] = refusal.rule;
    fields["message"] = refusal.message;
    absl::Status audited = audit_.Append("task_refused", fields);
    if (!audited.ok()) LogError("audit log: ", audited.message());
    LogInfo("task ", task.task_id(), " refused by rule ", refusal.rule);
    v1::TaskResult result;
    result.set_task_id(task.task_id());
    result.mutable_refusal()->set_rule(refusal.rule);
    result.mutable_refusal()->set_message(refusal.message);
    return result;
  };

  const Algorithm* algorithm = algorithms_.Find(task.algorithm());
  // Holds a container algorithm while it runs.
  std::shared_ptr<const Algorithm> container;
  if (algorithm == nullptr && IsContainerReference(task.algorithm())) {
    fields["algorithm_digest"] = task.algorithm_digest();
    if (containers_ == nullptr) {
      return refuse({"container_policy", "this node runs no container algorithms"});
    }
    absl::StatusOr<ContainerResolution> resolution = containers_->Resolve(task);
    if (!resolution.ok()) return fail(resolution.status());
    if (resolution->refusal.has_value()) return refuse(*resolution->refusal);
    container = std::move(resolution->algorithm);
    algorithm = container.get();
  }
  if (algorithm == nullptr) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("this node does not offer algorithm '", task.algorithm(), "'")));
  }
  // The coordinator checks min_sites at submit, but this node applies its own
  // minimum and does not trust the coordinator's: before any data is read.
  int64_t sites = CountSites(task);
  if (std::optional<GateRefusal> refusal = gate_.CheckSites(sites)) {
    fields["sites"] = sites;  // for the data steward; not sent back
    return refuse(*refusal);
  }
  absl::StatusOr<std::shared_ptr<const DataFrame>> frame = datasets_.Get(task.dataset());
  if (!frame.ok()) return fail(frame.status());
  frame = Filter(*std::move(frame), task.where());
  if (!frame.ok()) return fail(frame.status());
  const DatasetConfig* config = datasets_.Config(task.dataset());
  LocalRequest request{task.parameters(), task.round_state(), task.round(),
                       **frame,           &gate_.rules(),     &config->metadata};
  absl::StatusOr<v1::Aggregate> aggregate = algorithm->Local(request);
  if (!aggregate.ok()) return fail(aggregate.status());

  std::optional<GateRefusal> refusal =
      algorithm->built_in()
          ? gate_.Check(*aggregate)
          : gate_.CheckContainer(*aggregate, static_cast<int64_t>((*frame)->num_rows()));
  if (refusal.has_value()) return refuse(*refusal);

  v1::TaskResult result;
  result.set_task_id(task.task_id());
  nlohmann::json blocks = nlohmann::json::array();
  for (const v1::Block& block : aggregate->blocks()) {
    blocks.push_back({{"name", block.name()},
                      {"type", PayloadName(block)},
                      {"records", block.record_count()},
                      {"values", PayloadSize(block)}});
  }
  std::string bytes = aggregate->SerializeAsString();
  fields["released"] = {
      {"blocks", std::move(blocks)}, {"bytes", bytes.size()}, {"sha256", Sha256Hex(bytes)}};
  // Fail closed: nothing leaves the node unless its release is on record.
  absl::Status audited = audit_.Append("task_released", fields);
  if (!audited.ok()) {
    LogError("audit log: ", audited.message());
    return ErrorResult(
        task, absl::UnavailableError("the node cannot write its audit log; nothing was released"));
  }
  *result.mutable_aggregate() = *std::move(aggregate);
  return result;
}

absl::StatusOr<std::shared_ptr<const DataFrame>> TaskExecutor::Filter(
    std::shared_ptr<const DataFrame> frame, const std::string& where) {
  if (where.empty()) return frame;
  {
    absl::MutexLock lock(&filters_mu_);
    for (const FilteredFrame& entry : filtered_) {
      if (entry.frame_id == frame->id() && entry.where == where) return entry.frame;
    }
  }
  SPOOR_ASSIGN_OR_RETURN(RowFilter filter, RowFilter::Parse(where));
  SPOOR_ASSIGN_OR_RETURN(std::vector<size_t> rows, filter.Select(*frame));
  auto filtered = std::make_shared<const DataFrame>(frame->SelectRows(rows));
  absl::MutexLock lock(&filters_mu_);
  filtered_.push_front({frame->id(), where, filtered});
  if (filtered_.size() > kRememberedFilters) filtered_.pop_back();
  return filtered;
}

}  // namespace spoor
