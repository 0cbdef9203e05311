#include "service/web/rules_in_practice_page.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "service/web/html.h"

namespace reconnect::service::web {

namespace {

std::string DayText(int64_t day) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(day * 86400),
                          absl::UTCTimeZone());
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole == 0) return "0%";
  return absl::StrCat(
      static_cast<int>(100.0 * static_cast<double>(part) / whole + 0.5), "%");
}

// Decisions per day as bars, one per day of the period, each with its
// date and count as its title (read out by screen readers, shown on hover).
std::string DailyChart(const PracticeView& v) {
  constexpr int kWidth = 900, kHeight = 180, kLeft = 40, kBottom = 24;
  const int64_t most =
      std::max<int64_t>(1, *std::max_element(v.decisions_per_day.begin(),
                                             v.decisions_per_day.end()));
  const double step = static_cast<double>(kWidth - kLeft) /
                      static_cast<double>(v.decisions_per_day.size());
  std::string svg =
      absl::StrCat("<svg class=\"chart\" id=\"daily-chart\" viewBox=\"0 0 ",
                   kWidth, " ", kHeight,
                   "\" role=\"img\" aria-labelledby=\"daily-title\"><title "
                   "id=\"daily-title\">Decisions per day, ",
                   Escape(v.from), " to ", Escape(v.to), "</title>");
  absl::StrAppend(&svg, "<text class=\"axis\" x=\"0\" y=\"12\">", most,
                  "</text><text class=\"axis\" x=\"0\" y=\"", kHeight - kBottom,
                  "\">0</text>");
  for (size_t i = 0; i < v.decisions_per_day.size(); ++i) {
    const int64_t n = v.decisions_per_day[i];
    const double h = static_cast<double>(kHeight - kBottom - 4) *
                     static_cast<double>(n) / static_cast<double>(most);
    absl::StrAppend(&svg, "<rect class=\"bar\" x=\"",
                    kLeft + step * static_cast<double>(i), "\" y=\"",
                    kHeight - kBottom - h, "\" width=\"",
                    std::max(1.0, step * 0.8), "\" height=\"", h, "\"><title>",
                    DayText(v.first_day + static_cast<int64_t>(i)), ": ", n,
                    " decision", n == 1 ? "" : "s", "</title></rect>");
  }
  absl::StrAppend(&svg, "<text class=\"axis\" x=\"", kLeft, "\" y=\"",
                  kHeight - 6, "\">", Escape(v.from),
                  "</text><text class=\"axis end\" x=\"", kWidth, "\" y=\"",
                  kHeight - 6, "\">", Escape(v.to), "</text></svg>");
  return svg;
}

// One version's rules as horizontal bars: the share of its decisions in
// which each rule fired, and the share in which it was held back.
std::string RuleChart(const VersionInPractice& v, int index) {
  constexpr int kWidth = 900, kRow = 22, kLabel = 300;
  const int height = kRow * static_cast<int>(v.rules.size()) + 8;
  std::string svg =
      absl::StrCat("<svg class=\"chart rules\" viewBox=\"0 0 ", kWidth, " ",
                   height, "\" role=\"img\" aria-labelledby=\"rules-title-",
                   index, "\"><title id=\"rules-title-", index,
                   "\">How often each rule fired and was held back</title>");
  const double scale = static_cast<double>(kWidth - kLabel - 60) /
                       static_cast<double>(std::max<int64_t>(1, v.decisions));
  for (size_t i = 0; i < v.rules.size(); ++i) {
    const RuleInPractice& r = v.rules[i];
    const int y = kRow * static_cast<int>(i) + 4;
    absl::StrAppend(&svg, "<text class=\"label\" x=\"0\" y=\"", y + 14, "\">",
                    Escape(r.rule_id), "</text>");
    absl::StrAppend(&svg, "<rect class=\"fired\" x=\"", kLabel, "\" y=\"", y,
                    "\" width=\"", scale * static_cast<double>(r.fired),
                    "\" height=\"", kRow - 8, "\"><title>", Escape(r.rule_id),
                    " fired in ", r.fired, " of ", v.decisions,
                    " decisions</title></rect>");
    if (r.held > 0) {
      absl::StrAppend(&svg, "<rect class=\"held\" x=\"", kLabel, "\" y=\"",
                      y + kRow - 8, "\" width=\"",
                      scale * static_cast<double>(r.held),
                      "\" height=\"4\"><title>", Escape(r.rule_id),
                      " held back in ", r.held, " decisions</title></rect>");
    }
    absl::StrAppend(&svg, "<text class=\"label\" x=\"",
                    kLabel + 6 + scale * static_cast<double>(r.fired),
                    "\" y=\"", y + 14, "\">", Percent(r.fired, v.decisions),
                    "</text>");
  }
  absl::StrAppend(&svg, "</svg>");
  return svg;
}

