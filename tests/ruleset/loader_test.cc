#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/ruleset/diff.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/rule_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconnect/v1/assessment.pb.h"
#include "tests/testing/temp_rule_set.h"

namespace reconnect::ruleset {
namespace {

using testing::AllOf;
using testing::ElementsAre;
using testing::EndsWith;
using testing::HasSubstr;
using testing_util::TempRuleSet;

std::vector<std::string> Issues(const TempRuleSet& rs) {
  LoadResult r = LoadRuleSet(rs.dir());
  std::vector<std::string> out;
  for (const auto& i : r.issues) {
    // Every problem carries a stable code.
    EXPECT_THAT(i.code, testing::MatchesRegex("RS[1-4][0-9][0-9]"))
        << i.ToString();
    out.push_back(i.ToString());
  }
  if (!out.empty()) {
    EXPECT_EQ(r.rule_set, nullptr);
  }
  return out;
}

TEST(LoaderTest, LoadsAValidRuleSet) {
  TempRuleSet rs;
  LoadResult r = LoadRuleSet(rs.dir());
  ASSERT_TRUE(r.issues.empty()) << r.issues[0].ToString();
  ASSERT_NE(r.rule_set, nullptr);
  EXPECT_EQ(r.rule_set->metadata().id, "test");
  EXPECT_EQ(r.rule_set->metadata().version, "1.0.0");
  EXPECT_EQ(r.rule_set->rule_count(), 1u);
  EXPECT_EQ(r.rule_set->input_type(), "reconnect.v1.Assessment");
  EXPECT_THAT(r.rule_set->digest(), testing::MatchesRegex("[0-9a-f]{64}"));
}

TEST(LoaderTest, DigestIgnoresFormattingAndCommentsButNotContent) {
  TempRuleSet rs;
  const std::string before = LoadRuleSet(rs.dir()).rule_set->digest();
  rs.Write("params.json",
           "// a comment\n{\n  \"cut\":   {\"doc\": \"a cut-off\", \"value\": "
           "30, \"type\": \"int\"}\n}\n");
  EXPECT_EQ(LoadRuleSet(rs.dir()).rule_set->digest(), before);
  rs.Write("params.json",
           R"({"cut": {"type": "int", "value": 31, "doc": "a cut-off"}})");
  EXPECT_NE(LoadRuleSet(rs.dir()).rule_set->digest(), before);
}

TEST(LoaderTest, MissingDirectory) {
  LoadResult r = LoadRuleSet("/nonexistent/rule-set");
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].ToString(),
            "/nonexistent/rule-set: not a rule-set directory [RS101]");
}

TEST(LoaderTest, InvalidJsonNamesLineAndColumn) {
  TempRuleSet rs;
  rs.Write("catalog.json", "{\n  \"components\": [,]\n}");
  EXPECT_THAT(
      Issues(rs),
      ElementsAre(HasSubstr("catalog.json:2:18: invalid JSON: syntax error")));
}

TEST(LoaderTest, MissingRequiredFile) {
  TempRuleSet rs;
  std::filesystem::remove(rs.dir() / "catalog.json");
  EXPECT_THAT(Issues(rs),
              ElementsAre(HasSubstr("catalog.json: cannot read file")));
}

TEST(LoaderTest, OversizeFileIsRefused) {
  TempRuleSet rs;
  rs.Write("rules/big.json", "{\"rules\": []}" + std::string(5 << 20, ' '));
  EXPECT_THAT(
      Issues(rs),
      ElementsAre(HasSubstr("rules/big.json: file is 5242893 bytes, more than "
                            "the 4194304 allowed (max_file_bytes)")));
}

TEST(LoaderTest, UnknownFieldInConditionHasFileLineColumnAndRule) {
  TempRuleSet rs;
  rs.Write("rules/main.json", R"({"rules": [
  {"id": "r.bad", "title": "Bad", "priority": 1,
   "when": "assessment.scores.pcs_totl > 1",
   "recommend": {"techniques": ["t1"]}, "rationale": "x", "source": "test"}
]})");
  EXPECT_THAT(
      Issues(rs),
      ElementsAre("rules/main.json:3:30: rule 'r.bad': when: undefined field "
                  "'pcs_totl' on type 'reconnect.v1.Scores' [RS201]"));
}

TEST(LoaderTest, PositionsHoldOnLongLinesWithMultiByteText) {
  // Positions come from an index of the file; a one-line file longer than
  // its stride, with multi-byte text before the error, must still count
  // columns in code points.
  TempRuleSet rs;
  const std::string title(600, 'x');
  rs.Write(
      "rules/main.json",
      R"({"rules": [{"id": "r.bad", "title": "é)" + title +
          R"(", "priority": 1, "when": "assessment.scores.pcs_totl > 1", )"
          R"("recommend": {"techniques": ["t1"]}, "rationale": "x", "source": "s"}]})");
  const std::string prefix = R"({"rules": [{"id": "r.bad", "title": "é)" +
                             title +
                             R"(", "priority": 1, "when": "assessment.scores.)";
  // The error points at the "." that selects the field: the prefix's last
  // code point. The prefix has one code point fewer than bytes, for the "é".
  const int column = static_cast<int>(prefix.size()) - 1;
  EXPECT_THAT(Issues(rs),
              ElementsAre(absl::StrCat(
                  "rules/main.json:1:", column,
                  ": rule 'r.bad': when: undefined field "
                  "'pcs_totl' on type 'reconnect.v1.Scores' [RS201]")));
}

