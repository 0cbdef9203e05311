// hazards.json: the rule set's hazard log. Each hazard is rated on the risk
// matrix the file declares (the rating scheme is the safety officer's, so
// it is content, not code), and names the rules that mitigate it; every
// rule that raises a critical alert or holds back everything must mitigate
// some hazard. The test cases each hazard names are checked against the
// test results (CheckHazardTests).

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/issue_codes.h"
#include "re2/re2.h"

namespace reconnect::ruleset::ruleset_internal {

using nlohmann::json;

namespace {

// The risk matrix: severities (columns), likelihoods (rows) and the rating
// of each pair. False (with issues) when it is malformed.
struct RiskMatrix {
  std::vector<std::string> severities, likelihoods;
  std::vector<std::vector<int>> ratings;  // [likelihood][severity]

  bool Read(ObjectReader& r) {
    r.RejectUnknownKeys(
        {"severities", "likelihoods", "ratings", "description"});
    severities = r.StringList("severities");
    likelihoods = r.StringList("likelihoods");
    const json* rows = r.Member("ratings");
    if (severities.empty() || likelihoods.empty() || rows == nullptr ||
        !rows->is_array() || rows->size() != likelihoods.size()) {
      r.Error(issue_codes::kHazardRating,
              "\"risk_matrix\" needs \"severities\", \"likelihoods\" and "
              "\"ratings\": one row per likelihood, one rating per severity");
      return false;
    }
    for (const json& row : *rows) {
      std::vector<int> out;
      if (row.is_array() && row.size() == severities.size()) {
        for (const json& v : row) {
          if (v.is_number_integer() && v.get<int64_t>() >= 1 &&
              v.get<int64_t>() <= 25) {
            out.push_back(v.get<int>());
          }
        }
      }
      if (out.size() != severities.size()) {
        r.Error(issue_codes::kHazardRating,
                absl::StrCat("each row of \"ratings\" must hold ",
                             severities.size(),
                             " whole-number ratings from 1 to 25, one per "
                             "severity"),
                r.KeyOffset("ratings"));
        return false;
      }
      ratings.push_back(std::move(out));
    }
    return true;
  }

  // The position of `value` in `names`, or -1.
  static int IndexOf(const std::vector<std::string>& names,
                     const std::string& value) {
    auto it = std::find(names.begin(), names.end(), value);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
  }
};

}  // namespace

void RuleSetCompiler::ReadHazards(const SourceFile& f) {
  ObjectReader r(f, f.root, "hazard log", "", 0, issues_);
  if (!r.ok()) return;
  r.RejectUnknownKeys({"risk_matrix", "hazards", "description"});
  const json* matrix_json = r.Member("risk_matrix");
  const json* hazards = r.Member("hazards");
  if (matrix_json == nullptr || hazards == nullptr || !hazards->is_array()) {
    r.Error(issue_codes::kMissingOrWrongShape,
            "a hazard log must hold {\"risk_matrix\": {...}, \"hazards\": "
            "[ ... ]}");
    return;
  }
  ObjectReader mr(f, *matrix_json, "\"risk_matrix\"", "",
                  r.KeyOffset("risk_matrix"), issues_);
  RiskMatrix matrix;
  if (!mr.ok() || !matrix.Read(mr)) return;

  absl::flat_hash_set<std::string> rule_ids, ids;
  for (const CompiledRule& rule : out_->rules_) rule_ids.insert(rule.id);
  std::set<std::string> mitigating;
  ListEntryLocator locate(f, 0);
  for (const json& hj : *hazards) {
    const auto [id, at] = locate.Next(hj, "id");
    ObjectReader hr(f, hj, absl::StrCat("hazard '", id, "'"), "", at, issues_);
    if (!hr.ok()) continue;
    if (id.empty() || !RE2::FullMatch(id, "[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      hr.Error(issue_codes::kBadName,
               "every hazard needs an \"id\" of letters, digits, '_', '.' "
               "or '-'");
      continue;
    }
    if (!ids.insert(id).second) {
      hr.Error(issue_codes::kDuplicate,
               absl::StrCat("duplicate hazard id '", id, "'"), at);
      continue;
    }
    hr.RejectUnknownKeys({"id", "title", "cause", "effect", "severity",
                          "likelihood", "mitigated_by", "tests"});
    Hazard h;
    h.id = id;
    h.line = f.LineColumn(at).first;
    h.title = hr.String("title", true);
    h.cause = hr.String("cause", true);
    h.effect = hr.String("effect", true);
    h.severity = hr.String("severity", true);
    h.likelihood = hr.String("likelihood", true);
    h.mitigated_by = hr.StringList("mitigated_by");
    h.tests = hr.StringList("tests");
    const int s = RiskMatrix::IndexOf(matrix.severities, h.severity);
    const int l = RiskMatrix::IndexOf(matrix.likelihoods, h.likelihood);
    if (s < 0 && !h.severity.empty()) {
      hr.Error(issue_codes::kHazardRating,
               absl::StrCat("hazard '", id, "': severity '", h.severity,
                            "' is not one of the risk matrix's: ",
                            absl::StrJoin(matrix.severities, ", ")),
               hr.KeyOffset("severity"));
    }
    if (l < 0 && !h.likelihood.empty()) {
      hr.Error(issue_codes::kHazardRating,
               absl::StrCat("hazard '", id, "': likelihood '", h.likelihood,
                            "' is not one of the risk matrix's: ",
                            absl::StrJoin(matrix.likelihoods, ", ")),
               hr.KeyOffset("likelihood"));
    }
    if (s >= 0 && l >= 0) h.risk = matrix.ratings[l][s];
    if (h.mitigated_by.empty()) {
      hr.Error(issue_codes::kHazardRule,
               absl::StrCat("hazard '", id,
                            "' names no rule in \"mitigated_by\": a hazard "
                            "the rules do not mitigate has no place here "
                            "until they do"));
    }
    for (const std::string& rule : h.mitigated_by) {
      if (!rule_ids.contains(rule)) {
        hr.Error(issue_codes::kHazardRule,
                 absl::StrCat("hazard '", id, "' is mitigated by rule '", rule,
                              "', which the rule set does not have"),
                 f.FindString(rule, at));
      }
      mitigating.insert(rule);
    }
    if (h.tests.empty()) {
      hr.Error(issue_codes::kHazardTest,
               absl::StrCat("hazard '", id,
                            "' names no test case in \"tests\" to prove its "
                            "mitigation"));
    }
    out_->hazards_.push_back(std::move(h));
  }
  out_->has_hazards_ = true;

  // Every rule that raises a critical alert or holds back everything of a
  // kind is a safety control: the log must say what hazard it controls.
  for (const CompiledRule& rule : out_->rules_) {
    bool critical = rule.suppresses_everything;
    for (int alert : rule.recommend[kAlert]) {
      critical = critical || out_->catalog_[kAlert][alert].severity ==
                                 v1::SEVERITY_CRITICAL;
    }
    if (critical && !mitigating.contains(rule.id)) {
      issues_.push_back(
          {rule.file, rule.line, 1, rule.id,
           "raises a critical alert or suppresses \"*\", but mitigates no "
           "hazard in hazards.json",
           issue_codes::kUnloggedSafetyRule});
    }
  }
}

}  // namespace reconnect::ruleset::ruleset_internal
