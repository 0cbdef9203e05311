#include "service/cli/serve.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "service/api/arrival_authentication.h"
#include "service/api/decision_support_service.h"
#include "service/api/governance_service.h"
#include "service/api/serving_health.h"
#include "service/audit/audit_store.h"
#include "service/cli/serve_http.h"
#include "service/common/files.h"
#include "service/common/log.h"
#include "service/common/today.h"
#include "service/decision/decision_engine.h"
#include "service/decision/rule_set_registry.h"
#include "service/decision/rule_set_versions.h"
#include "service/http/cds_hooks.h"
#include "service/metrics/metrics_listener.h"
#include "service/metrics/service_metrics.h"
#include "service/security/tls.h"
#include "service/web/governance_routes.h"
#include "service/web/mdt_routes.h"

namespace reconnect::service {

namespace {

// The exit codes of `serve`: a refused configuration is a usage error.
constexpr int kExitRefused = 2;
constexpr int kExitFailed = 1;

// Takes server reflection out of a builder's plugins. The reflection
// library adds its plugin to every builder as soon as it is loaded, so a
// server without reflection must say so.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->erase(
        std::remove_if(
            plugins->begin(), plugins->end(),
            [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
              return dynamic_cast<
                         grpc::reflection::ProtoServerReflectionPlugin*>(
                         p.get()) != nullptr;
            }),
        plugins->end());
  }
};

// Server reflection lists the services and their schemas to any caller
// that reaches the port: the gRPC plugin does not pass through the
// authorizer. "auto" serves it only while authorization is off (a local
// service); with a policy it takes an explicit --reflection=on.
bool ReflectionOn(const ServeOptions& o) {
  const bool on = o.reflection == "on" ||
                  (o.reflection == "auto" && o.auth.policy_file.empty());
  Log(LogLevel::kInfo, on ? "reflection_on" : "reflection_off",
      {{"reflection", o.reflection},
       {"reason", on ? (o.reflection == "on"
                            ? "--reflection=on: any caller may list the API"
                            : "authorization is off (no --policy)")
                     : "callers are authorized (--policy); --reflection=on "
                       "serves it to any caller"}});
  return on;
}

// Plaintext is allowed on loopback, or beyond it with --insecure (logged).
bool CheckTransport(const ServeOptions& options, bool tls, bool loopback) {
  if (!tls && !loopback && !options.insecure) {
    Log(LogLevel::kError, "refused_plaintext",
        {{"listen", options.listen},
         {"reason",
          "plaintext is allowed only on loopback; configure --tls_cert and "
          "--tls_key, or pass --insecure to override"}});
    return false;
  }
  if (!tls && !loopback) {
    Log(LogLevel::kWarning, "insecure_listener",
        {{"listen", options.listen},
         {"reason", "serving plaintext beyond loopback (--insecure)"}});
  }
  return true;
}

// The authorizer the options ask for; null (the refusal logged) when they
// are refused.
std::unique_ptr<Authorizer> MakeAuthorizer(const ServeOptions& options,
                                           bool loopback) {
  if (options.auth.policy_file.empty()) {
    if (!options.auth.jwks_file.empty()) {
      Log(LogLevel::kError, "auth_refused",
          {{"reason",
            "--jwks needs --policy: the policy maps token subjects "
            "to roles"}});
      return nullptr;
    }
    if (!loopback && !options.insecure) {
      Log(LogLevel::kError, "auth_refused",
          {{"listen", options.listen},
           {"reason",
            "without --policy every caller may do everything; that is "
            "allowed only on loopback, or with --insecure"}});
      return nullptr;
    }
    Log(LogLevel::kWarning, "authorization_off",
        {{"reason",
          "no --policy: every caller holds every role and audit records "
          "name no caller; for local use only"}});
    return Authorizer::Off();
  }
  auto created = Authorizer::Create(options.auth);
  if (!created.ok()) {
    Log(LogLevel::kError, "auth_refused",
        {{"reason", std::string(created.status().message())}});
    return nullptr;
  }
  Log(LogLevel::kInfo, "authorization_on",
      {{"policy", options.auth.policy_file},
       {"bearer_tokens", !options.auth.jwks_file.empty()},
       {"client_certificates", !options.tls.client_ca_file.empty()}});
  return *std::move(created);
}

