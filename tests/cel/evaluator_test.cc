#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/cel/runtime/program.h"
#include "gmock/gmock.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"
#include "tests/testing/cel_eval.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::cel {
namespace {

using ::reconnect::testing_util::IsOk;

using testing_util::EvalCel;

struct Case {
  std::string expr;
  std::string expected;
};
// Names each case by its expression in test listings.
void PrintTo(const Case& c, std::ostream* os) { *os << c.expr; }

class EvalTest : public testing::TestWithParam<Case> {};

TEST_P(EvalTest, Evaluates) {
  EXPECT_EQ(EvalCel(GetParam().expr), GetParam().expected) << GetParam().expr;
}

INSTANTIATE_TEST_SUITE_P(
    Arithmetic, EvalTest,
    testing::Values(Case{"1 + 2 * 3", "int: 7"}, Case{"7 / 2", "int: 3"},
                    Case{"-7 / 2", "int: -3"}, Case{"-7 % 3", "int: -1"},
                    Case{"7u / 2u", "uint: 3u"},
                    Case{"7.0 / 2.0", "double: 3.5"},
                    Case{"1.0 / 0.0", "double: +infinity"},
                    Case{"9223372036854775807 + 1", "error: integer overflow"},
                    Case{"-9223372036854775808 - 1", "error: integer overflow"},
                    Case{"-(-9223372036854775808)", "error: integer overflow"},
                    Case{"-9223372036854775808 / -1",
                         "error: integer overflow"},
                    Case{"0u - 1u", "error: unsigned integer overflow"},
                    Case{"1 / 0", "error: division by zero"},
                    Case{"1 % 0", "error: modulus by zero"},
                    Case{"18446744073709551615u * 2u",
                         "error: unsigned integer overflow"}));

INSTANTIATE_TEST_SUITE_P(
    Types, EvalTest,
    testing::Values(
        Case{"1 + 1u",
             "issues: 1:3: found no matching overload for '_+_' applied to "
             "'(int, uint)'"},
        Case{"1 + 1.0",
             "issues: 1:3: found no matching overload for '_+_' applied to "
             "'(int, double)'"},
        Case{"'a' + 1",
             "issues: 1:5: found no matching overload for '_+_' applied to "
             "'(string, int)'"},
        Case{"x + 1",
             "error: no matching overload for '_+_' applied to (null_type, "
             "int)"},
        Case{"1 == 1.0", "bool: true"}, Case{"1 == 1u", "bool: true"},
        Case{"1u < 2.5", "bool: true"}, Case{"-1 < 1u", "bool: true"},
        // int meets double as a double (conformance:
        // not_lt_dyn_int_big_lossy_double).
        Case{"9223372036854775807 < 9223372036854775808.0", "bool: false"},
        Case{"type(1) == int", "bool: true"}, Case{"type(1u)", "type: uint"},
        Case{"type('s') == string", "bool: true"},
        Case{"type([]) == list", "bool: true"}, Case{"int(3.9)", "int: 3"},
        Case{"int(-3.9)", "int: -3"},
        Case{"uint(-1)", "error: range error: negative int cannot be uint"},
        Case{"int(1e19)",
             "error: range error: double value does not fit in int"},
        Case{"int('42')", "int: 42"},
        Case{"int('4x')", "error: cannot convert string to int: \"4x\""},
        Case{"double(3)", "double: 3.0"}, Case{"string(1.5)", "string: 1.5"},
        Case{"string(2u)", "string: 2"}, Case{"string(b'abc')", "string: abc"},
        Case{"string(b'\\xff')",
             "error: invalid UTF-8 in bytes, cannot convert to string"},
        Case{"bool('true') && !bool('f')", "bool: true"},
        Case{"dyn(1) + 1", "int: 2"}, Case{"null == null", "bool: true"},
        Case{"1 == 'a'",
             "issues: 1:3: found no matching overload for '_==_' applied to "
             "'(int, string)'"},
        Case{"dyn(1) == 'a'", "bool: false"}));

INSTANTIATE_TEST_SUITE_P(
    Logic, EvalTest,
    testing::Values(
        // && and || are commutative over errors (CEL spec).
        Case{"false && (1 / 0 == 1)", "bool: false"},
        Case{"(1 / 0 == 1) && false", "bool: false"},
        Case{"true || (1 / 0 == 1)", "bool: true"},
        Case{"(1 / 0 == 1) || true", "bool: true"},
        Case{"(1 / 0 == 1) && true", "error: division by zero"},
        Case{"false || (1 / 0 == 1)", "error: division by zero"},
        Case{"true ? 1 : 1 / 0", "int: 1"},
        Case{"x ? 1 : 2",
             "error: no matching overload for '_?_:_' applied to (null_type, "
             "...)"},
        Case{"!true", "bool: false"},
        Case{"x && true",
             "error: no matching overload for '_&&_' applied to (null_type, "
             "bool)"}));

INSTANTIATE_TEST_SUITE_P(
    StringsAndLists, EvalTest,
    testing::Values(
        Case{"size('héllo')", "int: 5"}, Case{"size(b'h\\xc3\\xa9')", "int: 3"},
        Case{"'hello'.contains('ell')", "bool: true"},
        Case{"'hello'.startsWith('he')", "bool: true"},
        Case{"'hello'.endsWith('lo')", "bool: true"},
        Case{"'hello'.matches('^h.*o$')", "bool: true"},
        Case{"matches('abc', 'b')", "bool: true"},
        Case{"'abc'.matches('(')",
             "issues: 1:15: invalid regular expression: missing ): ("},
        Case{"'a' < 'b'", "bool: true"}, Case{"'a' + 'b'", "string: ab"},
        Case{"[1, 2] + [3]", "list: [1, 2, 3]"}, Case{"[1, 2][1]", "int: 2"},
        Case{"[1, 2][2]", "error: index out of range: 2"},
        Case{"2 in [1, 2]", "bool: true"}, Case{"size([1, 2, 3])", "int: 3"},
        Case{"[1, 2].size()", "int: 2"}, Case{"{'a': 1}['a']", "int: 1"},
        Case{"{'a': 1}['b']", "error: no such key: b"},
        Case{"{'a': 1}.a", "int: 1"}, Case{"has({'a': 1}.a)", "bool: true"},
        Case{"has({'a': 1}.b)", "bool: false"},
        Case{"'a' in {'a': 1}", "bool: true"},
        Case{"{1: 'x'}[1u]", "string: x"},
        Case{"{1: 1, 1u: 2}", "error: Failed with repeated key: 1u"},
        Case{"[1, 2] == [1, 2]", "bool: true"},
        Case{"{'a': [1]} == {'a': [1]}", "bool: true"}));

INSTANTIATE_TEST_SUITE_P(
    Macros, EvalTest,
    testing::Values(
        Case{"[1, 2, 3].all(i, i > 0)", "bool: true"},
        Case{"[1, 2, 3].exists(i, i > 2)", "bool: true"},
        Case{"[1, 2, 3].exists_one(i, i > 1)", "bool: false"},
        Case{"[1, 2, 3].map(i, i * 2)", "list: [2, 4, 6]"},
        Case{"[1, 2, 3].map(i, i > 1, i * 10)", "list: [20, 30]"},
        Case{"[1, 2, 3].filter(i, i % 2 == 1)", "list: [1, 3]"},
        Case{"{'a': 1, 'b': 2}.all(k, k in ['a', 'b'])", "bool: true"},
        // Errors are absorbed by a definite answer, as for && and ||.
        Case{"[0, 1].exists(i, 1 / i == 1)", "bool: true"},
        Case{"[0, 1].all(i, 1 / i == 1)", "error: division by zero"},
        Case{"[1, 0].all(i, i != 0 && 1 / i > 0)", "bool: false"},
        Case{"[[1, 2], [3]].map(l, l.map(i, i + 1))", "list: [[2, 3], [4]]"},
        Case{"[1].all(i, i)",
             "issues: 1:12: predicate must be bool, found 'int'"},
        // Two-variable forms: (index, element) over lists, (key, value) over
        // maps.
        Case{"['a', 'b'].all(i, v, i < 2 && v != '')", "bool: true"},
        Case{"{'a': 1, 'b': 2}.exists(k, v, k == 'b' && v == 2)", "bool: true"},
        Case{"[5, 7, 8].existsOne(i, v, v % 5 == i)", "bool: true"},
        Case{"[2, 4, 6].transformList(i, v, v / 2 + i)", "list: [1, 3, 5]"},
        Case{"[2, 4, 6].transformList(i, v, i != 1, v)", "list: [2, 6]"},
        Case{"{'a': 1}.transformMap(k, v, v * 10)", "map: {\"a\": 10}"},
        Case{"{'a': 1, 'b': 2}.transformMap(k, v, k == 'b', v)",
             "map: {\"b\": 2}"},
        Case{"[0].transformList(i, v, 1 / v)", "error: division by zero"}));

INSTANTIATE_TEST_SUITE_P(
    TimeValues, EvalTest,
    testing::Values(
        Case{"duration('1h30m') == duration('90m')", "bool: true"},
        Case{"string(duration('1.5s'))", "string: 1.5s"},
        Case{"timestamp('2026-01-02T03:04:05Z').getFullYear()", "int: 2026"},
        Case{"timestamp('2026-01-02T03:04:05Z').getMonth()", "int: 0"},
        Case{"timestamp('2026-01-02T03:04:05Z').getDate()", "int: 2"},
        Case{"timestamp('2026-01-04T00:00:00Z').getDayOfWeek()", "int: 0"},
        Case{"timestamp('2026-01-02T03:04:05Z').getHours('+05:30')", "int: 8"},
        Case{"timestamp('2026-01-02T00:00:00Z') - "
             "timestamp('2026-01-01T00:00:00Z') == duration('24h')",
             "bool: true"},
        Case{"timestamp('2026-01-01T00:00:00Z') + duration('1h') > "
             "timestamp('2026-01-01T00:00:00Z')",
             "bool: true"},
        Case{"timestamp('not a time')",
             "error: cannot parse timestamp: \"not a time\""},
        Case{"int(timestamp('1970-01-01T00:01:00Z'))", "int: 60"}));

INSTANTIATE_TEST_SUITE_P(
    Names, EvalTest,
    testing::Values(
        Case{"params.limit + 1", "int: 31"},
        Case{"ActivityPattern.ACTIVITY_PATTERN_BOOM_BUST", "int: 2"},
        Case{"reconnect.v1.ActivityPattern.ACTIVITY_PATTERN_BOOM_BUST",
             "int: 2"},
        Case{".reconnect.v1.ActivityPattern.ACTIVITY_PATTERN_AVOIDANCE",
             "int: 3"},
        Case{"nope + 1",
             "issues: 1:1: undeclared reference to 'nope' (in container "
             "'reconnect.v1')"},
        Case{"params.missing",
             "issues: 1:1: undeclared reference to 'params' (in container "
             "'reconnect.v1')"},
        Case{"size(1)",
             "issues: 1:5: found no matching overload for 'size' applied to "
             "'(int)'"},
        Case{"foo(1)", "issues: 1:4: undeclared reference to 'foo'"},
        Case{"assessment.scores.pcs",
             "issues: 1:18: undefined field 'pcs' on type "
             "'reconnect.v1.Scores'"},
        Case{"assessment.pain.average_nrs.x",
             "issues: 1:28: type 'int' does not support field selection"},
        Case{"[1].map(y, y + 1)[0] + y",
             "issues: 1:24: undeclared reference to 'y' (in container "
             "'reconnect.v1')"},
        Case{"Scores{pcs: 1}",
             "issues: 1:8: undefined field 'pcs' on type "
             "'reconnect.v1.Scores'"}));

INSTANTIATE_TEST_SUITE_P(
    MessageConstruction, EvalTest,
    testing::Values(
        Case{"Scores{pcs_total: 31}.pcs_total", "int: 31"},
        Case{"has(Scores{pcs_total: 0}.pcs_total)", "bool: true"},
        Case{"has(Scores{}.pcs_total)", "bool: false"},
        Case{"Scores{pcs_total: 9999999999}",
             "error: range error: 9999999999 does not fit field 'pcs_total'"},
        Case{"Scores{pcs_total: 'x'}",
             "issues: 1:8: expected type of field 'pcs_total' is 'int' but "
             "provided type is 'string'"},
        Case{"Belief{code: BeliefCode.BELIEF_CODE_OTHER, patient_words: "
             "'x'}.code",
             "int: 6"},
        Case{"Assessment{red_flags: "
             "[RedFlag.RED_FLAG_NEW_MASS]}.red_flags.size()",
             "int: 1"},
        Case{"Assessment{assessed_at: "
             "timestamp('2026-05-01T00:00:00Z')}.assessed_at.getMonth()",
             "int: 4"},
        Case{"Assessment{extensions: {'a': 1, 'b': [true]}}.extensions.b[0]",
             "bool: true"},
        Case{"google.protobuf.Int32Value{value: 3}", "int: 3"},
        // Strings read from a message built in the expression keep it alive.
        Case{"google.protobuf.StringValue{value: 'foo'}", "string: foo"},
        Case{"Belief{patient_words: 'it tears'}.patient_words + '!'",
             "string: it tears!"},
        Case{"[Belief{patient_words: 'a'}, Belief{patient_words: 'b'}].map(b, "
             "b.patient_words)",
             "list: [\"a\", \"b\"]"},
        Case{"Scores{pcs_total: 1} == Scores{pcs_total: 1}", "bool: true"},
        Case{"Scores{pcs_total: 1} == Scores{pcs_total: 2}", "bool: false"},
        // Presence counts where the field has it (proto3 `optional`); -0.0
        // and 0.0 are the same number.
        Case{"Scores{pcs_total: 0} == Scores{}", "bool: false"},
        Case{"Scores{fsfi_total: -0.0} == Scores{}", "bool: false"},
        Case{"Scores{fsfi_total: -0.0} == Scores{fsfi_total: 0.0}",
             "bool: true"},
        Case{"type(Scores{}) == reconnect.v1.Scores", "bool: true"}));

v1::Assessment FromJson(const std::string& json) {
  v1::Assessment a;
  EXPECT_THAT(google::protobuf::util::JsonStringToMessage(json, &a), IsOk())
      << json;
  return a;
}

TEST(EvalFieldsTest, AbsentOptionalScoreIsNotPresentButReadsAsZero) {
  const auto a = FromJson(R"({"scores": {"tsk17Total": 40}})");
  EXPECT_EQ(EvalCel("has(assessment.scores.pcs_total)", a), "bool: false");
  EXPECT_EQ(EvalCel("assessment.scores.pcs_total", a), "int: 0");
  EXPECT_EQ(EvalCel("has(assessment.scores.tsk17_total)", a), "bool: true");
  EXPECT_EQ(EvalCel("has(assessment.pain)", a), "bool: false");
  EXPECT_EQ(EvalCel("has(assessment.pain.average_nrs)", a), "bool: false");
}

TEST(EvalFieldsTest, ScoreOfZeroIsPresent) {
  const auto a = FromJson(R"({"scores": {"phq9Item9": 0}})");
  EXPECT_EQ(EvalCel("has(assessment.scores.phq9_item9)", a), "bool: true");
}

TEST(EvalFieldsTest, EnumsRepeatedFieldsAndMessages) {
  const auto a = FromJson(R"({
    "activityPattern": "ACTIVITY_PATTERN_BOOM_BUST",
    "redFlags": ["RED_FLAG_NEW_MASS", "RED_FLAG_PREGNANCY"],
    "beliefs": [{"code": "BELIEF_CODE_PAIN_MEANS_HARM", "patientWords": "It tears."}],
    "scores": {"fsfiTotal": 20.5},
    "careTeam": {"disciplines": ["physiotherapy"]}})");
  EXPECT_EQ(EvalCel("assessment.activity_pattern == "
                    "ActivityPattern.ACTIVITY_PATTERN_BOOM_BUST",
                    a),
            "bool: true");
  EXPECT_EQ(EvalCel("size(assessment.red_flags)", a), "int: 2");
  EXPECT_EQ(EvalCel("RedFlag.RED_FLAG_PREGNANCY in assessment.red_flags", a),
            "bool: true");
  EXPECT_EQ(EvalCel("assessment.beliefs[0].patient_words", a),
            "string: It tears.");
  EXPECT_EQ(EvalCel("assessment.beliefs.exists(b, b.code == "
                    "BeliefCode.BELIEF_CODE_PAIN_MEANS_HARM)",
                    a),
            "bool: true");
  EXPECT_EQ(EvalCel("assessment.scores.fsfi_total <= 26.55", a), "bool: true");
  EXPECT_EQ(EvalCel("'physiotherapy' in assessment.care_team.disciplines", a),
            "bool: true");
  EXPECT_EQ(EvalCel("assessment.beliefs[1]", a),
            "error: index out of range: 1");
}

