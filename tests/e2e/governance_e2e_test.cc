// The Governance gRPC service over a real process and a real audit store:
// rule-set versions, recorded decisions, replay and trail verification,
// with the argument errors each method gives.

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "reconnect/v1/governance.grpc.pb.h"
#include "tests/testing/bad_request.h"
#include "tests/testing/cli.h"
#include "tests/testing/examples.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::BadFields;

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;

using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;
using testing::HasSubstr;
using testing_util::ServerProcess;
namespace fs = std::filesystem;

class GovernanceE2ETest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/governance_e2e_test.XXXXXX";
    root_ = new fs::path(mkdtemp(tmpl));
    AddVersion("a", "1.0.0", "retired");
    AddVersion("b", "1.1.0", "active");
    server_ = new ServerProcess(
        {RECONNECT_BINARY, "serve", "--rules", (*root_ / "versions").string(),
         "--listen", "127.0.0.1:0", "--audit", (*root_ / "audit.db").string(),
         "--reload_poll_seconds=0"});
    auto serving = server_->WaitForEvent("serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value());
    address_ = new std::string((*serving)["address"].get<std::string>());
    auto channel =
        grpc::CreateChannel(*address_, grpc::InsecureChannelCredentials());
    governance_ = v1::Governance::NewStub(channel).release();
    decisions_ = v1::DecisionSupport::NewStub(channel).release();
    // Three decisions from one system on the active version, two from
    // another pinned to the retired one.
    responses_ = new std::vector<v1::EvaluateResponse>();
    for (int i = 0; i < 5; ++i) {
      v1::EvaluateRequest request = Request();
      request.set_calling_system(i < 3 ? "ehr-a" : "ehr-b");
      if (i >= 3) {
        request.set_rule_set_id("reconnect");
        request.set_rule_set_version("1.0.0");
      }
      grpc::ClientContext ctx;
      v1::EvaluateResponse response;
      ASSERT_THAT(decisions_->Evaluate(&ctx, request, &response), IsOk());
      responses_->push_back(response);
    }
  }
  static void TearDownTestSuite() {
    delete governance_;
    delete decisions_;
    delete responses_;
    delete server_;
    delete address_;
    fs::remove_all(*root_);
    delete root_;
  }

  static void AddVersion(const std::string& name, const std::string& version,
                         const std::string& status) {
    const fs::path dir = *root_ / "versions" / name;
    fs::create_directories(dir.parent_path());
    fs::copy(fs::path(RECONNECT_SOURCE_DIR) / "rules/reconnect/1.0.5", dir,
             fs::copy_options::recursive);
    std::ifstream in(dir / "ruleset.json");
    std::stringstream s;
    s << in.rdbuf();
    in.close();
    std::ofstream(dir / "ruleset.json") << absl::StrReplaceAll(
        s.str(),
        {{"\"version\": \"1.0.5\"", "\"version\": \"" + version + "\""},
         {"\"status\": \"active\"", "\"status\": \"" + status + "\""}});
  }

  static v1::EvaluateRequest Request() {
    return testing_util::ExampleRequest("avoidance-touch-intolerance.json", "");
  }

  template <typename Req, typename Resp, typename Method>
  static grpc::Status Call(Method method, const Req& request, Resp& response) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    return (governance_->*method)(&ctx, request, &response);
  }

  static std::pair<int, std::string> Cli(const std::string& args) {
    return testing_util::RunReconnect(args);
  }

  static fs::path* root_;
  static std::string* address_;
  static ServerProcess* server_;
  static v1::Governance::Stub* governance_;
  static v1::DecisionSupport::Stub* decisions_;
  static std::vector<v1::EvaluateResponse>* responses_;
};

fs::path* GovernanceE2ETest::root_ = nullptr;
std::string* GovernanceE2ETest::address_ = nullptr;
ServerProcess* GovernanceE2ETest::server_ = nullptr;
v1::Governance::Stub* GovernanceE2ETest::governance_ = nullptr;
v1::DecisionSupport::Stub* GovernanceE2ETest::decisions_ = nullptr;
std::vector<v1::EvaluateResponse>* GovernanceE2ETest::responses_ = nullptr;

