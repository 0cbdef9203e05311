// The daily counts the audit store keeps beside the trail: decisions per day,
// rule set and calling system, and rule fires and holds per day, written in
// the same transaction as the decisions, counted from the stored
// recommendations when an older store is migrated, and read back without
// reading the decisions; and feedback per day, rule, outcome and reason.

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"
#include "service/audit/audit_store.h"
#include "service/audit/rule_outcomes.h"
#include "tests/testing/audit_store_fixture.h"
#include "tests/testing/examples.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using testing::Contains;
using testing::ElementsAre;
using testing::Pair;
using testing_util::IsOk;

constexpr int64_t kDay = 86'400'000'000;
constexpr int64_t kFirstDay = 19'700;  // 2023-12-09

// The recommendation the bundled rule set makes for examples/NAME.
v1::Recommendation Plan(const std::string& name) {
  v1::EvaluateRequest request = testing_util::ExampleRequest(name, "test");
  v1::Recommendation plan;
  testing_util::Bundled().Evaluate(request.assessment(), plan);
  return plan;
}

TEST(RuleOutcomesTest, ARedFlagFiresAndHoldsTheRulesBelowIt) {
  const RuleOutcomes outcomes = OutcomesOf(Plan("red-flag-bleeding.json"));
  EXPECT_THAT(outcomes.fired, Contains("safety.red_flag"));
  EXPECT_THAT(outcomes.held, Contains(Pair(testing::_, "safety.red_flag")));
  for (const auto& [rule, holder] : outcomes.held) {
    // A held rule fired: its condition was true.
    EXPECT_THAT(outcomes.fired, Contains(rule));
    EXPECT_NE(rule, holder);
  }
  EXPECT_TRUE(std::is_sorted(outcomes.fired.begin(), outcomes.fired.end()));
  EXPECT_TRUE(OutcomesOf(v1::Recommendation()).fired.empty());
}

class DailyCountsTest : public testing_util::AuditStoreTest {
 protected:
  DecisionRecord Decision(int i, int day, const std::string& system,
                          const std::string& example) {
    DecisionRecord r = Record(i);
    r.time_micros = (kFirstDay + day) * kDay + i;
    r.calling_system = system;
    const v1::Recommendation plan = Plan(example);
    r.recommendation = plan.SerializeAsString();
    r.outcomes = OutcomesOf(plan);
    return r;
  }

  // day -> count, summed over rule sets and systems.
  std::map<std::tuple<int64_t, std::string>, int64_t> Decisions() {
    auto reader = AuditReader::Open(path_);
    EXPECT_THAT(reader, IsOk());
    std::map<std::tuple<int64_t, std::string>, int64_t> out;
    auto counts = (*reader)->ListDecisionCounts(kFirstDay - 10, kFirstDay + 10);
    EXPECT_THAT(counts, IsOk());
    for (const DecisionDayCount& c : *counts) {
      EXPECT_EQ(c.rule_set_digest, testing_util::Bundled().digest());
      out[{c.day - kFirstDay, c.calling_system}] += c.count;
    }
    return out;
  }

  // (day, rule, holder) -> count.
  std::map<std::tuple<int64_t, std::string, std::string>, int64_t> Rules() {
    auto reader = AuditReader::Open(path_);
    EXPECT_THAT(reader, IsOk());
    std::map<std::tuple<int64_t, std::string, std::string>, int64_t> out;
    auto counts = (*reader)->ListRuleCounts(kFirstDay - 10, kFirstDay + 10);
    EXPECT_THAT(counts, IsOk());
    for (const RuleDayCount& c : *counts) {
      out[{c.day - kFirstDay, c.rule_id, c.holder}] += c.count;
    }
    return out;
  }
};

TEST_F(DailyCountsTest, DecisionsAndRulesAreCountedPerDay) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    // Concurrent appends share transactions: the counts add up across them.
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 10; ++i) {
          const int n = t * 10 + i;
          EXPECT_THAT(AppendAndWait(
                          *store, Decision(n, n % 2, t < 2 ? "east" : "west",
                                           n % 3 == 0 ? "red-flag-bleeding.json"
                                                      : "no-partner.json")),
                      IsOk());
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(Decisions(), (std::map<std::tuple<int64_t, std::string>, int64_t>{
                             {{0, "east"}, 10},
                             {{1, "east"}, 10},
                             {{0, "west"}, 10},
                             {{1, "west"}, 10}}));
  // Of 40 decisions, n % 3 == 0 (14 of them: 7 on each day) had a red flag.
  const auto rules = Rules();
  EXPECT_EQ(rules.at({0, "safety.red_flag", ""}), 7);
  EXPECT_EQ(rules.at({1, "safety.red_flag", ""}), 7);
  int64_t held = 0;
  for (const auto& [key, n] : rules) {
    if (std::get<2>(key) == "safety.red_flag") held += n;
  }
  const RuleOutcomes red = OutcomesOf(Plan("red-flag-bleeding.json"));
  EXPECT_EQ(held, 14 * static_cast<int64_t>(red.held.size()));
  // Outside the period: nothing.
  auto reader = AuditReader::Open(path_);
  ASSERT_THAT(reader, IsOk());
  auto none = (*reader)->ListRuleCounts(kFirstDay + 2, kFirstDay + 30);
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
}

