#include "service/web/decision_list_page.h"

#include "absl/strings/str_cat.h"
#include "reconnect/v1/recommendation.pb.h"
#include "service/web/html.h"

namespace reconnect::service::web {

namespace {

std::string SearchForm(const DecisionListView& v) {
  return absl::StrCat(
      "<form class=\"search\" method=\"get\" action=\"/mdt\" role=\"search\">"
      "<label>From (date)<input type=\"date\" name=\"from\" value=\"",
      Escape(v.from),
      "\"></label><label>To (date)<input type=\"date\" name=\"to\" value=\"",
      Escape(v.to),
      "\"></label><label>Calling system<input type=\"text\" name=\"system\" "
      "value=\"",
      Escape(v.system),
      "\"></label><button type=\"submit\">Search</button></form>"
      "<form class=\"search\" method=\"post\" action=\"/mdt/patients\">"
      "<label>Patient reference<input type=\"text\" name=\"ref\" "
      "autocomplete=\"off\" required></label><button type=\"submit\">Find "
      "the patient's decisions</button></form>");
}

// A one-line account of a plan: its alerts by severity, then its size.
std::string Summary(const DecisionRecord& r) {
  v1::Recommendation plan;
  if (!plan.ParseFromString(r.recommendation)) return "(unreadable)";
  int critical = 0;
  for (const v1::Alert& a : plan.alerts()) {
    if (a.severity() == v1::SEVERITY_CRITICAL) ++critical;
  }
  int techniques = 0;
  for (const auto& c : plan.components()) techniques += c.techniques_size();
  std::string text;
  if (critical > 0) {
    absl::StrAppend(&text, "<strong>&#9888; ", critical, " critical alert",
                    critical == 1 ? "" : "s", "</strong>; ");
  }
  absl::StrAppend(
      &text, plan.alerts_size(), " alert", plan.alerts_size() == 1 ? "" : "s",
      ", ", techniques, " technique", techniques == 1 ? "" : "s", ", ",
      plan.prompts_size(), " prompt", plan.prompts_size() == 1 ? "" : "s");
  return text;
}

}  // namespace

std::string DecisionListPage(const DecisionListView& v) {
  std::string main;
  if (!v.patient) absl::StrAppend(&main, SearchForm(v));
  if (v.decisions.empty()) {
    absl::StrAppend(&main, "<p class=\"none\">No decisions found.</p>");
  } else {
    absl::StrAppend(&main,
                    "<table class=\"decisions\"><thead><tr><th scope=\"col\">"
                    "Made</th><th scope=\"col\">Decision</th><th "
                    "scope=\"col\">Calling system</th><th scope=\"col\">Rule "
                    "set</th><th scope=\"col\">Plan</th></tr></thead><tbody>");
    for (const DecisionRecord& r : v.decisions) {
      auto rule_set = v.rule_sets.find(r.rule_set_digest);
      absl::StrAppend(&main, "<tr><td>", Escape(FormatTime(r.time_micros)),
                      "</td><td><a class=\"mono\" href=\"/mdt/decisions/",
                      Escape(r.decision_id), "\">", Escape(r.decision_id),
                      "</a></td><td>", Escape(r.calling_system), "</td><td>",
                      Escape(rule_set != v.rule_sets.end()
                                 ? rule_set->second
                                 : r.rule_set_digest.substr(0, 12)),
                      "</td><td>", Summary(r), "</td></tr>");
    }
    absl::StrAppend(&main, "</tbody></table>");
  }
  if (!v.older_url.empty()) {
    absl::StrAppend(&main, "<p><a href=\"", Escape(v.older_url),
                    "\">Older decisions</a></p>");
  }
  PageParts parts;
  parts.title = v.heading;
  parts.heading = v.heading;
  parts.main_html = main;
  return Page(parts);
}

}  // namespace reconnect::service::web
