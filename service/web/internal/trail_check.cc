#include "service/web/internal/trail_check.h"

#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace reconnect::service::web {

TrailCheck::~TrailCheck() { stopping_ = true; }

bool TrailCheck::Start(std::string who) {
  {
    absl::MutexLock lock(&mu_);
    if (state_.running) return false;
    state_.running = true;
    state_.checked = 0;
    state_.total = 0;
    state_.who = std::move(who);
    state_.started_micros = absl::ToUnixMicros(absl::Now());
  }
  executor_.Post([this] { Run(); });
  return true;
}

TrailCheck::State TrailCheck::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

void TrailCheck::Run() {
  absl::StatusOr<VerifyReport> report =
      VerifyAuditTrail(path_, [this](int64_t checked, int64_t total) {
        absl::MutexLock lock(&mu_);
        state_.checked = checked;
        state_.total = total;
        return !stopping_.load();
      });
  absl::MutexLock lock(&mu_);
  state_.running = false;
  state_.finished_micros = absl::ToUnixMicros(absl::Now());
  state_.result = std::move(report);
}

}  // namespace reconnect::service::web
