#ifndef RECONNECT_SERVICE_COMMANDS_H_
#define RECONNECT_SERVICE_COMMANDS_H_

#include <string>
#include <vector>

#include "service/auth.h"
#include "service/call_limits.h"
#include "service/tls.h"

namespace reconnect::service {

// The `reconnect` subcommands. Each returns the process exit code: 0 on
// success, 1 when the input or the rule set has problems (all reported),
// 2 on a usage error.

// Loads and checks a rule set; prints every issue as file:line:col.
int RunLint(const std::string& dir);

// Runs a rule set's own test cases and prints rule coverage. Fails when a
// case fails or coverage is below `min_coverage_percent`.
int RunTest(const std::string& dir, double min_coverage_percent);

// Evaluates one assessment (protobuf JSON, from `file` or "-" for stdin)
// and prints the response as JSON.
int RunEval(const std::string& dir, const std::string& file);

// Evaluates one CEL expression and prints "type: value" (or the error with
// its position). With `rules_dir`, the expression sees the rule set's
// params, defs and an `assessment` read from `assessment_file`.
// `variables` are NAME=JSON pairs.
int RunExpr(const std::string& expression,
            const std::vector<std::string>& variables,
            const std::string& rules_dir, const std::string& assessment_file);

struct ServeOptions {
  std::string rules_dir;
  std::string listen;
  bool insecure = false;
  int max_receive_bytes = 0;
  int shutdown_grace_seconds = 0;
  // After SIGTERM, how long readiness reports NOT_SERVING while calls are
  // still taken, before the listener closes.
  int drain_delay_seconds = 0;
  // The audit store's SQLite file, or "off" (decisions are not recorded).
  std::string audit;
  // How often to look for changed rule files (0: only on SIGHUP).
  int reload_poll_seconds = 2;
  // Benchmarks only: Evaluate answers empty at once (see bench/).
  bool empty_handler_for_benchmark = false;
  TlsOptions tls;
  // No policy file: authorization is off (loopback or --insecure only).
  AuthOptions auth;
  // A second, plaintext listener that serves only gRPC health, for
  // Kubernetes probes (which send no client certificate); empty: none.
  std::string health_listen;
  CallLimitOptions limits;
  // A file holding the key (at least 32 bytes) that patient references are
  // stored under, as HMAC-SHA256; empty: they are not stored.
  std::string patient_ref_key_file;
  // Keepalive: the server pings a connection idle this long, and drops it
  // when the answer takes longer than the timeout.
  int keepalive_seconds = 60;
  int keepalive_timeout_seconds = 20;
  // Clients that ping more often than this are sent away (GOAWAY).
  int min_client_ping_interval_seconds = 30;
  // Connections are closed (gracefully) after this long, so that clients
  // spread over new replicas; 0: never.
  int max_connection_age_seconds = 1800;
  // Memory gRPC may use for its buffers before it pushes back.
  int max_grpc_memory_mb = 256;
};

// Serves DecisionSupport, health and reflection until SIGINT or SIGTERM.
int RunServe(const ServeOptions& options);

// `reconnect audit verify FILE`: checks the audit trail in a store file.
// Exit status 0 when intact, 1 when broken, 2 when it cannot be read.
int RunAuditVerify(const std::string& path);

// `reconnect diff FROM TO [--store FILE]`: what changed between two rule-set
// versions, given as directories or, with a store, as digests. Exit status
// 0 when they are the same, 1 when they differ, 2 on errors.
int RunDiff(const std::string& from, const std::string& to,
            const std::string& store);

// `reconnect impact STORE CANDIDATE_DIR [--from T] [--to T]
// [--calling_system S]`: evaluates a candidate rule set over the decisions
// recorded in [from, to) and reports how many would change and, per
// technique, prompt and alert, how many would gain or lose it, with example
// decision ids. Progress goes to stderr. Exit status 0, or 2 on errors.
struct ImpactOptions {
  std::string from;  // RFC 3339; empty: open
  std::string to;
  std::string calling_system;
  int max_examples = 3;
};
int RunImpact(const std::string& store, const std::string& candidate_dir,
              const ImpactOptions& options);

// The same four against a running server's Governance service (`--server
// ADDR`): rule sets are named by digest or as ID@VERSION, and the impact
// candidate must be loaded in the server or recorded in its store.
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

// `reconnect replay FILE [DECISION_ID]`: re-evaluates one recorded decision,
// or every one, with the rule set that made it, and reports whether the
// output is identical or exactly what differs. Exit status 0 when all are
// identical, 1 when any differs, 2 on errors.
int RunReplay(const std::string& path, const std::string& decision_id);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_COMMANDS_H_
