#include "coordinator/job_manager.h"

#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "algorithms/filter.h"
#include "common/algorithm_reference.h"
#include "common/log.h"
#include "common/masked_aggregate.h"
#include "common/status.h"
#include "google/protobuf/util/time_util.h"

namespace spoor {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp ToProto(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

bool Serves(const v1::NodeHello& hello, const std::string& dataset) {
  for (const v1::DatasetInfo& d : hello.datasets()) {
    if (d.name() == dataset) return true;
  }
  return false;
}

std::string TaskOutcomeReason(const std::string& node_id, const v1::TaskResult& result) {
  if (result.has_refusal()) {
    return absl::StrCat("node ", node_id, " refused to release its aggregate (rule ",
                        result.refusal().rule(), "): ", result.refusal().message());
  }
  return absl::StrCat("node ", node_id, " could not run the task: ", result.error().message());
}

// Why a job over `participants` nodes may not run, and what to do. Naming
// the rule lets the researcher look it up; the number of nodes is no secret
// (the researcher named them or can list them).
std::string TooFewSites(size_t participants, int64_t min_sites, const v1::JobSpec& spec) {
  std::string advice =
      spec.nodes().empty()
          ? absl::StrCat("wait until at least ", min_sites, " nodes serving dataset '",
                         spec.dataset(), "' are connected (`spoor nodes` lists them)")
          : absl::StrCat("name at least ", min_sites, " nodes with --nodes, or leave --nodes out ",
                         "to use every connected node serving dataset '", spec.dataset(), "'");
  return absl::StrCat("only ", participants,
                      " node(s) would take part in this job, fewer than the coordinator's "
                      "minimum of ",
                      min_sites, " (rule min_sites); ", advice);
}

}  // namespace

std::string MakeTaskId(const std::string& job_id, int round, const std::string& node_id,
                       int attempt) {
  if (attempt == 0) return absl::StrCat(job_id, "/", round, "/", node_id);
  return absl::StrCat(job_id, "/", round, "a", attempt, "/", node_id);
}

JobManager::JobManager(const Clock& clock, JobStore& store, const AlgorithmRegistry& algorithms,
                       JobManagerOptions options, ContainerAlgorithmSource* containers)
    : clock_(clock),
      store_(store),
      algorithms_(algorithms),
      options_(options),
      containers_(containers),
      rng_(std::random_device{}()) {}

absl::Status JobManager::ResolveAlgorithm(ActiveJob& active) const {
  const std::string& name = active.job.spec().algorithm();
  active.algorithm = algorithms_.Find(name);
  if (active.algorithm != nullptr) return absl::OkStatus();
  if (!IsContainerReference(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown algorithm '", name, "'; known: ", absl::StrJoin(algorithms_.Names(), ", "),
        ", or a registered container algorithm as NAME@VERSION (spoor algorithm list)"));
  }
  if (containers_ == nullptr) {
    return absl::FailedPreconditionError("this coordinator has no algorithm registry");
  }
  SPOOR_ASSIGN_OR_RETURN(ContainerAlgorithmSource::Found found, containers_->Find(name));
  active.container = std::move(found.algorithm);
  active.algorithm = active.container.get();
  active.algorithm_digest = std::move(found.manifest_digest);
  return absl::OkStatus();
}

absl::Status JobManager::Recover() {
  SPOOR_ASSIGN_OR_RETURN(std::vector<StoredJob> stored, store_.LoadRunningJobs());
  Effects effects;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_.Now();
    for (StoredJob& s : stored) {
      ActiveJob active;
      active.job = std::move(s.job);
      active.round_state = std::move(s.round_state);
      absl::Status resolved = ResolveAlgorithm(active);
      for (const std::string& node : active.job.participants()) {
        NodeEntry& entry = nodes_[node];
        if (!entry.sink) entry.disconnected_since = now;
      }
      std::string id = active.job.job_id();
      auto [it, inserted] = active_.emplace(id, std::move(active));
      if (!resolved.ok()) {
        Finish(it->second, v1::JOB_STATE_FAILED,
               absl::StrCat("after a restart, algorithm '", it->second.job.spec().algorithm(),
                            "' cannot run: ", resolved.message()),
               effects);
        continue;
      }
      UpdateProgress(it->second);
      LogInfo("resumed job ", id, " at round ", it->second.job.round(),
              "; its tasks go out again as ", it->second.job.participants_size(),
              " node(s) attach");
    }
  }
  Apply(effects);
  return absl::OkStatus();
}

