// Access control over real TLS channels to a real server process: mutual
// TLS, bearer tokens, roles, the plaintext health listener and certificate
// rotation. Every key, certificate and token is made here with OpenSSL.

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "reconnect/v1/governance.grpc.pb.h"
#include "tests/testing/cli.h"
#include "tests/testing/examples.h"
#include "tests/testing/health.h"
#include "tests/testing/pki.h"
#include "tests/testing/reflection.h"
#include "tests/testing/server_process.h"
#include "tests/testing/stalled_calls.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;

using testing::HasSubstr;
using testing_util::Certificate;
using testing_util::CertificateSpec;
using testing_util::Key;
using testing_util::MakeCertificate;
using testing_util::ServerProcess;
using testing_util::SignJwt;
using testing_util::WriteFile;
namespace fs = std::filesystem;

constexpr char kIssuer[] = "https://ehr.example/auth";
constexpr char kAudience[] = "https://cds.example/reconnect";

struct Pki {
  Key ca_key = Key::EcP256();
  Certificate ca;
  Key rogue_key = Key::EcP256();
  Certificate rogue_ca;
  Key server_key = Key::EcP256();
  Key client_key = Key::EcP256();
  Key token_rsa = Key::Rsa();
  Key token_ec = Key::EcP256();
  Key stranger = Key::Rsa();
};

