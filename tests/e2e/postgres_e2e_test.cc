// Several `reconnect serve` replicas on one PostgreSQL audit store, as a
// health board runs them: real processes and a real PostgreSQL 15, killed,
// cut off and restarted under load, with one trail that `reconnect audit
// verify` passes and that holds every decision any client was answered.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "reconnect/v1/governance.grpc.pb.h"
#include "service/audit/audit_store.h"
#include "tests/testing/cli.h"
#include "tests/testing/examples.h"
#include "tests/testing/health.h"
#include "tests/testing/postgres.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using testing_util::ServerProcess;
using testing_util::TestPostgres;

constexpr int kReplicas = 3;

class PostgresE2ETest : public testing::Test {
 protected:
  void SetUp() override {
    auto pg = TestPostgres::Start("postgres_e2e_test");
    ASSERT_THAT(pg, IsOk()) << pg.status();
    pg_ = *std::move(pg);
    ASSERT_THAT(pg_->CreateDatabase("trail"), IsOk());
    uri_ = pg_->Uri("trail");
  }

  // A replica on the shared store (or on `store`); its address once it
  // serves.
  std::unique_ptr<ServerProcess> StartReplica(std::string& address,
                                              const std::string& store = "") {
    auto server = std::make_unique<ServerProcess>(std::vector<std::string>{
        RECONNECT_BINARY, "serve", "--rules",
        std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5",
        "--listen", "127.0.0.1:0", "--audit", store.empty() ? uri_ : store,
        "--reload_poll_seconds", "0"});
    auto serving = server->WaitForEvent("serving", std::chrono::seconds(30));
    EXPECT_TRUE(serving.has_value()) << "replica did not start";
    if (serving) address = (*serving)["address"].get<std::string>();
    return server;
  }

  // Every decision id in the store.
  std::set<std::string> StoredIds() {
    std::set<std::string> ids;
    auto reader = service::AuditReader::Open(uri_);
    EXPECT_THAT(reader, IsOk()) << reader.status();
    if (!reader.ok()) return ids;
    int64_t after = 0;
    while (true) {
      auto page = (*reader)->ListDecisionIds(after, 5000);
      EXPECT_THAT(page, IsOk());
      if (!page.ok() || page->empty()) return ids;
      for (const auto& [sequence, id] : *page) ids.insert(id);
      after = page->back().first;
    }
  }

  // The replica's log lines about its audit store, for failure messages.
  static std::string StoreEvents(const ServerProcess& replica) {
    std::string out;
    for (const std::string& line : replica.lines()) {
      if (line.find("audit_store") != std::string::npos) out += line + "\n";
    }
    return out;
  }

  std::unique_ptr<TestPostgres> pg_;
  std::string uri_;
};

