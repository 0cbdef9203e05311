// End to end: `reconnect serve` in its own process, called over a real gRPC
// channel for Evaluate, health checking and server reflection.

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "reconnect/v1/governance.grpc.pb.h"
#include "sqlite3.h"
#include "tests/testing/bad_request.h"
#include "tests/testing/health.h"
#include "tests/testing/reflection.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_rule_set.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;

using google::protobuf::UnknownFieldSet;
using testing_util::ServerProcess;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const auto& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// The health and reflection protocols are spoken through a generic stub:
// messages are built and read with protobuf's wire-format field sets, by
// the field numbers that grpc.health.v1 and grpc.reflection.v1alpha define.
class ServerE2ETest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/server_e2e_test.XXXXXX";
    dir_ = new std::string(mkdtemp(tmpl));
    server_ = new ServerProcess(
        {RECONNECT_BINARY, "serve", "--rules",
         std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5",
         "--listen", "127.0.0.1:0", "--shutdown_grace_seconds=5", "--audit",
         *dir_ + "/audit.db"});
    auto serving = server_->WaitForEvent("serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value()) << "server did not start";
    address_ = new std::string((*serving)["address"].get<std::string>());
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(*address_, grpc::InsecureChannelCredentials()));
  }
  static void TearDownTestSuite() {
    delete channel_;
    delete address_;
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static grpc::Status UnaryGeneric(const std::string& method,
                                   const std::string& request,
                                   std::string& response) {
    grpc::GenericStub stub(*channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    grpc::ByteBuffer req = ToBuffer(request), resp;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp,
                   [&](grpc::Status s) { done.set_value(std::move(s)); });
    grpc::Status s = done.get_future().get();
    response = FromBuffer(resp);
    return s;
  }

  static v1::EvaluateRequest ExampleRequest(const std::string& name) {
    v1::EvaluateRequest request;
    const std::string json =
        ReadFile(std::string(RECONNECT_SOURCE_DIR) + "/examples/" + name);
    EXPECT_THAT(google::protobuf::util::JsonStringToMessage(
                    json, request.mutable_assessment()),
                IsOk());
    request.set_calling_system("e2e-test");
    return request;
  }

  static grpc::Status Evaluate(const v1::EvaluateRequest& request,
                               v1::EvaluateResponse& response) {
    auto stub = v1::DecisionSupport::NewStub(*channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    return stub->Evaluate(&ctx, request, &response);
  }

  static ServerProcess* server_;
  static std::string* dir_;  // holds the audit store
  static std::string* address_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

ServerProcess* ServerE2ETest::server_ = nullptr;
std::string* ServerE2ETest::dir_ = nullptr;
std::string* ServerE2ETest::address_ = nullptr;
std::shared_ptr<grpc::Channel>* ServerE2ETest::channel_ = nullptr;

// Why not, over gRPC: asked for, every rule that did not fire says why;
// not asked for, nothing is added.
TEST_F(ServerE2ETest, WhyNotIsAnsweredOnlyWhenAskedFor) {
  v1::EvaluateRequest request =
      ExampleRequest("catastrophising-performance-beliefs.json");
  v1::EvaluateResponse plain;
  ASSERT_THAT(Evaluate(request, plain), IsOk());
  EXPECT_EQ(plain.why_not_size(), 0);
  EXPECT_FALSE(plain.has_missing_data());
  request.set_explanation(v1::EXPLANATION_WHY_NOT);
  v1::EvaluateResponse explained;
  ASSERT_THAT(Evaluate(request, explained), IsOk());
  ASSERT_GT(explained.why_not_size(), 0);
  const v1::RuleExplanation* mood = nullptr;
  for (const auto& x : explained.why_not()) {
    if (x.rule_id() == "safety.mood") mood = &x;
  }
  ASSERT_NE(mood, nullptr);
  EXPECT_EQ(mood->outcome(), v1::RuleExplanation::NOT_MET);
  ASSERT_EQ(mood->clause().alternatives_size(), 2);
  EXPECT_EQ(mood->clause().alternatives(0).comparison(), "8 < 10");
  // The example records no touch tolerance: recording it could add graded
  // touch work, and the facts most worth recording are offered.
  EXPECT_TRUE(explained.missing_data().complete());
  bool touch = false;
  for (const auto& f : explained.missing_data().facts()) {
    touch = touch || f.path() == "sexual_activity.touch_tolerance_minutes";
  }
  EXPECT_TRUE(touch);
  EXPECT_THAT(explained.missing_data().worth_measuring().text(),
              testing::StartsWith("Worth measuring: "));
  // The recommendation is the same either way.
  EXPECT_EQ(explained.recommendation().summary(),
            plain.recommendation().summary());
  // A value the API does not define is refused, naming the field.
  request.set_explanation(static_cast<v1::Explanation>(7));
  v1::EvaluateResponse refused;
  const grpc::Status s = Evaluate(request, refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(testing_util::BadFields(s), testing::ElementsAre("explanation"));
}

TEST_F(ServerE2ETest, EvaluateReturnsARecommendationWithItsProvenance) {
  v1::EvaluateResponse response;
  const grpc::Status s =
      Evaluate(ExampleRequest("safeguarding-disclosure.json"), response);
  ASSERT_THAT(s, IsOk()) << s.error_message();
  EXPECT_THAT(response.decision_id(),
              testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-["
                                    "89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_EQ(response.rule_set().id(), "reconnect");
  EXPECT_EQ(response.rule_set().version(), "1.0.5");
  EXPECT_THAT(response.rule_set().digest(),
              testing::MatchesRegex("[0-9a-f]{64}"));
  const auto& rec = response.recommendation();
  ASSERT_GE(rec.alerts_size(), 1);
  EXPECT_EQ(rec.alerts(0).code(), "safeguarding");
  EXPECT_EQ(rec.alerts(0).severity(), v1::SEVERITY_CRITICAL);
  EXPECT_FALSE(rec.alerts(0).rationale().reasons(0).rule_id().empty());
  bool gap_for_psychology = false;
  for (const auto& g : rec.skills_gaps())
    gap_for_psychology |= g.code() == "clinical_psychology";
  EXPECT_TRUE(gap_for_psychology);

  v1::EvaluateResponse again;
  ASSERT_THAT(Evaluate(ExampleRequest("safeguarding-disclosure.json"), again),
              IsOk());
  EXPECT_NE(again.decision_id(), response.decision_id());
  EXPECT_EQ(again.recommendation().SerializeAsString(),
            rec.SerializeAsString());
}

TEST_F(ServerE2ETest, InvalidRequestListsEveryFieldViolation) {
  v1::EvaluateRequest request = ExampleRequest("no-partner.json");
  request.mutable_assessment()->mutable_scores()->set_pcs_total(60);
  request.mutable_assessment()->mutable_care_team()->add_disciplines("surgery");
  v1::EvaluateResponse response;
  const grpc::Status s = Evaluate(request, response);
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  const std::vector<std::string> fields = testing_util::BadFields(s);
  EXPECT_THAT(fields,
              testing::ElementsAre("assessment.scores.pcs_total",
                                   "assessment.care_team.disciplines[0]"));
}

// Hostile values that ranges alone let through: NaN, a timestamp beyond
// protobuf's, an extension key and value of any size.
TEST_F(ServerE2ETest, NaNTimestampsAndHugeExtensionsAreRefused) {
  v1::EvaluateRequest request = ExampleRequest("no-partner.json");
  request.mutable_assessment()->mutable_scores()->set_fsfi_total(std::nan(""));
  request.mutable_assessment()->mutable_assessed_at()->set_seconds(
      1'000'000'000'000'000);
  request.mutable_assessment()->mutable_assessed_at()->set_nanos(-1);
  (*request.mutable_assessment()
        ->mutable_extensions())[std::string(100 * 1024, 'k')]
      .set_string_value(std::string(200 * 1024, 'v'));
  v1::EvaluateResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stub = v1::DecisionSupport::NewStub(*channel_);
  // Over the default 256 KiB: refused before validation, as it must be.
  EXPECT_THAT(stub->Evaluate(&ctx, request, &response),
              StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  request.mutable_assessment()->clear_extensions();
  (*request.mutable_assessment()->mutable_extensions())[std::string(1000, 'k')]
      .set_string_value(std::string(50 * 1024, 'v'));
  const grpc::Status s = Evaluate(request, response);
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  const std::vector<std::string> fields = testing_util::BadFields(s);
  EXPECT_THAT(fields,
              testing::UnorderedElementsAre(
                  "assessment.scores.fsfi_total", "assessment.assessed_at",
                  "assessment.extensions[0]", "assessment.extensions[0]"));
}

TEST_F(ServerE2ETest, MissingAssessmentAndUnknownPin) {
  v1::EvaluateResponse response;
  EXPECT_THAT(Evaluate(v1::EvaluateRequest(), response),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  v1::EvaluateRequest pinned = ExampleRequest("no-partner.json");
  pinned.set_rule_set_id("reconnect");
  pinned.set_rule_set_version("9.9.9");
  const grpc::Status s = Evaluate(pinned, response);
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(s.error_message(),
            "rule set 'reconnect' version '9.9.9' is not loaded");
  pinned.set_rule_set_version("1.0.5");
  EXPECT_THAT(Evaluate(pinned, response), IsOk());
}

TEST_F(ServerE2ETest, MalformedRequestBytesAreRefusedClearly) {
  const std::string method = "/reconnect.v1.DecisionSupport/Evaluate";
  std::string valid;
  ASSERT_TRUE(ExampleRequest("no-partner.json").SerializeToString(&valid));
  const std::string truncated = valid.substr(0, valid.size() - 3);
  for (const std::string& bytes :
       {std::string("\xff\xff\xff\xff"), truncated}) {
    std::string response;
    const grpc::Status s = UnaryGeneric(method, bytes, response);
    EXPECT_THAT(s, StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
    EXPECT_THAT(s.error_message(),
                testing::HasSubstr("not a reconnect.v1.EvaluateRequest"));
    EXPECT_TRUE(response.empty());
  }
  // And the same bytes, whole, are answered.
  std::string response;
  ASSERT_THAT(UnaryGeneric(method, valid, response), IsOk());
  v1::EvaluateResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(response));
  EXPECT_GT(parsed.recommendation().components_size(), 0);
}

TEST_F(ServerE2ETest, OversizeMessageIsRefused) {
  v1::EvaluateRequest request = ExampleRequest("no-partner.json");
  request.mutable_assessment()->mutable_pain()->set_notes(
      std::string(300 * 1024, 'x'));
  v1::EvaluateResponse response;
  EXPECT_THAT(Evaluate(request, response),
              StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
}

TEST_F(ServerE2ETest, HealthReportsServing) {
  for (const std::string service : {"", "reconnect.v1.DecisionSupport"}) {
    UnknownFieldSet req;
    if (!service.empty())
      req.AddLengthDelimited(1, service);  // HealthCheckRequest.service
    std::string req_bytes;
    req.SerializeToString(&req_bytes);
    std::string resp_bytes;
    const grpc::Status s =
        UnaryGeneric("/grpc.health.v1.Health/Check", req_bytes, resp_bytes);
    ASSERT_THAT(s, IsOk()) << service << ": " << s.error_message();
    UnknownFieldSet resp;
    ASSERT_TRUE(resp.ParseFromString(resp_bytes));
    ASSERT_EQ(resp.field_count(), 1);
    EXPECT_EQ(resp.field(0).number(), 1);   // HealthCheckResponse.status
    EXPECT_EQ(resp.field(0).varint(), 1u);  // SERVING
  }
}

TEST_F(ServerE2ETest, ReflectionListsAndDescribesTheServices) {
  UnknownFieldSet list;
  list.AddLengthDelimited(7, "");  // ServerReflectionRequest.list_services
  std::string bytes;
  list.SerializeToString(&bytes);
  UnknownFieldSet resp;
  ASSERT_TRUE(resp.ParseFromString(
      testing_util::ReflectionCall(*channel_, bytes).response));
  std::vector<std::string> names;
  for (int i = 0; i < resp.field_count(); ++i) {
    if (resp.field(i).number() != 6) continue;  // list_services_response
    UnknownFieldSet services;
    ASSERT_TRUE(services.ParseFromString(resp.field(i).length_delimited()));
    for (int j = 0; j < services.field_count(); ++j) {
      UnknownFieldSet service;  // ServiceResponse { string name = 1; }
      ASSERT_TRUE(
          service.ParseFromString(services.field(j).length_delimited()));
      names.push_back(service.field(0).length_delimited());
    }
  }
  EXPECT_THAT(names, testing::IsSupersetOf({"reconnect.v1.DecisionSupport",
                                            "grpc.health.v1.Health"}));

  UnknownFieldSet by_symbol;
  by_symbol.AddLengthDelimited(
      4, "reconnect.v1.DecisionSupport");  // file_containing_symbol
  by_symbol.SerializeToString(&bytes);
  UnknownFieldSet files_resp;
  ASSERT_TRUE(files_resp.ParseFromString(
      testing_util::ReflectionCall(*channel_, bytes).response));
  bool found_service = false;
  for (int i = 0; i < files_resp.field_count(); ++i) {
    if (files_resp.field(i).number() != 4)
      continue;  // file_descriptor_response
    UnknownFieldSet files;
    ASSERT_TRUE(files.ParseFromString(files_resp.field(i).length_delimited()));
    for (int j = 0; j < files.field_count(); ++j) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(files.field(j).length_delimited()));
      for (const auto& svc : file.service()) {
        if (svc.name() == "DecisionSupport" &&
            svc.method(0).name() == "Evaluate")
          found_service = true;
      }
    }
  }
  EXPECT_TRUE(found_service);
}

TEST_F(ServerE2ETest, LogsCarryNoAssessmentContent) {
  // Run last in this suite's order of definition: the canary went through
  // Evaluate above as a free-text field in a refused request.
  v1::EvaluateRequest request = ExampleRequest("no-partner.json");
  request.mutable_assessment()->mutable_relationship()->set_notes(
      "CANARY-7f3a-relationship-notes");
  request.mutable_assessment()->mutable_scores()->set_pcs_total(99);
  v1::EvaluateResponse response;
  EXPECT_THAT(Evaluate(request, response),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  request.mutable_assessment()->mutable_scores()->clear_pcs_total();
  EXPECT_THAT(Evaluate(request, response), IsOk());
  // Log lines are written before the answer; a reload's line, asked for
  // now, comes after every line of the calls above.
  kill(server_->pid(), SIGHUP);
  ASSERT_TRUE(
      server_->WaitForEvent("rule_set_reload", std::chrono::seconds(30)));
  for (const auto& line : server_->lines()) {
    EXPECT_THAT(line, testing::Not(testing::HasSubstr("CANARY-7f3a")));
  }
}

TEST(ServerLifecycleTest, SigtermDrainsAndExitsZero) {
  ServerProcess server(
      {RECONNECT_BINARY, "serve", "--rules",
       std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5", "--listen",
       "127.0.0.1:0", "--audit=off", "--shutdown_grace_seconds=2"});
  ASSERT_TRUE(
      server.WaitForEvent("serving", std::chrono::seconds(30)).has_value());
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(10)), 0);
  bool stopped = false;
  for (const auto& line : server.lines())
    stopped |= line.find("\"event\":\"stopped\"") != std::string::npos;
  EXPECT_TRUE(stopped);
}

TEST(ServerLifecycleTest, WithoutAValidRuleSetItRunsNotServingUntilOneLoads) {
  testing_util::TempRuleSet rs;
  const std::string good_cases = R"({"cases": []})";
  rs.Write("tests/cases.json", R"({"cases": [
    {"name": "wrong on purpose", "assessment": {}, "expect": {"techniques": ["t1"]}}]})");
  ServerProcess server({RECONNECT_BINARY, "serve", "--rules", rs.dir().string(),
                        "--listen", "127.0.0.1:0", "--audit=off",
                        "--reload_poll_seconds=1"});
  auto refused =
      server.WaitForEvent("rule_set_refused", std::chrono::seconds(30));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ((*refused)["problems"], 1);
  EXPECT_THAT((*refused)["first_problem"].get<std::string>(),
              testing::HasSubstr("wrong on purpose"));
  auto serving = server.WaitForEvent("serving", std::chrono::seconds(30));
  ASSERT_TRUE(serving.has_value());
  auto channel = grpc::CreateChannel((*serving)["address"].get<std::string>(),
                                     grpc::InsecureChannelCredentials());
  // Up, but not ready: no rule set, so calls are refused.
  EXPECT_EQ(testing_util::CheckHealth(channel, ""),
            testing_util::Serving::kNotServing);
  EXPECT_EQ(testing_util::CheckHealth(channel, "reconnect.v1.DecisionSupport"),
            testing_util::Serving::kNotServing);
  EXPECT_EQ(testing_util::CheckHealth(channel, "liveness"),
            testing_util::Serving::kServing);
  auto stub = v1::DecisionSupport::NewStub(channel);
  auto evaluate = [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    v1::EvaluateRequest request;
    request.mutable_assessment()->set_intimacy_consent(
        v1::INTIMACY_CONSENT_GIVEN);
    v1::EvaluateResponse response;
    return stub->Evaluate(&ctx, request, &response);
  };
  EXPECT_THAT(evaluate(), StatusIs(grpc::StatusCode::UNAVAILABLE));
  // The rule set is fixed: it loads, and the server becomes ready.
  rs.Write("tests/cases.json", good_cases);
  ASSERT_TRUE(
      server.WaitForEvent("rule_sets_reloaded", std::chrono::seconds(30)));
  bool ready = false;
  for (int i = 0; i < 50 && !ready; ++i) {
    ready = testing_util::CheckHealth(channel, "") ==
            testing_util::Serving::kServing;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(ready);
  EXPECT_THAT(evaluate(), IsOk());
  channel.reset();
  stub.reset();
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(15)), 0);
}

// Graceful drain: SIGTERM turns readiness NOT_SERVING at once, calls keep
// being answered during the drain delay, a call in flight (held by a locked
// audit store) is finished within the grace period, and the exit status is
// 0.
TEST(ServerLifecycleTest, DrainFinishesCallsInFlightAndExitsZero) {
  char tmpl[] = "/tmp/drain_e2e_test.XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  ServerProcess server(
      {RECONNECT_BINARY, "serve", "--rules",
       std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5", "--listen",
       "127.0.0.1:0", "--audit", (dir / "audit.db").string(),
       "--drain_delay_seconds=6", "--shutdown_grace_seconds=10",
       "--max_concurrent_calls=1"});
  auto serving = server.WaitForEvent("serving", std::chrono::seconds(30));
  ASSERT_TRUE(serving.has_value());
  auto channel = grpc::CreateChannel((*serving)["address"].get<std::string>(),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::DecisionSupport::NewStub(channel);
  v1::EvaluateRequest request;
  request.mutable_assessment()->set_intimacy_consent(
      v1::INTIMACY_CONSENT_GIVEN);
  request.set_calling_system("drain-e2e");
  auto call = [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(20));
    v1::EvaluateResponse response;
    return stub->Evaluate(&ctx, request, &response);
  };
  ASSERT_THAT(call(), IsOk());
  EXPECT_EQ(testing_util::CheckHealth(channel, ""),
            testing_util::Serving::kServing);

  // Hold the store so that the next call stays in flight.
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "audit.db").c_str(), &lock), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  // The call is in flight once it holds the only call slot: a Governance
  // call (which reads the store, and is not held up by its writer's lock)
  // is then shed. A probe may take the slot first and shed the call, and a
  // call held past the store's busy wait fails: either way it is made again.
  // A Governance call can also be shed by the one before it, whose slot
  // outlives its answer by a moment, while the call itself was shed: so the
  // call counts as held only while still unanswered after two sheds, 200 ms
  // apart.
  auto in_flight = std::async(std::launch::async, call);
  auto governance = v1::Governance::NewStub(channel);
  auto shed = [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    v1::ListRuleSetsResponse listed;
    return governance->ListRuleSets(&ctx, {}, &listed).error_code() ==
           grpc::StatusCode::RESOURCE_EXHAUSTED;
  };
  auto unanswered = [&] {
    return in_flight.wait_for(std::chrono::seconds(0)) !=
           std::future_status::ready;
  };
  bool held = false;
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!held && std::chrono::steady_clock::now() < until) {
    if (!unanswered()) {
      in_flight.get();
      in_flight = std::async(std::launch::async, call);
    }
    if (!shed()) continue;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    held = unanswered() && shed() && unanswered();
  }
  ASSERT_TRUE(held) << "the call never reached the server";
  kill(server.pid(), SIGTERM);
  ASSERT_TRUE(server.WaitForEvent("draining", std::chrono::seconds(10)));
  // Released at once, within the store's busy wait (2 s) even on a loaded
  // machine: the call in flight when the drain began completes.
  ASSERT_EQ(sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(lock);
  EXPECT_EQ(testing_util::CheckHealth(channel, ""),
            testing_util::Serving::kNotServing);
  EXPECT_EQ(testing_util::CheckHealth(channel, "liveness"),
            testing_util::Serving::kServing);
  const grpc::Status finished = in_flight.get();
  EXPECT_THAT(finished, IsOk()) << finished.error_message();
  // Still within the drain delay: new calls are answered.
  EXPECT_THAT(call(), IsOk());
  channel.reset();
  stub.reset();
  EXPECT_EQ(server.Stop(0, std::chrono::seconds(20)), 0);
  bool stopped = false;
  for (const auto& line : server.lines()) {
    stopped |= line.find("\"event\":\"stopped\"") != std::string::npos;
  }
  EXPECT_TRUE(stopped);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace reconnect