class SecurityE2ETest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/security_e2e_test.XXXXXX";
    dir_ = new fs::path(mkdtemp(tmpl));
    pki_ = new Pki();
    Pki& p = *pki_;
    p.ca = MakeCertificate({"Re-Connect test CA", {}, true}, p.ca_key, nullptr,
                           p.ca_key);
    p.rogue_ca = MakeCertificate({"Rogue CA", {}, true}, p.rogue_key, nullptr,
                                 p.rogue_key);
    Write("ca.pem", p.ca.pem);
    Write("server.pem",
          MakeCertificate({"reconnect", {"DNS:localhost", "IP:127.0.0.1"}},
                          p.server_key, &p.ca, p.ca_key)
              .pem);
    Write("server.key", p.server_key.PrivatePem());
    Write("client.key", p.client_key.PrivatePem());
    auto client = [&](const std::string& name, const std::string& file,
                      const Certificate& ca, const Key& ca_key,
                      long not_after = 86400) {
      CertificateSpec spec{name, {"DNS:" + name}};
      spec.not_before_seconds = not_after - 90000;
      spec.not_after_seconds = not_after;
      Write(file, MakeCertificate(spec, p.client_key, &ca, ca_key).pem);
    };
    client("ehr-west.example", "ehr-west.pem", p.ca, p.ca_key);
    client("audit.example", "audit.pem", p.ca, p.ca_key);
    client("ehr-west.example", "expired.pem", p.ca, p.ca_key, -3600);
    client("ehr-west.example", "rogue.pem", p.rogue_ca, p.rogue_key);
    Write("jwks.json",
          nlohmann::json(
              {{"keys", {p.token_rsa.Jwk("rsa-1"), p.token_ec.Jwk("ec-1")}}})
              .dump());
    Write("policy.json", R"({"bindings": [
      {"jwt_subject": "ehr-east", "roles": ["evaluator"]},
      {"jwt_subject": "governance-team", "roles": ["auditor"]},
      {"jwt_subject": "ops", "roles": ["admin"]},
      {"certificate": "ehr-west.example", "roles": ["evaluator"]},
      {"certificate": "audit.example", "roles": ["auditor"]}
    ]})");
  }

  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete pki_;
  }

  static void Write(const std::string& name, const std::string& text) {
    WriteFile((*dir_ / name).string(), text);
  }
  static std::string Path(const std::string& name) {
    return (*dir_ / name).string();
  }

  // Starts a server with TLS; `client_cert` is "require" or "optional".
  std::unique_ptr<ServerProcess> Start(const std::string& client_cert,
                                       std::vector<std::string> extra = {}) {
    std::vector<std::string> args = testing_util::ServeBundled(
        {"--health_listen", "127.0.0.1:0",
         "--audit",         Path(client_cert + "-audit.db"),
         "--tls_cert",      Path("server.pem"),
         "--tls_key",       Path("server.key"),
         "--client_ca",     Path("ca.pem"),
         "--client_cert",   client_cert,
         "--policy",        Path("policy.json"),
         "--jwks",          Path("jwks.json"),
         "--jwt_issuer",    kIssuer,
         "--jwt_audience",  kAudience});
    args.insert(args.end(), extra.begin(), extra.end());
    auto server = std::make_unique<ServerProcess>(args);
    auto serving = server->WaitForEvent("serving", std::chrono::seconds(30));
    EXPECT_TRUE(serving.has_value());
    if (serving) {
      port_ = (*serving)["port"].get<int>();
      health_port_ = (*serving)["health_port"].get<int>();
    }
    return server;
  }

  // A TLS channel trusting `ca` ("" trusts the test CA), presenting the
  // client certificate in `cert` (none when empty).
  std::shared_ptr<grpc::Channel> Channel(const std::string& cert,
                                         const std::string& ca_pem = "") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_pem.empty() ? pki_->ca.pem : ca_pem;
    if (!cert.empty()) {
      ssl.pem_cert_chain = Read(Path(cert));
      ssl.pem_private_key = pki_->client_key.PrivatePem();
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    // A fresh connection per channel, so handshakes are not shared.
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_),
                                     grpc::SslCredentials(ssl), args);
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string Token(const std::string& subject, absl::Duration lifetime,
                    const std::string& audience = kAudience,
                    bool use_stranger = false) {
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    nlohmann::json claims = {{"iss", kIssuer},
                             {"sub", subject},
                             {"aud", audience},
                             {"iat", now},
                             {"exp", now + absl::ToInt64Seconds(lifetime)}};
    return SignJwt({{"alg", "RS256"}, {"kid", "rsa-1"}}, claims,
                   use_stranger ? pki_->stranger : pki_->token_rsa);
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      const std::string& token = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    return ctx;
  }

  grpc::Status Evaluate(const std::shared_ptr<grpc::Channel>& channel,
                        const std::string& token = "",
                        v1::EvaluateResponse* out = nullptr) {
    v1::EvaluateResponse response;
    auto ctx = Context(token);
    grpc::Status s = v1::DecisionSupport::NewStub(channel)->Evaluate(
        ctx.get(),
        testing_util::ExampleRequest("catastrophising-performance-beliefs.json",
                                     "ehr-test"),
        &response);
    if (out != nullptr) *out = response;
    return s;
  }

  grpc::Status GetDecision(const std::shared_ptr<grpc::Channel>& channel,
                           const std::string& token, const std::string& id,
                           v1::Decision* out) {
    v1::GetDecisionRequest request;
    request.set_decision_id(id);
    auto ctx = Context(token);
    return v1::Governance::NewStub(channel)->GetDecision(ctx.get(), request,
                                                         out);
  }

  static fs::path* dir_;
  static Pki* pki_;
  int port_ = 0;
  int health_port_ = 0;
};

fs::path* SecurityE2ETest::dir_ = nullptr;
Pki* SecurityE2ETest::pki_ = nullptr;

