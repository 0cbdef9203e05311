// Keepalive enforcement over a real process: a client that pings an idle
// connection is sent away with GOAWAY "too_many_pings" after the server's
// strikes, and one that does not ping keeps its connection.
//
// An idle C++ client reads its socket only from gRPC's backup poller, every
// 5 s by default; it would then see the server's ping acks (and GOAWAY) late,
// and its own keepalive watchdog could close the connection first. Polling
// every 50 ms, set before gRPC starts, makes the server's answer the one seen.

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "grpc/support/log.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "tests/testing/examples.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;

const bool kFastBackupPoll = [] {
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "50", 1);
  return true;
}();

// gRPC's own log lines in this (client) process.
std::mutex log_mu;
std::vector<std::string>* client_log = new std::vector<std::string>();

void CaptureClientLog() {
  gpr_set_log_function([](gpr_log_func_args* args) {
    std::lock_guard<std::mutex> lock(log_mu);
    client_log->push_back(args->message);
  });
}

bool ClientLogged(const std::string& text) {
  std::lock_guard<std::mutex> lock(log_mu);
  for (const auto& line : *client_log) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

// Waits up to `limit` for `text` in the client's gRPC log.
bool WaitForClientLog(const std::string& text,
                      std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ClientLogged(text)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ClientLogged(text);
}

grpc::Status CallOnce(grpc::Channel& channel) {
  auto stub = v1::DecisionSupport::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::EvaluateResponse response;
  return stub->Evaluate(
      &ctx, testing_util::ExampleRequest("no-partner.json", "keepalive-e2e"),
      &response);
}

TEST(KeepaliveE2ETest, ClientsThatPingTooOftenAreSentAway) {
  ASSERT_TRUE(kFastBackupPoll);
  CaptureClientLog();
  testing_util::ServerProcess server(testing_util::ServeBundled(
      {"--audit=off", "--min_client_ping_interval_seconds=30"}));
  auto serving = server.WaitForEvent("serving", std::chrono::seconds(30));
  ASSERT_TRUE(serving.has_value());
  const std::string address = (*serving)["address"].get<std::string>();

  // Well behaved: gRPC's default client sends no pings on an idle
  // connection.
  auto quiet = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  ASSERT_THAT(CallOnce(*quiet), IsOk());
  EXPECT_FALSE(
      WaitForClientLog("too_many_pings", std::chrono::milliseconds(1500)));
  EXPECT_EQ(quiet->GetState(false), GRPC_CHANNEL_READY);

  // Pings every 100 ms, with or without calls, and waits 20 s for an ack (so
  // its own watchdog cannot be what closes the connection).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 100);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, 100);
  auto noisy = grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args);
  ASSERT_THAT(CallOnce(*noisy), IsOk());
  EXPECT_TRUE(
      WaitForClientLog("too_many_pings", std::chrono::milliseconds(10000)));
  // The quiet client's connection was not touched, and the server serves on.
  EXPECT_EQ(quiet->GetState(false), GRPC_CHANNEL_READY);
  EXPECT_THAT(CallOnce(*quiet), IsOk());
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace reconnect
