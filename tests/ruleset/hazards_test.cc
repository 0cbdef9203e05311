// The hazard log (hazards.json): ratings from the declared risk matrix,
// the rules that mitigate each hazard, the test cases that prove it, and
// every fault a safety officer's log can have.

#include <string>

#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/rule_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_rule_set.h"

namespace reconnect::ruleset {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kMatrix[] = R"("risk_matrix": {
    "severities": ["minor", "major"],
    "likelihoods": ["low", "high"],
    "ratings": [[1, 3], [2, 5]]
  })";

// A hazard mitigated by `rule`, proven by `test`, rated `severity` and
// `likelihood`.
std::string HazardJson(const std::string& rule, const std::string& test,
                       const std::string& severity = "major",
                       const std::string& likelihood = "low") {
  return R"({"id": "HAZ-1", "title": "High PCS missed", "cause": "c",
     "effect": "e", "severity": ")" +
         severity + R"(", "likelihood": ")" + likelihood +
         R"(", "mitigated_by": [)" + (rule.empty() ? "" : "\"" + rule + "\"") +
         R"(], "tests": [)" + (test.empty() ? "" : "\"" + test + "\"") + "]}";
}

class HazardsTest : public ::testing::Test {
 protected:
  void WriteLog(const std::string& hazards,
                const std::string& matrix = kMatrix) {
    temp_.Write("hazards.json",
                "{" + matrix + ",\n  \"hazards\": [\n" + hazards + "\n]}");
  }
  // The issues of loading, as strings.
  std::vector<std::string> LoadIssues() {
    std::vector<std::string> out;
    for (const auto& i : LoadRuleSet(temp_.dir()).issues) {
      out.push_back(i.ToString());
    }
    return out;
  }
  // The proofs' issues, with the rule set's own test cases run.
  std::vector<std::string> ProofIssues() {
    const LoadResult loaded = LoadRuleSet(temp_.dir());
    EXPECT_TRUE(loaded.rule_set) << loaded.issues[0].ToString();
    std::vector<std::string> out;
    if (!loaded.rule_set) return out;
    const TestReport report = RunRuleSetTests(temp_.dir(), *loaded.rule_set);
    for (const auto& i : CheckHazardTests(*loaded.rule_set, report)) {
      out.push_back(i.ToString());
    }
    return out;
  }

  testing_util::TempRuleSet temp_;
};

TEST_F(HazardsTest, AHazardIsRatedOnTheDeclaredMatrixAndItsProofsHold) {
  WriteLog(HazardJson("r.high", "high"));
  const LoadResult loaded = LoadRuleSet(temp_.dir());
  ASSERT_TRUE(loaded.issues.empty()) << loaded.issues[0].ToString();
  ASSERT_NE(loaded.rule_set->hazards(), nullptr);
  ASSERT_EQ(loaded.rule_set->hazards()->size(), 1u);
  const Hazard& h = loaded.rule_set->hazards()->front();
  EXPECT_EQ(h.id, "HAZ-1");
  EXPECT_EQ(h.title, "High PCS missed");
  EXPECT_EQ(h.risk, 3);  // major (column 2), low (row 1)
  EXPECT_THAT(h.mitigated_by, ElementsAre("r.high"));
  EXPECT_EQ(h.line, 7);
  EXPECT_THAT(ProofIssues(), IsEmpty());
  // The log is under the digest, and survives the canonical form.
  const LoadResult replayed = LoadCanonicalRuleSet(
      loaded.rule_set->canonical_content(), loaded.rule_set->digest());
  ASSERT_TRUE(replayed.rule_set) << replayed.issues[0].ToString();
  ASSERT_NE(replayed.rule_set->hazards(), nullptr);
  EXPECT_EQ(replayed.rule_set->hazards()->front().risk, 3);
  WriteLog(HazardJson("r.high", "high", "major", "high"));
  EXPECT_EQ(LoadRuleSet(temp_.dir()).rule_set->hazards()->front().risk, 5);
  EXPECT_NE(LoadRuleSet(temp_.dir()).rule_set->digest(),
            loaded.rule_set->digest());
}

TEST_F(HazardsTest, WithoutALogThereIsNothingToCheck) {
  const LoadResult loaded = LoadRuleSet(temp_.dir());
  ASSERT_TRUE(loaded.rule_set);
  EXPECT_EQ(loaded.rule_set->hazards(), nullptr);
  // A1 is critical, but with no log there is no hazard to name.
  temp_.Write("rules/main.json", R"({"rules": [
  {"id": "r.high", "title": "High", "when": "defs.high",
   "recommend": {"alerts": ["a1"]}, "rationale": "x", "source": "test"}
]})");
  EXPECT_THAT(LoadIssues(), IsEmpty());
}

