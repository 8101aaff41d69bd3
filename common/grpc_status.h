// Conversions between absl::Status and grpc::Status. The codes have the same
// numeric values in both.
#ifndef SPOOR_COMMON_GRPC_STATUS_H_
#define SPOOR_COMMON_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace spoor {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace spoor

#endif  // SPOOR_COMMON_GRPC_STATUS_H_