TEST_F(SecurityE2ETest, MutualTlsRefusesMissingUntrustedAndExpiredCerts) {
  auto server = Start("require");
  // No client certificate, one from another CA, an expired one: the
  // handshake fails, so the call never reaches the service.
  EXPECT_THAT(Evaluate(Channel("")), StatusIs(grpc::StatusCode::UNAVAILABLE));
  EXPECT_THAT(Evaluate(Channel("rogue.pem")),
              StatusIs(grpc::StatusCode::UNAVAILABLE));
  EXPECT_THAT(Evaluate(Channel("expired.pem")),
              StatusIs(grpc::StatusCode::UNAVAILABLE));
  // A server the client does not trust: refused by the client.
  EXPECT_THAT(Evaluate(Channel("ehr-west.pem", pki_->rogue_ca.pem)),
              StatusIs(grpc::StatusCode::UNAVAILABLE));

  // A valid certificate whose name the policy binds to evaluator.
  v1::EvaluateResponse answer;
  grpc::Status ok = Evaluate(Channel("ehr-west.pem"), "", &answer);
  ASSERT_THAT(ok, IsOk()) << ok.error_message();
  // A valid certificate bound to auditor only: the wrong role.
  grpc::Status denied = Evaluate(Channel("audit.pem"));
  EXPECT_THAT(denied, StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_EQ(denied.error_message(),
            "the caller's role does not allow this method");

  // The auditor reads the record, which names the certificate's identity.
  v1::Decision decision;
  grpc::Status read =
      GetDecision(Channel("audit.pem"), "", answer.decision_id(), &decision);
  ASSERT_THAT(read, IsOk()) << read.error_message();
  EXPECT_EQ(decision.caller(), "cert:ehr-west.example");
  EXPECT_THAT(
      GetDecision(Channel("ehr-west.pem"), "", answer.decision_id(), &decision),
      StatusIs(grpc::StatusCode::PERMISSION_DENIED));

  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(15)), 0);
  int denials = 0, handshake_failures = 0;
  for (const auto& line : server->lines()) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    // gRPC's own messages (the refused handshakes) are JSON lines too.
    ASSERT_TRUE(j.is_object()) << line;
    if (j.value("event", "") == "grpc" &&
        j.value("message", "").find("Handshake failed") != std::string::npos) {
      ++handshake_failures;
    }
    if (j.is_object() && j.value("event", "") == "call_denied") {
      ++denials;
      EXPECT_EQ(j["permission_denied_total"], denials);
    }
  }
  EXPECT_EQ(denials, 2);
  EXPECT_GE(handshake_failures, 3);
}

