// The audit trail end to end: `reconnect serve` with a real SQLite store in
// its own process, called over gRPC, killed, restarted and verified with
// `reconnect audit verify`.

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "service/audit/audit_store.h"
#include "tests/testing/cli.h"
#include "tests/testing/examples.h"
#include "tests/testing/health.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;

using testing_util::ServerProcess;

class AuditE2ETest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/audit_e2e_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = dir_ + "/audit.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<ServerProcess> Start() {
    auto server = std::make_unique<ServerProcess>(std::vector<std::string>{
        RECONNECT_BINARY, "serve", "--rules",
        std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5",
        "--listen", "127.0.0.1:0", "--audit", store_});
    auto serving = server->WaitForEvent("serving", std::chrono::seconds(30));
    EXPECT_TRUE(serving.has_value()) << "server did not start";
    if (serving) address_ = (*serving)["address"].get<std::string>();
    return server;
  }

  static v1::EvaluateRequest Request(const std::string& example) {
    return testing_util::ExampleRequest(example, "audit-e2e");
  }

  // Evaluates every example once, with a server on the store; returns the
  // decision ids.
  std::vector<std::string> RecordEveryExample() {
    std::vector<std::string> ids;
    auto server = Start();
    auto stub = v1::DecisionSupport::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    for (const auto& entry : std::filesystem::directory_iterator(
             std::string(RECONNECT_SOURCE_DIR) + "/examples")) {
      if (entry.path().extension() != ".json") continue;
      grpc::ClientContext ctx;
      v1::EvaluateResponse response;
      EXPECT_THAT(
          stub->Evaluate(&ctx, Request(entry.path().filename()), &response),
          IsOk());
      ids.push_back(response.decision_id());
    }
    stub.reset();
    EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(10)), 0);
    return ids;
  }

  // Runs `reconnect audit verify` on the store: exit status and output.
  std::pair<int, std::string> Verify() { return Cli("audit verify " + store_); }

  static std::pair<int, std::string> Cli(const std::string& args) {
    return testing_util::RunReconnect(args);
  }

  // The decision ids in the store.
  std::set<std::string> StoredIds() {
    std::set<std::string> ids;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(store_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(db);
      return ids;
    }
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT decision_id FROM decisions", -1, &st,
                       nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      ids.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ids;
  }

  std::string dir_;
  std::string store_;
  std::string address_;
};

TEST_F(AuditE2ETest, EveryAnswerIsRecordedAsSubmittedAndReturned) {
  auto server = Start();
  auto channel =
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  auto stub = v1::DecisionSupport::NewStub(channel);
  const v1::EvaluateRequest request = Request("no-partner.json");
  std::vector<v1::EvaluateResponse> responses(12);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (size_t i = 0; i < responses.size(); ++i) {
    threads.emplace_back([&, i] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
      if (stub->Evaluate(&ctx, request, &responses[i]).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(ok.load(), 12);
  // Close the connection first: a drain waits for connected clients.
  stub.reset();
  channel.reset();
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(10)), 0);

  auto [status, out] = Verify();
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, testing::HasSubstr("intact: 12 record(s)"));

  // Each record holds the assessment as submitted and the answer returned,
  // packed with the rule set that decided it, as a reader unpacks them.
  auto reader = service::AuditReader::Open(store_);
  ASSERT_THAT(reader, IsOk()) << reader.status();
  for (const auto& response : responses) {
    auto record = (*reader)->GetDecision(response.decision_id());
    ASSERT_THAT(record, IsOk()) << response.decision_id();
    EXPECT_EQ(record->calling_system, "audit-e2e");
    EXPECT_EQ(record->rule_set_digest, response.rule_set().digest());
    v1::Assessment assessment;
    ASSERT_TRUE(assessment.ParseFromString(record->assessment));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        assessment, request.assessment()));
    v1::Recommendation recommendation;
    ASSERT_TRUE(recommendation.ParseFromString(record->recommendation));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        recommendation, response.recommendation()));
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(store_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM decisions WHERE packing = 1", -1,
                     &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(st, 0),
            static_cast<int64_t>(responses.size()));
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// Clients call Evaluate under load while the server is killed with SIGKILL
// at random moments. After every restart, each decision id a client
// received is in the store, and the trail verifies.
TEST_F(AuditE2ETest, NoAnswerWithoutItsRecordAcrossKills) {
  constexpr int kRounds = 20;
  constexpr int kClients = 4;
  std::mt19937 random(20261125);
  std::set<std::string> received;
  std::mutex mu;
  std::condition_variable answered;
  const v1::EvaluateRequest request = Request("red-flag-bleeding.json");
  for (int round = 0; round < kRounds; ++round) {
    auto server = Start();
    ASSERT_FALSE(address_.empty());
    auto channel =
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&] {
        auto stub = v1::DecisionSupport::NewStub(channel);
        while (!stop.load()) {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(2));
          v1::EvaluateResponse response;
          if (stub->Evaluate(&ctx, request, &response).ok()) {
            {
              std::lock_guard<std::mutex> lock(mu);
              received.insert(response.decision_id());
            }
            answered.notify_all();
          }
        }
      });
    }
    // Killed at a random moment: after a random number of answers.
    {
      std::unique_lock<std::mutex> lock(mu);
      const size_t target =
          received.size() +
          std::uniform_int_distribution<size_t>(1, 150)(random);
      EXPECT_TRUE(answered.wait_for(lock, std::chrono::seconds(30),
                                    [&] { return received.size() >= target; }))
          << "round " << round << ": too few answers";
    }
    EXPECT_EQ(server->Stop(SIGKILL, std::chrono::seconds(10)), 128 + SIGKILL);
    stop = true;
    for (auto& t : clients) t.join();

    auto [status, out] = Verify();
    ASSERT_EQ(status, 0) << "round " << round << ": " << out;
    const std::set<std::string> stored = StoredIds();
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& id : received) {
      ASSERT_TRUE(stored.count(id)) << "round " << round << ": decision " << id
                                    << " was answered but not recorded";
    }
  }
  EXPECT_GT(received.size(), static_cast<size_t>(kRounds));
}