TEST(EvalFieldsTest, ExtensionsMapOfJsonValues) {
  const auto a = FromJson(
      R"({"extensions": {"site_code": "north", "visits": 3, "flags": [true, null]}})");
  EXPECT_EQ(EvalCel("assessment.extensions['site_code']", a), "string: north");
  EXPECT_EQ(EvalCel("assessment.extensions.visits + 1.0", a), "double: 4.0");
  EXPECT_EQ(EvalCel("assessment.extensions['flags'][1] == null", a),
            "bool: true");
  EXPECT_EQ(EvalCel("assessment.extensions['missing']", a),
            "error: no such key: missing");
  EXPECT_EQ(EvalCel("has(assessment.extensions.site_code)", a), "bool: true");
}

TEST(EvalFieldsTest, TimestampField) {
  const auto a = FromJson(R"({"assessedAt": "2026-03-04T10:00:00Z"})");
  EXPECT_EQ(EvalCel("assessment.assessed_at.getFullYear()", a), "int: 2026");
  EXPECT_EQ(
      EvalCel("assessment.assessed_at < timestamp('2027-01-01T00:00:00Z')", a),
      "bool: true");
}

TEST(EvalLimitsTest, ComprehensionIterationsAreBounded) {
  Limits limits;
  limits.max_iterations = 100;
  const std::string nested =
      "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, b)).size()";
  EXPECT_EQ(
      EvalCel(nested, {}, Value::Null(), limits),
      "error: comprehension iterations exceed 100 (limit max_iterations)");
  limits.max_iterations = 110;
  EXPECT_EQ(EvalCel(nested, {}, Value::Null(), limits), "int: 10");
}

