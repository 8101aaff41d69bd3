// coordinator.toml: see docs/operators.md for every key.
#ifndef SPOOR_COORDINATOR_COORDINATOR_CONFIG_H_
#define SPOOR_COORDINATOR_COORDINATOR_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/runc_sandbox.h"
#include "common/tls.h"
#include "coordinator/access_control.h"

namespace spoor {

struct CoordinatorConfig {
  // host:port to listen on; port 0 picks a free port, written to
  // data_dir/address once listening.
  std::string listen = "127.0.0.1:7070";
  // Holds jobs.db (SQLite, WAL) and the address file.
  std::string data_dir;
  TlsFiles tls;
  absl::Duration node_timeout = absl::Seconds(60);
  absl::Duration heartbeat_interval = absl::Seconds(5);
  // [disclosure] min_sites: a job must run over at least this many nodes.
  // Each node also enforces its own minimum (node.toml); this one refuses
  // early, at submit, with advice for the researcher.
  int64_t min_sites = 3;

  // [registry]: signing keys (public key files) the registry accepts
  // algorithm images from, and the approval policy: required_approvals
  // approvals from required_organisations distinct organisations.
  std::vector<std::string> trusted_signers;
  int64_t required_approvals = 2;
  int64_t required_organisations = 2;

  // [containers]: the sandbox a container algorithm's central step runs in.
  std::string runc = "runc";
  std::string container_work_dir;  // empty: data_dir/containers
  SandboxLimits container_limits;

  // [limits]: calls per second (and burst) per identity, 0 = unlimited; the
  // largest gRPC message accepted or sent.
  RateLimit rate_limit;
  int64_t max_message_mb = 64;
};

// INVALID_ARGUMENT with file:line for a malformed file (unknown keys, wrong
// types, out-of-range values such as disclosure.min_sites < 1); relative
// paths are resolved against the config file's directory.
absl::StatusOr<CoordinatorConfig> LoadCoordinatorConfig(const std::string& path);

}  // namespace spoor

#endif  // SPOOR_COORDINATOR_COORDINATOR_CONFIG_H_
