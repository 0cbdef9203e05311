#ifndef RECONNECT_ENGINE_RULESET_DIFF_H_
#define RECONNECT_ENGINE_RULESET_DIFF_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reconnect::ruleset {

// One value that differs: its path ("params.max_nrs",
// "catalog.prompts[open_conversation].text", or within a rule, "when") and
// its JSON before and after ("" when absent on that side).
struct FieldChange {
  std::string path;
  std::string before;
  std::string after;
};

struct RuleChange {
  std::string rule_id;
  std::vector<FieldChange> fields;
};

// What changed from one rule-set version to another, for governance review.
struct RuleSetDiff {
  std::vector<std::string> rules_added;
  std::vector<std::string> rules_removed;
  std::vector<RuleChange> rules_changed;
  // Metadata ("ruleset.*"), params, defs and catalog texts.
  std::vector<FieldChange> changes;
  bool empty() const {
    return rules_added.empty() && rules_removed.empty() &&
           rules_changed.empty() && changes.empty();
  }
};

// Compares two rule sets' canonical content (CompiledRuleSet::
// canonical_content()). Rules are matched by id, whichever file holds
// them; catalog entries by code. INVALID_ARGUMENT when either side is not
// canonical content.
absl::StatusOr<RuleSetDiff> DiffRuleSets(const std::string& from,
                                         const std::string& to);

}  // namespace reconnect::ruleset

#endif  // RECONNECT_ENGINE_RULESET_DIFF_H_