uint64_t JobManager::AttachNode(const std::string& organisation, const v1::NodeHello& hello,
                                std::shared_ptr<NodeSink> sink) {
  Effects effects;
  uint64_t session;
  {
    absl::MutexLock lock(&mu_);
    NodeEntry& entry = nodes_[hello.node_id()];
    entry.organisation = organisation;
    entry.hello = hello;
    entry.sink = sink;
    entry.session = session = next_session_++;
    entry.last_seen = clock_.Now();
    for (auto& [id, active] : active_) {
      const auto& participants = active.job.participants();
      if (std::find(participants.begin(), participants.end(), hello.node_id()) ==
              participants.end() ||
          active.results.contains(hello.node_id())) {
        continue;
      }
      v1::CoordinatorMessage message;
      *message.mutable_task() = MakeTask(active, hello.node_id());
      effects.sends.emplace_back(sink, std::move(message));
    }
  }
  LogInfo("node ", hello.node_id(), " (", organisation, ") attached with ", hello.datasets_size(),
          " dataset(s); re-sent ", effects.sends.size(), " task(s)");
  Apply(effects);
  return session;
}

void JobManager::DetachNode(const std::string& node_id, uint64_t session) {
  Effects effects;
  {
    absl::MutexLock lock(&mu_);
    auto it = nodes_.find(node_id);
    if (it == nodes_.end() || it->second.session != session) return;
    it->second.sink.reset();
    it->second.disconnected_since = clock_.Now();
    LogInfo("node ", node_id, " detached");
  }
  if (options_.node_timeout <= absl::ZeroDuration()) Tick();
}

void JobManager::NodeHeartbeat(const std::string& node_id) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(node_id);
  if (it != nodes_.end()) it->second.last_seen = clock_.Now();
}

v1::Task JobManager::MakeTask(const ActiveJob& active, const std::string& node_id) const {
  v1::Task task;
  task.set_task_id(
      MakeTaskId(active.job.job_id(), active.job.round(), node_id, active.job.attempt()));
  task.set_job_id(active.job.job_id());
  task.set_round(active.job.round());
  task.set_algorithm(active.job.spec().algorithm());
  task.set_algorithm_digest(active.algorithm_digest);
  task.set_dataset(active.job.spec().dataset());
  task.set_where(active.job.spec().where());
  *task.mutable_parameters() = active.job.spec().parameters();
  *task.mutable_round_state() = active.round_state;
  *task.mutable_requester() = active.job.requester();
  *task.mutable_participants() = active.job.participants();
  task.set_study(active.job.spec().study());
  if (active.job.spec().secure()) {
    v1::SecureAggregation* secure = task.mutable_secure();
    secure->set_fraction_bits(secagg::kDefaultFractionBits);
    secure->set_attempt(active.job.attempt());
    for (const std::string& participant : active.job.participants()) {
      auto it = nodes_.find(participant);
      // Keys come from the hellos; a participant is attached when its task
      // goes out, or its task waits for its hello (and then has its key).
      if (it != nodes_.end()) *secure->add_participants() = it->second.hello.secure_key();
    }
  }
  return task;
}

void JobManager::Dispatch(ActiveJob& active, Effects& effects) {
  for (const std::string& node_id : active.job.participants()) {
    auto it = nodes_.find(node_id);
    if (it == nodes_.end() || !it->second.sink) continue;  // sent on attach
    v1::CoordinatorMessage message;
    *message.mutable_task() = MakeTask(active, node_id);
    effects.sends.emplace_back(it->second.sink, std::move(message));
  }
}

