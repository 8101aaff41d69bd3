#include "coordinator/job_manager.h"

#include <catch2/catch.hpp>
#include <deque>
#include <filesystem>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "algorithms/algorithm.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/masked_aggregate.h"
#include "common/pki.h"
#include "coordinator/coordinator_config.h"
#include "coordinator/job_store.h"

namespace spoor {
namespace {

// Records what the manager sends to one node.
class RecordingSink final : public NodeSink {
 public:
  void Send(const v1::CoordinatorMessage& message) override {
    absl::MutexLock lock(&mu_);
    if (message.has_task()) tasks_.push_back(message.task());
  }
  std::vector<v1::Task> TakeTasks() {
    absl::MutexLock lock(&mu_);
    std::vector<v1::Task> out(tasks_.begin(), tasks_.end());
    tasks_.clear();
    return out;
  }

 private:
  absl::Mutex mu_;
  std::deque<v1::Task> tasks_;
};

// Three rounds, each node sends its round number; the result counts rounds.
class ThreeRounds final : public Algorithm {
 public:
  const char* name() const override { return "three_rounds"; }
  absl::Status ValidateParameters(const v1::Parameters&) const override { return absl::OkStatus(); }
  absl::StatusOr<v1::Aggregate> Local(const LocalRequest&) const override {
    return v1::Aggregate();
  }
  absl::StatusOr<CentralStep> Central(const CentralRequest& request) const override {
    CentralStep step;
    if (request.round == 3) {
      step.done = true;
      step.result.mutable_count()->set_records(
          static_cast<int64_t>(request.aggregates.size()) * 100 + request.round);
    } else {
      (*step.next_round_state.mutable_values())["round"].set_integer(request.round + 1);
    }
    return step;
  }
};

v1::NodeHello Hello(const std::string& id, const std::string& dataset = "cohort") {
  v1::NodeHello hello;
  hello.set_node_id(id);
  hello.add_datasets()->set_name(dataset);
  return hello;
}

v1::TaskResult Answer(const v1::Task& task) {
  v1::TaskResult result;
  result.set_task_id(task.task_id());
  v1::Block* block = result.mutable_aggregate()->add_blocks();
  block->set_name("records");
  block->set_record_count(50);
  block->mutable_vector()->add_values(50);
  return result;
}

struct Fixture {
  Fixture() : Fixture(MakeMemoryJobStore()) {}
  // Most tests here run one or two nodes, so min_sites is 1 unless a test
  // is about it.
  explicit Fixture(std::unique_ptr<JobStore> s, absl::Duration timeout = absl::Seconds(60),
                   int64_t min_sites = 1)
      : store(std::move(s)) {
    algorithms = MakeBuiltinRegistry();
    REQUIRE(algorithms->Register(std::make_unique<ThreeRounds>()).ok());
    JobManagerOptions options;
    options.node_timeout = timeout;
    options.min_sites = min_sites;
    manager = std::make_unique<JobManager>(clock, *store, *algorithms, options);
  }
  std::shared_ptr<RecordingSink> Attach(const std::string& id, uint64_t* session = nullptr) {
    auto sink = std::make_shared<RecordingSink>();
    uint64_t s = manager->AttachNode("Org " + id, Hello(id), sink);
    if (session) *session = s;
    return sink;
  }
  v1::JobSpec Spec(const std::string& algorithm = "count") {
    v1::JobSpec spec;
    spec.set_algorithm(algorithm);
    spec.set_dataset("cohort");
    return spec;
  }
  v1::Requester requester;
  FakeClock clock;
  std::unique_ptr<JobStore> store;
  std::unique_ptr<AlgorithmRegistry> algorithms;
  std::unique_ptr<JobManager> manager;
};

TEST_CASE("a job dispatches one task per node and succeeds when all answer", "[job_manager]") {
  Fixture f;
  auto a = f.Attach("a"), b = f.Attach("b"), c = f.Attach("c");
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, f.Spec());
  REQUIRE(job.ok());
  CHECK(job->state() == v1::JOB_STATE_RUNNING);
  CHECK(job->participants_size() == 3);
  for (auto* sink : {a.get(), b.get(), c.get()}) {
    std::vector<v1::Task> tasks = sink->TakeTasks();
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].round() == 1);
    f.manager->OnTaskResult(tasks[0].task_id().substr(tasks[0].task_id().rfind('/') + 1),
                            Answer(tasks[0]));
  }
  absl::StatusOr<v1::Job> done = f.manager->GetJob(job->job_id());
  REQUIRE(done.ok());
  CHECK(done->state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(done->result().count().records() == 150);
}