// The audit store: every answer is recorded before it is returned. Null
// with --audit=off; an error (logged) when the store cannot be opened.
absl::StatusOr<std::unique_ptr<AuditStore>> OpenAuditStore(
    const ServeOptions& options, ServiceMetrics* metrics) {
  if (options.audit == "off") {
    Log(LogLevel::kWarning, "audit_disabled",
        {{"reason",
          "--audit=off: decisions are NOT recorded and cannot be audited or "
          "replayed; for local experiments only, never for clinical use"}});
    return nullptr;
  }
  AuditStore::Options store_options;
  store_options.path = options.audit;
  if (metrics != nullptr) {
    store_options.on_commit = [metrics](const CommitReport& report) {
      metrics->Committed(report);
    };
  }
  auto opened = AuditStore::Open(std::move(store_options));
  if (!opened.ok()) {
    Log(LogLevel::kError, "audit_store_failed",
        {{"path", StoreNameForLogs(options.audit)},
         {"reason", std::string(opened.status().message())}});
    return opened.status();
  }
  Log(LogLevel::kInfo, "audit_store_opened",
      {{"path", StoreNameForLogs(options.audit)}});
  return opened;
}

// Gives the service the key that patient references are stored under;
// false (logged) when the key file is refused.
bool ConfigurePatientRefKey(const ServeOptions& options,
                            DecisionSupportService& service,
                            http::CdsHooksRoutes& cds_hooks,
                            http::FhirRoutes& fhir, web::MdtRoutes& mdt) {
  if (options.patient_ref_key_file.empty()) {
    Log(LogLevel::kWarning, "patient_ref_not_stored",
        {{"reason",
          "no --patient_ref_key: patient references are left out of audit "
          "records, so decisions cannot be linked to a patient"}});
    return true;
  }
  auto key = ReadWholeFile(options.patient_ref_key_file, "--patient_ref_key");
  if (!key.ok() || key->size() < 32) {
    Log(LogLevel::kError, "patient_ref_key_refused",
        {{"path", options.patient_ref_key_file},
         {"reason", !key.ok() ? std::string(key.status().message())
                              : "holds fewer than 32 bytes; an HMAC key "
                                "needs at least 32 random bytes"}});
    return false;
  }
  service.SetPatientRefKey(*key);
  cds_hooks.SetPatientRefKey(*key);
  mdt.SetPatientRefKey(*key);
  fhir.SetPatientRefKey(*std::move(key));
  return true;
}

// Message size, keepalive (enforced both ways: idle connections are probed,
// and clients that ping too often are sent away after two strikes),
// connection age and gRPC's memory quota.
void ApplyTransportLimits(const ServeOptions& options,
                          grpc::ResourceQuota& quota,
                          grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             options.keepalive_seconds * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             options.keepalive_timeout_seconds * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      options.min_client_ping_interval_seconds * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  // Streams open at once on one connection: calls beyond wait at the
  // client, so one connection cannot hold the server's memory.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_streams_per_connection);
  if (options.max_connection_age_seconds > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               options.max_connection_age_seconds * 1000);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               options.shutdown_grace_seconds * 1000);
  }
  quota.Resize(static_cast<size_t>(options.max_grpc_memory_mb) << 20);
  builder.SetResourceQuota(quota);
}

// Kubernetes probes speak plaintext gRPC health and send no client
// certificate, so they get a listener of their own that serves nothing else
// (the chart's NetworkPolicy admits only the kubelet to it). Null when
// --health_listen is empty; sets `port` to 0 when it cannot listen.
std::unique_ptr<grpc::Server> StartHealthListener(
    const ServeOptions& options, HealthListenerDecisionSupport& placeholder,
    int& port) {
  port = 0;
  if (options.health_listen.empty()) return nullptr;
  grpc::ServerBuilder builder;
  builder.RegisterService(&placeholder);
  builder.SetOption(std::make_unique<WithoutReflection>());
  builder.AddListeningPort(options.health_listen,
                           grpc::InsecureServerCredentials(), &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  // Not ready until the main listener is up and ServingHealth says so
  // (gRPC's default health reports SERVING from the start).
  if (server) server->GetHealthCheckService()->SetServingStatus(false);
  return server;
}

// Until SIGINT or SIGTERM (returned): SIGHUP, or a change to the files
// (polled), reloads the rule sets, the policy and the keys. The loop wakes
// every second to keep health in step with reloads made through the
// Governance API.
int ServeUntilStopped(const ServeOptions& options, const sigset_t& signals,
                      Authorizer& authorizer, HttpListener* http_listener,
                      RuleSetVersions& versions, RuleSetRegistry& registry,
                      ServingHealth& health) {
  auto last_poll = std::chrono::steady_clock::now();
  while (true) {
    const timespec tick = {1, 0};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) return sig;
    const bool poll_due = options.reload_poll_seconds > 0 &&
                          std::chrono::steady_clock::now() - last_poll >=
                              std::chrono::seconds(options.reload_poll_seconds);
    if (sig == SIGHUP || poll_due) {
      last_poll = std::chrono::steady_clock::now();
      // The policy and the JWKS follow their files too (keys rotate).
      if (absl::Status s = authorizer.ReloadIfChanged(); !s.ok()) {
        Log(LogLevel::kError, "auth_reload_refused",
            {{"reason", std::string(s.message())},
             {"still_serving", "the policy and keys loaded before"}});
      }
      if (http_listener != nullptr) http_listener->ReloadIfChanged();
    }
    if (sig == SIGHUP || (poll_due && versions.Changed())) {
      Log(LogLevel::kInfo, "rule_set_reload",
          {{"cause", sig == SIGHUP ? "SIGHUP" : "files changed"}});
      if (!versions.Reload(sig == SIGHUP ? "SIGHUP" : "files changed")) {
        Log(LogLevel::kError, "rule_set_reload_refused",
            {{"reason",
              "no version loads; the versions loaded before keep serving"}});
      }
    }
    health.Set(ServingHealth::kRuleSet, registry.Active() != nullptr);
  }
}

}  // namespace