absl::StatusOr<v1::Job> JobManager::Submit(const v1::Requester& requester,
                                           const v1::JobSpec& spec) {
  ActiveJob resolved;
  *resolved.job.mutable_spec() = spec;
  SPOOR_RETURN_IF_ERROR(ResolveAlgorithm(resolved));
  const Algorithm* algorithm = resolved.algorithm;
  if (spec.dataset().empty()) {
    return absl::InvalidArgumentError("no dataset given; pass --dataset NAME");
  }
  SPOOR_RETURN_IF_ERROR(algorithm->ValidateParameters(spec.parameters()));
  // The filter's syntax is checked here, before any node sees it; its
  // columns and types only at each node, against its data.
  if (!spec.where().empty()) SPOOR_RETURN_IF_ERROR(RowFilter::Parse(spec.where()).status());
  SPOOR_ASSIGN_OR_RETURN(v1::Parameters round_state, algorithm->Begin(spec.parameters()));

  Effects effects;
  v1::Job snapshot;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> participants;
    if (spec.nodes().empty()) {
      for (const auto& [id, entry] : nodes_) {
        if (entry.sink && Serves(entry.hello, spec.dataset())) participants.push_back(id);
      }
      if (participants.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "no connected node serves dataset '", spec.dataset(),
            "'; run `spoor nodes` to see which nodes are connected and what they serve"));
      }
    } else {
      for (const std::string& id : spec.nodes()) {
        auto it = nodes_.find(id);
        if (it == nodes_.end() || !it->second.sink) {
          return absl::FailedPreconditionError(
              absl::StrCat("node ", id, " is not connected; run `spoor nodes` to check"));
        }
        if (!Serves(it->second.hello, spec.dataset())) {
          return absl::FailedPreconditionError(
              absl::StrCat("node ", id, " does not serve dataset '", spec.dataset(), "'"));
        }
        if (std::find(participants.begin(), participants.end(), id) == participants.end()) {
          participants.push_back(id);
        }
      }
    }

    if (static_cast<int64_t>(participants.size()) < options_.min_sites) {
      return absl::FailedPreconditionError(
          TooFewSites(participants.size(), options_.min_sites, spec));
    }
    if (spec.secure()) {
      if (!algorithm->secure_aggregation()) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec.algorithm(),
                         " does not run under --secure: its central step needs each node's own "
                         "numbers; secure aggregation covers count and glm"));
      }
      if (participants.size() < 2) {
        return absl::FailedPreconditionError(
            "--secure needs at least two nodes: the sum of one node is its own numbers");
      }
      for (const std::string& id : participants) {
        if (nodes_.at(id).hello.secure_key().public_key().empty()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "node ", id, " announced no key for secure aggregation; it cannot run --secure"));
        }
      }
    }

    absl::Time now = clock_.Now();
    ActiveJob active = std::move(resolved);
    active.round_state = std::move(round_state);
    v1::Job& job = active.job;
    job.set_job_id(absl::StrCat(absl::FormatTime("j%Y%m%d-%H%M%S-", now, absl::UTCTimeZone()),
                                absl::Hex(rng_() & 0xffffff, absl::kZeroPad6),
                                absl::Hex(job_counter_++ & 0xff, absl::kZeroPad2)));
    job.set_state(v1::JOB_STATE_RUNNING);
    job.set_round(1);
    *job.mutable_requester() = requester;
    *job.mutable_created_at() = ToProto(now);
    *job.mutable_updated_at() = ToProto(now);
    for (const std::string& p : participants) job.add_participants(p);
    UpdateProgress(active);
    Save(active);
    std::string id = job.job_id();
    ActiveJob& stored = active_.emplace(id, std::move(active)).first->second;
    Dispatch(stored, effects);
    snapshot = stored.job;
  }
  Apply(effects);
  return snapshot;
}

