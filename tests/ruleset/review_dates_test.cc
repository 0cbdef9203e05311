// Review dates: a rule's own, the rule set's as its default, which are past
// on a given day, and dates that are not dates.

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

class ReviewDatesTest : public ::testing::Test {
 protected:
  // The test rule set with review dates: the rule set's `set_date` (none
  // when empty), and rule r.high's own `rule_date`, with a second rule
  // that has none.
  void WriteDates(const std::string& set_date, const std::string& rule_date) {
    std::string metadata = temp_.Read("ruleset.json");
    if (!set_date.empty()) {
      metadata.replace(metadata.find("\"status\""), 0,
                       "\"review_by\": \"" + set_date + "\", ");
    }
    temp_.Write("ruleset.json", metadata);
    temp_.Write(
        "rules/main.json",
        R"({"rules": [
  {"id": "r.high", "title": "High", "when": "defs.high", "priority": 1,
   )" +
            (rule_date.empty() ? std::string()
                               : "\"review_by\": \"" + rule_date + "\",") +
            R"(
   "recommend": {"techniques": ["t1"], "prompts": ["p1"]},
   "rationale": "PCS high", "source": "test"},
  {"id": "r.always", "title": "Always", "when": "true",
   "recommend": {"prompts": ["p2"]}, "rationale": "Always", "source": "test"}
]})");
  }

  LoadResult Load() { return LoadRuleSet(temp_.dir()); }

  testing_util::TempRuleSet temp_;
};

TEST_F(ReviewDatesTest, ARuleTakesItsOwnDateOrElseTheRuleSets) {
  WriteDates("2027-12-01", "2027-06-01");
  const LoadResult loaded = Load();
  ASSERT_TRUE(loaded.issues.empty()) << loaded.issues[0].ToString();
  const CompiledRuleSet& rs = *loaded.rule_set;
  EXPECT_EQ(rs.rule_review_by(0), "2027-06-01");
  EXPECT_EQ(rs.rule_review_by(1), "2027-12-01");
  EXPECT_EQ(rs.rule_location(0),
            std::make_pair(std::string("rules/main.json"), 2));
  EXPECT_EQ(rs.rule_location(1).second, 6);
}

TEST_F(ReviewDatesTest, OnlyDatesBeforeTodayArePast) {
  WriteDates("2027-12-01", "2027-06-01");
  const LoadResult loaded = Load();
  ASSERT_TRUE(loaded.rule_set);
  const CompiledRuleSet& rs = *loaded.rule_set;
  // Due on the day itself is not yet past.
  EXPECT_THAT(ReviewsDue(rs, "2027-06-01"), IsEmpty());
  std::vector<RuleSetIssue> due = ReviewsDue(rs, "2027-06-02");
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].ToString(),
            "rules/main.json:2:1: rule 'r.high': due for clinical review by "
            "2027-06-01 [RS501]");
  due = ReviewsDue(rs, "2028-01-01");
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].ToString(),
            "ruleset.json: the rule set was due for clinical review by "
            "2027-12-01; it still serves, but its review is overdue [RS501]");
  EXPECT_EQ(due[1].rule_id, "r.high");
  EXPECT_EQ(due[2].ToString(),
            "rules/main.json:6:1: rule 'r.always': due for clinical review by "
            "2027-12-01 (the rule set's date) [RS501]");
  for (const RuleSetIssue& d : due) EXPECT_EQ(d.code, issue_codes::kPastReview);
}

TEST_F(ReviewDatesTest, WithoutDatesNothingIsEverDue) {
  WriteDates("", "");
  const LoadResult loaded = Load();
  ASSERT_TRUE(loaded.rule_set);
  EXPECT_EQ(loaded.rule_set->rule_review_by(0), "");
  EXPECT_THAT(ReviewsDue(*loaded.rule_set, "9999-12-31"), IsEmpty());
}

TEST_F(ReviewDatesTest, ADateThatIsNotADateIsRefusedWhereItIs) {
  WriteDates("", "next spring");
  const LoadResult loaded = Load();
  EXPECT_FALSE(loaded.rule_set);
  std::vector<std::string> issues;
  for (const auto& i : loaded.issues) issues.push_back(i.ToString());
  EXPECT_THAT(issues, ElementsAre(HasSubstr(
                          "rules/main.json:3:4: rule 'r.high': \"review_by\" "
                          "must be a date such as 2027-12-01 [RS105]")));
  WriteDates("2027-13-01", "");
  const LoadResult bad_set = Load();
  ASSERT_FALSE(bad_set.issues.empty());
  EXPECT_THAT(bad_set.issues[0].ToString(),
              HasSubstr("ruleset.json:2:50: \"review_by\" must be a date"));
}

}  // namespace
}  // namespace reconnect::ruleset
