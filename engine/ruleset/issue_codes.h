#ifndef RECONNECT_ENGINE_RULESET_ISSUE_CODES_H_
#define RECONNECT_ENGINE_RULESET_ISSUE_CODES_H_

// The stable codes of the problems a rule set can have (RuleSetIssue::code).
// A code names a kind of problem, never changes its meaning, and is never
// reused: tools and reviewers may key on it. The README lists them all.

#include <vector>

namespace reconnect::ruleset::issue_codes {

// RS1xx: the files and their structure.
inline constexpr char kUnreadable[] = "RS101";
inline constexpr char kInvalidJson[] = "RS102";
inline constexpr char kUnknownKey[] = "RS103";
inline constexpr char kMissingOrWrongShape[] = "RS104";
inline constexpr char kBadName[] = "RS105";
inline constexpr char kDuplicate[] = "RS106";
inline constexpr char kRuleDoesNothing[] = "RS107";

// RS2xx: expressions, types and values.
inline constexpr char kExpression[] = "RS201";
inline constexpr char kWrongType[] = "RS202";
inline constexpr char kDefCycle[] = "RS203";
inline constexpr char kParamValue[] = "RS204";
inline constexpr char kRationale[] = "RS205";
inline constexpr char kInputType[] = "RS206";

// RS3xx: references to the catalog.
inline constexpr char kUnknownCode[] = "RS301";
inline constexpr char kUnknownCatalogReference[] = "RS302";
inline constexpr char kNoDiscipline[] = "RS303";
inline constexpr char kBadEnumValue[] = "RS304";
// A warning: a rule recommends a prompt without any technique it belongs
// to, or a prompt that belongs to no technique and is not standalone.
inline constexpr char kPromptWithoutTechnique[] = "RS305";

// A warning: the rule set, or a rule, is past its review date.
inline constexpr char kPastReview[] = "RS501";

// RS6xx: the hazard log (hazards.json).
// A hazard's severity or likelihood is not in the risk matrix, or the
// matrix is malformed.
inline constexpr char kHazardRating[] = "RS601";
// A hazard names a mitigating rule the rule set does not have.
inline constexpr char kHazardRule[] = "RS602";
// A hazard names no test case, or one no test file holds.
inline constexpr char kHazardTest[] = "RS603";
// A test case a hazard names as proof of its mitigation fails.
inline constexpr char kHazardTestFails[] = "RS604";
// A rule that recommends a critical alert or suppresses with "*" mitigates
// no hazard.
inline constexpr char kUnloggedSafetyRule[] = "RS605";

// RS7xx: sign-off (signatures.json, checked by the service's tools).
// signatures.json is malformed, a signature covers another digest, or the
// signers and the approvers in ruleset.json differ.
inline constexpr char kSignOff[] = "RS701";

// RS4xx: the rule set's own test cases.
inline constexpr char kBadTestCase[] = "RS401";
inline constexpr char kNoTestCases[] = "RS402";

// RS9xx: what tools are given besides a rule set.
inline constexpr char kBadCanonicalContent[] = "RS901";
inline constexpr char kBadToolInput[] = "RS902";

struct IssueCodeInfo {
  const char* code;
  const char* meaning;
};

// Every code, in order, with what it means.
const std::vector<IssueCodeInfo>& AllIssueCodes();

}  // namespace reconnect::ruleset::issue_codes

#endif  // RECONNECT_ENGINE_RULESET_ISSUE_CODES_H_
