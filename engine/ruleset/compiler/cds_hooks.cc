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

void RuleSetCompiler::ReadCdsHooks(const SourceFile& f) {
  ObjectReader r(f, f.root, "cds_hooks", "", 0, issues_);
  if (!r.ok()) return;
  r.RejectUnknownKeys({"services"});
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
  out_->cds_hooks_ = json{{"services", std::move(out)}};
}

}  // namespace reconnect::ruleset::ruleset_internal
