// Calls that send their headers and never their message, as a hostile
// caller or a broken integrator would. The server takes each in as it
// arrives: it counts it against --max_concurrent_calls (shedding the rest at
// once), ends it at its deadline, and holds no memory for it beyond that, so
// that once the stalled calls' deadline has passed everyone else is served.

#include <signal.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "tests/testing/examples.h"
#include "tests/testing/server_process.h"
#include "tests/testing/stalled_calls.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;
using testing_util::ServerProcess;

// The resident set of process `pid`, in bytes (0 when unreadable).
int64_t ResidentBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    int64_t kb = 0;
    fields >> kb;
    return kb * 1024;
  }
  return 0;
}

// The server's address, once it serves.
std::string AddressOf(ServerProcess& server) {
  auto serving = server.WaitForEvent("serving", std::chrono::seconds(30));
  return serving.has_value() ? (*serving)["address"].get<std::string>() : "";
}

// One Evaluate call with a message, as a well-behaved caller makes it.
grpc::Status CallOnce(const std::string& address) {
  auto stub = v1::DecisionSupport::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::EvaluateResponse response;
  return stub->Evaluate(
      &ctx, testing_util::ExampleRequest("no-partner.json", "stall"),
      &response);
}

TEST(StalledCallsE2ETest, MemoryStaysBoundedAndOthersAreServed) {
  constexpr int kCalls = 50000;
  constexpr int kSlots = 256;
  constexpr int64_t kBound = 128ll << 20;
  ServerProcess server(testing_util::ServeBundled(
      {"--audit=off", "--default_deadline_ms=3000",
       "--max_concurrent_calls=" + std::to_string(kSlots)}));
  const std::string address = AddressOf(server);
  ASSERT_FALSE(address.empty());
  const int64_t at_start = ResidentBytes(server.pid());
  int64_t peak = at_start;
  {
    const auto started = std::chrono::steady_clock::now();
    testing_util::StalledCalls stalled(address, 40, kCalls);
    // Each call either takes a slot as it arrives, and holds it until the
    // server's default deadline ends it, or is shed at once.
    bool all_ended = false;
    while (!all_ended && std::chrono::steady_clock::now() <
                             started + std::chrono::seconds(60)) {
      peak = std::max(peak, ResidentBytes(server.pid()));
      all_ended = stalled.AwaitAllEnded(absl::Milliseconds(100));
    }
    const double seconds = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - started)
                               .count();
    ASSERT_TRUE(all_ended) << "ended by status code: " << stalled.EndedByCode();
    const int shed = stalled.Ended(grpc::StatusCode::RESOURCE_EXHAUSTED);
    const int expired = stalled.Ended(grpc::StatusCode::DEADLINE_EXCEEDED);
    EXPECT_EQ(shed + expired, kCalls)
        << "ended by status code: " << stalled.EndedByCode();
    // The first slots' worth were admitted and held to the deadline.
    EXPECT_GE(expired, kSlots);
    EXPECT_GE(seconds, 3.0);
    std::cerr << "stalled calls: " << shed << " shed, " << expired
              << " ended at the deadline, all within " << seconds
              << " s; RSS at start " << (at_start >> 20) << " MiB, peak "
              << (peak >> 20) << " MiB\n";
  }
  EXPECT_LT(peak, kBound) << "peak RSS " << (peak >> 20) << " MiB";
  // The slots are free again, and a caller that sends its message is
  // answered.
  EXPECT_THAT(CallOnce(address), IsOk());
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
}

TEST(StalledCallsE2ETest, EndAtTheirOwnDeadlineAndFreeTheirSlots) {
  // Calls that set a deadline shorter than the server's are ended at it,
  // and the slots they held are free again afterwards.
  ServerProcess server(
      testing_util::ServeBundled({"--audit=off", "--default_deadline_ms=60000",
                                  "--max_concurrent_calls=10"}));
  const std::string address = AddressOf(server);
  ASSERT_FALSE(address.empty());
  {
    testing_util::StalledCalls stalled(address, 2, 10,
                                       grpc::InsecureChannelCredentials(), {},
                                       absl::Seconds(1));
    ASSERT_TRUE(stalled.AwaitAllEnded(absl::Seconds(10)))
        << "ended by status code: " << stalled.EndedByCode();
    EXPECT_EQ(stalled.Ended(grpc::StatusCode::DEADLINE_EXCEEDED), 10)
        << "ended by status code: " << stalled.EndedByCode();
  }
  EXPECT_THAT(CallOnce(address), IsOk());
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
}

TEST(StalledCallsE2ETest, CountAgainstTheLimitAsTheyArrive) {
  // Ten stalled calls take the ten slots: the next caller is shed at once,
  // although its message is complete, until they end.
  ServerProcess server(
      testing_util::ServeBundled({"--audit=off", "--default_deadline_ms=2000",
                                  "--max_concurrent_calls=10"}));
  const std::string address = AddressOf(server);
  ASSERT_FALSE(address.empty());
  testing_util::StalledCalls stalled(address, 1, 10);
  // The calls are in once the server has taken them, which nothing outside
  // shows but a full house. A call made while they arrive would take a slot
  // and shed one of them, so the first waits until they have had ample time
  // (they are headers on loopback), well within their 2 s deadline.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const grpc::Status status = CallOnce(address);
  EXPECT_EQ(stalled.Ended(grpc::StatusCode::RESOURCE_EXHAUSTED), 0)
      << "a stalled call was shed: ended by status code "
      << stalled.EndedByCode();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  ASSERT_TRUE(stalled.AwaitAllEnded(absl::Seconds(10)))
      << "ended by status code: " << stalled.EndedByCode();
  EXPECT_EQ(stalled.Ended(grpc::StatusCode::DEADLINE_EXCEEDED), 10)
      << "ended by status code: " << stalled.EndedByCode();
  EXPECT_THAT(CallOnce(address), IsOk());
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
}

TEST(StalledCallsE2ETest, ACallThatEndsWithoutItsMessageIsRefused) {
  ServerProcess server(testing_util::ServeBundled({"--audit=off"}));
  const std::string address = AddressOf(server);
  ASSERT_FALSE(address.empty());
  // Headers, then the end of the stream: no request at all.
  struct Call
      : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
    void OnDone(const grpc::Status& s) override {
      absl::MutexLock lock(&mu);
      status = s;
      done = true;
    }
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    grpc::Status status ABSL_GUARDED_BY(mu);
    grpc::ClientContext ctx;
  } call;
  grpc::GenericStub stub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  call.ctx.set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(10));
  stub.PrepareBidiStreamingCall(&call.ctx,
                                "/reconnect.v1.DecisionSupport/Evaluate",
                                grpc::StubOptions(), &call);
  call.StartWritesDone();
  call.StartCall();
  absl::MutexLock lock(&call.mu);
  ASSERT_TRUE(
      call.mu.AwaitWithTimeout(absl::Condition(&call.done), absl::Seconds(10)));
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(call.status.error_message(),
              ::testing::HasSubstr("ended without its "
                                   "reconnect.v1.EvaluateRequest message"));
}

}  // namespace
}  // namespace reconnect
