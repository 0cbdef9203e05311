// The `reconnect` command: serve, eval, lint and test, in the manner of `opa`.

#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "service/cli/governance_commands.h"
#include "service/cli/remote_commands.h"
#include "service/cli/rule_set_commands.h"
#include "service/cli/serve.h"
#include "service/cli/sign_off_commands.h"

ABSL_FLAG(std::string, rules, "",
          "Rule-set directory (serve, eval). For serve, either one rule set "
          "or a directory whose subdirectories are its versions.");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve on (serve). Port 0 picks a free port.");
ABSL_FLAG(bool, insecure, false,
          "Allow plaintext on a non-loopback address (serve). Logs a warning.");
ABSL_FLAG(int, max_receive_bytes, 256 * 1024,
          "Largest request message accepted, in bytes (serve); gRPC's own "
          "default is 4 MiB.");
ABSL_FLAG(
    int, shutdown_grace_seconds, 10,
    "Seconds that calls in flight may take to finish after SIGTERM (serve).");
ABSL_FLAG(int, drain_delay_seconds, 0,
          "After SIGTERM, seconds that readiness reports NOT_SERVING while "
          "calls are still answered, so load balancers stop routing before "
          "the listener closes (serve).");
ABSL_FLAG(std::string, audit, "reconnect-audit.db",
          "Where decisions are recorded before they are returned (serve): a "
          "SQLite file, or postgresql://USER@HOST/DB shared by replicas "
          "(password: PGPASSWORD or PGPASSFILE); `off`: none (experiments).");
ABSL_FLAG(int, reload_poll_seconds, 2,
          "Seconds between checks for changed rule files, which reload them "
          "as SIGHUP does (serve); 0 reloads on SIGHUP only.");
ABSL_FLAG(bool, empty_handler_for_benchmark, false,
          "Answer Evaluate with empty responses, evaluating nothing (serve); "
          "for measuring gRPC's own cost in benchmarks only.");
ABSL_FLAG(std::string, server, "",
          "A running server to ask instead of a store file (audit verify, "
          "replay, diff, impact), e.g. 127.0.0.1:50051.");
ABSL_FLAG(std::string, store, "",
          "An audit store file (diff: compare rule-set digests recorded in "
          "it instead of directories).");
ABSL_FLAG(std::string, from, "",
          "Start of the time range, RFC 3339, inclusive (impact).");
ABSL_FLAG(std::string, to, "",
          "End of the time range, RFC 3339, exclusive (impact).");
ABSL_FLAG(std::string, candidate, "",
          "report: a candidate rule-set directory whose impact to include");
ABSL_FLAG(bool, comments, false,
          "report: include the comments sent with feedback (they may hold "
          "patient words)");
ABSL_FLAG(std::string, calling_system, "",
          "Only decisions from this calling system (impact).");
ABSL_FLAG(std::string, assessment, "",
          "An assessment (protobuf JSON) for `expr --rules` to bind as "
          "`assessment`.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: the server's (serve), or the client "
          "certificate to present (--server commands). Re-read as it "
          "changes.");
ABSL_FLAG(std::string, tls_key, "",
          "PEM private key of --tls_cert (serve, --server commands).");
ABSL_FLAG(std::string, client_ca, "",
          "PEM bundle of the CAs that sign client certificates: mutual TLS "
          "(serve).");
ABSL_FLAG(std::string, client_cert, "require",
          "With --client_ca: `require` a verified client certificate in the "
          "handshake, or make it `optional` (callers without one present a "
          "bearer token) (serve).");
ABSL_FLAG(int, tls_refresh_seconds, 60,
          "How often the TLS files are re-read, so that rotated certificates "
          "apply without a restart (serve).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA that signed the server: connect with TLS (--server "
          "commands).");
ABSL_FLAG(std::string, token_file, "",
          "A file holding the bearer token (JWT) to send (--server "
          "commands).");
ABSL_FLAG(std::string, policy, "",
          "Policy file binding caller identities (token subjects, "
          "certificate names) to roles: evaluator, auditor, admin (serve). "
          "Without it every caller may do everything, which is allowed only "
          "on loopback or with --insecure.");
