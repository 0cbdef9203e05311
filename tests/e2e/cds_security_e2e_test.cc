// CDS Hooks security on the real process: bearer JWTs from trusted EHRs
// (ES384 and RS384, signed here with OpenSSL), the policy's roles by
// issuer and tenant, bare 401s, CORS, TLS, and the refusals at start-up.

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "service/audit/audit_store.h"
#include "tests/testing/cli.h"
#include "tests/testing/http_client.h"
#include "tests/testing/https_server.h"
#include "tests/testing/pki.h"
#include "tests/testing/server_process.h"
#include "tests/testing/tls_client.h"

namespace reconnect {
namespace {

using testing::HasSubstr;
using testing::Not;
using testing_util::HttpCall;
using testing_util::HttpReply;
using testing_util::Key;
using testing_util::ServerProcess;
using testing_util::SignJwt;
using testing_util::WriteFile;

constexpr char kEhr[] = "https://ehr.example.org";
constexpr char kSandbox[] = "https://sandbox.example.org";
constexpr char kPublicUrl[] = "https://cds.example.test";
constexpr char kOrigin[] = "https://sandbox.example.org";
constexpr char kService[] = "/cds-services/reconnect-patient-view";

std::string ExampleCall() {
  std::ifstream in(std::string(RECONNECT_SOURCE_DIR) +
                   "/examples/cds-hooks/patient-view-catastrophising.json");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Keys, the client list and the policy in a fresh directory:
// - the EHR (ES384 and RS384 keys) may evaluate;
// - the sandbox (ES384) may evaluate only for its tenant "north".
class CdsSecurityTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    ehr_ec_ = new Key(Key::EcP384());
    ehr_rsa_ = new Key(Key::Rsa());
    sandbox_ = new Key(Key::EcP384());
  }
  static void TearDownTestSuite() {
    delete ehr_ec_;
    delete ehr_rsa_;
    delete sandbox_;
  }

