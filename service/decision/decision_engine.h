#ifndef RECONNECT_SERVICE_DECISION_DECISION_ENGINE_H_
#define RECONNECT_SERVICE_DECISION_DECISION_ENGINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "reconnect/v1/decision_support.pb.h"
#include "service/decision/decision_observer.h"
#include "service/decision/request_validator.h"
#include "service/decision/rule_set_registry.h"

namespace reconnect::service {

// One decision, from request to response: validates the request, picks the
// pinned or active rule set, evaluates, and stamps the response with a
// decision id and the rule set's id, version and digest. The gRPC service and
// the `eval` command share it, so both answer the same way. Thread-safe.
class DecisionEngine {
 public:
  // `registry` must outlive the engine.
  explicit DecisionEngine(const RuleSetRegistry& registry);

  // Fills `response` (which may live on an arena). Returns
  // INVALID_ARGUMENT with `violations` filled for a bad request; NOT_FOUND
  // for a pinned version that is not loaded; UNAVAILABLE when no rule set is
  // loaded.
  absl::Status Evaluate(const v1::EvaluateRequest& request,
                        v1::EvaluateResponse& response,
                        std::vector<FieldViolation>& violations) const;

  // The CEL cost an explained call's missing-data analysis may spend
  // (CompiledRuleSet::Explain::missing_data_budget). Set before serving.
  void set_missing_data_budget(int64_t budget) {
    missing_data_budget_ = budget;
  }

  // Told about every evaluation (null: none). Set before serving; must
  // outlive the engine.
  void set_observer(DecisionObserver* observer) { observer_ = observer; }
  DecisionObserver* observer() const { return observer_; }

 private:
  // Evaluate, without the observer; sets `rule_set` to the version used.
  absl::Status Decide(
      const v1::EvaluateRequest& request, v1::EvaluateResponse& response,
      std::vector<FieldViolation>& violations,
      std::shared_ptr<const ruleset::CompiledRuleSet>& rule_set) const;

  const RuleSetRegistry& registry_;
  const EvaluateRequestValidator validator_;
  int64_t missing_data_budget_ =
      ruleset::CompiledRuleSet::kDefaultMissingDataBudget;
  DecisionObserver* observer_ = nullptr;
};

// A time-ordered (version 7, RFC 9562) UUID: the Unix time in milliseconds,
// then 74 bits from OpenSSL's generator. Ids made later sort later (to the
// millisecond), so the audit store's index of ids grows at its end instead
// of taking each new id on a random page.
absl::StatusOr<std::string> NewDecisionId(absl::Time now = absl::Now());

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_DECISION_DECISION_ENGINE_H_