TEST_CASE("multi-round jobs carry the central step's state to the next round", "[job_manager]") {
  Fixture f;
  auto a = f.Attach("a"), b = f.Attach("b");
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, f.Spec("three_rounds"));
  REQUIRE(job.ok());
  for (int round = 1; round <= 3; ++round) {
    for (auto [id, sink] : {std::pair{"a", a.get()}, std::pair{"b", b.get()}}) {
      std::vector<v1::Task> tasks = sink->TakeTasks();
      REQUIRE(tasks.size() == 1);
      CHECK(tasks[0].round() == round);
      if (round > 1) CHECK(tasks[0].round_state().values().at("round").integer() == round);
      f.manager->OnTaskResult(id, Answer(tasks[0]));
    }
  }
  absl::StatusOr<v1::Job> done = f.manager->GetJob(job->job_id());
  CHECK(done->state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(done->round() == 3);
  CHECK(done->result().count().records() == 203);
}

TEST_CASE("repeated and stale results are ignored", "[job_manager]") {
  Fixture f;
  auto a = f.Attach("a"), b = f.Attach("b");
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, f.Spec("three_rounds"));
  REQUIRE(job.ok());
  v1::Task ta = a->TakeTasks().at(0);
  f.manager->OnTaskResult("a", Answer(ta));
  f.manager->OnTaskResult("a", Answer(ta));  // duplicate
  CHECK(f.manager->GetJob(job->job_id())->round() == 1);
  f.manager->OnTaskResult("b", Answer(ta));  // b answering a's task id: not its own
  CHECK(f.manager->GetJob(job->job_id())->round() == 1);
  f.manager->OnTaskResult("b", Answer(b->TakeTasks().at(0)));
  CHECK(f.manager->GetJob(job->job_id())->round() == 2);
  f.manager->OnTaskResult("a", Answer(ta));  // round-1 result during round 2
  CHECK(f.manager->GetJob(job->job_id())->progress(0).done() == false);
}

TEST_CASE("a refusal fails the job with the node and rule, not the value", "[job_manager]") {
  Fixture f;
  auto a = f.Attach("a");
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, f.Spec());
  v1::Task task = a->TakeTasks().at(0);
  v1::TaskResult refusal;
  refusal.set_task_id(task.task_id());
  refusal.mutable_refusal()->set_rule("min_records");
  refusal.mutable_refusal()->set_message("block 'records' is backed by fewer records than 10");
  f.manager->OnTaskResult("a", refusal);
  v1::Job failed = *f.manager->GetJob(job->job_id());
  CHECK(failed.state() == v1::JOB_STATE_FAILED);
  CHECK_THAT(failed.failure_reason(), Catch::Contains("node a refused"));
  CHECK_THAT(failed.failure_reason(), Catch::Contains("min_records"));
}

TEST_CASE("submit refuses unknown algorithms, missing datasets and absent nodes", "[job_manager]") {
  Fixture f;
  CHECK(absl::IsFailedPrecondition(f.manager->Submit(f.requester, f.Spec()).status()));
  f.Attach("a");
  CHECK(absl::IsInvalidArgument(f.manager->Submit(f.requester, f.Spec("nope")).status()));
  v1::JobSpec spec = f.Spec();
  spec.set_dataset("other");
  CHECK(absl::IsFailedPrecondition(f.manager->Submit(f.requester, spec).status()));
  spec = f.Spec();
  spec.add_nodes("zz");
  absl::Status status = f.manager->Submit(f.requester, spec).status();
  CHECK(absl::IsFailedPrecondition(status));
  CHECK_THAT(std::string(status.message()), Catch::Contains("zz"));
}

