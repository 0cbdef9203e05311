#ifndef RECONNECT_SERVICE_CLI_SERVE_H_
#define RECONNECT_SERVICE_CLI_SERVE_H_

#include <string>

#include "engine/ruleset/rule_set.h"
#include "service/http/http_access.h"
#include "service/http/http_server.h"
#include "service/security/auth.h"
#include "service/security/call_limits.h"
#include "service/security/cds_clients.h"
#include "service/security/tls.h"

namespace reconnect::service {

// `reconnect serve`: its options (one per flag) and the server's life.

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
  // The CEL cost an explained call's missing-data analysis may spend.
  int64_t missing_data_budget =
      ruleset::CompiledRuleSet::kDefaultMissingDataBudget;
  // Benchmarks only: Evaluate answers empty at once (see bench/).
  bool empty_handler_for_benchmark = false;
  TlsOptions tls;
  // No policy file: authorization is off (loopback or --insecure only).
  AuthOptions auth;
  // A second, plaintext listener that serves only gRPC health, for
  // Kubernetes probes (which send no client certificate); empty: none.
  std::string health_listen;
  // A plaintext HTTP listener that serves Prometheus metrics at /metrics
  // and nothing else, so that a scraper needs no client certificate;
  // empty: no metrics are kept.
  std::string metrics_listen;
  // An HTTP/1.1 listener (CDS Hooks); empty: none. TLS comes from `tls`.
  std::string http_listen;
  http::HttpOptions http;
  // The CDS clients (EHRs) trusted on the HTTP listener; no file: HTTP
  // callers are not authenticated (loopback only).
  CdsClientOptions cds_clients;
  http::HttpAccessOptions http_access;
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
  // Calls open at once on one connection (HTTP/2 streams); more wait at
  // the client.
  int max_streams_per_connection = 100;
  // Server reflection on the main listener: "auto" (only while
  // authorization is off), "on" or "off". Never on the health listener.
  std::string reflection = "auto";
  // The signers' public keys (a JWKS file): every signature a version
  // holds must verify against them; empty: signatures are not checked.
  std::string rule_signers;
  // The roles (comma-separated) that must each have signed a version
  // before it serves; needs rule_signers.
  std::string require_signatures;
};

class RuleSetVersions;

// Sets on `versions` the sign-off check `options` ask for (none without
// --rule_signers); false, logged, when the options are refused
// (serve_sign_off.cc).
bool SetSignOffCheck(const ServeOptions& options, RuleSetVersions& versions);

// The first limit among `options` that makes no sense, as a message that
// names its flag; empty when they all do (serve_limits.cc).
std::string CheckServeLimits(const ServeOptions& options);

// Whether `address` is on loopback, where plaintext without authentication
// is allowed (serve_limits.cc).
bool IsLoopback(const std::string& address);

// Serves DecisionSupport, health and reflection until SIGINT or SIGTERM.
int RunServe(const ServeOptions& options);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_CLI_SERVE_H_
