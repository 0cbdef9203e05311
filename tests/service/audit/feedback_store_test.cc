// Feedback on CDS Hooks cards in the audit store: checked against the cards
// a decision was answered with, stored all or nothing, once per
// interaction, in a chain of its own that `audit verify` checks.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/audit/audit_store.h"
#include "service/audit/chain.h"
#include "tests/testing/audit_store_fixture.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::AuditStoreTest;
using testing_util::Bundled;

constexpr char kService[] = "reconnect-patient-view";

FeedbackRecord Entry(const std::string& card, const std::string& outcome,
                     const std::string& when = "2026-12-01T10:00:00Z") {
  FeedbackRecord f;
  f.time_micros = 1'800'000'000'000'000;
  f.caller = "cds:https://ehr.example.org";
  f.service = kService;
  f.card_uuid = card;
  f.outcome = outcome;
  f.outcome_time = when;
  return f;
}

class FeedbackStoreTest : public AuditStoreTest {
 protected:
  // Decision `i` with a plan card and a gaps card with two suggestions.
  static DecisionRecord WithCards(int i) {
    DecisionRecord r = Record(i);
    const std::string n = absl::StrCat(i);
    r.cards = {{"00000000-0000-5000-8000-00000000000" + n,
                kService,
                "plan",
                {"rule-a", "rule-b"},
                {}},
               {"00000000-0000-5000-8000-00000000010" + n,
                kService,
                "gaps",
                {"rule-gap"},
                {"00000000-0000-5000-8000-00000000020" + n,
                 "00000000-0000-5000-8000-00000000030" + n}}};
    return r;
  }

  // Two decisions with cards, and a store open on them.
  void SetUp() override {
    AuditStoreTest::SetUp();
    store_ = Open();
    ASSERT_NE(store_, nullptr);
    ASSERT_THAT(AppendAndWait(*store_, WithCards(1)), IsOk());
    ASSERT_THAT(AppendAndWait(*store_, WithCards(2)), IsOk());
  }

  std::vector<FeedbackRecord> List(const FeedbackQuery& query) {
    auto reader = AuditReader::Open(path_);
    EXPECT_THAT(reader, IsOk());
    if (!reader.ok()) return {};
    auto listed = (*reader)->ListFeedback(query);
    EXPECT_THAT(listed, IsOk());
    return listed.ok() ? *listed : std::vector<FeedbackRecord>{};
  }

  std::unique_ptr<testing_util::SqliteAuditStore> store_;
};

TEST_F(FeedbackStoreTest, StoresFeedbackJoinedToItsDecisionAndRules) {
  FeedbackRecord accepted =
      Entry("00000000-0000-5000-8000-000000000101", "accepted");
  accepted.accepted_suggestions = {"00000000-0000-5000-8000-000000000301"};
  FeedbackRecord overridden =
      Entry("00000000-0000-5000-8000-000000000002", "overridden");
  overridden.override_reason =
      R"({"reason":{"code":"12","system":"http://example.org"},"userComment":"x"})";
  const FeedbackResult result =
      AppendFeedbackAndWait(*store_, {accepted, overridden});
  ASSERT_THAT(result.status, IsOk());
  EXPECT_THAT(result.stored, ElementsAre(true, true));
  store_.reset();

  const std::vector<FeedbackRecord> all = List({});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].sequence, 1);
  EXPECT_EQ(all[0].decision_id, "decision-1");
  EXPECT_EQ(all[0].card_item, "gaps");
  EXPECT_THAT(all[0].rule_ids, ElementsAre("rule-gap"));
  EXPECT_THAT(all[0].accepted_suggestions,
              ElementsAre("00000000-0000-5000-8000-000000000301"));
  EXPECT_EQ(all[0].rule_set_digest, Bundled().digest());
  EXPECT_EQ(all[0].caller, "cds:https://ehr.example.org");
  EXPECT_EQ(all[1].decision_id, "decision-2");
  EXPECT_EQ(all[1].override_reason, overridden.override_reason);
  EXPECT_EQ(all[1].prev_hash, all[0].hash);
  EXPECT_EQ(all[1].hash, FeedbackChainHash(all[1]));

  FeedbackQuery by_decision;
  by_decision.decision_id = "decision-2";
  EXPECT_EQ(List(by_decision).size(), 1u);
  FeedbackQuery by_rule;
  by_rule.rule_id = "rule-b";
  ASSERT_EQ(List(by_rule).size(), 1u);
  EXPECT_EQ(List(by_rule)[0].card_item, "plan");
  by_rule.rule_id = "rule-nobody-wrote";
  EXPECT_TRUE(List(by_rule).empty());
  FeedbackQuery by_version;
  by_version.rule_set_version = "1.0.0";
  EXPECT_EQ(List(by_version).size(), 2u);
  by_version.rule_set_version = "9.9.9";
  EXPECT_TRUE(List(by_version).empty());
  FeedbackQuery page;
  page.after_sequence = 1;
  ASSERT_EQ(List(page).size(), 1u);

  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
  EXPECT_EQ(report->records, 2);
  EXPECT_EQ(report->feedback_records, 2);
}