TEST_CASE("submit refuses a job over fewer nodes than min_sites, 3 by default", "[job_manager]") {
  CHECK(JobManagerOptions().min_sites == 3);
  Fixture f(MakeMemoryJobStore(), absl::Seconds(60), JobManagerOptions().min_sites);
  auto a = f.Attach("a"), b = f.Attach("b");
  absl::Status status = f.manager->Submit(f.requester, f.Spec()).status();
  REQUIRE(absl::IsFailedPrecondition(status));
  std::string message(status.message());
  CHECK_THAT(message, Catch::Contains("only 2 node(s)") && Catch::Contains("minimum of 3") &&
                          Catch::Contains("min_sites") && Catch::Contains("spoor nodes"));
  // Nothing was dispatched or stored.
  CHECK(a->TakeTasks().empty());
  CHECK(b->TakeTasks().empty());
  CHECK(f.manager->ListJobs(10)->empty());

  // Naming too few nodes (a node named twice counts once) says to name more.
  v1::JobSpec spec = f.Spec();
  for (const char* node : {"a", "b", "a"}) spec.add_nodes(node);
  status = f.manager->Submit(f.requester, spec).status();
  REQUIRE(absl::IsFailedPrecondition(status));
  CHECK_THAT(std::string(status.message()), Catch::Contains("--nodes"));

  // A third node makes it a job, and every task lists all three sites.
  auto c = f.Attach("c");
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, f.Spec());
  REQUIRE(job.ok());
  CHECK(job->participants_size() == 3);
  std::vector<v1::Task> tasks = c->TakeTasks();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].participants_size() == 3);
}

TEST_CASE("a node's min_sites refusal fails the job naming the node and the rule",
          "[job_manager]") {
  Fixture f;
  auto a = f.Attach("a");
  std::string job_id = f.manager->Submit(f.requester, f.Spec())->job_id();
  v1::TaskResult refusal;
  refusal.set_task_id(a->TakeTasks().at(0).task_id());
  refusal.mutable_refusal()->set_rule("min_sites");
  refusal.mutable_refusal()->set_message(
      "the job runs over fewer sites than this node's minimum (3)");
  f.manager->OnTaskResult("a", refusal);
  v1::Job failed = *f.manager->GetJob(job_id);
  CHECK(failed.state() == v1::JOB_STATE_FAILED);
  CHECK_THAT(failed.failure_reason(), Catch::Contains("node a") && Catch::Contains("min_sites"));
}