  void SetUp() override {
    char tmpl[] = "/tmp/cds_security_e2e.XXXXXX";
    dir_ = mkdtemp(tmpl);
    nlohmann::json rsa = ehr_rsa_->Jwk("ehr-rsa");
    rsa.erase("alg");
    WriteFile(dir_ + "/ehr-jwks.json",
              nlohmann::json({{"keys", {ehr_ec_->Jwk("ehr-ec"), rsa}}}).dump());
    WriteFile(
        dir_ + "/clients.json",
        nlohmann::json({{"clients",
                         {{{"issuer", kEhr}, {"jwks_file", "ehr-jwks.json"}},
                          {{"issuer", kSandbox},
                           {"jwks", {{"keys", {sandbox_->Jwk("sandbox")}}}}}}}})
            .dump());
    WriteFile(
        dir_ + "/policy.json",
        nlohmann::json({{"bindings",
                         {{{"cds_client", kEhr}, {"roles", {"evaluator"}}},
                          {{"cds_client", kSandbox},
                           {"tenant", "north"},
                           {"roles", {"evaluator"}}}}}})
            .dump());
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(20)), 0);
    }
    std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> Flags(std::vector<std::string> more = {}) const {
    std::vector<std::string> flags = {
        "--audit=" + dir_ + "/audit.db",
        "--http_listen=127.0.0.1:0",
        "--policy=" + dir_ + "/policy.json",
        "--cds_clients=" + dir_ + "/clients.json",
        std::string("--http_public_url=") + kPublicUrl,
        std::string("--http_cors_origins=") + kOrigin,
        "--reload_poll_seconds=1"};
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
  }

  void Start(std::vector<std::string> more = {}) {
    server_ = std::make_unique<ServerProcess>(
        testing_util::ServeBundled(Flags(std::move(more))));
    auto serving =
        server_->WaitForEvent("http_serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value());
    port_ = (*serving)["port"].get<int>();
  }

  // Claims for a call to `path`, with a fresh jti.
  nlohmann::json Claims(const std::string& path,
                        const std::string& issuer = kEhr) {
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    return {{"iss", issuer},
            {"sub", "client-7"},
            {"aud", absl::StrCat(kPublicUrl, path)},
            {"exp", now + 120},
            {"iat", now},
            {"jti", absl::StrCat("jti-", ++jti_)}};
  }
  static std::string Sign(const nlohmann::json& claims,
                          const std::string& alg = "ES384",
                          const std::string& kid = "ehr-ec",
                          const Key* key = nullptr) {
    if (key == nullptr) key = alg[0] == 'E' ? ehr_ec_ : ehr_rsa_;
    return SignJwt({{"alg", alg}, {"typ", "JWT"}, {"kid", kid}}, claims, *key);
  }
  std::optional<HttpReply> Get(const std::string& path,
                               const std::string& token,
                               const std::string& extra = "") {
    return HttpCall(
        port_, "GET", path, "",
        (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") +
            extra);
  }
  std::optional<HttpReply> Post(const std::string& path,
                                const std::string& token,
                                const std::string& body) {
    return HttpCall(port_, "POST", path, body,
                    "Content-Type: application/json\r\nAuthorization: "
                    "Bearer " +
                        token + "\r\n");
  }
  // The server's log so far, as one string.
  std::string Log() const {
    std::string all;
    for (const auto& line : server_->lines()) absl::StrAppend(&all, line, "\n");
    return all;
  }
  // The log once it holds `text` (it is read on another thread, so a line
  // written before an answer may be read after it), or as it is after 5 s.
  std::string LogWith(const std::string& text) const {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string log = Log();
    while (log.find(text) == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      log = Log();
    }
    return log;
  }

  static Key* ehr_ec_;
  static Key* ehr_rsa_;
  static Key* sandbox_;
  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
  int jti_ = 0;
};

Key* CdsSecurityTest::ehr_ec_ = nullptr;
Key* CdsSecurityTest::ehr_rsa_ = nullptr;
Key* CdsSecurityTest::sandbox_ = nullptr;

TEST_F(CdsSecurityTest, DiscoveryAndCallsNeedATokenForTheExactUrl) {
  Start();
  auto bare = Get("/cds-services", "");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->status, 401);
  EXPECT_EQ(bare->body, "");
  EXPECT_EQ(bare->headers["www-authenticate"], "Bearer");
  auto es384 = Get("/cds-services", Sign(Claims("/cds-services")));
  ASSERT_TRUE(es384.has_value());
  EXPECT_EQ(es384->status, 200) << es384->body;
  auto rs384 =
      Get("/cds-services", Sign(Claims("/cds-services"), "RS384", "ehr-rsa"));
  ASSERT_TRUE(rs384.has_value());
  EXPECT_EQ(rs384->status, 200);
  // A token for discovery does not open the service.
  auto wrong_aud = Post(kService, Sign(Claims("/cds-services")), ExampleCall());
  ASSERT_TRUE(wrong_aud.has_value());
  EXPECT_EQ(wrong_aud->status, 401);
  const std::string token = Sign(Claims(kService));
  auto call = Post(kService, token, ExampleCall());
  ASSERT_TRUE(call.has_value());
  ASSERT_EQ(call->status, 200) << call->body;
  // The decision is recorded under the EHR's identity.
  const std::string decision_id =
      nlohmann::json::parse(call->body)["extension"]["reconnect"]["decisionId"];
  auto reader = service::AuditReader::Open(dir_ + "/audit.db");
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto records = (*reader)->ListDecisions({});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].decision_id, decision_id);
  EXPECT_EQ((*records)[0].caller, "cds:https://ehr.example.org");
  // Feedback needs a token for its own URL too, and is recorded under the
  // caller's identity.
  const std::string feedback_path = absl::StrCat(kService, "/feedback");
  const std::string plan =
      nlohmann::json::parse(call->body)["cards"].back()["uuid"];
  const std::string feedback =
      nlohmann::json{{"feedback",
                      {{{"card", plan},
                        {"outcome", "overridden"},
                        {"overrideReason", {{"userComment", "not now"}}},
                        {"outcomeTimestamp", "2026-12-01T10:00:00Z"}}}}}
          .dump();
  auto no_token = HttpCall(port_, "POST", feedback_path, feedback,
                           "Content-Type: application/json\r\n");
  ASSERT_TRUE(no_token.has_value());
  EXPECT_EQ(no_token->status, 401);
  auto service_token = Post(feedback_path, Sign(Claims(kService)), feedback);
  ASSERT_TRUE(service_token.has_value());
  EXPECT_EQ(service_token->status, 401);
  auto stored = Post(feedback_path, Sign(Claims(feedback_path)), feedback);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->status, 200) << stored->body;
  auto feedback_records = (*reader)->ListFeedback({});
  ASSERT_TRUE(feedback_records.ok());
  ASSERT_EQ(feedback_records->size(), 1u);
  EXPECT_EQ((*feedback_records)[0].caller, "cds:https://ehr.example.org");
  // The same token again is a replay.
  auto replay = Post(kService, token, ExampleCall());
  ASSERT_TRUE(replay.has_value());
  EXPECT_EQ(replay->status, 401);
  EXPECT_THAT(LogWith("used before"), HasSubstr("used before"));
  // No log line holds a token.
  EXPECT_THAT(Log(), Not(HasSubstr(token.substr(0, token.find('.')))));
}

