#include "service/web/impact_page.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "service/web/html.h"
#include "service/web/job_view.h"

namespace reconnect::service::web {

namespace {

// Per item, what would be lost to the left of the middle and gained to the
// right, on one scale.
std::string Chart(const ImpactReport& r) {
  constexpr int kWidth = 900, kRow = 22, kLabel = 300;
  constexpr int kMiddle = kLabel + (kWidth - kLabel) / 2;
  int64_t most = 1;
  for (const ItemImpact& item : r.items) {
    most = std::max({most, item.gained, item.lost});
  }
  const double scale =
      static_cast<double>(kWidth - kLabel) / 2.0 / static_cast<double>(most);
  const int height = kRow * static_cast<int>(r.items.size()) + 8;
  std::string svg = absl::StrCat(
      "<svg class=\"chart impact\" id=\"impact-chart\" viewBox=\"0 0 ", kWidth,
      " ", height,
      "\" role=\"img\" aria-labelledby=\"impact-title\"><title "
      "id=\"impact-title\">Decisions that would lose (left) or gain (right) "
      "each item</title><line class=\"axis-line\" x1=\"",
      kMiddle, "\" y1=\"0\" x2=\"", kMiddle, "\" y2=\"", height, "\"/>");
  for (size_t i = 0; i < r.items.size(); ++i) {
    const ItemImpact& item = r.items[i];
    const int y = kRow * static_cast<int>(i) + 4;
    const std::string name = absl::StrCat(item.kind, " ", item.code);
    absl::StrAppend(&svg, "<text class=\"label\" x=\"0\" y=\"", y + 14, "\">",
                    Escape(name), "</text>");
    if (item.lost > 0) {
      const double w = scale * static_cast<double>(item.lost);
      absl::StrAppend(&svg, "<rect class=\"lost\" x=\"", kMiddle - w, "\" y=\"",
                      y, "\" width=\"", w, "\" height=\"", kRow - 8,
                      "\"><title>", Escape(name), ": lost in ", item.lost,
                      " decisions</title></rect>");
    }
    if (item.gained > 0) {
      absl::StrAppend(&svg, "<rect class=\"gained\" x=\"", kMiddle, "\" y=\"",
                      y, "\" width=\"",
                      scale * static_cast<double>(item.gained), "\" height=\"",
                      kRow - 8, "\"><title>", Escape(name), ": gained in ",
                      item.gained, " decisions</title></rect>");
    }
  }
  absl::StrAppend(&svg, "</svg>");
  return svg;
}

}  // namespace

std::string ImpactResult(const ImpactRun::State& s) {
  if (!s.result.has_value()) {
    return "<p class=\"none\" id=\"impact-result\">No analysis run since the "
           "service started.</p>";
  }
  const std::string when = absl::StrCat(
      "<p class=\"muted\">", Escape(s.subject), "; run by ",
      Escape(StartedBy(s.who)), ", ", FormatTime(s.finished_micros), ".</p>");
  if (!s.result->ok()) {
    return JobFailed("impact-result", "The analysis",
                     std::string(s.result->status().message()), when);
  }
  const ImpactReport& r = **s.result;
  std::string html =
      absl::StrCat("<div id=\"impact-result\" data-outcome=\"done\">", when,
                   "<p class=\"summary\"><strong>", r.evaluated,
                   "</strong> recorded decisions evaluated again: <strong>",
                   r.changed, "</strong> would change.</p>");
  if (r.items.empty()) {
    absl::StrAppend(&html,
                    "<p class=\"none\">No technique, prompt or alert would be "
                    "gained or lost.</p></div>");
    return html;
  }
  absl::StrAppend(
      &html,
      "<p class=\"legend\"><span class=\"key lost\"></span> lost <span "
      "class=\"key gained\"></span> gained</p>",
      Chart(r),
      "<table class=\"decisions\"><thead><tr><th scope=\"col\">Kind</th><th "
      "scope=\"col\">Code</th><th scope=\"col\">Gained</th><th "
      "scope=\"col\">Lost</th><th scope=\"col\">Example decisions</th></tr>"
      "</thead><tbody>");
  for (const ItemImpact& item : r.items) {
    absl::StrAppend(&html, "<tr data-item=\"", Escape(item.kind), "/",
                    Escape(item.code), "\"><td>", Escape(item.kind),
                    "</td><td class=\"mono\">", Escape(item.code), "</td><td>",
                    item.gained, "</td><td>", item.lost, "</td><td>");
    for (size_t i = 0; i < item.examples.size(); ++i) {
      absl::StrAppend(&html, i == 0 ? "" : ", ", "<a href=\"/mdt/decisions/",
                      Escape(item.examples[i]), "\" class=\"mono\">",
                      Escape(item.examples[i]), "</a>");
    }
    absl::StrAppend(&html, "</td></tr>");
  }
  absl::StrAppend(&html, "</tbody></table></div>");
  return html;
}

std::string ImpactPage(const ImpactView& view) {
  std::string options;
  for (const auto& [digest, name] : view.candidates) {
    absl::StrAppend(&options, "<option value=\"", Escape(digest), "\"",
                    digest == view.candidate ? " selected" : "", ">",
                    Escape(name), "</option>");
  }
  const std::string fields = absl::StrCat(
      "<div class=\"search\"><label>Candidate version<select "
      "name=\"candidate\">",
      options,
      "</select></label><label>From (date)<input type=\"date\" name=\"from\" "
      "value=\"",
      Escape(view.from),
      "\"></label><label>To (date)<input type=\"date\" name=\"to\" value=\"",
      Escape(view.to), "\"></label></div>");
  std::string main = absl::StrCat(
      "<section aria-labelledby=\"run\"><h2 id=\"run\">Run an analysis</h2>",
      JobForm("/governance/impact/run", "/governance/impact/status", fields,
              "Run impact analysis", view.state.running),
      "</section>\n<section aria-labelledby=\"last\"><h2 id=\"last\">The last "
      "analysis</h2>");
  if (view.state.running) {
    absl::StrAppend(&main, "<p class=\"muted\">", Escape(view.state.subject),
                    "</p>",
                    ProgressBar(view.state.done, view.state.total,
                                view.state.who, "decisions"));
  } else {
    absl::StrAppend(&main, ImpactResult(view.state));
  }
  absl::StrAppend(&main, "</section>\n");
  PageParts parts;
  parts.title = "Impact of a candidate version";
  parts.heading = "What would a candidate version change?";
  parts.nav_html = kGovernanceNav;
  parts.header_html =
      "<p>The recorded decisions of a period are evaluated again with a "
      "loaded candidate version and compared with what was recorded: per "
      "technique, prompt and alert, how many decisions would gain or lose "
      "it. Nothing is recorded or changed; only the figures are kept, until "
      "the next analysis or a restart.</p>";
  parts.main_html = main;
  parts.script = "governance.js";
  return Page(parts);
}

}  // namespace reconnect::service::web