std::string HeldBy(const RuleInPractice& r) {
  std::vector<std::string> parts;
  for (const auto& [holder, n] : r.held_by) {
    parts.push_back(absl::StrCat(holder, " (", n, ")"));
  }
  return absl::StrJoin(parts, ", ");
}

std::string VersionSection(const VersionInPractice& v, int index) {
  const std::string name = v.id.empty() ? v.digest.substr(0, 12)
                                        : absl::StrCat(v.id, " ", v.version);
  std::string html = absl::StrCat(
      "<section class=\"version\" data-digest=\"", Escape(v.digest),
      "\" aria-labelledby=\"version-", index, "\"><h2 id=\"version-", index,
      "\">", Escape(name), ": ", v.decisions, " decision",
      v.decisions == 1 ? "" : "s", "</h2><p class=\"muted mono\">",
      Escape(v.digest), "</p>", RuleChart(v, index),
      "<table class=\"decisions\"><thead><tr><th scope=\"col\">Rule</th><th "
      "scope=\"col\">Fired</th><th scope=\"col\">Held back</th><th "
      "scope=\"col\">Held by</th></tr></thead><tbody>");
  std::vector<std::string> never;
  for (const RuleInPractice& r : v.rules) {
    if (r.fired == 0) never.push_back(r.rule_id);
    absl::StrAppend(&html, "<tr data-rule=\"", Escape(r.rule_id),
                    "\"><td><span class=\"mono\">", Escape(r.rule_id),
                    "</span>", r.title.empty() ? "" : "<br>", Escape(r.title),
                    "</td><td>", r.fired, " (", Percent(r.fired, v.decisions),
                    ")</td><td>", r.held, "</td><td>", Escape(HeldBy(r)),
                    "</td></tr>");
  }
  absl::StrAppend(&html, "</tbody></table>");
  if (!v.all_rules_known) {
    absl::StrAppend(&html,
                    "<p class=\"muted\">This version's rules could not be "
                    "read, so only the rules that fired are listed.</p>");
  } else if (!never.empty()) {
    absl::StrAppend(&html,
                    "<p class=\"never\"><strong>Never fired in this "
                    "period:</strong> ");
    for (size_t i = 0; i < never.size(); ++i) {
      absl::StrAppend(&html, i == 0 ? "" : ", ", "<span class=\"mono\">",
                      Escape(never[i]), "</span>");
    }
    absl::StrAppend(&html, "</p>");
  }
  absl::StrAppend(&html, "</section>\n");
  return html;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

}  // namespace

