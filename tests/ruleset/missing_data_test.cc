// Missing data: which absent facts could change a plan (CompiledRuleSet::
// Evaluate's missing_data), found by CEL's partial evaluation.

#include <string>

#include "engine/ruleset/rule_set.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"
#include "tests/testing/bundled_rule_set.h"
#include "tests/testing/examples.h"
#include "tests/testing/temp_rule_set.h"

namespace reconnect::ruleset {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing_util::TempRuleSet;

// The rule set of TempRuleSet, plus:
//   r.hold (priority 5): alert a1 when PHQ-9 item 9 > 1, holding t1;
//   r.partner: t2 and k1 when partnered;
//   r.mood: p2 when PHQ-9 >= 10 or GAD-7 >= 10;
// and the words of "missing_data".
class MissingDataTest : public testing::Test {
 protected:
  void SetUp() override {
    rs_.Write("ruleset.json", R"({
  "id": "test", "version": "1.0.0", "status": "draft",
  "input": {"name": "assessment", "type": "reconnect.v1.Assessment"},
  "container": "reconnect.v1",
  "gap_suggestion": "Missing {item}: {disciplines}",
  "missing_data": {
    "sentence": "{facts}? If {condition}: {changes}.",
    "add": "+{items}", "hold": "-{items}", "and": "; ", "more": "{n} others",
    "worth_measuring": {"code": "measure", "text": "Measure {facts}", "top": 2},
    "labels": {"scores.pcs_total": "PCS", "scores.phq9_item9": "PHQ-9/9",
               "relationship.partner_status": "partner"}
  }
})");
    rs_.Write("rules/main.json", R"json({"rules": [
  {"id": "r.high", "title": "High", "when": "defs.high", "priority": 1,
   "recommend": {"techniques": ["t1"], "prompts": ["p1"]},
   "rationale": "high", "source": "test"},
  {"id": "r.hold", "title": "Hold", "priority": 5,
   "when": "has(assessment.scores.phq9_item9) && assessment.scores.phq9_item9 > 1",
   "recommend": {"alerts": ["a1"]}, "suppress": {"techniques": ["t1"]},
   "rationale": "hold", "source": "test"},
  {"id": "r.partner", "title": "Partner",
   "when": "assessment.relationship.partner_status == PartnerStatus.PARTNER_STATUS_PARTNERED",
   "recommend": {"techniques": ["t2"], "considerations": ["k1"]},
   "rationale": "partner", "source": "test"},
  {"id": "r.mood", "title": "Mood",
   "when": "(has(assessment.scores.phq9_total) && assessment.scores.phq9_total >= 10) || (has(assessment.scores.gad7_total) && assessment.scores.gad7_total >= 10)",
   "recommend": {"prompts": ["p2"]}, "rationale": "mood", "source": "test"}
]})json");
    LoadResult r = LoadRuleSet(rs_.dir());
    ASSERT_NE(r.rule_set, nullptr) << r.issues[0].ToString();
    rule_set_ = r.rule_set;
  }

  v1::MissingData Missing(
      const v1::Assessment& a,
      int64_t budget = CompiledRuleSet::kDefaultMissingDataBudget) {
    v1::Recommendation rec;
    v1::MissingData missing;
    CompiledRuleSet::Explain explain;
    explain.missing_data = &missing;
    explain.missing_data_budget = budget;
    rule_set_->Evaluate(a, rec, nullptr, &explain);
    // Asking changes nothing in the recommendation.
    v1::Recommendation plain;
    rule_set_->Evaluate(a, plain);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(rec, plain));
    return missing;
  }

  static const v1::UnknownRule* Rule(const v1::MissingData& m,
                                     const std::string& id) {
    for (const auto& u : m.rules()) {
      if (u.rule_id() == id) return &u;
    }
    return nullptr;
  }

  TempRuleSet rs_;
  std::shared_ptr<const CompiledRuleSet> rule_set_;
};

