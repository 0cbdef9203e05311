// The rules stage: rules/*.json, each rule's condition, the items it
// recommends and suppresses, and its rationale template.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/layout.h"
#include "re2/re2.h"

namespace reconnect::ruleset::ruleset_internal {

using nlohmann::json;

void RuleSetCompiler::ReadRules(const SourceFile& f) {
  ObjectReader fr(f, f.root, "rule file", "", 0, issues_);
  if (!fr.ok()) return;
  fr.RejectUnknownKeys({"rules", "description"});
  const json* rules = fr.Member("rules");
  if (rules == nullptr || !rules->is_array()) {
    fr.Error(issue_codes::kMissingOrWrongShape,
             "a rule file must hold {\"rules\": [ ... ]}");
    return;
  }
  ruleset_internal::ListEntryLocator locate(f, 0);
  for (const json& rj : *rules) {
    const auto [id, at] = locate.Next(rj, "id");
    ObjectReader r(f, rj, "rule", id, at, issues_);
    if (!r.ok()) continue;
    if (id.empty()) {
      r.Error(issue_codes::kMissingOrWrongShape,
              "every rule needs a string \"id\"");
      continue;
    }
    if (!RE2::FullMatch(id, "[a-z][a-z0-9_.-]*")) {
      r.Error(issue_codes::kBadName,
              "rule id must be lower-case letters, digits, '_', '.' or '-'",
              at);
    }
    if (!rule_ids_.insert(id).second) {
      r.Error(issue_codes::kDuplicate,
              absl::StrCat("duplicate rule id '", id, "'"), at);
      continue;
    }
    r.RejectUnknownKeys({"id", "title", "when", "priority", "recommend",
                         "suppress", "rationale", "source", "review_by"});
    CompiledRule rule;
    rule.id = id;
    rule.title = r.String("title", true);
    rule.source = r.String("source", true);
    rule.file = f.relative_path;
    rule.line = f.LineColumn(at).first;
    rule.review_by = r.String("review_by", false);
    if (!rule.review_by.empty() &&
        !RE2::FullMatch(rule.review_by, kDatePattern)) {
      r.Error(issue_codes::kBadName,
              "\"review_by\" must be a date such as 2027-12-01",
              r.KeyOffset("review_by"));
    }
    rule.priority = static_cast<int>(r.Int("priority", 0));
    std::vector<size_t> lines;
    if (auto when = r.Expression("when", true, lines)) {
      auto c = CompileExpression(f, id, "when", *when, lines);
      if (c.id >= 0) {
        if (!cel::Type::Bool().IsAssignableFrom(c.type)) {
          r.Error(issue_codes::kWrongType,
                  absl::StrCat("\"when\" must be a bool expression, found '",
                               c.type.ToString(), "'"),
                  r.KeyOffset("when"));
        }
        rule.when = c.id;
        rule.when_text = *when;
        AddFacts(rule.facts, c.facts);
      }
    }
    ReadRationale(f, r, rule);
    ReadItems(f, r, "recommend", rule, /*suppress=*/false);
    ReadItems(f, r, "suppress", rule, /*suppress=*/true);
    if (!r.Member("recommend") && !r.Member("suppress")) {
      r.Error(issue_codes::kRuleDoesNothing,
              "a rule must recommend or suppress something");
    }
    out_->rules_.push_back(std::move(rule));
  }
}

void RuleSetCompiler::AddFacts(std::vector<int>& into,
                               const std::vector<int>& facts) {
  for (int f : facts) {
    if (std::find(into.begin(), into.end(), f) == into.end()) into.push_back(f);
  }
}

void RuleSetCompiler::ReadRationale(const SourceFile& f, ObjectReader& r,
                                    CompiledRule& rule) {
  const std::string tmpl = r.String("rationale", true);
  const size_t at = r.KeyOffset("rationale");
  size_t pos = 0;
  while (pos < tmpl.size()) {
    const size_t open = tmpl.find("{{", pos);
    if (open == std::string::npos) {
      rule.rationale.push_back({tmpl.substr(pos), -1});
      break;
    }
    if (open > pos)
      rule.rationale.push_back({tmpl.substr(pos, open - pos), -1});
    const size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) {
      r.Error(issue_codes::kRationale, "rationale: '{{' without a closing '}}'",
              at);
      return;
    }
    const std::string expr = tmpl.substr(open + 2, close - open - 2);
    auto c = builder_->Compile(expr);
    if (c.id < 0) {
      for (const cel::Issue& i : c.issues) {
        r.Error(
            issue_codes::kRationale,
            absl::StrCat("rationale expression {{", expr, "}}: ", i.ToString()),
            at);
      }
    } else {
      // The template's expressions have no position of their own in the
      // file; their errors point at the "rationale" key.
      const auto [line, column] = f.LineColumn(at);
      for (const auto& site : c.sites) {
        SetErrorLocation(site.first, f, line, column);
      }
      rule.rationale.push_back({"", c.id});
      AddFacts(rule.facts, c.facts);
    }
    pos = close + 2;
  }
}