TEST(EvalLimitsTest, EvaluationCostIsBounded) {
  // A search over a large string in a loop: few iterations, little memory,
  // but the work grows with the string. The cost budget stops it.
  const cel::Value big = cel::Value::String(std::string(64 * 1024, 'a'));
  const std::string search =
      "[1, 2, 3, 4, 5, 6, 7, 8].all(i, !x.contains('b'))";
  Limits limits;
  limits.max_cost = 10'000;
  EXPECT_EQ(EvalCel(search, {}, big, limits),
            "error: evaluation cost exceeds 10000 (limit max_cost)");
  // Each contains() over 64 KiB costs 2048: eight of them fit in 20,000.
  limits.max_cost = 20'000;
  EXPECT_EQ(EvalCel(search, {}, big, limits), "bool: true");
  // The same for matches() with a constant pattern.
  limits.max_cost = 10'000;
  EXPECT_EQ(EvalCel("[1, 2, 3, 4, 5, 6, 7, 8].all(i, !x.matches('b'))", {}, big,
                    limits),
            "error: evaluation cost exceeds 10000 (limit max_cost)");
  // Every node counts, so a budget of a few nodes stops even small work, and
  // an error cannot be absorbed by && or || once the budget is spent.
  limits.max_cost = 5;
  EXPECT_EQ(
      EvalCel("x + x + x + x + x + x == 6 || true", {}, Value::Int(1), limits),
      "error: evaluation cost exceeds 5 (limit max_cost)");
  limits.max_cost = 100;
  EXPECT_EQ(
      EvalCel("x + x + x + x + x + x == 6 || true", {}, Value::Int(1), limits),
      "bool: true");
  // The default budget leaves ordinary expressions alone.
  EXPECT_EQ(EvalCel(search, {}, big), "bool: true");
}

