// The researcher's side of the coordinator, as the CLI uses it: the Research
// service (jobs) and the Registry service (container algorithms), over one
// mutually authenticated channel.
#ifndef SPOOR_CLI_CLIENT_H_
#define SPOOR_CLI_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/tls.h"
#include "spoor/v1/registry.grpc.pb.h"
#include "spoor/v1/research.grpc.pb.h"

namespace spoor {

// client.toml: coordinator = "host:port" and a [tls] table.
struct ClientConfig {
  std::string coordinator;
  TlsFiles tls;
  // Study jobs run under unless a command names one (client.toml `study`,
  // or --study); empty: the coordinator picks the requester's only study.
  std::string study;
};

absl::StatusOr<ClientConfig> LoadClientConfig(const std::string& path);

class ResearchClient;

// LoadClientConfig(config_path) and ResearchClient::Connect; a missing file
// is NOT_FOUND saying which --config to pass.
absl::StatusOr<std::unique_ptr<ResearchClient>> ConnectResearchClient(
    const std::string& config_path);

// Every call blocks; errors are the coordinator's status, except that an
// unreachable coordinator (UNAVAILABLE, DEADLINE_EXCEEDED) is UNAVAILABLE
// saying which address failed and what to check. Not thread-safe.
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

  // --- Studies (admins change them; everyone lists their own). ---
  absl::StatusOr<v1::Study> CreateStudy(const std::string& name);
  absl::StatusOr<v1::Study> ChangeStudy(const v1::ChangeStudyRequest& change);
  absl::StatusOr<std::vector<v1::Study>> ListStudies();

  // --- The algorithm registry (proto/spoor/v1/registry.proto). ---

  // Uploads one blob in chunks of kBlobChunkBytes, the first naming
  // `digest` and the size. Idempotent at the server; DATA_LOSS there when
  // the bytes do not hash to `digest`.
  absl::Status PutBlob(const std::string& digest, const std::string& bytes);
  // Registers the image whose index.json is `index_json`; every blob it
  // reaches must have been uploaded.
  absl::StatusOr<v1::AlgorithmRecord> RegisterAlgorithm(const std::string& index_json);
  // `reference`: NAME@VERSION or a manifest digest. NOT_FOUND naming it.
  absl::StatusOr<v1::AlgorithmRecord> GetAlgorithm(const std::string& reference);
  // Sorted by name, then version.
  absl::StatusOr<std::vector<v1::AlgorithmRecord>> ListAlgorithms();
  // `reference`: NAME@VERSION.
  absl::StatusOr<v1::AlgorithmRecord> ReviewAlgorithm(const std::string& reference,
                                                      v1::Verdict verdict,
                                                      const std::string& comment);
  absl::StatusOr<v1::AlgorithmRecord> RevokeAlgorithm(const std::string& reference,
                                                      const std::string& reason);

 private:
  ResearchClient(std::string address, std::string study, std::unique_ptr<v1::Research::Stub> stub,
                 std::unique_ptr<v1::Registry::Stub> registry)
      : address_(std::move(address)),
        study_(std::move(study)),
        stub_(std::move(stub)),
        registry_(std::move(registry)) {}
  absl::Status CallError(const grpc::Status& status) const;

  std::string address_;
  std::string study_;
  std::unique_ptr<v1::Research::Stub> stub_;
  std::unique_ptr<v1::Registry::Stub> registry_;
};

}  // namespace spoor

#endif  // SPOOR_CLI_CLIENT_H_
