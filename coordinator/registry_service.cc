#include "coordinator/registry_service.h"

#include <algorithm>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "common/algorithm_reference.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/tls.h"

namespace spoor {
namespace {

constexpr std::initializer_list<Role> kPeople = {Role::kResearcher, Role::kReviewer, Role::kAdmin};
constexpr std::initializer_list<Role> kReaders = {Role::kNode, Role::kResearcher, Role::kReviewer,
                                                  Role::kAdmin};

}  // namespace

grpc::Status RegistryService::PutBlob(grpc::ServerContext* context,
                                      grpc::ServerReader<v1::BlobChunk>* reader,
                                      v1::PutBlobResponse* response) {
  absl::StatusOr<v1::Requester> requester =
      access_.Authorize(PeerCertificatePem(*context->auth_context()), kPeople, "upload algorithms");
  if (!requester.ok()) return ToGrpcStatus(requester.status());
  v1::BlobChunk chunk;
  std::string digest;
  int64_t size = -1;
  std::string bytes;
  while (reader->Read(&chunk)) {
    if (size < 0) {
      digest = chunk.digest();
      size = chunk.size();
      if (size < 0 || size > kMaxBlobBytes) {
        return ToGrpcStatus(absl::InvalidArgumentError(
            absl::StrCat("a blob may hold at most ", kMaxBlobBytes >> 20, " MiB")));
      }
      bytes.reserve(size);
    }
    if (static_cast<int64_t>(bytes.size() + chunk.data().size()) > size) {
      return ToGrpcStatus(absl::InvalidArgumentError(
          absl::StrCat("blob ", digest, " is longer than its announced size")));
    }
    bytes += chunk.data();
  }
  if (size < 0 || static_cast<int64_t>(bytes.size()) != size) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("blob ", digest, " ended before its announced size")));
  }
  absl::Status stored = store_.PutBlob(digest, bytes);
  if (!stored.ok()) return ToGrpcStatus(stored);
  response->set_digest(digest);
  response->set_size(size);
  return grpc::Status::OK;
}

grpc::Status RegistryService::FetchBlob(grpc::ServerContext* context,
                                        const v1::FetchBlobRequest* request,
                                        grpc::ServerWriter<v1::BlobChunk>* writer) {
  absl::StatusOr<v1::Requester> requester =
      access_.Authorize(PeerCertificatePem(*context->auth_context()), kReaders, "fetch images");
  if (!requester.ok()) return ToGrpcStatus(requester.status());
  absl::StatusOr<std::string> bytes = store_.ReadBlob(request->digest());
  if (!bytes.ok()) return ToGrpcStatus(bytes.status());
  v1::BlobChunk chunk;
  chunk.set_digest(request->digest());
  chunk.set_size(static_cast<int64_t>(bytes->size()));
  size_t offset = 0;
  do {
    size_t n = std::min<size_t>(kBlobChunkBytes, bytes->size() - offset);
    chunk.set_data(bytes->substr(offset, n));
    if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "fetch cancelled");
    offset += n;
  } while (offset < bytes->size());
  return grpc::Status::OK;
}

grpc::Status RegistryService::RegisterAlgorithm(grpc::ServerContext* context,
                                                const v1::RegisterAlgorithmRequest* request,
                                                v1::AlgorithmRecord* response) {
  absl::StatusOr<v1::Requester> requester = access_.Authorize(
      PeerCertificatePem(*context->auth_context()), kPeople, "register algorithms");
  if (!requester.ok()) return ToGrpcStatus(requester.status());
  absl::StatusOr<v1::AlgorithmRecord> record = store_.Register(*requester, request->index_json());
  if (!record.ok()) {
    return ToGrpcStatus(access_.Refuse(*requester, "register an algorithm", record.status()));
  }
  access_
      .Audit("algorithm_registered",
             {{"who", requester->name()},
              {"organisation", requester->organisation()},
              {"algorithm", AlgorithmReference(record->name(), record->version())},
              {"digest", record->manifest_digest()}})
      .IgnoreError();
  LogInfo("algorithm ", AlgorithmReference(record->name(), record->version()), " (",
          record->manifest_digest(), ") registered by ", requester->name(), " of ",
          requester->organisation());
  *response = *std::move(record);
  return grpc::Status::OK;
}