// A comparison with a constant number and `in` a constant list of ints are
// specialised when planned (CallNode): when the operand is of the
// constant's kind they compare directly; otherwise they take the general
// path. Either way the value is CEL's, with numbers compared across kinds.
TEST(EvalSpecialisedCallTest, SameValuesAsTheGeneralPath) {
  const Value nan = Value::Double(std::numeric_limits<double>::quiet_NaN());
  struct Input {
    Value x;
    std::string at_least_30, equals_2, in_123, below_2_5;
  };
  const std::vector<Input> inputs = {
      {Value::Int(30), "bool: true", "bool: false", "bool: false",
       "bool: false"},
      {Value::Int(2), "bool: false", "bool: true", "bool: true", "bool: true"},
      {Value::Double(2.0), "bool: false", "bool: true", "bool: true",
       "bool: true"},
      {Value::Double(30.5), "bool: true", "bool: false", "bool: false",
       "bool: false"},
      {Value::Uint(3), "bool: false", "bool: false", "bool: true",
       "bool: false"},
      {nan, "bool: false", "bool: false", "bool: false", "bool: false"},
      {Value::String("2"),
       "error: no matching overload for '_>=_' applied to (string, int)",
       "bool: false", "bool: false",
       "error: no matching overload for '_<_' applied to (string, double)"},
      {Value::Error("boom"), "error: boom", "error: boom", "error: boom",
       "error: boom"},
  };
  for (const Input& in : inputs) {
    const std::string name = in.x.DebugString();
    EXPECT_EQ(EvalCel("x >= 30", {}, in.x), in.at_least_30) << name;
    EXPECT_EQ(EvalCel("x >= params.limit", {}, in.x), in.at_least_30) << name;
    EXPECT_EQ(EvalCel("x == 2", {}, in.x), in.equals_2) << name;
    EXPECT_EQ(EvalCel("x in [1, 2, 3]", {}, in.x), in.in_123) << name;
    EXPECT_EQ(EvalCel("x in [3, 1, 2]", {}, in.x), in.in_123) << name;
    EXPECT_EQ(EvalCel("x < 2.5", {}, in.x), in.below_2_5) << name;
  }
  // On a fact: an enum field (an int) in a list of enum values.
  v1::Assessment a;
  a.set_intimacy_consent(v1::INTIMACY_CONSENT_DECLINED);
  EXPECT_EQ(EvalCel("assessment.intimacy_consent in "
                    "[IntimacyConsent.INTIMACY_CONSENT_GIVEN, "
                    "IntimacyConsent.INTIMACY_CONSENT_DECLINED]",
                    a),
            "bool: true");
  EXPECT_EQ(EvalCel("assessment.intimacy_consent == "
                    "IntimacyConsent.INTIMACY_CONSENT_GIVEN",
                    a),
            "bool: false");
}