TEST_F(CdsSecurityTest, EveryAuthenticationFailureIsABare401) {
  Start();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  std::vector<std::pair<std::string, std::string>> cases;
  auto edited = [&](const std::string& what, auto edit) {
    nlohmann::json claims = Claims("/cds-services");
    edit(claims);
    cases.emplace_back(what, Sign(claims));
  };
  edited("expired", [&](nlohmann::json& c) {
    c["exp"] = now - 300;
    c["iat"] = now - 400;
  });
  edited("no iat", [](nlohmann::json& c) { c.erase("iat"); });
  edited("no jti", [](nlohmann::json& c) { c.erase("jti"); });
  edited("too long", [&](nlohmann::json& c) { c["exp"] = now + 3600; });
  edited("unknown issuer",
         [](nlohmann::json& c) { c["iss"] = "https://stranger.example"; });
  edited("other audience",
         [](nlohmann::json& c) { c["aud"] = "https://cds.example.test"; });
  cases.emplace_back(
      "key of another issuer",
      Sign(Claims("/cds-services"), "ES384", "sandbox", sandbox_));
  std::string forged = Sign(Claims("/cds-services"));
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  cases.emplace_back("bad signature", forged);
  cases.emplace_back("alg none", "eyJhbGciOiJub25lIn0.e30.");
  cases.emplace_back("not a JWT", "not-a-token");
  for (const auto& [what, token] : cases) {
    auto reply = Get("/cds-services", token);
    ASSERT_TRUE(reply.has_value()) << what;
    EXPECT_EQ(reply->status, 401) << what;
    EXPECT_EQ(reply->body, "") << what;
  }
  auto basic = HttpCall(port_, "GET", "/cds-services", "",
                        "Authorization: Basic dXNlcjpwYXNz\r\n");
  ASSERT_TRUE(basic.has_value());
  EXPECT_EQ(basic->status, 401);
  // Each refusal is logged with its reason (the last one first: once it is
  // read, so are those before it).
  const std::string log = LogWith("not a bearer token");
  for (const char* reason :
       {"expired", "no 'iat'", "no 'jti'", "valid for longer",
        "not a trusted CDS client", "aud is not the URL called",
        "signature is invalid", "not a bearer token"}) {
    EXPECT_THAT(log, HasSubstr(reason));
  }
}

TEST_F(CdsSecurityTest, RolesFollowThePolicyByIssuerAndTenant) {
  Start();
  auto as_sandbox = [&](const std::string& tenant) {
    nlohmann::json claims = Claims("/cds-services", kSandbox);
    if (!tenant.empty()) claims["tenant"] = tenant;
    return Get("/cds-services", Sign(claims, "ES384", "sandbox", sandbox_));
  };
  auto north = as_sandbox("north");
  ASSERT_TRUE(north.has_value());
  EXPECT_EQ(north->status, 200);
  for (const std::string tenant : {"south", ""}) {
    auto other = as_sandbox(tenant);
    ASSERT_TRUE(other.has_value());
    EXPECT_EQ(other->status, 403) << tenant;
    EXPECT_EQ(other->body, "");
  }
  EXPECT_THAT(LogWith("the policy binds no role to this caller"),
              HasSubstr("the policy binds no role to this caller"));
}

