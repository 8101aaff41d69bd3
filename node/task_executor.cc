#include "node/task_executor.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "algorithms/filter.h"
#include "common/algorithm_reference.h"
#include "common/log.h"
#include "common/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "node/release_policy.h"

namespace spoor {
namespace {

constexpr size_t kRememberedResults = 1024;

// SHA-256 of the task's deterministic serialization.
std::string Fingerprint(const v1::Task& task) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    task.SerializeToCodedStream(&out);
  }
  return Sha256Hex(bytes);
}
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
          {"study", task.study()},
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
                           const DisclosureGate& gate, AuditLog& audit, NodeContainers* containers,
                           NodeProtections protections)
    : algorithms_(algorithms),
      datasets_(datasets),
      gate_(gate),
      audit_(audit),
      containers_(containers),
      protections_(std::move(protections)),
      own_noise_(protections_.budget != nullptr && protections_.noise == nullptr
                     ? MakeCryptoNoiseSource()
                     : nullptr),
      noise_(protections_.noise != nullptr ? protections_.noise : own_noise_.get()) {}

v1::TaskResult TaskExecutor::Execute(const v1::Task& task) {
  const std::string fingerprint = Fingerprint(task);
  {
    absl::MutexLock lock(&mu_);
    auto it = results_.find(task.task_id());
    if (it != results_.end() && it->second.fingerprint == fingerprint) return it->second.result;
    if (it != results_.end()) {
      // Not run, not answered from memory: refused, on record.
      GateRefusal refusal{"replay", absl::StrCat("task ", task.task_id(),
                                                 " was already answered for a different request; a "
                                                 "replayed or altered task is refused")};
      nlohmann::json fields = TaskFields(task);
      fields["rule"] = refusal.rule;
      fields["message"] = refusal.message;
      if (absl::Status audited = audit_.Append("task_refused", fields); !audited.ok()) {
        LogError("audit log: ", audited.message());
      }
      LogWarning("task ", task.task_id(), " refused by rule replay");
      v1::TaskResult result;
      result.set_task_id(task.task_id());
      result.mutable_refusal()->set_rule(refusal.rule);
      result.mutable_refusal()->set_message(refusal.message);
      return result;
    }
  }
  v1::TaskResult result = Run(task);
  absl::MutexLock lock(&mu_);
  if (results_.emplace(task.task_id(), Remembered{fingerprint, result}).second) {
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

  // The node's own policy, before anything is resolved or read.
  if (std::optional<GateRefusal> refusal = CheckNodePolicy(protections_.policy, task)) {
    return refuse(*refusal);
  }
  if (protections_.require_secure && !task.has_secure()) {
    return refuse({"secure_required",
                   "this node releases sums only under secure aggregation; run the job with "
                   "--secure"});
  }

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
  absl::StatusOr<std::shared_ptr<const DataFrame>> dataset = datasets_.Get(task.dataset());
  if (!dataset.ok()) return fail(dataset.status());
  absl::StatusOr<Cohort> cohort = Filter(*dataset, task.where());
  if (!cohort.ok()) return fail(cohort.status());
  const DataFrame& frame = *cohort->frame;
  const DatasetConfig* config = datasets_.Config(task.dataset());
  LocalRequest request{task.parameters(), task.round_state(), task.round(), frame,
                       &gate_.rules(),    &config->metadata};
  absl::StatusOr<v1::Aggregate> aggregate = algorithm->Local(request);
  if (!aggregate.ok()) return fail(aggregate.status());

  // The gate judges the exact aggregate, before any noise.
  std::optional<GateRefusal> refusal =
      algorithm->built_in()
          ? gate_.Check(*aggregate)
          : gate_.CheckContainer(*aggregate, static_cast<int64_t>(frame.num_rows()));
  if (refusal.has_value()) return refuse(*refusal);
  absl::StatusOr<Protected> protection = Protect(task, **dataset, *cohort, *aggregate);
  if (!protection.ok()) return fail(protection.status());
  if (protection->refusal.has_value()) return refuse(*protection->refusal);
  if (!protection->privacy.is_null()) fields["privacy"] = std::move(protection->privacy);

  v1::TaskResult result;
  result.set_task_id(task.task_id());
  nlohmann::json blocks = nlohmann::json::array();
  for (const v1::Block& block : aggregate->blocks()) {
    blocks.push_back({{"name", block.name()},
                      {"type", PayloadName(block)},
                      {"records", block.record_count()},
                      {"values", PayloadSize(block)}});
  }
  // Under secure aggregation only the masked sums leave (they are what the
  // digest covers); the gate judged the exact aggregate above.
  std::optional<v1::MaskedAggregate> masked;
  if (task.has_secure()) {
    if (protections_.secure == nullptr) {
      return fail(absl::FailedPreconditionError(
          "this node has no key for secure aggregation; it cannot run --secure jobs"));
    }
    absl::StatusOr<v1::MaskedAggregate> mask = protections_.secure->Mask(task, *aggregate);
    if (!mask.ok()) return fail(mask.status());
    masked = *std::move(mask);
    fields["secure"] = true;
  }
  std::string bytes =
      masked.has_value() ? masked->SerializeAsString() : aggregate->SerializeAsString();
  fields["released"] = {
      {"blocks", std::move(blocks)}, {"bytes", bytes.size()}, {"sha256", Sha256Hex(bytes)}};
  // Fail closed: nothing leaves the node unless its release is on record.
  absl::Status audited = audit_.Append("task_released", fields);
  if (!audited.ok()) {
    LogError("audit log: ", audited.message());
    return ErrorResult(
        task, absl::UnavailableError("the node cannot write its audit log; nothing was released"));
  }
  if (masked.has_value()) {
    *result.mutable_masked() = *std::move(masked);
  } else {
    *result.mutable_aggregate() = *std::move(aggregate);
  }
  return result;
}

absl::StatusOr<TaskExecutor::Cohort> TaskExecutor::Filter(std::shared_ptr<const DataFrame> frame,
                                                          const std::string& where) {
  const bool guard = protections_.history != nullptr;
  if (where.empty()) {
    // All rows: cheap to make (one bit per row), so not cached.
    std::shared_ptr<const RowSubset> rows =
        guard ? std::make_shared<const RowSubset>(AllRows(frame->num_rows())) : nullptr;
    return Cohort{std::move(frame), std::move(rows)};
  }
  {
    absl::MutexLock lock(&filters_mu_);
    for (const FilteredFrame& entry : filtered_) {
      if (entry.frame_id == frame->id() && entry.where == where) return entry.cohort;
    }
  }
  SPOOR_ASSIGN_OR_RETURN(RowFilter filter, RowFilter::Parse(where));
  SPOOR_ASSIGN_OR_RETURN(std::vector<size_t> rows, filter.Select(*frame));
  Cohort cohort{
      std::make_shared<const DataFrame>(frame->SelectRows(rows)),
      guard ? std::make_shared<const RowSubset>(SubsetOfRows(frame->num_rows(), rows)) : nullptr};
  absl::MutexLock lock(&filters_mu_);
  filtered_.push_front({frame->id(), where, cohort});
  if (filtered_.size() > kRememberedFilters) filtered_.pop_back();
  return cohort;
}

absl::StatusOr<TaskExecutor::Protected> TaskExecutor::Protect(const v1::Task& task,
                                                              const DataFrame& dataset,
                                                              const Cohort& cohort,
                                                              v1::Aggregate& aggregate) {
  Protected result;
  // Noise first, on a copy: it may refuse (unbounded sums) and changes no
  // state, so a refused query leaves nothing in the release history.
  v1::Aggregate noised;
  DpSpend spend;
  if (protections_.budget != nullptr) {
    noised = aggregate;
    // No built-in algorithm declares bounds on its sums yet, so only counts
    // (tables, histograms, record counts) can be noised.
    const DpSensitivity unbounded = [](const v1::Block&) -> std::optional<double> {
      return std::nullopt;
    };
    absl::StatusOr<DpSpend> spent = AddNoise(noised, protections_.dp, unbounded, *noise_);
    if (absl::IsFailedPrecondition(spent.status())) {
      result.refusal = GateRefusal{"differential_privacy", std::string(spent.status().message())};
      return result;
    }
    SPOOR_RETURN_IF_ERROR(spent.status());
    spend = *spent;
  }
  if (protections_.history != nullptr) {
    SPOOR_ASSIGN_OR_RETURN(std::string version, DataVersion(task.dataset(), dataset));
    absl::Status checked = protections_.history->CheckAndRecord(
        task.dataset(), version, *cohort.rows, gate_.rules().min_records);
    if (absl::IsFailedPrecondition(checked)) {
      result.refusal = GateRefusal{"differencing", std::string(checked.message())};
      return result;
    }
    SPOOR_RETURN_IF_ERROR(checked);
  }
  if (protections_.budget != nullptr) {
    const DatasetConfig* config = datasets_.Config(task.dataset());
    const double limit = config != nullptr && config->privacy_budget.has_value()
                             ? *config->privacy_budget
                             : protections_.default_budget;
    // A release that noised nothing (a catalogue description) spent nothing.
    if (spend.epsilon > 0 || spend.delta > 0) {
      // Keyed by the task and what it releases: the budget charges a key
      // once, and the same bytes again reveal nothing new, but a task
      // re-sent after a restart (the results above are in memory only) is
      // noised afresh, which is a new release and must be charged.
      const std::string key =
          absl::StrCat(task.task_id(), " ", Sha256Hex(noised.SerializeAsString()).substr(0, 16));
      absl::Status spent =
          protections_.budget->Spend(task.dataset(), limit, task.job_id(), key, spend);
      if (absl::IsResourceExhausted(spent)) {
        result.refusal = GateRefusal{"privacy_budget", std::string(spent.message())};
        return result;
      }
      SPOOR_RETURN_IF_ERROR(spent);
    }
    SPOOR_ASSIGN_OR_RETURN(double spent_total, protections_.budget->Spent(task.dataset()));
    result.privacy = {{"mechanism", std::string(DpMechanismName(protections_.dp.mechanism))},
                      {"epsilon", spend.epsilon},
                      {"delta", spend.delta},
                      {"spent_total", spent_total},
                      {"limit", limit}};
    aggregate = std::move(noised);
  }
  return result;
}

absl::StatusOr<std::string> TaskExecutor::DataVersion(const std::string& name,
                                                      const DataFrame& frame) {
  {
    absl::MutexLock lock(&versions_mu_);
    auto it = versions_.find(name);
    if (it != versions_.end() && it->second.first == frame.id()) return it->second.second;
  }
  // Outside the lock: a large frame takes a while, and other datasets go on.
  SPOOR_ASSIGN_OR_RETURN(std::string version, FrameDigest(frame));
  absl::MutexLock lock(&versions_mu_);
  versions_[name] = {frame.id(), version};
  return version;
}

}  // namespace spoor
