#include "service/web/diff_page.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/web/html.h"

namespace reconnect::service::web {

namespace {

std::string Select(const DiffView& view, const char* name, const char* label,
                   const std::string& chosen) {
  std::string html =
      absl::StrCat("<label>", label, "<select name=\"", name, "\">");
  for (const auto& [digest, version] : view.versions) {
    absl::StrAppend(&html, "<option value=\"", Escape(digest), "\"",
                    digest == chosen ? " selected" : "", ">", Escape(version),
                    "</option>");
  }
  absl::StrAppend(&html, "</select></label>");
  return html;
}

std::string Side(const std::string& json) {
  if (json.empty()) return "<td class=\"absent\">(absent)</td>";
  return absl::StrCat("<td><pre>", Escape(json), "</pre></td>");
}

// Field changes side by side: what, then before and after.
std::string ChangeTable(const DiffView& view,
                        const std::vector<ruleset::FieldChange>& changes) {
  std::string html = absl::StrCat(
      "<table class=\"decisions diff\"><thead><tr><th "
      "scope=\"col\">Field</th><th "
      "scope=\"col\">",
      Escape(VersionName(view, view.from)), "</th><th scope=\"col\">",
      Escape(VersionName(view, view.to)), "</th></tr></thead><tbody>");
  for (const ruleset::FieldChange& c : changes) {
    absl::StrAppend(&html, "<tr data-path=\"", Escape(c.path),
                    "\"><th scope=\"row\" class=\"mono\">", Escape(c.path),
                    "</th>", Side(c.before), Side(c.after), "</tr>");
  }
  absl::StrAppend(&html, "</tbody></table>");
  return html;
}

std::string RuleList(const char* heading, const char* kind,
                     const std::vector<std::string>& rules) {
  if (rules.empty()) return "";
  std::string html =
      absl::StrCat("<h3>", heading, "</h3><ul class=\"", kind, "\">");
  for (const std::string& r : rules) {
    absl::StrAppend(&html, "<li class=\"mono\" data-rule=\"", Escape(r), "\">",
                    Escape(r), "</li>");
  }
  absl::StrAppend(&html, "</ul>");
  return html;
}

std::string Differences(const DiffView& view) {
  const ruleset::RuleSetDiff& d = *view.diff;
  if (d.empty()) {
    return "<p class=\"none\">No differences: these versions decide, and say, "
           "the same.</p>";
  }
  std::string html = absl::StrCat(
      "<p class=\"summary\">", d.rules_added.size(), " rule(s) added, ",
      d.rules_removed.size(), " removed, ", d.rules_changed.size(),
      " changed; ", d.changes.size(),
      " other change(s) to metadata, params, defs and catalog texts.</p>");
  if (!d.rules_added.empty() || !d.rules_removed.empty() ||
      !d.rules_changed.empty()) {
    absl::StrAppend(&html,
                    "<section aria-labelledby=\"rules\"><h2 "
                    "id=\"rules\">Rules</h2>",
                    RuleList("Added", "added", d.rules_added),
                    RuleList("Removed", "removed", d.rules_removed));
    for (const ruleset::RuleChange& rc : d.rules_changed) {
      absl::StrAppend(&html, "<h3 class=\"mono\" data-rule-changed=\"",
                      Escape(rc.rule_id), "\">", Escape(rc.rule_id), "</h3>",
                      ChangeTable(view, rc.fields));
    }
    absl::StrAppend(&html, "</section>\n");
  }
  // The other changes by what they are in: the first part of their path.
  const struct {
    const char* prefix;
    const char* heading;
  } groups[] = {{"ruleset.", "Metadata"},
                {"params.", "Params"},
                {"defs.", "Defs"},
                {"catalog.", "Catalog texts"},
                {"", "Other files"}};
  std::vector<bool> shown(d.changes.size(), false);
  for (const auto& group : groups) {
    std::vector<ruleset::FieldChange> in_group;
    for (size_t i = 0; i < d.changes.size(); ++i) {
      if (shown[i] || !absl::StartsWith(d.changes[i].path, group.prefix)) {
        continue;
      }
      shown[i] = true;
      in_group.push_back(d.changes[i]);
    }
    if (in_group.empty()) continue;
    absl::StrAppend(&html, "<section><h2>", group.heading, "</h2>",
                    ChangeTable(view, in_group), "</section>\n");
  }
  return html;
}

}  // namespace

std::string VersionName(const DiffView& view, const std::string& digest) {
  for (const auto& [d, name] : view.versions) {
    if (d == digest) return name;
  }
  return digest.substr(0, 12);
}

PageParts DiffParts(const DiffView& view) {
  std::string main;
  if (view.interactive) {
    main = absl::StrCat(
        "<form class=\"search\" method=\"get\" action=\"/governance/diff\">",
        Select(view, "from", "From version", view.from),
        Select(view, "to", "To version", view.to),
        "<button type=\"submit\">Compare</button></form>\n");
  }
  if (view.diff.has_value()) absl::StrAppend(&main, Differences(view));
  PageParts parts;
  parts.title = view.diff.has_value()
                    ? absl::StrCat("Diff: ", VersionName(view, view.from),
                                   " to ", VersionName(view, view.to))
                    : "Diff";
  parts.heading = "What changed between two versions";
  parts.nav_html = kGovernanceNav;
  parts.header_html =
      view.diff.has_value()
          ? absl::StrCat(
                "<p>From <strong>", Escape(VersionName(view, view.from)),
                "</strong> to <strong>", Escape(VersionName(view, view.to)),
                "</strong>: rules matched by id, catalog entries by "
                "code, values as JSON. The same comparison as "
                "<code>reconnect diff</code>.</p>")
          : (view.interactive ? "<p>Choose two versions.</p>"
                              : "<p>The trail records fewer than two "
                                "versions: nothing to compare.</p>");
  parts.main_html = main;
  return parts;
}

std::string DiffPage(const DiffView& view) { return Page(DiffParts(view)); }

}  // namespace reconnect::service::web
