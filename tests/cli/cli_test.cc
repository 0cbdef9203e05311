// The `reconnect` command as a user runs it: exit codes and messages.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace reconnect {
namespace {

using testing::HasSubstr;
using testing::MatchesRegex;
using testing::Not;

struct CommandResult {
  int exit_code;
  std::string out;
  std::string err;
};

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs the binary with `args` (shell-quoted by the caller) and `input` on
// stdin.
CommandResult Reconnect(const std::string& args,
                        const std::string& input = "") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("reconnect-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in") << input;
  const std::string cmd =
      std::string("cd '") + RECONNECT_SOURCE_DIR + "' && '" + RECONNECT_BINARY +
      "' " + args + " < '" + (dir / "in").string() + "' > '" +
      (dir / "out").string() + "' 2> '" + (dir / "err").string() + "'";
  const int status = std::system(cmd.c_str());
  CommandResult r{WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                  Slurp(dir / "out"), Slurp(dir / "err")};
  std::filesystem::remove_all(dir);
  return r;
}

// rules/reconnect holds one directory per version; lint and test take the
// versions directory or one version.
// Fixes the day review dates are judged by, for one test.
class FixedToday {
 public:
  explicit FixedToday(const char* day) { setenv("RECONNECT_TODAY", day, 1); }
  ~FixedToday() { unsetenv("RECONNECT_TODAY"); }
};

TEST(CliTest, LintTheBundledRuleSets) {
  // The day 1.1.0 took effect: no review is due yet.
  FixedToday today("2026-12-02");
  const CommandResult r = Reconnect("lint rules/reconnect");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // 1.0.5 predates the catalog's prompt-to-technique links, so lint warns
  // about each prompt it recommends; warnings do not fail lint. 1.1.0 has
  // none.
  EXPECT_THAT(
      r.out, MatchesRegex("rules/reconnect/1\\.0\\.5: ok: reconnect 1\\.0\\.5, "
                          "[0-9]+ rules, digest [0-9a-f]{64}, "
                          "[0-9]+ warning\\(s\\)\n"
                          "rules/reconnect/1\\.1\\.0: ok: reconnect 1\\.1\\.0, "
                          "[0-9]+ rules, digest [0-9a-f]{64}\n"));
  EXPECT_THAT(r.err, HasSubstr("rules/reconnect/1.0.5/rules/"
                               "behavioural_activation.json:"));
  EXPECT_THAT(r.err, HasSubstr("[RS305] (warning)\n"));
  EXPECT_THAT(r.err, Not(HasSubstr("rules/reconnect/1.1.0/")));
}

TEST(CliTest, RuleSetCasesPassWithFullCoverage) {
  const CommandResult r = Reconnect("test rules/reconnect --min_coverage=100");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("rules/reconnect/1.0.5: reconnect 1.0.5\n"));
  EXPECT_THAT(r.out, HasSubstr("rules/reconnect/1.1.0: reconnect 1.1.0\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("FAIL")));
  EXPECT_THAT(r.out, testing::ContainsRegex("\n[0-9]+ passed, 0 failed\n$"));
  // 1.1.0's cases assert every rule's reason text.
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex(
          "rules/reconnect/1\\.1\\.0: reconnect 1\\.1\\.0\n(PASS [^\n]*\n)+"
          "rule coverage: ([0-9]+)/\\2 rules fired \\(100%\\)\n"
          "reasons checked: \\2/\\2 rules \\(expect_reason\\)\n")))
      << r.out;
}

