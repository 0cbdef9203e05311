// The service's limits over a real process: oversize messages, calls that
// set no deadline (or too long a one), and shedding beyond the maximum of
// concurrent calls. A stalled audit store is made real by holding its
// SQLite write lock from the test.

#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "sqlite3.h"
#include "tests/testing/examples.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;

using testing_util::ServerProcess;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class LimitsE2ETest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/limits_e2e_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    if (lock_ != nullptr) sqlite3_close(lock_);
    fs::remove_all(dir_);
  }

  void Start(std::vector<std::string> flags) {
    std::vector<std::string> args =
        testing_util::ServeBundled({"--audit", (dir_ / "audit.db").string()});
    args.insert(args.end(), flags.begin(), flags.end());
    server_ = std::make_unique<ServerProcess>(args);
    auto serving = server_->WaitForEvent("serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value());
    address_ = (*serving)["address"].get<std::string>();
    stub_ = v1::DecisionSupport::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  // Takes the store's write lock, as another writer would: the server's
  // commits wait for it (up to SQLite's busy timeout).
  void LockStore() {
    ASSERT_EQ(sqlite3_open((dir_ / "audit.db").c_str(), &lock_), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(lock_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  void UnlockStore() {
    ASSERT_EQ(sqlite3_exec(lock_, "ROLLBACK", nullptr, nullptr, nullptr),
              SQLITE_OK);
  }

  static v1::EvaluateRequest Request() {
    return testing_util::ExampleRequest("no-partner.json", "limits-e2e");
  }

  grpc::Status Call(const v1::EvaluateRequest& request,
                    std::optional<std::chrono::seconds> deadline) {
    grpc::ClientContext ctx;
    if (deadline)
      ctx.set_deadline(std::chrono::system_clock::now() + *deadline);
    v1::EvaluateResponse response;
    return stub_->Evaluate(&ctx, request, &response);
  }

  fs::path dir_;
  std::string address_;
  sqlite3* lock_ = nullptr;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::DecisionSupport::Stub> stub_;
};

TEST_F(LimitsE2ETest, OversizeMessagesAreRefused) {
  Start({"--max_receive_bytes=4096"});
  v1::EvaluateRequest big = Request();
  big.mutable_assessment()->add_goals(std::string(5000, 'x'));
  grpc::Status s = Call(big, std::chrono::seconds(10));
  EXPECT_THAT(s, StatusIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_THAT(s.error_message(), testing::HasSubstr("larger than max"));
  // Under the limit, a too-long field is the validator's: INVALID_ARGUMENT.
  v1::EvaluateRequest long_goal = Request();
  long_goal.mutable_assessment()->add_goals(std::string(1500, 'x'));
  Start({"--max_receive_bytes=8192"});
  EXPECT_THAT(Call(long_goal, std::chrono::seconds(10)),
              StatusIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(Call(Request(), std::chrono::seconds(10)), IsOk());
}

TEST_F(LimitsE2ETest, CallsWithoutOrBeyondDeadlinesGetTheServers) {
  Start({"--default_deadline_ms=300", "--max_deadline_ms=600"});
  ASSERT_THAT(Call(Request(), std::chrono::seconds(10)), IsOk());
  LockStore();
  // No deadline: held to the default, not to the store's 2 s busy wait.
  auto start = Clock::now();
  EXPECT_THAT(Call(Request(), std::nullopt),
              StatusIs(grpc::StatusCode::DEADLINE_EXCEEDED));
  auto took = Clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::milliseconds(1200));
  // An hour: cut to the maximum.
  start = Clock::now();
  EXPECT_THAT(Call(Request(), std::chrono::hours(1)),
              StatusIs(grpc::StatusCode::DEADLINE_EXCEEDED));
  took = Clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(550));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  UnlockStore();
  // The store catches up, and calls within the deadlines are answered.
  EXPECT_THAT(Call(Request(), std::nullopt), IsOk());
  EXPECT_THAT(Call(Request(), std::chrono::seconds(10)), IsOk());
  EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(15)), 0);
}

TEST_F(LimitsE2ETest, CallsBeyondTheMaximumAreShed) {
  Start({"--max_concurrent_calls=2"});
  ASSERT_THAT(Call(Request(), std::chrono::seconds(10)), IsOk());
  LockStore();
  // Six calls at once while the store is held: two are admitted and wait
  // for their records, four are shed at once.
  constexpr int kCalls = 6;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<grpc::StatusCode> codes;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::EvaluateResponse> responses(kCalls);
  const v1::EvaluateRequest request = Request();
  for (int i = 0; i < kCalls; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(std::chrono::system_clock::now() +
                                  std::chrono::seconds(20));
    stub_->async()->Evaluate(contexts.back().get(), &request, &responses[i],
                             [&](grpc::Status s) {
                               std::lock_guard<std::mutex> lock(mu);
                               codes.push_back(s.error_code());
                               cv.notify_all();
                             });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return codes.size() == kCalls - 2; }));
    for (auto code : codes) {
      EXPECT_EQ(code, grpc::StatusCode::RESOURCE_EXHAUSTED);
    }
  }
  UnlockStore();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return codes.size() == kCalls; }));
    EXPECT_EQ(codes[kCalls - 2], grpc::StatusCode::OK);
    EXPECT_EQ(codes[kCalls - 1], grpc::StatusCode::OK);
  }
  // Slots are given back: calls are admitted again.
  EXPECT_THAT(Call(Request(), std::chrono::seconds(10)), IsOk());
  EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(15)), 0);
  bool logged = false;
  for (const auto& line : server_->lines()) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == "calls_shed") {
      logged = true;
      EXPECT_EQ(j["max_concurrent_calls"], 2);
    }
  }
  EXPECT_TRUE(logged);
}

TEST_F(LimitsE2ETest, NonsenseLimitsAreRefusedNamingTheFlag) {
  for (const auto& [flag, words] :
       std::vector<std::pair<std::string, std::string>>{
           {"--max_concurrent_calls=0", "--max_concurrent_calls"},
           {"--max_receive_bytes=10", "--max_receive_bytes"},
           {"--default_deadline_ms=0", "--default_deadline_ms"},
           {"--max_deadline_ms=5", "--max_deadline_ms"},
           {"--keepalive_seconds=0", "--keepalive_seconds"}}) {
    ServerProcess server(testing_util::ServeBundled({"--audit=off", flag}));
    auto refused =
        server.WaitForEvent("flag_refused", std::chrono::seconds(30));
    ASSERT_TRUE(refused.has_value()) << flag;
    EXPECT_THAT((*refused)["reason"].get<std::string>(),
                testing::HasSubstr(words));
    EXPECT_EQ(server.Stop(0, std::chrono::seconds(10)), 2);
  }
}

}  // namespace
}  // namespace reconnect
