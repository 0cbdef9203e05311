#ifndef RECONNECT_TESTS_TESTING_TEMP_RULE_SET_H_
#define RECONNECT_TESTS_TESTING_TEMP_RULE_SET_H_

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "gtest/gtest.h"

namespace reconnect::testing_util {

// A small, valid rule set in a fresh temporary directory. Tests replace
// files to provoke one problem at a time.
class TempRuleSet {
 public:
  TempRuleSet() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("reconnect-test-" + std::string(info->test_suite_name()) + "-" +
            info->name() + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "rules");
    std::filesystem::create_directories(dir_ / "tests");
    Write("ruleset.json", R"({
  "id": "test", "version": "1.0.0", "status": "draft",
  "input": {"name": "assessment", "type": "reconnect.v1.Assessment"},
  "container": "reconnect.v1",
  "team": "assessment.care_team.disciplines",
  "gap_suggestion": "Missing {item}: {disciplines}"
})");
    Write("params.json",
          R"({"cut": {"type": "int", "value": 30, "doc": "a cut-off"}})");
    Write(
        "defs.json",
        R"({"high": {"expr": "has(assessment.scores.pcs_total) && assessment.scores.pcs_total >= params.cut", "doc": "high"}})");
    Write("catalog.json", R"({
  "components": [{"code": "c1", "display": "C1"}, {"code": "c2", "display": "C2"}],
  "disciplines": [{"code": "d1", "display": "D1"}, {"code": "d2", "display": "D2"}],
  "techniques": [
    {"code": "t1", "display": "T1", "component": "c1", "disciplines": ["d1"], "tags": ["x"]},
    {"code": "t2", "display": "T2", "component": "c2", "disciplines": ["d2"]}
  ],
  "prompts": [{"code": "p1", "text": "P1", "audience": "clinician"}, {"code": "p2", "text": "P2", "audience": "patient"}],
  "alerts": [{"code": "a1", "title": "A1", "text": "Alert one", "severity": "critical"},
             {"code": "a2", "title": "A2", "text": "Alert two", "severity": "info"}],
  "considerations": [{"code": "k1", "text": "K1"}]
})");
    Write("rules/main.json", R"({"rules": [
  {"id": "r.high", "title": "High", "when": "defs.high", "priority": 1,
   "recommend": {"techniques": ["t1"], "prompts": ["p1"]},
   "rationale": "PCS {{ assessment.scores.pcs_total }} >= {{ params.cut }}", "source": "test"}
]})");
    Write("tests/cases.json", R"({"cases": [
  {"name": "high", "assessment": {"scores": {"pcs_total": 31}}, "expect": {"techniques": ["t1"]}}
]})");
  }
  ~TempRuleSet() { std::filesystem::remove_all(dir_); }

  void Write(const std::string& relative, const std::string& content) const {
    std::ofstream(dir_ / relative, std::ios::trunc) << content;
  }
  std::string Read(const std::string& relative) const {
    std::ifstream in(dir_ / relative);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_TEMP_RULE_SET_H_
