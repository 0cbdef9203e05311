// `reconnect serve --http_listen`: the HTTP listener of the real process,
// called over real sockets.

#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "service/audit/audit_store.h"
#include "tests/testing/cli.h"
#include "tests/testing/http_client.h"
#include "tests/testing/server_process.h"

namespace reconnect {
namespace {

using testing::HasSubstr;
using testing::Not;
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
  const std::string base =
      std::string("serve --rules ") + RECONNECT_SOURCE_DIR +
      "/rules/reconnect/1.0.5 --listen 127.0.0.1:0 --audit=off ";
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
  // Beyond loopback, plaintext or unauthenticated needs --insecure (the
  // other rules: cds_security_e2e_test).
  auto [code, out] =
      testing_util::RunReconnect(base + "--http_listen=0.0.0.0:0");
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("is beyond loopback: it needs TLS"));
}

// The sample CDS Hooks request, with `edit` applied.
std::string ExampleCall(const std::function<void(nlohmann::json&)>& edit = {}) {
  std::ifstream in(std::string(RECONNECT_SOURCE_DIR) +
                   "/examples/cds-hooks/patient-view-catastrophising.json");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json request = nlohmann::json::parse(text.str());
  if (edit) edit(request);
  return request.dump();
}

class CdsServiceCallTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cds_e2e_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    server_ = std::make_unique<ServerProcess>(testing_util::ServeBundled(
        {"--audit=" + dir_ + "/audit.db", "--http_listen=127.0.0.1:0"}));
    port_ = StartHttp(*server_);
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(20)), 0);
    std::filesystem::remove_all(dir_);
  }

  std::optional<testing_util::HttpReply> Call(
      const std::string& body,
      const std::string& service = "reconnect-patient-view") {
    return HttpCall(port_, "POST", "/cds-services/" + service, body,
                    "Content-Type: application/json\r\n");
  }

  std::vector<service::DecisionRecord> Recorded() {
    auto reader = service::AuditReader::Open(dir_ + "/audit.db");
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return {};
    auto listed = (*reader)->ListDecisions({});
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? *listed : std::vector<service::DecisionRecord>{};
  }

  // The issues of an OperationOutcome reply, as "expression: diagnostics".
  static std::vector<std::string> Issues(const testing_util::HttpReply& r) {
    std::vector<std::string> out;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("issue"))
      return {"(no issues) " + r.body};
    for (const auto& issue : j["issue"]) {
      std::string where;
      if (issue.contains("expression")) where = issue["expression"][0];
      out.push_back(where + ": " + issue.value("diagnostics", ""));
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
};

// The plan card's detail, or "" when there is none.
std::string PlanDetail(const testing_util::HttpReply& reply) {
  auto body = nlohmann::json::parse(reply.body, nullptr, false);
  if (!body.is_object() || !body.contains("cards")) return "";
  for (const auto& card : body["cards"]) {
    if (card.value("indicator", "") == "info" &&
        !card.contains("suggestions")) {
      return card.value("detail", "");
    }
  }
  return "";
}

// Why not, on request: the plan card says why the other rules did not
// fire, under the rule set's heading; unasked, it does not.
TEST_F(CdsServiceCallTest, ThePlanCardSaysWhyNotWhenAsked) {
  auto plain = Call(ExampleCall());
  ASSERT_TRUE(plain.has_value());
  ASSERT_EQ(plain->status, 200) << plain->body;
  EXPECT_THAT(PlanDetail(*plain),
              Not(HasSubstr("Why other suggestions were not made")));
  auto asked = Call(ExampleCall([](nlohmann::json& r) {
    r["extension"] = {{"reconnect", {{"explanation", "why-not"}}}};
  }));
  ASSERT_TRUE(asked.has_value());
  ASSERT_EQ(asked->status, 200) << asked->body;
  const std::string detail = PlanDetail(*asked);
  EXPECT_THAT(detail, HasSubstr("### Why other suggestions were not made"));
  EXPECT_THAT(detail,
              HasSubstr("**Moderate depression or anxiety: psychology input "
                        "for mood**: "));
  EXPECT_THAT(detail, HasSubstr("`assessment.scores.phq9_total >= "
                                "params.phq9_moderate` is false (8 \\< 10)"));
  // And what the EHR did not record that could change the plan, with the
  // facts most worth recording first.
  EXPECT_THAT(detail, HasSubstr("### Not recorded, and could change this "
                                "plan\n\n**Worth measuring: "));
  EXPECT_THAT(detail, HasSubstr(" not recorded: if "));
  EXPECT_THAT(PlanDetail(*plain), Not(HasSubstr("Worth measuring")));
  auto wrong = Call(ExampleCall([](nlohmann::json& r) {
    r["extension"] = {{"reconnect", {{"explanation", "everything"}}}};
  }));
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->status, 400);
  EXPECT_THAT(Issues(*wrong),
              testing::Contains(HasSubstr("extension.reconnect.explanation: "
                                          "extension.reconnect.explanation "
                                          "must be")));
}

