// `reconnect hazards`: the bundled rule set's hazard log as a safety
// officer files it, with each proof's status; and a version without one.

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cli.h"

namespace reconnect {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HazardsCliTest, PrintsTheLogWithEveryProofPassing) {
  const auto [code, out] = testing_util::RunReconnect(
      absl::StrCat("hazards ", RECONNECT_SOURCE_DIR, "/rules/reconnect/1.1.0"));
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("HAZ-001  Suicide risk missed\n"));
  EXPECT_THAT(out, HasSubstr("  severity:     catastrophic\n"
                             "  likelihood:   very_low\n"
                             "  risk rating:  3\n"
                             "  mitigated by: safety.self_harm_risk\n"
                             "  PASS  self-harm thoughts: urgent risk "
                             "assessment before anything else\n"));
  EXPECT_THAT(out, HasSubstr("  mitigated by: consent.not_asked, "
                             "consent.unsure, consent.declined\n"));
  EXPECT_THAT(out, HasSubstr("6 hazard(s), 0 proof(s) not holding\n"));
  EXPECT_THAT(out, Not(HasSubstr("FAIL")));
  EXPECT_THAT(out, Not(HasSubstr("MISSING")));
}

TEST(HazardsCliTest, AVersionWithoutALogFails) {
  const auto [code, out] = testing_util::RunReconnect(
      absl::StrCat("hazards ", RECONNECT_SOURCE_DIR, "/rules/reconnect"));
  EXPECT_EQ(code, 1) << out;
  // 1.0.5 predates the log; 1.1.0 has one.
  EXPECT_THAT(out, HasSubstr("/rules/reconnect/1.0.5: reconnect 1.0.5"));
  EXPECT_THAT(out, HasSubstr("no hazard log (hazards.json)\n"));
  EXPECT_THAT(out, HasSubstr("6 hazard(s), 0 proof(s) not holding\n"));
}

}  // namespace
}  // namespace reconnect
