// Several rule-set versions in one server, pinning, and reloads (SIGHUP and
// changed files) under load, over real processes.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "tests/testing/examples.h"
#include "tests/testing/files.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;

using testing_util::ServerProcess;
namespace fs = std::filesystem;

class ReloadE2ETest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reload_e2e_test.XXXXXX";
    root_ = mkdtemp(tmpl);
    fs::create_directory(root_ / "versions");
  }
  void TearDown() override { fs::remove_all(root_); }

  // Copies the bundled rule set into versions/NAME as version `version`.
  void AddVersion(const std::string& name, const std::string& version,
                  const std::string& status = "active") {
    const fs::path dir = root_ / "versions" / name;
    fs::copy(fs::path(RECONNECT_SOURCE_DIR) / "rules/reconnect/1.0.5", dir,
             fs::copy_options::recursive);
    Edit(dir / "ruleset.json",
         {{"\"version\": \"1.0.5\"", "\"version\": \"" + version + "\""},
          {"\"status\": \"active\"", "\"status\": \"" + status + "\""}});
  }

  static void Edit(const fs::path& file,
                   std::vector<std::pair<std::string, std::string>> changes) {
    testing_util::EditFile(file, changes);
  }

  std::unique_ptr<ServerProcess> Start() {
    auto server = std::make_unique<ServerProcess>(std::vector<std::string>{
        RECONNECT_BINARY, "serve", "--rules", (root_ / "versions").string(),
        "--listen", "127.0.0.1:0", "--audit", (root_ / "audit.db").string(),
        "--reload_poll_seconds=1"});
    auto serving = server->WaitForEvent("serving", std::chrono::seconds(30));
    EXPECT_TRUE(serving.has_value()) << "server did not start";
    if (serving) {
      channel_ = grpc::CreateChannel((*serving)["address"].get<std::string>(),
                                     grpc::InsecureChannelCredentials());
    }
    return server;
  }

  static v1::EvaluateRequest Request() {
    return testing_util::ExampleRequest("no-partner.json", "reload-e2e");
  }

  grpc::Status Evaluate(const v1::EvaluateRequest& request,
                        v1::EvaluateResponse& response) {
    auto stub = v1::DecisionSupport::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    return stub->Evaluate(&ctx, request, &response);
  }

  fs::path root_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ReloadE2ETest, ServesEveryVersionAndPinsOnRequest) {
  AddVersion("a", "1.0.0", "retired");
  AddVersion("b", "1.1.0");
  AddVersion("c", "1.2.0-draft", "draft");
  auto server = Start();
  v1::EvaluateResponse response;
  v1::EvaluateRequest request = Request();
  ASSERT_THAT(Evaluate(request, response), IsOk());
  // The highest version whose status is active answers by default.
  EXPECT_EQ(response.rule_set().version(), "1.1.0");
  for (const std::string v : {"1.0.0", "1.2.0-draft"}) {
    request.set_rule_set_id("reconnect");
    request.set_rule_set_version(v);
    ASSERT_THAT(Evaluate(request, response), IsOk()) << v;
    EXPECT_EQ(response.rule_set().version(), v);
  }
  request.set_rule_set_version("9.9.9");
  EXPECT_THAT(Evaluate(request, response),
              StatusIs(grpc::StatusCode::NOT_FOUND));
  channel_.reset();
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(10)), 0);
}

// Clients call throughout while new versions arrive, some broken: broken
// ones are refused, the versions before them keep serving, and no call
// fails.
TEST_F(ReloadE2ETest, BrokenReloadsUnderLoadFailNoCall) {
  AddVersion("v1", "1.0.0");
  auto server = Start();
  const v1::EvaluateRequest request = Request();
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::mutex mu;
  std::condition_variable answered;
  std::map<std::string, int> versions_seen;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        v1::EvaluateResponse response;
        if (Evaluate(request, response).ok()) {
          ++ok;
          {
            std::lock_guard<std::mutex> lock(mu);
            ++versions_seen[response.rule_set().version()];
          }
          answered.notify_all();
        } else {
          ++failed;
        }
      }
    });
  }
  auto wait_for = [&](const std::string& event) {
    return server->WaitForEvent(event, std::chrono::seconds(30));
  };
  // A new version with a broken condition, announced by SIGHUP.
  AddVersion("v2", "2.0.0");
  Edit(root_ / "versions/v2/rules/safety.json",
       {{"\"when\": \"", "\"when\": \"nope_undeclared && "}});
  kill(server->pid(), SIGHUP);
  auto refused = wait_for("rule_set_refused");
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT((*refused)["dir"].get<std::string>(),
              testing::HasSubstr("versions/v2"));
  EXPECT_THAT((*refused)["first_problem"].get<std::string>(),
              testing::HasSubstr("nope_undeclared"));
  // The serving version broken in place, found by polling: still serving.
  std::ofstream(root_ / "versions/v1/rules/team.json") << "{ not json";
  auto refused_v1 = wait_for("rule_set_refused");
  ASSERT_TRUE(refused_v1.has_value());
  while (refused_v1 && (*refused_v1)["dir"].get<std::string>().find(
                           "versions/v1") == std::string::npos) {
    refused_v1 = wait_for("rule_set_refused");
  }
  ASSERT_TRUE(refused_v1.has_value());
  EXPECT_EQ((*refused_v1)["still_serving"], true);
  // A good new version: it becomes active.
  fs::remove_all(root_ / "versions/v2");
  AddVersion("v3", "3.0.0");
  kill(server->pid(), SIGHUP);
  bool v3_active = false;
  for (int i = 0; i < 10 && !v3_active; ++i) {
    auto loaded = wait_for("rule_set_loaded");
    ASSERT_TRUE(loaded.has_value());
    v3_active = (*loaded)["version"] == "3.0.0" && (*loaded)["active"] == true;
  }
  EXPECT_TRUE(v3_active);
  // The clients go on until the new version has answered some of them.
  {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(answered.wait_for(lock, std::chrono::seconds(30), [&] {
      return versions_seen.count("3.0.0") > 0 && versions_seen["3.0.0"] >= 5;
    }));
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(versions_seen["1.0.0"], 0);
  EXPECT_GT(versions_seen["3.0.0"], 0);
  EXPECT_EQ(versions_seen.count("2.0.0"), 0u);
  channel_.reset();
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace reconnect