TEST_F(DailyCountsTest, AVersion5StoreIsCountedFromItsDecisionsWhenMigrated) {
  pack_ = false;  // as version 5 held them
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 6; ++i) {
      ASSERT_THAT(
          AppendAndWait(*store, Decision(i, i / 3, "east",
                                         i % 2 == 0 ? "red-flag-bleeding.json"
                                                    : "no-partner.json")),
          IsOk());
    }
  }
  const auto decisions = Decisions();
  const auto rules = Rules();
  ASSERT_FALSE(rules.empty());
  Tamper(
      "DROP TABLE decision_daily; DROP TABLE rule_daily;"
      "DROP TABLE feedback_daily; DROP INDEX feedback_by_time;"
      "DROP TABLE rule_set_events; DROP TABLE rule_set_signatures;"
      "ALTER TABLE decisions DROP COLUMN packing;"
      "PRAGMA user_version = 5;");
  {
    auto reader = AuditReader::Open(path_);
    ASSERT_THAT(reader, IsOk());
    auto old = (*reader)->ListRuleCounts(0, kFirstDay + 10);
    EXPECT_EQ(old.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(old.status().message()),
                testing::HasSubstr("migrates it"));
  }
  { ASSERT_NE(Open(), nullptr); }  // migrates
  EXPECT_EQ(Decisions(), decisions);
  EXPECT_EQ(Rules(), rules);
  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
}

// A write that fails leaves no count behind: the counts are in the
// decisions' transaction.
TEST_F(DailyCountsTest, AFailedWriteCountsNothing) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(
        AppendAndWait(*store, Decision(1, 0, "east", "no-partner.json")),
        IsOk());
    // Cap the file at its current size: the next write finds the disk full.
    store->SetMaxPageCount(PageCount());
    DecisionRecord big = Decision(2, 0, "east", "no-partner.json");
    big.assessment = Incompressible(256 * 1024);
    EXPECT_FALSE(AppendAndWait(*store, big).ok());
  }
  EXPECT_EQ(
      Decisions(),
      (std::map<std::tuple<int64_t, std::string>, int64_t>{{{0, "east"}, 1}}));
}

// Feedback on an item of decision `decision`, received on `day`.
FeedbackRecord ItemFeedback(int n, int day, int decision,
                            std::vector<std::string> rules,
                            const std::string& outcome,
                            const std::string& reason = "") {
  FeedbackRecord f;
  f.time_micros = (kFirstDay + day) * kDay + n;
  f.caller = "jwt:mdt-lead";
  f.service = "mdt";
  f.card_uuid = absl::StrCat("00000000-0000-5000-8000-0000000000", 10 + n);
  f.outcome = outcome;
  f.outcome_time = absl::StrCat("2023-12-09T10:00:0", n, "Z");
  f.override_reason = reason;
  f.decision_id = absl::StrCat("decision-", decision);
  f.card_item = "technique/T";
  f.rule_ids = std::move(rules);
  return f;
}

class FeedbackCountsTest : public DailyCountsTest {
 protected:
  // (day, rule, outcome, reason) -> count, and each reason's display.
  std::map<std::tuple<int64_t, std::string, std::string, std::string>, int64_t>
  Counts(std::map<std::string, std::string>* displays = nullptr) {
    auto reader = AuditReader::Open(path_);
    EXPECT_THAT(reader, IsOk());
    std::map<std::tuple<int64_t, std::string, std::string, std::string>,
             int64_t>
        out;
    auto counts = (*reader)->ListFeedbackCounts(kFirstDay - 10, kFirstDay + 10);
    EXPECT_THAT(counts, IsOk()) << counts.status();
    if (!counts.ok()) return out;
    for (const FeedbackDayCount& c : *counts) {
      EXPECT_EQ(c.rule_set_digest, testing_util::Bundled().digest());
      out[{c.day - kFirstDay, c.rule_id, c.outcome, c.reason}] += c.count;
      if (displays != nullptr) (*displays)[c.reason] = c.display;
    }
    return out;
  }