// Every recorded decision replays to the identical output with the rule set
// rebuilt from the store; an altered record shows exactly what differs.
TEST_F(AuditE2ETest, RecordedDecisionsReplayIdentically) {
  const std::vector<std::string> ids = RecordEveryExample();
  ASSERT_GE(ids.size(), 8u);
  auto [all_status, all_out] = Cli("replay " + store_);
  EXPECT_EQ(all_status, 0) << all_out;
  EXPECT_THAT(all_out, testing::HasSubstr(
                           absl::StrCat(ids.size(), " identical, 0 differ")));
  auto [one_status, one_out] = Cli("replay " + store_ + " " + ids[0]);
  EXPECT_EQ(one_status, 0) << one_out;
  EXPECT_THAT(one_out, testing::HasSubstr(ids[0] + ": identical"));

  // Swap in another decision's output: replay names the difference.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE decisions SET recommendation = (SELECT "
                         "recommendation FROM decisions WHERE sequence = 1) "
                         "WHERE sequence = 2",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto [diff_status, diff_out] = Cli("replay " + store_ + " " + ids[1]);
  EXPECT_EQ(diff_status, 1) << diff_out;
  EXPECT_THAT(diff_out, testing::HasSubstr(ids[1] + ": DIFFERS"));
  auto [all_again, all_again_out] = Cli("replay " + store_);
  EXPECT_EQ(all_again, 1);
  EXPECT_THAT(all_again_out, testing::HasSubstr("1 differ"));

  auto [missing, missing_out] = Cli("replay " + store_ + " no-such-id");
  EXPECT_EQ(missing, 2);
  EXPECT_THAT(missing_out, testing::HasSubstr("holds no decision no-such-id"));
}

// A candidate rule set over recorded decisions: the same rules change
// nothing; a higher catastrophising cut-off loses techniques, with
// examples.
TEST_F(AuditE2ETest, ImpactOfACandidateOverRecordedDecisions) {
  ASSERT_GE(RecordEveryExample().size(), 8u);
  const std::string bundled =
      std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5";
  auto [same_status, same_out] = Cli("impact " + store_ + " " + bundled);
  EXPECT_EQ(same_status, 0) << same_out;
  EXPECT_THAT(same_out, testing::HasSubstr("0 would change"));

  const std::string candidate = dir_ + "/candidate";
  std::filesystem::copy(bundled, candidate,
                        std::filesystem::copy_options::recursive);
  std::ifstream in(candidate + "/params.json");
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  std::string params = text.str();
  const size_t at = params.find("\"value\": 30,");
  ASSERT_NE(at, std::string::npos);
  params.replace(at, 12, "\"value\": 52,");
  std::ofstream(candidate + "/params.json") << params;
  auto [status, out] = Cli("impact " + store_ + " " + candidate);
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, testing::ContainsRegex("evaluated [0-9]+ recorded "
                                          "decision\\(s\\): [1-9][0-9]* "
                                          "would change"));
  EXPECT_THAT(out, testing::ContainsRegex(
                       "technique [a-z_]+: \\+0 -[1-9][0-9]* \\(e\\.g\\. "
                       "[0-9a-f-]{36}"));
  auto [range_status, range_out] =
      Cli("impact " + store_ + " " + candidate +
          " --from 2000-01-01T00:00:00Z --to 2000-01-02T00:00:00Z");
  EXPECT_EQ(range_status, 0);
  EXPECT_THAT(range_out, testing::HasSubstr("evaluated 0 recorded"));
  auto [bad_status, bad_out] =
      Cli("impact " + store_ + " " + candidate + " --from yesterday");
  EXPECT_EQ(bad_status, 2);
  EXPECT_THAT(bad_out, testing::HasSubstr("--from 'yesterday' is not an RFC "
                                          "3339 time"));
}