TEST_F(SecurityE2ETest, BearerTokensAreCheckedAndMappedToRoles) {
  auto server = Start("optional");
  auto channel = Channel("");  // TLS, no client certificate
  const std::string generic = "valid credentials are required";
  // No token and no certificate.
  grpc::Status none = Evaluate(channel);
  EXPECT_THAT(none, StatusIs(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_EQ(none.error_message(), generic);
  // Expired (beyond the 60 s skew), another audience, a bad signature, a
  // header that is no bearer token: the same answer, with no detail.
  for (const std::string& token :
       {Token("ehr-east", absl::Seconds(-120)),
        // Valid for longer than the hour a token may live.
        Token("ehr-east", absl::Hours(2)),
        Token("ehr-east", absl::Minutes(5), "https://other.example"),
        Token("ehr-east", absl::Minutes(5), kAudience, /*use_stranger=*/true),
        std::string("not-a-jwt")}) {
    grpc::Status s = Evaluate(channel, token);
    EXPECT_THAT(s, StatusIs(grpc::StatusCode::UNAUTHENTICATED)) << token;
    EXPECT_EQ(s.error_message(), generic);
  }
  // A valid token whose subject holds auditor only: the wrong role.
  const std::string auditor = Token("governance-team", absl::Minutes(5));
  EXPECT_THAT(Evaluate(channel, auditor),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  // A valid token with no binding at all.
  EXPECT_THAT(Evaluate(channel, Token("unknown-app", absl::Minutes(5))),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED));

  // The evaluator, with an RS256 and then an ES256 token.
  const std::string evaluator = Token("ehr-east", absl::Minutes(5));
  v1::EvaluateResponse answer;
  grpc::Status ok = Evaluate(channel, evaluator, &answer);
  ASSERT_THAT(ok, IsOk()) << ok.error_message();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const std::string es256 = SignJwt({{"alg", "ES256"}, {"kid", "ec-1"}},
                                    {{"iss", kIssuer},
                                     {"sub", "ehr-east"},
                                     {"aud", kAudience},
                                     {"exp", now + 300}},
                                    pki_->token_ec);
  EXPECT_THAT(Evaluate(channel, es256), IsOk());

  // Governance: the auditor reads, the evaluator may not, and the record
  // names the token's subject.
  v1::Decision decision;
  grpc::Status read =
      GetDecision(channel, auditor, answer.decision_id(), &decision);
  ASSERT_THAT(read, IsOk()) << read.error_message();
  EXPECT_EQ(decision.caller(), "jwt:ehr-east");
  {
    // The auditor asks which decisions this caller received: both.
    v1::ListDecisionsRequest list;
    list.set_caller("jwt:ehr-east");
    list.set_metadata_only(true);
    v1::ListDecisionsResponse listed;
    ASSERT_THAT(v1::Governance::NewStub(channel)->ListDecisions(
                    Context(auditor).get(), list, &listed),
                IsOk());
    ASSERT_EQ(listed.decisions_size(), 2);
    EXPECT_EQ(listed.decisions(0).decision_id(), answer.decision_id());
    list.set_caller("jwt:nobody");
    ASSERT_THAT(v1::Governance::NewStub(channel)->ListDecisions(
                    Context(auditor).get(), list, &listed),
                IsOk());
    EXPECT_EQ(listed.decisions_size(), 0);
  }
  EXPECT_THAT(GetDecision(channel, evaluator, answer.decision_id(), &decision),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_THAT(GetDecision(channel, "", answer.decision_id(), &decision),
              StatusIs(grpc::StatusCode::UNAUTHENTICATED));

  // Administration needs admin: the auditor is refused, ops may activate.
  auto governance = v1::Governance::NewStub(channel);
  v1::ActivateRuleSetRequest activate;
  activate.set_id("reconnect");
  activate.set_version("1.0.5");
  v1::ActivateRuleSetResponse activated;
  EXPECT_THAT(
      governance->ActivateRuleSet(Context(auditor).get(), activate, &activated),
      StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  const std::string admin = Token("ops", absl::Minutes(5));
  grpc::Status s =
      governance->ActivateRuleSet(Context(admin).get(), activate, &activated);
  ASSERT_THAT(s, IsOk()) << s.error_message();
  EXPECT_EQ(activated.active().version(), "1.0.5");
  activate.set_version("9.9.9");
  EXPECT_THAT(
      governance->ActivateRuleSet(Context(admin).get(), activate, &activated),
      StatusIs(grpc::StatusCode::NOT_FOUND));
  v1::ReloadRuleSetsResponse reloaded;
  s = governance->ReloadRuleSets(Context(admin).get(), {}, &reloaded);
  ASSERT_THAT(s, IsOk()) << s.error_message();
  EXPECT_TRUE(reloaded.loaded());

  // The governance command line, over TLS with a token file.
  Write("auditor.jwt", auditor);
  const std::string common = " --server 127.0.0.1:" + std::to_string(port_) +
                             " --tls_ca " + Path("ca.pem");
  auto [code, out] = testing_util::RunReconnect(
      "audit verify" + common + " --token_file " + Path("auditor.jwt"));
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = testing_util::RunReconnect("audit verify" + common);
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("UNAUTHENTICATED"));
  std::tie(code, out) = testing_util::RunReconnect(
      "audit verify" + common + " --token_file " + Path("missing.jwt"));
  EXPECT_EQ(code, 2);
  EXPECT_THAT(out, HasSubstr("missing.jwt' cannot be read"));
  // Administration from the command line: ops may, the auditor may not.
  Write("ops.jwt", admin);
  std::tie(code, out) =
      testing_util::RunReconnect("admin activate reconnect@1.0.5" + common +
                                 " --token_file " + Path("ops.jwt"));
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("active: reconnect 1.0.5"));
  std::tie(code, out) = testing_util::RunReconnect(
      "admin reload" + common + " --token_file " + Path("ops.jwt"));
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = testing_util::RunReconnect(
      "admin reload" + common + " --token_file " + Path("auditor.jwt"));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("PERMISSION_DENIED"));

  // Refusals are logged with their reason and counted; tokens never are.
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(15)), 0);
  std::vector<std::string> reasons;
  for (const auto& line : server->lines()) {
    EXPECT_EQ(line.find(evaluator), std::string::npos);
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == "call_unauthenticated") {
      reasons.push_back(j["reason"]);
      EXPECT_EQ(j["unauthenticated_total"], reasons.size());
    }
  }
  EXPECT_THAT(reasons,
              testing::IsSupersetOf(
                  {HasSubstr("no bearer token"), HasSubstr("expired"),
                   HasSubstr("audience"), HasSubstr("signature is invalid"),
                   HasSubstr("compact JWS")}));
}

