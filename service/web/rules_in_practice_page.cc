#include "service/web/rules_in_practice_page.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "service/web/html.h"

namespace reconnect::service::web {

namespace {

std::string Percent(int64_t part, int64_t whole) {
  if (whole == 0) return "0%";
  return absl::StrCat(
      static_cast<int>(100.0 * static_cast<double>(part) / whole + 0.5), "%");
}

constexpr const char* kOutcomes[3] = {"accepted", "modified", "overridden"};

int OutcomeIndex(const std::string& outcome) {
  for (int i = 0; i < 3; ++i) {
    if (outcome == kOutcomes[i]) return i;
  }
  return -1;
}

int64_t& OutcomeCount(RuleInPractice& r, int i) {
  return i == 0 ? r.accepted : i == 1 ? r.modified : r.overridden;
}
int64_t OutcomeCount(const RuleInPractice& r, int i) {
  return i == 0 ? r.accepted : i == 1 ? r.modified : r.overridden;
}

int64_t FeedbackOn(const RuleInPractice& r) {
  return r.accepted + r.modified + r.overridden;
}

std::string Legend() {
  return "<p class=\"legend\"><span class=\"key accepted\"></span> accepted "
         "<span class=\"key modified\"></span> modified <span class=\"key "
         "overridden\"></span> overridden</p>";
}

// Feedback per day as stacked bars: accepted at the bottom, then modified,
// then overridden; one mark per day and outcome that had any.
std::string FeedbackDailyChart(const PracticeView& v) {
  constexpr int kWidth = 900, kHeight = 140, kLeft = 40, kBottom = 24;
  int64_t most = 1;
  for (const auto& day : v.feedback_per_day) {
    most = std::max(most, day[0] + day[1] + day[2]);
  }
  const double step = static_cast<double>(kWidth - kLeft) /
                      static_cast<double>(v.feedback_per_day.size());
  const double unit =
      static_cast<double>(kHeight - kBottom - 4) / static_cast<double>(most);
  std::string svg = absl::StrCat(
      "<svg class=\"chart\" id=\"feedback-chart\" viewBox=\"0 0 ", kWidth, " ",
      kHeight,
      "\" role=\"img\" aria-labelledby=\"feedback-title\"><title "
      "id=\"feedback-title\">Feedback per day by outcome</title><text "
      "class=\"axis\" x=\"0\" y=\"12\">",
      most, "</text><text class=\"axis\" x=\"0\" y=\"", kHeight - kBottom,
      "\">0</text>");
  for (size_t i = 0; i < v.feedback_per_day.size(); ++i) {
    double top = kHeight - kBottom;
    for (int k = 0; k < 3; ++k) {
      const int64_t n = v.feedback_per_day[i][k];
      if (n == 0) continue;
      const double h = unit * static_cast<double>(n);
      top -= h;
      absl::StrAppend(&svg, "<rect class=\"", kOutcomes[k], "\" x=\"",
                      kLeft + step * static_cast<double>(i), "\" y=\"", top,
                      "\" width=\"", std::max(1.0, step * 0.8), "\" height=\"",
                      h, "\"><title>",
                      FormatDay(v.first_day + static_cast<int64_t>(i)), ": ", n,
                      " ", kOutcomes[k], "</title></rect>");
    }
  }
  absl::StrAppend(&svg, "<text class=\"axis\" x=\"", kLeft, "\" y=\"",
                  kHeight - 6, "\">", Escape(v.from),
                  "</text><text class=\"axis end\" x=\"", kWidth, "\" y=\"",
                  kHeight - 6, "\">", Escape(v.to), "</text></svg>");
  return svg;
}

// One version's rules with feedback as horizontal bars, each split into
// the shares accepted, modified and overridden.
std::string FeedbackRuleChart(const VersionInPractice& v, int index) {
  constexpr int kWidth = 900, kRow = 22, kLabel = 300;
  std::vector<const RuleInPractice*> rows;
  for (const RuleInPractice& r : v.rules) {
    if (FeedbackOn(r) > 0) rows.push_back(&r);
  }
  if (rows.empty()) {
    return "<p class=\"none\">No feedback on this version's rules in this "
           "period.</p>";
  }
  const int height = kRow * static_cast<int>(rows.size()) + 8;
  std::string svg =
      absl::StrCat("<svg class=\"chart feedback\" viewBox=\"0 0 ", kWidth, " ",
                   height, "\" role=\"img\" aria-labelledby=\"feedback-title-",
                   index, "\"><title id=\"feedback-title-", index,
                   "\">How clinicians answered what each rule gave</title>");
  for (size_t i = 0; i < rows.size(); ++i) {
    const RuleInPractice& r = *rows[i];
    const int y = kRow * static_cast<int>(i) + 4;
    const int64_t total = FeedbackOn(r);
    absl::StrAppend(&svg, "<text class=\"label\" x=\"0\" y=\"", y + 14, "\">",
                    Escape(r.rule_id), "</text>");
    double x = kLabel;
    for (int k = 0; k < 3; ++k) {
      const int64_t n = OutcomeCount(r, k);
      if (n == 0) continue;
      const double w = static_cast<double>(kWidth - kLabel - 60) *
                       static_cast<double>(n) / static_cast<double>(total);
      absl::StrAppend(&svg, "<rect class=\"", kOutcomes[k], "\" x=\"", x,
                      "\" y=\"", y, "\" width=\"", w, "\" height=\"", kRow - 8,
                      "\"><title>", Escape(r.rule_id), ": ", n, " of ", total,
                      " ", kOutcomes[k], " (", Percent(n, total),
                      ")</title></rect>");
      x += w;
    }
    absl::StrAppend(&svg, "<text class=\"label\" x=\"", x + 6, "\" y=\"",
                    y + 14, "\">", total, "</text>");
  }
  absl::StrAppend(&svg, "</svg>");
  return svg;
}

std::string Rates(const RuleInPractice& r) {
  const int64_t total = FeedbackOn(r);
  if (total == 0) return "none";
  return absl::StrCat(r.accepted, " / ", r.modified, " / ", r.overridden, " (",
                      Percent(r.overridden, total), " overridden)");
}

std::string Reasons(const RuleInPractice& r) {
  std::vector<std::string> parts;
  for (const auto& [reason, n] : r.reasons) {
    parts.push_back(absl::StrCat(reason, " (", n, ")"));
  }
  return absl::StrJoin(parts, "; ");
}

std::string Comments(const RuleInPractice& r) {
  if (r.comments.empty()) return "";
  std::string html = "<ul class=\"comments\">";
  for (const FeedbackComment& c : r.comments) {
    absl::StrAppend(&html, "<li><span class=\"muted\">", Escape(c.day), ", ",
                    Escape(c.outcome), ", <a href=\"/mdt/decisions/",
                    Escape(c.decision_id), "\">decision</a>:</span> ",
                    Escape(c.text), "</li>");
  }
  absl::StrAppend(&html, "</ul>");
  return html;
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
                    FormatDay(v.first_day + static_cast<int64_t>(i)), ": ", n,
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
      "<h3>How clinicians answered</h3>", Legend(), FeedbackRuleChart(v, index),
      "<table class=\"decisions\"><thead><tr><th scope=\"col\">Rule</th><th "
      "scope=\"col\">Fired</th><th scope=\"col\">Held back</th><th "
      "scope=\"col\">Held by</th><th scope=\"col\">Accepted / modified / "
      "overridden</th><th scope=\"col\">Top override reasons</th></tr>"
      "</thead><tbody>");
  std::vector<std::string> never;
  for (const RuleInPractice& r : v.rules) {
    if (r.fired == 0) never.push_back(r.rule_id);
    absl::StrAppend(&html, "<tr data-rule=\"", Escape(r.rule_id),
                    "\"><td><span class=\"mono\">", Escape(r.rule_id),
                    "</span>", r.title.empty() ? "" : "<br>", Escape(r.title),
                    "</td><td>", r.fired, " (", Percent(r.fired, v.decisions),
                    ")</td><td>", r.held, "</td><td>", Escape(HeldBy(r)),
                    "</td><td class=\"rates\">", Rates(r),
                    "</td><td class=\"reasons\">", Escape(Reasons(r)),
                    Comments(r), "</td></tr>");
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
                   const std::vector<RuleDayCount>& rules,
                   const std::vector<FeedbackDayCount>& feedback,
                   PracticeView& view) {
  const size_t days = static_cast<size_t>(view.last_day - view.first_day + 1);
  view.decisions_per_day.assign(days, 0);
  view.feedback_per_day.assign(days, {0, 0, 0});
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
  std::map<std::pair<std::string, std::string>, std::map<std::string, int64_t>>
      reasons;
  for (const FeedbackDayCount& f : feedback) {
    const int k = OutcomeIndex(f.outcome);
    if (k < 0) continue;
    if (f.rule_id == "*") {
      view.feedback_per_day[static_cast<size_t>(f.day - view.first_day)][k] +=
          f.count;
      continue;
    }
    RuleInPractice& rule = by_rule[{f.rule_set_digest, f.rule_id}];
    rule.rule_id = f.rule_id;
    OutcomeCount(rule, k) += f.count;
    if (k == 2 && !f.reason.empty()) {
      reasons[{f.rule_set_digest, f.rule_id}]
             [f.display.empty() ? f.reason : f.display] += f.count;
    }
  }
  const auto by_count_desc = [](const auto& a, const auto& b) {
    return a.second > b.second;
  };
  for (auto& [key, rule] : by_rule) {
    for (const auto& [holder, n] : holders[key]) {
      rule.held_by.emplace_back(holder, n);
    }
    std::stable_sort(rule.held_by.begin(), rule.held_by.end(), by_count_desc);
    for (const auto& [reason, n] : reasons[key]) {
      rule.reasons.emplace_back(reason, n);
    }
    std::stable_sort(rule.reasons.begin(), rule.reasons.end(), by_count_desc);
    if (rule.reasons.size() > 3) rule.reasons.resize(3);
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

void AddComments(const std::vector<FeedbackRecord>& feedback,
                 PracticeView& view) {
  for (const FeedbackRecord& f : feedback) {
    const nlohmann::json reason =
        nlohmann::json::parse(f.override_reason, nullptr, false);
    if (!reason.is_object() || !reason.contains("userComment") ||
        !reason["userComment"].is_string()) {
      continue;
    }
    FeedbackComment comment{FormatDay(DayOf(f.time_micros)), f.outcome,
                            f.decision_id,
                            reason["userComment"].get<std::string>()};
    for (VersionInPractice& v : view.versions) {
      if (v.digest != f.rule_set_digest) continue;
      for (RuleInPractice& r : v.rules) {
        if (r.comments.size() < 3 &&
            std::find(f.rule_ids.begin(), f.rule_ids.end(), r.rule_id) !=
                f.rule_ids.end()) {
          r.comments.push_back(comment);
        }
      }
    }
  }
}

PageParts RulesInPracticeParts(const PracticeView& v) {
  int64_t total = 0;
  for (int64_t n : v.decisions_per_day) total += n;
  std::string main;
  if (v.interactive) {
    main = absl::StrCat(
        "<form class=\"search\" method=\"get\" action=\"/governance/rules\">"
        "<label>From (date)<input type=\"date\" name=\"from\" value=\"",
        Escape(v.from),
        "\"></label><label>To (date)<input type=\"date\" name=\"to\" "
        "value=\"",
        Escape(v.to),
        "\"></label><button type=\"submit\">Show</button></form><p><a "
        "href=\"/governance/rules.csv?from=",
        Escape(v.from), "&amp;to=", Escape(v.to),
        "\" download>Export to CSV</a></p>");
  }
  absl::StrAppend(&main,
                  "<section aria-labelledby=\"daily\">"
                  "<h2 id=\"daily\">Decisions per day: ",
                  total, " in all</h2>", DailyChart(v),
                  "</section>\n<section aria-labelledby=\"feedback\"><h2 "
                  "id=\"feedback\">Feedback per day</h2>",
                  Legend(), FeedbackDailyChart(v),
                  v.comments_shown
                      ? ""
                      : "<p class=\"muted\">Comments sent with feedback are "
                        "shown to the auditor role only.</p>",
                  "</section>\n");
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
      " (UTC days); and how clinicians answered what it gave, through CDS "
      "Hooks and the MDT view, in feedback received in those days. From the "
      "audit trail's daily counts.</p>");
  parts.main_html = main;
  return parts;
}

std::string RulesInPracticePage(const PracticeView& v) {
  return Page(RulesInPracticeParts(v));
}

std::string RulesInPracticeCsv(const PracticeView& v) {
  std::string csv =
      "from,to,rule_set_id,rule_set_version,rule_set_digest,decisions,rule_id,"
      "title,fired,held,held_by,accepted,modified,overridden,"
      "top_override_reasons\r\n";
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
               absl::StrCat(r.held), CsvField(absl::StrJoin(held_by, ";")),
               absl::StrCat(r.accepted), absl::StrCat(r.modified),
               absl::StrCat(r.overridden), CsvField(Reasons(r))},
              ","),
          "\r\n");
    }
  }
  return csv;
}

}  // namespace reconnect::service::web
