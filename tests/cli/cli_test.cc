// The `reconnect` command as a user runs it: exit codes and messages.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace reconnect {
namespace {

using testing::HasSubstr;
using testing::MatchesRegex;

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

TEST(CliTest, LintTheBundledRuleSet) {
  const CommandResult r = Reconnect("lint rules/reconnect");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, MatchesRegex("rules/reconnect: ok: reconnect 1\\.0\\.0, "
                                  "[0-9]+ rules, digest [0-9a-f]{64}\n"));
}

TEST(CliTest, RuleSetCasesPassWithFullCoverage) {
  const CommandResult r = Reconnect("test rules/reconnect --min_coverage=100");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("(100%)"));
  EXPECT_THAT(r.out, testing::ContainsRegex("\n[0-9]+ passed, 0 failed\n$"));
}

TEST(CliTest, EvalEveryExample) {
  int examples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::string(RECONNECT_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".json") continue;
    ++examples;
    const CommandResult r = Reconnect("eval --rules rules/reconnect examples/" +
                                      entry.path().filename().string());
    ASSERT_EQ(r.exit_code, 0) << entry.path() << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["ruleSet"]["id"], "reconnect");
    EXPECT_FALSE(j["recommendation"]["summary"].get<std::string>().empty());
  }
  EXPECT_GE(examples, 8);
}

TEST(CliTest, EvalFromStdin) {
  const CommandResult r =
      Reconnect("eval --rules rules/reconnect -",
                R"({"intimacyConsent": "INTIMACY_CONSENT_DECLINED"})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"door_open\""));
}

TEST(CliTest, EvalRejectsMalformedJson) {
  const CommandResult r =
      Reconnect("eval --rules rules/reconnect -", "{\"scores\": ");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(
      r.err,
      MatchesRegex(
          "-: not a valid reconnect.v1.Assessment in protobuf JSON: .*\n"));
}

TEST(CliTest, EvalRejectsUnknownFields) {
  const CommandResult r =
      Reconnect("eval --rules rules/reconnect -", R"({"scores": {"pcs": 3}})");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("pcs: Cannot find field"));
}

TEST(CliTest, EvalListsOutOfRangeFields) {
  const CommandResult r =
      Reconnect("eval --rules rules/reconnect -",
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
      Reconnect("eval --rules rules/reconnect /nonexistent.json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "/nonexistent.json: cannot open file\n");
}

TEST(CliTest, EvalWithBrokenRuleSet) {
  const CommandResult r = Reconnect("eval --rules /nonexistent -", "{}");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent: not a rule-set directory"));
}

TEST(CliTest, UsageErrors) {
  EXPECT_EQ(Reconnect("").exit_code, 2);
  const CommandResult unknown = Reconnect("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command 'frobnicate'"));
  EXPECT_EQ(Reconnect("eval -").exit_code, 2);
  EXPECT_EQ(Reconnect("lint").exit_code, 2);
  EXPECT_NE(Reconnect("lint rules/reconnect --no_such_flag").exit_code, 0);
}

}  // namespace
}  // namespace reconnect
