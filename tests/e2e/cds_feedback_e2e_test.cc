// CDS Hooks feedback on the real process: what a clinician did with a card
// goes into the audit trail beside its decision, once, and comes back out
// through Governance.ListFeedback and `audit verify`.

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/governance.grpc.pb.h"
#include "tests/testing/cli.h"
#include "tests/testing/http_client.h"
#include "tests/testing/server_process.h"

namespace reconnect {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing_util::HttpCall;
using testing_util::HttpReply;
using testing_util::ServerProcess;

constexpr char kService[] = "reconnect-patient-view";
constexpr char kOverrideSystem[] =
    "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes";

class CdsFeedbackTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cds_feedback_e2e.XXXXXX";
    dir_ = mkdtemp(tmpl);
    server_ = std::make_unique<ServerProcess>(testing_util::ServeBundled(
        {"--audit=" + dir_ + "/audit.db", "--http_listen=127.0.0.1:0"}));
    auto http = server_->WaitForEvent("http_serving", std::chrono::seconds(30));
    ASSERT_TRUE(http.has_value());
    port_ = (*http)["port"].get<int>();
    auto serving = server_->WaitForEvent("serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value());
    governance_ = v1::Governance::NewStub(
        grpc::CreateChannel((*serving)["address"].get<std::string>(),
                            grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    governance_.reset();  // its connection would hold the drain open
    EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(20)), 0);
    std::filesystem::remove_all(dir_);
  }

  // Calls the service with a sample request: its decision id and cards.
  std::pair<std::string, json> Decide(
      const std::string& example = "patient-view-catastrophising.json") {
    std::ifstream in(std::string(RECONNECT_SOURCE_DIR) +
                     "/examples/cds-hooks/" + example);
    std::stringstream text;
    text << in.rdbuf();
    auto reply =
        HttpCall(port_, "POST", absl::StrCat("/cds-services/", kService),
                 text.str(), "Content-Type: application/json\r\n");
    EXPECT_TRUE(reply.has_value() && reply->status == 200);
    if (!reply.has_value()) return {};
    json body = json::parse(reply->body);
    return {body["extension"]["reconnect"]["decisionId"], body["cards"]};
  }

  std::optional<HttpReply> Feedback(const json& body,
                                    const std::string& service = kService) {
    return HttpCall(port_, "POST",
                    absl::StrCat("/cds-services/", service, "/feedback"),
                    body.dump(), "Content-Type: application/json\r\n");
  }

  static json Overridden(const std::string& card,
                         const std::string& when = "2026-12-01T10:15:00Z") {
    return {{"card", card},
            {"outcome", "overridden"},
            {"overrideReason",
             {{"reason",
               {{"system", kOverrideSystem},
                {"code", "cds-not-applicable"},
                {"display", "PC CDS does not apply to patient"}}},
              {"userComment", "Discussed at the MDT; not yet."}}},
            {"outcomeTimestamp", when}};
  }

  std::vector<v1::Feedback> Listed(const v1::ListFeedbackRequest& request) {
    grpc::ClientContext ctx;
    v1::ListFeedbackResponse response;
    grpc::Status s = governance_->ListFeedback(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.feedback().begin(), response.feedback().end()};
  }

  // "expression: diagnostics" of each issue in an OperationOutcome.
  static std::vector<std::string> Issues(const HttpReply& reply) {
    std::vector<std::string> out;
    json body = json::parse(reply.body, nullptr, false);
    if (!body.is_object() || !body.contains("issue")) return {reply.body};
    for (const json& issue : body["issue"]) {
      out.push_back(absl::StrCat(issue.contains("expression")
                                     ? issue["expression"][0].get<std::string>()
                                     : "",
                                 ": ", issue.value("diagnostics", "")));
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::Governance::Stub> governance_;
  int port_ = 0;
};

TEST_F(CdsFeedbackTest, FeedbackRoundTripsIntoGovernanceOnce) {
  auto [decision_id, cards] = Decide();
  ASSERT_FALSE(cards.empty());
  const std::string plan = cards.back()["uuid"];
  auto stored = Feedback({{"feedback", json::array({Overridden(plan)})}});
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->status, 200) << stored->body;
  EXPECT_EQ(json::parse(stored->body)["stored"], 1);
  // The same feedback again (a retry) is stored once.
  auto again = Feedback({{"feedback", json::array({Overridden(plan)})}});
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->status, 200);
  EXPECT_EQ(json::parse(again->body)["stored"], 0);
  EXPECT_EQ(json::parse(again->body)["alreadyStored"], 1);