ABSL_FLAG(std::string, jwks, "",
          "JWKS file with the RS256/ES256 keys that sign bearer tokens "
          "(serve). Re-read as it changes.");
ABSL_FLAG(std::string, jwt_issuer, "",
          "The `iss` that bearer tokens must carry (serve, with --jwks).");
ABSL_FLAG(std::string, jwt_audience, "",
          "The `aud` that bearer tokens must hold (serve, with --jwks).");
ABSL_FLAG(int, jwt_clock_skew_seconds, 60,
          "Clock skew allowed when checking `exp` and `nbf` (serve).");
ABSL_FLAG(int, jwt_max_lifetime_seconds, 3600,
          "The longest a bearer token may be valid: its exp at most this many "
          "seconds after its iat (serve).");
ABSL_FLAG(int, max_streams_per_connection, 100,
          "Calls one connection may have open at once (serve); more wait at "
          "the client, so that one connection cannot hold the server's "
          "memory.");
ABSL_FLAG(std::string, reflection, "auto",
          "Server reflection on the main listener (serve): auto serves it only "
          "while authorization is off (no --policy); on serves it to any "
          "caller that reaches the port, unauthenticated; off never.");
ABSL_FLAG(bool, fhir, false,
          "Print the plan as a FHIR R4 Bundle (plan): CarePlan, RequestGroup, "
          "ServiceRequests, CommunicationRequests and GuidanceResponse.");
ABSL_FLAG(std::string, rule, "",
          "Explain this rule only (explain), by its id.");
ABSL_FLAG(std::string, http_listen, "",
          "An address for HTTP/1.1: CDS Hooks at /cds-services (serve); "
          "empty: none. TLS with --tls_cert and --tls_key. Beyond loopback it "
          "needs TLS and --cds_clients, or --insecure.");
ABSL_FLAG(std::string, cds_clients, "",
          "A JSON file of the CDS clients (EHRs) the HTTP listener trusts: "
          "each issuer with its JWKS (serve). Every HTTP call then needs a "
          "bearer JWT signed by its issuer's key. Re-read when it changes.");
ABSL_FLAG(std::string, http_public_url, "",
          "The URL the HTTP listener is reached at from outside, without a "
          "trailing slash, e.g. https://cds.example.org (serve, with "
          "--cds_clients): a token's aud must be it plus the path called.");
ABSL_FLAG(std::vector<std::string>, http_cors_origins, {},
          "Comma-separated browser origins (scheme://host[:port]) allowed to "
          "call the HTTP listener, e.g. a browser-based EHR sandbox (serve).");
ABSL_FLAG(int, http_max_header_bytes, 16384,
          "The largest HTTP request head (serve); larger ones get 431.");
ABSL_FLAG(int, http_max_body_bytes, 1048576,
          "The largest HTTP request body (serve); larger ones get 413 before "
          "they are read.");
ABSL_FLAG(int, http_read_timeout_ms, 10000,
          "An HTTP request must arrive whole within this many ms of its first "
          "byte (serve); a slower sender gets 408.");
ABSL_FLAG(int, http_idle_timeout_seconds, 60,
          "An idle keep-alive HTTP connection is closed after this long "
          "(serve).");
ABSL_FLAG(int, http_max_connections, 512,
          "HTTP connections open at once (serve); one more is answered 503.");
ABSL_FLAG(int, http_deadline_ms, 5000,
          "An HTTP request not answered within this many ms of arriving is "
          "answered 503 (serve).");
ABSL_FLAG(std::string, health_listen, "",
          "A second, plaintext address that serves only gRPC health, for "
          "Kubernetes probes (serve); empty: none.");
ABSL_FLAG(std::string, metrics_listen, "",
          "A plaintext address (host:port) that serves Prometheus metrics at "
          "/metrics and nothing else, for a scraper without a client "
          "certificate (serve); empty: no metrics.");
ABSL_FLAG(std::string, patient_ref_key, "",
          "A file holding at least 32 random bytes: patient references are "
          "stored in audit records as their HMAC-SHA256 under it (serve). "
          "Without it they are not stored.");