TEST_F(PostgresE2ETest, ReplicasKeepOneTrailThroughKillsAndOutages) {
  std::mutex mu;
  std::condition_variable answered;
  std::set<std::string> received;
  std::vector<std::string> addresses(kReplicas);
  std::vector<std::unique_ptr<ServerProcess>> replicas(kReplicas);
  for (int i = 0; i < kReplicas; ++i) {
    std::string address;
    replicas[i] = StartReplica(address);
    ASSERT_FALSE(address.empty());
    addresses[i] = address;
  }
  const v1::EvaluateRequest request =
      testing_util::ExampleRequest("red-flag-bleeding.json", "pg-e2e");
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  // Two clients per replica, each following its replica to a new address
  // when it is restarted.
  for (int c = 0; c < 2 * kReplicas; ++c) {
    clients.emplace_back([&, replica = c % kReplicas] {
      std::string address;
      std::unique_ptr<v1::DecisionSupport::Stub> stub;
      while (!stop.load()) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (addresses[replica] != address) {
            address = addresses[replica];
            stub = v1::DecisionSupport::NewStub(grpc::CreateChannel(
                address, grpc::InsecureChannelCredentials()));
          }
        }
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
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    });
  }
  // Waits for `n` more answers than now.
  auto wait_for_answers = [&](size_t n, const std::string& when) {
    std::unique_lock<std::mutex> lock(mu);
    const size_t target = received.size() + n;
    EXPECT_TRUE(answered.wait_for(lock, std::chrono::seconds(60),
                                  [&] { return received.size() >= target; }))
        << when << ": too few answers";
  };

  // 20 rounds of SIGKILL on a random replica, at a random moment.
  std::mt19937 random(20261203);
  for (int round = 0; round < 20; ++round) {
    wait_for_answers(std::uniform_int_distribution<size_t>(1, 100)(random),
                     absl::StrCat("round ", round));
    const int victim =
        std::uniform_int_distribution<int>(0, kReplicas - 1)(random);
    EXPECT_EQ(replicas[victim]->Stop(SIGKILL, std::chrono::seconds(10)),
              128 + SIGKILL);
    std::string address;
    replicas[victim] = StartReplica(address);
    ASSERT_FALSE(address.empty()) << "round " << round;
    std::lock_guard<std::mutex> lock(mu);
    addresses[victim] = address;
  }

  // The writers' connections terminated by the database: the replicas go
  // on, on new ones.
  ASSERT_THAT(pg_->Sql("postgres",
                       "SELECT pg_terminate_backend(pid) FROM"
                       " pg_stat_activity WHERE datname = 'trail'"),
              IsOk());
  wait_for_answers(50, "after pg_terminate_backend");
  // Every replica serving again, and its log read so far.
  for (int i = 0; i < kReplicas; ++i) {
    std::string address;
    {
      std::lock_guard<std::mutex> lock(mu);
      address = addresses[i];
    }
    auto channel =
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (testing_util::CheckHealth(channel, "") !=
               testing_util::Serving::kServing &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(testing_util::CheckHealth(channel, ""),
              testing_util::Serving::kServing)
        << "replica " << i << ":\n"
        << StoreEvents(*replicas[i]);
    replicas[i]->SkipLinesSoFar();
  }

  // PostgreSQL down: every replica answers UNAVAILABLE and is not serving;
  // back up, each recovers by itself, with no restart.
  ASSERT_THAT(pg_->Stop(), IsOk());
  for (int i = 0; i < kReplicas; ++i) {
    EXPECT_TRUE(replicas[i]->WaitForEvent("audit_store_unwritable",
                                          std::chrono::seconds(30)))
        << "replica " << i;
    std::string address;
    {
      std::lock_guard<std::mutex> lock(mu);
      address = addresses[i];
    }
    auto channel =
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::EvaluateResponse response;
    EXPECT_THAT(v1::DecisionSupport::NewStub(channel)->Evaluate(&ctx, request,
                                                                &response),
                StatusIs(grpc::StatusCode::UNAVAILABLE))
        << "replica " << i;
    EXPECT_EQ(testing_util::CheckHealth(channel, ""),
              testing_util::Serving::kNotServing)
        << "replica " << i;
  }
  ASSERT_THAT(pg_->Restart(), IsOk());
  for (int i = 0; i < kReplicas; ++i) {
    EXPECT_TRUE(replicas[i]->WaitForEvent("audit_store_recovered",
                                          std::chrono::seconds(30)))
        << "replica " << i;
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(testing_util::CheckHealth(
                  grpc::CreateChannel(addresses[i],
                                      grpc::InsecureChannelCredentials()),
                  ""),
              testing_util::Serving::kServing)
        << "replica " << i << ":\n"
        << StoreEvents(*replicas[i]);
  }
  wait_for_answers(50, "after PostgreSQL restarted");

  stop = true;
  for (auto& t : clients) t.join();
  for (auto& replica : replicas) {
    EXPECT_EQ(replica->Stop(SIGTERM, std::chrono::seconds(20)), 0);
  }
  auto [code, out] =
      testing_util::RunReconnect(absl::StrCat("audit verify '", uri_, "'"));
  EXPECT_EQ(code, 0) << out;
  const std::set<std::string> stored = StoredIds();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_GT(received.size(), 200u);
  for (const std::string& id : received) {
    ASSERT_TRUE(stored.count(id))
        << "decision " << id << " was answered but not recorded";
  }
}

// A URI that holds a password is refused at start-up, and the password is
// in no log line.
TEST_F(PostgresE2ETest, APasswordInTheUriIsRefusedAndNeverLogged) {
  ServerProcess server(std::vector<std::string>{
      RECONNECT_BINARY, "serve", "--rules",
      std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5", "--listen",
      "127.0.0.1:0", "--audit",
      absl::StrCat("postgresql://reconnect:hunter2-secret@127.0.0.1:",
                   pg_->port(), "/trail")});
  auto failed =
      server.WaitForEvent("audit_store_failed", std::chrono::seconds(30));
  ASSERT_TRUE(failed.has_value());
  EXPECT_THAT((*failed)["reason"].get<std::string>(),
              testing::HasSubstr("PGPASSWORD"));
  EXPECT_NE(server.Stop(SIGTERM, std::chrono::seconds(10)), 0);
  for (const std::string& line : server.lines()) {
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
  }
}

