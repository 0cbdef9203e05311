#ifndef RECONNECT_TESTS_TESTING_REFLECTION_H_
#define RECONNECT_TESTS_TESTING_REFLECTION_H_

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace reconnect::testing_util {

struct ReflectionResult {
  grpc::Status status;
  std::string response;  // the one response message's bytes
};

// Sends one grpc.reflection.v1alpha request (its bytes, encoded by hand) on
// the bidirectional stream and returns the single response, through the
// generic stub; with `bearer`, as a caller holding that token.
inline ReflectionResult ReflectionCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& request,
    const std::string& bearer = "") {
  class Reactor
      : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Reactor(const std::string& request) {
      grpc::Slice slice(request);
      request_ = grpc::ByteBuffer(&slice, 1);
    }
    void Start() {
      StartWrite(&request_);
      StartRead(&response_);
      StartCall();
    }
    void OnWriteDone(bool) override { StartWritesDone(); }
    void OnReadDone(bool ok) override {
      if (!ok) return;
      std::vector<grpc::Slice> slices;
      (void)response_.Dump(&slices);
      for (const auto& s : slices) {
        got_.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    void OnDone(const grpc::Status& s) override {
      done_.set_value({s, s.ok() ? got_ : ""});
    }
    grpc::ClientContext ctx;
    std::future<ReflectionResult> result() { return done_.get_future(); }

   private:
    grpc::ByteBuffer request_, response_;
    std::string got_;
    std::promise<ReflectionResult> done_;
  };
  grpc::GenericStub stub(channel);
  Reactor reactor(request);
  reactor.ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
  if (!bearer.empty()) {
    reactor.ctx.AddMetadata("authorization", "Bearer " + bearer);
  }
  auto future = reactor.result();
  stub.PrepareBidiStreamingCall(
      &reactor.ctx,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      grpc::StubOptions(), &reactor);
  reactor.Start();
  return future.get();
}

// ServerReflectionRequest{list_services: ""}.
inline std::string ListServicesRequest() { return std::string("\x3a\x00", 2); }

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_REFLECTION_H_