TEST_F(CdsSecurityTest, CorsAllowsOnlyTheListedOrigins) {
  Start();
  const std::string preflight =
      "Access-Control-Request-Method: POST\r\n"
      "Access-Control-Request-Headers: authorization, content-type\r\n";
  auto allowed = HttpCall(port_, "OPTIONS", kService, "",
                          absl::StrCat("Origin: ", kOrigin, "\r\n", preflight));
  ASSERT_TRUE(allowed.has_value());
  EXPECT_EQ(allowed->status, 204);
  EXPECT_EQ(allowed->headers["access-control-allow-origin"], kOrigin);
  EXPECT_THAT(allowed->headers["access-control-allow-methods"],
              HasSubstr("POST"));
  EXPECT_THAT(allowed->headers["access-control-allow-headers"],
              HasSubstr("Authorization"));
  auto other = HttpCall(port_, "OPTIONS", kService, "",
                        "Origin: https://evil.example\r\n" + preflight);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->status, 403);
  EXPECT_EQ(other->headers.count("access-control-allow-origin"), 0u);
  // Answers to the allowed origin carry the header, refusals included, so
  // that the browser shows the status; other origins get none.
  auto answer = Get("/cds-services", Sign(Claims("/cds-services")),
                    absl::StrCat("Origin: ", kOrigin, "\r\n"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->headers["access-control-allow-origin"], kOrigin);
  auto refused =
      Get("/cds-services", "", absl::StrCat("Origin: ", kOrigin, "\r\n"));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->headers["access-control-allow-origin"], kOrigin);
  auto elsewhere = Get("/cds-services", Sign(Claims("/cds-services")),
                       "Origin: https://evil.example\r\n");
  ASSERT_TRUE(elsewhere.has_value());
  EXPECT_EQ(elsewhere->headers.count("access-control-allow-origin"), 0u);
}

TEST_F(CdsSecurityTest, ServesOverTlsFromTheGrpcCertificateFlags) {
  Key ca_key = Key::EcP256();
  auto ca = testing_util::MakeCertificate({"Test CA", {}, true}, ca_key,
                                          nullptr, ca_key);
  Key key = Key::EcP256();
  auto cert = testing_util::MakeCertificate(
      {"cds.example.test", {"IP:127.0.0.1"}}, key, &ca, ca_key);
  WriteFile(dir_ + "/ca.pem", ca.pem);
  WriteFile(dir_ + "/server.pem", cert.pem);
  WriteFile(dir_ + "/server-key.pem", key.PrivatePem());
  // Beyond loopback, with TLS and authenticated callers: no --insecure.
  Start({"--tls_cert=" + dir_ + "/server.pem",
         "--tls_key=" + dir_ + "/server-key.pem", "--http_listen=0.0.0.0:0"});
  testing_util::TlsClient client(port_, dir_ + "/ca.pem");
  ASSERT_TRUE(client.ok()) << client.error();
  auto discovery = client.Call(
      "/cds-services", "GET", "",
      {{"Authorization", "Bearer " + Sign(Claims("/cds-services"))}});
  ASSERT_TRUE(discovery.has_value());
  EXPECT_EQ(discovery->status, 200);
  auto call =
      client.Call(kService, "POST", ExampleCall(),
                  {{"Authorization", "Bearer " + Sign(Claims(kService))},
                   {"Content-Type", "application/json"}});
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->status, 200) << call->body;
}

TEST_F(CdsSecurityTest, RotatedClientKeysAreTakenWithoutARestart) {
  Start();
  Key rotated = Key::EcP384();
  const auto token = [&] {
    return SignJwt({{"alg", "ES384"}, {"kid", "ehr-2027"}},
                   Claims("/cds-services"), rotated);
  };
  auto before = Get("/cds-services", token());
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->status, 401);
  WriteFile(dir_ + "/ehr-jwks.json",
            nlohmann::json({{"keys", {rotated.Jwk("ehr-2027")}}}).dump());
  ASSERT_TRUE(
      server_->WaitForEvent("cds_clients_reloaded", std::chrono::seconds(10)));
  auto after = Get("/cds-services", token());
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->status, 200);
}

