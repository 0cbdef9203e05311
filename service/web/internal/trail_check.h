#ifndef RECONNECT_SERVICE_WEB_INTERNAL_TRAIL_CHECK_H_
#define RECONNECT_SERVICE_WEB_INTERNAL_TRAIL_CHECK_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/audit/audit_store.h"
#include "service/common/executor.h"

namespace reconnect::service::web {

// `audit verify` on demand for the governance console: one check at a
// time, on a thread of its own (a large trail takes a while), with its
// progress and its last result kept for the pages to show. Thread-safe.
class TrailCheck {
 public:
  struct State {
    bool running = false;
    int64_t checked = 0, total = 0;  // records, as the check goes
    std::string who;                 // who started the last check
    int64_t started_micros = 0, finished_micros = 0;
    // The last finished check's result; none before the first.
    std::optional<absl::StatusOr<VerifyReport>> result;
  };

  explicit TrailCheck(std::string path)
      : path_(std::move(path)), executor_("trail-check", 1) {}
  // Stops a running check, then waits for it.
  ~TrailCheck();

  // Starts a check for `who`; false when one is already running.
  bool Start(std::string who) ABSL_LOCKS_EXCLUDED(mu_);
  State state() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  // Last: its thread stops before what it uses goes.
  Executor executor_;
};

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_INTERNAL_TRAIL_CHECK_H_