  v1::ListFeedbackRequest by_decision;
  by_decision.set_decision_id(decision_id);
  const auto listed = Listed(by_decision);
  ASSERT_EQ(listed.size(), 1u);
  const v1::Feedback& f = listed[0];
  EXPECT_EQ(f.card_uuid(), plan);
  EXPECT_EQ(f.card_item(), "plan");
  EXPECT_EQ(f.outcome(), "overridden");
  EXPECT_EQ(f.service(), kService);
  EXPECT_EQ(f.outcome_time(), "2026-12-01T10:15:00Z");
  EXPECT_EQ(f.override_reason().system(), kOverrideSystem);
  EXPECT_EQ(f.override_reason().code(), "cds-not-applicable");
  EXPECT_EQ(f.override_reason().user_comment(),
            "Discussed at the MDT; not yet.");
  ASSERT_GT(f.rule_ids_size(), 0);
  // By a rule behind the card, and by rule-set version.
  v1::ListFeedbackRequest by_rule;
  by_rule.set_rule_id(f.rule_ids(0));
  EXPECT_EQ(Listed(by_rule).size(), 1u);
  by_rule.set_rule_id("no-such-rule");
  EXPECT_TRUE(Listed(by_rule).empty());
  v1::ListFeedbackRequest by_version;
  by_version.set_rule_set_version("1.0.5");
  EXPECT_EQ(Listed(by_version).size(), 1u);
  by_version.set_rule_set_version("0.0.1");
  EXPECT_TRUE(Listed(by_version).empty());
  // The user's comment is special-category data: never in the log.
  for (const std::string& line : server_->lines()) {
    EXPECT_THAT(line, testing::Not(HasSubstr("Discussed at the MDT")));
  }
  // `audit verify` covers the feedback chain.
  governance_.reset();
  EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(20)), 0);
  auto [code, out] =
      testing_util::RunReconnect("audit verify " + dir_ + "/audit.db");
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("feedback chain intact: 1 record(s)"));
  server_ = std::make_unique<ServerProcess>(
      testing_util::ServeBundled({"--audit=" + dir_ + "/audit.db"}));
  ASSERT_TRUE(server_->WaitForEvent("serving", std::chrono::seconds(30)));
}

// The care team the EHR sends (a CareTeam's roles) leaves skills gaps; the
// clinician accepts one referral and the trail says which, and why.
TEST_F(CdsFeedbackTest, AnAcceptedReferralIsRecordedWithItsRules) {
  auto [decision_id, cards] = Decide("patient-view-care-team.json");
  const json* gaps = nullptr;
  for (const json& card : cards) {
    if (card.contains("suggestions")) gaps = &card;
  }
  ASSERT_NE(gaps, nullptr) << cards.dump();
  ASSERT_GE((*gaps)["suggestions"].size(), 2u);
  // The MedicationRequest the Questionnaire flags as timed badly is a
  // medicine with a timing problem: the plan manages it.
  EXPECT_THAT(cards.dump(), HasSubstr("Medication management"));
  const std::string suggestion = (*gaps)["suggestions"][1]["uuid"];
  json accepted = {{"card", (*gaps)["uuid"]},
                   {"outcome", "accepted"},
                   {"acceptedSuggestions", {{{"id", suggestion}}}},
                   {"outcomeTimestamp", "2026-12-01T11:00:00+01:00"}};
  auto reply = Feedback({{"feedback", json::array({accepted})}});
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->status, 200) << reply->body;
  v1::ListFeedbackRequest by_decision;
  by_decision.set_decision_id(decision_id);
  const auto listed = Listed(by_decision);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].card_item(), "gaps");
  EXPECT_EQ(listed[0].outcome(), "accepted");
  ASSERT_EQ(listed[0].accepted_suggestions_size(), 1);
  EXPECT_EQ(listed[0].accepted_suggestions(0), suggestion);
  EXPECT_GT(listed[0].rule_ids_size(), 0);
  EXPECT_FALSE(listed[0].has_override_reason());
}

