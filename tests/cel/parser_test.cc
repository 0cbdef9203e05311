#include "engine/cel/parser/parser.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/cel/common/ast_debug.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace reconnect::cel {
namespace {

std::string ParseToString(const std::string& text,
                          const ParserOptions& options = {}) {
  Source source(text);
  ParseResult r = Parse(source, options);
  if (!r.issues.empty()) return absl::StrCat("ERROR ", FormatIssues(r.issues));
  return ExprToString(*r.expr);
}

struct Golden {
  std::string input;
  std::string expected;
};
void PrintTo(const Golden& g, std::ostream* os) { *os << g.input; }

class ParserGoldenTest : public testing::TestWithParam<Golden> {};

TEST_P(ParserGoldenTest, Parses) {
  EXPECT_EQ(ParseToString(GetParam().input), GetParam().expected)
      << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, ParserGoldenTest,
    testing::Values(
        Golden{"1 + 2 * 3", "_+_(1, _*_(2, 3))"},
        Golden{"(1 + 2) * 3", "_*_(_+_(1, 2), 3)"},
        Golden{"a - b - c", "_-_(_-_(a, b), c)"},
        Golden{"a && b || c && d", "_||_(_&&_(a, b), _&&_(c, d))"},
        Golden{"a || b || c || d", "_||_(_||_(a, b), _||_(c, d))"},
        Golden{"a ? b : c ? d : e", "_?_:_(a, b, _?_:_(c, d, e))"},
        Golden{"!!a", "!_(!_(a))"}, Golden{"-x", "-_(x)"},
        Golden{"--1", "-_(-1)"},
        Golden{"-9223372036854775808", "-9223372036854775808"},
        Golden{"1u + 0x1F + 0xAu", "_+_(_+_(1u, 31), 10u)"},
        Golden{"1.5e3 + .5 + 2e-1", "_+_(_+_(1500.0, 0.5), 0.2)"},
        Golden{"x in [1, 2,]", "@in(x, [1, 2])"},
        Golden{"{'a': 1, 2: true}", "{\"a\": 1, 2: true}"},
        Golden{"a.b.c", "a.b.c"}, Golden{".a.b", ".a.b"},
        Golden{"a[0]['k']", "_[_](_[_](a, 0), \"k\")"},
        Golden{"has(a.b)", "a.b~test"},
        Golden{"a.size() > 0", "_>_(a.size(), 0)"},
        Golden{"s.startsWith('x')", "s.startsWith(\"x\")"},
        Golden{"l.all(x, x > 0)", "l.all(x, _>_(x, 0))"},
        Golden{"l.exists(x, x > 0)", "l.exists(x, _>_(x, 0))"},
        Golden{"l.exists_one(x, x > 0)", "l.exists_one(x, _>_(x, 0))"},
        Golden{"l.map(x, x * 2)", "l.map(x, _*_(x, 2))"},
        Golden{"l.map(x, x > 1, x * 2)", "l.map(x, _>_(x, 1), _*_(x, 2))"},
        Golden{"l.filter(x, x > 1)", "l.filter(x, _>_(x, 1))"},
        Golden{"m.transformMap(k, v, v + 1)",
               "m.transformMap(k, v, _+_(v, 1))"},
        Golden{"l.exists(i, v, v > i)", "l.exists(i, v, _>_(v, i))"},
        Golden{"pkg.Msg{f: 1, g: 'x'}", "pkg.Msg{f: 1, g: \"x\"}"},
        Golden{"'\\x41\\u00e9\\101\\n' + r'\\n'",
               "_+_(\"A\\xc3\\xa9\\x41\\n\", \"\\\\n\")"},
        Golden{"b'\\xff'", "b\"\\xff\""},
        Golden{"'''multi\nline'''", "\"multi\\nline\""},
        Golden{"a // comment\n + 1", "_+_(a, 1)"},
        Golden{"true && false != null", "_&&_(true, _!=_(false, null))"},
        // Reserved words may name fields and methods, just not variables.
        Golden{"a.while + a.if()", "_+_(a.while, a.if())"},
        Golden{"Msg{for: 1}", "Msg{for: 1}"},
        // Backticks quote field names that are not identifiers.
        Golden{"a.`content-type`", "a.content-type"},
        Golden{"has(a.`b.c`)", "a.b.c~test"}));

struct ErrorCase {
  std::string input;
  std::string expected;  // "line:col: message"
};
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.input; }

class ParserErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(ParserErrorTest, ReportsMessageAndPosition) {
  EXPECT_EQ(ParseToString(GetParam().input), "ERROR " + GetParam().expected)
      << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ParserErrorTest,
    testing::Values(
        ErrorCase{"1 +", "1:4: syntax error: unexpected end of expression"},
        ErrorCase{"(1 + 2", "1:7: expected ')', found end of expression"},
        ErrorCase{"a.",
                  "1:3: expected a field or method name after '.', found end "
                  "of expression"},
        ErrorCase{"1 = 2", "1:3: unexpected character '='"},
        ErrorCase{"'abc", "1:1: unterminated string literal"},
        ErrorCase{"'a\nb'",
                  "1:1: unterminated string literal (newline in string)"},
        // Escape errors sit at the literal, as in cel-go, and quote it.
        ErrorCase{"'\\q'", "1:1: invalid escape sequence: '\\q'"},
        ErrorCase{"x + 'ab\\xZ1'",
                  "1:5: invalid escape sequence: expected hexadecimal "
                  "digits: '\\xZ'"},
        // A syntax error before the first bad character is reported first.
        ErrorCase{"* @a",
                  "1:1: syntax error: unexpected '*'\n1:3: unexpected "
                  "character '@'"},
        ErrorCase{"a.`$b`", "1:3: invalid character in quoted identifier: '$'"},
        ErrorCase{"b'\\u0041'",
                  "1:1: \\u and \\U escapes are not allowed in bytes literals: "
                  "'\\u0041'"},
        ErrorCase{"9223372036854775808",
                  "1:1: integer literal out of range: 9223372036854775808"},
        ErrorCase{"18446744073709551616u",
                  "1:1: unsigned integer literal out of range: "
                  "18446744073709551616u"},
        ErrorCase{"x + while", "1:5: reserved identifier 'while'"},
        ErrorCase{"has(a)",
                  "1:5: has() macro: the argument must be a field selection, "
                  "e.g. has(a.b)"},
        ErrorCase{"[1].map(__result__, 2)",
                  "1:9: map() macro: iteration variable overwrites the "
                  "accumulator variable '__result__'"},
        ErrorCase{"1.99e90000009",
                  "1:1: double literal out of range: 1.99e90000009"},
        ErrorCase{"l.all(x.y, true)",
                  "1:8: all() macro: the first argument must be a simple "
                  "variable name"},
        ErrorCase{"1\n  + )", "2:5: syntax error: unexpected ')'"},
        ErrorCase{"12abc", "1:3: malformed number literal"},
        ErrorCase{"a # b", "1:3: unexpected character '#'"},
        ErrorCase{"while(1)", "1:1: reserved identifier 'while'"},
        ErrorCase{"a.`b", "1:3: unterminated quoted identifier"},
        ErrorCase{"a.``", "1:3: empty quoted identifier"},
        ErrorCase{"l.all(i, v.w, true)",
                  "1:11: all() macro: the second argument must be a simple "
                  "variable name"}));

TEST(ParserLimitsTest, NestingDepthIsRefused) {
  ParserOptions options;
  options.max_depth = 10;
  EXPECT_EQ(
      ParseToString(std::string(9, '(') + "1" + std::string(9, ')'), options),
      "1");
  EXPECT_THAT(
      ParseToString(std::string(20, '(') + "1" + std::string(20, ')'), options),
      testing::HasSubstr(
          "nesting exceeds the maximum depth of 10 (limit max_depth)"));
}

TEST(ParserLimitsTest, DeepUnaryChainIsRefusedNotCrashed) {
  // A hostile expression far deeper than any stack could recurse.
  const std::string text = std::string(50000, '!') + "true";
  EXPECT_THAT(ParseToString(text), testing::HasSubstr("limit max_depth"));
}

TEST(ParserLimitsTest, LongLeftAssociativeChainIsRefusedByDepth) {
  std::string text = "1";
  for (int i = 0; i < 200; ++i) text += " + 1";
  EXPECT_THAT(ParseToString(text), testing::HasSubstr("limit max_depth"));
}

TEST(ParserLimitsTest, LongLogicalChainIsBalancedAndAccepted) {
  std::string text = "a";
  for (int i = 0; i < 1000; ++i) text += " || a";
  EXPECT_THAT(ParseToString(text), testing::Not(testing::HasSubstr("ERROR")));
}

TEST(ParserLimitsTest, CodePointLimit) {
  ParserOptions options;
  options.max_code_points = 10;
  EXPECT_EQ(ParseToString("'ééééé'", options),
            "\"\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\\xc3\\xa9\"");
  EXPECT_EQ(ParseToString("'éééééééééé'", options),
            "ERROR 1:1: expression is longer than 10 code points (limit "
            "max_code_points)");
}

TEST(ParserLimitsTest, NodeLimit) {
  ParserOptions options;
  options.max_nodes = 5;
  EXPECT_EQ(ParseToString("[1, 2, 3, 4]", options), "[1, 2, 3, 4]");
  EXPECT_THAT(ParseToString("[1, 2, 3, 4, 5, 6]", options),
              testing::HasSubstr("more than 5 nodes (limit max_nodes)"));
}

TEST(ParserTest, RejectsInvalidUtf8) {
  EXPECT_EQ(ParseToString("'\xff'"),
            "ERROR 1:1: expression is not valid UTF-8");
}

TEST(ParserTest, ColumnsCountCodePoints) {
  EXPECT_EQ(ParseToString("'é' + )"),
            "ERROR 1:7: syntax error: unexpected ')'");
}

}  // namespace
}  // namespace reconnect::cel

namespace reconnect::cel {
namespace {

TEST(ParserTest, ProtoExtensionMacrosAreOptIn) {
  ParserOptions on;
  on.proto_extension_macros = true;
  EXPECT_EQ(ParseToString("proto.getExt(m, pkg.ext)", on), "m.pkg.ext");
  EXPECT_EQ(ParseToString("proto.hasExt(m, pkg.Scope.ext)", on),
            "m.pkg.Scope.ext~test");
  EXPECT_EQ(ParseToString("proto.getExt(m, f(x))", on),
            "ERROR 1:18: proto.getExt() macro: the second argument must be "
            "the qualified name of an extension field");
  // Off by default: an ordinary call on a variable named proto.
  EXPECT_EQ(ParseToString("proto.getExt(m, pkg.ext)"),
            "proto.getExt(m, pkg.ext)");
}

}  // namespace
}  // namespace reconnect::cel
