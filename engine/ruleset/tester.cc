// Runs a rule set's own test cases (tests/*.json) and measures rule coverage.

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/ruleset/internal/json_reader.h"
#include "engine/ruleset/internal/source_file.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/layout.h"
#include "engine/ruleset/rule_set.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"

namespace reconnect::ruleset {

using nlohmann::json;
using ruleset_internal::ObjectReader;
using ruleset_internal::SourceFile;

size_t TestReport::passed() const {
  return std::count_if(cases.begin(), cases.end(), [](const TestCaseResult& c) {
    return c.failures.empty();
  });
}
size_t TestReport::failed() const { return cases.size() - passed(); }

namespace {

constexpr const char* kExpectKeys[] = {
    "components", "techniques", "disciplines",    "gaps",
    "prompts",    "alerts",     "considerations", "held"};

// The codes of each kind of item in a recommendation, keyed as in test files.
std::map<std::string, std::set<std::string>> CodesOf(
    const v1::Recommendation& r) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& c : r.components()) {
    out["components"].insert(c.code());
    for (const auto& t : c.techniques()) out["techniques"].insert(t.code());
  }
  for (const auto& d : r.disciplines()) out["disciplines"].insert(d.code());
  for (const auto& g : r.skills_gaps()) out["gaps"].insert(g.code());
  for (const auto& p : r.prompts()) out["prompts"].insert(p.code());
  for (const auto& a : r.alerts()) out["alerts"].insert(a.code());
  for (const auto& c : r.considerations())
    out["considerations"].insert(c.code());
  for (const auto& h : r.held()) out["held"].insert(h.code());
  return out;
}

// Each rule's rendered reason, wherever the plan cites it.
std::map<std::string, std::string> ReasonsOf(const v1::Recommendation& r) {
  std::map<std::string, std::string> out;
  auto add = [&](const v1::Rationale& rationale) {
    for (const auto& reason : rationale.reasons())
      out.emplace(reason.rule_id(), reason.reason());
  };
  for (const auto& c : r.components()) {
    for (const auto& t : c.techniques()) add(t.rationale());
  }
  for (const auto& d : r.disciplines()) add(d.rationale());
  for (const auto& g : r.skills_gaps()) add(g.rationale());
  for (const auto& p : r.prompts()) add(p.rationale());
  for (const auto& a : r.alerts()) add(a.rationale());
  for (const auto& c : r.considerations()) add(c.rationale());
  for (const auto& h : r.held()) add(h.held_by());
  return out;
}

// "expect_reason": {"rule.id": "the reason exactly as rendered", ...}.
void CheckReasons(const SourceFile& f, ObjectReader& cr, const json& expected,
                  const v1::Recommendation& rec, TestCaseResult& result,
                  const std::set<std::string>& rule_ids,
                  std::set<std::string>& checked) {
  if (!expected.is_object()) {
    cr.Error(issue_codes::kBadTestCase,
             absl::StrCat("test case '", result.name,
                          "': \"expect_reason\" must map rule ids to the "
                          "reason text each should render"),
             cr.KeyOffset("expect_reason"));
    return;
  }
  const auto got = ReasonsOf(rec);
  for (const auto& [rule_id, text] : expected.items()) {
    if (!text.is_string()) {
      cr.Error(issue_codes::kBadTestCase,
               absl::StrCat("test case '", result.name, "': expect_reason '",
                            rule_id, "' must be a string"),
               f.FindString(rule_id, cr.KeyOffset("expect_reason")));
      continue;
    }
    if (rule_ids.count(rule_id) == 0) {
      cr.Error(issue_codes::kBadTestCase,
               absl::StrCat("test case '", result.name, "': expect_reason '",
                            rule_id, "' is not a rule of this rule set"),
               f.FindString(rule_id, cr.KeyOffset("expect_reason")));
      continue;
    }
    checked.insert(rule_id);
    const auto it = got.find(rule_id);
    if (it == got.end()) {
      result.failures.push_back(absl::StrCat(
          "expected a reason from rule '", rule_id,
          "', but the plan cites none (the rule did not fire, or everything "
          "it recommended was held back)"));
    } else if (it->second != text.get<std::string>()) {
      result.failures.push_back(
          absl::StrCat("rule '", rule_id, "' gave the reason \"", it->second,
                       "\", expected \"", text.get<std::string>(), "\""));
    }
  }
}

}  // namespace

