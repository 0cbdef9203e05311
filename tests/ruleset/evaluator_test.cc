#include <string>
#include <vector>

#include "engine/ruleset/internal/fact_json.h"
#include "engine/ruleset/rule_set.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_rule_set.h"

namespace reconnect::ruleset {
namespace {

using ::reconnect::testing_util::IsOk;

using testing::ElementsAre;
using testing::IsEmpty;
using testing_util::TempRuleSet;

std::shared_ptr<const CompiledRuleSet> Load(const TempRuleSet& rs) {
  LoadResult r = LoadRuleSet(rs.dir());
  for (const auto& i : r.issues) ADD_FAILURE() << i.ToString();
  return r.rule_set;
}

v1::Recommendation Evaluate(const CompiledRuleSet& rs,
                            const std::string& json) {
  v1::Assessment a;
  EXPECT_THAT(google::protobuf::util::JsonStringToMessage(json, &a), IsOk())
      << json;
  v1::Recommendation out;
  rs.Evaluate(a, out);
  return out;
}

std::vector<std::string> TechniqueCodes(const v1::Recommendation& r) {
  std::vector<std::string> out;
  for (const auto& c : r.components()) {
    for (const auto& t : c.techniques()) out.push_back(t.code());
  }
  return out;
}

constexpr char kTwoRules[] = R"json({"rules": [
  {"id": "r.low", "title": "Low", "when": "true", "priority": 1,
   "recommend": {"techniques": ["t1", "t2"], "prompts": ["p1"]}, "rationale": "low", "source": "s"},
  {"id": "r.guard", "title": "Guard", "when": "has(assessment.scores.pcs_total)", "priority": 10,
   "recommend": {"alerts": ["a1"]}, "suppress": {"techniques": ["tag:x"], "prompts": ["*"]},
   "rationale": "guard", "source": "s"}
]})json";

TEST(RuleSetEvaluatorTest, HigherPriorityRuleHoldsBackLowerPriorityItems) {
  TempRuleSet rs;
  rs.Write("rules/main.json", kTwoRules);
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);

  const v1::Recommendation quiet = Evaluate(*compiled, "{}");
  EXPECT_THAT(TechniqueCodes(quiet), ElementsAre("t1", "t2"));
  EXPECT_THAT(quiet.held(), IsEmpty());

  const v1::Recommendation held =
      Evaluate(*compiled, R"({"scores": {"pcsTotal": 1}})");
  EXPECT_THAT(TechniqueCodes(held), ElementsAre("t2"));
  EXPECT_EQ(held.prompts_size(), 0);
  ASSERT_EQ(held.held_size(), 2);
  EXPECT_EQ(held.held(0).code(), "t1");
  EXPECT_EQ(held.held(0).kind(), v1::ITEM_KIND_TECHNIQUE);
  EXPECT_THAT(held.held(0).recommended_by(), ElementsAre("r.low"));
  EXPECT_EQ(held.held(0).held_by().reasons(0).rule_id(), "r.guard");
  EXPECT_EQ(held.held(1).code(), "p1");
  ASSERT_EQ(held.alerts_size(), 1);
  EXPECT_EQ(held.alerts(0).severity(), v1::SEVERITY_CRITICAL);
  EXPECT_EQ(held.alerts(0).title(), "A1");
}

// Holding back every technique a prompt belongs to holds back the prompt:
// no prompt is offered for work that waits.
TEST(RuleSetEvaluatorTest, HoldingATechniqueHoldsItsPrompts) {
  TempRuleSet rs;
  std::string catalog = rs.Read("catalog.json");
  const std::string p1 =
      R"("code": "p1", "text": "P1", "audience": "clinician")";
  catalog.replace(catalog.find(p1), p1.size(),
                  p1 + R"(, "techniques": ["t1"])");
  rs.Write("catalog.json", catalog);
  rs.Write("rules/main.json", R"json({"rules": [
  {"id": "r.low", "title": "Low", "when": "true", "priority": 1,
   "recommend": {"techniques": ["t1", "t2"], "prompts": ["p1", "p2"]}, "rationale": "low", "source": "s"},
  {"id": "r.guard", "title": "Guard", "when": "has(assessment.scores.pcs_total)", "priority": 10,
   "recommend": {"alerts": ["a1"]}, "suppress": {"techniques": ["tag:x"]},
   "rationale": "guard", "source": "s"}
]})json");
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);

  const v1::Recommendation quiet = Evaluate(*compiled, "{}");
  ASSERT_EQ(quiet.prompts_size(), 2);
  EXPECT_THAT(quiet.held(), IsEmpty());

  const v1::Recommendation held =
      Evaluate(*compiled, R"({"scores": {"pcsTotal": 1}})");
  EXPECT_THAT(TechniqueCodes(held), ElementsAre("t2"));
  ASSERT_EQ(held.prompts_size(), 1);
  EXPECT_EQ(held.prompts(0).code(), "p2");  // it belongs to no technique
  ASSERT_EQ(held.held_size(), 2);
  EXPECT_EQ(held.held(0).code(), "t1");
  EXPECT_EQ(held.held(1).code(), "p1");
  EXPECT_EQ(held.held(1).kind(), v1::ITEM_KIND_PROMPT);
  EXPECT_THAT(held.held(1).recommended_by(), ElementsAre("r.low"));
  EXPECT_EQ(held.held(1).held_by().reasons(0).rule_id(), "r.guard");
}