TEST_F(FeedbackStoreTest, TheSameInteractionIsStoredOnce) {
  const FeedbackRecord once =
      Entry("00000000-0000-5000-8000-000000000001", "overridden");
  ASSERT_THAT(AppendFeedbackAndWait(*store_, {once}).status, IsOk());
  // Sent again (a retry), and twice within one request.
  const FeedbackResult again = AppendFeedbackAndWait(*store_, {once, once});
  ASSERT_THAT(again.status, IsOk());
  EXPECT_THAT(again.stored, ElementsAre(false, false));
  // A later interaction with the same card is another record.
  const FeedbackResult later = AppendFeedbackAndWait(
      *store_, {Entry("00000000-0000-5000-8000-000000000001", "overridden",
                      "2026-12-02T09:00:00Z")});
  EXPECT_THAT(later.stored, ElementsAre(true));
  store_.reset();
  EXPECT_EQ(List({}).size(), 2u);
}

TEST_F(FeedbackStoreTest, RefusesWholeRequestsNamingTheEntryAndField) {
  const FeedbackRecord good =
      Entry("00000000-0000-5000-8000-000000000001", "overridden");
  FeedbackRecord unknown =
      Entry("ffffffff-0000-5000-8000-000000000001", "overridden");
  FeedbackResult r = AppendFeedbackAndWait(*store_, {good, unknown});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.entry, 1);
  EXPECT_EQ(r.field, "card");
  EXPECT_THAT(r.status.message(), HasSubstr("no card with uuid"));

  FeedbackRecord other_service = good;
  other_service.service = "reconnect-encounter-start";
  r = AppendFeedbackAndWait(*store_, {other_service});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status.message(),
              HasSubstr("issued by the service 'reconnect-patient-view'"));

  // A suggestion of another decision's card.
  FeedbackRecord foreign =
      Entry("00000000-0000-5000-8000-000000000101", "accepted");
  foreign.accepted_suggestions = {"00000000-0000-5000-8000-000000000202"};
  r = AppendFeedbackAndWait(*store_, {foreign});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.entry, 0);
  EXPECT_EQ(r.field, "acceptedSuggestions[0].id");

  // Nothing of the refused requests was stored, and the chain goes on.
  ASSERT_THAT(AppendFeedbackAndWait(*store_, {good}).status, IsOk());
  store_.reset();
  const std::vector<FeedbackRecord> all = List({});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].sequence, 1);
  auto report = VerifyAuditTrail(path_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->problem;
}

TEST_F(FeedbackStoreTest, VerifyFindsTamperedFeedback) {
  for (const char* when : {"2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z",
                           "2026-12-01T12:00:00Z"}) {
    ASSERT_THAT(AppendFeedbackAndWait(
                    *store_, {Entry("00000000-0000-5000-8000-000000000001",
                                    "overridden", when)})
                    .status,
                IsOk());
  }
  store_.reset();
  struct Case {
    std::string sql;
    std::string problem;
  };
  for (const Case& c : std::vector<Case>{
           {"UPDATE feedback SET outcome = 'accepted' WHERE sequence = 2",
            "feedback record 2 was altered"},
           {"UPDATE feedback SET rule_ids = '[]' WHERE sequence = 1",
            "feedback record 1 was altered"},
           {"DELETE FROM feedback WHERE sequence = 2",
            "feedback record 2 is missing"},
           {"DELETE FROM feedback WHERE sequence = 3",
            "feedback records were removed"},
           {"UPDATE feedback_head SET hash = zeroblob(32)",
            "the recorded feedback chain head was altered"},
           {"UPDATE feedback SET decision_id = 'decision-2' WHERE sequence = 1",
            "feedback record 1 was altered"}}) {
    SCOPED_TRACE(c.sql);
    const std::string copy = path_ + ".copy";
    std::filesystem::copy_file(
        path_, copy, std::filesystem::copy_options::overwrite_existing);
    Tamper(c.sql);
    auto report = VerifyAuditTrail(path_);
    ASSERT_THAT(report, IsOk());
    EXPECT_FALSE(report->ok());
    EXPECT_THAT(report->problem, HasSubstr(c.problem));
    std::filesystem::rename(copy, path_);
  }
  // A store whose feedback was cut short is not extended.
  Tamper("DELETE FROM feedback WHERE sequence = 3");
  auto reopened = AuditStore::Open({path_, 0});
  ASSERT_FALSE(reopened.ok());
  EXPECT_THAT(reopened.status().message(), HasSubstr("feedback"));
}

}  // namespace
}  // namespace reconnect::service