void JobManager::OnTaskResult(const std::string& node_id, const v1::TaskResult& result) {
  std::vector<std::string> parts = absl::StrSplit(result.task_id(), '/');
  int round = 0, attempt = 0;
  std::vector<std::string> round_attempt =
      parts.size() == 3 ? absl::StrSplit(parts[1], 'a') : std::vector<std::string>();
  bool well_formed = parts.size() == 3 && parts[2] == node_id && !round_attempt.empty() &&
                     round_attempt.size() <= 2 && absl::SimpleAtoi(round_attempt[0], &round) &&
                     (round_attempt.size() == 1 || absl::SimpleAtoi(round_attempt[1], &attempt));
  if (!well_formed) {
    LogWarning("node ", node_id, " answered a task id that is not its own; ignored");
    return;
  }
  Effects effects;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(parts[0]);
    if (it == active_.end()) return;  // finished or unknown: stale
    ActiveJob& active = it->second;
    if (active.job.round() != round || active.job.attempt() != attempt ||
        active.results.contains(node_id)) {
      return;
    }
    const auto& participants = active.job.participants();
    if (std::find(participants.begin(), participants.end(), node_id) == participants.end()) {
      return;
    }
    const bool secure = active.job.spec().secure();
    if (secure && result.has_aggregate()) {
      // Never keep, let alone use, a node's own numbers under --secure.
      Finish(active, v1::JOB_STATE_FAILED,
             absl::StrCat("node ", node_id,
                          " answered a secure job with an unmasked aggregate; it was discarded"),
             effects);
    } else if (!(secure ? result.has_masked() : result.has_aggregate())) {
      Finish(active, v1::JOB_STATE_FAILED, TaskOutcomeReason(node_id, result), effects);
    } else {
      // Kept in memory only: the round's outcome is stored when it completes.
      active.results.emplace(node_id, result);
      UpdateProgress(active);
      EmitProgress(active, effects);
      AdvanceIfComplete(active, effects);
    }
  }
  Apply(effects);
}

void JobManager::AdvanceIfComplete(ActiveJob& active, Effects& effects) {
  if (active.job.state() != v1::JOB_STATE_RUNNING ||
      static_cast<int>(active.results.size()) < active.job.participants_size()) {
    return;
  }
  std::vector<NodeAggregate> aggregates;
  aggregates.reserve(active.results.size());
  if (active.job.spec().secure()) {
    // The total goes to the first participant and zeros to the others
    // (Algorithm::secure_aggregation): only the total is ever unmasked.
    std::vector<v1::MaskedAggregate> masked;
    for (const std::string& node_id : active.job.participants()) {
      masked.push_back(active.results.at(node_id).masked());
    }
    absl::StatusOr<v1::Aggregate> total =
        secagg::SumMaskedAggregates(masked, secagg::kDefaultFractionBits);
    if (!total.ok()) {
      Finish(active, v1::JOB_STATE_FAILED, std::string(total.status().message()), effects);
      return;
    }
    for (const std::string& node_id : active.job.participants()) {
      aggregates.push_back(
          {node_id, aggregates.empty() ? *total : active.results.at(node_id).masked().structure()});
    }
  } else {
    for (const std::string& node_id : active.job.participants()) {
      aggregates.push_back({node_id, active.results.at(node_id).aggregate()});
    }
  }
  CentralRequest request{active.job.spec().parameters(), active.round_state, active.job.round(),
                         aggregates};
  if (active.container != nullptr) {
    // Revocation is honoured between rounds too, and no container iterates
    // without end.
    absl::StatusOr<ContainerAlgorithmSource::Found> still =
        containers_->Find(active.job.spec().algorithm());
    if (!still.ok()) {
      Finish(active, v1::JOB_STATE_FAILED, std::string(still.status().message()), effects);
      return;
    }
    if (active.job.round() >= kMaxContainerRounds) {
      Finish(active, v1::JOB_STATE_FAILED,
             absl::StrCat("the algorithm did not finish within ", kMaxContainerRounds, " rounds"),
             effects);
      return;
    }
  }
  absl::StatusOr<CentralStep> step = active.algorithm->Central(request);
  if (!step.ok()) {
    Finish(active, v1::JOB_STATE_FAILED,
           absl::StrCat("the central step failed: ", step.status().message()), effects);
    return;
  }
  if (step->done) {
    *active.job.mutable_result() = std::move(step->result);
    Finish(active, v1::JOB_STATE_SUCCEEDED, "", effects);
    return;
  }
  active.job.set_round(active.job.round() + 1);
  active.round_state = std::move(step->next_round_state);
  StartRound(active, effects);
}

