#ifndef RECONNECT_SERVICE_API_SERVING_HEALTH_H_
#define RECONNECT_SERVICE_API_SERVING_HEALTH_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/health_check_service_interface.h"

namespace reconnect::service {

// The gRPC health reported on every listener, from the conditions that make
// it. Readiness (the overall status "" and DecisionSupport's own name) needs
// a rule set, a writable audit store and no drain in progress; "liveness"
// stays SERVING while the process can answer at all, so that a kubelet
// restarts only a process that is stuck, not one waiting for a rule set.
// Thread-safe.
class ServingHealth {
 public:
  enum Condition { kRuleSet, kAuditStore, kNotDraining, kLive };

  // `services` are borrowed and must outlive this; null entries are skipped.
  // Starts with no rule set, so not ready, and live.
  explicit ServingHealth(
      std::vector<grpc::HealthCheckServiceInterface*> services);

  ServingHealth(const ServingHealth&) = delete;
  ServingHealth& operator=(const ServingHealth&) = delete;

  // Records one condition and publishes the result when it changed.
  void Set(Condition c, bool ok) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  bool ok_[4] ABSL_GUARDED_BY(mu_) = {false, true, true, true};
  const std::vector<grpc::HealthCheckServiceInterface*> services_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_API_SERVING_HEALTH_H_