void RuleSetCompiler::ReadItems(const SourceFile& f, ObjectReader& r,
                                const char* key, CompiledRule& rule,
                                bool suppress) {
  const json* obj = r.Member(key);
  if (obj == nullptr) return;
  ObjectReader ir(f, *obj, absl::StrCat("\"", key, "\""), rule.id,
                  r.KeyOffset(key), issues_);
  if (!ir.ok()) return;
  ir.RejectUnknownKeys(
      {kKindKeys[0], kKindKeys[1], kKindKeys[2], kKindKeys[3], kKindKeys[4]});
  for (int kind = 0; kind < kItemKinds; ++kind) {
    const auto& catalog = out_->catalog_[kind];
    std::vector<bool> mask(catalog.size(), false);
    for (const std::string& code : ir.StringList(kKindKeys[kind])) {
      const size_t at = f.FindString(code, ir.anchor());
      if (suppress && code == "*") {
        mask.assign(catalog.size(), true);
        rule.suppresses_everything = true;
      } else if (suppress && code.rfind("tag:", 0) == 0) {
        const std::string tag = code.substr(4);
        bool any = false;
        for (size_t i = 0; i < catalog.size(); ++i) {
          if (std::find(catalog[i].tags.begin(), catalog[i].tags.end(), tag) !=
              catalog[i].tags.end()) {
            mask[i] = any = true;
          }
        }
        if (!any)
          ir.Error(
              issue_codes::kUnknownCode,
              absl::StrCat("no ", kKindKeys[kind], " carry tag '", tag, "'"),
              at);
      } else if (auto it = codes_[kind].find(code); it != codes_[kind].end()) {
        if (suppress) {
          mask[it->second] = true;
        } else {
          rule.recommend[kind].push_back(it->second);
        }
      } else {
        ir.Error(
            issue_codes::kUnknownCode,
            absl::StrCat("unknown ", kKindKeys[kind], " code '", code, "'"),
            at);
      }
    }
    if (suppress && kind == kPrompt) HoldPromptsOfHeldTechniques(rule, mask);
    if (suppress && std::find(mask.begin(), mask.end(), true) != mask.end()) {
      rule.suppress[kind] = std::move(mask);
      rule.suppresses_anything = true;
    }
  }
  if (!suppress) WarnOfPromptsWithoutTechnique(f, ir, rule);
}

void RuleSetCompiler::HoldPromptsOfHeldTechniques(const CompiledRule& rule,
                                                  std::vector<bool>& mask) {
  const std::vector<bool>& held = rule.suppress[kTechnique];
  if (held.empty()) return;
  const auto& prompts = out_->catalog_[kPrompt];
  for (size_t p = 0; p < prompts.size(); ++p) {
    const std::vector<int>& ts = prompts[p].techniques;
    if (!ts.empty() &&
        std::all_of(ts.begin(), ts.end(), [&](int t) { return held[t]; })) {
      mask[p] = true;
    }
  }
}

void RuleSetCompiler::WarnOfPromptsWithoutTechnique(const SourceFile& f,
                                                    ObjectReader& items,
                                                    const CompiledRule& rule) {
  const auto& techniques = rule.recommend[kTechnique];
  for (int p : rule.recommend[kPrompt]) {
    const CatalogItem& prompt = out_->catalog_[kPrompt][p];
    if (prompt.standalone) continue;
    const bool with_technique = std::any_of(
        prompt.techniques.begin(), prompt.techniques.end(), [&](int t) {
          return std::find(techniques.begin(), techniques.end(), t) !=
                 techniques.end();
        });
    if (with_technique) continue;
    std::string message;
    if (prompt.techniques.empty()) {
      message = absl::StrCat(
          "prompt '", prompt.code,
          "' belongs to no technique and is not marked standalone in the "
          "catalog, so no hold on a technique can hold it back");
    } else {
      std::vector<std::string> codes;
      for (int t : prompt.techniques)
        codes.push_back(out_->catalog_[kTechnique][t].code);
      message = absl::StrCat("recommends prompt '", prompt.code,
                             "' without its technique (",
                             absl::StrJoin(codes, " or "), ")");
    }
    std::vector<RuleSetIssue> found;
    ObjectReader(f, items.json(), "\"recommend\"", rule.id, items.anchor(),
                 found)
        .Error(issue_codes::kPromptWithoutTechnique, std::move(message),
               f.FindString(prompt.code, items.anchor()));
    for (RuleSetIssue& w : found) warnings_.push_back(std::move(w));
  }
}

}  // namespace reconnect::ruleset::ruleset_internal