TEST_F(GovernanceE2ETest, ListsRuleSetsInPages) {
  v1::ListRuleSetsRequest request;
  v1::ListRuleSetsResponse page;
  ASSERT_THAT(Call(&v1::Governance::Stub::ListRuleSets, request, page), IsOk());
  ASSERT_EQ(page.rule_sets_size(), 2);
  EXPECT_EQ(page.rule_sets(0).version(), "1.0.0");
  EXPECT_FALSE(page.rule_sets(0).active());
  EXPECT_EQ(page.rule_sets(0).status(), "retired");
  EXPECT_EQ(page.rule_sets(1).version(), "1.1.0");
  EXPECT_TRUE(page.rule_sets(1).active());
  EXPECT_TRUE(page.rule_sets(1).loaded());
  EXPECT_EQ(page.rule_sets(1).digest(), (*responses_)[0].rule_set().digest());
  EXPECT_EQ(page.next_page_token(), "");

  request.set_page_size(1);
  ASSERT_THAT(Call(&v1::Governance::Stub::ListRuleSets, request, page), IsOk());
  ASSERT_EQ(page.rule_sets_size(), 1);
  ASSERT_NE(page.next_page_token(), "");
  request.set_page_token(page.next_page_token());
  v1::ListRuleSetsResponse second;
  ASSERT_THAT(Call(&v1::Governance::Stub::ListRuleSets, request, second),
              IsOk());
  ASSERT_EQ(second.rule_sets_size(), 1);
  EXPECT_EQ(second.rule_sets(0).version(), "1.1.0");
  EXPECT_EQ(second.next_page_token(), "");

  request.set_page_size(5000);
  request.set_page_token("not-a-token");
  const grpc::Status bad =
      Call(&v1::Governance::Stub::ListRuleSets, request, page);
  EXPECT_THAT(bad, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(BadFields(bad),
              testing::UnorderedElementsAre("page_size", "page_token"));
}

TEST_F(GovernanceE2ETest, GetsARuleSetByDigestOrVersion) {
  v1::GetRuleSetRequest request;
  v1::GetRuleSetResponse response;
  request.set_digest((*responses_)[3].rule_set().digest());
  ASSERT_THAT(Call(&v1::Governance::Stub::GetRuleSet, request, response),
              IsOk());
  EXPECT_EQ(response.rule_set().version(), "1.0.0");
  EXPECT_THAT(response.canonical_content(), HasSubstr("\"rules\""));

  request.Clear();
  request.set_id("reconnect");
  request.set_version("1.1.0");
  ASSERT_THAT(Call(&v1::Governance::Stub::GetRuleSet, request, response),
              IsOk());
  EXPECT_EQ(response.rule_set().digest(), (*responses_)[0].rule_set().digest());

  request.Clear();
  EXPECT_EQ(
      BadFields(Call(&v1::Governance::Stub::GetRuleSet, request, response)),
      std::vector<std::string>{"digest"});
  request.set_id("reconnect");
  EXPECT_EQ(
      BadFields(Call(&v1::Governance::Stub::GetRuleSet, request, response)),
      std::vector<std::string>{"version"});
  request.Clear();
  request.set_digest(std::string(64, 'f'));
  EXPECT_THAT(Call(&v1::Governance::Stub::GetRuleSet, request, response),
              StatusIs(grpc::StatusCode::NOT_FOUND));
}

TEST_F(GovernanceE2ETest, DiffsTwoVersions) {
  v1::DiffRuleSetsRequest request;
  v1::DiffRuleSetsResponse response;
  request.mutable_from()->set_id("reconnect");
  request.mutable_from()->set_version("1.0.0");
  request.mutable_to()->set_digest((*responses_)[0].rule_set().digest());
  ASSERT_THAT(Call(&v1::Governance::Stub::DiffRuleSets, request, response),
              IsOk());
  EXPECT_EQ(response.to_digest(), (*responses_)[0].rule_set().digest());
  EXPECT_EQ(response.rules_added_size(), 0);
  EXPECT_EQ(response.rules_changed_size(), 0);
  std::vector<std::string> paths;
  for (const auto& c : response.changes()) paths.push_back(c.path());
  EXPECT_THAT(paths,
              testing::IsSupersetOf({"ruleset.version", "ruleset.status"}));
  for (const auto& c : response.changes()) {
    if (c.path() == "ruleset.status") {
      EXPECT_EQ(c.before(), "\"retired\"");
      EXPECT_EQ(c.after(), "\"active\"");
    }
  }
  request.mutable_from()->clear_version();
  request.mutable_to()->set_id("reconnect");
  const grpc::Status bad =
      Call(&v1::Governance::Stub::DiffRuleSets, request, response);
  EXPECT_THAT(bad, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(BadFields(bad),
              testing::UnorderedElementsAre("from.version", "to.digest"));
}

TEST_F(GovernanceE2ETest, GetsADecisionAsSubmittedAndAnswered) {
  v1::GetDecisionRequest request;
  v1::Decision decision;
  request.set_decision_id((*responses_)[1].decision_id());
  ASSERT_THAT(Call(&v1::Governance::Stub::GetDecision, request, decision),
              IsOk());
  EXPECT_EQ(decision.sequence(), 2);
  EXPECT_EQ(decision.calling_system(), "ehr-a");
  EXPECT_TRUE(MessageDifferencer::Equals(decision.assessment(),
                                         Request().assessment()));
  EXPECT_TRUE(MessageDifferencer::Equals(decision.recommendation(),
                                         (*responses_)[1].recommendation()));
  EXPECT_EQ(decision.hash().size(), 64u);

  request.set_decision_id("no-such-decision");
  EXPECT_THAT(Call(&v1::Governance::Stub::GetDecision, request, decision),
              StatusIs(grpc::StatusCode::NOT_FOUND));
  request.clear_decision_id();
  EXPECT_EQ(
      BadFields(Call(&v1::Governance::Stub::GetDecision, request, decision)),
      std::vector<std::string>{"decision_id"});
}

TEST_F(GovernanceE2ETest, ListsDecisionsByFilterAndPage) {
  auto ids = [](const v1::ListDecisionsResponse& r) {
    std::vector<std::string> out;
    for (const auto& d : r.decisions()) out.push_back(d.decision_id());
    return out;
  };
  v1::ListDecisionsRequest request;
  v1::ListDecisionsResponse response;
  ASSERT_THAT(Call(&v1::Governance::Stub::ListDecisions, request, response),
              IsOk());
  EXPECT_EQ(response.decisions_size(), 5);

  request.set_calling_system("ehr-b");
  ASSERT_THAT(Call(&v1::Governance::Stub::ListDecisions, request, response),
              IsOk());
  EXPECT_THAT(ids(response),
              testing::ElementsAre((*responses_)[3].decision_id(),
                                   (*responses_)[4].decision_id()));

  request.Clear();
  request.set_rule_set_digest((*responses_)[0].rule_set().digest());
  request.set_page_size(2);
  request.set_metadata_only(true);
  std::vector<std::string> all;
  for (int pages = 0; pages < 5; ++pages) {
    ASSERT_THAT(Call(&v1::Governance::Stub::ListDecisions, request, response),
                IsOk());
    for (const auto& d : response.decisions()) {
      EXPECT_FALSE(d.has_assessment());
      all.push_back(d.decision_id());
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_THAT(all, testing::ElementsAre((*responses_)[0].decision_id(),
                                        (*responses_)[1].decision_id(),
                                        (*responses_)[2].decision_id()));

  request.Clear();
  *request.mutable_start_time() =
      TimeUtil::GetCurrentTime() + TimeUtil::SecondsToDuration(2);
  v1::ListDecisionsResponse none;  // an empty answer leaves a reused one be
  ASSERT_THAT(Call(&v1::Governance::Stub::ListDecisions, request, none),
              IsOk());
  EXPECT_EQ(none.decisions_size(), 0);
  *request.mutable_end_time() = TimeUtil::SecondsToTimestamp(1);
  request.set_page_size(-1);
  const grpc::Status bad =
      Call(&v1::Governance::Stub::ListDecisions, request, response);
  EXPECT_THAT(bad, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(BadFields(bad),
              testing::UnorderedElementsAre("page_size", "end_time"));
}

TEST_F(GovernanceE2ETest, ReplaysAndVerifies) {
  for (const auto& r : *responses_) {
    v1::ReplayDecisionRequest request;
    v1::ReplayDecisionResponse response;
    request.set_decision_id(r.decision_id());
    ASSERT_THAT(Call(&v1::Governance::Stub::ReplayDecision, request, response),
                IsOk());
    EXPECT_TRUE(response.identical()) << response.differences();
    EXPECT_EQ(response.rule_set_digest(), r.rule_set().digest());
    EXPECT_TRUE(
        MessageDifferencer::Equals(response.replayed(), r.recommendation()));
  }
  v1::VerifyAuditTrailRequest request;
  v1::VerifyAuditTrailResponse response;
  ASSERT_THAT(Call(&v1::Governance::Stub::VerifyAuditTrail, request, response),
              IsOk());
  EXPECT_TRUE(response.intact()) << response.problem();
  EXPECT_GE(response.records(), 5);
  EXPECT_EQ(response.head_hash().size(), 64u);
}

// A candidate with a lower catastrophising cut-off, loaded by a reload,
// analysed over the recorded decisions, with progress then the result.
TEST_F(GovernanceE2ETest, AnalyzesACandidatesImpact) {
  AddVersion("d", "2.0.0-candidate", "draft");
  // Whatever happens, the next tests see the two versions again.
  absl::Cleanup remove_candidate = [] {
    fs::remove_all(*root_ / "versions/d");
    kill(server_->pid(), SIGHUP);
    server_->WaitForEvent("rule_sets_reloaded", std::chrono::seconds(30));
  };
  // Its lower cut-off changes what the bundled catastrophising cases
  // expect; the candidate keeps the other cases.
  fs::remove(*root_ / "versions/d/tests/components.json");
  {
    const fs::path params = *root_ / "versions/d/params.json";
    std::ifstream in(params);
    std::stringstream s;
    s << in.rdbuf();
    in.close();
    std::ofstream(params) << absl::StrReplaceAll(
        s.str(), {{"\"value\": 30,", "\"value\": 20,"}});
  }
  kill(server_->pid(), SIGHUP);
  ASSERT_TRUE(
      server_->WaitForEvent("rule_sets_reloaded", std::chrono::seconds(30))
          .has_value());
  v1::AnalyzeImpactRequest request;
  request.mutable_candidate()->set_id("reconnect");
  request.mutable_candidate()->set_version("2.0.0-candidate");
  request.set_max_examples(2);
  grpc::ClientContext ctx;
  auto reader = governance_->AnalyzeImpact(&ctx, request);
  std::vector<v1::AnalyzeImpactResponse> messages;
  v1::AnalyzeImpactResponse m;
  while (reader->Read(&m)) messages.push_back(m);
  const grpc::Status s = reader->Finish();
  ASSERT_THAT(s, IsOk()) << s.error_message();
  ASSERT_GE(messages.size(), 2u);
  EXPECT_FALSE(messages.front().done());
  const auto& result = messages.back();
  EXPECT_TRUE(result.done());
  EXPECT_EQ(result.decisions_evaluated(), 5);
  // Every recorded assessment scores PCS 24: now above the cut-off.
  EXPECT_EQ(result.decisions_changed(), 5);
  bool gained = false;
  for (const auto& item : result.items()) {
    EXPECT_LE(item.example_decision_ids_size(), 2);
    gained |= item.kind() == "technique" && item.gained() == 5;
  }
  EXPECT_TRUE(gained);

  // Bad arguments, and an unknown candidate.
  request.mutable_candidate()->clear_version();
  request.set_max_examples(1000);
  grpc::ClientContext bad_ctx;
  auto bad = governance_->AnalyzeImpact(&bad_ctx, request);
  while (bad->Read(&m)) {
  }
  const grpc::Status bad_status = bad->Finish();
  EXPECT_THAT(bad_status, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(BadFields(bad_status), testing::UnorderedElementsAre(
                                         "candidate.version", "max_examples"));
  request.Clear();
  request.mutable_candidate()->set_digest(std::string(64, '0'));
  grpc::ClientContext missing_ctx;
  auto missing = governance_->AnalyzeImpact(&missing_ctx, request);
  while (missing->Read(&m)) {
  }
  EXPECT_THAT(missing->Finish(), StatusIs(grpc::StatusCode::NOT_FOUND));

  fs::remove_all(*root_ / "versions/d");
  kill(server_->pid(), SIGHUP);
  ASSERT_TRUE(
      server_->WaitForEvent("rule_sets_reloaded", std::chrono::seconds(30))
          .has_value());
}

// The governance commands ask a running server as they ask a store file.
TEST_F(GovernanceE2ETest, CommandsAskARunningServer) {
  const std::string server = " --server " + *address_;
  auto [verify, verify_out] = Cli("audit verify" + server);
  EXPECT_EQ(verify, 0) << verify_out;
  EXPECT_THAT(verify_out, HasSubstr("audit trail intact: 5 record(s)"));
  auto [replay, replay_out] = Cli("replay" + server);
  EXPECT_EQ(replay, 0) << replay_out;
  EXPECT_THAT(replay_out, HasSubstr("5 identical, 0 differ"));
  auto [one, one_out] =
      Cli("replay" + server + " " + (*responses_)[2].decision_id());
  EXPECT_EQ(one, 0) << one_out;
  EXPECT_THAT(one_out, HasSubstr(": identical"));
  auto [diff, diff_out] = Cli("diff reconnect@1.0.0 reconnect@1.1.0" + server);
  EXPECT_EQ(diff, 1) << diff_out;
  EXPECT_THAT(diff_out, HasSubstr("~ ruleset.version: \"1.0.0\" -> "
                                  "\"1.1.0\""));
  auto [impact, impact_out] = Cli("impact" + server + " reconnect@1.0.0");
  EXPECT_EQ(impact, 0) << impact_out;
  EXPECT_THAT(impact_out,
              HasSubstr("evaluated 5 recorded decision(s): 0 would change"));
  auto [missing, missing_out] =
      Cli("diff reconnect@1.0.0 reconnect@9.9.9" + server);
  EXPECT_EQ(missing, 2);
  EXPECT_THAT(missing_out, HasSubstr("not loaded (NOT_FOUND)"));
  auto [usage, usage_out] = Cli("audit verify somefile" + server);
  EXPECT_EQ(usage, 2);
}

TEST_F(GovernanceE2ETest, RefusedReloadsAreVisible) {
  AddVersion("c", "2.0.0", "active");
  std::ofstream(*root_ / "versions/c/rules/team.json") << "{ broken";
  kill(server_->pid(), SIGHUP);
  auto reloaded =
      server_->WaitForEvent("rule_sets_reloaded", std::chrono::seconds(30));
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_EQ((*reloaded)["refused"], 1);
  v1::ListRuleSetsRequest request;
  v1::ListRuleSetsResponse response;
  ASSERT_THAT(Call(&v1::Governance::Stub::ListRuleSets, request, response),
              IsOk());
  ASSERT_EQ(response.refusals_size(), 1);
  EXPECT_THAT(response.refusals(0).dir(), HasSubstr("versions/c"));
  ASSERT_GE(response.refusals(0).problems_size(), 1);
  EXPECT_THAT(response.refusals(0).problems(0), HasSubstr("team.json"));
  // The versions before it still serve, the active one unchanged.
  int loaded = 0;
  for (const auto& rs : response.rule_sets()) {
    loaded += rs.loaded();
    if (rs.active()) {
      EXPECT_EQ(rs.version(), "1.1.0");
    }
  }
  EXPECT_EQ(loaded, 2);
  fs::remove_all(*root_ / "versions/c");
}

}  // namespace
}  // namespace reconnect