// The specialised calls cost what the general path costs, node for node:
// each budget stops the specialised form exactly where it stops the same
// call written so that it is not specialised (the constant first, or a
// list that is not all ints).
TEST(EvalSpecialisedCallTest, SameCostAsTheGeneralPath) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"x >= 30", "30 <= x"},
      {"x == 2", "2 == x"},
      {"x < 2.5", "2.5 > x"},
      {"x in [1, 2, 3]", "x in [1, 2, dyn(3u)]"},
      {"(x + 1) in [1, 2, 3]", "(x + 1) in [1, 2, dyn(3u)]"},
  };
  for (const auto& [fast, general] : pairs) {
    for (int64_t budget = 1; budget <= 12; ++budget) {
      Limits limits;
      limits.max_cost = budget;
      for (const Value& x : {Value::Int(2), Value::Int(40)}) {
        EXPECT_EQ(EvalCel(fast, {}, x, limits), EvalCel(general, {}, x, limits))
            << fast << " with max_cost " << budget << ", x " << x.DebugString();
      }
    }
  }
}

// Facts are read with the reflection planned for the input type's own class
// (the generated one here). An input of another class of the same type (a
// dynamic message) is read with its own reflection, to the same values.
TEST(EvalFactsTest, AnInputOfAnotherClassReadsTheSame) {
  v1::Assessment generated;
  ASSERT_THAT(google::protobuf::util::JsonStringToMessage(
                  R"json({"scores": {"pcsTotal": 34, "fsfiTotal": 20.5},
                  "beliefs": [{"code": "BELIEF_CODE_PAIN_MEANS_HARM"}],
                  "redFlags": ["RED_FLAG_NEW_OR_UNEXPLAINED_BLEEDING"],
                  "intimacyConsent": "INTIMACY_CONSENT_GIVEN"})json",
                  &generated),
              IsOk());
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> dynamic(
      factory.GetPrototype(v1::Assessment::descriptor())->New());
  ASSERT_TRUE(dynamic->ParseFromString(generated.SerializeAsString()));
  ASSERT_NE(dynamic->GetReflection(), generated.GetReflection());

  ExpressionSetBuilder builder(
      google::protobuf::DescriptorPool::generated_pool(), "reconnect.v1");
  const int input =
      builder.DeclareInput("assessment", v1::Assessment::descriptor());
  std::vector<int> ids;
  for (const char* expr : {
           "assessment.scores.pcs_total",
           "has(assessment.scores.pcs_total)",
           "has(assessment.scores.tsk17_total)",
           "assessment.scores.fsfi_total",
           "assessment.intimacy_consent",
           "size(assessment.red_flags)",
           "assessment.red_flags",
           "assessment.beliefs.exists(b, b.code == "
           "BeliefCode.BELIEF_CODE_PAIN_MEANS_HARM)",
           "has(assessment.scores)",
           "assessment.relationship.partner_status",
       }) {
    const auto c = builder.Compile(expr);
    ASSERT_GE(c.id, 0) << expr;
    ids.push_back(c.id);
  }
  const auto set = builder.Build();
  std::vector<std::string> want, got;
  const std::vector<const google::protobuf::Message*> inputs = {&generated,
                                                                dynamic.get()};
  for (const google::protobuf::Message* m : inputs) {
    Evaluation ev(*set);
    ev.SetInput(input, *m);
    auto& out = m == dynamic.get() ? got : want;
    for (int id : ids) out.push_back(ev.Evaluate(id).DebugString());
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(want[0], "34");
  EXPECT_EQ(want[1], "true");
  EXPECT_EQ(want[2], "false");
  EXPECT_EQ(want[5], "1");
  EXPECT_EQ(want[7], "true");
}