int RunServe(const ServeOptions& options) {
  RouteGrpcLogsToJson();
  // Abseil's mutex deadlock detection (on in the distribution's build) keeps
  // a lock graph on every acquisition: 2-3% of a serving process's CPU.
  // The test builds keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (const std::string problem = CheckServeLimits(options); !problem.empty()) {
    Log(LogLevel::kError, "flag_refused", {{"reason", problem}});
    return kExitRefused;
  }
  // Review dates are judged by it at every load and scrape.
  if (absl::StatusOr<std::string> today = Today(absl::Now()); !today.ok()) {
    Log(LogLevel::kError, "flag_refused",
        {{"reason", std::string(today.status().message())}});
    return kExitRefused;
  }
  // Block the signals before anything starts gRPC's threads (making
  // credentials does), so that only ServeUntilStopped receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto credentials = MakeServerCredentials(options.tls);
  if (!credentials.ok()) {
    Log(LogLevel::kError, "tls_refused",
        {{"reason", std::string(credentials.status().message())}});
    return kExitRefused;
  }
  const bool tls = TlsConfigured(options.tls);
  const bool loopback = IsLoopback(options.listen);
  if (!CheckTransport(options, tls, loopback)) return kExitRefused;
  std::unique_ptr<Authorizer> authorizer = MakeAuthorizer(options, loopback);
  if (!authorizer) return kExitRefused;
  std::unique_ptr<HttpListener> http_listener;
  if (!options.http_listen.empty()) {
    http_listener = HttpListener::Prepare(options, *authorizer);
    if (!http_listener) return kExitRefused;
  }
  if (tls && authorizer->enabled()) {
    // Callers without credentials are refused as their headers arrive.
    (*credentials)
        ->SetAuthMetadataProcessor(
            std::make_shared<ArrivalAuthentication>(*authorizer));
  }
  // Metrics are kept only when something serves them; declared before
  // everything that reports to them, so that it outlives them.
  std::unique_ptr<ServiceMetrics> metrics;
  if (!options.metrics_listen.empty()) {
    metrics = std::make_unique<ServiceMetrics>();
  }
  absl::StatusOr<std::unique_ptr<AuditStore>> audit =
      OpenAuditStore(options, metrics.get());
  if (!audit.ok()) return kExitFailed;

  RuleSetRegistry registry;
  RuleSetVersions versions(options.rules_dir, registry, audit->get());
  if (!SetSignOffCheck(options, versions)) return kExitRefused;
  // Without a valid rule set the server still starts, but reports
  // NOT_SERVING (and Evaluate answers UNAVAILABLE) until a version loads: a
  // broken ConfigMap keeps a pod out of rotation rather than crash-looping.
  if (!versions.Reload("start-up")) {
    Log(LogLevel::kError, "no_rule_set_served",
        {{"dir", options.rules_dir},
         {"reason",
          "no version under it loads and passes its test cases; health is "
          "NOT_SERVING until one does"}});
  }
  DecisionEngine engine(registry);
  engine.set_missing_data_budget(options.missing_data_budget);
  engine.set_observer(metrics.get());
  CallLimits limits(options.limits);
  if (metrics) metrics->Watch({&limits, &registry, &versions, audit->get()});
  DecisionSupportService service(engine, *authorizer, limits, audit->get());
  // The HTTP routes (CDS Hooks) answer from the same engine, limits and
  // store. The HTTP listener is shut down explicitly below, before they go.
  http::CdsHooksRoutes cds_hooks(registry, engine, limits, audit->get());
  http::FhirRoutes fhir(registry, engine, limits, audit->get());
  web::MdtRoutes mdt(registry, *authorizer, audit->get(),
                     *audit ? options.audit : std::string());
  web::GovernanceRoutes governance_pages(
      registry, versions, *authorizer, *audit ? options.audit : std::string());
  if (*audit &&
      !ConfigurePatientRefKey(options, service, cds_hooks, fhir, mdt)) {
    return kExitRefused;
  }
  EmptyDecisionSupportService empty_service;
  if (options.empty_handler_for_benchmark) {
    Log(LogLevel::kWarning, "empty_handler_for_benchmark",
        {{"reason", "Evaluate answers empty responses; for benchmarks only"}});
  }

  grpc::EnableDefaultHealthCheckService(true);
  int health_port = 0;
  HealthListenerDecisionSupport health_placeholder;
  std::unique_ptr<grpc::Server> health_server =
      StartHealthListener(options, health_placeholder, health_port);
  if (!options.health_listen.empty() && (!health_server || health_port == 0)) {
    Log(LogLevel::kError, "listen_failed", {{"listen", options.health_listen}});
    return kExitFailed;
  }
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!ReflectionOn(options)) {
    builder.SetOption(std::make_unique<WithoutReflection>());
  }
  int port = 0;
  builder.AddListeningPort(options.listen, *credentials, &port);
  grpc::ResourceQuota quota("reconnect");
  ApplyTransportLimits(options, quota, builder);
  if (options.empty_handler_for_benchmark) {
    builder.RegisterService(&empty_service);
  } else {
    builder.RegisterService(&service);
  }
  GovernanceService governance(registry, versions, *authorizer, limits,
                               *audit ? options.audit : std::string());
  builder.RegisterService(&governance);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    Log(LogLevel::kError, "listen_failed", {{"listen", options.listen}});
    return kExitFailed;
  }
  // Both listeners report the same health. Without a writable audit store
  // the service cannot answer, so health follows the store.
  ServingHealth health(
      {server->GetHealthCheckService(),
       health_server ? health_server->GetHealthCheckService() : nullptr});
  health.Set(ServingHealth::kRuleSet, registry.Active() != nullptr);
  if (*audit) {
    (*audit)->OnHealthChange([&health](bool ok) {
      // Health first: whoever reads the log line sees health agree.
      health.Set(ServingHealth::kAuditStore, ok);
      Log(ok ? LogLevel::kInfo : LogLevel::kError,
          ok ? "audit_store_recovered" : "audit_store_unwritable");
    });
  }
  if (http_listener &&
      !http_listener->Listen(options, cds_hooks, fhir, mdt, governance_pages)) {
    return kExitFailed;
  }
  std::unique_ptr<MetricsListener> metrics_listener;
  if (metrics) {
    auto started = MetricsListener::Start(options.metrics_listen, *metrics);
    if (!started.ok()) {
      Log(LogLevel::kError, "listen_failed",
          {{"listen", options.metrics_listen},
           {"reason", std::string(started.status().message())}});
      return started.status().code() == absl::StatusCode::kInvalidArgument
                 ? kExitRefused
                 : kExitFailed;
    }
    metrics_listener = *std::move(started);
  }
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  Log(LogLevel::kInfo, "serving",
      {{"address", absl::StrCat(host, ":", port)},
       {"max_concurrent_calls", options.limits.max_concurrent_calls},
       {"max_receive_bytes", options.max_receive_bytes},
       {"port", port},
       {"tls", tls},
       {"client_certificates", options.tls.client_ca_file.empty()
                                   ? "none"
                                   : options.tls.client_cert_mode},
       {"health_port", health_port},
       {"metrics_port", metrics_listener ? metrics_listener->port() : 0}});

  const int sig =
      ServeUntilStopped(options, signals, *authorizer, http_listener.get(),
                        versions, registry, health);
  // Drain: readiness goes NOT_SERVING at once, so that the load balancer
  // stops sending calls; after --drain_delay_seconds (the time it takes to
  // notice) the listener closes and calls in flight get the grace period.
  health.Set(ServingHealth::kNotDraining, false);
  Log(LogLevel::kInfo, "draining",
      {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
       {"drain_delay_seconds", options.drain_delay_seconds},
       {"grace_seconds", options.shutdown_grace_seconds}});
  if (options.drain_delay_seconds > 0) {
    std::this_thread::sleep_for(
        std::chrono::seconds(options.drain_delay_seconds));
  }
  if (http_listener) {
    http_listener->Shutdown(absl::Seconds(options.shutdown_grace_seconds));
  }
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::seconds(options.shutdown_grace_seconds));
  server->Wait();
  if (*audit) (*audit)->OnHealthChange(nullptr);
  health.Set(ServingHealth::kLive, false);
  if (health_server) {
    health_server->Shutdown();
    health_server->Wait();
  }
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace reconnect::service
