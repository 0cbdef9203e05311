// The catalog stage: catalog.json, every code a rule may name, and the
// technique-to-discipline skills mapping.

#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/issue_codes.h"
#include "re2/re2.h"

namespace reconnect::ruleset::ruleset_internal {

using nlohmann::json;

void RuleSetCompiler::ReadCatalog(const SourceFile& f) {
  ObjectReader r(f, f.root, "catalog", "", 0, issues_);
  if (!r.ok()) return;
  r.RejectUnknownKeys({"components", "techniques", "disciplines", "prompts",
                       "alerts", "considerations"});
  auto each = [&](const char* key, auto&& fn) {
    const json* list = r.Member(key);
    if (list == nullptr) return;
    if (!list->is_array()) {
      r.Error(issue_codes::kMissingOrWrongShape,
              absl::StrCat("catalog: \"", key, "\" must be a list"),
              r.KeyOffset(key));
      return;
    }
    ruleset_internal::ListEntryLocator locate(f, r.KeyOffset(key));
    for (const json& e : *list) {
      const auto [code, at] = locate.Next(e, "code");
      ObjectReader er(f, e,
                      absl::StrCat("catalog ", key, " entry '", code, "'"), "",
                      at, issues_);
      if (!er.ok()) continue;
      if (code.empty()) {
        er.Error(
            issue_codes::kMissingOrWrongShape,
            absl::StrCat("catalog ", key, ": every entry needs a \"code\""));
        continue;
      }
      if (!RE2::FullMatch(code, "[a-z][a-z0-9_]*")) {
        er.Error(issue_codes::kBadName,
                 absl::StrCat("code '", code, "' must be lower_snake_case"),
                 at);
      }
      fn(er, code);
    }
  };
  absl::flat_hash_map<std::string, int> component_index;
  each("components", [&](ObjectReader& er, const std::string& code) {
    er.RejectUnknownKeys({"code", "display", "description"});
    if (!component_index
             .try_emplace(code, static_cast<int>(out_->components_.size()))
             .second) {
      er.Error(issue_codes::kDuplicate,
               absl::StrCat("duplicate component code '", code, "'"));
    }
    out_->components_.push_back({code, er.String("display", true)});
    er.String("description", false);
  });
  auto add_item = [&](int kind, ObjectReader& er,
                      const std::string& code) -> CatalogItem* {
    if (!codes_[kind]
             .try_emplace(code, static_cast<int>(out_->catalog_[kind].size()))
             .second) {
      er.Error(
          issue_codes::kDuplicate,
          absl::StrCat("duplicate ", kKindKeys[kind], " code '", code, "'"));
      return nullptr;
    }
    CatalogItem& item = out_->catalog_[kind].emplace_back();
    item.code = code;
    item.tags = er.StringList("tags");
    return &item;
  };
  using namespace ruleset_internal;
  each("disciplines", [&](ObjectReader& er, const std::string& code) {
    er.RejectUnknownKeys({"code", "display", "tags"});
    if (CatalogItem* item = add_item(kDiscipline, er, code)) {
      item->display = er.String("display", true);
    }
  });
  each("techniques", [&](ObjectReader& er, const std::string& code) {
    er.RejectUnknownKeys(
        {"code", "display", "description", "component", "disciplines", "tags"});
    CatalogItem* item = add_item(kTechnique, er, code);
    if (item == nullptr) return;
    item->display = er.String("display", true);
    item->text = er.String("description", false);
    const std::string component = er.String("component", true);
    if (auto it = component_index.find(component);
        it != component_index.end()) {
      item->component = it->second;
    } else if (!component.empty()) {
      er.Error(issue_codes::kUnknownCatalogReference,
               absl::StrCat("technique '", code, "': unknown component '",
                            component, "'"),
               er.KeyOffset("component"));
    }
    for (const std::string& d : er.StringList("disciplines")) {
      if (auto it = codes_[kDiscipline].find(d);
          it != codes_[kDiscipline].end()) {
        item->disciplines.push_back(it->second);
      } else {
        er.Error(issue_codes::kUnknownCatalogReference,
                 absl::StrCat("technique '", code, "': unknown discipline '", d,
                              "'"),
                 er.KeyOffset("disciplines"));
      }
    }
    if (item->disciplines.empty()) {
      er.Error(
          issue_codes::kNoDiscipline,
          absl::StrCat("technique '", code,
                       "': the skills mapping needs at least one discipline"));
    }
  });
  each("prompts", [&](ObjectReader& er, const std::string& code) {
    er.RejectUnknownKeys(
        {"code", "text", "audience", "tags", "techniques", "standalone"});
    CatalogItem* item = add_item(kPrompt, er, code);
    if (item == nullptr) return;
    item->text = er.String("text", true);
    item->standalone = er.Bool("standalone", false);
    for (const std::string& t : er.StringList("techniques")) {
      if (auto it = codes_[kTechnique].find(t);
          it != codes_[kTechnique].end()) {
        item->techniques.push_back(it->second);
      } else {
        er.Error(
            issue_codes::kUnknownCatalogReference,
            absl::StrCat("prompt '", code, "': unknown technique '", t, "'"),
            er.KeyOffset("techniques"));
      }
    }
    if (item->standalone && !item->techniques.empty()) {
      er.Error(issue_codes::kMissingOrWrongShape,
               absl::StrCat("prompt '", code,
                            "': a standalone prompt belongs to no technique; "
                            "give \"techniques\" or \"standalone\", not both"),
               er.KeyOffset("standalone"));
    }
    const std::string audience = er.String("audience", true);
    static const std::map<std::string, int> kAudiences = {
        {"clinician", v1::AUDIENCE_CLINICIAN},
        {"patient", v1::AUDIENCE_PATIENT},
        {"partner", v1::AUDIENCE_PARTNER},
        {"team", v1::AUDIENCE_TEAM}};
    if (auto it = kAudiences.find(audience); it != kAudiences.end()) {
      item->audience = it->second;
    } else if (!audience.empty()) {
      er.Error(issue_codes::kBadEnumValue,
               "\"audience\" must be clinician, patient, partner or team",
               er.KeyOffset("audience"));
    }
  });
  each("alerts", [&](ObjectReader& er, const std::string& code) {
    er.RejectUnknownKeys({"code", "title", "text", "severity", "tags"});
    CatalogItem* item = add_item(kAlert, er, code);
    if (item == nullptr) return;
    item->display = er.String("title", true);
    item->text = er.String("text", true);
    const std::string severity = er.String("severity", true);
    static const std::map<std::string, int> kSeverities = {
        {"info", v1::SEVERITY_INFO},
        {"warning", v1::SEVERITY_WARNING},
        {"critical", v1::SEVERITY_CRITICAL}};
    if (auto it = kSeverities.find(severity); it != kSeverities.end()) {
      item->severity = it->second;
    } else if (!severity.empty()) {
      er.Error(issue_codes::kBadEnumValue,
               "\"severity\" must be info, warning or critical",
               er.KeyOffset("severity"));
    }
  });
  each("considerations", [&](ObjectReader& er, const std::string& code) {
    er.RejectUnknownKeys({"code", "text", "tags", "title", "summary"});
    if (CatalogItem* item = add_item(kConsideration, er, code)) {
      item->text = er.String("text", true);
      item->display = er.String("title", false);
      item->in_summary = er.Bool("summary", false);
      if (item->in_summary && item->display.empty()) {
        er.Error(issue_codes::kMissingOrWrongShape,
                 absl::StrCat("consideration '", code,
                              "': one named in the summary needs a \"title\""),
                 er.KeyOffset("summary"));
      }
    }
  });
}

}  // namespace reconnect::ruleset::ruleset_internal