// An EHR that publishes its keys at a URL (over HTTPS, from a CA the list
// names): fetched at start, and again when a token names a new key.
TEST_F(CdsSecurityTest, PublishedKeysAreFetchedAndFollowARotation) {
  Key ca_key = Key::EcP256();
  const testing_util::Certificate ca = testing_util::MakeCertificate(
      {.common_name = "EHR CA", .alt_names = {}, .is_ca = true}, ca_key,
      nullptr, ca_key);
  Key tls_key = Key::EcP256();
  const testing_util::Certificate cert = testing_util::MakeCertificate(
      {.common_name = "ehr", .alt_names = {"IP:127.0.0.1"}}, tls_key, &ca,
      ca_key);
  WriteFile(dir_ + "/ehr-ca.pem", ca.pem);
  testing_util::HttpsServer jwks(cert.pem, tls_key.PrivatePem());
  Key published = Key::EcP384();
  jwks.Answer(200, nlohmann::json({{"keys", {published.Jwk("pub-1")}}}).dump());
  WriteFile(
      dir_ + "/clients.json",
      nlohmann::json(
          {{"clients",
            {{{"issuer", kEhr}, {"jwks_url", jwks.url("/ehr/jwks.json")}}}},
           {"ca_file", "ehr-ca.pem"}})
          .dump());
  Start();
  EXPECT_THAT(LogWith("cds_client_keys_fetched"),
              HasSubstr("cds_client_keys_fetched"));
  auto first = Get("/cds-services",
                   Sign(Claims("/cds-services"), "ES384", "pub-1", &published));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200) << first->body;

  Key rotated = Key::EcP384();
  jwks.Answer(200, nlohmann::json({{"keys", {rotated.Jwk("pub-2")}}}).dump());
  // The first token with the new key is refused and asks for a fetch; the
  // EHR's retry after the next reload tick succeeds.
  int status = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    auto reply = Get("/cds-services",
                     Sign(Claims("/cds-services"), "ES384", "pub-2", &rotated));
    ASSERT_TRUE(reply.has_value());
    status = reply->status;
    if (status != 200)
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_EQ(status, 200);
  EXPECT_GE(jwks.requests(), 2);
  EXPECT_THAT(Log(), Not(HasSubstr("eyJ")));  // no token in the log
}

TEST_F(CdsSecurityTest, UnsafeOptionsAreRefusedAtStartUpNamingTheFlag) {
  const std::string base =
      std::string("serve --rules ") + RECONNECT_SOURCE_DIR +
      "/rules/reconnect/1.0.5 --listen 127.0.0.1:0 --audit=off "
      "--http_listen=127.0.0.1:0 ";
  const std::string clients = "--cds_clients=" + dir_ + "/clients.json ";
  for (const auto& [flags, message] :
       std::vector<std::pair<std::string, std::string>>{
           {"--policy=" + dir_ + "/policy.json",
            "with --policy the HTTP listener must authenticate"},
           {clients, "--cds_clients needs --http_public_url"},
           {clients + "--http_public_url=cds.example.org",
            "must be an http(s) URL"},
           {clients + "--http_public_url=https://cds.example.org/",
            "without a trailing slash"},
           {"--http_cors_origins=*", "'*' is not an origin"},
           {"--http_cors_origins=https://a.example/path", "is not an origin"},
           {"--cds_clients=" + dir_ + "/missing.json " +
                "--http_public_url=https://cds.example.org",
            "cannot be read"}}) {
    auto [code, out] = testing_util::RunReconnect(base + flags);
    EXPECT_EQ(code, 2) << flags << "\n" << out;
    EXPECT_THAT(out, HasSubstr(message)) << flags;
  }
  // Beyond loopback, authentication without TLS is not enough.
  auto [code, out] = testing_util::RunReconnect(
      std::string("serve --rules ") + RECONNECT_SOURCE_DIR +
      "/rules/reconnect/1.0.5 --listen 127.0.0.1:0 --audit=off "
      "--http_listen=0.0.0.0:0 " +
      clients + "--http_public_url=https://cds.example.org");
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("it needs TLS"));
}

}  // namespace
}  // namespace reconnect
