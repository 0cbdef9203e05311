#ifndef RECONNECT_SERVICE_DECISION_DECISION_OBSERVER_H_
#define RECONNECT_SERVICE_DECISION_DECISION_OBSERVER_H_

// What the service reports about its decisions as they happen, for
// operators (metrics). An observer is told about each evaluation and each
// call that asked for one; it is never given patient data, only rule sets,
// outcomes and times. Implementations run on request threads: they must be
// thread-safe and cheap.

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/ruleset/rule_set.h"
#include "reconnect/v1/recommendation.pb.h"
#include "service/audit/audit_store.h"

namespace reconnect::service {

class DecisionObserver {
 public:
  virtual ~DecisionObserver() = default;

  // The engine evaluated one request in `took`, ending with `code`.
  // `rule_set` is the version it was (or would have been) evaluated
  // against, null when none was found; `plan` is the recommendation, set
  // only when `code` is OK.
  virtual void Evaluated(const ruleset::CompiledRuleSet* rule_set,
                         absl::StatusCode code, const v1::Recommendation* plan,
                         absl::Duration took) = 0;

  // A call that asked for a decision ended, `took` after it arrived.
  // `interface` says through what ("grpc", "cds-hooks", "fhir"); `code` is
  // what the caller got, in that interface's terms ("OK",
  // "INVALID_ARGUMENT" for gRPC; "200", "400" for HTTP).
  virtual void CallEnded(std::string_view interface, std::string_view code,
                         absl::Duration took) = 0;

  // A decision was answered with `cards` (CDS Hooks).
  virtual void CardsIssued(const std::vector<IssuedCard>& cards) = 0;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_DECISION_DECISION_OBSERVER_H_