TEST(EvalLimitsTest, ValueSizeIsBounded) {
  Limits limits;
  limits.max_value_size = 1000;
  // Doubling a string quickly would exhaust memory without the limit.
  std::string doubling = "'0123456789'";
  for (int i = 0; i < 10; ++i)
    doubling = "(" + doubling + " + " + doubling + ")";
  EXPECT_THAT(EvalCel("size(" + doubling + ")", {}, Value::Null(), limits),
              testing::HasSubstr("(limit max_value_size)"));
}

TEST(EvalLimitsTest, RegexProgramSizeIsBounded) {
  Limits limits;
  limits.max_regex_program_size = 50;
  EXPECT_EQ(EvalCel("'aaa'.matches('a+')", {}, Value::Null(), limits),
            "bool: true");
  EXPECT_THAT(
      EvalCel("'aaa'.matches('(a|b|c|d){1,20}')", {}, Value::Null(), limits),
      testing::HasSubstr("(limit max_regex_program_size)"));
  // A pattern built at run time meets the same limit.
  EXPECT_THAT(EvalCel("'aaa'.matches('(a|b|c|d)' + '{1,20}')", {},
                      Value::Null(), limits),
              testing::StartsWith("error: regular expression program size"));
}

TEST(EvalVariablesTest, DynamicVariable) {
  EXPECT_EQ(EvalCel("x * 2", {}, Value::Int(21)), "int: 42");
  EXPECT_EQ(EvalCel("x.size()", {}, Value::String("héllo")), "int: 5");
}

}  // namespace
}  // namespace reconnect::cel