TEST_F(CdsServiceCallTest, AnswersCardsOnceTheDecisionIsRecorded) {
  auto reply = Call(ExampleCall());
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->status, 200) << reply->body;
  auto body = nlohmann::json::parse(reply->body);
  ASSERT_TRUE(body["cards"].is_array());
  ASSERT_FALSE(body["cards"].empty());
  const std::string decision_id = body["extension"]["reconnect"]["decisionId"];
  EXPECT_EQ(body["extension"]["reconnect"]["ruleSet"]["version"], "1.0.5");
  // The plan card lists what the EHR did not send.
  bool plan = false;
  for (const auto& card : body["cards"]) {
    if (card["indicator"] == "info" && !card.contains("suggestions")) {
      plan = true;
      EXPECT_THAT(card["detail"].get<std::string>(),
                  HasSubstr("Facts not available"));
      EXPECT_THAT(card["detail"].get<std::string>(), HasSubstr("IIEF-5 total"));
    }
  }
  EXPECT_TRUE(plan);
  // In the trail, with the hookInstance.
  const auto records = Recorded();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].decision_id, decision_id);
  EXPECT_EQ(records[0].calling_system, "cds-hooks:reconnect-patient-view");
  auto context = nlohmann::json::parse(records[0].context);
  EXPECT_EQ(context["interface"], "cds-hooks");
  EXPECT_EQ(context["hookInstance"], "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea");
  EXPECT_EQ(context["hook"], "patient-view");
  auto [code, out] =
      testing_util::RunReconnect("audit verify " + dir_ + "/audit.db");
  EXPECT_EQ(code, 0) << out;
  // The encounter-start service answers its own hook.
  auto encounter = Call(ExampleCall([](nlohmann::json& r) {
                          r["hook"] = "encounter-start";
                          r["context"]["encounterId"] = "e1";
                        }),
                        "reconnect-encounter-start");
  ASSERT_TRUE(encounter.has_value());
  EXPECT_EQ(encounter->status, 200) << encounter->body;
}

TEST_F(CdsServiceCallTest, PortalUsersGetNoCardsAndNothingIsDecided) {
  for (const char* user : {"Patient/example-001", "RelatedPerson/partner-1"}) {
    auto reply = Call(
        ExampleCall([&](nlohmann::json& r) { r["context"]["userId"] = user; }));
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(nlohmann::json::parse(reply->body),
              nlohmann::json::parse(R"({"cards":[]})"))
        << user;
  }
  EXPECT_TRUE(Recorded().empty());
}