// Considerations the catalog marks "summary" are named in the summary line,
// right after the alerts; others are not.
TEST(RuleSetEvaluatorTest, SummaryNamesTheConsiderationsMarkedForIt) {
  TempRuleSet rs;
  std::string catalog = rs.Read("catalog.json");
  const std::string k1 = R"("considerations": [{"code": "k1", "text": "K1"}])";
  catalog.replace(
      catalog.find(k1), k1.size(),
      R"("considerations": [{"code": "k1", "text": "K1", "title": "First thing", "summary": true},
                                        {"code": "k2", "text": "K2", "title": "Other"}])");
  rs.Write("catalog.json", catalog);
  rs.Write("rules/main.json", R"json({"rules": [
  {"id": "r.k", "title": "K", "when": "true", "priority": 1,
   "recommend": {"considerations": ["k1", "k2"], "alerts": ["a1"], "prompts": ["p1"]}, "rationale": "k", "source": "s"}
]})json");
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  EXPECT_EQ(Evaluate(*compiled, "{}").summary(),
            "Alerts: A1. Considerations: First thing. Prompts: 1");

  std::string untitled = catalog;
  untitled.replace(untitled.find(R"("title": "First thing", )"), 23, "");
  rs.Write("catalog.json", untitled);
  LoadResult r = LoadRuleSet(rs.dir());
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_THAT(r.issues[0].ToString(),
              testing::HasSubstr("consideration 'k1': one named in the "
                                 "summary needs a \"title\" [RS104]"));
}

TEST(RuleSetEvaluatorTest, EqualPriorityDoesNotSuppress) {
  TempRuleSet rs;
  std::string rules = kTwoRules;
  rules.replace(rules.find("\"priority\": 10"), 14, "\"priority\": 1");
  rs.Write("rules/main.json", rules);
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  const v1::Recommendation r =
      Evaluate(*compiled, R"({"scores": {"pcsTotal": 1}})");
  EXPECT_THAT(TechniqueCodes(r), ElementsAre("t1", "t2"));
  EXPECT_THAT(r.held(), IsEmpty());
}

TEST(RuleSetEvaluatorTest, RationaleIsRenderedWithTheFactsRead) {
  TempRuleSet rs;
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  const v1::Recommendation r =
      Evaluate(*compiled, R"({"scores": {"pcsTotal": 33}})");
  ASSERT_EQ(r.components_size(), 1);
  const auto& reason = r.components(0).techniques(0).rationale().reasons(0);
  EXPECT_EQ(reason.rule_id(), "r.high");
  EXPECT_EQ(reason.reason(), "PCS 33 >= 30");
  EXPECT_THAT(reason.fact_paths(), ElementsAre("scores.pcs_total"));
  ASSERT_EQ(r.facts_size(), 1);
  EXPECT_EQ(r.facts(0).path(), "scores.pcs_total");
  EXPECT_TRUE(r.facts(0).present());
  EXPECT_EQ(r.facts(0).value().number_value(), 33);
}

