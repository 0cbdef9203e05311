// Why not: every rule that did not fire says which clause decided it, and
// every rule held back says by whom (CompiledRuleSet::Evaluate's why_not).

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

using google::protobuf::RepeatedPtrField;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing_util::TempRuleSet;

// r.high (priority 1): t1 and p1 when defs.high (PCS >= params.cut);
// r.hold (priority 5): alert a1 when a red flag is recorded, holding t1;
// r.ratio: t2 when PCS / PHQ-9 > 1 (an error when PHQ-9 is 0).
class WhyNotTest : public testing::Test {
 protected:
  void SetUp() override {
    rs_.Write("rules/main.json", R"({"rules": [
  {"id": "r.high", "title": "High", "when": "defs.high", "priority": 1,
   "recommend": {"techniques": ["t1"], "prompts": ["p1"]},
   "rationale": "high", "source": "test"},
  {"id": "r.hold", "title": "Hold", "when": "size(assessment.red_flags) > 0",
   "priority": 5, "recommend": {"alerts": ["a1"]},
   "suppress": {"techniques": ["t1"]}, "rationale": "hold", "source": "test"},
  {"id": "r.ratio", "title": "Ratio",
   "when": "assessment.scores.pcs_total / assessment.scores.phq9_total > 1",
   "recommend": {"techniques": ["t2"]}, "rationale": "ratio",
   "source": "test"}
]})");
    LoadResult r = LoadRuleSet(rs_.dir());
    ASSERT_NE(r.rule_set, nullptr) << r.issues[0].ToString();
    rule_set_ = r.rule_set;
  }

  RepeatedPtrField<v1::RuleExplanation> WhyNot(const v1::Assessment& a) {
    v1::Recommendation rec;
    RepeatedPtrField<v1::RuleExplanation> why_not;
    {
      ruleset::CompiledRuleSet::Explain explain;
      explain.why_not = &why_not;
      rule_set_->Evaluate(a, rec, nullptr, &explain);
    }
    // Asking changes nothing in the recommendation.
    v1::Recommendation plain;
    rule_set_->Evaluate(a, plain);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(rec, plain));
    return why_not;
  }

  const v1::RuleExplanation* Find(
      const RepeatedPtrField<v1::RuleExplanation>& all, const std::string& id) {
    for (const auto& x : all) {
      if (x.rule_id() == id) return &x;
    }
    return nullptr;
  }

  TempRuleSet rs_;
  std::shared_ptr<const CompiledRuleSet> rule_set_;
};

TEST_F(WhyNotTest, ARuleNotMetNamesTheClauseInsideItsDefinition) {
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(24);
  a.mutable_scores()->set_phq9_total(10);
  const auto why_not = WhyNot(a);
  const v1::RuleExplanation* high = Find(why_not, "r.high");
  ASSERT_NE(high, nullptr);
  EXPECT_EQ(high->outcome(), v1::RuleExplanation::NOT_MET);
  EXPECT_EQ(high->clause().expression(),
            "assessment.scores.pcs_total >= params.cut");
  EXPECT_EQ(high->clause().value(), "false");
  EXPECT_EQ(high->clause().comparison(), "24 < 30");
  EXPECT_THAT(high->clause().definitions(), ElementsAre("defs.high"));
  EXPECT_THAT(high->clause().location(), testing::StartsWith("defs.json:1:"));
  ASSERT_EQ(high->clause().operands_size(), 2);
  EXPECT_EQ(high->clause().operands(1).expression(), "params.cut");
  EXPECT_EQ(high->clause().operands(1).value(), "30");
  // Rules that fired and kept everything are not listed.
  EXPECT_EQ(Find(why_not, "r.ratio"), nullptr);
}

// What a rule not met would have added: the answer to "why not t1?".
TEST_F(WhyNotTest, ARuleNotMetSaysWhatItWouldHaveAdded) {
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(24);
  a.mutable_scores()->set_phq9_total(10);
  const auto why_not = WhyNot(a);
  const v1::RuleExplanation* high = Find(why_not, "r.high");
  ASSERT_NE(high, nullptr);
  ASSERT_EQ(high->would_add_size(), 2);
  EXPECT_EQ(high->would_add(0).kind(), v1::ITEM_KIND_TECHNIQUE);
  EXPECT_EQ(high->would_add(0).code(), "t1");
  EXPECT_FALSE(high->would_add(0).display().empty());
  EXPECT_EQ(high->would_add(1).kind(), v1::ITEM_KIND_PROMPT);
  EXPECT_EQ(high->would_add(1).code(), "p1");

  // With a red flag, r.hold (higher priority) fired and holds t1: r.high
  // firing would add only its prompt.
  a.add_red_flags(v1::RED_FLAG_NEW_MASS);
  const auto held = WhyNot(a);
  high = Find(held, "r.high");
  ASSERT_NE(high, nullptr);
  ASSERT_EQ(high->would_add_size(), 1);
  EXPECT_EQ(high->would_add(0).code(), "p1");
}

