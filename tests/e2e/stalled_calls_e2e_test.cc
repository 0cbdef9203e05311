// Calls that send their headers and never their message, as a hostile
// caller or a broken integrator would: the server must not hold memory for
// them without bound on a connection, and must go on serving everyone else.
// (That such calls also end at the server's default deadline is not yet
// so: gRPC hands a unary call to the service only once its message is in.)

#include <signal.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
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

TEST(StalledCallsE2ETest, MemoryStaysBoundedAndOthersAreServed) {
  constexpr int kCalls = 50000;
  constexpr int64_t kBound = 128ll << 20;
  ServerProcess server(testing_util::ServeBundled({"--audit=off"}));
  auto serving = server.WaitForEvent("serving", std::chrono::seconds(30));
  ASSERT_TRUE(serving.has_value());
  const std::string address = (*serving)["address"].get<std::string>();
  const int64_t at_start = ResidentBytes(server.pid());
  int64_t peak = at_start;
  {
    testing_util::StalledCalls stalled(address, 40, kCalls);
    // Watch the server for a while the calls arrive and stall.
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(8);
    while (std::chrono::steady_clock::now() < until) {
      peak = std::max(peak, ResidentBytes(server.pid()));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // A caller that sends its message is still answered.
    auto stub = v1::DecisionSupport::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(10));
    v1::EvaluateResponse response;
    EXPECT_THAT(
        stub->Evaluate(&ctx,
                       testing_util::ExampleRequest("no-partner.json", "stall"),
                       &response),
        IsOk());
    std::cerr << "stalled calls: RSS at start " << (at_start >> 20)
              << " MiB, peak " << (peak >> 20) << " MiB\n";
  }
  EXPECT_LT(peak, kBound) << "peak RSS " << (peak >> 20) << " MiB";
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace reconnect