// Given the versions directory, eval uses the version the server would
// serve as active: the newest of those whose status is active, 1.1.0.
TEST(CliTest, AVersionsDirectoryEvaluatesWithTheActiveVersion) {
  const CommandResult r =
      Reconnect("eval --rules rules/reconnect examples/red-flag-bleeding.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["ruleSet"]["version"], "1.1.0");
  const CommandResult old = Reconnect(
      "eval --rules rules/reconnect/1.0.5 examples/red-flag-bleeding.json");
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(nlohmann::json::parse(old.out)["ruleSet"]["version"], "1.0.5");
  // 1.1.0 holds the graded-touch prompt with the technique; 1.0.5 did not.
  auto codes = [](const std::string& out, const char* list) {
    const auto response = nlohmann::json::parse(out);
    std::vector<std::string> found;
    for (const auto& item : response["recommendation"][list]) {
      found.push_back(item["code"]);
    }
    return found;
  };
  EXPECT_THAT(codes(old.out, "prompts"), testing::Contains("graded_touch"));
  EXPECT_THAT(codes(r.out, "prompts"), Not(testing::Contains("graded_touch")));
  EXPECT_THAT(codes(r.out, "held"), testing::Contains("graded_touch"));
}

// A failing case fails `test` for the versions directory as a whole.
TEST(CliTest, AFailingVersionFailsTheVersionsDirectory) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("reconnect-cli-versions-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const char* v : {"1.0.5", "1.1.0"}) {
    std::filesystem::copy(
        std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/" + v, dir / v,
        std::filesystem::copy_options::recursive);
  }
  std::ofstream(dir / "1.0.5/tests/extra.json")
      << R"({"cases": [{"name": "wrong", "assessment": {},
                       "expect_reason": {"consent.not_asked": "no"}}]})";
  const CommandResult r = Reconnect("test " + dir.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("FAIL tests/extra.json: wrong\n    rule "
                               "'consent.not_asked' gave the reason"));
  EXPECT_THAT(r.out, HasSubstr("1.1.0: reconnect 1.1.0\n"));
  std::filesystem::remove_all(dir);
}

TEST(CliTest, EvalEveryExample) {
  int examples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::string(RECONNECT_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".json") continue;
    ++examples;
    for (const char* version : {"1.0.5", "1.1.0"}) {
      const CommandResult r =
          Reconnect(std::string("eval --rules rules/reconnect/") + version +
                    " examples/" + entry.path().filename().string());
      ASSERT_EQ(r.exit_code, 0) << entry.path() << ": " << r.err;
      const auto j = nlohmann::json::parse(r.out);
      EXPECT_EQ(j["ruleSet"]["version"], version);
      EXPECT_FALSE(j["recommendation"]["summary"].get<std::string>().empty());
      EXPECT_FALSE(j["recommendation"].contains("evaluationIssues"))
          << entry.path() << " under " << version;
    }
  }
  EXPECT_GE(examples, 12);
}

TEST(CliTest, EvalFromStdin) {
  const CommandResult r =
      Reconnect("eval --rules rules/reconnect/1.0.5 -",
                R"({"intimacyConsent": "INTIMACY_CONSENT_DECLINED"})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"door_open\""));
}

