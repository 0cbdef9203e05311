// The hazard log's proofs: the test cases each hazard names, against the
// rule set's test results.

#include "absl/strings/str_cat.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/layout.h"
#include "engine/ruleset/rule_set.h"

namespace reconnect::ruleset {

std::vector<RuleSetIssue> CheckHazardTests(const CompiledRuleSet& rule_set,
                                           const TestReport& report) {
  std::vector<RuleSetIssue> out;
  if (rule_set.hazards() == nullptr) return out;
  for (const Hazard& h : *rule_set.hazards()) {
    for (const std::string& name : h.tests) {
      int found = 0;
      bool passed = true;
      for (const TestCaseResult& c : report.cases) {
        if (c.name != name) continue;
        ++found;
        passed = passed && c.failures.empty();
      }
      if (found == 0) {
        out.push_back({std::string(kHazardsFile), h.line, 1, "",
                       absl::StrCat("hazard '", h.id, "' names test case '",
                                    name, "', which no test file holds"),
                       issue_codes::kHazardTest});
      } else if (!passed) {
        out.push_back({std::string(kHazardsFile), h.line, 1, "",
                       absl::StrCat("hazard '", h.id, "': test case '", name,
                                    "' fails, so the mitigation is not proven"),
                       issue_codes::kHazardTestFails});
      }
    }
  }
  return out;
}

}  // namespace reconnect::ruleset
