#include "service/api/serving_health.h"

#include <utility>

#include "reconnect/v1/decision_support.grpc.pb.h"

namespace reconnect::service {

ServingHealth::ServingHealth(
    std::vector<grpc::HealthCheckServiceInterface*> services)
    : services_(std::move(services)) {
  absl::MutexLock lock(&mu_);
  Publish();
}

void ServingHealth::Set(Condition c, bool ok) {
  absl::MutexLock lock(&mu_);
  if (ok_[c] == ok) return;
  ok_[c] = ok;
  Publish();
}

void ServingHealth::Publish() {
  const bool ready = ok_[kRuleSet] && ok_[kAuditStore] && ok_[kNotDraining];
  for (auto* h : services_) {
    if (h == nullptr) continue;
    h->SetServingStatus(ready);
    h->SetServingStatus(v1::DecisionSupport::service_full_name(), ready);
    h->SetServingStatus("liveness", ok_[kLive]);
  }
}

}  // namespace reconnect::service