TEST(LoaderTest, MultiLineConditionPositionsPointIntoTheRightLine) {
  TempRuleSet rs;
  rs.Write("rules/main.json", R"({"rules": [
  {"id": "r.bad", "title": "Bad", "priority": 1,
   "when": ["defs.high",
            "&& nope"],
   "recommend": {"techniques": ["t1"]}, "rationale": "x", "source": "test"}
]})");
  EXPECT_THAT(Issues(rs),
              ElementsAre(HasSubstr("rules/main.json:4:17: rule 'r.bad': when: "
                                    "undeclared reference to 'nope'")));
}

TEST(LoaderTest, EveryProblemIsReportedTogether) {
  TempRuleSet rs;
  rs.Write("rules/main.json", R"({"rules": [
  {"id": "r.one", "title": "One", "when": "1 + 'a'", "recommend": {"techniques": ["t9"]},
   "rationale": "x", "source": "s"},
  {"id": "r.two", "title": "Two", "when": "true", "wehn": "x", "recommend": {"prompts": ["p1"]},
   "rationale": "x", "source": "s"},
  {"id": "r.two", "title": "Dup", "when": "true", "recommend": {"prompts": ["p1"]},
   "rationale": "x", "source": "s"},
  {"id": "r.three", "title": "Three", "when": "1", "recommend": {"prompts": ["p1"]},
   "rationale": "{{ nope }}", "source": "s"},
  {"id": "r.four", "title": "Four", "when": "true", "rationale": "x", "source": "s"}
]})");
  EXPECT_THAT(
      Issues(rs),
      ElementsAre(
          HasSubstr("rules/main.json:2:46: rule 'r.one': when: found no "
                    "matching overload for '_+_' applied to '(int, string)'"),
          HasSubstr("rules/main.json:2:83: rule 'r.one': unknown techniques "
                    "code 't9'"),
          HasSubstr(
              "rules/main.json:4:51: rule 'r.two': rule: unknown key \"wehn\""),
          HasSubstr(
              "rules/main.json:6:10: rule 'r.two': duplicate rule id 'r.two'"),
          HasSubstr("rule 'r.three': \"when\" must be a bool expression, found "
                    "'int'"),
          HasSubstr("rule 'r.three': rationale expression {{ nope }}: 1:2: "
                    "undeclared reference to 'nope'"),
          HasSubstr("rules/main.json:10:10: rule 'r.four': a rule must "
                    "recommend or suppress something")));
  // Each kind of problem has its stable code.
  EXPECT_THAT(Issues(rs), ElementsAre(EndsWith("[RS201]"), EndsWith("[RS301]"),
                                      EndsWith("[RS103]"), EndsWith("[RS106]"),
                                      EndsWith("[RS202]"), EndsWith("[RS205]"),
                                      EndsWith("[RS107]")));
}

// A key given twice would lose its first value silently (the last one
// wins in the JSON library): both places are named.
TEST(LoaderTest, DuplicateKeysAreAnErrorWithBothPositions) {
  TempRuleSet rs;
  rs.Write("rules/main.json", R"({"rules": [
  {"id": "r.high", "title": "High", "when": "true", "priority": 1,
   "when": "false",
   "recommend": {"techniques": ["t1"]}, "rationale": "x", "source": "s"}
]})");
  EXPECT_THAT(Issues(rs),
              ElementsAre("rules/main.json:3:4: key \"when\" is given twice in "
                          "one object (first at 2:37); only one may stand "
                          "[RS106]"));
  // The same key in two objects is no duplicate.
  TempRuleSet fine;
  EXPECT_THAT(Issues(fine), testing::IsEmpty());
}

// Every code is documented in the README's table, once, with its meaning.
TEST(IssueCodesTest, EveryCodeIsDocumentedAndUnique) {
  std::ifstream in(std::string(RECONNECT_SOURCE_DIR) + "/README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  std::set<std::string> seen;
  for (const auto& info : issue_codes::AllIssueCodes()) {
    EXPECT_TRUE(seen.insert(info.code).second) << info.code << " twice";
    EXPECT_THAT(readme.str(), HasSubstr(absl::StrCat("| `", info.code, "` | ",
                                                     info.meaning, " |")))
        << info.code << " is not in the README's table as in issue_codes.cc";
  }
  EXPECT_GE(seen.size(), 20u);
}

TEST(LoaderTest, DefCycleIsReported) {
  TempRuleSet rs;
  rs.Write("defs.json", R"({
  "a": {"expr": "defs.b", "doc": "a"},
  "b": {"expr": "defs.a", "doc": "b"},
  "high": {"expr": "true", "doc": "h"}
})");
  EXPECT_THAT(
      Issues(rs),
      ElementsAre(HasSubstr("defs.json:2:3: defs form a cycle: a -> b -> a")));
}