void JobManager::Finish(ActiveJob& active, v1::JobState state, const std::string& reason,
                        Effects& effects) {
  active.job.set_state(state);
  active.job.set_failure_reason(reason);
  Touch(active.job);
  Save(active);
  if (state == v1::JOB_STATE_FAILED) {
    LogWarning("job ", active.job.job_id(), " failed: ", reason);
  } else {
    LogInfo("job ", active.job.job_id(), " succeeded after ", active.job.round(), " round(s)");
  }
  v1::JobEvent event;
  *event.mutable_finished() = active.job;
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if (it->second.first == active.job.job_id()) {
      effects.events.emplace_back(std::move(it->second.second), event);
      it = watchers_.erase(it);
    } else {
      ++it;
    }
  }
  active_.erase(active.job.job_id());  // `active` is dangling from here on
}

void JobManager::Save(const ActiveJob& active) {
  absl::Status saved = store_.SaveJob(active.job, active.round_state);
  // The in-memory state stays authoritative while this process lives; a
  // failed save only weakens recovery after a restart, so log it loudly.
  if (!saved.ok()) LogError("job ", active.job.job_id(), ": ", saved.message());
}

void JobManager::Touch(v1::Job& job) const { *job.mutable_updated_at() = ToProto(clock_.Now()); }

void JobManager::UpdateProgress(ActiveJob& active) const {
  active.job.clear_progress();
  for (const std::string& node_id : active.job.participants()) {
    v1::NodeProgress* p = active.job.add_progress();
    p->set_node_id(node_id);
    p->set_done(active.results.contains(node_id));
  }
}

void JobManager::EmitProgress(const ActiveJob& active, Effects& effects) {
  v1::JobEvent event;
  v1::JobProgress* progress = event.mutable_progress();
  progress->set_job_id(active.job.job_id());
  progress->set_round(active.job.round());
  progress->set_nodes_done(static_cast<int32_t>(active.results.size()));
  progress->set_nodes_total(active.job.participants_size());
  for (const auto& [id, watch] : watchers_) {
    if (watch.first == active.job.job_id()) effects.events.emplace_back(watch.second, event);
  }
}

void JobManager::Apply(Effects& effects) {
  for (auto& [sink, message] : effects.sends) sink->Send(message);
  for (auto& [watcher, event] : effects.events) watcher(event);
}

absl::StatusOr<v1::Job> JobManager::GetJob(const std::string& job_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    if (it != active_.end()) return it->second.job;
  }
  SPOOR_ASSIGN_OR_RETURN(std::optional<v1::Job> job, store_.LoadJob(job_id));
  if (!job) {
    return absl::NotFoundError(
        absl::StrCat("no job '", job_id, "'; run `spoor jobs` to list jobs"));
  }
  return *std::move(job);
}

absl::StatusOr<std::vector<v1::Job>> JobManager::ListJobs(int limit) {
  SPOOR_ASSIGN_OR_RETURN(std::vector<v1::Job> jobs, store_.ListJobs(limit));
  absl::MutexLock lock(&mu_);
  for (v1::Job& job : jobs) {
    auto it = active_.find(job.job_id());
    if (it != active_.end()) job = it->second.job;  // fresher progress
  }
  return jobs;
}

