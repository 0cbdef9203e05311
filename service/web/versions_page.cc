#include "service/web/versions_page.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "service/web/html.h"

namespace reconnect::service::web {

namespace {

std::string Name(const VersionEntry& v) {
  return absl::StrCat(v.id, " ", v.version);
}

std::string List(const std::vector<std::string>& items,
                 const char* none = "None recorded") {
  return items.empty() ? none : absl::StrJoin(items, ", ");
}

// Who signed the version off, in what role, when and with which key; the
// server verified each before the version served.
std::string SignOff(const VersionEntry& v) {
  if (v.signatures.empty()) return "No recorded sign-off";
  std::string html = "<ul>";
  for (const RuleSetSignature& s : v.signatures) {
    std::string role = s.role;
    std::replace(role.begin(), role.end(), '_', ' ');
    if (!role.empty()) role[0] = absl::ascii_toupper(role[0]);
    // The time as signed (RFC 3339), shown as every other time here.
    absl::Time at;
    std::string error;
    const std::string when =
        absl::ParseTime(absl::RFC3339_full, s.signed_at, &at, &error)
            ? FormatTime(absl::ToUnixMicros(at))
            : s.signed_at;
    absl::StrAppend(&html, "<li><strong>", Escape(role),
                    "</strong>: ", Escape(s.signer), ", signed ", Escape(when),
                    " with key <span class=\"mono\">", Escape(s.key_id),
                    "</span> (", Escape(s.algorithm), ")</li>");
  }
  return html + "</ul>";
}

// One row per version, from its first to its last day of decisions, and a
// mark on the day of each activation that made it active.
std::string Timeline(const VersionsView& view) {
  constexpr int kWidth = 900, kRow = 26, kLabel = 200, kTop = 4;
  int64_t first = view.today - 29;
  for (const VersionEntry& v : view.versions) {
    if (v.first_day >= 0) first = std::min(first, v.first_day);
    if (v.first_recorded_micros > 0) {
      first = std::min(first, DayOf(v.first_recorded_micros));
    }
  }
  first = std::max(first, view.today - 5 * 366);
  const double per_day = static_cast<double>(kWidth - kLabel - 10) /
                         static_cast<double>(view.today - first + 1);
  const auto x = [&](int64_t day) {
    return kLabel + per_day * static_cast<double>(day - first);
  };
  const int height = kRow * static_cast<int>(view.versions.size()) + 24;
  std::string svg = absl::StrCat(
      "<svg class=\"chart timeline\" id=\"timeline\" viewBox=\"0 0 ", kWidth,
      " ", height,
      "\" role=\"img\" aria-labelledby=\"timeline-title\"><title "
      "id=\"timeline-title\">When each version made decisions, and when it "
      "was activated</title>");
  std::map<std::string, int> row_of;
  for (size_t i = 0; i < view.versions.size(); ++i) {
    const VersionEntry& v = view.versions[i];
    row_of[v.digest] = static_cast<int>(i);
    const int y = kTop + kRow * static_cast<int>(i);
    absl::StrAppend(&svg, "<text class=\"label\" x=\"0\" y=\"", y + 14, "\">",
                    Escape(Name(v)), v.active ? " (active)" : "", "</text>");
    if (v.first_day < 0) continue;
    const int64_t from = std::max(v.first_day, first);
    absl::StrAppend(&svg, "<rect class=\"used\" x=\"", x(from), "\" y=\"", y,
                    "\" width=\"", std::max(2.0, x(v.last_day + 1) - x(from)),
                    "\" height=\"", kRow - 10, "\"><title>", Escape(Name(v)),
                    ": ", v.decisions, " decision", v.decisions == 1 ? "" : "s",
                    ", ", FormatDay(v.first_day), " to ", FormatDay(v.last_day),
                    "</title></rect>");
  }
  for (const RuleSetEvent& e : view.events) {
    if (e.action != "activate" || !e.refused.empty()) continue;
    auto row = row_of.find(e.active_digest);
    const int64_t day = DayOf(e.time_micros);
    if (row == row_of.end() || day < first) continue;
    const int y = kTop + kRow * row->second;
    absl::StrAppend(
        &svg, "<rect class=\"activation\" x=\"", x(day) - 1, "\" y=\"", y - 2,
        "\" width=\"3\" height=\"", kRow - 6, "\"><title>Activated by ",
        Escape(e.who.empty() ? "an unauthenticated local user" : e.who), ", ",
        FormatTime(e.time_micros), "</title></rect>");
  }
  absl::StrAppend(&svg, "<text class=\"axis\" x=\"", kLabel, "\" y=\"",
                  height - 4, "\">", FormatDay(first),
                  "</text><text class=\"axis end\" x=\"", kWidth, "\" y=\"",
                  height - 4, "\">", FormatDay(view.today), "</text></svg>");
  return svg;
}

// An admin's action: a form the page's script confirms, then posts.
std::string ActionForm(const std::string& action, const std::string& fields,
                       const std::string& button, const std::string& confirm) {
  return absl::StrCat("<form class=\"admin-action\" method=\"post\" action=\"",
                      action, "\" data-confirm=\"", Escape(confirm), "\">",
                      fields, "<button type=\"submit\">", Escape(button),
                      "</button> <span class=\"status\" role=\"status\" "
                      "aria-live=\"polite\"></span></form>");
}

std::string VersionArticle(const VersionEntry& v, bool admin) {
  std::string badges = absl::StrCat(
      "<span class=\"badge\">",
      Escape(v.status.empty() ? "unknown status" : v.status), "</span>");
  if (v.active) {
    absl::StrAppend(&badges, " <span class=\"badge active\">Active now</span>");
  } else if (v.loaded) {
    absl::StrAppend(&badges, " <span class=\"badge\">Loaded</span>");
  } else {
    absl::StrAppend(&badges,
                    " <span class=\"badge muted\">Only in the audit "
                    "trail</span>");
  }
  std::string used = "Not used yet";
  if (v.first_day >= 0) {
    used = absl::StrCat(v.decisions, " decision", v.decisions == 1 ? "" : "s",
                        ", ", FormatDay(v.first_day), " to ",
                        FormatDay(v.last_day));
  }
  std::string html = absl::StrCat(
      "<article class=\"version-entry\" data-version=\"", Escape(Name(v)),
      "\" data-digest=\"", Escape(v.digest), "\"><h3>", Escape(Name(v)), " ",
      badges, "</h3>",
      v.title.empty() ? "" : absl::StrCat("<p>", Escape(v.title), "</p>"),
      "<dl class=\"meta\"><dt>Digest</dt><dd class=\"mono\">", Escape(v.digest),
      "</dd><dt>Effective date</dt><dd>",
      Escape(v.effective_date.empty() ? "Not set" : v.effective_date),
      "</dd><dt>Review by</dt><dd>",
      Escape(v.review_by.empty() ? "Not set" : v.review_by),
      "</dd><dt>Authors</dt><dd>", Escape(List(v.authors)),
      "</dd><dt>Approvers</dt><dd>", Escape(List(v.approvers)),
      "</dd><dt>Signed off</dt><dd class=\"sign-off\">", SignOff(v),
      "</dd><dt>Change log</dt><dd class=\"changes\">",
      v.changes.empty()
          ? "No entry for this version"
          : absl::StrCat(Escape(v.change_date), ": ", Escape(v.changes)),
      "</dd><dt>First recorded</dt><dd>",
      v.first_recorded_micros > 0 ? FormatTime(v.first_recorded_micros)
                                  : "Not recorded",
      "</dd><dt>Used</dt><dd class=\"used\">", Escape(used), "</dd></dl>");
  if (admin && v.loaded && !v.active) {
    absl::StrAppend(
        &html,
        ActionForm("/governance/versions/activate",
                   absl::StrCat("<input type=\"hidden\" name=\"id\" value=\"",
                                Escape(v.id),
                                "\"><input type=\"hidden\" name=\"version\" "
                                "value=\"",
                                Escape(v.version), "\">"),
                   absl::StrCat("Make ", Name(v), " active"),
                   absl::StrCat("Make ", Name(v),
                                " the active version? Calls that do not pin a "
                                "version will be answered by it until the next "
                                "restart or another activation.")));
  }
  absl::StrAppend(&html, "</article>\n");
  return html;
}

std::string Problems(const std::vector<RuleSetRefusal>& refusals) {
  std::string html = "<ul class=\"refusals\">";
  for (const RuleSetRefusal& r : refusals) {
    absl::StrAppend(&html, "<li><span class=\"mono\">", Escape(r.dir),
                    "</span><ul>");
    for (const std::string& p : r.problems) {
      absl::StrAppend(&html, "<li class=\"mono\">", Escape(p), "</li>");
    }
    absl::StrAppend(&html, "</ul></li>");
  }
  absl::StrAppend(&html, "</ul>");
  return html;
}

std::string EventsTable(const VersionsView& view) {
  std::map<std::string, std::string> names;
  for (const VersionEntry& v : view.versions) names[v.digest] = Name(v);
  std::string html =
      "<table class=\"decisions events\"><thead><tr><th scope=\"col\">When"
      "</th><th scope=\"col\">What</th><th scope=\"col\">Who or why</th><th "
      "scope=\"col\">Outcome</th><th scope=\"col\">Active after</th><th "
      "scope=\"col\">Refused directories</th></tr></thead><tbody>";
  for (const RuleSetEvent& e : view.events) {
    const auto name = names.find(e.active_digest);
    absl::StrAppend(
        &html, "<tr data-event=\"", e.sequence, "\"><td>",
        FormatTime(e.time_micros), "</td><td>",
        e.action == "activate" ? "Activation" : "Reload", "</td><td>",
        Escape(e.who.empty() ? "an unauthenticated local user" : e.who),
        "</td><td>",
        e.refused.empty() ? "Done"
                          : absl::StrCat("Refused: ", Escape(e.refused)),
        "</td><td>",
        Escape(name != names.end() ? name->second
                                   : e.active_digest.substr(0, 12)),
        "</td><td>", e.refusals.size(),
        e.refusals.empty()
            ? ""
            : absl::StrCat("<details><summary>Problems</summary>",
                           Problems(e.refusals), "</details>"),
        "</td></tr>");
  }
  absl::StrAppend(&html, "</tbody></table>");
  return html;
}

}  // namespace

bool ReadVersionMetadata(const std::string& canonical_content,
                         VersionEntry& entry) {
  const nlohmann::json all =
      nlohmann::json::parse(canonical_content, nullptr, false);
  if (!all.is_object() || !all.contains("ruleset") ||
      !all["ruleset"].is_object()) {
    return false;
  }
  const nlohmann::json& m = all["ruleset"];
  const auto text = [&m](const char* key) {
    return m.contains(key) && m[key].is_string() ? m[key].get<std::string>()
                                                 : std::string();
  };
  const auto texts = [&m](const char* key) {
    std::vector<std::string> out;
    if (!m.contains(key) || !m[key].is_array()) return out;
    for (const auto& item : m[key]) {
      if (item.is_string()) out.push_back(item.get<std::string>());
    }
    return out;
  };
  entry.status = text("status");
  entry.title = text("title");
  entry.effective_date = text("effective_date");
  entry.review_by = text("review_by");
  entry.authors = texts("authors");
  entry.approvers = texts("approvers");
  if (m.contains("changelog") && m["changelog"].is_array()) {
    for (const auto& change : m["changelog"]) {
      if (change.is_object() && change.value("version", "") == entry.version) {
        entry.change_date = change.value("date", "");
        entry.changes = change.value("changes", "");
      }
    }
  }
  return true;
}

PageParts VersionsParts(const VersionsView& view) {
  std::string main;
  if (view.admin) {
    absl::StrAppend(
        &main,
        "<section class=\"admin\" aria-labelledby=\"admin\"><h2 "
        "id=\"admin\">Admin</h2>",
        ActionForm("/governance/versions/reload", "", "Reload rule sets",
                   "Reload every rule-set version from its files? A version "
                   "that fails to load or fails its own test cases is "
                   "refused, and the version its directory held before keeps "
                   "serving."),
        "</section>\n");
  }
  absl::StrAppend(&main,
                  "<section aria-labelledby=\"when\"><h2 id=\"when\">Which "
                  "versions ran when</h2><p class=\"legend\"><span class=\"key "
                  "used\"></span> decisions made <span class=\"key "
                  "activation\"></span> activated by an admin</p>",
                  Timeline(view), "</section>\n");
  if (!view.refusals.empty()) {
    absl::StrAppend(&main,
                    "<section class=\"alert\" aria-labelledby=\"refused\"><h2 "
                    "id=\"refused\">Refused at the last reload</h2><p>These "
                    "directories did not load, failed their own test cases "
                    "or lack a valid sign-off; what they held before, if "
                    "anything, serves on.</p>",
                    Problems(view.refusals), "</section>\n");
  }
  absl::StrAppend(&main,
                  "<section aria-labelledby=\"versions\"><h2 "
                  "id=\"versions\">Versions</h2>");
  for (const VersionEntry& v : view.versions) {
    absl::StrAppend(&main, VersionArticle(v, view.admin));
  }
  absl::StrAppend(&main,
                  "</section>\n<section aria-labelledby=\"events\"><h2 "
                  "id=\"events\">Reloads and activations</h2>",
                  view.events.empty() ? "<p class=\"none\">None recorded.</p>"
                                      : EventsTable(view),
                  "</section>\n");
  const VersionEntry* active = nullptr;
  for (const VersionEntry& v : view.versions) {
    if (v.active) active = &v;
  }
  PageParts parts;
  parts.title = "Rule-set versions";
  parts.heading = "Rule-set versions";
  parts.nav_html = kGovernanceNav;
  parts.header_html = absl::StrCat(
      "<p>Every version this service has loaded or its audit trail has "
      "recorded, newest first. Active now: <strong>",
      active == nullptr ? "none" : Escape(Name(*active)), "</strong>.</p>");
  parts.main_html = main;
  if (view.admin) parts.script = "governance.js";
  return parts;
}

std::string VersionsPage(const VersionsView& view) {
  return Page(VersionsParts(view));
}

}  // namespace reconnect::service::web
