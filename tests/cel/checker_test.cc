#include "engine/cel/checker/checker.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/cel/parser/parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"

namespace reconnect::cel {
namespace {

// "type" of a well-typed expression in `env`, or "line:col: message" issues.
std::string CheckIn(const CheckerEnv& env, const std::string& text) {
  Source source(text);
  ParseResult parsed = Parse(source);
  if (!parsed.issues.empty()) return "parse error";
  CheckResult r = Check(*parsed.expr, source, env);
  if (!r.issues.empty()) return FormatIssues(r.issues);
  return r.type.ToString();
}

// CheckIn, with an assessment input and a few variables.
std::string CheckToString(const std::string& text) {
  CheckerEnv env(google::protobuf::DescriptorPool::generated_pool(),
                 "reconnect.v1");
  env.AddVariable("assessment", Type::Message(v1::Assessment::descriptor()));
  env.AddVariable("params.cut", Type::Int());
  env.AddVariable("names", Type::List(Type::String()));
  env.AddVariable("counts", Type::Map(Type::String(), Type::Int()));
  env.AddVariable("d", Type::Dyn());
  return CheckIn(env, text);
}

struct Case {
  std::string expr;
  std::string expected;
};
// Names each case by its expression in test listings.
void PrintTo(const Case& c, std::ostream* os) { *os << c.expr; }

class CheckerTest : public testing::TestWithParam<Case> {};

TEST_P(CheckerTest, InfersTypeOrReports) {
  EXPECT_EQ(CheckToString(GetParam().expr), GetParam().expected)
      << GetParam().expr;
}

INSTANTIATE_TEST_SUITE_P(
    Types, CheckerTest,
    testing::Values(
        Case{"1 + 2", "int"}, Case{"1u * 2u", "uint"},
        Case{"1.5 / 2.0", "double"}, Case{"'a' + 'b'", "string"},
        Case{"b'a' + b'b'", "bytes"}, Case{"[1, 2]", "list(int)"},
        Case{"[1, 'a']", "list(dyn)"}, Case{"{'a': 1}", "map(string, int)"},
        Case{"{'a': 1, 'b': 'x'}", "map(string, dyn)"}, Case{"[]", "list(dyn)"},
        Case{"true ? 1 : 2", "int"}, Case{"true ? 1 : 'a'", "dyn"},
        Case{"true ? null : 1", "int"}, Case{"names[0]", "string"},
        Case{"counts['a']", "int"}, Case{"counts.a", "int"},
        Case{"d.anything", "dyn"}, Case{"d + 1", "int"},
        Case{"size(names)", "int"}, Case{"names.map(n, size(n))", "list(int)"},
        Case{"names.filter(n, n != '')", "list(string)"},
        Case{"names.exists(n, n == 'x')", "bool"},
        Case{"counts.all(k, k != '')", "bool"}, Case{"type(1)", "type(int)"},
        Case{"int", "type"},
        Case{"timestamp('2026-01-01T00:00:00Z')", "google.protobuf.Timestamp"},
        Case{"duration('1s') + duration('2s')", "google.protobuf.Duration"},
        Case{"assessment", "reconnect.v1.Assessment"},
        Case{"assessment.scores", "reconnect.v1.Scores"},
        Case{"assessment.scores.pcs_total", "int"},
        Case{"assessment.scores.fsfi_total", "double"},
        Case{"has(assessment.scores.pcs_total)", "bool"},
        Case{"assessment.red_flags", "list(int)"},
        Case{"assessment.beliefs[0].patient_words", "string"},
        Case{"assessment.extensions", "map(string, dyn)"},
        Case{"assessment.assessed_at", "google.protobuf.Timestamp"},
        Case{"ActivityPattern.ACTIVITY_PATTERN_BOOM_BUST", "int"},
        Case{"params.cut", "int"},
        Case{"Scores{pcs_total: 1}", "reconnect.v1.Scores"},
        Case{"google.protobuf.Int32Value{value: 1}", "wrapper(int)"},
        Case{"google.protobuf.Int32Value{value: 1} + 1", "int"},
        Case{"[google.protobuf.Int32Value{value: 1}, 2]", "list(wrapper(int))"},
        Case{"true ? google.protobuf.Int32Value{value: 1} : null",
             "wrapper(int)"},
        // Empty literals take the type they are joined with.
        Case{"[[], [1]]", "list(list(int))"}, Case{"[] + [1]", "list(int)"},
        Case{"[[[]], []]", "list(list(list(dyn)))"},
        Case{"{}", "map(dyn, dyn)"},
        Case{"[{}, {'a': 1}]", "list(map(string, int))"},
        Case{"[].map(x, x)[0].foo", "dyn"},
        // What is read out of an empty literal is a type variable: bound
        // by later use, and never to a type that holds it.
        Case{"{}.map(c, [c, type(c)])", "list(list(dyn))"},
        Case{"[[][0], 1]", "list(int)"}, Case{"[1] + [dyn('a')]", "list(dyn)"},
        Case{"[{}.map(c, c, c)] + [{}.map(c, c, c)]", "list(list(bool))"},
        Case{"[].map(x, [].map(y, x in y && y in x))",
             "1:33: found no matching overload for '@in' applied to "
             "'(list(dyn), dyn)'"},
        Case{"[].map(x, x in [1])", "list(bool)"},
        Case{"[].filter(x, x)", "list(bool)"},
        Case{"[1] + ['a']",
             "1:5: found no matching overload for '_+_' applied to "
             "'(list(int), list(string))'"}));

INSTANTIATE_TEST_SUITE_P(
    Errors, CheckerTest,
    testing::Values(
        Case{"1 + 'a'",
             "1:3: found no matching overload for '_+_' applied to '(int, "
             "string)'"},
        Case{"-'a'",
             "1:1: found no matching overload for '-_' applied to '(string)'"},
        Case{"!1",
             "1:1: found no matching overload for '!_' applied to '(int)'"},
        Case{"1 ? 2 : 3",
             "1:3: found no matching overload for '_?_:_' applied to '(int, "
             "int, int)'"},
        Case{"names['a']",
             "1:6: found no matching overload for '_[_]' applied to "
             "'(list(string), string)'"},
        Case{"1 in names",
             "1:3: found no matching overload for '@in' applied to '(int, "
             "list(string))'"},
        Case{"'a'.size(1)",
             "1:9: found no matching overload for 'size' applied to "
             "'string.(int)'"},
        Case{"nope",
             "1:1: undeclared reference to 'nope' (in container "
             "'reconnect.v1')"},
        Case{"nope(1)", "1:5: undeclared reference to 'nope'"},
        Case{"assessment.nope",
             "1:11: undefined field 'nope' on type 'reconnect.v1.Assessment'"},
        Case{"assessment.scores.pcs_total.x",
             "1:28: type 'int' does not support field selection"},
        Case{"names.all(n, 1)", "1:14: predicate must be bool, found 'int'"},
        Case{"(1).all(n, true)",
             "1:2: expression of type 'int' cannot be the range of a "
             "comprehension (must be list, map, or dynamic)"},
        Case{"{[1]: 2}", "1:2: unsupported map key type 'list(int)'"},
        Case{"Nope{a: 1}", "1:5: undeclared reference to message type 'Nope'"},
        Case{"Scores{pcs_total: 'x'}",
             "1:8: expected type of field 'pcs_total' is 'int' but provided "
             "type is 'string'"},
        // Every problem is reported, not just the first.
        Case{
            "nope + assessment.nope",
            "1:1: undeclared reference to 'nope' (in container "
            "'reconnect.v1')\n"
            "1:18: undefined field 'nope' on type 'reconnect.v1.Assessment'"}));

// Declared functions, with type parameters bound afresh at each call.
std::string CheckWithFunctions(const std::string& text) {
  CheckerEnv env(google::protobuf::DescriptorPool::generated_pool(), "ns");
  const Type t = Type::TypeParam("T");
  env.AddFunction("set", {false, {Type::List(t)}, Type::Abstract("set", {t})});
  env.AddFunction("ns.first", {false, {Type::Abstract("set", {t})}, t});
  env.AddFunction("pair", {true, {t, t}, Type::List(t)});
  return CheckIn(env, text);
}

TEST(CheckerFunctionsTest, BindsTypeParameters) {
  EXPECT_EQ(CheckWithFunctions("set([1, 2])"), "set(int)");
  EXPECT_EQ(CheckWithFunctions("set([])"), "set(dyn)");
  EXPECT_EQ(CheckWithFunctions("first(set(['a']))"), "string");
  EXPECT_EQ(CheckWithFunctions("ns.first(set([1u]))"), "uint");
  EXPECT_EQ(CheckWithFunctions("1.pair(2)"), "list(int)");
  EXPECT_EQ(CheckWithFunctions("1.pair(dyn(2))"), "list(dyn)");
  EXPECT_EQ(CheckWithFunctions("set([1]) == set([2])"), "bool");
}

TEST(CheckerFunctionsTest, RejectsConflictingBindings) {
  EXPECT_EQ(CheckWithFunctions("1.pair('a')"),
            "1:7: found no matching overload for 'pair' applied to "
            "'int.(string)'");
  EXPECT_EQ(CheckWithFunctions("set([1]) == set(['a'])"),
            "1:10: found no matching overload for '_==_' applied to "
            "'(set(int), set(string))'");
  EXPECT_EQ(CheckWithFunctions("set(1)"),
            "1:4: found no matching overload for 'set' applied to '(int)'");
}

}  // namespace
}  // namespace reconnect::cel