  void Fill() {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 2; ++i) {
      ASSERT_THAT(
          AppendAndWait(*store, Decision(i, i, "east", "no-partner.json")),
          IsOk());
    }
    const std::string declined =
        R"({"reason":{"system":"http://terminology.hl7.org/CodeSystem/)"
        R"(reasonNotTaken","code":"PATOBJ","display":"Patient objection"},)"
        R"("userComment":"Not ready yet"})";
    ASSERT_THAT(
        AppendFeedbackAndWait(
            *store, {ItemFeedback(1, 0, 0, {"a", "b"}, "overridden", declined),
                     ItemFeedback(2, 0, 0, {"a"}, "accepted")})
            .status,
        IsOk());
    ASSERT_THAT(
        AppendFeedbackAndWait(
            *store, {ItemFeedback(3, 1, 1, {"b"}, "overridden", "not json"),
                     ItemFeedback(4, 1, 1, {"a"}, "modified",
                                  R"({"modification":"weekly"})")})
            .status,
        IsOk());
  }
};

TEST_F(FeedbackCountsTest, FeedbackIsCountedPerRuleOutcomeAndReason) {
  Fill();
  std::map<std::string, std::string> displays;
  EXPECT_EQ(
      Counts(&displays),
      (std::map<std::tuple<int64_t, std::string, std::string, std::string>,
                int64_t>{
          {{0, "a", "overridden", "PATOBJ"}, 1},
          {{0, "b", "overridden", "PATOBJ"}, 1},
          {{0, "*", "overridden", "PATOBJ"}, 1},
          {{0, "a", "accepted", ""}, 1},
          {{0, "*", "accepted", ""}, 1},
          // A reason that is not JSON counts as none.
          {{1, "b", "overridden", ""}, 1},
          {{1, "*", "overridden", ""}, 1},
          {{1, "a", "modified", ""}, 1},
          {{1, "*", "modified", ""}, 1},
      }));
  EXPECT_EQ(displays["PATOBJ"], "Patient objection");

  // The period's comments, newest first, by the time index.
  auto reader = AuditReader::Open(path_);
  ASSERT_THAT(reader, IsOk());
  FeedbackQuery query;
  query.start_micros = kFirstDay * kDay;
  query.end_micros = (kFirstDay + 2) * kDay;
  query.with_comment = true;
  query.newest_first = true;
  auto commented = (*reader)->ListFeedback(query);
  ASSERT_THAT(commented, IsOk());
  ASSERT_EQ(commented->size(), 1u);
  EXPECT_EQ((*commented)[0].card_uuid, "00000000-0000-5000-8000-000000000011");
  query.with_comment = false;
  auto all = (*reader)->ListFeedback(query);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_GT((*all)[0].sequence, (*all)[3].sequence);
  query.start_micros = (kFirstDay + 1) * kDay;
  auto second_day = (*reader)->ListFeedback(query);
  ASSERT_THAT(second_day, IsOk());
  EXPECT_EQ(second_day->size(), 2u);
}

TEST_F(FeedbackCountsTest, AVersion6StoreIsCountedFromItsFeedbackWhenMigrated) {
  pack_ = false;  // as version 6 held them
  Fill();
  const auto counts = Counts();
  ASSERT_FALSE(counts.empty());
  Tamper(
      "DROP TABLE feedback_daily; DROP INDEX feedback_by_time;"
      "DROP TABLE rule_set_events; DROP TABLE rule_set_signatures;"
      "ALTER TABLE decisions DROP COLUMN packing;"
      "PRAGMA user_version = 6;");
  {
    auto reader = AuditReader::Open(path_);
    ASSERT_THAT(reader, IsOk());
    auto old = (*reader)->ListFeedbackCounts(0, kFirstDay + 10);
    EXPECT_EQ(old.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(old.status().message()),
                testing::HasSubstr("schema version 6"));
    // Listing by period still works there, without the index.
    FeedbackQuery query;
    query.start_micros = kFirstDay * kDay;
    auto listed = (*reader)->ListFeedback(query);
    ASSERT_THAT(listed, IsOk());
    EXPECT_EQ(listed->size(), 4u);
  }
  { ASSERT_NE(Open(), nullptr); }  // migrates
  EXPECT_EQ(Counts(), counts);
  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
}

}  // namespace
}  // namespace reconnect::service