TEST(RuleSetEvaluatorTest, SkillsGapsAgainstTheCareTeam) {
  TempRuleSet rs;
  rs.Write("rules/main.json", R"({"rules": [
    {"id": "r.all", "title": "All", "when": "true", "priority": 1,
     "recommend": {"techniques": ["t1", "t2"], "disciplines": ["d2"]}, "rationale": "x", "source": "s"}]})");
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);

  // No team given: no gaps, every able discipline listed.
  const v1::Recommendation unknown = Evaluate(*compiled, "{}");
  EXPECT_THAT(unknown.skills_gaps(), IsEmpty());
  ASSERT_EQ(unknown.disciplines_size(), 2);
  EXPECT_FALSE(unknown.disciplines(0).in_team());

  const v1::Recommendation team =
      Evaluate(*compiled, R"({"careTeam": {"disciplines": ["d1"]}})");
  ASSERT_EQ(team.skills_gaps_size(), 2);
  EXPECT_EQ(team.skills_gaps(0).kind(), v1::ITEM_KIND_TECHNIQUE);
  EXPECT_EQ(team.skills_gaps(0).code(), "t2");
  EXPECT_THAT(team.skills_gaps(0).disciplines_able(), ElementsAre("d2"));
  EXPECT_EQ(team.skills_gaps(0).suggestion(), "Missing T2: D2");
  EXPECT_EQ(team.skills_gaps(1).kind(), v1::ITEM_KIND_DISCIPLINE);
  EXPECT_EQ(team.skills_gaps(1).code(), "d2");
  ASSERT_EQ(team.disciplines_size(), 1);
  EXPECT_EQ(team.disciplines(0).code(), "d1");
  EXPECT_TRUE(team.disciplines(0).in_team());
  EXPECT_THAT(team.disciplines(0).techniques(), ElementsAre("t1"));
}

TEST(RuleSetEvaluatorTest, UnknownTeamDisciplineIsAnInputViolation) {
  TempRuleSet rs;
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  v1::Assessment a;
  a.mutable_care_team()->add_disciplines("d1");
  a.mutable_care_team()->add_disciplines("surgery");
  const auto violations = compiled->ValidateInput(a);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "care_team.disciplines[1]");
  EXPECT_EQ(violations[0].description,
            "unknown discipline code; expected one of: d1, d2");
}

TEST(RuleSetEvaluatorTest, RuntimeErrorInADefinitionNamesTheDefinition) {
  TempRuleSet rs;
  rs.Write("defs.json", R"({
  "ratio": {"doc": "d",
    "expr": "100 / assessment.scores.pcs_total"}})");
  rs.Write("rules/main.json", R"({"rules": [
    {"id": "r.ratio", "title": "R", "when": "defs.ratio > 1", "priority": 1,
     "recommend": {"techniques": ["t1"]}, "rationale": "x", "source": "s"}]})");
  rs.Write("tests/cases.json", R"({"cases": [
  {"name": "r", "assessment": {"scores": {"pcs_total": 20}}, "expect": {"techniques": ["t1"]}}]})");
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  const v1::Recommendation r = Evaluate(*compiled, "{}");
  ASSERT_EQ(r.evaluation_issues_size(), 1);
  EXPECT_EQ(r.evaluation_issues(0).rule_id(), "r.ratio");
  EXPECT_EQ(r.evaluation_issues(0).message(), "division by zero");
  EXPECT_EQ(r.evaluation_issues(0).location(), "defs.json:3:18");
}

TEST(RuleSetEvaluatorTest, RuntimeErrorIsReportedAndTheRuleDoesNotFire) {
  TempRuleSet rs;
  rs.Write("rules/main.json", R"({"rules": [
    {"id": "r.ext", "title": "Ext", "when": "assessment.extensions['site'] == 'x'", "priority": 1,
     "recommend": {"techniques": ["t1"]}, "rationale": "x", "source": "s"}]})");
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  const v1::Recommendation missing = Evaluate(*compiled, "{}");
  EXPECT_THAT(TechniqueCodes(missing), IsEmpty());
  ASSERT_EQ(missing.evaluation_issues_size(), 1);
  EXPECT_EQ(missing.evaluation_issues(0).rule_id(), "r.ext");
  EXPECT_EQ(missing.evaluation_issues(0).message(), "no such key: site");
  // The index operation, in the rule's file: line 2, column 67 is the `[`.
  EXPECT_EQ(missing.evaluation_issues(0).location(), "rules/main.json:2:67");
  const v1::Recommendation present =
      Evaluate(*compiled, R"({"extensions": {"site": "x"}})");
  EXPECT_THAT(TechniqueCodes(present), ElementsAre("t1"));
  EXPECT_THAT(present.evaluation_issues(), IsEmpty());
}

