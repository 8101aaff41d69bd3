#include "cli/client.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/file_util.h"
#include "common/grpc_status.h"
#include "common/status.h"
#include "coordinator/registry_service.h"
#include "grpcpp/create_channel.h"

namespace spoor {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(30);

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
}

}  // namespace

absl::StatusOr<ClientConfig> LoadClientConfig(const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(ConfigTable root, LoadConfig(path));
  SPOOR_RETURN_IF_ERROR(root.CheckKnownKeys({"coordinator", "tls", "study"}));
  ClientConfig config;
  SPOOR_ASSIGN_OR_RETURN(config.coordinator, root.RequiredString("coordinator"));
  SPOOR_ASSIGN_OR_RETURN(config.study, root.OptionalString("study", ""));
  SPOOR_ASSIGN_OR_RETURN(config.tls, ReadTlsFiles(root, path));
  return config;
}

absl::StatusOr<std::unique_ptr<ResearchClient>> ConnectResearchClient(
    const std::string& config_path) {
  absl::StatusOr<ClientConfig> config = LoadClientConfig(config_path);
  if (!config.ok()) {
    if (absl::IsNotFound(config.status())) {
      return absl::NotFoundError(absl::StrCat(config.status().message(),
                                              "; pass --config with the client.toml your "
                                              "consortium or `spoor sandbox start` gave you"));
    }
    return config.status();
  }
  return ResearchClient::Connect(*config);
}

absl::StatusOr<std::unique_ptr<ResearchClient>> ResearchClient::Connect(
    const ClientConfig& config) {
  SPOOR_ASSIGN_OR_RETURN(TlsMaterial tls, LoadTlsMaterial(config.tls));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(config.coordinator, MakeChannelCredentials(tls), args);
  return std::unique_ptr<ResearchClient>(new ResearchClient(config.coordinator, config.study,
                                                            v1::Research::NewStub(channel),
                                                            v1::Registry::NewStub(channel)));
}

absl::Status ResearchClient::CallError(const grpc::Status& status) const {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach the coordinator at ", address_, " (", status.error_message(),
        "); check that it is running and that `coordinator` in the client config is right"));
  }
  return FromGrpcStatus(status);
}

absl::StatusOr<std::vector<v1::NodeStatus>> ResearchClient::ListNodes() {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ListNodesResponse response;
  grpc::Status status = stub_->ListNodes(&context, v1::ListNodesRequest(), &response);
  if (!status.ok()) return CallError(status);
  return std::vector<v1::NodeStatus>(response.nodes().begin(), response.nodes().end());
}

absl::StatusOr<v1::Study> ResearchClient::CreateStudy(const std::string& name) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::CreateStudyRequest request;
  request.set_name(name);
  v1::Study response;
  grpc::Status status = stub_->CreateStudy(&context, request, &response);
  if (!status.ok()) return CallError(status);
  return response;
}

absl::StatusOr<v1::Study> ResearchClient::ChangeStudy(const v1::ChangeStudyRequest& change) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::Study response;
  grpc::Status status = stub_->ChangeStudy(&context, change, &response);
  if (!status.ok()) return CallError(status);
  return response;
}

absl::StatusOr<std::vector<v1::Study>> ResearchClient::ListStudies() {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ListStudiesResponse response;
  grpc::Status status = stub_->ListStudies(&context, v1::ListStudiesRequest(), &response);
  if (!status.ok()) return CallError(status);
  return std::vector<v1::Study>(response.studies().begin(), response.studies().end());
}

absl::StatusOr<std::vector<v1::Job>> ResearchClient::ListJobs(int limit) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ListJobsRequest request;
  request.set_limit(limit);
  v1::ListJobsResponse response;
  grpc::Status status = stub_->ListJobs(&context, request, &response);
  if (!status.ok()) return CallError(status);
  return std::vector<v1::Job>(response.jobs().begin(), response.jobs().end());
}

absl::StatusOr<v1::Job> ResearchClient::GetJob(const std::string& job_id) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  v1::Job job;
  grpc::Status status = stub_->GetJob(&context, request, &job);
  if (!status.ok()) return CallError(status);
  return job;
}

