#ifndef RECONNECT_SERVICE_WEB_RULES_IN_PRACTICE_PAGE_H_
#define RECONNECT_SERVICE_WEB_RULES_IN_PRACTICE_PAGE_H_

// Governance: how each rule of each rule-set version behaved over a period,
// from the audit store's daily counts: decisions per day, and per rule how
// often it fired and how often (and by which rule) it was held back; the
// rules that never fired; and how clinicians answered what each rule gave
// (accepted, modified, overridden: CDS Hooks and MDT feedback alike), with
// the reasons given and, for the auditor role, the comments. As a page with
// charts, and as CSV.

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "service/audit/audit_store.h"
#include "service/web/html.h"

namespace reconnect::service::web {

// A comment sent with feedback. Comments may hold patient words: they are
// read from the store only for the auditor role.
struct FeedbackComment {
  std::string day;  // YYYY-MM-DD it was received
  std::string outcome;
  std::string decision_id;
  std::string text;
};

struct RuleInPractice {
  std::string rule_id;
  std::string title;  // empty when the version's rules are not known
  int64_t fired = 0;
  int64_t held = 0;  // decisions in which it was held back, by any rule
  std::vector<std::pair<std::string, int64_t>> held_by;  // by count, desc
  // Feedback received in the period on cards and items this rule was behind.
  int64_t accepted = 0, modified = 0, overridden = 0;
  // Override reasons (display text, else code) by count, desc.
  std::vector<std::pair<std::string, int64_t>> reasons;
  std::vector<FeedbackComment> comments;  // newest first, at most 3
};

struct VersionInPractice {
  std::string digest;
  std::string id;  // empty when the store does not name it
  std::string version;
  int64_t decisions = 0;
  // Every rule of the version, in its order, when the version could be
  // loaded or rebuilt; else only the rules counted.
  std::vector<RuleInPractice> rules;
  bool all_rules_known = false;
};

struct PracticeView {
  std::string from, to;  // YYYY-MM-DD, inclusive
  int64_t first_day = 0, last_day = 0;
  std::vector<int64_t> decisions_per_day;  // from first_day to last_day
  // Feedback received per day, from first_day to last_day: accepted,
  // modified, overridden.
  std::vector<std::array<int64_t, 3>> feedback_per_day;
  std::vector<VersionInPractice> versions;  // most decisions first
  bool comments_shown = false;              // the reader may see comments
  bool interactive = true;                  // the period form and the CSV link
};

// Fills `view.decisions_per_day`, `view.feedback_per_day` and
// `view.versions` (without titles or the rules that never fired: the caller
// adds what the versions hold).
void CountPractice(const std::vector<DecisionDayCount>& decisions,
                   const std::vector<RuleDayCount>& rules,
                   const std::vector<FeedbackDayCount>& feedback,
                   PracticeView& view);

// Adds the comments of `feedback` (newest first) to the rules they were on,
// at most three a rule.
void AddComments(const std::vector<FeedbackRecord>& feedback,
                 PracticeView& view);

// The page, and its parts (for the static report).
PageParts RulesInPracticeParts(const PracticeView& view);
std::string RulesInPracticePage(const PracticeView& view);
std::string RulesInPracticeCsv(const PracticeView& view);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_RULES_IN_PRACTICE_PAGE_H_