TEST(LoaderTest, ParamOfTheWrongType) {
  TempRuleSet rs;
  rs.Write(
      "params.json",
      R"({"cut": {"type": "int", "value": "thirty", "doc": "a cut-off"}})");
  // Only the one problem: expressions using the broken param do not cascade.
  EXPECT_THAT(Issues(rs),
              ElementsAre(HasSubstr("params.json:1:25: param 'cut': value "
                                    "\"thirty\" is not of type 'int'")));
}

TEST(LoaderTest, CatalogReferencesAreChecked) {
  TempRuleSet rs;
  rs.Write("catalog.json", R"({
  "components": [{"code": "c1", "display": "C1"}],
  "disciplines": [{"code": "d1", "display": "D1"}],
  "techniques": [{"code": "t1", "display": "T1", "component": "c9", "disciplines": ["d9"]},
                 {"code": "t1", "display": "again", "component": "c1", "disciplines": ["d1"]}],
  "prompts": [{"code": "p1", "text": "P1", "audience": "everyone"}],
  "alerts": [{"code": "a1", "title": "A", "text": "A", "severity": "loud"}]
})");
  EXPECT_THAT(
      Issues(rs),
      testing::IsSupersetOf(
          {HasSubstr("technique 't1': unknown component 'c9'"),
           HasSubstr("technique 't1': unknown discipline 'd9'"),
           HasSubstr("duplicate techniques code 't1'"),
           HasSubstr(
               "\"audience\" must be clinician, patient, partner or team"),
           HasSubstr("\"severity\" must be info, warning or critical")}));
}

// The catalog's prompts name the techniques they belong to, or say they
// stand alone; a rule recommending a prompt without its technique is a
// warning, which does not stop the rule set loading.
constexpr char kPromptCatalog[] = R"({
  "components": [{"code": "c1", "display": "C1"}],
  "disciplines": [{"code": "d1", "display": "D1"}],
  "techniques": [{"code": "t1", "display": "T1", "component": "c1", "disciplines": ["d1"]},
                 {"code": "t2", "display": "T2", "component": "c1", "disciplines": ["d1"]}],
  "prompts": [{"code": "p1", "text": "P1", "audience": "patient", "techniques": ["t1"]},
              {"code": "p2", "text": "P2", "audience": "patient"},
              {"code": "p3", "text": "P3", "audience": "patient", "standalone": true}]
})";

TEST(LoaderTest, PromptWithoutItsTechniqueIsAWarning) {
  TempRuleSet rs;
  rs.Write("catalog.json", kPromptCatalog);
  rs.Write("rules/main.json", R"({"rules": [
  {"id": "r.with", "title": "With", "when": "true", "recommend": {"techniques": ["t1"], "prompts": ["p1", "p3"]},
   "rationale": "r", "source": "s"},
  {"id": "r.without", "title": "Without", "when": "true",
   "recommend": {"techniques": ["t2"], "prompts": ["p1", "p2"]}, "rationale": "r", "source": "s"}
]})");
  LoadResult r = LoadRuleSet(rs.dir());
  ASSERT_NE(r.rule_set, nullptr);
  EXPECT_THAT(r.issues, testing::IsEmpty());
  std::vector<std::string> warnings;
  for (const auto& w : r.warnings) {
    EXPECT_EQ(w.code, "RS305");
    warnings.push_back(w.ToString());
  }
  EXPECT_THAT(
      warnings,
      ElementsAre(
          AllOf(HasSubstr("rules/main.json:5:52: rule 'r.without': "
                          "recommends prompt 'p1' without its technique (t1) "
                          "[RS305]")),
          AllOf(HasSubstr("rules/main.json:5:"),
                HasSubstr("prompt 'p2' belongs to no technique and is not "
                          "marked standalone"))));
}

TEST(LoaderTest, PromptTechniquesAreChecked) {
  TempRuleSet rs;
  std::string catalog = kPromptCatalog;
  catalog.replace(catalog.find("\"techniques\": [\"t1\"]"), 20,
                  "\"techniques\": [\"t9\"]");
  catalog.replace(catalog.find("\"standalone\": true"), 18,
                  "\"standalone\": true, \"techniques\": [\"t2\"]");
  catalog.replace(catalog.find("\"audience\": \"patient\"}"), 22,
                  "\"audience\": \"patient\", \"standalone\": \"yes\"}");
  rs.Write("catalog.json", catalog);
  EXPECT_THAT(
      Issues(rs),
      testing::IsSupersetOf(
          {HasSubstr("prompt 'p1': unknown technique 't9' [RS302]"),
           HasSubstr("prompt 'p3': a standalone prompt belongs to no "
                     "technique; give \"techniques\" or \"standalone\", not "
                     "both [RS104]"),
           HasSubstr("\"standalone\" must be true or false [RS104]")}));
}