grpc::Status RegistryService::GetAlgorithm(grpc::ServerContext* context,
                                           const v1::GetAlgorithmRequest* request,
                                           v1::AlgorithmRecord* response) {
  absl::StatusOr<v1::Requester> requester = access_.Authorize(
      PeerCertificatePem(*context->auth_context()), kReaders, "read the registry");
  if (!requester.ok()) return ToGrpcStatus(requester.status());
  absl::StatusOr<v1::AlgorithmRecord> record = store_.Get(request->reference());
  if (!record.ok()) return ToGrpcStatus(record.status());
  *response = *std::move(record);
  return grpc::Status::OK;
}

grpc::Status RegistryService::ListAlgorithms(grpc::ServerContext* context,
                                             const v1::ListAlgorithmsRequest* request,
                                             v1::ListAlgorithmsResponse* response) {
  absl::StatusOr<v1::Requester> requester = access_.Authorize(
      PeerCertificatePem(*context->auth_context()), kReaders, "read the registry");
  if (!requester.ok()) return ToGrpcStatus(requester.status());
  absl::StatusOr<std::vector<v1::AlgorithmRecord>> records = store_.List();
  if (!records.ok()) return ToGrpcStatus(records.status());
  for (v1::AlgorithmRecord& record : *records) *response->add_algorithms() = std::move(record);
  return grpc::Status::OK;
}

grpc::Status RegistryService::ReviewAlgorithm(grpc::ServerContext* context,
                                              const v1::ReviewAlgorithmRequest* request,
                                              v1::AlgorithmRecord* response) {
  absl::StatusOr<v1::Requester> requester =
      access_.Authorize(PeerCertificatePem(*context->auth_context()), kPeople, "review algorithms");
  if (!requester.ok()) return ToGrpcStatus(requester.status());
  absl::StatusOr<v1::AlgorithmRecord> record =
      store_.Review(*requester, request->reference(), request->verdict(), request->comment());
  if (!record.ok()) {
    return ToGrpcStatus(access_.Refuse(*requester, "review an algorithm", record.status()));
  }
  access_
      .Audit("algorithm_reviewed", {{"who", requester->name()},
                                    {"organisation", requester->organisation()},
                                    {"algorithm", request->reference()},
                                    {"digest", record->manifest_digest()},
                                    {"verdict", v1::Verdict_Name(request->verdict())}})
      .IgnoreError();
  LogInfo("algorithm ", request->reference(), " reviewed by ", requester->name(), " of ",
          requester->organisation(), ": ", v1::Verdict_Name(request->verdict()));
  *response = *std::move(record);
  return grpc::Status::OK;
}

grpc::Status RegistryService::RevokeAlgorithm(grpc::ServerContext* context,
                                              const v1::RevokeAlgorithmRequest* request,
                                              v1::AlgorithmRecord* response) {
  absl::StatusOr<v1::Requester> requester =
      access_.Authorize(PeerCertificatePem(*context->auth_context()), kPeople, "revoke algorithms");
  if (!requester.ok()) return ToGrpcStatus(requester.status());
  absl::StatusOr<v1::AlgorithmRecord> record =
      store_.Revoke(*requester, request->reference(), request->reason());
  if (!record.ok()) {
    return ToGrpcStatus(access_.Refuse(*requester, "revoke an algorithm", record.status()));
  }
  access_
      .Audit("algorithm_revoked", {{"who", requester->name()},
                                   {"algorithm", request->reference()},
                                   {"digest", record->manifest_digest()}})
      .IgnoreError();
  LogWarning("algorithm ", request->reference(), " revoked by ", requester->name(), ": ",
             request->reason());
  *response = *std::move(record);
  return grpc::Status::OK;
}

}  // namespace spoor
