#include "service/security/call_limits.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/log.h"

namespace reconnect::service {

absl::Status Shed() {
  return absl::ResourceExhaustedError(
      "the service is answering as many calls as it may; retry with backoff");
}

CallSlot::~CallSlot() {
  if (limits_ != nullptr) limits_->Release();
}

CallLimits::CallLimits(CallLimitOptions options) : options_(options) {}

std::optional<CallSlot> CallLimits::Admit(std::string_view method) {
  if (in_flight_.fetch_add(1) >= options_.max_concurrent_calls) {
    --in_flight_;
    const uint64_t shed = ++shed_;
    // Under overload every line costs; the first and every hundredth say
    // how many were shed.
    if (shed == 1 || shed % 100 == 0) {
      Log(LogLevel::kWarning, "calls_shed",
          {{"method", std::string(method)},
           {"max_concurrent_calls", options_.max_concurrent_calls},
           {"shed_total", shed}});
    }
    return std::nullopt;
  }
  return CallSlot(this);
}

absl::Time CallLimits::Deadline(const grpc::ServerContextBase& context) const {
  const absl::Time now = absl::Now();
  const auto client = context.deadline();
  if (client == std::chrono::system_clock::time_point::max()) {
    return now + options_.default_deadline;
  }
  return std::min(absl::FromChrono(client), now + options_.max_deadline);
}

bool CallLimits::NeedsTimer(const grpc::ServerContextBase& context) const {
  const auto client = context.deadline();
  return client == std::chrono::system_clock::time_point::max() ||
         absl::FromChrono(client) > absl::Now() + options_.max_deadline;
}

uint64_t CallLimits::Schedule(absl::Time deadline,
                              std::function<void()> expire) {
  return timer_.PostAt(deadline, std::move(expire));
}

bool CallLimits::Cancel(uint64_t id) { return timer_.Cancel(id); }

}  // namespace reconnect::service
