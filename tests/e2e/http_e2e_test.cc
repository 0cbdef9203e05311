// `reconnect serve --http_listen`: the HTTP listener of the real process,
// called over real sockets.

#include <signal.h>

#include <chrono>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/cli.h"
#include "tests/testing/http_client.h"
#include "tests/testing/server_process.h"

namespace reconnect {
namespace {

using testing::HasSubstr;
using testing_util::HttpCall;
using testing_util::ServerProcess;

// A server on the bundled rule set with an HTTP listener; the HTTP port, or
// 0 when it did not start.
int StartHttp(ServerProcess& server) {
  auto serving = server.WaitForEvent("http_serving", std::chrono::seconds(30));
  return serving.has_value() ? (*serving)["port"].get<int>() : 0;
}

TEST(HttpE2ETest, DiscoveryListsTheRuleSetsServices) {
  ServerProcess server(
      testing_util::ServeBundled({"--audit=off", "--http_listen=127.0.0.1:0"}));
  const int port = StartHttp(server);
  ASSERT_NE(port, 0);
  auto reply = HttpCall(port, "GET", "/cds-services");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->headers["content-type"], "application/json");
  auto body = nlohmann::json::parse(reply->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << reply->body;
  ASSERT_TRUE(body["services"].is_array());
  std::set<std::string> hooks;
  for (const auto& service : body["services"]) {
    // What CDS Hooks 2.0 requires of each service.
    EXPECT_TRUE(service["id"].is_string());
    EXPECT_TRUE(service["hook"].is_string());
    EXPECT_TRUE(service["description"].is_string());
    EXPECT_FALSE(service["description"].get<std::string>().empty());
    ASSERT_TRUE(service["prefetch"].is_object()) << service.dump();
    EXPECT_EQ(service["prefetch"]["patient"], "Patient/{{context.patientId}}");
    // Prefetch only: the description says so.
    EXPECT_THAT(service["description"].get<std::string>(),
                HasSubstr("never calls back to the EHR's FHIR server"));
    hooks.insert(service["hook"].get<std::string>());
  }
  EXPECT_TRUE(hooks.count("patient-view"));
  EXPECT_TRUE(hooks.count("encounter-start"));
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
}

TEST(HttpE2ETest, UnknownPathsAndMethodsAreRefusedWithAnOperationOutcome) {
  ServerProcess server(
      testing_util::ServeBundled({"--audit=off", "--http_listen=127.0.0.1:0"}));
  const int port = StartHttp(server);
  ASSERT_NE(port, 0);
  auto missing = HttpCall(port, "GET", "/nothing-here");
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->headers["content-type"], "application/fhir+json");
  auto outcome = nlohmann::json::parse(missing->body);
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  EXPECT_EQ(outcome["issue"][0]["code"], "not-found");
  EXPECT_THAT(outcome["issue"][0]["diagnostics"].get<std::string>(),
              HasSubstr("/nothing-here"));
  auto wrong = HttpCall(port, "DELETE", "/cds-services");
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->headers["allow"], "GET");
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
}

TEST(HttpE2ETest, TheLimitFlagsApply) {
  ServerProcess server(testing_util::ServeBundled(
      {"--audit=off", "--http_listen=127.0.0.1:0", "--http_max_body_bytes=2048",
       "--http_max_header_bytes=2048"}));
  const int port = StartHttp(server);
  ASSERT_NE(port, 0);
  auto big_body =
      HttpCall(port, "POST", "/cds-services/x", std::string(4096, 'a'));
  ASSERT_TRUE(big_body.has_value());
  EXPECT_EQ(big_body->status, 413);
  auto big_head = HttpCall(port, "GET", "/cds-services", "",
                           "X-Big: " + std::string(3000, 'a') + "\r\n");
  ASSERT_TRUE(big_head.has_value());
  EXPECT_EQ(big_head->status, 431);
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
  // Refusals are logged, without the request's content.
  bool logged = false;
  for (const std::string& line : server.lines()) {
    EXPECT_THAT(line, testing::Not(HasSubstr("aaaa")));
    logged = logged || line.find("\"http_refused\"") != std::string::npos;
  }
  EXPECT_TRUE(logged);
}

TEST(HttpE2ETest, BadLimitsAndAddressesAreRefusedAtStartUp) {
  const std::string base = std::string("serve --rules ") +
                           RECONNECT_SOURCE_DIR +
                           "/rules/reconnect --listen 127.0.0.1:0 --audit=off ";
  for (const auto& [flags, message] :
       std::vector<std::pair<std::string, std::string>>{
           {"--http_listen=127.0.0.1:0 --http_max_connections=0",
            "--http_max_connections must be >= 1"},
           {"--http_listen=127.0.0.1:0 --http_max_body_bytes=10",
            "--http_max_body_bytes must be >= 1024"},
           {"--http_listen=127.0.0.1:0 --http_read_timeout_ms=0",
            "must be > 0"},
           {"--http_listen=127.0.0.1:notaport", "is not HOST:PORT"}}) {
    auto [code, out] = testing_util::RunReconnect(base + flags);
    EXPECT_NE(code, 0) << flags;
    EXPECT_THAT(out, HasSubstr(message)) << flags;
  }
  // Plaintext and unauthenticated beyond loopback needs --insecure.
  auto [code, out] =
      testing_util::RunReconnect(base + "--http_listen=0.0.0.0:0");
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("only on loopback, or with --insecure"));
}

}  // namespace
}  // namespace reconnect