TEST(LoaderTest, MetadataIsValidated) {
  TempRuleSet rs;
  rs.Write("ruleset.json",
           R"({"id": "Bad Id", "version": "1.0", "status": "live",
    "input": {"name": "assessment", "type": "reconnect.v1.Nope"}, "gap_suggestion": "x"})");
  EXPECT_THAT(
      Issues(rs),
      ElementsAre(
          HasSubstr("\"id\" must be lower-case"),
          HasSubstr("\"version\" must be a semantic version"),
          HasSubstr("\"status\" must be draft, active or retired"),
          HasSubstr(
              "input type 'reconnect.v1.Nope' is not a known message type")));
}

TEST(LoaderTest, TeamMustBeAListOfStrings) {
  TempRuleSet rs;
  rs.Write("ruleset.json",
           R"({"id": "test", "version": "1.0.0", "status": "draft",
    "input": {"name": "assessment", "type": "reconnect.v1.Assessment"},
    "team": "assessment.pain", "gap_suggestion": "x"})");
  EXPECT_THAT(Issues(rs), ElementsAre(HasSubstr(
                              "\"team\" must be a list(string) of discipline "
                              "codes, found 'reconnect.v1.Pain'")));
}

TEST(LoaderTest, HostileExpressionIsRefusedAtLoad) {
  TempRuleSet rs;
  rs.Write("rules/main.json",
           "{\"rules\": [{\"id\": \"r.deep\", \"title\": \"t\", \"when\": \"" +
               std::string(5000, '(') + "true" + std::string(5000, ')') +
               "\", \"recommend\": {\"prompts\": [\"p1\"]}, \"rationale\": "
               "\"x\", \"source\": \"s\"}]}");
  EXPECT_THAT(Issues(rs), ElementsAre(HasSubstr("(limit max_depth)")));
}

