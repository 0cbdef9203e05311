// The /metrics endpoint of a real `reconnect serve`, scraped after real
// calls over gRPC and CDS Hooks, feedback and a reload: the counts match
// what was done.

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "reconnect/v1/governance.grpc.pb.h"
#include "tests/testing/cli.h"
#include "tests/testing/examples.h"
#include "tests/testing/http_client.h"
#include "tests/testing/prometheus_text.h"
#include "tests/testing/server_process.h"

namespace reconnect {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing::Optional;
using testing_util::HttpCall;
using testing_util::PromValue;
using testing_util::ServerProcess;

constexpr char kService[] = "reconnect-patient-view";

class MetricsE2ETest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/metrics_e2e.XXXXXX";
    dir_ = mkdtemp(tmpl);
    server_ = std::make_unique<ServerProcess>(testing_util::ServeBundled(
        {"--audit=" + dir_ + "/audit.db", "--http_listen=127.0.0.1:0",
         "--metrics_listen=127.0.0.1:0"}));
    auto http = server_->WaitForEvent("http_serving", std::chrono::seconds(30));
    ASSERT_TRUE(http.has_value());
    http_port_ = (*http)["port"].get<int>();
    auto serving = server_->WaitForEvent("serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value());
    metrics_port_ = (*serving)["metrics_port"].get<int>();
    ASSERT_GT(metrics_port_, 0);
    stub_ = v1::DecisionSupport::NewStub(
        grpc::CreateChannel((*serving)["address"].get<std::string>(),
                            grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    stub_.reset();
    EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(20)), 0);
    std::filesystem::remove_all(dir_);
  }

