#ifndef RECONNECT_SERVICE_WEB_INTERNAL_BACKGROUND_JOB_H_
#define RECONNECT_SERVICE_WEB_INTERNAL_BACKGROUND_JOB_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/audit/audit_store.h"
#include "service/audit/impact.h"
#include "service/common/executor.h"

namespace reconnect::service::web {

// A long piece of work a console page starts (checking the trail, an
// impact analysis): one at a time, on a thread of its own, with its
// progress and its last result kept for the page to show and poll.
// Thread-safe.
template <typename Result>
class BackgroundJob {
 public:
  struct State {
    bool running = false;
    int64_t done = 0, total = 0;  // as the work goes; total 0: not known
    std::string who;              // who started the last run
    std::string subject;          // what it ran on, in words
    int64_t started_micros = 0, finished_micros = 0;
    // The last finished run's result; none before the first.
    std::optional<absl::StatusOr<Result>> result;
  };
  // Told how far the work has got; false: stop (the server is stopping).
  using Progress = std::function<bool(int64_t done, int64_t total)>;
  using Work = std::function<absl::StatusOr<Result>(const Progress&)>;

  explicit BackgroundJob(std::string name) : executor_(std::move(name), 1) {}
  // Tells a running piece of work to stop, then waits for it.
  ~BackgroundJob() { stopping_ = true; }
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  // Starts `work` for `who` on `subject`; false when a run is going on.
  bool Start(std::string who, std::string subject, Work work)
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (state_.running) return false;
      state_.running = true;
      state_.done = 0;
      state_.total = 0;
      state_.who = std::move(who);
      state_.subject = std::move(subject);
      state_.started_micros = absl::ToUnixMicros(absl::Now());
    }
    executor_.Post([this, work = std::move(work)] {
      absl::StatusOr<Result> result = work([this](int64_t done, int64_t total) {
        absl::MutexLock lock(&mu_);
        state_.done = done;
        state_.total = total;
        return !stopping_.load();
      });
      absl::MutexLock lock(&mu_);
      state_.running = false;
      state_.finished_micros = absl::ToUnixMicros(absl::Now());
      state_.result = std::move(result);
    });
    return true;
  }

  State state() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return state_;
  }

 private:
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  // Last: its thread stops before what it uses goes.
  Executor executor_;
};

// The console's two: `audit verify`, and an impact analysis.
using TrailCheck = BackgroundJob<VerifyReport>;
using ImpactRun = BackgroundJob<ImpactReport>;

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_INTERNAL_BACKGROUND_JOB_H_
