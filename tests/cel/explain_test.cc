// Why an expression has its value: the deciding clause, found by running
// the program part by part (Evaluation::Explain).

#include <string>

#include "engine/cel/common/ast_debug.h"
#include "engine/cel/parser/parser.h"
#include "engine/cel/runtime/program.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"

namespace reconnect::cel {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;
using testing::Pair;

// `expr` explained over `assessment`, with params.pcs_high = 30, a dynamic
// variable `x` (an error when unset) and two definitions:
//   distressed: assessment.scores.pcs_total >= params.pcs_high
//               || assessment.scores.phq9_total >= 10
//   ready:      assessment.intimacy_consent == 3 && distressed
Explanation Explained(const std::string& expr,
                      const v1::Assessment& assessment) {
  ExpressionSetBuilder builder(
      google::protobuf::DescriptorPool::generated_pool(), "reconnect.v1");
  const int input =
      builder.DeclareInput("assessment", v1::Assessment::descriptor());
  const int x = builder.DeclareVariable("x", Type::Dyn());
  builder.DeclareConstant("params.pcs_high", Value::Int(30), Type::Int());
  auto distressed = builder.Compile(
      "assessment.scores.pcs_total >= params.pcs_high || "
      "assessment.scores.phq9_total >= 10");
  EXPECT_GE(distressed.id, 0);
  builder.DeclareDefinition("distressed", distressed);
  auto ready =
      builder.Compile("assessment.intimacy_consent == 3 && distressed");
  EXPECT_GE(ready.id, 0);
  builder.DeclareDefinition("ready", ready);
  auto compiled = builder.Compile(expr);
  EXPECT_GE(compiled.id, 0) << FormatIssues(compiled.issues);
  auto set = builder.Build();
  Evaluation ev(*set);
  ev.SetInput(input, assessment);
  ev.SetVariable(x, Value::Error("x is not set"));
  // Evaluated first, as a rule set does: the explanation reuses the
  // evaluation's caches and must give the same value.
  ev.Evaluate(compiled.id);
  Explanation e = ev.Explain(compiled.id);
  if (e.definitions.empty()) {
    EXPECT_EQ(e.expression, compiled.id);
  }
  return e;
}

v1::Assessment Scores(int pcs, int phq9) {
  v1::Assessment a;
  a.mutable_scores()->set_pcs_total(pcs);
  a.mutable_scores()->set_phq9_total(phq9);
  a.set_intimacy_consent(v1::INTIMACY_CONSENT_GIVEN);
  return a;
}

TEST(ExplainTest, AFalseComparisonShowsItsValuesAndTheFailedComparison) {
  const Explanation e = Explained(
      "assessment.scores.pcs_total >= params.pcs_high", Scores(24, 3));
  EXPECT_EQ(e.clause, "assessment.scores.pcs_total >= params.pcs_high");
  EXPECT_EQ(e.value, "false");
  EXPECT_THAT(e.operands, ElementsAre(Pair("assessment.scores.pcs_total", "24"),
                                      Pair("params.pcs_high", "30")));
  EXPECT_EQ(e.comparison, "24 < 30");
  EXPECT_THAT(e.definitions, IsEmpty());
  // Where the operator is, as CEL positions a call.
  EXPECT_EQ(e.position.line, 1);
  EXPECT_EQ(e.position.column, 29);
}

TEST(ExplainTest, AFalseAndNamesTheOperandThatIsFalseEvenTheSecond) {
  const Explanation first = Explained(
      "assessment.scores.pcs_total > 40 && assessment.scores.phq9_total > 1",
      Scores(24, 3));
  EXPECT_EQ(first.clause, "assessment.scores.pcs_total > 40");
  EXPECT_EQ(first.comparison, "24 <= 40");
  const Explanation second = Explained(
      "assessment.scores.pcs_total > 1 && assessment.scores.phq9_total > 40",
      Scores(24, 3));
  EXPECT_EQ(second.clause, "assessment.scores.phq9_total > 40");
  EXPECT_EQ(second.comparison, "3 <= 40");
  EXPECT_EQ(second.position.column, 65);
  // An error on the left is absorbed: the false right operand decides.
  const Explanation absorbed =
      Explained("x > 1 && assessment.scores.phq9_total > 40", Scores(24, 3));
  EXPECT_EQ(absorbed.clause, "assessment.scores.phq9_total > 40");
  EXPECT_EQ(absorbed.value, "false");
}

TEST(ExplainTest, AFalseOrIsTheWholeClauseWithBothSides) {
  const Explanation e = Explained(
      "assessment.scores.pcs_total > 40 || assessment.scores.phq9_total > 40",
      Scores(24, 3));
  EXPECT_EQ(e.clause,
            "assessment.scores.pcs_total > 40 || "
            "assessment.scores.phq9_total > 40");
  EXPECT_EQ(e.value, "false");
  // Both sides mattered: each is explained, down to its own clause.
  ASSERT_EQ(e.alternatives.size(), 2u);
  EXPECT_EQ(e.alternatives[0].clause, "assessment.scores.pcs_total > 40");
  EXPECT_EQ(e.alternatives[0].comparison, "24 <= 40");
  EXPECT_EQ(e.alternatives[1].comparison, "3 <= 40");
  // Literals are not listed among the values read.
  EXPECT_THAT(e.alternatives[1].operands,
              ElementsAre(Pair("assessment.scores.phq9_total", "3")));
}

TEST(ExplainTest, EnumFieldsAreComparedByName) {
  const Explanation e = Explained(
      "assessment.intimacy_consent == IntimacyConsent.INTIMACY_CONSENT_GIVEN",
      Scores(24, 3));
  EXPECT_EQ(e.value, "true");
  EXPECT_EQ(e.comparison, "INTIMACY_CONSENT_GIVEN == INTIMACY_CONSENT_GIVEN");
  const Explanation in = Explained(
      "assessment.safeguarding.coercion_or_abuse in "
      "[SafeguardingConcern.SAFEGUARDING_CONCERN_DISCLOSED]",
      Scores(24, 3));
  EXPECT_EQ(in.comparison,
            "SAFEGUARDING_CONCERN_UNSPECIFIED not in "
            "[SAFEGUARDING_CONCERN_DISCLOSED]");
}

TEST(ExplainTest, DefinitionsAreFollowedToTheClauseInside) {
  v1::Assessment no_consent = Scores(35, 3);
  no_consent.set_intimacy_consent(v1::INTIMACY_CONSENT_DECLINED);
  const Explanation consent = Explained("ready", no_consent);
  EXPECT_THAT(consent.definitions, ElementsAre("ready"));
  EXPECT_EQ(consent.clause, "assessment.intimacy_consent == 3");
  EXPECT_EQ(consent.comparison,
            "INTIMACY_CONSENT_DECLINED != INTIMACY_CONSENT_GIVEN");
  const Explanation nested =
      Explained("assessment.scores.pcs_total > 1 && ready", Scores(24, 3));
  EXPECT_THAT(nested.definitions, ElementsAre("ready", "distressed"));
  EXPECT_EQ(nested.clause,
            "assessment.scores.pcs_total >= params.pcs_high || "
            "assessment.scores.phq9_total >= 10");
  EXPECT_NE(nested.expression, -1);
  ASSERT_EQ(nested.alternatives.size(), 2u);
  EXPECT_EQ(nested.alternatives[0].comparison, "24 < 30");
  EXPECT_THAT(nested.alternatives[0].operands,
              ElementsAre(Pair("assessment.scores.pcs_total", "24"),
                          Pair("params.pcs_high", "30")));
}

TEST(ExplainTest, ErrorsNegationsAndComprehensionsAreTheirOwnClause) {
  const Explanation error = Explained("x > 1 && true", Scores(24, 3));
  EXPECT_EQ(error.clause, "x > 1");
  EXPECT_EQ(error.value, "error: x is not set");
  const Explanation negation =
      Explained("!(assessment.scores.pcs_total > 1)", Scores(24, 3));
  EXPECT_EQ(negation.clause, "!(assessment.scores.pcs_total > 1)");
  EXPECT_THAT(negation.operands,
              ElementsAre(Pair("assessment.scores.pcs_total > 1", "true")));
  const Explanation exists =
      Explained("assessment.red_flags.exists(f, f == 1)", Scores(24, 3));
  EXPECT_EQ(exists.clause, "assessment.red_flags.exists(f, f == 1)");
  EXPECT_THAT(exists.operands, ElementsAre(Pair("assessment.red_flags", "[]")));
  // A true && is explained as a whole.
  const Explanation held = Explained(
      "assessment.scores.pcs_total > 1 && assessment.scores.phq9_total > 1",
      Scores(24, 3));
  EXPECT_EQ(held.value, "true");
  EXPECT_EQ(held.clause,
            "assessment.scores.pcs_total > 1 && "
            "assessment.scores.phq9_total > 1");
}

ParseResult Parse(const std::string& text) { return cel::Parse(Source(text)); }

TEST(ExprToCelTest, PrintsWhatParsesBackToTheSameExpression) {
  for (const char* text :
       {"a.b >= 30 && !c", "(a || b) && c", "a || b && c", "a - (b - c)",
        "a - b - c", "-(a + b)", "has(a.b) ? x[0] : [1, 2].map(v, v * 2)",
        "a.exists(i, v, v > i)", "{\"k\": 1u}.size() in [1, 2.5, b\"x\"]",
        "M{f: 1}.f", "(a ? b : c) ? d : e"}) {
    ParseResult first = Parse(text);
    ASSERT_TRUE(first.expr) << text;
    const std::string printed = ExprToCel(*first.expr);
    ParseResult again = Parse(printed);
    ASSERT_TRUE(again.expr) << printed;
    EXPECT_EQ(ExprToString(*again.expr), ExprToString(*first.expr))
        << text << " printed as " << printed;
  }
  EXPECT_EQ(ExprToCel(*Parse("a-(b-c)").expr), "a - (b - c)");
  EXPECT_EQ(ExprToCel(*Parse("(a||b)&&c").expr), "(a || b) && c");
}

}  // namespace
}  // namespace reconnect::cel
