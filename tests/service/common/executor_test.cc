#include "service/common/executor.h"

#include <atomic>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace reconnect::service {
namespace {

using ::testing::ElementsAre;

// Waits for `n` to be notified, for at most 10 s; the tests wait on events,
// never on fixed sleeps.
bool Await(absl::Notification& n) {
  return n.WaitForNotificationWithTimeout(absl::Seconds(10));
}

TEST(ExecutorTest, OneThreadRunsPostedWorkInOrder) {
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification done;
  {
    Executor executor("test", 1);
    for (int i = 0; i < 100; ++i) {
      executor.Post([&, i] {
        absl::MutexLock lock(&mu);
        order.push_back(i);
        if (i == 99) done.Notify();
      });
    }
    ASSERT_TRUE(Await(done));
  }
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(ExecutorTest, DestructionRunsWhatWasPostedButDropsTimedWork) {
  std::atomic<int> ran{0};
  std::atomic<bool> timed_ran{false};
  {
    Executor executor("test", 1);
    absl::Notification release;
    executor.Post([&] { release.WaitForNotification(); });
    for (int i = 0; i < 10; ++i) executor.Post([&] { ++ran; });
    executor.PostAt(absl::Now() + absl::Hours(1), [&] { timed_ran = true; });
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 10);
  EXPECT_FALSE(timed_ran.load());
}

TEST(ExecutorTest, TimedWorkRunsAtItsTimeInTimeOrder) {
  Executor executor("test", 1);
  absl::Mutex mu;
  std::vector<std::string> order;
  absl::Notification done;
  const absl::Time start = absl::Now();
  absl::Time early_ran, late_ran;
  // Posted latest first: the earlier one must still run at its own time,
  // not when the thread wakes for the later one, which needs the sleeping
  // thread to notice an earlier time.
  executor.PostAt(start + absl::Seconds(2), [&] {
    absl::MutexLock lock(&mu);
    order.push_back("late");
    late_ran = absl::Now();
    done.Notify();
  });
  executor.PostAt(start + absl::Milliseconds(50), [&] {
    absl::MutexLock lock(&mu);
    order.push_back("early");
    early_ran = absl::Now();
  });
  ASSERT_TRUE(Await(done));
  absl::MutexLock lock(&mu);
  EXPECT_THAT(order, ElementsAre("early", "late"));
  EXPECT_GE(early_ran - start, absl::Milliseconds(50));
  EXPECT_LT(early_ran - start, absl::Seconds(1));
  EXPECT_GE(late_ran - start, absl::Seconds(2));
}

TEST(ExecutorTest, CancelledWorkNeverRuns) {
  Executor executor("test", 1);
  std::atomic<bool> cancelled_ran{false};
  absl::Notification done;
  const uint64_t id = executor.PostAt(absl::Now() + absl::Milliseconds(50),
                                      [&] { cancelled_ran = true; });
  EXPECT_TRUE(executor.Cancel(id));
  EXPECT_FALSE(executor.Cancel(id));  // once only
  executor.PostAt(absl::Now() + absl::Milliseconds(150),
                  [&] { done.Notify(); });
  ASSERT_TRUE(Await(done));
  EXPECT_FALSE(cancelled_ran.load());
}

TEST(ExecutorTest, CancelIsFalseOnceTheWorkHasStarted) {
  Executor executor("test", 1);
  absl::Notification started, release, finished;
  const uint64_t id = executor.PostAt(absl::Now(), [&] {
    started.Notify();
    release.WaitForNotification();
    finished.Notify();
  });
  ASSERT_TRUE(Await(started));
  EXPECT_FALSE(executor.Cancel(id));
  release.Notify();
  ASSERT_TRUE(Await(finished));
}

TEST(ExecutorTest, SeveralThreadsRunWorkSideBySide) {
  // Two pieces of work that each wait for the other can only both finish
  // on two threads.
  Executor executor("test", 2);
  absl::Notification a, b, both;
  std::atomic<int> finished{0};
  executor.Post([&] {
    a.Notify();
    if (Await(b) && ++finished == 2) both.Notify();
  });
  executor.Post([&] {
    b.Notify();
    if (Await(a) && ++finished == 2) both.Notify();
  });
  ASSERT_TRUE(Await(both));
}

TEST(ExecutorTest, TimedWorkDoesNotWaitBehindIdleness) {
  // Posted to an idle executor whose thread is asleep with nothing due.
  Executor executor("test", 1);
  absl::Notification done;
  executor.PostAt(absl::Now() + absl::Milliseconds(20), [&] { done.Notify(); });
  ASSERT_TRUE(Await(done));
}

}  // namespace
}  // namespace reconnect::service
