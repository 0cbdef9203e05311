#ifndef RECONNECT_SERVICE_AUDIT_IMPACT_H_
#define RECONNECT_SERVICE_AUDIT_IMPACT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/ruleset/rule_set.h"
#include "service/audit/audit_store.h"

namespace reconnect::service {

// How one technique, prompt or alert would fare under a candidate rule set.
struct ItemImpact {
  std::string kind;  // "technique", "prompt" or "alert"
  std::string code;
  int64_t gained = 0;                 // decisions that would newly have it
  int64_t lost = 0;                   // decisions that would no longer have it
  std::vector<std::string> examples;  // decision ids, at most max_examples
};

struct ImpactReport {
  int64_t evaluated = 0;
  int64_t changed = 0;            // decisions whose recommendation would differ
  std::vector<ItemImpact> items;  // by kind, then code
};

// Evaluates `candidate` over the recorded decisions that `query` selects
// (its time range and calling system; paging fields are ignored) and
// compares with what was recorded. `progress`, called after every page
// with the count so far, may return false to stop early (CANCELLED).
absl::StatusOr<ImpactReport> AnalyzeImpact(
    AuditReader& store, const ruleset::CompiledRuleSet& candidate,
    DecisionQuery query, int max_examples,
    const std::function<bool(int64_t)>& progress);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_AUDIT_IMPACT_H_
