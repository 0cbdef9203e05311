#include "service/security/call_limits.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/log.h"

namespace reconnect::service {

grpc::Status Shed() {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "the service is answering as many calls as it may; "
                      "retry with backoff");
}

CallSlot::~CallSlot() {
  if (limits_ != nullptr) limits_->Release();
}

CallLimits::CallLimits(CallLimitOptions options)
    : options_(options), timer_([this] { TimerLoop(); }) {}

CallLimits::~CallLimits() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  timer_.join();
}

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
  uint64_t id;
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    earliest = by_time_.empty() || deadline < by_time_.begin()->first;
    pending_.emplace(
        id, std::make_pair(by_time_.emplace(deadline, id), std::move(expire)));
  }
  if (earliest) cv_.notify_one();
  return id;
}

bool CallLimits::Cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  by_time_.erase(it->second.first);
  pending_.erase(it);
  return true;
}

void CallLimits::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (by_time_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto [when, id] = *by_time_.begin();
    if (absl::Now() < when) {
      cv_.wait_until(lock, absl::ToChronoTime(when));
      continue;
    }
    by_time_.erase(by_time_.begin());
    auto it = pending_.find(id);
    std::function<void()> expire = std::move(it->second.second);
    pending_.erase(it);
    lock.unlock();
    expire();
    lock.lock();
  }
}

}  // namespace reconnect::service
