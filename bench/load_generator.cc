// A closed-loop gRPC load generator for Evaluate: several channels, a fixed
// number of calls outstanding on each (callback API), for a fixed time.
// Prints one JSON line: calls per second, latency percentiles, errors, and
// the CPU time per call of the generator and (with --server_pid, on Linux)
// of the server, both over the measured window: on a machine they share,
// these say where the time went.
//
//   reconnect_load --target ADDR --assessment FILE [--channels 4]
//                  [--outstanding 16] [--seconds 10] [--warmup_seconds 1]
//                  [--tls_ca FILE] [--token_file FILE] [--server_pid PID]
//                  [--why_not]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/load_stats.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "service/security/tls.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "Server address.");
ABSL_FLAG(std::string, assessment, "", "Assessment to send (protobuf JSON).");
ABSL_FLAG(int, channels, 4, "gRPC channels (separate connections).");
ABSL_FLAG(int, outstanding, 16, "Calls kept in flight per channel.");
ABSL_FLAG(double, seconds, 10, "Measured duration.");
ABSL_FLAG(double, warmup_seconds, 1, "Unmeasured warm-up before it.");
ABSL_FLAG(std::string, tls_ca, "",
          "CA of the server's certificate: connect with TLS.");
ABSL_FLAG(std::string, token_file, "",
          "A bearer token (JWT) to send with every call.");
ABSL_FLAG(bool, why_not, false,
          "Ask for the explanation (EXPLANATION_WHY_NOT: why not and missing "
          "data) with every call.");
ABSL_FLAG(int, server_pid, 0,
          "The server's process id, to report its CPU time per call.");

namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
  reconnect::v1::EvaluateRequest request;
  std::string token;  // "Bearer ...", or empty
  std::atomic<bool> measuring{false};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;                   // guarded by mu
  std::vector<double> latencies_us;  // guarded by mu
  int64_t errors = 0;                // guarded by mu
};

// One call slot: issues a call, and on completion records it and issues
// the next, until stopping.
class Slot {
 public:
  Slot(reconnect::v1::DecisionSupport::Stub* stub, Shared& shared)
      : stub_(stub), shared_(shared) {}

  void Start() {
    {
      std::lock_guard<std::mutex> lock(shared_.mu);
      ++shared_.running;
    }
    Issue();
  }

 private:
  void Issue() {
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
    if (!shared_.token.empty())
      ctx_->AddMetadata("authorization", shared_.token);
    response_.Clear();
    started_ = Clock::now();
    stub_->async()->Evaluate(ctx_.get(), &shared_.request, &response_,
                             [this](grpc::Status s) { Done(s); });
  }

  void Done(const grpc::Status& s) {
    const double us =
        std::chrono::duration<double, std::micro>(Clock::now() - started_)
            .count();
    if (shared_.measuring.load()) {
      std::lock_guard<std::mutex> lock(shared_.mu);
      if (s.ok()) {
        shared_.latencies_us.push_back(us);
      } else {
        ++shared_.errors;
      }
    }
    if (shared_.stopping.load()) {
      std::lock_guard<std::mutex> lock(shared_.mu);
      if (--shared_.running == 0) shared_.cv.notify_all();
      return;
    }
    Issue();
  }

  reconnect::v1::DecisionSupport::Stub* stub_;
  Shared& shared_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  reconnect::v1::EvaluateResponse response_;
  Clock::time_point started_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  Shared shared;
  std::ifstream in(absl::GetFlag(FLAGS_assessment));
  std::stringstream json;
  json << in.rdbuf();
  if (!in || !google::protobuf::util::JsonStringToMessage(
                  json.str(), shared.request.mutable_assessment())
                  .ok()) {
    std::cerr << "reconnect_load: cannot read --assessment "
              << absl::GetFlag(FLAGS_assessment) << "\n";
    return 2;
  }
  shared.request.set_calling_system("load-generator");
  if (absl::GetFlag(FLAGS_why_not)) {
    shared.request.set_explanation(reconnect::v1::EXPLANATION_WHY_NOT);
  }

  auto credentials = reconnect::service::MakeChannelCredentials(
      {absl::GetFlag(FLAGS_tls_ca), "", ""});
  if (!credentials.ok()) {
    std::cerr << "reconnect_load: " << credentials.status().message() << "\n";
    return 2;
  }
  if (!absl::GetFlag(FLAGS_token_file).empty()) {
    std::ifstream token(absl::GetFlag(FLAGS_token_file));
    std::getline(token, shared.token);
    if (shared.token.empty()) {
      std::cerr << "reconnect_load: cannot read --token_file\n";
      return 2;
    }
    shared.token = "Bearer " + shared.token;
  }
  std::vector<std::unique_ptr<reconnect::v1::DecisionSupport::Stub>> stubs;
  for (int c = 0; c < absl::GetFlag(FLAGS_channels); ++c) {
    // A distinct channel argument keeps each channel on its own connection.
    grpc::ChannelArguments args;
    args.SetInt("reconnect.load.channel", c);
    stubs.push_back(
        reconnect::v1::DecisionSupport::NewStub(grpc::CreateCustomChannel(
            absl::GetFlag(FLAGS_target), *credentials, args)));
  }
  std::vector<std::unique_ptr<Slot>> slots;
  for (auto& stub : stubs) {
    for (int i = 0; i < absl::GetFlag(FLAGS_outstanding); ++i) {
      slots.push_back(std::make_unique<Slot>(stub.get(), shared));
    }
  }
  for (auto& slot : slots) slot->Start();

  auto sleep_for = [](double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
  };
  sleep_for(absl::GetFlag(FLAGS_warmup_seconds));
  reconnect::bench::Window window(absl::GetFlag(FLAGS_server_pid));
  shared.measuring = true;
  sleep_for(absl::GetFlag(FLAGS_seconds));
  shared.measuring = false;
  window.Stop();
  shared.stopping = true;
  {
    std::unique_lock<std::mutex> lock(shared.mu);
    shared.cv.wait(lock, [&] { return shared.running == 0; });
  }
  nlohmann::json out = window.Report(shared.latencies_us, shared.errors);
  if (out.is_null()) {
    std::cerr << "reconnect_load: cannot read the CPU time of process "
              << absl::GetFlag(FLAGS_server_pid) << " from /proc\n";
    return 2;
  }
  out["channels"] = absl::GetFlag(FLAGS_channels);
  out["outstanding_per_channel"] = absl::GetFlag(FLAGS_outstanding);
  std::cout << out.dump() << "\n";
  return shared.errors > 0 ? 1 : 0;
}