// The conditions alone say which rules fire, as the full evaluation does; a
// condition that is an error is not met. r.guard holds back r.low's
// techniques, and r.low still counts as met (it fired).
TEST(RuleSetEvaluatorTest, ConditionsMetAreTheRulesThatFire) {
  TempRuleSet rs;
  rs.Write("rules/main.json", R"json({"rules": [
  {"id": "r.low", "title": "Low", "when": "true", "priority": 1,
   "recommend": {"techniques": ["t1"]}, "rationale": "low", "source": "s"},
  {"id": "r.guard", "title": "Guard", "when": "has(assessment.scores.pcs_total)",
   "priority": 10, "recommend": {"alerts": ["a1"]},
   "suppress": {"techniques": ["*"]}, "rationale": "guard", "source": "s"},
  {"id": "r.ratio", "title": "Ratio", "priority": 5,
   "when": "100 / assessment.scores.phq9_total > 1",
   "recommend": {"techniques": ["t2"]}, "rationale": "ratio", "source": "s"}
]})json");
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  // Rules are in priority order: r.guard, r.ratio, r.low.
  ASSERT_EQ(compiled->rule_id(0), "r.guard");
  ASSERT_EQ(compiled->rule_id(1), "r.ratio");
  for (const char* json :
       {R"json({})json", R"json({"scores": {"pcsTotal": 3}})json",
        R"json({"scores": {"phq9Total": 4}})json",
        R"json({"scores": {"phq9Total": 400}})json"}) {
    v1::Assessment a;
    ASSERT_THAT(google::protobuf::util::JsonStringToMessage(json, &a), IsOk());
    std::vector<bool> met = {true, true, true, true, true};  // replaced
    compiled->EvaluateConditions(a, met);
    std::vector<size_t> fired;
    v1::Recommendation out;
    compiled->Evaluate(a, out, &fired);
    std::vector<bool> fired_mask(compiled->rule_count(), false);
    for (size_t i : fired) fired_mask[i] = true;
    EXPECT_EQ(met, fired_mask) << json;
  }
  v1::Assessment a;
  ASSERT_THAT(google::protobuf::util::JsonStringToMessage(
                  R"json({"scores": {"pcsTotal": 3, "phq9Total": 4}})json", &a),
              IsOk());
  std::vector<bool> met;
  compiled->EvaluateConditions(a, met);
  EXPECT_THAT(met, ElementsAre(true, true, true));
  compiled->EvaluateConditions(v1::Assessment(), met);  // 100 / 0: an error
  EXPECT_THAT(met, ElementsAre(false, false, true));
}

TEST(RuleSetEvaluatorTest, SameInputSameOutput) {
  TempRuleSet rs;
  rs.Write("rules/main.json", kTwoRules);
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  const std::string input = R"({"scores": {"pcsTotal": 1}})";
  EXPECT_EQ(Evaluate(*compiled, input).SerializeAsString(),
            Evaluate(*compiled, input).SerializeAsString());
}

TEST(RuleSetTesterTest, ReportsFailuresAndCoverage) {
  TempRuleSet rs;
  rs.Write("rules/main.json", kTwoRules);
  rs.Write("tests/cases.json", R"({"cases": [
    {"name": "passes", "assessment": {}, "expect": {"techniques": ["t1"]}},
    {"name": "fails", "assessment": {}, "expect": {"techniques": ["t9"]}, "expect_not": {"prompts": ["p1"]}},
    {"name": "bad input", "assessment": {"scores": {"nope": 1}}}
  ]})");
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  TestReport report = RunRuleSetTests(rs.dir(), *compiled);
  ASSERT_EQ(report.cases.size(), 2u);
  EXPECT_THAT(report.cases[0].failures, IsEmpty());
  EXPECT_THAT(
      report.cases[1].failures,
      ElementsAre("expected techniques 't9'", "did not expect prompts 'p1'"));
  ASSERT_EQ(report.issues.size(), 1u);
  EXPECT_THAT(report.issues[0].ToString(),
              testing::HasSubstr(
                  "tests/cases.json:4:27: test case 'bad input': "
                  "\"assessment\" is not a valid reconnect.v1.Assessment"));
  EXPECT_THAT(report.rules_never_fired, ElementsAre("r.guard"));
  EXPECT_THAT(report.reasons_never_checked, ElementsAre("r.guard", "r.low"));
  EXPECT_EQ(report.passed(), 1u);
  EXPECT_EQ(report.failed(), 1u);
}