ABSL_FLAG(int64_t, missing_data_budget,
          reconnect::ruleset::CompiledRuleSet::kDefaultMissingDataBudget,
          "serve: the CEL evaluation cost an explained call (why-not) may "
          "spend finding the absent facts that could change its plan; when "
          "spent, the answer says the analysis is incomplete. Calls without "
          "an explanation never pay it");
ABSL_FLAG(int, max_concurrent_calls, 256,
          "Calls answered at once (serve); more are shed at once with "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, default_deadline_ms, 10000,
          "Deadline the server holds a call to when the client sets none "
          "(serve).");
ABSL_FLAG(int, max_deadline_ms, 600000,
          "Longest deadline honoured; longer ones are cut to it (serve).");
ABSL_FLAG(int, keepalive_seconds, 60,
          "Ping a connection idle this long; drop it when the answer takes "
          "longer than --keepalive_timeout_seconds (serve).");
ABSL_FLAG(int, keepalive_timeout_seconds, 20,
          "How long a keepalive ping may go unanswered (serve).");
ABSL_FLAG(int, min_client_ping_interval_seconds, 30,
          "Clients that ping more often are sent away after two strikes "
          "(serve).");
ABSL_FLAG(int, max_connection_age_seconds, 1800,
          "Close connections gracefully after this long, so clients spread "
          "over new replicas; 0 never (serve).");
ABSL_FLAG(int, max_grpc_memory_mb, 256,
          "Memory gRPC may use for its buffers before it pushes back "
          "(serve).");
ABSL_FLAG(
    double, min_coverage, 0,
    "Fail `test` when fewer than this percentage of rules fire in some case.");

ABSL_DECLARE_FLAG(std::string, rule_signers);  // sign_off_commands.cc
ABSL_DECLARE_FLAG(std::string, require_signatures);

namespace {

constexpr char kUsage[] = R"(reconnect: Re-Connect clinical decision support.

Usage:
  reconnect serve --rules DIR [--listen ADDR]   serve DecisionSupport over gRPC
  reconnect eval --rules DIR FILE|-             evaluate one assessment (protobuf JSON)
  reconnect plan --rules DIR [--fhir] FILE|-    its plan: Markdown, or a FHIR R4 Bundle
  reconnect explain --rules DIR [--rule ID] FILE|-
                                                why each rule did not fire, or was held,
                                                and which absent facts could change that
  reconnect lint DIR                            load and check a rule set
  reconnect test DIR [--min_coverage=PCT]       run a rule set's own test cases
  reconnect hazards DIR                         the hazard log, with each mitigation's
                                                test status, as a safety officer files it
  reconnect sign DIR --key KEY.pem --role ROLE --signer NAME [--key_id ID]
  reconnect verify-signatures DIR --keys JWKS [--require_signatures ROLE,...]
  reconnect signer-jwk --key KEY.pem [--key_id ID]
                                                sign off a version, check its sign-offs,
                                                publish a signing key (a JWKS)
  reconnect expr 'EXPR' [--var NAME=JSON]... [--rules DIR [--assessment FILE]]
                                                evaluate one CEL expression
  reconnect audit verify STORE                  check an audit store's trail
  reconnect audit copy FILE postgresql://...    move a SQLite trail into PostgreSQL
  reconnect replay FILE [DECISION_ID]           re-evaluate recorded decisions
  reconnect diff FROM TO [--store FILE]         compare two rule-set versions
  reconnect report STORE [--from DATE] [--to DATE] [--comments]
                 [--candidate DIR] > report.html
                                                the governance console as one
                                                self-contained HTML file
  reconnect impact STORE CANDIDATE_DIR [--from T] [--to T] [--calling_system S]
                                                what a candidate would change
  Against a running server, with --server ADDR instead of a store file:
  reconnect audit verify --server ADDR
  reconnect replay --server ADDR [DECISION_ID]
  reconnect diff FROM TO --server ADDR          (digests, or ID@VERSION)
  reconnect impact --server ADDR CANDIDATE      (a digest, or ID@VERSION)
  reconnect admin reload --server ADDR          reload the rule sets now (admin)
  reconnect admin activate ID@VERSION --server ADDR
                                                make a loaded version active (admin)
  TLS and identity for --server: --tls_ca FILE [--tls_cert FILE --tls_key FILE]
  [--token_file FILE])";

