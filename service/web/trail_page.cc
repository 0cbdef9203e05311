#include "service/web/trail_page.h"

#include "absl/strings/str_cat.h"
#include "service/web/html.h"
#include "service/web/job_view.h"

namespace reconnect::service::web {

std::string TrailResult(const TrailCheck::State& s) {
  if (!s.result.has_value()) {
    return "<p class=\"none\" id=\"trail-result\">Not checked since the "
           "service started.</p>";
  }
  const std::string when =
      absl::StrCat("<p class=\"muted\">Checked by ", Escape(StartedBy(s.who)),
                   ", ", FormatTime(s.finished_micros), ".</p>");
  if (!s.result->ok()) {
    return JobFailed("trail-result", "The check",
                     std::string(s.result->status().message()), when);
  }
  const VerifyReport& r = **s.result;
  std::string html = absl::StrCat("<div id=\"trail-result\" data-outcome=\"",
                                  r.ok() ? "intact" : "broken", "\" class=\"",
                                  r.ok() ? "intact" : "alert critical", "\">");
  if (r.ok()) {
    absl::StrAppend(&html,
                    "<p><strong>&#10003; Intact.</strong> Every record is "
                    "present, unaltered and linked to the one before it, up "
                    "to the head recorded with the last commit.</p>");
  } else {
    absl::StrAppend(&html, "<p><strong>&#9888; BROKEN</strong> at ",
                    r.broken_sequence.has_value()
                        ? absl::StrCat("record ", *r.broken_sequence)
                        : std::string("the stored rule sets"),
                    ": ", Escape(r.problem), "</p>");
  }
  absl::StrAppend(
      &html,
      "<dl class=\"meta\"><dt>Decision records</dt><dd id=\"trail-records\">",
      r.records, "</dd><dt>Head</dt><dd>record ", r.head_sequence,
      "</dd><dt>Head hash</dt><dd><code class=\"mono hash\" id=\"head-hash\" "
      "data-copy>",
      Escape(r.head_hash), "</code></dd><dt>Feedback records</dt><dd>",
      r.feedback_records,
      "</dd><dt>Feedback head hash</dt><dd><code class=\"mono hash\" "
      "id=\"feedback-head-hash\" data-copy>",
      Escape(r.feedback_head_hash), "</code></dd></dl>",
      r.ok() ? "<p>Keep the head hash somewhere the service cannot write "
               "(the meeting's minutes, a ticket): a later check that ends "
               "at a different hash for the same record shows the trail "
               "was rewritten.</p>"
             : "",
      "</div>", when);
  return html;
}

std::string TrailPage(const TrailCheck::State& s) {
  std::string main = absl::StrCat(
      "<section aria-labelledby=\"check\"><h2 id=\"check\">The last "
      "check</h2>");
  if (s.running) {
    absl::StrAppend(&main, ProgressBar(s.done, s.total, s.who, "records"));
  } else {
    absl::StrAppend(&main, TrailResult(s));
  }
  absl::StrAppend(
      &main,
      JobForm("/governance/trail/verify", "/governance/trail/status", "",
              "Check the trail now", s.running),
      "</section>\n");
  PageParts parts;
  parts.title = "Audit trail";
  parts.heading = "Is the audit trail intact?";
  parts.nav_html = kGovernanceNav;
  parts.header_html =
      "<p>Checked record by record, as <code>reconnect audit verify</code> "
      "checks it: every sequence number present, each record's hash and its "
      "link to the one before, the head recorded with the last commit, the "
      "stored rule sets, and the feedback chain. A large trail takes a "
      "while; the page shows how far the check has got.</p>";
  parts.main_html = main;
  parts.script = "governance.js";
  return Page(parts);
}

}  // namespace reconnect::service::web
