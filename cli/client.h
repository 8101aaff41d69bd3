// The researcher's side of the Research service, as the CLI uses it.
#ifndef SPOOR_CLI_CLIENT_H_
#define SPOOR_CLI_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/tls.h"
#include "spoor/v1/research.grpc.pb.h"

namespace spoor {

// client.toml: coordinator = "host:port" and a [tls] table.
struct ClientConfig {
  std::string coordinator;
  TlsFiles tls;
};

absl::StatusOr<ClientConfig> LoadClientConfig(const std::string& path);

class ResearchClient {
 public:
  static absl::StatusOr<std::unique_ptr<ResearchClient>> Connect(const ClientConfig& config);

  absl::StatusOr<std::vector<v1::NodeStatus>> ListNodes();
  absl::StatusOr<std::vector<v1::Job>> ListJobs(int limit);
  absl::StatusOr<v1::Job> GetJob(const std::string& job_id);

  // Submits `spec` and waits for the job to finish, drawing progress on
  // stderr when `show_progress`. Returns the finished job (succeeded or
  // failed); a non-OK status only when the call itself failed.
  absl::StatusOr<v1::Job> RunJob(const v1::JobSpec& spec, bool show_progress);

 private:
  explicit ResearchClient(std::string address, std::unique_ptr<v1::Research::Stub> stub)
      : address_(std::move(address)), stub_(std::move(stub)) {}
  absl::Status CallError(const grpc::Status& status) const;

  std::string address_;
  std::unique_ptr<v1::Research::Stub> stub_;
};

}  // namespace spoor

#endif  // SPOOR_CLI_CLIENT_H_