TEST_CASE("coordinator config reads disclosure.min_sites, 3 by default", "[job_manager][config]") {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("spoor-coordinator-config-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "coordinator.toml").string();
  const std::string head =
      "data_dir = \"d\"\n[tls]\nca = \"ca\"\ncert = \"c\"\nkey = \"k\"\n[disclosure]\n";
  REQUIRE(WriteFileAtomically(path, head).ok());  // an empty [disclosure]
  absl::StatusOr<CoordinatorConfig> config = LoadCoordinatorConfig(path);
  REQUIRE(config.ok());
  CHECK(config->min_sites == 3);

  REQUIRE(WriteFileAtomically(path, head + "min_sites = 1\n").ok());
  config = LoadCoordinatorConfig(path);
  REQUIRE(config.ok());
  CHECK(config->min_sites == 1);

  for (std::string bad :
       {"min_sites = 0\n", "min_sites = -2\n", "min_sites = \"three\"\n", "min_site = 3\n"}) {
    INFO(bad);
    REQUIRE(WriteFileAtomically(path, head + bad).ok());
    config = LoadCoordinatorConfig(path);
    REQUIRE(absl::IsInvalidArgument(config.status()));
    CHECK_THAT(std::string(config.status().message()),
               Catch::Contains("coordinator.toml:7:") && Catch::Contains("min_site"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a node that goes away fails the job after node_timeout", "[job_manager]") {
  Fixture f(MakeMemoryJobStore(), absl::Seconds(30));
  uint64_t session_b = 0;
  auto a = f.Attach("a");
  auto b = f.Attach("b", &session_b);
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, f.Spec());
  f.manager->OnTaskResult("a", Answer(a->TakeTasks().at(0)));
  f.manager->DetachNode("b", session_b);
  f.clock.Advance(absl::Seconds(29));
  f.manager->Tick();
  CHECK(f.manager->GetJob(job->job_id())->state() == v1::JOB_STATE_RUNNING);
  f.clock.Advance(absl::Seconds(2));
  f.manager->Tick();
  v1::Job failed = *f.manager->GetJob(job->job_id());
  CHECK(failed.state() == v1::JOB_STATE_FAILED);
  CHECK_THAT(failed.failure_reason(), Catch::Contains("node b disconnected"));
  CHECK_THAT(failed.failure_reason(), Catch::Contains("30s"));
}

TEST_CASE("a node that comes back in time gets its task again and the job completes",
          "[job_manager]") {
  Fixture f(MakeMemoryJobStore(), absl::Seconds(30));
  uint64_t session_b = 0;
  auto a = f.Attach("a");
  auto b = f.Attach("b", &session_b);
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, f.Spec());
  std::string first_id = b->TakeTasks().at(0).task_id();
  f.manager->DetachNode("b", session_b);
  f.clock.Advance(absl::Seconds(10));
  f.manager->Tick();
  auto b2 = f.Attach("b");
  f.manager->DetachNode("b", session_b);  // the old session ending late changes nothing
  std::vector<v1::Task> resent = b2->TakeTasks();
  REQUIRE(resent.size() == 1);
  CHECK(resent[0].task_id() == first_id);
  f.clock.Advance(absl::Seconds(60));
  f.manager->Tick();
  f.manager->OnTaskResult("a", Answer(a->TakeTasks().at(0)));
  f.manager->OnTaskResult("b", Answer(resent[0]));
  CHECK(f.manager->GetJob(job->job_id())->state() == v1::JOB_STATE_SUCCEEDED);
}

TEST_CASE("a restarted manager resumes running jobs at their round", "[job_manager]") {
  std::unique_ptr<JobStore> store = MakeMemoryJobStore();
  std::string job_id;
  v1::Task a_round2, b_round2;
  {
    Fixture f(std::move(store));
    auto a = f.Attach("a"), b = f.Attach("b");
    job_id = f.manager->Submit(f.requester, f.Spec("three_rounds"))->job_id();
    f.manager->OnTaskResult("a", Answer(a->TakeTasks().at(0)));
    f.manager->OnTaskResult("b", Answer(b->TakeTasks().at(0)));
    // Round 2: a answers, then the coordinator "dies".
    a_round2 = a->TakeTasks().at(0);
    b_round2 = b->TakeTasks().at(0);
    f.manager->OnTaskResult("a", Answer(a_round2));
    store = std::move(f.store);
  }
  Fixture g(std::move(store));
  REQUIRE(g.manager->Recover().ok());
  v1::Job resumed = *g.manager->GetJob(job_id);
  CHECK(resumed.state() == v1::JOB_STATE_RUNNING);
  CHECK(resumed.round() == 2);
  CHECK(resumed.progress(0).done() == false);
  // Both get the same round-2 task ids again (a answers from its memory).
  auto a = g.Attach("a"), b = g.Attach("b");
  std::vector<v1::Task> to_a = a->TakeTasks(), to_b = b->TakeTasks();
  REQUIRE(to_a.size() == 1);
  REQUIRE(to_b.size() == 1);
  CHECK(to_a[0].task_id() == a_round2.task_id());
  CHECK(to_b[0].task_id() == b_round2.task_id());
  CHECK(to_a[0].round_state().SerializeAsString() == a_round2.round_state().SerializeAsString());
  g.manager->OnTaskResult("a", Answer(to_a[0]));
  g.manager->OnTaskResult("b", Answer(to_b[0]));
  g.manager->OnTaskResult("a", Answer(a->TakeTasks().at(0)));
  g.manager->OnTaskResult("b", Answer(b->TakeTasks().at(0)));
  CHECK(g.manager->GetJob(job_id)->state() == v1::JOB_STATE_SUCCEEDED);
}

TEST_CASE("a recovered job whose nodes never return fails after node_timeout", "[job_manager]") {
  std::unique_ptr<JobStore> store = MakeMemoryJobStore();
  std::string job_id;
  {
    Fixture f(std::move(store), absl::Seconds(30));
    f.Attach("a");
    job_id = f.manager->Submit(f.requester, f.Spec())->job_id();
    store = std::move(f.store);
  }
  Fixture g(std::move(store), absl::Seconds(30));
  REQUIRE(g.manager->Recover().ok());
  g.clock.Advance(absl::Seconds(31));
  g.manager->Tick();
  CHECK(g.manager->GetJob(job_id)->state() == v1::JOB_STATE_FAILED);
}

TEST_CASE("watchers see progress and exactly one finished event", "[job_manager]") {
  Fixture f;
  auto a = f.Attach("a"), b = f.Attach("b");
  std::string job_id = f.manager->Submit(f.requester, f.Spec())->job_id();
  std::vector<v1::JobEvent> events;
  absl::StatusOr<uint64_t> watch =
      f.manager->Watch(job_id, [&](const v1::JobEvent& e) { events.push_back(e); });
  REQUIRE(watch.ok());
  f.manager->OnTaskResult("a", Answer(a->TakeTasks().at(0)));
  f.manager->OnTaskResult("b", Answer(b->TakeTasks().at(0)));
  REQUIRE(events.size() == 4);
  CHECK(events[0].progress().nodes_done() == 0);
  CHECK(events[1].progress().nodes_done() == 1);
  CHECK(events[2].progress().nodes_done() == 2);
  CHECK(events[3].finished().state() == v1::JOB_STATE_SUCCEEDED);
  // Watching a finished job gives its finished event at once.
  std::vector<v1::JobEvent> late;
  REQUIRE(f.manager->Watch(job_id, [&](const v1::JobEvent& e) { late.push_back(e); }).ok());
  REQUIRE(late.size() == 1);
  CHECK(late[0].has_finished());
  CHECK(absl::IsNotFound(f.manager->Watch("nope", [](const v1::JobEvent&) {}).status()));
}

}  // namespace
}  // namespace spoor