TEST_F(MissingDataTest, AnAbsentScoreSaysWhatItsRuleWouldAddAndWhen) {
  const v1::MissingData m = Missing(v1::Assessment());
  EXPECT_TRUE(m.complete());
  const v1::UnknownRule* high = Rule(m, "r.high");
  ASSERT_NE(high, nullptr);
  EXPECT_EQ(high->rule_title(), "High");
  // The residual: the def's has() is dropped, the param folded in, the
  // fact named by its label.
  EXPECT_EQ(high->condition(), "PCS >= 30");
  EXPECT_THAT(high->facts(), ElementsAre("scores.pcs_total"));
  ASSERT_EQ(high->would_add_size(), 2);
  EXPECT_EQ(high->would_add(0).kind(), v1::ITEM_KIND_TECHNIQUE);
  EXPECT_EQ(high->would_add(0).code(), "t1");
  EXPECT_EQ(high->would_add(1).code(), "p1");
  // Techniques by name, prompts counted, in the rule set's words.
  EXPECT_EQ(high->text(), "PCS? If PCS >= 30: +T1, 1 others.");
}

TEST_F(MissingDataTest, AnUnspecifiedEnumIsMissingAndNamedByItsValues) {
  const v1::MissingData m = Missing(v1::Assessment());
  const v1::UnknownRule* partner = Rule(m, "r.partner");
  ASSERT_NE(partner, nullptr);
  EXPECT_EQ(partner->condition(), "partner == PARTNER_STATUS_PARTNERED");
  // Recorded, even as "prefer not to say", it is no longer missing.
  v1::Assessment a;
  a.mutable_relationship()->set_partner_status(
      v1::PARTNER_STATUS_PREFER_NOT_TO_SAY);
  EXPECT_EQ(Rule(Missing(a), "r.partner"), nullptr);
}

TEST_F(MissingDataTest, AnOrOfAbsentScoresNamesEachAndKeepsWhatIsKnown) {
  v1::MissingData m = Missing(v1::Assessment());
  const v1::UnknownRule* mood = Rule(m, "r.mood");
  ASSERT_NE(mood, nullptr);
  // Unlabelled facts go by their paths.
  EXPECT_EQ(mood->condition(),
            "assessment.scores.phq9_total >= 10 || "
            "assessment.scores.gad7_total >= 10");
  EXPECT_THAT(mood->facts(),
              ElementsAre("scores.phq9_total", "scores.gad7_total"));
  // With PHQ-9 measured low, only GAD-7 is left.
  v1::Assessment a;
  a.mutable_scores()->set_phq9_total(4);
  m = Missing(a);
  mood = Rule(m, "r.mood");
  ASSERT_NE(mood, nullptr);
  EXPECT_EQ(mood->condition(), "assessment.scores.gad7_total >= 10");
  EXPECT_THAT(mood->facts(), ElementsAre("scores.gad7_total"));
  // With PHQ-9 measured high, the rule fires: nothing is missing for it.
  a.mutable_scores()->set_phq9_total(14);
  EXPECT_EQ(Rule(Missing(a), "r.mood"), nullptr);
}

TEST_F(MissingDataTest, ASafetyRuleSaysWhatItWouldHoldBack) {
  // PCS high: t1 is in the plan, and an unmeasured PHQ-9 item 9 could hold
  // it back.
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(35);
  const v1::MissingData m = Missing(a);
  const v1::UnknownRule* hold = Rule(m, "r.hold");
  ASSERT_NE(hold, nullptr);
  EXPECT_EQ(hold->condition(), "PHQ-9/9 > 1");
  ASSERT_EQ(hold->would_hold_size(), 1);
  EXPECT_EQ(hold->would_hold(0).code(), "t1");
  EXPECT_EQ(hold->text(), "PHQ-9/9? If PHQ-9/9 > 1: +A1; -T1.");
  // Nor is r.high missing anything: it fired.
  EXPECT_EQ(Rule(m, "r.high"), nullptr);
}

TEST_F(MissingDataTest, AnItemAHigherRuleHoldsIsNotCountedAsGained) {
  // PHQ-9 item 9 is high: t1 is held, so measuring PCS would gain only p1.
  v1::Assessment a;
  a.mutable_scores()->set_phq9_item9(3);
  const v1::MissingData m = Missing(a);
  const v1::UnknownRule* high = Rule(m, "r.high");
  ASSERT_NE(high, nullptr);
  ASSERT_EQ(high->would_add_size(), 1);
  EXPECT_EQ(high->would_add(0).code(), "p1");
}

