// Partial evaluation: absent facts are unknown, and unknowns propagate as
// cel-spec's eval.proto (ExprValue.unknown) defines. The upstream
// conformance file `unknowns` has no tests, so these are the conformance
// cases for it, one per rule of that definition.

#include <string>
#include <vector>

#include "engine/cel/common/ast_debug.h"
#include "engine/cel/runtime/program.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"

namespace reconnect::cel {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;

// One expression set over `assessment`, with params.pcs_high = 30, a
// variable `x` bound to an error, and the definition
//   distressed: (has(assessment.scores.pcs_total) &&
//                assessment.scores.pcs_total >= params.pcs_high)
//               || (has(assessment.scores.phq9_total) &&
//                   assessment.scores.phq9_total >= 10)
class Partial {
 public:
  explicit Partial(const std::string& expr) {
    ExpressionSetBuilder builder(
        google::protobuf::DescriptorPool::generated_pool(), "reconnect.v1");
    input_ = builder.DeclareInput("assessment", v1::Assessment::descriptor());
    x_ = builder.DeclareVariable("x", Type::Dyn());
    builder.DeclareConstant("params.pcs_high", Value::Int(30), Type::Int());
    auto distressed = builder.Compile(
        "(has(assessment.scores.pcs_total) && "
        "assessment.scores.pcs_total >= params.pcs_high) || "
        "(has(assessment.scores.phq9_total) && "
        "assessment.scores.phq9_total >= 10)");
    EXPECT_GE(distressed.id, 0) << FormatIssues(distressed.issues);
    builder.DeclareDefinition("distressed", distressed);
    auto compiled = builder.Compile(expr);
    EXPECT_GE(compiled.id, 0) << FormatIssues(compiled.issues);
    id_ = compiled.id;
    set_ = builder.Build();
  }

  // The value of the expression over `a`, absent facts unknown.
  Value Evaluate(const v1::Assessment& a, bool partial = true) {
    ev_ = std::make_unique<Evaluation>(*set_);
    ev_->SetInput(input_, a);
    ev_->SetVariable(x_, Value::Error("x is not set"));
    ev_->SetPartial(partial);
    return ev_->Evaluate(id_);
  }
  std::string Residual() { return ev_->Residual(id_); }

  // The fact paths an unknown depends on.
  std::vector<std::string> Paths(const Value& v) const {
    std::vector<std::string> out;
    if (!v.is_unknown()) return out;
    for (int slot : v.unknown_attributes()) {
      out.push_back(set_->facts()[slot].display);
    }
    return out;
  }