  std::string Scrape() {
    auto reply = HttpCall(metrics_port_, "GET", "/metrics");
    EXPECT_TRUE(reply.has_value() && reply->status == 200);
    return reply.has_value() ? reply->body : "";
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::DecisionSupport::Stub> stub_;
  int http_port_ = 0;
  int metrics_port_ = 0;
};

TEST_F(MetricsE2ETest, AScrapeCountsTheCallsMade) {
  constexpr int kGood = 5;
  constexpr int kBad = 2;
  const v1::EvaluateRequest request = testing_util::ExampleRequest(
      "catastrophising-performance-beliefs.json", "metrics-e2e");
  std::set<std::string> rules_behind;
  for (int i = 0; i < kGood; ++i) {
    grpc::ClientContext ctx;
    v1::EvaluateResponse response;
    ASSERT_TRUE(stub_->Evaluate(&ctx, request, &response).ok());
    for (const auto& c : response.recommendation().components()) {
      for (const auto& t : c.techniques()) {
        for (const auto& r : t.rationale().reasons()) {
          rules_behind.insert(r.rule_id());
        }
      }
    }
  }
  ASSERT_FALSE(rules_behind.empty());
  v1::EvaluateRequest bad = request;
  bad.mutable_assessment()->mutable_pain()->set_average_nrs(-3);
  for (int i = 0; i < kBad; ++i) {
    grpc::ClientContext ctx;
    v1::EvaluateResponse response;
    EXPECT_EQ(stub_->Evaluate(&ctx, bad, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  // One CDS Hooks call, and feedback on one of its cards.
  std::ifstream in(std::string(RECONNECT_SOURCE_DIR) +
                   "/examples/cds-hooks/patient-view-catastrophising.json");
  std::stringstream text;
  text << in.rdbuf();
  auto cds =
      HttpCall(http_port_, "POST", absl::StrCat("/cds-services/", kService),
               text.str(), "Content-Type: application/json\r\n");
  ASSERT_TRUE(cds.has_value() && cds->status == 200);
  const json cards = json::parse(cds->body)["cards"];
  ASSERT_FALSE(cards.empty());
  json overridden = {{"card", cards[0]["uuid"]},
                     {"outcome", "overridden"},
                     {"outcomeTimestamp", "2026-12-01T10:15:00Z"}};
  auto fed = HttpCall(http_port_, "POST",
                      absl::StrCat("/cds-services/", kService, "/feedback"),
                      json{{"feedback", json::array({overridden})}}.dump(),
                      "Content-Type: application/json\r\n");
  ASSERT_TRUE(fed.has_value());
  ASSERT_EQ(fed->status, 200) << fed->body;

  const std::string m = Scrape();
  EXPECT_THAT(PromValue(m, "reconnect_calls_total",
                        {{"interface", "grpc"}, {"code", "OK"}}),
              Optional(kGood));
  EXPECT_THAT(PromValue(m, "reconnect_calls_total",
                        {{"interface", "grpc"}, {"code", "INVALID_ARGUMENT"}}),
              Optional(kBad));
  EXPECT_THAT(PromValue(m, "reconnect_calls_total",
                        {{"interface", "cds-hooks"}, {"code", "200"}}),
              Optional(1));
  EXPECT_THAT(
      PromValue(m, "reconnect_call_seconds_count", {{"interface", "grpc"}}),
      Optional(kGood + kBad));
  // The engine's view: the gRPC and CDS Hooks decisions, and the refusals.
  EXPECT_THAT(PromValue(m, "reconnect_decisions_total",
                        {{"rule_set_version", "1.0.5"}, {"status", "OK"}}),
              Optional(kGood + 1));
  EXPECT_THAT(PromValue(m, "reconnect_decisions_total",
                        {{"status", "INVALID_ARGUMENT"}}),
              Optional(kBad));
  for (const std::string& rule : rules_behind) {
    EXPECT_THAT(PromValue(m, "reconnect_rule_fired_total",
                          {{"rule_set_version", "1.0.5"}, {"rule", rule}}),
                Optional(testing::Ge(kGood)))
        << rule;
  }
  EXPECT_THAT(
      PromValue(m, "reconnect_cds_cards_total", {{"service", kService}}),
      Optional(static_cast<double>(cards.size())));
  EXPECT_THAT(PromValue(m, "reconnect_feedback_total",
                        {{"service", kService}, {"outcome", "overridden"}}),
              Optional(1));
  // Every decision and the feedback request were committed, none failed.
  EXPECT_THAT(PromValue(m, "reconnect_audit_commit_records_sum"),
              Optional(kGood + 1 + 1));
  EXPECT_THAT(PromValue(m, "reconnect_audit_commits_total", {{"result", "ok"}}),
              Optional(testing::AllOf(testing::Ge(1), testing::Le(kGood + 2))));
  EXPECT_EQ(
      PromValue(m, "reconnect_audit_commits_total", {{"result", "failed"}}),
      std::nullopt);
  EXPECT_THAT(PromValue(m, "reconnect_audit_store_up"), Optional(1));
  EXPECT_THAT(PromValue(m, "reconnect_audit_queue_depth"), Optional(0));
  EXPECT_THAT(PromValue(m, "reconnect_calls_shed_total"), Optional(0));
  EXPECT_THAT(PromValue(m, "reconnect_rule_set_loaded",
                        {{"rule_set_version", "1.0.5"}, {"active", "true"}}),
              Optional(1));
  EXPECT_THAT(PromValue(m, "process_resident_memory_bytes"),
              Optional(testing::Gt(1 << 20)));
  // Nothing of a patient, a caller or a decision in any label.
  EXPECT_THAT(m, testing::Not(HasSubstr("metrics-e2e")));
  EXPECT_THAT(m, testing::Not(HasSubstr(cards[0]["uuid"].get<std::string>())));
}

TEST_F(MetricsE2ETest, ReloadsAreCounted) {
  EXPECT_THAT(PromValue(Scrape(), "reconnect_rule_set_reloads_total",
                        {{"result", "served"}}),
              Optional(1));
  kill(server_->pid(), SIGHUP);
  ASSERT_TRUE(
      server_->WaitForEvent("rule_sets_reloaded", std::chrono::seconds(30)));
  const std::string m = Scrape();
  EXPECT_THAT(
      PromValue(m, "reconnect_rule_set_reloads_total", {{"result", "served"}}),
      Optional(2));
  EXPECT_THAT(
      PromValue(m, "reconnect_rule_set_reloads_total", {{"result", "refused"}}),
      Optional(0));
}

// A version past its review date still serves, and says so: in the log at
// load, in the metrics and through Governance.
TEST(ReviewDatesE2ETest, OverdueReviewsAreLoggedCountedAndAnswered) {
  // The day after the version's own date: it and all its rules are overdue.
  setenv("RECONNECT_TODAY", "2027-12-02", 1);
  ServerProcess server(testing_util::ServeBundled(
      {"--rules", std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.1.0",
       "--audit=off", "--metrics_listen=127.0.0.1:0"}));
  unsetenv("RECONNECT_TODAY");
  auto overdue =
      server.WaitForEvent("rule_set_review_overdue", std::chrono::seconds(30));
  ASSERT_TRUE(overdue.has_value());
  EXPECT_EQ((*overdue)["level"], "error");
  EXPECT_EQ((*overdue)["version"], "1.1.0");
  EXPECT_EQ((*overdue)["review_by"], "2027-12-01");
  auto rules =
      server.WaitForEvent("rules_review_overdue", std::chrono::seconds(30));
  ASSERT_TRUE(rules.has_value());
  EXPECT_EQ((*rules)["count"], 36);
  auto serving = server.WaitForEvent("serving", std::chrono::seconds(30));
  ASSERT_TRUE(serving.has_value());

  // It serves.
  auto channel = grpc::CreateChannel((*serving)["address"].get<std::string>(),
                                     grpc::InsecureChannelCredentials());
  {
    grpc::ClientContext ctx;
    v1::EvaluateResponse response;
    EXPECT_TRUE(v1::DecisionSupport::NewStub(channel)
                    ->Evaluate(&ctx,
                               testing_util::ExampleRequest("no-partner.json",
                                                            "review-e2e"),
                               &response)
                    .ok());
  }
  auto scraped =
      HttpCall((*serving)["metrics_port"].get<int>(), "GET", "/metrics");
  ASSERT_TRUE(scraped.has_value());
  EXPECT_THAT(PromValue(scraped->body, "reconnect_rule_set_past_review",
                        {{"rule_set_version", "1.1.0"}}),
              Optional(1));
  EXPECT_THAT(PromValue(scraped->body, "reconnect_rules_past_review",
                        {{"rule_set_version", "1.1.0"}}),
              Optional(36));

  // Governance answers each rule's date. The server was started with the
  // day fixed; the variable is read by the server, not this test.
  grpc::ClientContext ctx;
  v1::GetRuleSetRequest request;
  request.set_id("reconnect");
  request.set_version("1.1.0");
  v1::GetRuleSetResponse got;
  ASSERT_TRUE(
      v1::Governance::NewStub(channel)->GetRuleSet(&ctx, request, &got).ok());
  EXPECT_EQ(got.rule_set().review_by(), "2027-12-01");
  EXPECT_TRUE(got.rule_set().past_review());
  ASSERT_EQ(got.rule_set().rule_reviews_size(), 36);
  int early = 0;
  for (const v1::RuleReviewDate& r : got.rule_set().rule_reviews()) {
    EXPECT_TRUE(r.past_review()) << r.rule_id();
    if (r.review_by() == "2027-06-01")
      ++early;
    else
      EXPECT_EQ(r.review_by(), "2027-12-01") << r.rule_id();
  }
  EXPECT_EQ(early, 4);
  channel.reset();
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
}

TEST(MetricsE2EStartTest, AnAddressItCannotUseIsRefusedAtStartUp) {
  auto [code, out] = testing_util::RunReconnect(
      absl::StrCat("serve --rules ", RECONNECT_SOURCE_DIR,
                   "/rules/reconnect --listen 127.0.0.1:0 --audit=off "
                   "--metrics_listen=9464"));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("--metrics_listen '9464' is not host:port"));
}

TEST(ReviewDatesE2ETest, ADayThatIsNotADateIsRefusedAtStartUp) {
  setenv("RECONNECT_TODAY", "2027-02-30", 1);
  auto [code, out] = testing_util::RunReconnect(
      absl::StrCat("serve --rules ", RECONNECT_SOURCE_DIR,
                   "/rules/reconnect --listen 127.0.0.1:0 --audit=off"));
  unsetenv("RECONNECT_TODAY");
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("RECONNECT_TODAY='2027-02-30' is not a date"));
}

}  // namespace
}  // namespace reconnect