TEST_F(HazardsTest, AMitigatingRuleTheRuleSetLacksIsRefused) {
  WriteLog(HazardJson("r.missing", "high"));
  EXPECT_THAT(LoadIssues(),
              ElementsAre("hazards.json:8:80: hazard 'HAZ-1' is mitigated by "
                          "rule 'r.missing', which the rule set does not have "
                          "[RS602]"));
  WriteLog(HazardJson("", "high"));
  EXPECT_THAT(LoadIssues(), ElementsAre(AllOf(HasSubstr("names no rule"),
                                              HasSubstr("[RS602]"))));
}

TEST_F(HazardsTest, RatingsOutsideTheMatrixOrABadMatrixAreRefused) {
  WriteLog(HazardJson("r.high", "high", "dire", "low"));
  EXPECT_THAT(LoadIssues(),
              ElementsAre(HasSubstr("hazard 'HAZ-1': severity 'dire' is not "
                                    "one of the risk matrix's: minor, major "
                                    "[RS601]")));
  WriteLog(HazardJson("r.high", "high", "major", "often"));
  EXPECT_THAT(LoadIssues(),
              ElementsAre(HasSubstr("likelihood 'often' is not one of the "
                                    "risk matrix's: low, high [RS601]")));
  WriteLog(HazardJson("r.high", "high"), R"("risk_matrix": {
    "severities": ["minor", "major"], "likelihoods": ["low", "high"],
    "ratings": [[1, 3], [2]]})");
  EXPECT_THAT(LoadIssues(),
              ElementsAre(HasSubstr("each row of \"ratings\" must hold 2 "
                                    "whole-number ratings from 1 to 25")));
  WriteLog(HazardJson("r.high", "high"),
           R"("risk_matrix": {"severities": []})");
  EXPECT_THAT(LoadIssues(),
              ElementsAre(HasSubstr("\"risk_matrix\" needs \"severities\"")));
}

TEST_F(HazardsTest, EveryHazardNeedsAPassingTestCase) {
  WriteLog(HazardJson("r.high", ""));
  EXPECT_THAT(LoadIssues(),
              ElementsAre(HasSubstr("hazard 'HAZ-1' names no test case in "
                                    "\"tests\" to prove its mitigation "
                                    "[RS603]")));
  WriteLog(HazardJson("r.high", "no such case"));
  EXPECT_THAT(ProofIssues(),
              ElementsAre("hazards.json:7:1: hazard 'HAZ-1' names test case "
                          "'no such case', which no test file holds [RS603]"));
  // The case exists, but no longer passes.
  WriteLog(HazardJson("r.high", "high"));
  temp_.Write("tests/cases.json", R"({"cases": [
  {"name": "high", "assessment": {"scores": {"pcs_total": 31}}, "expect": {"techniques": ["t2"]}}
]})");
  EXPECT_THAT(ProofIssues(),
              ElementsAre("hazards.json:7:1: hazard 'HAZ-1': test case 'high' "
                          "fails, so the mitigation is not proven [RS604]"));
}

TEST_F(HazardsTest, ASafetyRuleThatMitigatesNoHazardIsRefused) {
  temp_.Write("rules/main.json", R"({"rules": [
  {"id": "r.high", "title": "High", "when": "defs.high", "priority": 1,
   "recommend": {"techniques": ["t1"], "prompts": ["p1"]},
   "rationale": "x", "source": "test"},
  {"id": "r.alert", "title": "Alert", "when": "defs.high",
   "recommend": {"alerts": ["a1"]}, "rationale": "x", "source": "test"},
  {"id": "r.hold", "title": "Hold", "when": "false",
   "suppress": {"techniques": ["*"]}, "rationale": "x", "source": "test"},
  {"id": "r.info", "title": "Info", "when": "false",
   "recommend": {"alerts": ["a2"]}, "rationale": "x", "source": "test"}
]})");
  WriteLog(HazardJson("r.high", "high"));
  EXPECT_THAT(
      LoadIssues(),
      ElementsAre("rules/main.json:5:1: rule 'r.alert': raises a critical "
                  "alert or suppresses \"*\", but mitigates no hazard in "
                  "hazards.json [RS605]",
                  "rules/main.json:7:1: rule 'r.hold': raises a critical "
                  "alert or suppresses \"*\", but mitigates no hazard in "
                  "hazards.json [RS605]"));
  WriteLog(HazardJson("r.high", "high") + "," +
           R"({"id": "HAZ-2", "title": "t", "cause": "c", "effect": "e",
     "severity": "minor", "likelihood": "low",
     "mitigated_by": ["r.alert", "r.hold"], "tests": ["high"]})");
  EXPECT_THAT(LoadIssues(), IsEmpty());
}

}  // namespace
}  // namespace reconnect::ruleset
