#ifndef RECONNECT_SERVICE_CLI_REMOTE_COMMANDS_H_
#define RECONNECT_SERVICE_CLI_REMOTE_COMMANDS_H_

#include <string>

#include "service/cli/governance_commands.h"
#include "service/security/tls.h"

namespace reconnect::service {

// The governance commands against a running server's Governance service
// (`--server ADDR`): rule sets are named by digest or as ID@VERSION, and the
// impact candidate must be loaded in the server or recorded in its store.
struct RemoteOptions {
  std::string address;
  ClientTlsOptions tls;
  // A file holding the bearer token (a JWT) to send; empty: none.
  std::string token_file;
};
int RunAuditVerifyRemote(const RemoteOptions& server);
int RunReplayRemote(const RemoteOptions& server,
                    const std::string& decision_id);
int RunDiffRemote(const RemoteOptions& server, const std::string& from,
                  const std::string& to);
int RunImpactRemote(const RemoteOptions& server, const std::string& candidate,
                    const ImpactOptions& options);

// `reconnect admin reload --server ADDR`: reloads every rule-set version
// now, as SIGHUP does, and prints the refusals and the active version (exit
// 1 when any version was refused). `reconnect admin activate ID@VERSION
// --server ADDR`: makes a loaded version the active one. Both need the
// admin role.
int RunAdminRemote(const RemoteOptions& server, const std::string& action,
                   const std::string& rule_set);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_CLI_REMOTE_COMMANDS_H_