TEST_F(CdsFeedbackTest, BadFeedbackIsRefusedNamingWhereAndStoresNothing) {
  auto [decision_id, cards] = Decide();
  ASSERT_FALSE(cards.empty());
  const std::string plan = cards.back()["uuid"];
  struct Case {
    json entry;
    std::string issue;
  };
  json accepted_without = {{"card", plan},
                           {"outcome", "accepted"},
                           {"outcomeTimestamp", "2026-12-01T10:15:00Z"}};
  json reason_on_accept = Overridden(plan);
  reason_on_accept["outcome"] = "accepted";
  reason_on_accept["acceptedSuggestions"] = {
      {{"id", "00000000-0000-5000-8000-000000000000"}}};
  json empty_reason = Overridden(plan);
  empty_reason["overrideReason"] = json::object();
  json bad_time = Overridden(plan);
  bad_time["outcomeTimestamp"] = "yesterday";
  json bad_outcome = Overridden(plan);
  bad_outcome["outcome"] = "ignored";
  json not_uuid = Overridden("plan");
  for (const Case& c : std::vector<Case>{
           {accepted_without,
            "feedback[0].acceptedSuggestions: an accepted "
            "outcome must name the suggestions accepted"},
           {reason_on_accept,
            "feedback[0].overrideReason: only an overridden "
            "card has an override reason"},
           {empty_reason, "feedback[0].overrideReason: must hold a reason"},
           {bad_time, "feedback[0].outcomeTimestamp: must be an instant"},
           {bad_outcome, "feedback[0].outcome: must be 'accepted' or"},
           {not_uuid, "feedback[0].card: must be a card uuid"}}) {
    auto reply = Feedback({{"feedback", json::array({c.entry})}});
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 400) << c.entry.dump();
    EXPECT_THAT(Issues(*reply), testing::Contains(HasSubstr(c.issue)))
        << reply->body;
  }
  // Cards the service never issued, and suggestions the card does not have:
  // the whole request is refused, the good entry with it.
  auto unknown = Feedback(
      {{"feedback", json::array({Overridden(plan),
                                 Overridden("0b2c5f1e-0000-5000-8000-0000000000"
                                            "00")})}});
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status, 400);
  EXPECT_THAT(Issues(*unknown),
              testing::ElementsAre(HasSubstr("feedback[1].card: no card")));
  json foreign = {{"card", plan},
                  {"outcome", "accepted"},
                  {"acceptedSuggestions",
                   {{{"id", "00000000-0000-5000-8000-000000000000"}}}},
                  {"outcomeTimestamp", "2026-12-01T10:15:00Z"}};
  auto suggestion = Feedback({{"feedback", json::array({foreign})}});
  ASSERT_TRUE(suggestion.has_value());
  EXPECT_EQ(suggestion->status, 400);
  EXPECT_THAT(
      Issues(*suggestion),
      testing::ElementsAre(HasSubstr("feedback[0].acceptedSuggestions[0].id")));
  // The card was issued by another service.
  auto elsewhere = Feedback({{"feedback", json::array({Overridden(plan)})}},
                            "reconnect-encounter-start");
  ASSERT_TRUE(elsewhere.has_value());
  EXPECT_EQ(elsewhere->status, 400);
  EXPECT_THAT(elsewhere->body, HasSubstr("issued by the service"));
  // Not JSON, not the shape, no such service, wrong method.
  auto not_json = HttpCall(
      port_, "POST", absl::StrCat("/cds-services/", kService, "/feedback"), "{",
      "Content-Type: application/json\r\n");
  ASSERT_TRUE(not_json.has_value());
  EXPECT_EQ(not_json->status, 400);
  auto shape = Feedback({{"cards", 1}});
  ASSERT_TRUE(shape.has_value());
  EXPECT_EQ(shape->status, 400);
  auto missing = Feedback({{"feedback", json::array()}}, "no-such-service");
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 404);
  auto get = HttpCall(port_, "GET",
                      absl::StrCat("/cds-services/", kService, "/feedback"));
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->headers["allow"], "POST");
  v1::ListFeedbackRequest all;
  EXPECT_TRUE(Listed(all).empty());
}

TEST(CdsFeedbackWithoutAuditTest, IsRefusedRatherThanLost) {
  ServerProcess server(
      testing_util::ServeBundled({"--audit=off", "--http_listen=127.0.0.1:0"}));
  auto http = server.WaitForEvent("http_serving", std::chrono::seconds(30));
  ASSERT_TRUE(http.has_value());
  auto reply = HttpCall((*http)["port"].get<int>(), "POST",
                        absl::StrCat("/cds-services/", kService, "/feedback"),
                        json{{"feedback", json::array()}}.dump(),
                        "Content-Type: application/json\r\n");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 503);
  EXPECT_THAT(reply->body, HasSubstr("--audit=off"));
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace reconnect
