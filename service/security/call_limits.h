#ifndef RECONNECT_SERVICE_SECURITY_CALL_LIMITS_H_
#define RECONNECT_SERVICE_SECURITY_CALL_LIMITS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "service/common/executor.h"

namespace reconnect::service {

struct CallLimitOptions {
  // Calls answered at once, across services; more are shed at once with
  // RESOURCE_EXHAUSTED instead of queueing until memory runs out.
  int max_concurrent_calls = 256;
  // The deadline of a call that sets none.
  absl::Duration default_deadline = absl::Seconds(10);
  // The longest deadline honoured; later ones are cut to it.
  absl::Duration max_deadline = absl::Minutes(10);
};

class CallLimits;

// One admitted call's place; gives it back when destroyed. Move-only.
class CallSlot {
 public:
  explicit CallSlot(CallLimits* limits) : limits_(limits) {}
  CallSlot(CallSlot&& other) noexcept : limits_(other.limits_) {
    other.limits_ = nullptr;
  }
  CallSlot& operator=(CallSlot&&) = delete;
  ~CallSlot();

 private:
  CallLimits* limits_;
};

// Admission and deadlines for the services' calls. gRPC enforces a
// client's own deadline; for calls that set none, or one beyond the
// maximum, the server enforces its own: Schedule runs a callback (on this
// object's timer thread) when that deadline passes. Thread-safe.
class CallLimits {
 public:
  explicit CallLimits(CallLimitOptions options);
  CallLimits(const CallLimits&) = delete;
  CallLimits& operator=(const CallLimits&) = delete;

  const CallLimitOptions& options() const { return options_; }

  // A slot, or nullopt when `max_concurrent_calls` are in flight (logged,
  // sampled, with the running count of shed calls).
  std::optional<CallSlot> Admit(std::string_view method);

  // Calls shed so far, and calls in flight now (for metrics).
  int64_t shed() const { return static_cast<int64_t>(shed_.load()); }
  int in_flight() const { return in_flight_.load(); }

  // The deadline this server holds the call to: the client's, cut to the
  // maximum, or the default when it set none.
  absl::Time Deadline(const grpc::ServerContextBase& context) const;
  // Whether the server must enforce Deadline() itself (gRPC enforces only
  // the client's own, when within the maximum).
  bool NeedsTimer(const grpc::ServerContextBase& context) const;

  // Runs `expire` on the timer thread at `deadline` unless Cancel(id) is
  // called first. Cancel returns false when `expire` has run or is running.
  uint64_t Schedule(absl::Time deadline, std::function<void()> expire);
  bool Cancel(uint64_t id);

 private:
  friend class CallSlot;
  void Release() { --in_flight_; }

  const CallLimitOptions options_;
  std::atomic<int> in_flight_{0};
  std::atomic<uint64_t> shed_{0};
  // Last, so that it stops (dropping deadlines not yet due) first.
  Executor timer_{"call-deadlines", 1};
};

// The answer to a call shed because `max_concurrent_calls` are in flight.
absl::Status Shed();

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_SECURITY_CALL_LIMITS_H_