void CountPractice(const std::vector<DecisionDayCount>& decisions,
                   const std::vector<RuleDayCount>& rules, PracticeView& view) {
  view.decisions_per_day.assign(
      static_cast<size_t>(view.last_day - view.first_day + 1), 0);
  std::map<std::string, VersionInPractice> versions;
  for (const DecisionDayCount& d : decisions) {
    view.decisions_per_day[static_cast<size_t>(d.day - view.first_day)] +=
        d.count;
    VersionInPractice& v = versions[d.rule_set_digest];
    v.digest = d.rule_set_digest;
    v.decisions += d.count;
  }
  std::map<std::pair<std::string, std::string>, RuleInPractice> by_rule;
  std::map<std::pair<std::string, std::string>, std::map<std::string, int64_t>>
      holders;
  for (const RuleDayCount& r : rules) {
    RuleInPractice& rule = by_rule[{r.rule_set_digest, r.rule_id}];
    rule.rule_id = r.rule_id;
    if (r.holder.empty()) {
      rule.fired += r.count;
    } else if (r.holder == "*") {
      rule.held += r.count;
    } else {
      holders[{r.rule_set_digest, r.rule_id}][r.holder] += r.count;
    }
  }
  for (auto& [key, rule] : by_rule) {
    for (const auto& [holder, n] : holders[key]) {
      rule.held_by.emplace_back(holder, n);
    }
    std::sort(rule.held_by.begin(), rule.held_by.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    VersionInPractice& v = versions[key.first];
    v.digest = key.first;
    v.rules.push_back(std::move(rule));
  }
  view.versions.clear();
  for (auto& [digest, v] : versions) view.versions.push_back(std::move(v));
  std::stable_sort(
      view.versions.begin(), view.versions.end(),
      [](const auto& a, const auto& b) { return a.decisions > b.decisions; });
}

std::string RulesInPracticePage(const PracticeView& v) {
  int64_t total = 0;
  for (int64_t n : v.decisions_per_day) total += n;
  std::string main = absl::StrCat(
      "<form class=\"search\" method=\"get\" action=\"/governance/rules\">"
      "<label>From (date)<input type=\"date\" name=\"from\" value=\"",
      Escape(v.from),
      "\"></label><label>To (date)<input type=\"date\" name=\"to\" value=\"",
      Escape(v.to),
      "\"></label><button type=\"submit\">Show</button></form><p><a "
      "href=\"/governance/rules.csv?from=",
      Escape(v.from), "&amp;to=", Escape(v.to),
      "\" download>Export to CSV</a></p><section aria-labelledby=\"daily\">"
      "<h2 id=\"daily\">Decisions per day: ",
      total, " in all</h2>", DailyChart(v), "</section>\n");
  for (size_t i = 0; i < v.versions.size(); ++i) {
    absl::StrAppend(&main, VersionSection(v.versions[i], static_cast<int>(i)));
  }
  if (v.versions.empty()) {
    absl::StrAppend(&main,
                    "<p class=\"none\">No decisions in this period.</p>");
  }
  PageParts parts;
  parts.title = absl::StrCat("Rules in practice, ", v.from, " to ", v.to);
  parts.heading = "Rules in practice";
  parts.nav_html = kGovernanceNav;
  parts.header_html = absl::StrCat(
      "<p>How often each rule fired, and was held back by another, in the "
      "decisions of ",
      Escape(v.from), " to ", Escape(v.to),
      " (UTC days), from the audit trail's daily counts.</p>");
  parts.main_html = main;
  return Page(parts);
}

std::string RulesInPracticeCsv(const PracticeView& v) {
  std::string csv =
      "from,to,rule_set_id,rule_set_version,rule_set_digest,decisions,rule_id,"
      "title,fired,held,held_by\r\n";
  for (const VersionInPractice& version : v.versions) {
    for (const RuleInPractice& r : version.rules) {
      std::vector<std::string> held_by;
      for (const auto& [holder, n] : r.held_by) {
        held_by.push_back(absl::StrCat(holder, ":", n));
      }
      absl::StrAppend(
          &csv,
          absl::StrJoin(
              {v.from, v.to, CsvField(version.id), CsvField(version.version),
               version.digest, absl::StrCat(version.decisions),
               CsvField(r.rule_id), CsvField(r.title), absl::StrCat(r.fired),
               absl::StrCat(r.held), CsvField(absl::StrJoin(held_by, ";"))},
              ","),
          "\r\n");
    }
  }
  return csv;
}

}  // namespace reconnect::service::web
