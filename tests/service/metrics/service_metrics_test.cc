// The service's metrics, counted from real evaluations of the bundled rule
// set and checked against what the engine itself says fired; and the
// listener a scraper reads them from.

#include "service/metrics/service_metrics.h"

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/decision/decision_engine.h"
#include "service/metrics/metrics_listener.h"
#include "tests/testing/examples.h"
#include "tests/testing/http_client.h"
#include "tests/testing/prometheus_text.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::PromValue;
using ::reconnect::testing_util::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

std::shared_ptr<const ruleset::CompiledRuleSet> Load(
    const std::string& version) {
  auto loaded =
      ruleset::LoadRuleSet(std::filesystem::path(RECONNECT_SOURCE_DIR) /
                           "rules/reconnect" / version);
  EXPECT_TRUE(loaded.issues.empty()) << loaded.issues[0].ToString();
  return loaded.rule_set;
}

class ServiceMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rule_set_ = Load("1.1.0");
    registry_.Add(rule_set_, /*activate=*/true);
    engine_.set_observer(&metrics_);
  }

  std::optional<double> Value(
      const std::string& name,
      const std::map<std::string, std::string>& labels = {}) {
    return PromValue(metrics_.Scrape(), name, labels);
  }

  ServiceMetrics metrics_;
  RuleSetRegistry registry_;
  DecisionEngine engine_{registry_};
  std::shared_ptr<const ruleset::CompiledRuleSet> rule_set_;
};

TEST_F(ServiceMetricsTest, CountsEveryRuleFiredAndHeldAsTheEngineSaysIt) {
  std::map<std::string, int> fired, held;
  for (size_t i = 0; i < rule_set_->rule_count(); ++i) {
    fired[rule_set_->rule_id(i)] = 0;
    held[rule_set_->rule_id(i)] = 0;
  }
  int decisions = 0;
  for (const std::string& name : testing_util::ExampleNames()) {
    const v1::EvaluateRequest request =
        testing_util::ExampleRequest(name, "metrics-test");
    v1::EvaluateResponse response;
    std::vector<FieldViolation> violations;
    ASSERT_TRUE(engine_.Evaluate(request, response, violations).ok()) << name;
    ++decisions;
    // What fired, from the engine's own indices rather than the answer.
    v1::Recommendation plan;
    std::vector<size_t> indices;
    rule_set_->Evaluate(request.assessment(), plan, &indices);
    for (size_t i : indices) ++fired[rule_set_->rule_id(i)];
    std::set<std::string> held_here;
    for (const v1::HeldItem& h : plan.held()) {
      held_here.insert(h.recommended_by().begin(), h.recommended_by().end());
    }
    for (const std::string& rule : held_here) ++held[rule];
  }
  const std::map<std::string, std::string> version = {
      {"rule_set_id", rule_set_->metadata().id}, {"rule_set_version", "1.1.0"}};
  EXPECT_THAT(Value("reconnect_decisions_total",
                    {{"rule_set_version", "1.1.0"}, {"status", "OK"}}),
              Optional(decisions));
  int total_held = 0;
  for (const auto& [rule, count] : fired) {
    auto labels = version;
    labels["rule"] = rule;
    // A rule that never fired is there, at 0.
    EXPECT_THAT(Value("reconnect_rule_fired_total", labels), Optional(count))
        << rule;
    EXPECT_THAT(Value("reconnect_rule_held_total", labels),
                Optional(held[rule]))
        << rule;
    total_held += held[rule];
  }
  // The examples include holds (red flags, safeguarding, pregnancy), so the
  // held counts are tested with something to count.
  EXPECT_GT(total_held, 0);
  EXPECT_THAT(Value("reconnect_evaluation_seconds_count"), Optional(decisions));
}

TEST_F(ServiceMetricsTest, CountsRefusedAndUnservedEvaluationsByStatus) {
  std::vector<FieldViolation> violations;
  v1::EvaluateResponse response;
  v1::EvaluateRequest bad = testing_util::ExampleRequest(
      "catastrophising-performance-beliefs.json", "metrics-test");
  bad.mutable_assessment()->mutable_pain()->set_average_nrs(11);
  EXPECT_THAT(engine_.Evaluate(bad, response, violations),
              StatusIs(absl::StatusCode::kInvalidArgument));
  v1::EvaluateRequest pinned = bad;
  pinned.set_rule_set_id("reconnect");
  pinned.set_rule_set_version("9.9.9");
  EXPECT_THAT(engine_.Evaluate(pinned, response, violations),
              StatusIs(absl::StatusCode::kNotFound));
  RuleSetRegistry empty;
  DecisionEngine unserved(empty);
  unserved.set_observer(&metrics_);
  EXPECT_THAT(unserved.Evaluate(bad, response, violations),
              StatusIs(absl::StatusCode::kUnavailable));

  EXPECT_THAT(
      Value("reconnect_decisions_total",
            {{"rule_set_version", "1.1.0"}, {"status", "INVALID_ARGUMENT"}}),
      Optional(1));
  EXPECT_THAT(Value("reconnect_decisions_total",
                    {{"rule_set_version", ""}, {"status", "NOT_FOUND"}}),
              Optional(1));
  EXPECT_THAT(Value("reconnect_decisions_total", {{"status", "UNAVAILABLE"}}),
              Optional(1));
  EXPECT_EQ(Value("reconnect_decisions_total", {{"status", "OK"}}),
            std::nullopt);
  // Nothing fired in a refused evaluation.
  EXPECT_THAT(Value("reconnect_rule_fired_total"), Optional(0));
}

