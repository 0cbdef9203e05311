// CallArena: a call's arena whose first block is the thread's own, reused
// from call to call, and the heap's for a second arena alive at once.

#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.pb.h"
#include "service/api/decision_support_service.h"

namespace reconnect::service {
namespace {

// Fills `arena` with a response of `n` reasons, each a long string (on the
// heap, as an arena's std::string keeps its characters), and checks it.
void FillAndCheck(google::protobuf::Arena* arena, int n,
                  const std::string& tag) {
  auto* r = google::protobuf::Arena::CreateMessage<v1::EvaluateResponse>(arena);
  ASSERT_EQ(r->GetArena(), arena);
  for (int i = 0; i < n; ++i) {
    auto* reason = r->mutable_recommendation()->add_evaluation_issues();
    reason->set_rule_id(tag + std::to_string(i));
    reason->set_message(std::string(100, 'a' + static_cast<char>(i % 26)));
  }
  ASSERT_EQ(r->recommendation().evaluation_issues_size(), n);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(r->recommendation().evaluation_issues(i).rule_id(),
              tag + std::to_string(i));
    EXPECT_EQ(r->recommendation().evaluation_issues(i).message(),
              std::string(100, 'a' + static_cast<char>(i % 26)));
  }
}

TEST(CallArenaTest, ThreadBlockIsReusedAndNestedArenasDoNotShareIt) {
  // Call after call on one thread, each reusing the thread's block.
  for (int call = 0; call < 3; ++call) {
    CallArena arena;
    FillAndCheck(arena.get(), 10, "small");
    EXPECT_GT(arena.get()->SpaceUsed(), 0u);
  }
  // Two arenas at once on one thread: each its own memory; what one holds
  // survives the other's end.
  CallArena outer;
  auto* kept =
      google::protobuf::Arena::CreateMessage<v1::EvaluateResponse>(outer.get());
  kept->mutable_recommendation()->set_summary("outer");
  {
    CallArena inner;
    FillAndCheck(inner.get(), 200, "inner");  // beyond one block
    auto* other = google::protobuf::Arena::CreateMessage<v1::EvaluateResponse>(
        inner.get());
    other->mutable_recommendation()->set_summary("inner");
    EXPECT_EQ(kept->recommendation().summary(), "outer");
  }
  FillAndCheck(outer.get(), 200, "outer");
  EXPECT_EQ(kept->recommendation().summary(), "outer");
}

TEST(CallArenaTest, EachThreadHasItsOwnBlock) {
  std::thread a([] {
    for (int i = 0; i < 100; ++i) {
      CallArena arena;
      FillAndCheck(arena.get(), 50, "a");
    }
  });
  std::thread b([] {
    for (int i = 0; i < 100; ++i) {
      CallArena arena;
      FillAndCheck(arena.get(), 50, "b");
    }
  });
  a.join();
  b.join();
}

}  // namespace
}  // namespace reconnect::service
