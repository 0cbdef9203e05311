// The CDS Hooks stage: cds_hooks.json, the services the rule set offers to
// EHRs through CDS Hooks and the FHIR queries (prefetch templates) that feed
// each. The engine checks its shape, not what the queries mean.

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/issue_codes.h"
#include "re2/re2.h"

namespace reconnect::ruleset::ruleset_internal {

using nlohmann::json;

namespace {

// The headings the cards use, each the rule set's own words.
constexpr const char* kCardHeadings[] = {
    "components", "prompts", "considerations", "held",   "not_available",
    "why",        "gaps",    "rule_errors",    "why_not"};

// "cards": how the services' answers read: the source every card names,
// the headings, the override reasons offered when a card is dismissed, and
// an app to open with the decision (optional). Checked; null when absent.
json ReadCards(const SourceFile& f, ObjectReader& r,
               std::vector<RuleSetIssue>& issues) {
  const json* cards = r.Member("cards");
  if (cards == nullptr) {
    r.Error(issue_codes::kMissingOrWrongShape,
            "cds_hooks: \"cards\" is required: the source, headings and "
            "override reasons of the services' cards");
    return nullptr;
  }
  ObjectReader cr(f, *cards, "cds_hooks cards", "", r.KeyOffset("cards"),
                  issues);
  if (!cr.ok()) return nullptr;
  cr.RejectUnknownKeys({"source", "headings", "override_reasons", "app_url"});
  json out = json::object();
  if (const json* source = cr.Member("source")) {
    ObjectReader sr(f, *source, "cds_hooks cards source", "",
                    cr.KeyOffset("source"), issues);
    if (sr.ok()) {
      sr.RejectUnknownKeys({"label", "url"});
      out["source"] = {{"label", sr.String("label", true)}};
      if (std::string url = sr.String("url", false); !url.empty()) {
        out["source"]["url"] = url;
      }
    }
  } else {
    cr.Error(issue_codes::kMissingOrWrongShape,
             "cds_hooks cards: \"source\" ({\"label\": ...}) is required");
  }
  if (const json* headings = cr.Member("headings")) {
    ObjectReader hr(f, *headings, "cds_hooks cards headings", "",
                    cr.KeyOffset("headings"), issues);
    if (hr.ok()) {
      hr.RejectUnknownKeys({kCardHeadings[0], kCardHeadings[1],
                            kCardHeadings[2], kCardHeadings[3],
                            kCardHeadings[4], kCardHeadings[5],
                            kCardHeadings[6], kCardHeadings[7],
                            kCardHeadings[8], "missing_data"});
      for (const char* key : kCardHeadings) {
        out["headings"][key] = hr.String(key, true);
      }
      // Optional: without it, cards leave the missing data out.
      if (std::string h = hr.String("missing_data", false); !h.empty()) {
        out["headings"]["missing_data"] = h;
      }
    }
  } else {
    cr.Error(issue_codes::kMissingOrWrongShape,
             "cds_hooks cards: \"headings\" is required");
  }
  out["override_reasons"] = json::array();
  if (const json* reasons = cr.Member("override_reasons")) {
    if (!reasons->is_array()) {
      cr.Error(issue_codes::kMissingOrWrongShape,
               "cds_hooks cards: \"override_reasons\" must be a list of "
               "codings",
               cr.KeyOffset("override_reasons"));
    } else {
      ListEntryLocator locate(f, cr.KeyOffset("override_reasons"));
      for (const json& e : *reasons) {
        const auto [code, at] = locate.Next(e, "code");
        ObjectReader er(f, e,
                        absl::StrCat("cds_hooks override reason '", code, "'"),
                        "", at, issues);
        if (!er.ok()) continue;
        er.RejectUnknownKeys({"system", "code", "display"});
        // CDS Hooks requires a display for every override reason.
        out["override_reasons"].push_back(
            {{"system", er.String("system", true)},
             {"code", er.String("code", true)},
             {"display", er.String("display", true)}});
      }
    }
  }
  if (std::string app = cr.String("app_url", false); !app.empty()) {
    out["app_url"] = app;
  }
  return out;
}

}  // namespace

void RuleSetCompiler::ReadCdsHooks(const SourceFile& f) {
  ObjectReader r(f, f.root, "cds_hooks", "", 0, issues_);
  if (!r.ok()) return;
  r.RejectUnknownKeys({"services", "cards"});
  json cards = ReadCards(f, r, issues_);
  const json* services = r.Member("services");
  if (services == nullptr || !services->is_array() || services->empty()) {
    r.Error(issue_codes::kMissingOrWrongShape,
            "cds_hooks: \"services\" must be a non-empty list",
            r.KeyOffset("services"));
    return;
  }
  json out = json::array();
  absl::flat_hash_set<std::string> ids;
  ListEntryLocator locate(f, r.KeyOffset("services"));
  for (const json& e : *services) {
    const auto [id, at] = locate.Next(e, "id");
    ObjectReader s(f, e, absl::StrCat("cds_hooks service '", id, "'"), "", at,
                   issues_);
    if (!s.ok()) continue;
    s.RejectUnknownKeys({"id", "hook", "title", "description", "prefetch",
                         "usageRequirements"});
    // CDS Hooks puts the id in the service's URL path.
    if (!RE2::FullMatch(id, "[a-z0-9][a-z0-9-]*")) {
      s.Error(issue_codes::kBadName,
              absl::StrCat("cds_hooks: service id '", id,
                           "' must be lower-case letters, digits and '-'"),
              at);
    } else if (!ids.insert(id).second) {
      s.Error(issue_codes::kDuplicate,
              absl::StrCat("cds_hooks: duplicate service id '", id, "'"), at);
    }
    const std::string hook = s.String("hook", true);
    if (!hook.empty() && !RE2::FullMatch(hook, "[a-z0-9][a-z0-9.-]*")) {
      s.Error(issue_codes::kBadName,
              absl::StrCat("cds_hooks: hook '", hook,
                           "' is not a CDS Hooks hook name"),
              s.KeyOffset("hook"));
    }
    json service = {{"id", id},
                    {"hook", hook},
                    {"title", s.String("title", false)},
                    {"description", s.String("description", true)}};
    if (const std::string usage = s.String("usageRequirements", false);
        !usage.empty()) {
      service["usageRequirements"] = usage;
    }
    if (const json* prefetch = s.Member("prefetch")) {
      if (!prefetch->is_object()) {
        s.Error(issue_codes::kMissingOrWrongShape,
                "cds_hooks: \"prefetch\" must map keys to FHIR query templates",
                s.KeyOffset("prefetch"));
      } else {
        for (const auto& [key, query] : prefetch->items()) {
          if (!RE2::FullMatch(key, "[A-Za-z][A-Za-z0-9_]*") ||
              !query.is_string() || query.get<std::string>().empty()) {
            s.Error(issue_codes::kMissingOrWrongShape,
                    absl::StrCat("cds_hooks: prefetch '", key,
                                 "' must be a name mapped to a non-empty FHIR "
                                 "query template"),
                    s.KeyOffset("prefetch"));
          }
        }
        service["prefetch"] = *prefetch;
      }
    }
    out.push_back(std::move(service));
  }
  out_->cds_hooks_ =
      json{{"services", std::move(out)}, {"cards", std::move(cards)}};
}

}  // namespace reconnect::ruleset::ruleset_internal
