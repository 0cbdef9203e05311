#include "service/common/executor.h"

#include <pthread.h>

#include "absl/time/clock.h"

namespace reconnect::service {

Executor::Executor(std::string name, int threads) : name_(std::move(name)) {
  if (threads < 1) threads = 1;
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { Loop(); });
    // Linux keeps 15 characters of a thread's name.
    pthread_setname_np(threads_.back().native_handle(),
                       name_.substr(0, 15).c_str());
  }
}

Executor::~Executor() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void Executor::Post(std::function<void()> work) {
  absl::MutexLock lock(&mu_);
  ready_.push_back(std::move(work));
}

uint64_t Executor::PostAt(absl::Time when, std::function<void()> work) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  timed_.emplace(id, Timed{by_time_.emplace(when, id), std::move(work)});
  ++generation_;
  return id;
}

bool Executor::Cancel(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = timed_.find(id);
  if (it == timed_.end()) return false;
  by_time_.erase(it->second.at);
  timed_.erase(it);
  return true;
}

std::function<void()> Executor::Next() {
  if (!ready_.empty()) {
    std::function<void()> work = std::move(ready_.front());
    ready_.pop_front();
    return work;
  }
  if (!by_time_.empty() && !stopping_ &&
      by_time_.begin()->first <= absl::Now()) {
    auto it = timed_.find(by_time_.begin()->second);
    by_time_.erase(by_time_.begin());
    std::function<void()> work = std::move(it->second.work);
    timed_.erase(it);
    return work;
  }
  return nullptr;
}

void Executor::Loop() {
  absl::MutexLock lock(&mu_);
  while (true) {
    if (std::function<void()> work = Next()) {
      mu_.Unlock();
      work();
      work = nullptr;  // its captures are released outside the lock too
      mu_.Lock();
      continue;
    }
    if (stopping_) return;
    // Sleep until work is posted, timed work is added (it may be earlier
    // than what we wait for), the earliest timed work falls due, or stop.
    const uint64_t seen = generation_;
    auto woken = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !ready_.empty() || stopping_ || generation_ != seen;
    };
    const absl::Time due =
        by_time_.empty() ? absl::InfiniteFuture() : by_time_.begin()->first;
    mu_.AwaitWithDeadline(absl::Condition(&woken), due);
  }
}

}  // namespace reconnect::service