namespace reconnect::cel {
namespace {

TEST(CompileUncheckedTest, DefersNameAndTypeErrorsToRunTime) {
  ExpressionSetBuilder builder(
      google::protobuf::DescriptorPool::generated_pool(), "");
  auto checked = builder.Compile("x || true");
  EXPECT_THAT(checked.issues, testing::Not(testing::IsEmpty()));
  auto short_circuit = builder.CompileUnchecked("x || true");
  auto unbound = builder.CompileUnchecked("x");
  auto no_function = builder.CompileUnchecked("a.nope() || true");
  auto mismatch = builder.CompileUnchecked("1 + 'a'");
  ASSERT_GE(mismatch.id, 0);
  auto set = builder.Build();
  Evaluation ev(*set);
  EXPECT_EQ(ev.Evaluate(short_circuit.id).DebugString(), "true");
  EXPECT_EQ(ev.Evaluate(unbound.id).error_message(),
            "undeclared reference to 'x'");
  EXPECT_EQ(ev.Evaluate(no_function.id).DebugString(), "true");
  EXPECT_EQ(ev.Evaluate(mismatch.id).error_message(),
            "no matching overload for '_+_' applied to (int, string)");
}

// Found by fuzz_eval: a standard function called with the wrong number of
// arguments, which only an unchecked expression can do, read past its
// arguments. It is now an error raised when evaluated.
TEST(CompileUncheckedTest, WrongArgumentCountIsAnError) {
  ExpressionSetBuilder builder(
      google::protobuf::DescriptorPool::generated_pool(), "");
  auto none = builder.CompileUnchecked("size()");
  auto extra = builder.CompileUnchecked("[1].size(2)");
  auto absorbed = builder.CompileUnchecked("int() == 1 || true");
  EXPECT_THAT(builder.Compile("size()").issues,
              testing::Not(testing::IsEmpty()));
  auto set = builder.Build();
  Evaluation ev(*set);
  EXPECT_EQ(ev.Evaluate(none.id).error_message(),
            "no matching overload for 'size' with 0 argument(s)");
  EXPECT_EQ(ev.Evaluate(extra.id).error_message(),
            "no matching overload for 'size' with 2 argument(s)");
  EXPECT_EQ(ev.Evaluate(absorbed.id).DebugString(), "true");
}

// Enums are ints by default (CEL's legacy typing, which rule sets use).
TEST(EnumTest, LegacyEnumsAreInts) {
  v1::Assessment a;
  a.mutable_pain()->add_sites(v1::PAIN_SITE_PELVIS);
  EXPECT_EQ(EvalCel("PainSite.PAIN_SITE_PELVIS"), "int: 2");
  EXPECT_EQ(EvalCel("assessment.pain.sites[0] == 2", a), "bool: true");
  EXPECT_EQ(EvalCel("type(PainSite.PAIN_SITE_PELVIS) == int"), "bool: true");
}

// Under strong enum typing, enum values have their enum's type.
std::string Strong(const std::string& expr, const v1::Assessment& a = {}) {
  return EvalCel(expr, a, Value::Null(), Limits{}, /*strong_enums=*/true);
}

TEST(EnumTest, StrongEnumsHaveTheirType) {
  v1::Assessment a;
  a.mutable_pain()->add_sites(v1::PAIN_SITE_PELVIS);
  EXPECT_EQ(Strong("PainSite.PAIN_SITE_PELVIS"),
            "reconnect.v1.PainSite: reconnect.v1.PainSite.PAIN_SITE_PELVIS");
  EXPECT_EQ(Strong("type(PainSite.PAIN_SITE_PELVIS) == PainSite"),
            "bool: true");
  EXPECT_EQ(Strong("assessment.pain.sites[0] == PainSite.PAIN_SITE_PELVIS", a),
            "bool: true");
  EXPECT_EQ(Strong("int(assessment.pain.sites[0])", a), "int: 2");
  EXPECT_EQ(Strong("PainSite(2) == PainSite.PAIN_SITE_PELVIS"), "bool: true");
  EXPECT_EQ(Strong("PainSite('PAIN_SITE_ABDOMEN')"),
            "reconnect.v1.PainSite: reconnect.v1.PainSite.PAIN_SITE_ABDOMEN");
  EXPECT_EQ(Strong("PainSite(99)"),
            "reconnect.v1.PainSite: "
            "reconnect.v1.PainSite(99)");
  EXPECT_EQ(Strong("Pain{sites: [PainSite.PAIN_SITE_VULVA_VAGINA]}.sites[0]"),
            "reconnect.v1.PainSite: "
            "reconnect.v1.PainSite.PAIN_SITE_VULVA_VAGINA");
}

TEST(EnumTest, StrongEnumErrors) {
  EXPECT_EQ(Strong("PainSite(5000000000)"),
            "error: range error: 5000000000 is not a value of enum "
            "reconnect.v1.PainSite");
  EXPECT_EQ(Strong("PainSite('NOPE')"),
            "error: invalid name 'NOPE' for enum reconnect.v1.PainSite");
  EXPECT_EQ(Strong("PainSite(x)"),
            "error: no matching overload for 'reconnect.v1.PainSite' applied "
            "to 'null_type'");
  EXPECT_EQ(Strong("PainSite.PAIN_SITE_PELVIS == 2"),
            "issues: 1:27: found no matching overload for '_==_' applied to "
            "'(reconnect.v1.PainSite, int)'");
  EXPECT_EQ(Strong("PainSite(1.5)"),
            "issues: 1:9: found no matching overload for "
            "'reconnect.v1.PainSite' applied to '(double)'");
}

}  // namespace
}  // namespace reconnect::cel