TEST_F(SecurityE2ETest, HealthListenerNeedsNoCertificate) {
  auto server = Start("require");
  // Plaintext, no certificate: the health service answers, and nothing else
  // is served there.
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(health_port_),
                          grpc::InsecureChannelCredentials());
  EXPECT_EQ(testing_util::CheckHealth(channel, ""),
            testing_util::Serving::kServing);
  EXPECT_EQ(testing_util::CheckHealth(channel, "liveness"),
            testing_util::Serving::kServing);
  v1::EvaluateResponse answer;
  auto ectx = Context();
  EXPECT_THAT(v1::DecisionSupport::NewStub(channel)->Evaluate(
                  ectx.get(), v1::EvaluateRequest(), &answer),
              StatusIs(grpc::StatusCode::UNIMPLEMENTED));
  // Not even reflection: an unauthenticated caller learns nothing there.
  EXPECT_THAT(
      testing_util::ReflectionCall(channel, testing_util::ListServicesRequest())
          .status,
      StatusIs(grpc::StatusCode::UNIMPLEMENTED));
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(15)), 0);
}

// With a policy, reflection is off unless asked for: its plugin does not
// check roles. Asked for, it answers authenticated callers only: every call
// on a TLS listener is authenticated as it arrives.
TEST_F(SecurityE2ETest, ReflectionNeedsToBeAskedForWhenCallersAreAuthorized) {
  const std::string token = Token("governance-team", absl::Minutes(5));
  {
    auto server = Start("optional");
    EXPECT_THAT(testing_util::ReflectionCall(
                    Channel(""), testing_util::ListServicesRequest(), token)
                    .status,
                StatusIs(grpc::StatusCode::UNIMPLEMENTED));
    EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(15)), 0);
  }
  auto server = Start("optional", {"--reflection=on"});
  EXPECT_THAT(testing_util::ReflectionCall(Channel(""),
                                           testing_util::ListServicesRequest())
                  .status,
              StatusIs(grpc::StatusCode::UNAUTHENTICATED));
  const auto listed = testing_util::ReflectionCall(
      Channel(""), testing_util::ListServicesRequest(), token);
  EXPECT_THAT(listed.status, IsOk());
  EXPECT_THAT(listed.response, HasSubstr("reconnect.v1.DecisionSupport"));
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(15)), 0);
}

// Calls that send their headers and no credentials, and then no message:
// refused as they arrive, and logged, rather than held waiting.
TEST_F(SecurityE2ETest, StalledCallsWithoutCredentialsAreRefusedOnArrival) {
  auto server = Start("optional");
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  constexpr int kCalls = 2000;
  testing_util::StalledCalls stalled(
      "127.0.0.1:" + std::to_string(port_), 10, kCalls,
      grpc::SslCredentials({Read(Path("ca.pem")), "", ""}), args);
  // Each refusal is logged: the log is read while waiting, so that the
  // server never blocks on a full pipe.
  std::optional<nlohmann::json> refused;
  bool all = false;
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!all && std::chrono::steady_clock::now() < until) {
    auto line = server->WaitForEvent("call_unauthenticated",
                                     std::chrono::milliseconds(100));
    if (!refused) refused = line;
    all = stalled.AwaitEnded(grpc::StatusCode::UNAUTHENTICATED, kCalls,
                             absl::ZeroDuration());
  }
  EXPECT_TRUE(all) << "ended by status code: " << stalled.EndedByCode();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ((*refused)["method"], "(on arrival)");
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(15)), 0);
}