absl::StatusOr<v1::Job> ResearchClient::RunJob(const v1::JobSpec& spec, bool show_progress) {
  v1::Job submitted;
  {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    if (spec.study().empty()) request.mutable_spec()->set_study(study_);
    grpc::Status status = stub_->SubmitJob(&context, request, &submitted);
    if (!status.ok()) return CallError(status);
  }
  // Watch until the final event. A broken stream (the coordinator
  // restarting, say) is re-watched for up to kRewatchFor: the job resumes
  // on the coordinator and so does this command.
  constexpr absl::Duration kRewatchFor = absl::Seconds(90);
  absl::Time give_up = absl::Now() + kRewatchFor;
  bool drew = false;
  auto clear = [&] {
    if (drew) std::fprintf(stderr, "\r\033[K");
    drew = false;
  };
  for (;;) {
    grpc::ClientContext context;
    v1::WatchJobRequest request;
    request.set_job_id(submitted.job_id());
    std::unique_ptr<grpc::ClientReader<v1::JobEvent>> reader = stub_->WatchJob(&context, request);
    v1::JobEvent event;
    while (reader->Read(&event)) {
      if (event.has_finished()) {
        clear();
        context.TryCancel();
        reader->Finish();
        return event.finished();
      }
      if (show_progress && event.has_progress()) {
        std::fprintf(stderr, "\r\033[Kjob %s  round %d: %d/%d nodes done",
                     submitted.job_id().c_str(), event.progress().round(),
                     event.progress().nodes_done(), event.progress().nodes_total());
        std::fflush(stderr);
        drew = true;
      }
    }
    grpc::Status status = reader->Finish();
    if (status.ok() || status.error_code() != grpc::StatusCode::UNAVAILABLE ||
        absl::Now() > give_up) {
      clear();
      if (!status.ok()) return CallError(status);
      return GetJob(submitted.job_id());
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
}

absl::Status ResearchClient::PutBlob(const std::string& digest, const std::string& bytes) {
  grpc::ClientContext context;
  // A large layer over a slow link: a minute, plus a second per MiB.
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::Seconds(60) +
                         absl::Seconds(static_cast<int64_t>(bytes.size() / kBlobChunkBytes))));
  v1::PutBlobResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::BlobChunk>> writer =
      registry_->PutBlob(&context, &response);
  size_t offset = 0;
  do {  // at least one chunk, even for an empty blob
    const size_t n = std::min<size_t>(kBlobChunkBytes, bytes.size() - offset);
    v1::BlobChunk chunk;
    if (offset == 0) {
      chunk.set_digest(digest);
      chunk.set_size(static_cast<int64_t>(bytes.size()));
    }
    chunk.set_data(bytes.substr(offset, n));
    offset += n;
    if (!writer->Write(chunk)) break;  // the server ended the call; Finish says why
  } while (offset < bytes.size());
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) return CallError(status);
  return absl::OkStatus();
}

absl::StatusOr<v1::AlgorithmRecord> ResearchClient::RegisterAlgorithm(
    const std::string& index_json) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::RegisterAlgorithmRequest request;
  request.set_index_json(index_json);
  v1::AlgorithmRecord record;
  grpc::Status status = registry_->RegisterAlgorithm(&context, request, &record);
  if (!status.ok()) return CallError(status);
  return record;
}

absl::StatusOr<v1::AlgorithmRecord> ResearchClient::GetAlgorithm(const std::string& reference) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::GetAlgorithmRequest request;
  request.set_reference(reference);
  v1::AlgorithmRecord record;
  grpc::Status status = registry_->GetAlgorithm(&context, request, &record);
  if (!status.ok()) return CallError(status);
  return record;
}

absl::StatusOr<std::vector<v1::AlgorithmRecord>> ResearchClient::ListAlgorithms() {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ListAlgorithmsResponse response;
  grpc::Status status = registry_->ListAlgorithms(&context, v1::ListAlgorithmsRequest(), &response);
  if (!status.ok()) return CallError(status);
  return std::vector<v1::AlgorithmRecord>(response.algorithms().begin(),
                                          response.algorithms().end());
}

absl::StatusOr<v1::AlgorithmRecord> ResearchClient::ReviewAlgorithm(const std::string& reference,
                                                                    v1::Verdict verdict,
                                                                    const std::string& comment) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ReviewAlgorithmRequest request;
  request.set_reference(reference);
  request.set_verdict(verdict);
  request.set_comment(comment);
  v1::AlgorithmRecord record;
  grpc::Status status = registry_->ReviewAlgorithm(&context, request, &record);
  if (!status.ok()) return CallError(status);
  return record;
}

absl::StatusOr<v1::AlgorithmRecord> ResearchClient::RevokeAlgorithm(const std::string& reference,
                                                                    const std::string& reason) {
  grpc::ClientContext context;
  SetDeadline(context);
  v1::RevokeAlgorithmRequest request;
  request.set_reference(reference);
  request.set_reason(reason);
  v1::AlgorithmRecord record;
  grpc::Status status = registry_->RevokeAlgorithm(&context, request, &record);
  if (!status.ok()) return CallError(status);
  return record;
}

}  // namespace spoor