 private:
  std::shared_ptr<const ExpressionSet> set_;
  std::unique_ptr<Evaluation> ev_;
  int input_ = -1, x_ = -1, id_ = -1;
};

v1::Assessment Nothing() { return v1::Assessment(); }
v1::Assessment Pcs(int pcs) {
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(pcs);
  return a;
}

TEST(UnknownsTest, AnAbsentOptionalScoreIsUnknownAndSoIsItsComparison) {
  Partial p("assessment.scores.pcs_total >= params.pcs_high");
  const Value v = p.Evaluate(Nothing());
  ASSERT_TRUE(v.is_unknown()) << v.DebugString();
  EXPECT_THAT(p.Paths(v), ElementsAre("scores.pcs_total"));
  EXPECT_EQ(p.Residual(), "assessment.scores.pcs_total >= 30");
  // Measured, even as zero, it is known.
  EXPECT_EQ(p.Evaluate(Pcs(0)).DebugString(), "false");
  EXPECT_EQ(p.Residual(), "");
}

TEST(UnknownsTest, WithoutPartialEvaluationAnAbsentScoreIsItsDefault) {
  Partial p("assessment.scores.pcs_total >= params.pcs_high");
  EXPECT_EQ(p.Evaluate(Nothing(), /*partial=*/false).DebugString(), "false");
}

TEST(UnknownsTest, HasOfAnAbsentFactIsUnknownToo) {
  Partial p("has(assessment.scores.pcs_total)");
  const Value v = p.Evaluate(Nothing());
  ASSERT_TRUE(v.is_unknown());
  // The presence names the same attribute as the value.
  EXPECT_THAT(p.Paths(v), ElementsAre("scores.pcs_total"));
  EXPECT_EQ(p.Evaluate(Pcs(12)).DebugString(), "true");
}

TEST(UnknownsTest, AnEnumAtItsZeroValueIsUnknownAnyOtherValueIsKnown) {
  Partial p(
      "assessment.relationship.partner_status in "
      "[PartnerStatus.PARTNER_STATUS_PARTNERED, "
      "PartnerStatus.PARTNER_STATUS_MULTIPLE_PARTNERS]");
  ASSERT_TRUE(p.Evaluate(Nothing()).is_unknown());
  EXPECT_EQ(p.Residual(),
            "assessment.relationship.partner_status in "
            "[PARTNER_STATUS_PARTNERED, PARTNER_STATUS_MULTIPLE_PARTNERS]");
  v1::Assessment a;
  a.mutable_relationship()->set_partner_status(
      v1::PARTNER_STATUS_PREFER_NOT_TO_SAY);
  EXPECT_EQ(p.Evaluate(a).DebugString(), "false");
}

TEST(UnknownsTest, ListsBoolsAndStringsWithoutPresenceAreNeverUnknown) {
  Partial p(
      "size(assessment.red_flags) == 0 && "
      "!assessment.relationship.partner_involved && "
      "assessment.relationship.notes == ''");
  EXPECT_EQ(p.Evaluate(Nothing()).DebugString(), "true");
}

// (<unknown[1]> || true) && <unknown[2]> -> <unknown[2]>
TEST(UnknownsTest, ADecidedOperandLeavesOnlyTheOtherUnknown) {
  Partial p(
      "(assessment.scores.pcs_total > 1 || true) && "
      "assessment.scores.phq9_total > 1");
  const Value v = p.Evaluate(Nothing());
  EXPECT_THAT(p.Paths(v), ElementsAre("scores.phq9_total"));
  EXPECT_EQ(p.Residual(), "assessment.scores.phq9_total > 1");
}

// <unknown[1]> || <unknown[2]> -> <unknown[1,2]>
TEST(UnknownsTest, AnOrOfTwoUnknownsMergesThem) {
  Partial p(
      "assessment.scores.pcs_total > 1 || assessment.scores.phq9_total > 1");
  const Value v = p.Evaluate(Nothing());
  EXPECT_THAT(p.Paths(v), ElementsAre("scores.pcs_total", "scores.phq9_total"));
  EXPECT_EQ(p.Residual(),
            "assessment.scores.pcs_total > 1 || "
            "assessment.scores.phq9_total > 1");
}

TEST(UnknownsTest, FalseDecidesAnAndAndTrueAnOrWhateverIsUnknown) {
  EXPECT_EQ(Partial("assessment.scores.pcs_total > 1 && false")
                .Evaluate(Nothing())
                .DebugString(),
            "false");
  EXPECT_EQ(Partial("false && assessment.scores.pcs_total > 1")
                .Evaluate(Nothing())
                .DebugString(),
            "false");
  EXPECT_EQ(Partial("assessment.scores.pcs_total > 1 || true")
                .Evaluate(Nothing())
                .DebugString(),
            "true");
}

// <error> || <unknown> -> <unknown>; <error> && <unknown> -> <unknown>
TEST(UnknownsTest, UnknownsOutrankErrorsInAndAndOr) {
  for (const char* e : {"x > 1 || assessment.scores.pcs_total > 1",
                        "assessment.scores.pcs_total > 1 || x > 1",
                        "x > 1 && assessment.scores.pcs_total > 1",
                        "assessment.scores.pcs_total > 1 && x > 1"}) {
    Partial p(e);
    const Value v = p.Evaluate(Nothing());
    EXPECT_TRUE(v.is_unknown()) << e << ": " << v.DebugString();
    EXPECT_EQ(p.Residual(), "assessment.scores.pcs_total > 1") << e;
  }
}

// <unknown> + <error> -> <error>; foo(<unknown>, <error>) -> <error>
TEST(UnknownsTest, ErrorsOutrankUnknownsInStrictCalls) {
  for (const char* e :
       {"assessment.scores.pcs_total + x", "x + assessment.scores.pcs_total",
        "[assessment.scores.pcs_total, x]",
        "{'a': assessment.scores.pcs_total, 'b': x}"}) {
    const Value v = Partial(e).Evaluate(Nothing());
    EXPECT_TRUE(v.is_error()) << e << ": " << v.DebugString();
    EXPECT_THAT(v.error_message(), HasSubstr("x is not set")) << e;
  }
}

// foo(<unknown[1]>) -> <unknown[1]>; <unknown[1]>.foo -> <unknown[1]>
TEST(UnknownsTest, CallsListsMapsAndConditionalsOfUnknownsAreUnknown) {
  for (const char* e :
       {"string(assessment.scores.pcs_total)",
        "[1, assessment.scores.pcs_total]",
        "{'pcs': assessment.scores.pcs_total}",
        "assessment.scores.pcs_total > 1 ? 1 : 2",
        "[assessment.scores.pcs_total].exists(s, s > 1)",
        "[1, 2].exists(i, i > assessment.scores.pcs_total)",
        "[1, 2].map(i, i + assessment.scores.pcs_total)",
        "[1, 2].exists_one(i, i > assessment.scores.pcs_total)"}) {
    Partial p(e);
    const Value v = p.Evaluate(Nothing());
    EXPECT_THAT(p.Paths(v), ElementsAre("scores.pcs_total"))
        << e << ": " << v.DebugString();
  }
}

TEST(UnknownsTest, AComprehensionStillDecidesWhenOneElementDoes) {
  // exists: one true element decides, whatever the others are.
  EXPECT_EQ(Partial("[1, 50].exists(i, i > assessment.scores.pcs_total || "
                    "i > 40)")
                .Evaluate(Nothing())
                .DebugString(),
            "true");
  // all: unknowns outrank an error from another element.
  const Value v = Partial("[0, 1].all(i, 1 / i > assessment.scores.pcs_total)")
                      .Evaluate(Nothing());
  EXPECT_TRUE(v.is_unknown()) << v.DebugString();
}

TEST(UnknownsTest, ADefinitionIsUnknownThroughItsFactsAndItsResidualReads) {
  Partial p("distressed");
  Value v = p.Evaluate(Nothing());
  EXPECT_THAT(p.Paths(v), ElementsAre("scores.pcs_total", "scores.phq9_total"));
  // has() is left out: the residual supposes the score measured.
  EXPECT_EQ(p.Residual(),
            "assessment.scores.pcs_total >= 30 || "
            "assessment.scores.phq9_total >= 10");
  // With PHQ-9 measured low, only PCS is left.
  v1::Assessment a;
  a.mutable_scores()->set_phq9_total(3);
  v = p.Evaluate(a);
  EXPECT_THAT(p.Paths(v), ElementsAre("scores.pcs_total"));
  EXPECT_EQ(p.Residual(), "assessment.scores.pcs_total >= 30");
  // With PHQ-9 measured high, it is decided.
  a.mutable_scores()->set_phq9_total(12);
  EXPECT_EQ(p.Evaluate(a).DebugString(), "true");
}

TEST(UnknownsTest, ResidualsKeepTheirStructure) {
  Partial p(
      "!(assessment.scores.pcs_total > 1 || "
      "assessment.scores.phq9_total > 1) && "
      "assessment.intimacy_consent == "
      "IntimacyConsent.INTIMACY_CONSENT_GIVEN");
  ASSERT_TRUE(p.Evaluate(Nothing()).is_unknown());
  EXPECT_EQ(p.Residual(),
            "!(assessment.scores.pcs_total > 1 || "
            "assessment.scores.phq9_total > 1) && "
            "assessment.intimacy_consent == INTIMACY_CONSENT_GIVEN");
}

TEST(UnknownsTest, PartialEvaluationChangesNothingWhenTheFactsAreKnown) {
  Partial p("distressed && assessment.scores.pcs_total < 52");
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(40);
  a.mutable_scores()->set_phq9_total(1);
  EXPECT_EQ(p.Evaluate(a, /*partial=*/true).DebugString(), "true");
  EXPECT_EQ(p.Evaluate(a, /*partial=*/false).DebugString(), "true");
}

}  // namespace
}  // namespace reconnect::cel