// The audit store keeps rule sets as canonical content; replay rebuilds
// them from it, and must get the same rules back.
TEST(CanonicalTest, RebuildsTheSameRuleSet) {
  LoadResult original =
      LoadRuleSet(std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5");
  ASSERT_NE(original.rule_set, nullptr);
  const std::string& content = original.rule_set->canonical_content();
  LoadResult again = LoadCanonicalRuleSet(content, original.rule_set->digest());
  ASSERT_NE(again.rule_set, nullptr)
      << (again.issues.empty() ? "" : again.issues[0].ToString());
  EXPECT_EQ(again.rule_set->digest(), original.rule_set->digest());
  EXPECT_EQ(again.rule_set->canonical_content(), content);
  EXPECT_EQ(again.rule_set->rule_count(), original.rule_set->rule_count());
}

TEST(CanonicalTest, RefusesWhatIsNotCanonicalContent) {
  auto first_issue = [](const std::string& content,
                        const std::string& digest = "") {
    LoadResult r = LoadCanonicalRuleSet(content, digest);
    EXPECT_EQ(r.rule_set, nullptr);
    return r.issues.empty() ? std::string() : r.issues[0].ToString();
  };
  EXPECT_THAT(first_issue("not json"),
              HasSubstr("not the canonical content of a rule set"));
  EXPECT_THAT(first_issue(R"({"ruleset": {}, "catalog": {}, "rules": []})"),
              HasSubstr("not the canonical content"));
  EXPECT_THAT(first_issue(R"({"ruleset": {}, "catalog": {},
                              "rules": {"../../etc/x.json": {}}})"),
              HasSubstr("unexpected rule file name '../../etc/x.json'"));
  LoadResult original =
      LoadRuleSet(std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5");
  ASSERT_NE(original.rule_set, nullptr);
  EXPECT_THAT(
      first_issue(original.rule_set->canonical_content(), std::string(64, '0')),
      HasSubstr("not the expected 0000"));
}

// A rule set is rebuilt in memory: with no temporary directory to write
// to (as in a read-only container), replay still works.
TEST(CanonicalTest, RebuildsWithoutTemporaryFiles) {
  LoadResult original =
      LoadRuleSet(std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5");
  ASSERT_NE(original.rule_set, nullptr);
  const char* saved = getenv("TMPDIR");
  const std::string saved_value = saved ? saved : "";
  setenv("TMPDIR", "/nonexistent/reconnect-no-temp", 1);
  LoadResult again = LoadCanonicalRuleSet(
      original.rule_set->canonical_content(), original.rule_set->digest());
  if (saved) {
    setenv("TMPDIR", saved_value.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  ASSERT_NE(again.rule_set, nullptr)
      << (again.issues.empty() ? "" : again.issues[0].ToString());
  EXPECT_EQ(again.rule_set->digest(), original.rule_set->digest());
}

// A stored rule set whose content was edited names the file and position
// of what no longer compiles, as a directory would.
TEST(CanonicalTest, AnEditedRuleSetIsReportedWithItsFile) {
  LoadResult original =
      LoadRuleSet(std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.0.5");
  ASSERT_NE(original.rule_set, nullptr);
  std::string content = original.rule_set->canonical_content();
  const size_t when = content.find("\"when\":\"");
  ASSERT_NE(when, std::string::npos);
  content.insert(when + 8, "undeclared_name && ");
  LoadResult r = LoadCanonicalRuleSet(content);
  EXPECT_EQ(r.rule_set, nullptr);
  ASSERT_FALSE(r.issues.empty());
  EXPECT_THAT(r.issues[0].ToString(),
              testing::MatchesRegex("rules/[a-z_]+\\.json:[0-9]+:[0-9]+: .*"
                                    "undeclared_name.*"));
}

}  // namespace
}  // namespace reconnect::ruleset

namespace reconnect::ruleset {
namespace {

using testing::AllOf;
using testing::Contains;
using testing::Not;

constexpr char kCdsHooks[] = R"({"cards": {"source": {"label": "Test"},
  "headings": {"components": "C", "prompts": "P", "considerations": "Co",
    "held": "H", "not_available": "N", "why": "W", "gaps": "G",
    "rule_errors": "E", "why_not": "WN"},
  "override_reasons": [{"system": "urn:s", "code": "x", "display": "X"}]},
  "services": [
  {"id": "svc-one", "hook": "patient-view", "title": "One",
   "description": "The first service",
   "prefetch": {"patient": "Patient/{{context.patientId}}"}},
  {"id": "svc-two", "hook": "encounter-start", "description": "The second"}
]})";

TEST(CdsHooksFileTest, IsOptionalAndOutsideTheDigestWhenAbsent) {
  TempRuleSet rs;
  LoadResult without = LoadRuleSet(rs.dir());
  ASSERT_NE(without.rule_set, nullptr);
  EXPECT_TRUE(without.rule_set->cds_hooks().is_null());
  EXPECT_THAT(without.rule_set->canonical_content(),
              Not(HasSubstr("cds_hooks")));
}

TEST(CdsHooksFileTest, IsReadCheckedAndCoveredByTheDigest) {
  TempRuleSet rs;
  const std::string before = LoadRuleSet(rs.dir()).rule_set->digest();
  rs.Write("cds_hooks.json", kCdsHooks);
  LoadResult r = LoadRuleSet(rs.dir());
  ASSERT_NE(r.rule_set, nullptr) << r.issues[0].ToString();
  const nlohmann::json& services = r.rule_set->cds_hooks()["services"];
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0]["id"], "svc-one");
  EXPECT_EQ(services[0]["hook"], "patient-view");
  EXPECT_EQ(services[0]["prefetch"]["patient"],
            "Patient/{{context.patientId}}");
  EXPECT_EQ(services[1]["hook"], "encounter-start");
  EXPECT_FALSE(services[1].contains("prefetch"));
  EXPECT_NE(r.rule_set->digest(), before);
  // Rebuilt from its canonical content (as the audit store keeps it), the
  // rule set has the same services and digest.
  LoadResult again = LoadCanonicalRuleSet(r.rule_set->canonical_content(),
                                          r.rule_set->digest());
  ASSERT_NE(again.rule_set, nullptr) << again.issues[0].ToString();
  EXPECT_EQ(again.rule_set->cds_hooks(), r.rule_set->cds_hooks());
}

TEST(CdsHooksFileTest, EveryProblemIsNamedWithItsCode) {
  TempRuleSet rs;
  rs.Write("cds_hooks.json", R"({"services": [
  {"id": "Bad Id", "hook": "patient-view", "description": "x"},
  {"id": "dup", "hook": "patient-view", "description": "x"},
  {"id": "dup", "hook": "patient-view", "description": "x"},
  {"id": "nohook", "description": "x"},
  {"id": "badprefetch", "hook": "patient-view", "description": "x",
   "prefetch": {"p": 3}},
  {"id": "typo", "hook": "patient-view", "description": "x", "prefech": {}}
]})");
  const std::vector<std::string> issues = Issues(rs);
  EXPECT_THAT(issues, Contains(AllOf(HasSubstr("service id 'Bad Id'"),
                                     HasSubstr("[RS105]"))));
  EXPECT_THAT(issues, Contains(AllOf(HasSubstr("duplicate service id 'dup'"),
                                     HasSubstr("[RS106]"))));
  EXPECT_THAT(issues, Contains(AllOf(HasSubstr("nohook"), HasSubstr("hook"),
                                     HasSubstr("[RS104]"))));
  EXPECT_THAT(issues,
              Contains(AllOf(HasSubstr("prefetch 'p'"), HasSubstr("[RS104]"))));
  EXPECT_THAT(issues,
              Contains(AllOf(HasSubstr("prefech"), HasSubstr("[RS103]"))));
  for (const std::string& issue : issues) {
    EXPECT_THAT(issue, testing::StartsWith("cds_hooks.json:"));
  }
}

