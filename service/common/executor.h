#ifndef RECONNECT_SERVICE_COMMON_EXECUTOR_H_
#define RECONNECT_SERVICE_COMMON_EXECUTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace reconnect::service {

// The one way the service runs work in the background: a fixed set of
// threads of its own that run closures in the order they were posted, or
// at the time asked. Every background thread of the service is one of an
// Executor's (the audit store's writer, completer and checkpointer, the
// call deadlines' timer, the governance worker and impact runner), so that
// each is started, named and stopped the same way. Thread-safe.
class Executor {
 public:
  // Starts `threads` (at least 1) threads, named `name` (at most 15
  // characters show in `top` and debuggers).
  Executor(std::string name, int threads);
  // Runs what was posted with Post and has not run yet, waits for running
  // work to return, then joins the threads. Timed work not yet due is
  // dropped. Long-running work must be told to return by its owner first.
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs `work` on one of the threads as soon as one is free.
  void Post(std::function<void()> work) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `work` on one of the threads at `when` (or as soon after as one is
  // free), unless Cancel(id) is called first; returns that id.
  uint64_t PostAt(absl::Time when, std::function<void()> work)
      ABSL_LOCKS_EXCLUDED(mu_);
  // True when the work will not run; false when it has run, is running, or
  // never existed.
  bool Cancel(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using ByTime = std::multimap<absl::Time, uint64_t>;
  struct Timed {
    ByTime::iterator at;
    std::function<void()> work;
  };

  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // The next piece of work to run now, or an empty function when there is
  // none (yet).
  std::function<void()> Next() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> ready_ ABSL_GUARDED_BY(mu_);
  ByTime by_time_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Timed> timed_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Bumped whenever timed work is added, so that sleeping threads look at
  // the earliest time again.
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_COMMON_EXECUTOR_H_
