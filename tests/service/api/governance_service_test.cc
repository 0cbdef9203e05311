// The Governance service in-process, over a real gRPC channel and a real
// audit store: paging, bad arguments, roles, and that an impact analysis
// does not hold up a reload.

#include "service/api/governance_service.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "service/decision/decision_engine.h"
#include "tests/testing/bad_request.h"
#include "tests/testing/examples.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::BadFields;

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
namespace fs = std::filesystem;

constexpr char kIssuer[] = "https://idp.test";
constexpr char kAudience[] = "reconnect-governance-test";

// A store holding `count` decisions on the bundled rule set (the example
// assessments in turn), the service over it, and a channel to it. With
// `roles`, callers need a bearer token whose subject the policy binds.
class GovernanceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/governance_service_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    rules_ = fs::path(RECONNECT_SOURCE_DIR) / "rules" / "reconnect";
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    server_.reset();
    service_.reset();
    versions_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void Start(int decisions, bool roles = false) {
    auto opened = AuditStore::Open({dir_ + "/audit.db", 0});
    ASSERT_THAT(opened, IsOk());
    store_ = *std::move(opened);
    versions_ =
        std::make_unique<RuleSetVersions>(rules_, registry_, store_.get());
    ASSERT_TRUE(versions_->Reload("test"));
    Record(decisions);
    if (roles) {
      auto created = Authorizer::Create(RoleOptions());
      ASSERT_THAT(created, IsOk());
      authorizer_ = *std::move(created);
    } else {
      authorizer_ = Authorizer::Off();
    }
    service_ = std::make_unique<GovernanceService>(
        registry_, *versions_, *authorizer_, limits_, dir_ + "/audit.db");
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    stub_ = v1::Governance::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  // Appends `count` decisions and waits until every one is committed.
  void Record(int count) {
    static const char* const kExamples[] = {
        "catastrophising-performance-beliefs.json", "no-partner.json",
        "avoidance-touch-intolerance.json", "declined-consent.json"};
    DecisionEngine engine(registry_);
    std::vector<DecisionRecord> made;
    for (const char* name : kExamples) {
      v1::EvaluateRequest request =
          testing_util::ExampleRequest(name, "ehr-test");
      v1::EvaluateResponse response;
      std::vector<FieldViolation> violations;
      ASSERT_THAT(engine.Evaluate(request, response, violations), IsOk());
      DecisionRecord r;
      r.calling_system = "ehr-test";
      r.rule_set_digest = response.rule_set().digest();
      r.assessment = request.assessment().SerializeAsString();
      r.recommendation = response.recommendation().SerializeAsString();
      made.push_back(std::move(r));
    }
    absl::Mutex mu;
    int committed = 0, failed = 0;
    for (int i = 0; i < count; ++i) {
      DecisionRecord r = made[i % made.size()];
      r.decision_id = absl::StrCat("decision-", i);
      r.time_micros = 1'790'000'000'000'000 + i;
      store_->Append(std::move(r), [&](const absl::Status& s) {
        absl::MutexLock lock(&mu);
        ++(s.ok() ? committed : failed);
      });
    }
    absl::MutexLock lock(&mu);
    auto all_done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return committed + failed == count;
    };
    ASSERT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(&all_done), absl::Seconds(120)));
    ASSERT_EQ(failed, 0);
  }

  AuthOptions RoleOptions() {
    testing_util::WriteFile(dir_ + "/jwks.json",
                            nlohmann::json{{"keys", {key_.Jwk("k1")}}}.dump());
    testing_util::WriteFile(dir_ + "/policy.json", R"({"bindings": [
      {"jwt_subject": "ehr", "roles": ["evaluator"]},
      {"jwt_subject": "auditor", "roles": ["auditor"]},
      {"jwt_subject": "ops", "roles": ["admin", "auditor"]}]})");
    AuthOptions options;
    options.policy_file = dir_ + "/policy.json";
    options.jwks_file = dir_ + "/jwks.json";
    options.jwt.issuer = kIssuer;
    options.jwt.audience = kAudience;
    return options;
  }

  // A context with `subject`'s bearer token (none when empty) and a 30 s
  // deadline.
  std::unique_ptr<grpc::ClientContext> As(const std::string& subject) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(30));
    if (!subject.empty()) {
      const int64_t now = absl::ToUnixSeconds(absl::Now());
      ctx->AddMetadata(
          "authorization",
          "Bearer " + testing_util::SignJwt(
                          {{"alg", "ES256"}, {"kid", "k1"}, {"typ", "JWT"}},
                          {{"iss", kIssuer},
                           {"aud", kAudience},
                           {"sub", subject},
                           {"iat", now},
                           {"exp", now + 600}},
                          key_));
    }
    return ctx;
  }

  std::string dir_;
  fs::path rules_;
  testing_util::Key key_ = testing_util::Key::EcP256();
  RuleSetRegistry registry_;
  CallLimits limits_{CallLimitOptions{}};
  std::unique_ptr<AuditStore> store_;
  std::unique_ptr<RuleSetVersions> versions_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<GovernanceService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Governance::Stub> stub_;
};

