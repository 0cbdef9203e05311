#ifndef RECONNECT_TESTS_TESTING_HEALTH_H_
#define RECONNECT_TESTS_TESTING_HEALTH_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace reconnect::testing_util {

enum class Serving { kUnknown = 0, kServing = 1, kNotServing = 2, kError = -1 };

// grpc.health.v1.Health/Check for `service`, through the generic stub: the
// request is HealthCheckRequest{service} (field 1, a string) and the answer
// HealthCheckResponse{status} (field 1, an enum), encoded by hand so that no
// copy of health.proto is needed.
inline Serving CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                           const std::string& service) {
  std::string request_bytes;
  if (!service.empty()) {
    request_bytes.push_back(0x0a);
    request_bytes.push_back(static_cast<char>(service.size()));
    request_bytes += service;
  }
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  grpc::GenericStub stub(channel);
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = s;
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (!status.ok()) return Serving::kError;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return Serving::kError;
  std::string bytes;
  for (const auto& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  if (bytes.empty()) return Serving::kUnknown;
  if (bytes.size() != 2 || bytes[0] != 0x08) return Serving::kError;
  return static_cast<Serving>(bytes[1]);
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_HEALTH_H_