TEST(CdsHooksFileTest, AChangeShowsInTheDiff) {
  TempRuleSet rs;
  rs.Write("cds_hooks.json", kCdsHooks);
  const std::string from = LoadRuleSet(rs.dir()).rule_set->canonical_content();
  std::string edited = kCdsHooks;
  edited.replace(edited.find("The second"), 10, "The 2nd");
  rs.Write("cds_hooks.json", edited);
  const std::string to = LoadRuleSet(rs.dir()).rule_set->canonical_content();
  absl::StatusOr<RuleSetDiff> diff = DiffRuleSets(from, to);
  ASSERT_TRUE(diff.ok()) << diff.status();
  ASSERT_EQ(diff->changes.size(), 1u);
  EXPECT_EQ(diff->changes[0].path, "cds_hooks.services[svc-two].description");
}

TEST(FhirMappingFileTest, IsResolvedAgainstTheInputType) {
  TempRuleSet rs;
  rs.Write("fhir_mapping.json", R"({
  "questionnaire": "urn:q",
  "observations": [
    {"code": "http://loinc.org|44261-6", "field": "scores.phq9_total",
     "label": "PHQ-9 total"}],
  "questionnaire_items": [
    {"linkId": "consent", "field": "intimacy_consent", "label": "consent",
     "answers": {"urn:s|yes": "INTIMACY_CONSENT_GIVEN"}},
    {"linkId": "flags", "field": "red_flags", "label": "red flags",
     "answers": {"urn:s|mass": "RED_FLAG_NEW_MASS"}}]})");
  LoadResult r = LoadRuleSet(rs.dir());
  ASSERT_NE(r.rule_set, nullptr) << r.issues[0].ToString();
  const FhirMapping& m = r.rule_set->fhir_mapping();
  EXPECT_EQ(m.questionnaire, "urn:q");
  ASSERT_EQ(m.observations.size(), 1u);
  ASSERT_EQ(m.observations[0].path.size(), 2u);
  EXPECT_EQ(m.observations[0].path[1]->name(), "phq9_total");
  ASSERT_EQ(m.questionnaire_items.size(), 2u);
  // Enum names become their numbers.
  EXPECT_EQ(m.questionnaire_items[0].answers.at("urn:s|yes"),
            static_cast<int>(v1::INTIMACY_CONSENT_GIVEN));
  EXPECT_THAT(r.rule_set->canonical_content(), HasSubstr("fhir_mapping"));
}

TEST(FhirMappingFileTest, EveryProblemIsNamedWithItsCode) {
  TempRuleSet rs;
  rs.Write("fhir_mapping.json", R"({
  "observations": [
    {"code": "no-system", "field": "scores.phq9_total", "label": "a"},
    {"code": "s|1", "field": "scores.nope", "label": "b"},
    {"code": "s|2", "field": "beliefs.code", "label": "c"},
    {"code": "s|3", "field": "scores", "label": "d"},
    {"code": "s|4", "field": "intimacy_consent", "label": "e"},
    {"code": "s|5", "field": "intimacy_consent", "label": "f",
     "answers": {"s|x": "NOT_A_VALUE"}},
    {"code": "s|6", "field": "scores.pcs_total", "label": "g",
     "answers": {"s|x": "high"}},
    {"code": "s|6", "field": "scores.pcs_total", "label": "h"}],
  "questionnaire_items": [
    {"linkId": "x", "field": "scores.pcs_total", "label": "i"}]})");
  const std::vector<std::string> issues = Issues(rs);
  auto has = [&](const std::string& text, const std::string& code) {
    EXPECT_THAT(issues, Contains(AllOf(HasSubstr(text), HasSubstr(code))))
        << text;
  };
  has("code 'no-system' must be written system|code", "[RS105]");
  has("has no field 'nope'", "[RS104]");
  has("is not a single message to go into", "[RS104]");
  has("'scores' cannot be set from one FHIR value", "[RS104]");
  has("intimacy_consent is coded, so it needs \"answers\"", "[RS104]");
  has("'NOT_A_VALUE' is not a value of reconnect.v1.IntimacyConsent",
      "[RS304]");
  has("answer 's|x' for scores.pcs_total must be an integer", "[RS202]");
  has("'s|6' is mapped twice", "[RS106]");
  has("\"questionnaire_items\" and \"flags\" need \"questionnaire\"",
      "[RS104]");
  for (const std::string& issue : issues) {
    EXPECT_THAT(issue, testing::StartsWith("fhir_mapping.json:"));
  }
}