// Cases assert each rule's reason exactly as rendered, so that a reason
// claiming something the input does not say fails its test.
TEST(RuleSetTesterTest, ChecksReasonText) {
  TempRuleSet rs;
  rs.Write("tests/cases.json", R"({"cases": [
    {"name": "right", "assessment": {"scores": {"pcs_total": 31}},
     "expect_reason": {"r.high": "PCS 31 >= 30"}},
    {"name": "wrong", "assessment": {"scores": {"pcs_total": 32}},
     "expect_reason": {"r.high": "PCS 31 >= 30"}},
    {"name": "not fired", "assessment": {}, "expect_reason": {"r.high": "PCS 31 >= 30"}},
    {"name": "unknown rule", "assessment": {}, "expect_reason": {"r.nope": "x", "r.high": 3}},
    {"name": "not a map", "assessment": {}, "expect_reason": ["r.high"]}
  ]})");
  auto compiled = Load(rs);
  ASSERT_NE(compiled, nullptr);
  TestReport report = RunRuleSetTests(rs.dir(), *compiled);
  ASSERT_EQ(report.cases.size(), 5u);
  EXPECT_THAT(report.cases[0].failures, IsEmpty());
  EXPECT_THAT(report.cases[1].failures,
              ElementsAre("rule 'r.high' gave the reason \"PCS 32 >= 30\", "
                          "expected \"PCS 31 >= 30\""));
  EXPECT_THAT(report.cases[2].failures,
              ElementsAre(testing::StartsWith(
                  "expected a reason from rule 'r.high', but the plan cites "
                  "none")));
  std::vector<std::string> issues;
  for (const auto& i : report.issues) issues.push_back(i.ToString());
  EXPECT_THAT(
      issues,
      ElementsAre(
          testing::HasSubstr("tests/cases.json:7:81: test case 'unknown "
                             "rule': expect_reason 'r.high' must be a string"),
          testing::HasSubstr("tests/cases.json:7:66: test case 'unknown "
                             "rule': expect_reason 'r.nope' is not a rule of "
                             "this rule set [RS401]"),
          testing::HasSubstr("\"expect_reason\" must map rule ids to the "
                             "reason text each should render")));
  EXPECT_THAT(report.reasons_never_checked, IsEmpty());
}

}  // namespace
}  // namespace reconnect::ruleset

namespace reconnect::ruleset {
namespace {

// Facts are converted to JSON values by reflection for speed; they must
// match what protobuf's own JSON mapping writes for the same fields.
TEST(FactJsonTest, MatchesProtobufJsonMapping) {
  v1::Assessment a;
  ASSERT_THAT(google::protobuf::util::JsonStringToMessage(R"({
    "assessedAt": "2026-03-04T10:00:00.500Z",
    "beliefs": [{"code": "BELIEF_CODE_PAIN_MEANS_HARM", "patientWords": "It tears."}, {"code": "BELIEF_CODE_OTHER"}],
    "medicines": [{"medicineClass": "MEDICINE_CLASS_OPIOID", "name": "x", "timingProblem": true}],
    "scores": {"pcsTotal": 0, "fsfiTotal": 20.5},
    "extensions": {"site": "north", "list": [1, "a", null], "obj": {"k": true}},
    "redFlags": ["RED_FLAG_NEW_MASS"],
    "cultural": {"interpreterNeeded": true, "considerations": ["CULTURAL_CONSIDERATION_MODESTY"]}
  })",
                                                          &a),
              IsOk());
  std::string json;
  ASSERT_THAT(google::protobuf::util::MessageToJsonString(a, &json), IsOk());
  google::protobuf::Value expected;
  ASSERT_THAT(google::protobuf::util::JsonStringToMessage(json, &expected),
              IsOk());
  const auto& want = expected.struct_value().fields();

  const auto* d = v1::Assessment::descriptor();
  for (const char* field : {"assessed_at", "beliefs", "medicines", "scores",
                            "extensions", "red_flags", "cultural"}) {
    cel::FactPath path{0, {d->FindFieldByName(field)}, field};
    google::protobuf::Value got;
    EXPECT_TRUE(ruleset_internal::FactToJson(a, path, &got)) << field;
    const auto it = want.find(path.fields[0]->json_name());
    ASSERT_NE(it, want.end()) << field;
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(got, it->second))
        << field << "\n got: " << got.ShortDebugString()
        << "\nwant: " << it->second.ShortDebugString();
  }
  // A nested optional score that is set to zero is present; an unset one is
  // not.
  cel::FactPath pcs{0,
                    {d->FindFieldByName("scores"),
                     v1::Scores::descriptor()->FindFieldByName("pcs_total")},
                    "scores.pcs_total"};
  cel::FactPath tsk{0,
                    {d->FindFieldByName("scores"),
                     v1::Scores::descriptor()->FindFieldByName("tsk17_total")},
                    "scores.tsk17_total"};
  google::protobuf::Value v;
  EXPECT_TRUE(ruleset_internal::FactToJson(a, pcs, &v));
  EXPECT_EQ(v.number_value(), 0);
  EXPECT_FALSE(ruleset_internal::FactToJson(a, tsk, &v));
  EXPECT_TRUE(v.has_null_value());
}

}  // namespace
}  // namespace reconnect::ruleset
