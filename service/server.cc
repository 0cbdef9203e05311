#include <csignal>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/ruleset/rule_set.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "service/audit_store.h"
#include "service/commands.h"
#include "service/decision_engine.h"
#include "service/decision_support_service.h"
#include "service/governance_service.h"
#include "service/log.h"
#include "service/rule_set_registry.h"
#include "service/rule_set_versions.h"

namespace reconnect::service {

namespace {

// Loopback addresses may be served in plaintext; anything else needs TLS or
// an explicit --insecure.
bool IsLoopback(const std::string& address) {
  return absl::StartsWith(address, "127.") ||
         absl::StartsWith(address, "localhost:") ||
         absl::StartsWith(address, "[::1]:") ||
         absl::StartsWith(address, "ipv4:127.") ||
         absl::StartsWith(address, "ipv6:[::1]:");
}

}  // namespace

int RunServe(const ServeOptions& options) {
  if (!IsLoopback(options.listen) && !options.insecure) {
    Log(LogLevel::kError, "refused_plaintext",
        {{"listen", options.listen},
         {"reason",
          "plaintext is allowed only on loopback; pass --insecure to "
          "override"}});
    return 2;
  }
  if (options.insecure) {
    Log(LogLevel::kWarning, "insecure_listener",
        {{"listen", options.listen},
         {"reason", "serving plaintext beyond loopback"}});
  }
  // Block the signals before gRPC starts its threads, so that only the
  // sigtimedwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The audit store: every answer is recorded before it is returned.
  std::unique_ptr<AuditStore> audit;
  if (options.audit == "off") {
    Log(LogLevel::kWarning, "audit_disabled",
        {{"reason",
          "--audit=off: decisions are NOT recorded and cannot be audited or "
          "replayed; for local experiments only, never for clinical use"}});
  } else {
    auto opened = AuditStore::Open({options.audit, 0});
    if (!opened.ok()) {
      Log(LogLevel::kError, "audit_store_failed",
          {{"path", options.audit},
           {"reason", std::string(opened.status().message())}});
      return 1;
    }
    audit = *std::move(opened);
    Log(LogLevel::kInfo, "audit_store_opened", {{"path", options.audit}});
  }

  RuleSetRegistry registry;
  RuleSetVersions versions(options.rules_dir, registry, audit.get());
  if (!versions.Reload()) {
    Log(LogLevel::kError, "no_rule_set_served",
        {{"dir", options.rules_dir},
         {"reason", "no version under it loads and passes its test cases"}});
    return 1;
  }
  DecisionEngine engine(registry);
  DecisionSupportService service(engine, audit.get());
  if (options.empty_handler_for_benchmark) {
    Log(LogLevel::kWarning, "empty_handler_for_benchmark",
        {{"reason", "Evaluate answers empty responses; for benchmarks only"}});
    service.UseEmptyHandlerForBenchmark();
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &port);
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  builder.RegisterService(&service);
  GovernanceService governance(registry, versions,
                               audit ? options.audit : std::string());
  builder.RegisterService(&governance);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    Log(LogLevel::kError, "listen_failed", {{"listen", options.listen}});
    return 1;
  }
  // Both the overall status ("") and the service's own name are reported.
  // Without a writable audit store the service cannot answer, so health
  // follows the store.
  auto set_serving = [health = server->GetHealthCheckService()](bool ok) {
    health->SetServingStatus(ok);
    health->SetServingStatus(v1::DecisionSupport::service_full_name(), ok);
  };
  set_serving(true);
  if (audit) {
    audit->OnHealthChange([set_serving](bool ok) {
      Log(ok ? LogLevel::kInfo : LogLevel::kError,
          ok ? "audit_store_recovered" : "audit_store_unwritable");
      set_serving(ok);
    });
  }
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  Log(LogLevel::kInfo, "serving",
      {{"address", absl::StrCat(host, ":", port)}, {"port", port}});

  // SIGHUP, or a change to the files (polled), reloads the rule sets;
  // SIGINT and SIGTERM drain and stop.
  int sig = 0;
  while (true) {
    if (options.reload_poll_seconds > 0) {
      const timespec poll = {options.reload_poll_seconds, 0};
      sig = sigtimedwait(&signals, nullptr, &poll);
    } else if (sigwait(&signals, &sig) != 0) {
      sig = -1;
    }
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGHUP ||
        (sig < 0 && options.reload_poll_seconds > 0 && versions.Changed())) {
      Log(LogLevel::kInfo, "rule_set_reload",
          {{"cause", sig == SIGHUP ? "SIGHUP" : "files changed"}});
      if (!versions.Reload()) {
        Log(LogLevel::kError, "rule_set_reload_refused",
            {{"reason",
              "no version loads; the versions loaded before keep serving"}});
      }
    }
  }
  Log(LogLevel::kInfo, "draining",
      {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
       {"grace_seconds", options.shutdown_grace_seconds}});
  if (audit) audit->OnHealthChange(nullptr);
  set_serving(false);
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::seconds(options.shutdown_grace_seconds));
  server->Wait();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace reconnect::service
