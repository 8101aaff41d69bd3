// RPC adapter for the Registry service (proto/spoor/v1/registry.proto):
// authenticates the caller from its certificate, maps Status to grpc::Status
// and delegates to the AlgorithmStore.
//   PutBlob, RegisterAlgorithm   researcher, reviewer or admin
//   ReviewAlgorithm              reviewer or admin (the store checks)
//   RevokeAlgorithm              admin (the store checks)
//   GetAlgorithm, ListAlgorithms, FetchBlob
//                                any consortium certificate but the
//                                coordinator's: nodes fetch and check, people
//                                read what they review and run
// Uploads are limited to kMaxBlobBytes per blob.
#ifndef SPOOR_COORDINATOR_REGISTRY_SERVICE_H_
#define SPOOR_COORDINATOR_REGISTRY_SERVICE_H_

#include "coordinator/access_control.h"
#include "coordinator/algorithm_store.h"
#include "spoor/v1/registry.grpc.pb.h"

namespace spoor {

inline constexpr int64_t kMaxBlobBytes = int64_t{512} << 20;
inline constexpr int64_t kBlobChunkBytes = int64_t{1} << 20;

class RegistryService final : public v1::Registry::Service {
 public:
  // `store` must outlive the service.
  // `store` and `access` must outlive the service.
  RegistryService(AlgorithmStore& store, AccessControl& access) : store_(store), access_(access) {}

  grpc::Status PutBlob(grpc::ServerContext* context, grpc::ServerReader<v1::BlobChunk>* reader,
                       v1::PutBlobResponse* response) override;
  grpc::Status FetchBlob(grpc::ServerContext* context, const v1::FetchBlobRequest* request,
                         grpc::ServerWriter<v1::BlobChunk>* writer) override;
  grpc::Status RegisterAlgorithm(grpc::ServerContext* context,
                                 const v1::RegisterAlgorithmRequest* request,
                                 v1::AlgorithmRecord* response) override;
  grpc::Status GetAlgorithm(grpc::ServerContext* context, const v1::GetAlgorithmRequest* request,
                            v1::AlgorithmRecord* response) override;
  grpc::Status ListAlgorithms(grpc::ServerContext* context,
                              const v1::ListAlgorithmsRequest* request,
                              v1::ListAlgorithmsResponse* response) override;
  grpc::Status ReviewAlgorithm(grpc::ServerContext* context,
                               const v1::ReviewAlgorithmRequest* request,
                               v1::AlgorithmRecord* response) override;
  grpc::Status RevokeAlgorithm(grpc::ServerContext* context,
                               const v1::RevokeAlgorithmRequest* request,
                               v1::AlgorithmRecord* response) override;

 private:
  AlgorithmStore& store_;
  AccessControl& access_;
};

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_REGISTRY_SERVICE_H_
