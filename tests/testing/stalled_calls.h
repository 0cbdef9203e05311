#ifndef RECONNECT_TESTS_TESTING_STALLED_CALLS_H_
#define RECONNECT_TESTS_TESTING_STALLED_CALLS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace reconnect::testing_util {

// Many Evaluate calls that send their headers and then nothing.
class StalledCalls {
 public:
  // `calls` calls over `channels` connections to `address`, with
  // `credentials` (plaintext by default), channel arguments `base`, and each
  // with `deadline` from now (by default none).
  StalledCalls(const std::string& address, int channels, int calls,
               std::shared_ptr<grpc::ChannelCredentials> credentials =
                   grpc::InsecureChannelCredentials(),
               const grpc::ChannelArguments& base = {},
               absl::Duration deadline = absl::InfiniteDuration()) {
    for (int c = 0; c < channels; ++c) {
      grpc::ChannelArguments args = base;
      // A connection of its own each (gRPC would share one).
      args.SetInt("reconnect.test.channel", c);
      stubs_.push_back(std::make_unique<grpc::GenericStub>(
          grpc::CreateCustomChannel(address, credentials, args)));
    }
    for (int i = 0; i < calls; ++i) {
      auto call = std::make_unique<Call>(*this);
      if (deadline != absl::InfiniteDuration()) {
        call->ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
      }
      stubs_[i % stubs_.size()]->PrepareBidiStreamingCall(
          &call->ctx, "/reconnect.v1.DecisionSupport/Evaluate",
          grpc::StubOptions(), call.get());
      call->StartCall();
      calls_.push_back(std::move(call));
    }
  }

  ~StalledCalls() {
    for (auto& call : calls_) call->ctx.TryCancel();
    absl::MutexLock lock(&mu_);
    auto all_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ == static_cast<int>(calls_.size());
    };
    mu_.AwaitWithTimeout(absl::Condition(&all_done), absl::Seconds(60));
  }

  // Waits up to `timeout` for `n` calls to have ended with `code`.
  bool AwaitEnded(grpc::StatusCode code, int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return by_code_[code] >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

  // Waits up to `timeout` for every call to have ended.
  bool AwaitAllEnded(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto all_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done_ == static_cast<int>(calls_.size());
    };
    return mu_.AwaitWithTimeout(absl::Condition(&all_done), timeout);
  }

  // How many have ended with `code`.
  int Ended(grpc::StatusCode code) {
    absl::MutexLock lock(&mu_);
    auto it = by_code_.find(code);
    return it == by_code_.end() ? 0 : it->second;
  }

  // How many have ended, by status, as "CODE:count ...".
  std::string EndedByCode() {
    absl::MutexLock lock(&mu_);
    std::string out;
    for (const auto& [code, n] : by_code_) {
      out += std::to_string(static_cast<int>(code)) + ":" + std::to_string(n) +
             " ";
    }
    return out;
  }

 private:
  struct Call
      : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
    explicit Call(StalledCalls& owner) : owner(owner) {}
    void OnDone(const grpc::Status& s) override {
      absl::MutexLock lock(&owner.mu_);
      ++owner.done_;
      ++owner.by_code_[s.error_code()];
    }
    StalledCalls& owner;
    grpc::ClientContext ctx;
  };

  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<std::unique_ptr<Call>> calls_;
  absl::Mutex mu_;
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<grpc::StatusCode, int> by_code_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_STALLED_CALLS_H_
