#include "coordinator/coordinator_config.h"

#include "common/config.h"
#include "common/container_runner.h"
#include "common/file_util.h"
#include "common/status.h"

namespace spoor {

absl::StatusOr<CoordinatorConfig> LoadCoordinatorConfig(const std::string& path) {
  SPOOR_ASSIGN_OR_RETURN(ConfigTable root, LoadConfig(path));
  SPOOR_RETURN_IF_ERROR(root.CheckKnownKeys(
      {"listen", "data_dir", "tls", "jobs", "disclosure", "registry", "containers", "limits"}));
  CoordinatorConfig config;
  SPOOR_ASSIGN_OR_RETURN(config.listen, root.OptionalString("listen", config.listen));
  SPOOR_ASSIGN_OR_RETURN(config.data_dir, root.RequiredString("data_dir"));
  config.data_dir = ResolveRelativeTo(path, config.data_dir);
  SPOOR_ASSIGN_OR_RETURN(config.tls, ReadTlsFiles(root, path));
  SPOOR_ASSIGN_OR_RETURN(ConfigTable jobs, root.Table("jobs"));
  SPOOR_RETURN_IF_ERROR(jobs.CheckKnownKeys({"node_timeout_seconds", "heartbeat_seconds"}));
  SPOOR_ASSIGN_OR_RETURN(int64_t timeout,
                         jobs.OptionalInteger("node_timeout_seconds", 60, 0, 7 * 24 * 3600));
  SPOOR_ASSIGN_OR_RETURN(int64_t heartbeat, jobs.OptionalInteger("heartbeat_seconds", 5, 1, 3600));
  config.node_timeout = absl::Seconds(timeout);
  config.heartbeat_interval = absl::Seconds(heartbeat);
  SPOOR_ASSIGN_OR_RETURN(ConfigTable disclosure, root.Table("disclosure"));
  SPOOR_RETURN_IF_ERROR(disclosure.CheckKnownKeys({"min_sites"}));
  SPOOR_ASSIGN_OR_RETURN(config.min_sites, disclosure.OptionalInteger("min_sites", config.min_sites,
                                                                      1, 1'000'000'000));

  SPOOR_ASSIGN_OR_RETURN(ConfigTable registry, root.Table("registry"));
  SPOOR_RETURN_IF_ERROR(
      registry.CheckKnownKeys({"trusted_signers", "required_approvals", "required_organisations"}));
  SPOOR_ASSIGN_OR_RETURN(config.trusted_signers, registry.OptionalStringList("trusted_signers"));
  for (std::string& signer : config.trusted_signers) signer = ResolveRelativeTo(path, signer);
  SPOOR_ASSIGN_OR_RETURN(config.required_approvals,
                         registry.OptionalInteger("required_approvals", 2, 1, 100));
  SPOOR_ASSIGN_OR_RETURN(
      config.required_organisations,
      registry.OptionalInteger("required_organisations", 2, 1, config.required_approvals));

  SPOOR_ASSIGN_OR_RETURN(ConfigTable containers, root.Table("containers"));
  std::set<std::string> known = {"runc", "work_dir"};
  known.insert(kSandboxLimitKeys.begin(), kSandboxLimitKeys.end());
  SPOOR_RETURN_IF_ERROR(containers.CheckKnownKeys(known));
  SPOOR_ASSIGN_OR_RETURN(config.runc, containers.OptionalString("runc", "runc"));
  SPOOR_ASSIGN_OR_RETURN(config.container_work_dir, containers.OptionalString("work_dir", ""));
  if (!config.container_work_dir.empty()) {
    config.container_work_dir = ResolveRelativeTo(path, config.container_work_dir);
  }
  SPOOR_ASSIGN_OR_RETURN(config.container_limits, ReadSandboxLimits(containers));

  SPOOR_ASSIGN_OR_RETURN(ConfigTable limits, root.Table("limits"));
  SPOOR_RETURN_IF_ERROR(limits.CheckKnownKeys({"calls_per_second", "burst", "max_message_mb"}));
  SPOOR_ASSIGN_OR_RETURN(int64_t rate, limits.OptionalInteger("calls_per_second", 50, 0, 100000));
  SPOOR_ASSIGN_OR_RETURN(int64_t burst, limits.OptionalInteger("burst", 200, 1, 1000000));
  config.rate_limit.calls_per_second = static_cast<double>(rate);
  config.rate_limit.burst = static_cast<double>(burst);
  SPOOR_ASSIGN_OR_RETURN(config.max_message_mb,
                         limits.OptionalInteger("max_message_mb", config.max_message_mb, 1, 1024));
  return config;
}

}  // namespace spoor