TEST(CliTest, ExplainSaysWhyEachRuleDidNotFire) {
  const CommandResult all = Reconnect(
      "explain --rules rules/reconnect/1.0.5 "
      "examples/catastrophising-performance-beliefs.json");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_THAT(all.out, MatchesRegex("reconnect [0-9.]+: [0-9]+ of 29 rules "
                                    "fired, 0 of them held back\n(.|\n)*"));
  // Neither mood score crossed its cut-off: both sides of the || say so.
  EXPECT_THAT(all.out, HasSubstr("safety.mood: not met\n"));
  EXPECT_THAT(all.out, HasSubstr("assessment.scores.phq9_total >= "
                                 "params.phq9_moderate is false: 8 < 10\n"));
  EXPECT_THAT(all.out, HasSubstr("inside defs.mood_moderate\n"));
  EXPECT_THAT(all.out, HasSubstr("at defs.json:"));

  // Then the absent facts that could change the plan, most first.
  EXPECT_THAT(all.out, HasSubstr("\nMissing data: 5 absent facts could change "
                                 "the plan\n"));
  EXPECT_THAT(all.out,
              HasSubstr("    behavioural.graded_return: touch tolerance "
                        "(minutes) not recorded: if touch tolerance (minutes) "
                        "< 5, the plan would add Desensitisation (graded "
                        "touch), 1 more.\n"));
  EXPECT_THAT(all.out, HasSubstr("\nWorth measuring: "));
  // A budget of 0 stops after the first condition, and says so.
  const CommandResult spent = Reconnect(
      "explain --rules rules/reconnect/1.0.5 --missing_data_budget=0 "
      "examples/catastrophising-performance-beliefs.json");
  ASSERT_EQ(spent.exit_code, 0) << spent.err;
  EXPECT_THAT(spent.out, HasSubstr("(analysis incomplete: budget spent)"));
  EXPECT_EQ(Reconnect("explain --rules rules/reconnect/1.0.5 "
                      "--missing_data_budget=-1 "
                      "examples/catastrophising-performance-beliefs.json")
                .exit_code,
            2);

  const CommandResult one = Reconnect(
      "explain --rules rules/reconnect/1.0.5 --rule consent.declined "
      "examples/catastrophising-performance-beliefs.json");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, testing::StartsWith("consent.declined: not met\n"));
  EXPECT_THAT(one.out, HasSubstr("INTIMACY_CONSENT_GIVEN != "
                                 "INTIMACY_CONSENT_DECLINED"));
  EXPECT_THAT(one.out, Not(HasSubstr("safety.mood")));

  const CommandResult held = Reconnect(
      "explain --rules rules/reconnect/1.0.5 examples/red-flag-bleeding.json");
  ASSERT_EQ(held.exit_code, 0) << held.err;
  EXPECT_THAT(held.out, HasSubstr("fired, held back by safety.red_flag\n"
                                  "  held: technique desensitisation"));

  const CommandResult fired = Reconnect(
      "explain --rules rules/reconnect/1.0.5 --rule safety.red_flag "
      "examples/red-flag-bleeding.json");
  EXPECT_EQ(fired.exit_code, 0);
  EXPECT_THAT(fired.out, HasSubstr("safety.red_flag: fired"));
}

TEST(CliTest, ExplainRefusesAnUnknownRuleAndMissingArguments) {
  const CommandResult unknown = Reconnect(
      "explain --rules rules/reconnect/1.0.5 --rule no.such.rule "
      "examples/red-flag-bleeding.json");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no rule 'no.such.rule' in reconnect"));
  EXPECT_EQ(Reconnect("explain examples/red-flag-bleeding.json").exit_code, 2);
  EXPECT_EQ(Reconnect("explain --rules rules/reconnect/1.0.5").exit_code, 2);
  const CommandResult bad =
      Reconnect("explain --rules rules/reconnect/1.0.5 -", "{\"scores\": ");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("not a valid reconnect.v1.Assessment"));
}

TEST(CliTest, EvalRejectsMalformedJson) {
  const CommandResult r =
      Reconnect("eval --rules rules/reconnect/1.0.5 -", "{\"scores\": ");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(
      r.err,
      MatchesRegex(
          "-: not a valid reconnect.v1.Assessment in protobuf JSON: .*\n"));
}