// A store that cannot write (here: locked by another writer for longer than
// SQLite's busy wait) fails calls with UNAVAILABLE and turns health
// NOT_SERVING; once the lock goes, the service recovers by itself.
TEST_F(AuditE2ETest, ALockedStoreFailsCallsAndHealthUntilItRecovers) {
  auto server = Start();
  auto channel =
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  auto stub = v1::DecisionSupport::NewStub(channel);
  auto call = [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::EvaluateResponse response;
    return stub->Evaluate(&ctx, Request("no-partner.json"), &response);
  };
  ASSERT_THAT(call(), IsOk());
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(store_.c_str(), &lock), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  const grpc::Status failed = call();
  EXPECT_THAT(failed, StatusIs(grpc::StatusCode::UNAVAILABLE));
  EXPECT_THAT(failed.error_message(), testing::HasSubstr("audit trail"));
  ASSERT_TRUE(
      server->WaitForEvent("audit_store_unwritable", std::chrono::seconds(10)));
  EXPECT_EQ(testing_util::CheckHealth(channel, ""),
            testing_util::Serving::kNotServing);
  ASSERT_EQ(sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(lock);
  ASSERT_TRUE(
      server->WaitForEvent("audit_store_recovered", std::chrono::seconds(30)));
  EXPECT_EQ(testing_util::CheckHealth(channel, ""),
            testing_util::Serving::kServing);
  EXPECT_THAT(call(), IsOk());
  stub.reset();
  channel.reset();
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(15)), 0);
  auto [code, out] = Verify();
  EXPECT_EQ(code, 0) << out;
}

TEST_F(AuditE2ETest, AnUnopenableStoreStopsTheServer) {
  ServerProcess server(
      {RECONNECT_BINARY, "serve", "--rules",
       std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5", "--listen",
       "127.0.0.1:0", "--audit", dir_ + "/missing/dir/audit.db"});
  auto failed =
      server.WaitForEvent("audit_store_failed", std::chrono::seconds(30));
  ASSERT_TRUE(failed.has_value());
  EXPECT_THAT((*failed)["reason"].get<std::string>(),
              testing::HasSubstr("missing/dir/audit.db"));
  EXPECT_EQ(server.Stop(0, std::chrono::seconds(10)), 1);
}

TEST_F(AuditE2ETest, AuditOffIsLoud) {
  ServerProcess server(
      {RECONNECT_BINARY, "serve", "--rules",
       std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5", "--listen",
       "127.0.0.1:0", "--audit=off"});
  auto warning =
      server.WaitForEvent("audit_disabled", std::chrono::seconds(30));
  ASSERT_TRUE(warning.has_value());
  EXPECT_EQ((*warning)["level"], "warning");
  EXPECT_THAT((*warning)["reason"].get<std::string>(),
              testing::HasSubstr("NOT recorded"));
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(10)), 0);
}

// One value edited in the stored rule set (the PCS cut-off) breaks replay
// of every decision it made: verification rebuilds each stored rule set and
// says so, from the file and from a running server alike.
TEST_F(AuditE2ETest, VerifyRebuildsEveryStoredRuleSet) {
  RecordEveryExample();
  ASSERT_EQ(Verify().first, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE rule_sets SET content = replace(content, "
                         "'\"value\":30', '\"value\":31')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
  auto [status, out] = Verify();
  EXPECT_EQ(status, 1) << out;
  EXPECT_THAT(
      out, testing::HasSubstr("BROKEN at record 1: record 1 was decided by the "
                              "stored rule set reconnect 1.0.5"));
  EXPECT_THAT(out, testing::HasSubstr("rebuilds to digest"));
  auto server = Start();
  auto [remote_status, remote_out] = Cli("audit verify --server " + address_);
  EXPECT_EQ(remote_status, 1) << remote_out;
  EXPECT_THAT(remote_out, testing::HasSubstr(
                              "record 1 was decided by the stored rule set"));
  EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(10)), 0);
}

TEST_F(AuditE2ETest, VerifyReportsABrokenTrailAndBadFiles) {
  {
    auto server = Start();
    auto stub = v1::DecisionSupport::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    for (int i = 0; i < 3; ++i) {
      grpc::ClientContext ctx;
      v1::EvaluateResponse response;
      ASSERT_THAT(stub->Evaluate(&ctx, Request("no-partner.json"), &response),
                  IsOk());
    }
    stub.reset();
    EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(10)), 0);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM decisions WHERE sequence = 2",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto [status, out] = Verify();
  EXPECT_EQ(status, 1);
  EXPECT_THAT(out, testing::HasSubstr("BROKEN at record 2"));

  store_ = dir_ + "/not-a-store.db";
  std::ofstream(store_) << "not sqlite";
  auto [bad_status, bad_out] = Verify();
  EXPECT_EQ(bad_status, 2);
  EXPECT_THAT(bad_out, testing::HasSubstr("not-a-store.db"));
}

}  // namespace
}  // namespace reconnect