TestReport RunRuleSetTests(const std::filesystem::path& dir,
                           const CompiledRuleSet& rule_set,
                           const LoadOptions& options) {
  TestReport report;
  report.rules_total = rule_set.rule_count();
  std::vector<bool> fired_any(rule_set.rule_count(), false);
  std::set<std::string> reason_checked, rule_ids;
  for (size_t i = 0; i < rule_set.rule_count(); ++i) {
    rule_ids.insert(rule_set.rule_id(i));
  }
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          rule_set.input_type());
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          descriptor);

  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir / kTestsDir, ec)) {
    if (entry.path().extension() == ".json") {
      files.push_back(
          absl::StrCat(kTestsDir, "/", entry.path().filename().string()));
    }
  }
  if (files.empty()) {
    report.issues.push_back({kTestsDir, 0, 0, "",
                             "the rule set has no test cases (tests/*.json)",
                             issue_codes::kNoTestCases});
  }
  std::sort(files.begin(), files.end());
  for (const std::string& rel : files) {
    auto f = ruleset_internal::ReadJsonFile(dir, rel, options.max_file_bytes,
                                            report.issues);
    if (!f) continue;
    ObjectReader fr(*f, f->root, "test file", "", 0, report.issues);
    if (!fr.ok()) continue;
    fr.RejectUnknownKeys({"cases", "description"});
    const json* cases = fr.Member("cases");
    if (cases == nullptr || !cases->is_array()) {
      fr.Error(issue_codes::kBadTestCase,
               "a test file must hold {\"cases\": [ ... ]}");
      continue;
    }
    ruleset_internal::ListEntryLocator locate(*f, 0);
    for (const json& cj : *cases) {
      const auto [name, at] = locate.Next(cj, "name");
      ObjectReader cr(*f, cj, absl::StrCat("test case '", name, "'"), "", at,
                      report.issues);
      if (!cr.ok()) continue;
      if (name.empty()) {
        cr.Error(issue_codes::kBadTestCase, "every test case needs a \"name\"");
        continue;
      }
      cr.RejectUnknownKeys({"name", "description", "assessment", "expect",
                            "expect_not", "expect_reason"});
      TestCaseResult result{rel, name, {}};
      const json* input_json = cr.Member("assessment");
      if (input_json == nullptr || !input_json->is_object()) {
        cr.Error(
            issue_codes::kBadTestCase,
            absl::StrCat(
                "test case '", name,
                "': \"assessment\" must be an object in protobuf JSON form"));
        continue;
      }
      std::unique_ptr<google::protobuf::Message> input(prototype->New());
      const auto status = google::protobuf::util::JsonStringToMessage(
          input_json->dump(), input.get());
      if (!status.ok()) {
        cr.Error(issue_codes::kBadTestCase,
                 absl::StrCat(
                     "test case '", name, "': \"assessment\" is not a valid ",
                     rule_set.input_type(), ": ", status.message().as_string()),
                 cr.KeyOffset("assessment"));
        continue;
      }
      for (const auto& v : rule_set.ValidateInput(*input)) {
        result.failures.push_back(
            absl::StrCat("invalid input at ", v.field, ": ", v.description));
      }
      v1::Recommendation rec;
      std::vector<size_t> fired;
      rule_set.Evaluate(*input, rec, &fired);
      for (size_t i : fired) fired_any[i] = true;
      for (const auto& issue : rec.evaluation_issues()) {
        result.failures.push_back(
            absl::StrCat("rule '", issue.rule_id(),
                         "' could not be evaluated: ", issue.message()));
      }
      const auto got = CodesOf(rec);
      for (const char* which : {"expect", "expect_not"}) {
        const bool must = std::string(which) == "expect";
        const json* e = cr.Member(which);
        if (e == nullptr) continue;
        ObjectReader er(*f, *e, absl::StrCat("test case '", name, "' ", which),
                        "", at, report.issues);
        if (!er.ok()) continue;
        er.RejectUnknownKeys({kExpectKeys[0], kExpectKeys[1], kExpectKeys[2],
                              kExpectKeys[3], kExpectKeys[4], kExpectKeys[5],
                              kExpectKeys[6], kExpectKeys[7]});
        for (const char* key : kExpectKeys) {
          for (const std::string& code : er.StringList(key)) {
            const auto it = got.find(key);
            const bool present = it != got.end() && it->second.count(code) > 0;
            if (present != must) {
              result.failures.push_back(
                  absl::StrCat(must ? "expected " : "did not expect ", key,
                               " '", code, "'"));
            }
          }
        }
      }
      if (const json* e = cr.Member("expect_reason")) {
        CheckReasons(*f, cr, *e, rec, result, rule_ids, reason_checked);
      }
      report.cases.push_back(std::move(result));
    }
  }
  for (size_t i = 0; i < fired_any.size(); ++i) {
    if (!fired_any[i]) report.rules_never_fired.push_back(rule_set.rule_id(i));
    if (reason_checked.count(rule_set.rule_id(i)) == 0) {
      report.reasons_never_checked.push_back(rule_set.rule_id(i));
    }
  }
  return report;
}

}  // namespace reconnect::ruleset