int UsageError(const std::string& message) {
  std::cerr << "reconnect: " << message << "\n\n" << kUsage << "\n";
  return 2;
}

// Takes every `--var NAME=JSON` (or `--var=NAME=JSON`) out of argv: the
// flag repeats, and JSON values hold commas that a list flag would split.
std::vector<std::string> ExtractVars(int& argc, char** argv) {
  std::vector<std::string> vars;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--var" && i + 1 < argc) {
      vars.push_back(argv[++i]);
    } else if (arg.rfind("--var=", 0) == 0) {
      vars.push_back(arg.substr(6));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  return vars;
}

// The first flag in argv that absl's parser would refuse, and why; empty
// when there is none. absl exits 1 on a bad flag, and a usage error here
// exits 2 as every other one does, so flags are checked first, each with
// its own parser.
std::string FlagProblem(int argc, char** argv) {
  // absl's own flags (help, flag files) are left to absl.
  static const auto* builtin = new std::set<std::string>{
      "help",     "helpfull",  "helpshort",  "helppackage",
      "helpon",   "helpmatch", "version",    "only_check_args",
      "flagfile", "fromenv",   "tryfromenv", "undefok"};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    const std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    const size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    const bool has_value = eq != std::string::npos;
    std::string value = has_value ? body.substr(eq + 1) : "";
    if (builtin->count(name) > 0) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && name.rfind("no", 0) == 0) {
      // --noNAME sets a bool flag to false.
      absl::CommandLineFlag* negated =
          absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>() && !has_value) {
        continue;
      }
    }
    if (flag == nullptr) return absl::StrCat("unknown flag --", name);
    if (flag->IsOfType<bool>() && !has_value) continue;
    if (!has_value) {
      if (i + 1 >= argc) return absl::StrCat("flag --", name, " needs a value");
      value = argv[++i];
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::StrCat("--", name, "=", value, ": ", error);
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  const std::vector<std::string> vars = ExtractVars(argc, argv);
  if (const std::string problem = FlagProblem(argc, argv); !problem.empty()) {
    return UsageError(problem);
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) return UsageError("no command given");
  const std::string command = positional[1];
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  using namespace reconnect::service;
  if (command == "lint" || command == "test" || command == "hazards") {
    if (args.size() != 1)
      return UsageError(command + " takes one rule-set directory");
    if (command == "hazards") return RunHazards(args[0]);
    return command == "lint"
               ? RunLint(args[0])
               : RunTest(args[0], absl::GetFlag(FLAGS_min_coverage));
  }
  std::string usage_problem;
  if (auto status = RunSignOffCommand(command, args, usage_problem))
    return usage_problem.empty() ? *status : UsageError(usage_problem);
  if (command == "expr") {
    if (args.size() != 1) return UsageError("expr takes one expression");
    return RunExpr(args[0], vars, absl::GetFlag(FLAGS_rules),
                   absl::GetFlag(FLAGS_assessment));
  }
  if (!vars.empty()) return UsageError("--var goes with expr");
  const std::string server = absl::GetFlag(FLAGS_server);
  RemoteOptions remote;
  remote.address = server;
  remote.tls.ca_file = absl::GetFlag(FLAGS_tls_ca);
  remote.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  remote.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  remote.token_file = absl::GetFlag(FLAGS_token_file);
  if (command == "audit") {
    if (args.size() == 3 && args[0] == "copy" && server.empty()) {
      return RunAuditCopy(args[1], args[2]);
    }
    if (args.empty() || args[0] != "verify" ||
        args.size() != (server.empty() ? 2u : 1u)) {
      return UsageError(
          "audit takes: verify STORE, verify --server ADDR, or copy FILE URI");
    }
    return server.empty() ? RunAuditVerify(args[1])
                          : RunAuditVerifyRemote(remote);
  }
  if (command == "admin") {
    if (server.empty()) return UsageError("admin needs --server ADDR");
    if (args.size() == 1 && args[0] == "reload") {
      return RunAdminRemote(remote, "reload", "");
    }
    if (args.size() == 2 && args[0] == "activate" &&
        args[1].find('@') != std::string::npos) {
      return RunAdminRemote(remote, "activate", args[1]);
    }
    return UsageError("admin takes: reload, or activate ID@VERSION");
  }
  if (command == "report") {
    if (args.size() != 1 || !server.empty()) {
      return UsageError("report takes one store file");
    }
    return RunReport(args[0], absl::GetFlag(FLAGS_from),
                     absl::GetFlag(FLAGS_to), absl::GetFlag(FLAGS_comments),
                     absl::GetFlag(FLAGS_candidate));
  }
  if (command == "diff") {
    if (args.size() != 2)
      return UsageError("diff takes two rule-set directories (or digests)");
    if (!server.empty()) return RunDiffRemote(remote, args[0], args[1]);
    return RunDiff(args[0], args[1], absl::GetFlag(FLAGS_store));
  }
  if (command == "impact") {
    ImpactOptions options;
    options.from = absl::GetFlag(FLAGS_from);
    options.to = absl::GetFlag(FLAGS_to);
    options.calling_system = absl::GetFlag(FLAGS_calling_system);
    if (!server.empty()) {
      if (args.size() != 1)
        return UsageError("impact --server ADDR takes one candidate");
      return RunImpactRemote(remote, args[0], options);
    }
    if (args.size() != 2)
      return UsageError(
          "impact takes a store file and a candidate rule-set directory");
    return RunImpact(args[0], args[1], options);
  }
  if (command == "replay") {
    if (!server.empty()) {
      if (args.size() > 1)
        return UsageError("replay --server ADDR takes at most a decision id");
      return RunReplayRemote(remote, args.empty() ? "" : args[0]);
    }
    if (args.empty() || args.size() > 2)
      return UsageError(
          "replay takes a store file and, optionally, a decision id");
    return RunReplay(args[0], args.size() == 2 ? args[1] : "");
  }
  if (command == "eval") {
    if (absl::GetFlag(FLAGS_rules).empty())
      return UsageError("eval needs --rules DIR");
    if (args.size() != 1)
      return UsageError("eval takes one assessment file, or - for stdin");
    return RunEval(absl::GetFlag(FLAGS_rules), args[0]);
  }
  if (command == "explain") {
    if (absl::GetFlag(FLAGS_rules).empty())
      return UsageError("explain needs --rules DIR");
    if (args.size() != 1)
      return UsageError("explain takes one assessment file, or - for stdin");
    if (absl::GetFlag(FLAGS_missing_data_budget) < 0)
      return UsageError("--missing_data_budget must be >= 0");
    return RunExplain(absl::GetFlag(FLAGS_rules), args[0],
                      absl::GetFlag(FLAGS_rule),
                      absl::GetFlag(FLAGS_missing_data_budget));
  }
  if (command == "plan") {
    if (absl::GetFlag(FLAGS_rules).empty())
      return UsageError("plan needs --rules DIR");
    if (args.size() != 1)
      return UsageError("plan takes one assessment file, or - for stdin");
    return RunPlan(absl::GetFlag(FLAGS_rules), args[0],
                   absl::GetFlag(FLAGS_fhir));
  }
  if (command == "serve") {
    if (absl::GetFlag(FLAGS_rules).empty())
      return UsageError("serve needs --rules DIR");
    if (!args.empty()) return UsageError("serve takes no arguments");
    ServeOptions options;
    options.rules_dir = absl::GetFlag(FLAGS_rules);
    options.listen = absl::GetFlag(FLAGS_listen);
    options.insecure = absl::GetFlag(FLAGS_insecure);
    options.max_receive_bytes = absl::GetFlag(FLAGS_max_receive_bytes);
    options.shutdown_grace_seconds =
        absl::GetFlag(FLAGS_shutdown_grace_seconds);
    options.audit = absl::GetFlag(FLAGS_audit);
    options.drain_delay_seconds = absl::GetFlag(FLAGS_drain_delay_seconds);
    options.reload_poll_seconds = absl::GetFlag(FLAGS_reload_poll_seconds);
    options.empty_handler_for_benchmark =
        absl::GetFlag(FLAGS_empty_handler_for_benchmark);
    options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
    options.tls.key_file = absl::GetFlag(FLAGS_tls_key);
    options.tls.client_ca_file = absl::GetFlag(FLAGS_client_ca);
    options.tls.client_cert_mode = absl::GetFlag(FLAGS_client_cert);
    options.tls.refresh_seconds = absl::GetFlag(FLAGS_tls_refresh_seconds);
    options.auth.policy_file = absl::GetFlag(FLAGS_policy);
    options.auth.jwks_file = absl::GetFlag(FLAGS_jwks);
    options.auth.jwt.issuer = absl::GetFlag(FLAGS_jwt_issuer);
    options.auth.jwt.audience = absl::GetFlag(FLAGS_jwt_audience);
    options.auth.jwt.clock_skew =
        absl::Seconds(absl::GetFlag(FLAGS_jwt_clock_skew_seconds));
    options.auth.jwt.max_lifetime =
        absl::Seconds(absl::GetFlag(FLAGS_jwt_max_lifetime_seconds));
    options.health_listen = absl::GetFlag(FLAGS_health_listen);
    options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
    options.http_listen = absl::GetFlag(FLAGS_http_listen);
    options.cds_clients.file = absl::GetFlag(FLAGS_cds_clients);
    options.cds_clients.clock_skew =
        absl::Seconds(absl::GetFlag(FLAGS_jwt_clock_skew_seconds));
    options.http_access.public_url = absl::GetFlag(FLAGS_http_public_url);
    options.http_access.cors_origins = absl::GetFlag(FLAGS_http_cors_origins);
    options.http.max_header_bytes = static_cast<size_t>(
        std::max(0, absl::GetFlag(FLAGS_http_max_header_bytes)));
    options.http.max_body_bytes = static_cast<size_t>(
        std::max(0, absl::GetFlag(FLAGS_http_max_body_bytes)));
    options.http.read_timeout =
        absl::Milliseconds(absl::GetFlag(FLAGS_http_read_timeout_ms));
    options.http.idle_timeout =
        absl::Seconds(absl::GetFlag(FLAGS_http_idle_timeout_seconds));
    options.http.max_connections = absl::GetFlag(FLAGS_http_max_connections);
    options.http.request_deadline =
        absl::Milliseconds(absl::GetFlag(FLAGS_http_deadline_ms));
    options.reflection = absl::GetFlag(FLAGS_reflection);
    options.max_streams_per_connection =
        absl::GetFlag(FLAGS_max_streams_per_connection);
    options.limits.max_concurrent_calls =
        absl::GetFlag(FLAGS_max_concurrent_calls);
    options.missing_data_budget = absl::GetFlag(FLAGS_missing_data_budget);
    options.limits.default_deadline =
        absl::Milliseconds(absl::GetFlag(FLAGS_default_deadline_ms));
    options.limits.max_deadline =
        absl::Milliseconds(absl::GetFlag(FLAGS_max_deadline_ms));
    options.keepalive_seconds = absl::GetFlag(FLAGS_keepalive_seconds);
    options.keepalive_timeout_seconds =
        absl::GetFlag(FLAGS_keepalive_timeout_seconds);
    options.min_client_ping_interval_seconds =
        absl::GetFlag(FLAGS_min_client_ping_interval_seconds);
    options.max_connection_age_seconds =
        absl::GetFlag(FLAGS_max_connection_age_seconds);
    options.max_grpc_memory_mb = absl::GetFlag(FLAGS_max_grpc_memory_mb);
    options.patient_ref_key_file = absl::GetFlag(FLAGS_patient_ref_key);
    options.rule_signers = absl::GetFlag(FLAGS_rule_signers);
    options.require_signatures = absl::GetFlag(FLAGS_require_signatures);
    return RunServe(options);
  }
  return UsageError("unknown command '" + command + "'");
}