std::vector<v1::NodeStatus> JobManager::ListNodes() {
  absl::MutexLock lock(&mu_);
  std::vector<v1::NodeStatus> out;
  for (const auto& [id, entry] : nodes_) {
    if (entry.hello.node_id().empty()) continue;  // known only from a recovered job
    v1::NodeStatus status;
    status.set_node_id(id);
    status.set_organisation(entry.organisation);
    status.set_connected(entry.sink != nullptr);
    for (const v1::DatasetInfo& d : entry.hello.datasets()) status.add_datasets(d.name());
    *status.mutable_last_seen() = ToProto(entry.last_seen);
    status.set_software_version(entry.hello.software_version());
    out.push_back(std::move(status));
  }
  return out;
}

absl::StatusOr<uint64_t> JobManager::Watch(const std::string& job_id, Watcher watcher) {
  v1::JobEvent event;
  uint64_t id;
  {
    absl::MutexLock lock(&mu_);
    id = next_watch_++;
    auto it = active_.find(job_id);
    if (it != active_.end()) {
      v1::JobProgress* progress = event.mutable_progress();
      progress->set_job_id(job_id);
      progress->set_round(it->second.job.round());
      progress->set_nodes_done(static_cast<int32_t>(it->second.results.size()));
      progress->set_nodes_total(it->second.job.participants_size());
      watchers_.emplace(id, std::make_pair(job_id, watcher));
    }
  }
  if (!event.has_progress()) {
    SPOOR_ASSIGN_OR_RETURN(v1::Job job, GetJob(job_id));
    *event.mutable_finished() = std::move(job);
  }
  watcher(event);
  return id;
}

void JobManager::Unwatch(uint64_t watch_id) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watch_id);
}

void JobManager::StartRound(ActiveJob& active, Effects& effects) {
  active.results.clear();
  UpdateProgress(active);
  Touch(active.job);
  Save(active);
  EmitProgress(active, effects);
  Dispatch(active, effects);
}

void JobManager::RestartWithout(ActiveJob& active, const std::string& lost, Effects& effects) {
  // The round's masked sums stay masked for ever: without the lost node's
  // masks they are noise. Start again from round 1 with the others, under
  // fresh masks (a new attempt).
  std::vector<std::string> rest;
  for (const std::string& node_id : active.job.participants()) {
    if (node_id != lost) rest.push_back(node_id);
  }
  absl::StatusOr<v1::Parameters> begin = active.algorithm->Begin(active.job.spec().parameters());
  if (static_cast<int64_t>(rest.size()) < std::max<int64_t>(options_.min_sites, 2) || !begin.ok()) {
    Finish(active, v1::JOB_STATE_FAILED,
           absl::StrCat("node ", lost, " dropped out of a secure job and too few nodes remain (",
                        rest.size(), "); no partial sum was unmasked"),
           effects);
    return;
  }
  LogWarning("job ", active.job.job_id(), ": node ", lost,
             " dropped out; secure aggregation restarts without it");
  active.job.clear_participants();
  for (const std::string& node_id : rest) active.job.add_participants(node_id);
  active.job.set_attempt(active.job.attempt() + 1);
  active.job.set_round(1);
  active.round_state = *std::move(begin);
  StartRound(active, effects);
}

void JobManager::Tick() {
  Effects effects;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_.Now();
    std::vector<std::string> ids;
    for (const auto& [id, active] : active_) ids.push_back(id);
    for (const std::string& id : ids) {
      ActiveJob& active = active_.at(id);
      for (const std::string& node_id : active.job.participants()) {
        const NodeEntry& entry = nodes_[node_id];
        if (entry.sink || now - entry.disconnected_since < options_.node_timeout) continue;
        if (active.job.spec().secure()) {
          RestartWithout(active, node_id, effects);
          break;
        }
        Finish(active, v1::JOB_STATE_FAILED,
               absl::StrCat("node ", node_id, " disconnected and did not come back within ",
                            absl::FormatDuration(options_.node_timeout),
                            " (jobs.node_timeout_seconds); check that node, then resubmit"),
               effects);
        break;
      }
    }
  }
  Apply(effects);
}

}  // namespace spoor