TEST_F(MissingDataTest, FactsAreRankedByHowMuchOfThePlanTheyCouldChange) {
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(35);
  const v1::MissingData m = Missing(a);
  // PHQ-9 item 9: a1 gained and t1 held (2); partner status: t2 and k1
  // (2); PHQ-9 and GAD-7: p2 (1 each).
  ASSERT_EQ(m.facts_size(), 4);
  EXPECT_EQ(m.facts(0).path(), "relationship.partner_status");
  EXPECT_EQ(m.facts(0).impact(), 2);
  EXPECT_EQ(m.facts(1).path(), "scores.phq9_item9");
  EXPECT_EQ(m.facts(1).label(), "PHQ-9/9");
  EXPECT_EQ(m.facts(1).impact(), 2);
  EXPECT_THAT(m.facts(1).rule_ids(), ElementsAre("r.hold"));
  EXPECT_EQ(m.facts(2).path(), "scores.gad7_total");
  EXPECT_EQ(m.facts(3).path(), "scores.phq9_total");
  EXPECT_EQ(m.facts(3).impact(), 1);
  // The top two, as the rule set's prompt, with the rules as its reasons.
  EXPECT_EQ(m.worth_measuring().code(), "measure");
  EXPECT_EQ(m.worth_measuring().audience(), v1::AUDIENCE_CLINICIAN);
  EXPECT_EQ(m.worth_measuring().text(), "Measure partner, PHQ-9/9");
  ASSERT_EQ(m.worth_measuring().rationale().reasons_size(), 2);
  EXPECT_EQ(m.worth_measuring().rationale().reasons(0).rule_id(), "r.hold");
  EXPECT_EQ(m.worth_measuring().rationale().reasons(1).rule_id(), "r.partner");
}

TEST_F(MissingDataTest, NothingMissingMeansNoFactsAndNoPrompt) {
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(10);
  a.mutable_scores()->set_phq9_item9(0);
  a.mutable_scores()->set_phq9_total(2);
  a.mutable_scores()->set_gad7_total(2);
  a.mutable_relationship()->set_partner_status(v1::PARTNER_STATUS_NO_PARTNER);
  const v1::MissingData m = Missing(a);
  EXPECT_TRUE(m.complete());
  EXPECT_THAT(m.facts(), IsEmpty());
  EXPECT_THAT(m.rules(), IsEmpty());
  EXPECT_FALSE(m.has_worth_measuring());
}

TEST_F(MissingDataTest, ASpentBudgetStopsTheAnalysisAndSaysSo) {
  const v1::MissingData all = Missing(v1::Assessment());
  ASSERT_EQ(all.rules_size(), 4);
  EXPECT_TRUE(all.complete());
  // Checked before each rule: a budget of 0 lets one condition run.
  const v1::MissingData none = Missing(v1::Assessment(), 0);
  EXPECT_FALSE(none.complete());
  EXPECT_LE(none.rules_size(), 1);
}

// The evaluation's own cost limit ends the analysis too: whatever the
// limit, an analysis that says it is complete lost no rule.
TEST_F(MissingDataTest, AnAnalysisCutShortByTheCostLimitSaysSo) {
  const v1::MissingData full = Missing(v1::Assessment());
  ASSERT_TRUE(full.complete());
  int incomplete = 0;
  for (int64_t max_cost = 1; max_cost <= 200; ++max_cost) {
    LoadOptions options;
    options.limits.max_cost = max_cost;
    LoadResult r = LoadRuleSet(rs_.dir(), options);
    ASSERT_NE(r.rule_set, nullptr);
    v1::Recommendation rec;
    v1::MissingData m;
    CompiledRuleSet::Explain explain;
    explain.missing_data = &m;
    explain.missing_data_budget = 1'000'000'000;
    r.rule_set->Evaluate(v1::Assessment(), rec, nullptr, &explain);
    if (!m.complete()) {
      ++incomplete;
      continue;
    }
    if (rec.evaluation_issues_size() > 0) continue;  // rules not evaluated
    EXPECT_EQ(m.rules_size(), full.rules_size()) << "max_cost " << max_cost;
  }
  EXPECT_GT(incomplete, 0);
}

