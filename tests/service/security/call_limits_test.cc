#include "service/security/call_limits.h"

#include <atomic>
#include <optional>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::StatusIs;

TEST(CallLimitsTest, AdmitsUpToTheMaximumAndShedsBeyond) {
  CallLimits limits({.max_concurrent_calls = 3});
  std::vector<CallSlot> held;
  for (int i = 0; i < 3; ++i) {
    std::optional<CallSlot> slot = limits.Admit("Test");
    ASSERT_TRUE(slot.has_value()) << i;
    held.push_back(*std::move(slot));
  }
  EXPECT_FALSE(limits.Admit("Test").has_value());
  EXPECT_FALSE(limits.Admit("Test").has_value());
  held.pop_back();  // a call finishes: its place is free again
  std::optional<CallSlot> again = limits.Admit("Test");
  EXPECT_TRUE(again.has_value());
  EXPECT_FALSE(limits.Admit("Test").has_value());
}

TEST(CallLimitsTest, AMovedSlotIsGivenBackOnce) {
  CallLimits limits({.max_concurrent_calls = 1});
  {
    std::optional<CallSlot> slot = limits.Admit("Test");
    ASSERT_TRUE(slot.has_value());
    CallSlot moved(*std::move(slot));
    slot.reset();  // the moved-from slot gives nothing back
    EXPECT_FALSE(limits.Admit("Test").has_value());
  }
  EXPECT_TRUE(limits.Admit("Test").has_value());
}

TEST(CallLimitsTest, ShedCallsAreToldToBackOff) {
  EXPECT_THAT(Shed(), StatusIs(absl::StatusCode::kResourceExhausted,
                               testing::HasSubstr("retry with backoff")));
}

TEST(CallLimitsTest, ScheduledExpiryRunsAtItsDeadlineUnlessCancelled) {
  CallLimits limits({});
  absl::Notification expired;
  std::atomic<bool> cancelled_ran{false};
  const absl::Time start = absl::Now();
  const uint64_t cancelled = limits.Schedule(start + absl::Milliseconds(50),
                                             [&] { cancelled_ran = true; });
  limits.Schedule(start + absl::Milliseconds(100), [&] { expired.Notify(); });
  EXPECT_TRUE(limits.Cancel(cancelled));
  ASSERT_TRUE(expired.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_FALSE(cancelled_ran.load());
  EXPECT_FALSE(limits.Cancel(cancelled)) << "once only";
}

}  // namespace
}  // namespace reconnect::service
