#ifndef RECONNECT_SERVICE_AUDIT_RULE_OUTCOMES_H_
#define RECONNECT_SERVICE_AUDIT_RULE_OUTCOMES_H_

// Which rules fired in a decision, and which were held by which, read from
// the recommendation it answered with: what the audit store counts per day
// for governance ("rules in practice").

#include <string>
#include <utility>
#include <vector>

#include "reconnect/v1/recommendation.pb.h"

namespace reconnect::service {

struct RuleOutcomes {
  // Every rule that fired (its condition was true), sorted, once each.
  std::vector<std::string> fired;
  // (rule, holder): a rule that fired and had an item held back by a rule
  // of higher priority; sorted, once each.
  std::vector<std::pair<std::string, std::string>> held;
};

// A rule fired exactly when it is behind an item of the plan (its
// rationale) or behind an item held back: every rule recommends something.
RuleOutcomes OutcomesOf(const v1::Recommendation& plan);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_AUDIT_RULE_OUTCOMES_H_
