// When a rule set and its rules are next due for clinical review, and which
// are past it on a given day.

#include "absl/strings/str_cat.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/layout.h"
#include "engine/ruleset/rule_set.h"

namespace reconnect::ruleset {

std::vector<RuleSetIssue> ReviewsDue(const CompiledRuleSet& rule_set,
                                     const std::string& today) {
  std::vector<RuleSetIssue> out;
  // YYYY-MM-DD dates order as text.
  const std::string& own = rule_set.metadata().review_by;
  if (!own.empty() && own < today) {
    out.push_back(
        {std::string(kMetadataFile), 0, 0, "",
         absl::StrCat("the rule set was due for clinical review by ", own,
                      "; it still serves, but its review is "
                      "overdue"),
         issue_codes::kPastReview});
  }
  for (size_t i = 0; i < rule_set.rule_count(); ++i) {
    const std::string& due = rule_set.rule_review_by(i);
    if (due.empty() || due >= today) continue;
    const auto [file, line] = rule_set.rule_location(i);
    out.push_back({file, line, line > 0 ? 1 : 0, rule_set.rule_id(i),
                   absl::StrCat("due for clinical review by ", due,
                                due == own ? " (the rule set's date)" : ""),
                   issue_codes::kPastReview});
  }
  return out;
}

}  // namespace reconnect::ruleset