TEST(CliTest, EvalRejectsUnknownFields) {
  const CommandResult r = Reconnect("eval --rules rules/reconnect/1.0.5 -",
                                    R"({"scores": {"pcs": 3}})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("pcs: Cannot find field"));
}

TEST(CliTest, EvalListsOutOfRangeFields) {
  const CommandResult r =
      Reconnect("eval --rules rules/reconnect/1.0.5 -",
                R"({"scores": {"pcsTotal": 70, "gad7Total": 22}})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(
      r.err,
      HasSubstr("-: assessment.scores.pcs_total: must be between 0 and 52"));
  EXPECT_THAT(
      r.err,
      HasSubstr("-: assessment.scores.gad7_total: must be between 0 and 21"));
}

TEST(CliTest, EvalMissingFile) {
  const CommandResult r =
      Reconnect("eval --rules rules/reconnect/1.0.5 /nonexistent.json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "/nonexistent.json: cannot open file\n");
}

TEST(CliTest, EvalWithBrokenRuleSet) {
  const CommandResult r = Reconnect("eval --rules /nonexistent -", "{}");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent: not a rule-set directory"));
}

TEST(CliTest, ExprPrintsTypeAndValue) {
  CommandResult r = Reconnect("expr '1 + 2'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "int: 3\n");
  r = Reconnect("expr '[1, 2u, \"a\", 2.5, null, {\"k\": true}]'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "list: [1, 2u, \"a\", 2.5, null, {\"k\": true}]\n");
  r = Reconnect("expr 'duration(\"90m\") > duration(\"1h\")'");
  EXPECT_EQ(r.out, "bool: true\n");
}

TEST(CliTest, ExprBindsJsonVariables) {
  // Whole numbers bind as int, so that int arithmetic works on them.
  CommandResult r = Reconnect("expr 'n * 2' --var n=3");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "int: 6\n");
  r = Reconnect(
      "expr 'x.scores.filter(s, s > limit).size()' "
      "--var 'x={\"scores\": [1, 5, 9.5]}' --var=limit=4");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "int: 2\n");
  r = Reconnect("expr 'n' --var n=18446744073709551615");
  EXPECT_EQ(r.out, "uint: 18446744073709551615u\n");
}

TEST(CliTest, ExprErrorsNameTheirPosition) {
  CommandResult r = Reconnect("expr '1 +'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "<expr>:1:4: syntax error: unexpected end of expression\n");
  EXPECT_EQ(r.out, "");
  r = Reconnect("expr 'y + 1'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "<expr>:1:1: undeclared reference to 'y'\n");
  // An evaluation error names the operation where it arose, not where it
  // surfaced.
  r = Reconnect("expr '[1, 2, 3].map(x, 10 / (x - 2)).size() > 0'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "<expr>:1:21: evaluation error: division by zero\n");
  r = Reconnect("expr 'm.a[5]' --var 'm={\"a\": [1]}'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "<expr>:1:4: evaluation error: index out of range: 5\n");
}

TEST(CliTest, ExprRejectsBadArguments) {
  CommandResult r = Reconnect("expr n --var 'n={bad'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "--var n: not valid JSON\n");
  r = Reconnect("expr n --var noequals");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "--var noequals: expected NAME=JSON\n");
  r = Reconnect("expr 1 --assessment examples/no-partner.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--assessment needs --rules"));
  EXPECT_EQ(Reconnect("expr").exit_code, 2);
  EXPECT_EQ(Reconnect("expr 1 2").exit_code, 2);
  r = Reconnect("eval --rules rules/reconnect/1.0.5 --var n=1 -", "{}");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--var goes with expr"));
}

TEST(CliTest, ExprSeesTheRuleSetAsARuleDoes) {
  CommandResult r =
      Reconnect("expr --rules rules/reconnect/1.0.5 'params.pcs_high'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "int: 30\n");
  r = Reconnect(
      "expr --rules rules/reconnect/1.0.5 "
      "--assessment examples/catastrophising-performance-beliefs.json "
      "'[defs.consent_given, assessment.scores.pcs_total >= params.pcs_high]'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "list: [true, true]\n");
  // Without --assessment, the assessment is empty: absent, not an error.
  r = Reconnect(
      "expr --rules rules/reconnect/1.0.5 'has(assessment.scores.pcs_total)'");
  EXPECT_EQ(r.out, "bool: false\n");
  // Enum names resolve in the rule set's container, as in rules.
  r = Reconnect(
      "expr --rules rules/reconnect/1.0.5 "
      "'IntimacyConsent.INTIMACY_CONSENT_GIVEN == 1'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliTest, ExprWithRulesReportsErrors) {
  CommandResult r =
      Reconnect("expr --rules rules/reconnect/1.0.5 'assessment.nope'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "<expr>:1:11: undefined field 'nope' on type "
            "'reconnect.v1.Assessment' [RS201]\n");
  r = Reconnect("expr --rules /nonexistent 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent: not a rule-set directory"));
  r = Reconnect(
      "expr --rules rules/reconnect/1.0.5 --assessment /nonexistent 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent: cannot open file"));
  r = Reconnect("expr --rules rules/reconnect/1.0.5 --assessment - 1",
                R"({"bogus": 1})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("-: not a valid reconnect.v1.Assessment"));
  EXPECT_THAT(r.err, HasSubstr("bogus"));
}

// Two versions differing in one rule field and the metadata: the diff names
// each change with its path and both values.
TEST(CliTest, DiffNamesEveryChange) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("reconnect-diff-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(
      std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5", dir,
      std::filesystem::copy_options::recursive);
  auto edit = [&](const std::string& file, const std::string& from,
                  const std::string& to) {
    std::string text = Slurp(dir / file);
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    std::ofstream(dir / file) << text;
  };
  edit("ruleset.json", "\"version\": \"1.0.5\"", "\"version\": \"1.1.0\"");
  edit("rules/consent.json", "\"priority\": 1000", "\"priority\": 999");
  edit("params.json", "\"value\": 30,", "\"value\": 31,");

  const CommandResult diff =
      Reconnect("diff rules/reconnect/1.0.5 " + dir.string());
  EXPECT_EQ(diff.exit_code, 1) << diff.err;
  EXPECT_THAT(diff.out, HasSubstr("~ rule consent.not_asked\n"
                                  "    priority: 1000 -> 999"));
  EXPECT_THAT(diff.out, HasSubstr("~ ruleset.version: \"1.0.5\" -> "
                                  "\"1.1.0\""));
  EXPECT_THAT(diff.out, HasSubstr("~ params.pcs_high.value: 30 -> 31"));
  const CommandResult same =
      Reconnect("diff rules/reconnect/1.0.5 rules/reconnect/1.0.5");
  EXPECT_EQ(same.exit_code, 0);
  EXPECT_EQ(same.out, "no differences\n");
  const CommandResult broken =
      Reconnect("diff rules/reconnect/1.0.5 /nonexistent");
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_THAT(broken.err, HasSubstr("not a rule-set directory"));
  EXPECT_EQ(Reconnect("diff rules/reconnect/1.0.5").exit_code, 2);
  std::filesystem::remove_all(dir);
}

TEST(CliTest, UsageErrors) {
  EXPECT_EQ(Reconnect("").exit_code, 2);
  const CommandResult unknown = Reconnect("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command 'frobnicate'"));
  EXPECT_EQ(Reconnect("eval -").exit_code, 2);
  EXPECT_EQ(Reconnect("lint").exit_code, 2);
  // A flag absl's parser refuses is a usage error like any other: exit 2,
  // naming the flag.
  const CommandResult unknown_flag =
      Reconnect("lint rules/reconnect/1.0.5 --no_such_flag");
  EXPECT_EQ(unknown_flag.exit_code, 2);
  EXPECT_THAT(unknown_flag.err, HasSubstr("unknown flag --no_such_flag"));
  const CommandResult bad_value =
      Reconnect("serve --rules rules/reconnect/1.0.5 --max_receive_bytes=lots");
  EXPECT_EQ(bad_value.exit_code, 2);
  EXPECT_THAT(bad_value.err, HasSubstr("--max_receive_bytes=lots"));
  EXPECT_EQ(Reconnect("lint rules/reconnect/1.0.5 --min_coverage").exit_code, 2)
      << "a flag that needs a value";
  // Booleans, negated booleans and separate values still parse.
  EXPECT_EQ(Reconnect("lint --noinsecure rules/reconnect/1.0.5").exit_code, 0);
  EXPECT_EQ(Reconnect("test rules/reconnect/1.0.5 --min_coverage 50").exit_code,
            0);
  const CommandResult admin = Reconnect("admin reload");
  EXPECT_EQ(admin.exit_code, 2);
  EXPECT_THAT(admin.err, HasSubstr("admin needs --server ADDR"));
  const CommandResult activate =
      Reconnect("admin activate reconnect --server 127.0.0.1:1");
  EXPECT_EQ(activate.exit_code, 2);
  EXPECT_THAT(activate.err, HasSubstr("activate ID@VERSION"));
  const CommandResult no_ca = Reconnect(
      "audit verify --server 127.0.0.1:1 --tls_cert a.pem --tls_key a.key");
  EXPECT_EQ(no_ca.exit_code, 2);
  EXPECT_THAT(no_ca.err, HasSubstr("need --tls_ca"));
}

}  // namespace
}  // namespace reconnect