TEST(FhirMappingFileTest, CodedPresenceSetsAValueAndListsOfTextGather) {
  TempRuleSet rs;
  rs.Write("fhir_mapping.json", R"({
  "conditions": [
    {"code": "http://snomed.info/sct|77386006", "field": "red_flags",
     "value": "RED_FLAG_PREGNANCY", "label": "pregnancy"},
    {"code": "urn:s|trauma", "field": "safeguarding.trauma_history",
     "value": true, "label": "trauma"}],
  "care_team_roles": [
    {"code": "urn:d|pharmacy", "field": "care_team.disciplines",
     "value": "pharmacy", "label": "pharmacy"}]})");
  LoadResult r = LoadRuleSet(rs.dir());
  ASSERT_NE(r.rule_set, nullptr) << r.issues[0].ToString();
  const FhirMapping& m = r.rule_set->fhir_mapping();
  ASSERT_EQ(m.conditions.size(), 2u);
  EXPECT_EQ(m.conditions[0].answers.at("http://snomed.info/sct|77386006"),
            static_cast<int>(v1::RED_FLAG_PREGNANCY));
  EXPECT_EQ(m.conditions[1].answers.at("urn:s|trauma"), true);
  ASSERT_EQ(m.care_team_roles.size(), 1u);
  EXPECT_EQ(m.care_team_roles[0].answers.at("urn:d|pharmacy"), "pharmacy");
  // Lists of text gather only here: an observation cannot set one.
  TempRuleSet observed;
  observed.Write("fhir_mapping.json", R"({"observations": [
    {"code": "s|1", "field": "care_team.disciplines", "label": "x"}]})");
  EXPECT_THAT(Issues(observed),
              Contains(HasSubstr("cannot be set from one FHIR value")));
}

TEST(FhirMappingFileTest, CodedPresenceProblemsAreNamed) {
  TempRuleSet rs;
  rs.Write("fhir_mapping.json", R"({
  "conditions": [
    {"code": "no-system", "field": "red_flags", "value": "RED_FLAG_NEW_MASS",
     "label": "a"},
    {"code": "s|1", "field": "red_flags", "label": "b"},
    {"code": "s|2", "field": "red_flags", "value": "RED_FLAG_NONE",
     "label": "c"},
    {"code": "s|3", "field": "safeguarding.trauma_history", "value": "yes",
     "label": "d"},
    {"code": "s|3", "field": "safeguarding.trauma_history", "value": true,
     "label": "e"},
    {"code": "s|4", "field": "medicines", "value": "x", "label": "f"}],
  "care_team_roles": {"code": "s|5"}})");
  const std::vector<std::string> issues = Issues(rs);
  auto has = [&](const std::string& text, const std::string& code) {
    EXPECT_THAT(issues, Contains(AllOf(HasSubstr(text), HasSubstr(code))))
        << text;
  };
  has("code 'no-system' must be written system|code", "[RS105]");
  has("'s|1' needs the \"value\" its presence sets", "[RS104]");
  has("'RED_FLAG_NONE' is not a value of reconnect.v1.RedFlag", "[RS304]");
  has("value for safeguarding.trauma_history must be true or false", "[RS202]");
  has("'s|3' is mapped twice in conditions", "[RS106]");
  has("'medicines' cannot be set from one FHIR value", "[RS104]");
  has("\"care_team_roles\" must be a list", "[RS104]");
}

TEST(FhirMappingFileTest, ResourcesBecomeListElements) {
  TempRuleSet rs;
  rs.Write("fhir_mapping.json", R"({
  "questionnaire": "urn:q",
  "medication_requests": {
    "field": "medicines", "text": "name", "label": "active medicines",
    "codes": [
      {"code_prefix": "http://www.whocc.no/atc|N02A", "label": "opioid",
       "set": {"medicine_class": "MEDICINE_CLASS_OPIOID"}},
      {"code": "urn:local|77", "label": "local",
       "set": {"medicine_class": "MEDICINE_CLASS_NSAID",
               "sexual_side_effects": true}}],
    "otherwise": {"medicine_class": "MEDICINE_CLASS_OTHER"},
    "flags": [{"linkId": "timing", "label": "timing",
               "set": {"timing_problem": true}}]}})");
  LoadResult r = LoadRuleSet(rs.dir());
  ASSERT_NE(r.rule_set, nullptr) << r.issues[0].ToString();
  const FhirListMapping& m = r.rule_set->fhir_mapping().medication_requests;
  ASSERT_EQ(m.path.size(), 1u);
  EXPECT_EQ(m.path[0]->name(), "medicines");
  ASSERT_NE(m.text, nullptr);
  EXPECT_EQ(m.text->name(), "name");
  ASSERT_EQ(m.codes.size(), 2u);
  EXPECT_TRUE(m.codes[0].prefix);
  EXPECT_EQ(m.codes[0].code, "http://www.whocc.no/atc|N02A");
  EXPECT_FALSE(m.codes[1].prefix);
  ASSERT_EQ(m.codes[1].set.size(), 2u);
  EXPECT_EQ(m.codes[0].set[0].value,
            static_cast<int>(v1::MEDICINE_CLASS_OPIOID));
  ASSERT_EQ(m.otherwise.size(), 1u);
  ASSERT_EQ(m.flags.size(), 1u);
  EXPECT_EQ(m.flags[0].set[0].field->name(), "timing_problem");
  EXPECT_FALSE(r.rule_set->fhir_mapping().empty());
}