TEST_F(WhyNotTest, AnAbsentScoreIsTheFirstClauseOfItsGuard) {
  v1::Assessment a;
  a.mutable_scores()->set_phq9_total(30);
  const auto why_not = WhyNot(a);
  const v1::RuleExplanation* high = Find(why_not, "r.high");
  ASSERT_NE(high, nullptr);
  EXPECT_EQ(high->clause().expression(), "has(assessment.scores.pcs_total)");
}

TEST_F(WhyNotTest, AHeldRuleNamesItsHolderAndWhatWasHeld) {
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(31);
  a.mutable_scores()->set_phq9_total(40);
  a.add_red_flags(v1::RED_FLAG_NEW_MASS);
  const auto why_not = WhyNot(a);
  const v1::RuleExplanation* high = Find(why_not, "r.high");
  ASSERT_NE(high, nullptr);
  EXPECT_EQ(high->outcome(), v1::RuleExplanation::HELD);
  EXPECT_THAT(high->held_by(), ElementsAre("r.hold"));
  ASSERT_EQ(high->held_items_size(), 1);  // p1 was not held
  EXPECT_EQ(high->held_items(0).code(), "t1");
  EXPECT_EQ(high->held_items(0).kind(), v1::ITEM_KIND_TECHNIQUE);
  EXPECT_FALSE(high->has_clause());
  EXPECT_EQ(Find(why_not, "r.hold"), nullptr);
}

TEST_F(WhyNotTest, AnErrorIsExplainedWhereItArose) {
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(31);
  const auto why_not = WhyNot(a);
  const v1::RuleExplanation* ratio = Find(why_not, "r.ratio");
  ASSERT_NE(ratio, nullptr);
  EXPECT_EQ(ratio->outcome(), v1::RuleExplanation::ERROR);
  EXPECT_EQ(ratio->clause().expression(),
            "assessment.scores.pcs_total / assessment.scores.phq9_total > 1");
  EXPECT_THAT(ratio->clause().value(), HasSubstr("division by zero"));
  EXPECT_THAT(ratio->clause().location(),
              testing::StartsWith("rules/main.json:"));
}

// On the bundled rule set and every example: each rule either fired and
// kept all it recommended, or is explained, and every clause given for a
// rule not met is false.
TEST(WhyNotBundledTest, EveryRuleIsAccountedForOnEveryExample) {
  const CompiledRuleSet& rs = testing_util::BundledRuleSet();
  for (const std::string& name : testing_util::ExampleNames()) {
    const v1::EvaluateRequest request =
        testing_util::ExampleRequest(name, "why-not-test");
    v1::Recommendation rec;
    std::vector<size_t> fired;
    RepeatedPtrField<v1::RuleExplanation> why_not;
    {
      ruleset::CompiledRuleSet::Explain explain;
      explain.why_not = &why_not;
      rs.Evaluate(request.assessment(), rec, &fired, &explain);
    }
    size_t not_met = 0;
    for (const auto& x : why_not) {
      if (x.outcome() == v1::RuleExplanation::HELD) {
        EXPECT_GT(x.held_items_size(), 0) << name << " " << x.rule_id();
        EXPECT_GT(x.held_by_size(), 0) << name << " " << x.rule_id();
        continue;
      }
      ++not_met;
      EXPECT_EQ(x.outcome(), v1::RuleExplanation::NOT_MET)
          << name << " " << x.rule_id();
      EXPECT_EQ(x.clause().value(), "false") << name << " " << x.rule_id();
      EXPECT_FALSE(x.clause().expression().empty());
      EXPECT_FALSE(x.clause().location().empty()) << name << " " << x.rule_id();
    }
    EXPECT_EQ(not_met + fired.size(), rs.rule_count()) << name;
  }
  // The red-flag example holds exposure work back, by the red-flag rule.
  const v1::EvaluateRequest red =
      testing_util::ExampleRequest("red-flag-bleeding.json", "why-not-test");
  v1::Recommendation rec;
  RepeatedPtrField<v1::RuleExplanation> why_not;
  {
    ruleset::CompiledRuleSet::Explain explain;
    explain.why_not = &why_not;
    rs.Evaluate(red.assessment(), rec, nullptr, &explain);
  }
  bool held_by_red_flag = false;
  for (const auto& x : why_not) {
    for (const std::string& by : x.held_by()) {
      held_by_red_flag = held_by_red_flag || by == "safety.red_flag";
    }
  }
  EXPECT_TRUE(held_by_red_flag);
}

}  // namespace
}  // namespace reconnect::ruleset