TEST_F(SecurityE2ETest, RotatedServerCertificateIsServedWithoutRestart) {
  // A copy of the key and certificate that the test then replaces.
  Write("rotating.pem", Read(Path("server.pem")));
  Write("rotating.key", Read(Path("server.key")));
  auto server =
      Start("optional", {"--tls_cert", Path("rotating.pem"), "--tls_key",
                         Path("rotating.key"), "--tls_refresh_seconds", "1"});
  const std::string evaluator = Token("ehr-east", absl::Minutes(5));
  ASSERT_THAT(Evaluate(Channel(""), evaluator), IsOk());

  // A new CA and a certificate from it, moved into place as a rotation
  // tool would (rename, so the server never reads half a file).
  Key new_ca_key = Key::EcP256();
  Certificate new_ca = MakeCertificate({"Rotated CA", {}, true}, new_ca_key,
                                       nullptr, new_ca_key);
  Key new_key = Key::EcP256();
  Write("next.key", new_key.PrivatePem());
  Write("next.pem",
        MakeCertificate({"reconnect", {"DNS:localhost", "IP:127.0.0.1"}},
                        new_key, &new_ca, new_ca_key)
            .pem);
  fs::rename(Path("next.key"), Path("rotating.key"));
  fs::rename(Path("next.pem"), Path("rotating.pem"));
  bool rotated = false;
  for (int i = 0; i < 100 && !rotated; ++i) {
    rotated = Evaluate(Channel("", new_ca.pem), evaluator).ok();
    if (!rotated) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(rotated);
  // Clients that trust only the old CA now fail the handshake.
  EXPECT_THAT(Evaluate(Channel(""), evaluator),
              StatusIs(grpc::StatusCode::UNAVAILABLE));
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(15)), 0);
}

// Keys and roles change without a restart: a new JWKS and policy are read
// on SIGHUP (or when polled), a broken one is refused and the old stays.
TEST_F(SecurityE2ETest, RotatedKeysAndPolicyApplyWithoutRestart) {
  Write("rotating-jwks.json", Read(Path("jwks.json")));
  Write("rotating-policy.json", Read(Path("policy.json")));
  auto server = Start(
      "optional", {"--jwks", Path("rotating-jwks.json"), "--policy",
                   Path("rotating-policy.json"), "--reload_poll_seconds=0"});
  auto channel = Channel("");
  const std::string old_token = Token("ehr-east", absl::Minutes(5));
  ASSERT_THAT(Evaluate(channel, old_token), IsOk());

  // The issuer rotates to a new key, and ehr-east becomes an auditor only.
  Key next = Key::EcP256();
  Write("rotating-jwks.json",
        nlohmann::json({{"keys", {next.Jwk("ec-2")}}}).dump());
  Write("rotating-policy.json", R"({"bindings": [
      {"jwt_subject": "ehr-east", "roles": ["auditor"]},
      {"jwt_subject": "ehr-north", "roles": ["evaluator"]}]})");
  kill(server->pid(), SIGHUP);
  auto reloaded =
      server->WaitForEvent("auth_reloaded", std::chrono::seconds(10));
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_EQ((*reloaded)["bindings"], 2);
  EXPECT_EQ((*reloaded)["keys"], 1);
  // The old key's token no longer verifies (even though it was cached).
  EXPECT_THAT(Evaluate(channel, old_token),
              StatusIs(grpc::StatusCode::UNAUTHENTICATED));
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  auto token = [&](const std::string& subject) {
    return SignJwt({{"alg", "ES256"}, {"kid", "ec-2"}},
                   {{"iss", kIssuer},
                    {"sub", subject},
                    {"aud", kAudience},
                    {"exp", now + 300}},
                   next);
  };
  EXPECT_THAT(Evaluate(channel, token("ehr-east")),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_THAT(Evaluate(channel, token("ehr-north")), IsOk());

  // A broken policy is refused; the one before keeps deciding.
  Write("rotating-policy.json", "{ not json");
  kill(server->pid(), SIGHUP);
  auto refused =
      server->WaitForEvent("auth_reload_refused", std::chrono::seconds(10));
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT((*refused)["reason"].get<std::string>(),
              HasSubstr("rotating-policy.json': is not valid JSON"));
  EXPECT_THAT(Evaluate(channel, token("ehr-north")), IsOk());
  channel.reset();
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(15)), 0);
}