// An existing SQLite trail moves into PostgreSQL with `reconnect audit
// copy`, and replicas, verify, replay and the governance report go on from
// it there.
TEST_F(PostgresE2ETest, AnExistingTrailMovesIntoPostgresql) {
  const std::string file =
      absl::StrCat(RECONNECT_BUILD_DIR, "/pg-tests/move-", getpid(), ".db");
  std::filesystem::remove(file);
  auto evaluate = [](const std::string& address, int n) {
    auto stub = v1::DecisionSupport::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    for (int i = 0; i < n; ++i) {
      grpc::ClientContext ctx;
      v1::EvaluateResponse response;
      ASSERT_THAT(stub->Evaluate(
                      &ctx,
                      testing_util::ExampleRequest(
                          "catastrophising-performance-beliefs.json", "pg-e2e"),
                      &response),
                  IsOk());
    }
  };
  {
    std::string address;
    auto server = StartReplica(address, file);
    evaluate(address, 5);
    EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(20)), 0);
  }
  auto [copy_code, copied] = testing_util::RunReconnect(
      absl::StrCat("audit copy '", file, "' '", uri_, "'"));
  EXPECT_EQ(copy_code, 0) << copied;
  EXPECT_THAT(copied, testing::HasSubstr("copied 5 decision(s)"));
  EXPECT_THAT(copied, testing::HasSubstr("audit trail intact: 5 record(s)"));
  {
    std::string address;
    auto server = StartReplica(address);
    evaluate(address, 5);
    // The Governance service of a replica on PostgreSQL reads the trail:
    // its decisions, a replay, and the check of both chains.
    auto governance = v1::Governance::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    v1::ListDecisionsResponse listed;
    {
      grpc::ClientContext ctx;
      ASSERT_THAT(
          governance->ListDecisions(&ctx, v1::ListDecisionsRequest(), &listed),
          IsOk());
    }
    ASSERT_EQ(listed.decisions_size(), 10);
    {
      grpc::ClientContext ctx;
      v1::ReplayDecisionRequest request;
      request.set_decision_id(listed.decisions(0).decision_id());
      v1::ReplayDecisionResponse replayed;
      ASSERT_THAT(governance->ReplayDecision(&ctx, request, &replayed), IsOk());
      EXPECT_TRUE(replayed.identical()) << replayed.differences();
    }
    {
      grpc::ClientContext ctx;
      v1::VerifyAuditTrailResponse verified;
      ASSERT_THAT(governance->VerifyAuditTrail(
                      &ctx, v1::VerifyAuditTrailRequest(), &verified),
                  IsOk());
      EXPECT_TRUE(verified.intact()) << verified.problem();
      EXPECT_EQ(verified.records(), 10);
    }
    EXPECT_EQ(server->Stop(SIGTERM, std::chrono::seconds(20)), 0);
  }
  auto [verify_code, verified] =
      testing_util::RunReconnect(absl::StrCat("audit verify '", uri_, "'"));
  EXPECT_EQ(verify_code, 0) << verified;
  EXPECT_THAT(verified, testing::HasSubstr("intact: 10 record(s)"));
  auto [replay_code, replayed] =
      testing_util::RunReconnect(absl::StrCat("replay '", uri_, "'"));
  EXPECT_EQ(replay_code, 0) << replayed;
  auto [impact_code, impact] = testing_util::RunReconnect(
      absl::StrCat("impact '", uri_, "' '", RECONNECT_SOURCE_DIR,
                   "/rules/reconnect/1.0.5'"));
  EXPECT_EQ(impact_code, 0) << impact;
  auto [report_code, report] =
      testing_util::RunReconnect(absl::StrCat("report '", uri_, "'"));
  EXPECT_EQ(report_code, 0) << report.substr(0, 500);
  EXPECT_THAT(report, testing::HasSubstr("<html"));
  // Copied once; a second copy into the same store is refused.
  auto [again_code, again] = testing_util::RunReconnect(
      absl::StrCat("audit copy '", file, "' '", uri_, "'"));
  EXPECT_EQ(again_code, 2);
  EXPECT_THAT(again, testing::HasSubstr("already holds a trail"));
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace reconnect
