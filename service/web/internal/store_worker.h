#ifndef RECONNECT_SERVICE_WEB_INTERNAL_STORE_WORKER_H_
#define RECONNECT_SERVICE_WEB_INTERNAL_STORE_WORKER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/audit/audit_store.h"
#include "service/audit/replay.h"
#include "service/common/executor.h"
#include "service/decision/rule_set_registry.h"

namespace reconnect::service::web {

// A thread of its own that reads the audit store for a set of pages, so
// that no HTTP thread waits on the disk; with a bound on the pages waiting.
class StoreWorker {
 public:
  // Pages waiting; more are refused.
  static constexpr int kMaxQueued = 32;

  // `path` empty: the audit store is off (enabled() is false). `registry`
  // must outlive the worker.
  StoreWorker(const RuleSetRegistry& registry, std::string path,
              std::string name)
      : registry_(registry),
        path_(std::move(path)),
        executor_(std::move(name), 1) {}

  bool enabled() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

  // Runs `work` on the worker; false (not queued) when too much waits.
  bool Post(std::function<void()> work);

  // The store, opened read-only on first use. Worker thread only.
  absl::StatusOr<AuditReader*> Reader();

  // The rule set with `digest`: a loaded one, else rebuilt from the store
  // (and kept). Worker thread only.
  absl::StatusOr<std::shared_ptr<const ruleset::CompiledRuleSet>> RuleSet(
      const std::string& digest);

 private:
  const RuleSetRegistry& registry_;
  const std::string path_;
  std::atomic<int> queued_{0};
  // Worker thread only.
  std::unique_ptr<AuditReader> reader_;
  std::unique_ptr<Replayer> replayer_;
  // Last: its thread stops before what it uses goes.
  Executor executor_;
};

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_INTERNAL_STORE_WORKER_H_