TEST(MissingDataWordsTest, EveryProblemIsAnIssueNamingWhere) {
  TempRuleSet rs;
  rs.Write("ruleset.json", R"({
  "id": "test", "version": "1.0.0", "status": "draft",
  "input": {"name": "assessment", "type": "reconnect.v1.Assessment"},
  "container": "reconnect.v1",
  "gap_suggestion": "Missing {item}: {disciplines}",
  "missing_data": {
    "sentence": "{facts} {when}",
    "add": "add {things}",
    "worth_measuring": {"code": "m", "text": "Measure {facts}", "top": 99},
    "labels": {"scores.nothing": "X", "scores.pcs_total": 7,
               "goals.x": "Y"},
    "colour": "red"
  }
})");
  const LoadResult r = LoadRuleSet(rs.dir());
  EXPECT_EQ(r.rule_set, nullptr);
  std::string all;
  for (const auto& issue : r.issues) {
    all += issue.ToString() + "\n";
    EXPECT_EQ(issue.file, "ruleset.json") << issue.ToString();
    EXPECT_GT(issue.line, 0) << issue.ToString();
  }
  EXPECT_THAT(all, HasSubstr("colour"));
  EXPECT_THAT(all, HasSubstr("unknown placeholder {when}"));
  EXPECT_THAT(all, HasSubstr("unknown placeholder {things}"));
  EXPECT_THAT(all, HasSubstr("\"top\" must be between 1 and 20"));
  EXPECT_THAT(all, HasSubstr("\"scores.nothing\" in missing_data.labels is "
                             "not a field path of reconnect.v1.Assessment"));
  EXPECT_THAT(all, HasSubstr("\"goals.x\" in missing_data.labels"));
  EXPECT_THAT(all, HasSubstr("the label of \"scores.pcs_total\" must be a "
                             "non-empty string"));
}

// On the bundled rule set and every example: each rule reported waits on
// facts the assessment lacks, and did not fire; each fact it names is
// labelled; the facts come most-impact first.
TEST(MissingDataBundledTest, EveryReportedRuleWaitsOnAbsentFactsOnly) {
  const CompiledRuleSet& rs = testing_util::BundledRuleSet();
  for (const std::string& name : testing_util::ExampleNames()) {
    const v1::EvaluateRequest request =
        testing_util::ExampleRequest(name, "missing-data-test");
    v1::Recommendation rec;
    std::vector<size_t> fired;
    v1::MissingData m;
    CompiledRuleSet::Explain explain;
    explain.missing_data = &m;
    rs.Evaluate(request.assessment(), rec, &fired, &explain);
    EXPECT_TRUE(m.complete()) << name;
    for (const v1::UnknownRule& u : m.rules()) {
      for (size_t i : fired) EXPECT_NE(rs.rule_id(i), u.rule_id()) << name;
      EXPECT_FALSE(u.condition().empty()) << name << " " << u.rule_id();
      EXPECT_THAT(u.condition(), testing::Not(HasSubstr("assessment.")))
          << name << " " << u.rule_id() << ": every fact is labelled";
      EXPECT_GT(u.would_add_size() + u.would_hold_size(), 0) << name;
    }
    for (int i = 1; i < m.facts_size(); ++i) {
      EXPECT_GE(m.facts(i - 1).impact(), m.facts(i).impact()) << name;
    }
    if (m.facts_size() > 0) {
      EXPECT_THAT(m.worth_measuring().text(),
                  testing::StartsWith("Worth measuring: " + m.facts(0).label()))
          << name;
    }
  }
  // The no-partner example lacks PCS: measuring it could add thought
  // challenging, at the rule set's own cut-off.
  const v1::EvaluateRequest request =
      testing_util::ExampleRequest("no-partner.json", "missing-data-test");
  v1::Recommendation rec;
  v1::MissingData m;
  CompiledRuleSet::Explain explain;
  explain.missing_data = &m;
  rs.Evaluate(request.assessment(), rec, nullptr, &explain);
  bool pcs = false;
  for (const v1::UnknownRule& u : m.rules()) {
    if (u.condition() != "PCS >= 30") continue;
    pcs = true;
    EXPECT_THAT(u.text(), HasSubstr("Thought challenging"));
  }
  EXPECT_TRUE(pcs);
}

}  // namespace
}  // namespace reconnect::ruleset