TEST_F(GovernanceServiceTest, ListsDecisionsInPagesWithTokens) {
  ASSERT_NO_FATAL_FAILURE(Start(7));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListDecisionsRequest request;
    request.set_page_size(3);
    request.set_page_token(token);
    request.set_metadata_only(true);
    v1::ListDecisionsResponse response;
    ASSERT_THAT(stub_->ListDecisions(As("").get(), request, &response), IsOk());
    for (const auto& d : response.decisions()) {
      seen.push_back(d.decision_id());
      EXPECT_FALSE(d.has_assessment()) << "metadata only";
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(
      seen, ElementsAre("decision-0", "decision-1", "decision-2", "decision-3",
                        "decision-4", "decision-5", "decision-6"));
}

TEST_F(GovernanceServiceTest, RefusesBadArgumentsNamingEveryField) {
  ASSERT_NO_FATAL_FAILURE(Start(1));
  {
    v1::ListDecisionsRequest request;
    request.set_page_size(1001);
    request.set_page_token("not-a-token");
    request.mutable_start_time()->set_seconds(2000);
    request.mutable_end_time()->set_seconds(1000);
    v1::ListDecisionsResponse response;
    const grpc::Status s =
        stub_->ListDecisions(As("").get(), request, &response);
    EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
                            HasSubstr("3 invalid field(s)")));
    EXPECT_THAT(BadFields(s),
                UnorderedElementsAre("page_size", "page_token", "end_time"));
  }
  {
    v1::GetRuleSetRequest request;  // neither a digest nor id and version
    v1::GetRuleSetResponse response;
    const grpc::Status s = stub_->GetRuleSet(As("").get(), request, &response);
    EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
    EXPECT_THAT(BadFields(s), ElementsAre("digest"));
  }
  {
    v1::ActivateRuleSetRequest request;
    request.set_id("reconnect");
    v1::ActivateRuleSetResponse response;
    const grpc::Status s =
        stub_->ActivateRuleSet(As("").get(), request, &response);
    EXPECT_THAT(BadFields(s), ElementsAre("version"));
  }
  {
    v1::GetDecisionRequest request;
    request.set_decision_id("no-such-decision");
    v1::Decision response;
    EXPECT_THAT(stub_->GetDecision(As("").get(), request, &response),
                StatusIs(grpc::StatusCode::NOT_FOUND));
  }
  {
    v1::ActivateRuleSetRequest request;
    request.set_id("reconnect");
    request.set_version("99.0.0");
    v1::ActivateRuleSetResponse response;
    EXPECT_THAT(stub_->ActivateRuleSet(As("").get(), request, &response),
                StatusIs(grpc::StatusCode::NOT_FOUND));
  }
}

TEST_F(GovernanceServiceTest, EachMethodNeedsItsRole) {
  ASSERT_NO_FATAL_FAILURE(Start(1, /*roles=*/true));
  v1::ListRuleSetsRequest list;
  v1::ListRuleSetsResponse listed;
  EXPECT_THAT(stub_->ListRuleSets(As("").get(), list, &listed),
              StatusIs(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_THAT(stub_->ListRuleSets(As("ehr").get(), list, &listed),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_THAT(stub_->ListRuleSets(As("auditor").get(), list, &listed), IsOk());
  EXPECT_THAT(listed.rule_sets(), testing::SizeIs(2));  // 1.0.5 and 1.1.0

  v1::ReloadRuleSetsRequest reload;
  v1::ReloadRuleSetsResponse reloaded;
  EXPECT_THAT(stub_->ReloadRuleSets(As("auditor").get(), reload, &reloaded),
              StatusIs(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_THAT(stub_->ReloadRuleSets(As("ops").get(), reload, &reloaded),
              IsOk());
  EXPECT_TRUE(reloaded.loaded());

  v1::AnalyzeImpactRequest impact;
  impact.mutable_candidate()->set_id("reconnect");
  impact.mutable_candidate()->set_version(listed.rule_sets(0).version());
  auto ctx = As("ehr");
  auto reader = stub_->AnalyzeImpact(ctx.get(), impact);
  v1::AnalyzeImpactResponse message;
  while (reader->Read(&message)) {
  }
  EXPECT_THAT(reader->Finish(), StatusIs(grpc::StatusCode::PERMISSION_DENIED));
}

// An impact analysis may run for minutes; a reload asked for meanwhile is
// answered at once, not after it.
TEST_F(GovernanceServiceTest, AReloadCompletesWhileAnImpactRunIsInProgress) {
  ASSERT_NO_FATAL_FAILURE(Start(20000));
  v1::ListRuleSetsRequest list;
  v1::ListRuleSetsResponse listed;
  ASSERT_THAT(stub_->ListRuleSets(As("").get(), list, &listed), IsOk());
  v1::AnalyzeImpactRequest impact;
  impact.mutable_candidate()->set_digest(listed.rule_sets(0).digest());
  auto impact_ctx = As("");
  auto reader = stub_->AnalyzeImpact(impact_ctx.get(), impact);
  // The stream is read as it arrives, on a thread of its own, noting when
  // the run's last message came.
  absl::Notification started;
  absl::Time done_at = absl::InfiniteFuture();
  int64_t evaluated = 0;
  std::thread read([&] {
    v1::AnalyzeImpactResponse message;
    while (reader->Read(&message)) {
      if (!started.HasBeenNotified()) started.Notify();
      if (message.done()) {
        done_at = absl::Now();
        evaluated = message.decisions_evaluated();
      }
    }
  });
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(30)));

  v1::ReloadRuleSetsRequest reload;
  v1::ReloadRuleSetsResponse reloaded;
  ASSERT_THAT(stub_->ReloadRuleSets(As("").get(), reload, &reloaded), IsOk());
  const absl::Time reloaded_at = absl::Now();
  EXPECT_TRUE(reloaded.loaded());

  read.join();
  ASSERT_THAT(reader->Finish(), IsOk());
  EXPECT_EQ(evaluated, 20000);
  // Behind the run, the reload would be answered only after its end.
  EXPECT_LT(reloaded_at, done_at)
      << "the reload was answered " << (reloaded_at - done_at)
      << " after the impact run ended";
}

}  // namespace
}  // namespace reconnect::service