TEST_F(CdsServiceCallTest, BadRequestsGetTheirStatusAndSayWhere) {
  auto malformed = Call("{\"hook\": ");
  ASSERT_TRUE(malformed.has_value());
  EXPECT_EQ(malformed->status, 400);
  EXPECT_THAT(Issues(*malformed)[0], HasSubstr("not JSON (at byte"));

  auto wrong_hook = Call(ExampleCall([](nlohmann::json& r) {
    r["hook"] = "order-sign";
    r.erase("hookInstance");
  }));
  ASSERT_TRUE(wrong_hook.has_value());
  EXPECT_EQ(wrong_hook->status, 400);
  EXPECT_THAT(Issues(*wrong_hook),
              testing::UnorderedElementsAre(
                  HasSubstr("hookInstance: hookInstance must be"),
                  HasSubstr("hook: this service answers the hook "
                            "'patient-view', not 'order-sign'")));

  auto unknown = Call(ExampleCall(), "no-such-service");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status, 404);

  auto get = HttpCall(port_, "GET", "/cds-services/reconnect-patient-view");
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->headers["allow"], "POST");

  auto wrong_type = Call(ExampleCall([](nlohmann::json& r) {
    r["prefetch"]["observations"]["entry"][0]["resource"]["valueQuantity"]
     ["value"] = "eight";
  }));
  ASSERT_TRUE(wrong_type.has_value());
  EXPECT_EQ(wrong_type->status, 400);
  EXPECT_THAT(Issues(*wrong_type),
              testing::ElementsAre(HasSubstr(
                  "prefetch.observations.entry[0].resource.valueQuantity."
                  "value: must be a number")));

  auto out_of_range = Call(ExampleCall([](nlohmann::json& r) {
    r["prefetch"]["assessment"]["entry"][0]["resource"]["item"][0]["answer"][0]
     ["valueInteger"] = 99;
  }));
  ASSERT_TRUE(out_of_range.has_value());
  EXPECT_EQ(out_of_range->status, 400);
  EXPECT_THAT(Issues(*out_of_range),
              testing::Contains(HasSubstr("assessment.scores.pcs_total")));
  EXPECT_TRUE(Recorded().empty());
}

TEST_F(CdsServiceCallTest, WithoutUsableDataItAnswers412AndSaysWhatIsMissing) {
  auto reply = Call(ExampleCall([](nlohmann::json& r) {
    r["prefetch"] = {{"patient", nullptr},
                     {"observations",
                      {{"resourceType", "OperationOutcome"},
                       {"issue", nlohmann::json::array()}}}};
  }));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 412);
  const auto issues = Issues(*reply);
  EXPECT_THAT(issues, testing::Contains(HasSubstr("PHQ-9 total")));
  EXPECT_THAT(issues, testing::Contains(
                          HasSubstr("prefetch.patient: 'patient' is null")));
  EXPECT_THAT(issues, testing::Contains(HasSubstr(
                          "prefetch.observations: 'observations' is an "
                          "OperationOutcome")));
  EXPECT_THAT(issues, testing::Contains(
                          HasSubstr("prefetch.assessment: 'assessment' was not "
                                    "prefetched")));
  EXPECT_TRUE(Recorded().empty());
}

TEST(CdsCallLimitsTest, CallsBeyondTheLimitGet429WithRetryAfter) {
  char tmpl[] = "/tmp/cds_limit_e2e_test.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  ServerProcess server(testing_util::ServeBundled(
      {"--audit=" + dir + "/audit.db", "--http_listen=127.0.0.1:0",
       "--max_concurrent_calls=1"}));
  const int port = StartHttp(server);
  ASSERT_NE(port, 0);
  auto call = [&] {
    return HttpCall(port, "POST", "/cds-services/reconnect-patient-view",
                    ExampleCall(), "Content-Type: application/json\r\n");
  };
  ASSERT_EQ(call()->status, 200);
  // Hold the store, so that the next call keeps the only slot while it
  // waits for its record (the store's busy wait is 2 s).
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/audit.db").c_str(), &lock), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::atomic<int> held_status{0};
  std::thread held([&] {
    auto r = call();
    held_status = r ? r->status : -1;
  });
  // It holds the slot once it has arrived: a call made before then would
  // take the slot itself (and, waiting on the held store past its busy
  // wait, turn the store unhealthy), so the probe waits until the held call
  // has had ample time (it is on loopback), well within that wait.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::optional<testing_util::HttpReply> refused = call();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_EQ(refused->headers["retry-after"], "1");
  EXPECT_THAT(refused->body, HasSubstr("as many calls as it may"));
  ASSERT_EQ(sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(lock);
  held.join();
  EXPECT_EQ(held_status, 200);
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace reconnect