TEST_F(SecurityE2ETest, PlaintextBeyondLoopbackNeedsInsecureAndSaysSo) {
  ServerProcess server(testing_util::ServeBundled(
      {"--audit=off", "--listen", "0.0.0.0:0", "--insecure"}));
  auto insecure =
      server.WaitForEvent("insecure_listener", std::chrono::seconds(30));
  ASSERT_TRUE(insecure.has_value());
  EXPECT_EQ((*insecure)["level"], "warning");
  auto off = server.WaitForEvent("authorization_off", std::chrono::seconds(30));
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ((*off)["level"], "warning");
  ASSERT_TRUE(server.WaitForEvent("serving", std::chrono::seconds(30)));
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(15)), 0);
}

TEST_F(SecurityE2ETest, BadSecurityConfigurationIsRefusedAtStart) {
  auto start = [](std::vector<std::string> extra) {
    std::vector<std::string> args = testing_util::ServeBundled({"--audit=off"});
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ServerProcess>(args);
  };
  struct Case {
    std::vector<std::string> args;
    std::string event;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {{"--tls_cert", Path("server.pem")}, "tls_refused", "go together"},
      {{"--tls_cert", Path("missing.pem"), "--tls_key", Path("server.key")},
       "tls_refused",
       "missing.pem' cannot be read"},
      {{"--tls_cert", Path("policy.json"), "--tls_key", Path("server.key")},
       "tls_refused",
       "holds no PEM certificate"},
      {{"--tls_cert", Path("ehr-west.pem"), "--tls_key", Path("server.key")},
       "tls_refused",
       "is not the key of the certificate"},
      {{"--client_ca", Path("ca.pem")}, "tls_refused", "mutual TLS is TLS"},
      {{"--jwks", Path("jwks.json")}, "auth_refused", "--jwks needs --policy"},
      {{"--policy", Path("jwks.json")}, "auth_refused", "'bindings' array"},
      {{"--policy", Path("policy.json"), "--jwks", Path("policy.json"),
        "--jwt_issuer", "a", "--jwt_audience", "b"},
       "auth_refused",
       "'keys' array"},
      {{"--policy", Path("policy.json"), "--jwks", Path("jwks.json")},
       "auth_refused",
       "issuer and audience are both required"},
      {{"--listen", "0.0.0.0:0"}, "refused_plaintext", "only on loopback"},
  };
  for (const Case& c : cases) {
    auto server = start(c.args);
    auto refused = server->WaitForEvent(c.event, std::chrono::seconds(30));
    ASSERT_TRUE(refused.has_value()) << c.event << " " << c.reason;
    EXPECT_THAT((*refused)["reason"].get<std::string>(), HasSubstr(c.reason));
    EXPECT_EQ(server->Stop(0, std::chrono::seconds(10)), 2) << c.reason;
  }
}

}  // namespace
}  // namespace reconnect
