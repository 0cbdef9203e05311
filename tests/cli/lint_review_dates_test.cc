// `reconnect lint` and review dates: a rule past its date is a warning,
// judged by the day RECONNECT_TODAY fixes.

#include <stdlib.h>

#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cli.h"

namespace reconnect {
namespace {

using ::testing::HasSubstr;

// Fixes the day review dates are judged by, for one test.
class FixedToday {
 public:
  explicit FixedToday(const char* day) { setenv("RECONNECT_TODAY", day, 1); }
  ~FixedToday() { unsetenv("RECONNECT_TODAY"); }
};

// `reconnect lint` on rule set 1.1.0: its exit code and output.
std::pair<int, std::string> Lint() {
  return testing_util::RunReconnect(
      absl::StrCat("lint ", RECONNECT_SOURCE_DIR, "/rules/reconnect/1.1.0"));
}

// A rule past its review date is a warning, never a refusal: the version
// still serves. Its own date counts, or else the rule set's.
TEST(LintReviewDatesTest, WarnsAboutReviewDatesThatHavePassed) {
  {
    FixedToday today("2027-06-02");
    const auto [code, out] = Lint();
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr(", 4 warning(s)\n"));
    for (const char* rule :
         {"safety.red_flags_cleared", "safety.pregnancy",
          "safety.trauma_graded_touch", "safety.trauma_sensate_focus"}) {
      const std::regex warning(
          "/rules/reconnect/1\\.1\\.0/rules/safety\\.json:[0-9]+:1: rule '" +
          std::regex_replace(rule, std::regex("\\."), "\\.") +
          "': due for clinical review by 2027-06-01 \\[RS501\\] "
          "\\(warning\\)\n");
      EXPECT_TRUE(std::regex_search(out, warning)) << rule << "\n" << out;
    }
  }
  {
    // Past the version's own date: it, and every rule, are overdue.
    FixedToday today("2027-12-02");
    const auto [code, out] = Lint();
    EXPECT_EQ(code, 0) << out;
    EXPECT_THAT(out, HasSubstr(", 37 warning(s)\n"));
    EXPECT_THAT(out, HasSubstr("/rules/reconnect/1.1.0/ruleset.json: the rule "
                               "set was due for clinical review by "
                               "2027-12-01; it still serves, but its review "
                               "is overdue [RS501] (warning)"));
    EXPECT_THAT(out,
                HasSubstr("rule 'consent.declined': due for clinical review "
                          "by 2027-12-01 (the rule set's date) [RS501]"));
  }
  {
    FixedToday today("tomorrow");
    const auto [code, out] = Lint();
    EXPECT_EQ(code, 2) << out;
    EXPECT_THAT(out, HasSubstr("RECONNECT_TODAY='tomorrow' is not a date "
                               "such as 2027-12-01"));
  }
}

}  // namespace
}  // namespace reconnect
