#include <set>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/decision/decision_engine.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;

constexpr char kUuidV7[] =
    "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

TEST(DecisionIdTest, IsAVersion7UuidCarryingTheTimeInMilliseconds) {
  const absl::Time at = absl::FromUnixMillis(0x0123456789AB);
  const absl::StatusOr<std::string> id = NewDecisionId(at);
  ASSERT_THAT(id, IsOk()) << id.status();
  EXPECT_THAT(*id, testing::MatchesRegex(kUuidV7));
  EXPECT_EQ(id->substr(0, 13), "01234567-89ab");
}

TEST(DecisionIdTest, LaterIdsSortLater) {
  const absl::Time t = absl::FromUnixMillis(1'790'000'000'000);
  std::string previous;
  for (int ms = 0; ms < 300; ++ms) {
    const absl::StatusOr<std::string> id =
        NewDecisionId(t + absl::Milliseconds(ms));
    ASSERT_THAT(id, IsOk()) << id.status();
    EXPECT_LT(previous, *id) << "at +" << ms << " ms";
    previous = *id;
  }
}

TEST(DecisionIdTest, IdsMadeInTheSameMillisecondDiffer) {
  const absl::Time t = absl::FromUnixMillis(1'790'000'000'000);
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    const absl::StatusOr<std::string> id = NewDecisionId(t);
    ASSERT_THAT(id, IsOk()) << id.status();
    EXPECT_THAT(*id, testing::MatchesRegex(kUuidV7));
    ids.insert(*id);
  }
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(DecisionIdTest, TheDefaultIsNow) {
  const absl::Time before = absl::Now();
  const absl::StatusOr<std::string> id = NewDecisionId();
  const absl::Time after = absl::Now();
  ASSERT_THAT(id, IsOk()) << id.status();
  const std::string lower =
      *NewDecisionId(absl::FromUnixMillis(absl::ToUnixMillis(before)));
  const std::string upper =
      *NewDecisionId(absl::FromUnixMillis(absl::ToUnixMillis(after)));
  EXPECT_GE(id->substr(0, 13), lower.substr(0, 13));
  EXPECT_LE(id->substr(0, 13), upper.substr(0, 13));
}

}  // namespace
}  // namespace reconnect::service