// --- Secure aggregation. ---

namespace spoor {
namespace {

// A node with a real agreement key and certificate, able to answer secure
// tasks as a real node does (common/masked_aggregate.h).
struct SecureNode {
  std::string id;
  secagg::AgreementKey key;
  v1::KeyAnnouncement announcement;
  std::shared_ptr<RecordingSink> sink;
  uint64_t session = 0;
};

const CertificateAndKey& TestCa() {
  static const CertificateAndKey ca = *CreateCertificateAuthority(CaOptions());
  return ca;
}

SecureNode AttachSecure(Fixture& f, const std::string& id) {
  IssueOptions options;
  options.identity = {id, absl::StrCat("Org ", id), Role::kNode};
  CertificateAndKey cert = *IssueCertificate(TestCa(), options);
  secagg::AgreementKey key = *secagg::AgreementKey::Generate();
  v1::NodeHello hello = Hello(id);
  v1::KeyAnnouncement* announcement = hello.mutable_secure_key();
  announcement->set_node_id(id);
  announcement->set_public_key(key.public_key());
  announcement->set_signature(
      *secagg::SignKeyAnnouncement(cert.private_key_pem, id, key.public_key()));
  announcement->set_certificate_pem(cert.certificate_pem);
  auto sink = std::make_shared<RecordingSink>();
  uint64_t session = f.manager->AttachNode(absl::StrCat("Org ", id), hello, sink);
  return {id, std::move(key), *announcement, sink, session};
}

v1::TaskResult MaskedAnswer(const SecureNode& node, const v1::Task& task, int64_t records) {
  v1::Aggregate aggregate;
  v1::Block* block = aggregate.add_blocks();
  block->set_name("records");
  block->set_record_count(records);
  block->mutable_vector()->add_values(static_cast<double>(records));
  v1::TaskResult result;
  result.set_task_id(task.task_id());
  *result.mutable_masked() =
      *secagg::MaskAggregate(aggregate, node.key, node.id, task.secure(),
                             {task.job_id(), task.round(), task.secure().attempt()},
                             TestCa().certificate_pem, absl::Now());
  return result;
}

TEST_CASE("a secure count adds the masked sums; no node's own count is seen", "[job_manager]") {
  Fixture f;
  std::vector<SecureNode> nodes;
  for (const char* id : {"a", "b", "c"}) nodes.push_back(AttachSecure(f, id));
  v1::JobSpec spec = f.Spec();
  spec.set_secure(true);
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, spec);
  REQUIRE(job.ok());
  int64_t records = 40;
  for (SecureNode& node : nodes) {
    std::vector<v1::Task> tasks = node.sink->TakeTasks();
    REQUIRE(tasks.size() == 1);
    REQUIRE(tasks[0].has_secure());
    CHECK(tasks[0].secure().participants_size() == 3);
    v1::TaskResult answer = MaskedAnswer(node, tasks[0], records);
    CHECK(!answer.has_aggregate());
    f.manager->OnTaskResult(node.id, answer);
    records += 1;
  }
  absl::StatusOr<v1::Job> done = f.manager->GetJob(job->job_id());
  REQUIRE(done.ok());
  INFO(done->failure_reason());
  REQUIRE(done->state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(done->result().count().records() == 40 + 41 + 42);
}

TEST_CASE("an unmasked answer to a secure job is discarded and fails the job", "[job_manager]") {
  Fixture f;
  std::vector<SecureNode> nodes;
  for (const char* id : {"a", "b"}) nodes.push_back(AttachSecure(f, id));
  v1::JobSpec spec = f.Spec();
  spec.set_secure(true);
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, spec);
  REQUIRE(job.ok());
  std::vector<v1::Task> tasks = nodes[0].sink->TakeTasks();
  REQUIRE(tasks.size() == 1);
  f.manager->OnTaskResult("a", Answer(tasks[0]));  // plain numbers: refused
  absl::StatusOr<v1::Job> failed = f.manager->GetJob(job->job_id());
  REQUIRE(failed.ok());
  CHECK(failed->state() == v1::JOB_STATE_FAILED);
  CHECK_THAT(failed->failure_reason(), Catch::Contains("unmasked aggregate"));
}

TEST_CASE("secure jobs need every node's key and an algorithm that only adds", "[job_manager]") {
  Fixture f;
  AttachSecure(f, "a");
  f.Attach("b");  // announced no key
  v1::JobSpec spec = f.Spec();
  spec.set_secure(true);
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, spec);
  CHECK(job.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(job.status().message()), Catch::Contains("node b announced no key"));
  spec.set_algorithm("summary");
  job = f.manager->Submit(f.requester, spec);
  CHECK(job.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a node that drops out of a secure job restarts it without it, under fresh masks",
          "[job_manager]") {
  Fixture f(MakeMemoryJobStore(), absl::Seconds(30), /*min_sites=*/2);
  std::vector<SecureNode> nodes;
  for (const char* id : {"a", "b", "c"}) nodes.push_back(AttachSecure(f, id));
  v1::JobSpec spec = f.Spec();
  spec.set_secure(true);
  absl::StatusOr<v1::Job> job = f.manager->Submit(f.requester, spec);
  REQUIRE(job.ok());
  // a and b answer; c goes away.
  for (int k = 0; k < 2; ++k) {
    std::vector<v1::Task> tasks = nodes[k].sink->TakeTasks();
    REQUIRE(tasks.size() == 1);
    f.manager->OnTaskResult(nodes[k].id, MaskedAnswer(nodes[k], tasks[0], 10));
  }
  nodes[2].sink->TakeTasks();
  f.manager->DetachNode("c", nodes[2].session);
  f.clock.Advance(absl::Seconds(31));
  f.manager->Tick();
  absl::StatusOr<v1::Job> restarted = f.manager->GetJob(job->job_id());
  REQUIRE(restarted.ok());
  INFO(restarted->failure_reason());
  REQUIRE(restarted->state() == v1::JOB_STATE_RUNNING);
  CHECK(restarted->attempt() == 1);
  CHECK(restarted->participants_size() == 2);
  for (int k = 0; k < 2; ++k) {
    std::vector<v1::Task> tasks = nodes[k].sink->TakeTasks();
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].secure().attempt() == 1);
    CHECK_THAT(tasks[0].task_id(), Catch::EndsWith("/1a1/" + nodes[k].id));
    f.manager->OnTaskResult(nodes[k].id, MaskedAnswer(nodes[k], tasks[0], 10));
  }
  absl::StatusOr<v1::Job> done = f.manager->GetJob(job->job_id());
  REQUIRE(done.ok());
  CHECK(done->state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(done->result().count().records() == 20);
}

}  // namespace
}  // namespace spoor