TEST(FhirMappingFileTest, ListElementProblemsAreNamed) {
  TempRuleSet rs;
  rs.Write("fhir_mapping.json", R"({
  "medication_requests": {
    "field": "medicines", "text": "medicine_class", "label": "m",
    "codes": [
      {"code": "no-system", "label": "a", "set": {"timing_problem": true}},
      {"code": "s|1", "label": "b"},
      {"code": "s|2", "label": "c", "set": {"dose": 1}},
      {"code": "s|3", "label": "d",
       "set": {"medicine_class": "MEDICINE_CLASS_NONE"}},
      {"code": "s|4", "label": "e", "set": {"timing_problem": "yes"}},
      {"code": "s|5", "label": "f", "set": {"timing_problem": true}},
      {"code": "s|5", "label": "g", "set": {"timing_problem": true}}],
    "flags": [{"linkId": "x", "label": "h", "set": {"name": 3}},
              {"linkId": "y", "label": "i", "set": {"timing_problem": true}}]}})");
  const std::vector<std::string> issues = Issues(rs);
  auto has = [&](const std::string& text, const std::string& code) {
    EXPECT_THAT(issues, Contains(AllOf(HasSubstr(text), HasSubstr(code))))
        << text;
  };
  has("text 'medicine_class' is not a single text field", "[RS104]");
  has("code 'no-system' must be written system|code", "[RS105]");
  has("'s|1' needs the values it \"set\"s", "[RS104]");
  has("'dose' is not a single number, code, boolean or text field of "
      "reconnect.v1.Medicine",
      "[RS104]");
  has("'MEDICINE_CLASS_NONE' is not a value of reconnect.v1.MedicineClass",
      "[RS304]");
  has("value for timing_problem must be true or false", "[RS202]");
  has("'s|5' is mapped twice in medication_requests", "[RS106]");
  has("value for name must be text", "[RS202]");
  has("\"questionnaire_items\" and \"flags\" need \"questionnaire\"",
      "[RS104]");

  TempRuleSet not_a_list;
  not_a_list.Write("fhir_mapping.json",
                   R"({"medication_requests": {"field": "scores",
                       "label": "x"}})");
  EXPECT_THAT(Issues(not_a_list),
              Contains(HasSubstr("field 'scores' must be a list of messages")));
  TempRuleSet not_an_object;
  not_an_object.Write("fhir_mapping.json", R"({"medication_requests": []})");
  EXPECT_THAT(Issues(not_an_object),
              Contains(HasSubstr("\"medication_requests\" must be an object")));
}

TEST(CdsHooksFileTest, CardsNeedTheirSourceHeadingsAndReasonDisplays) {
  TempRuleSet rs;
  rs.Write("cds_hooks.json", R"({"services": [
  {"id": "s", "hook": "patient-view", "description": "x"}],
  "cards": {"headings": {"why": "Why"},
    "override_reasons": [{"system": "urn:s", "code": "x"}]}})");
  const std::vector<std::string> issues = Issues(rs);
  EXPECT_THAT(issues, Contains(HasSubstr("\"source\" ({\"label\": ...}) is "
                                         "required")));
  EXPECT_THAT(issues,
              Contains(AllOf(HasSubstr("components"), HasSubstr("[RS104]"))));
  EXPECT_THAT(issues, Contains(AllOf(HasSubstr("override reason 'x'"),
                                     HasSubstr("display"))));
  rs.Write("cds_hooks.json", R"({"services": [
  {"id": "s", "hook": "patient-view", "description": "x"}]})");
  EXPECT_THAT(Issues(rs), ElementsAre(HasSubstr("\"cards\" is required")));
}

TEST(CdsHooksFileTest, NeedsAtLeastOneService) {
  TempRuleSet rs;
  rs.Write("cds_hooks.json", R"({"services": [], "cards": {
  "source": {"label": "Test"},
  "headings": {"components": "C", "prompts": "P", "considerations": "Co",
    "held": "H", "not_available": "N", "why": "W", "gaps": "G",
    "rule_errors": "E", "why_not": "WN"}}})");
  EXPECT_THAT(Issues(rs), ElementsAre(AllOf(HasSubstr("non-empty list"),
                                            HasSubstr("[RS104]"))));
}

}  // namespace
}  // namespace reconnect::ruleset