TEST_F(ServiceMetricsTest, CountsCallsCardsCommitsAndFeedback) {
  metrics_.CallEnded("grpc", "OK", absl::Milliseconds(2));
  metrics_.CallEnded("grpc", "OK", absl::Milliseconds(3));
  metrics_.CallEnded("cds-hooks", "400", absl::Milliseconds(1));
  metrics_.CardsIssued(
      {{"u1", "reconnect-triage", "plan", {}, {}},
       {"u2", "reconnect-triage", "alert/mood_review", {}, {}},
       {"u3", "reconnect-triage", "alert/safeguarding", {}, {}}});
  CommitReport ok;
  ok.ok = true;
  ok.decisions = 3;
  ok.feedback_requests = 1;
  ok.took = absl::Microseconds(800);
  ok.feedback = {{"reconnect-triage", "alert/mood_review", "accepted"},
                 {"mdt", "technique/graded_touch", "overridden"}};
  metrics_.Committed(ok);
  CommitReport failed;
  failed.decisions = 1;
  metrics_.Committed(failed);

  EXPECT_THAT(
      Value("reconnect_calls_total", {{"interface", "grpc"}, {"code", "OK"}}),
      Optional(2));
  EXPECT_THAT(Value("reconnect_calls_total",
                    {{"interface", "cds-hooks"}, {"code", "400"}}),
              Optional(1));
  EXPECT_THAT(Value("reconnect_call_seconds_count", {{"interface", "grpc"}}),
              Optional(2));
  EXPECT_THAT(Value("reconnect_call_seconds_sum", {{"interface", "grpc"}}),
              Optional(testing::DoubleNear(0.005, 1e-9)));
  EXPECT_THAT(Value("reconnect_cds_cards_total",
                    {{"service", "reconnect-triage"}, {"kind", "alert"}}),
              Optional(2));
  EXPECT_THAT(Value("reconnect_cds_cards_total", {{"kind", "plan"}}),
              Optional(1));
  EXPECT_THAT(Value("reconnect_audit_commits_total", {{"result", "ok"}}),
              Optional(1));
  EXPECT_THAT(Value("reconnect_audit_commits_total", {{"result", "failed"}}),
              Optional(1));
  EXPECT_THAT(Value("reconnect_audit_commit_records_sum"), Optional(5));
  EXPECT_THAT(Value("reconnect_audit_commit_records_bucket", {{"le", "4"}}),
              Optional(2));
  EXPECT_THAT(Value("reconnect_feedback_total", {{"service", "mdt"},
                                                 {"kind", "technique"},
                                                 {"outcome", "overridden"}}),
              Optional(1));
  EXPECT_THAT(Value("reconnect_feedback_total", {{"kind", "alert"}}),
              Optional(1));
}

TEST_F(ServiceMetricsTest, ReadsItsSourcesAtEachScrape) {
  CallLimits limits({});
  metrics_.Watch({&limits, &registry_, nullptr, nullptr});
  EXPECT_THAT(Value("reconnect_calls_in_flight"), Optional(0));
  {
    std::optional<CallSlot> slot = limits.Admit("test");
    ASSERT_TRUE(slot.has_value());
    EXPECT_THAT(Value("reconnect_calls_in_flight"), Optional(1));
  }
  EXPECT_THAT(Value("reconnect_calls_in_flight"), Optional(0));
  EXPECT_THAT(Value("reconnect_calls_shed_total"), Optional(0));
  EXPECT_THAT(
      Value("reconnect_rule_set_loaded", {{"rule_set_version", "1.1.0"},
                                          {"digest", rule_set_->digest()},
                                          {"active", "true"}}),
      Optional(1));
  // Without an audit store there is no audit gauge to mislead.
  EXPECT_EQ(Value("reconnect_audit_store_up"), std::nullopt);
  EXPECT_THAT(Value("process_resident_memory_bytes"),
              Optional(testing::Gt(1 << 20)));
  EXPECT_THAT(Value("process_cpu_seconds_total"), Optional(testing::Gt(0)));
}

TEST(MetricsListenerTest, ServesTheMetricsOverHttp) {
  ServiceMetrics metrics;
  metrics.CallEnded("grpc", "OK", absl::Milliseconds(1));
  auto listener = MetricsListener::Start("127.0.0.1:0", metrics);
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_GT((*listener)->port(), 0);
  const auto reply =
      testing_util::HttpCall((*listener)->port(), "GET", "/metrics");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_THAT(PromValue(reply->body, "reconnect_calls_total",
                        {{"interface", "grpc"}, {"code", "OK"}}),
              Optional(1));
  EXPECT_THAT(reply->body, HasSubstr("process_resident_memory_bytes"));
}

TEST(MetricsListenerTest, RefusesAnAddressItCannotUseNamingIt) {
  ServiceMetrics metrics;
  EXPECT_THAT(MetricsListener::Start("9464", metrics).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics_listen '9464' is not host:port")));
  EXPECT_THAT(MetricsListener::Start("127.0.0.1:99999", metrics).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto first = MetricsListener::Start("127.0.0.1:0", metrics);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string taken = absl::StrCat("127.0.0.1:", (*first)->port());
  EXPECT_THAT(MetricsListener::Start(taken, metrics).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(taken)));
}

}  // namespace
}  // namespace reconnect::service
