#include "service/web/care_plan_page.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/common/today.h"
#include "service/web/html.h"

namespace reconnect::service::web {

namespace {

using nlohmann::json;

std::vector<std::string> RuleIds(const v1::Rationale& rationale) {
  std::vector<std::string> ids;
  for (const v1::RuleReason& r : rationale.reasons())
    ids.push_back(r.rule_id());
  return ids;
}

// "Why": each reason, with the rule it came from.
std::string Why(const v1::Rationale& rationale) {
  if (rationale.reasons().empty()) return "";
  std::string html = "<div class=\"why\"><strong>Why:</strong><ul>";
  for (const v1::RuleReason& r : rationale.reasons()) {
    absl::StrAppend(&html, "<li>", Escape(r.reason()),
                    " <span class=\"mono\">(", Escape(r.rule_id()),
                    ")</span></li>");
  }
  absl::StrAppend(&html, "</ul></div>");
  return html;
}

std::string OutcomeWord(const FeedbackRecord& f) {
  if (f.outcome == "accepted") return "Accepted";
  if (f.outcome == "modified") return "Modified";
  return f.service == "mdt" ? "Declined" : "Overridden";
}

std::string Who(const FeedbackRecord& f) {
  return f.caller.empty() ? "an unauthenticated local user" : f.caller;
}

// The reason, comment and modification of a feedback record, as text.
std::string Details(const FeedbackRecord& f) {
  const json detail = json::parse(f.override_reason, nullptr, false);
  if (!detail.is_object()) return "";
  std::vector<std::string> parts;
  if (detail.contains("modification") && detail["modification"].is_string()) {
    parts.push_back(absl::StrCat("changed to: ",
                                 detail["modification"].get<std::string>()));
  }
  if (detail.contains("reason") && detail["reason"].is_object()) {
    const json& r = detail["reason"];
    parts.push_back(absl::StrCat(
        "reason: ", r.value("display", r.value("code", std::string()))));
  }
  if (detail.contains("userComment") && detail["userComment"].is_string()) {
    parts.push_back(
        absl::StrCat("comment: ", detail["userComment"].get<std::string>()));
  }
  return absl::StrJoin(parts, "; ");
}

class Renderer {
 public:
  explicit Renderer(const CarePlanView& v) : v_(v) {
    for (const FeedbackRecord& f : v.feedback) latest_[f.card_item] = &f;
    for (const v1::DisciplineAssignment& d : v.plan.disciplines()) {
      disciplines_[d.code()] = &d;
    }
    for (const PlanEntry& e : PlanEntries(v.plan)) displays_[e.key] = e.display;
  }

  std::string Main() {
    std::string html;
    if (v_.can_record) {
      absl::StrAppend(&html,
                      "<noscript><p class=\"alert info\">Recording the MDT's "
                      "decisions needs JavaScript; the plan reads without "
                      "it.</p></noscript>");
    }
    absl::StrAppend(&html, Alerts(), Plan(), Prompts(), Considerations(),
                    Held(), WhyNot(), Missing(), Recorded());
    return html;
  }

  std::string Header() const {
    const DecisionRecord& r = v_.record;
    std::string html = "<dl class=\"meta\">";
    auto row = [&](absl::string_view term, const std::string& value_html) {
      absl::StrAppend(&html, "<dt>", term, "</dt><dd>", value_html, "</dd>");
    };
    row("Decision", absl::StrCat("<span class=\"mono\">", Escape(r.decision_id),
                                 "</span>"));
    row("Made", Escape(FormatTime(r.time_micros)));
    if (!r.calling_system.empty())
      row("Calling system", Escape(r.calling_system));
    if (!r.patient_hmac.empty()) {
      row("Patient",
          absl::StrCat("<a href=\"/mdt/patients/", Escape(r.patient_hmac),
                       "\">All decisions for this patient</a>"));
    }
    row("Rule set",
        v_.rule_set_id.empty()
            ? std::string("not in the audit store")
            : Escape(absl::StrCat(v_.rule_set_id, " ", v_.rule_set_version)));
    row("Approved by", v_.approvers.empty()
                           ? std::string("no approver recorded")
                           : Escape(absl::StrJoin(v_.approvers, ", ")));
    if (!v_.review_by.empty()) {
      const std::string today = TodayOrUtc(absl::Now());
      row("Review by",
          absl::StrCat(Escape(v_.review_by),
                       v_.review_by < today ? " <strong>(past its review date)"
                                              "</strong>"
                                            : ""));
    }
    row("Digest", absl::StrCat("<span class=\"mono\">",
                               Escape(r.rule_set_digest), "</span>"));
    absl::StrAppend(&html, "</dl>");
    return html;
  }

 private:
  static std::string Section(absl::string_view id, absl::string_view title,
                             const std::string& body) {
    return absl::StrCat("<section aria-labelledby=\"", id, "\"><h2 id=\"", id,
                        "\">", title, "</h2>", body, "</section>\n");
  }

  // What was decided on `key` last, and the form to record a decision.
  std::string Decision(const std::string& key, const std::string& display) {
    std::string html;
    if (auto it = latest_.find(key); it != latest_.end()) {
      const FeedbackRecord& f = *it->second;
      const std::string details = Details(f);
      absl::StrAppend(&html, "<p class=\"decided\"><span class=\"outcome\">",
                      OutcomeWord(f), "</span> by ", Escape(Who(f)), " at ",
                      Escape(FormatTime(f.time_micros)),
                      details.empty() ? "" : ": ", Escape(details), "</p>");
    }
    if (!v_.can_record) return html;
    const int n = ++forms_;
    absl::StrAppend(
        &html,
        "<details class=\"screen-only\"><summary>Record the MDT's decision"
        "</summary><form class=\"record\" method=\"post\" action=\"/mdt/"
        "decisions/",
        Escape(v_.record.decision_id), "/feedback\" data-item=\"", Escape(key),
        "\"><fieldset><legend>Decision on ", Escape(display), "</legend>");
    for (const auto& [value, label] :
         {std::pair{"accepted", "Accept"}, std::pair{"modified", "Modify"},
          std::pair{"declined", "Decline"}}) {
      absl::StrAppend(&html,
                      "<label><input type=\"radio\" name=\"outcome\" "
                      "required value=\"",
                      value, "\" id=\"o", n, "-", value, "\"> ", label,
                      "</label>");
    }
    absl::StrAppend(&html,
                    "</fieldset><label class=\"field\"><span>Modified to "
                    "(when modifying)</span><textarea name=\"modification\" "
                    "rows=\"2\" maxlength=\"2000\"></textarea></label>"
                    "<label class=\"field\"><span>Reason (when declining)"
                    "</span><select name=\"reason\"><option value=\"\">"
                    "(none)</option>");
    for (const json& r : v_.override_reasons) {
      absl::StrAppend(&html, "<option value=\"",
                      Escape(r.value("code", std::string())), "\">",
                      Escape(r.value("display", std::string())), "</option>");
    }
    absl::StrAppend(&html,
                    "</select></label><label class=\"field\"><span>Comment"
                    "</span><textarea name=\"comment\" rows=\"2\" "
                    "maxlength=\"2000\"></textarea></label><button "
                    "type=\"submit\">Record</button><span class=\"status\" "
                    "role=\"status\" aria-live=\"polite\"></span></form>"
                    "</details>");
    return html;
  }

  std::string Alerts() {
    std::vector<const v1::Alert*> alerts;
    for (const v1::Alert& a : v_.plan.alerts()) alerts.push_back(&a);
    std::stable_sort(alerts.begin(), alerts.end(), [](auto* a, auto* b) {
      return a->severity() > b->severity();
    });
    std::string body;
    for (const v1::Alert* a : alerts) {
      const char* level = a->severity() == v1::SEVERITY_CRITICAL  ? "critical"
                          : a->severity() == v1::SEVERITY_WARNING ? "warning"
                                                                  : "info";
      const char* word = a->severity() == v1::SEVERITY_CRITICAL  ? "Critical"
                         : a->severity() == v1::SEVERITY_WARNING ? "Warning"
                                                                 : "Note";
      const char* symbol =
          a->severity() == v1::SEVERITY_CRITICAL ? "&#9888; " : "&#9432; ";
      const std::string key = absl::StrCat("alert/", a->code());
      absl::StrAppend(&body, "<div class=\"alert ", level, "\" data-alert=\"",
                      Escape(a->code()), "\"><p><span class=\"severity\">",
                      symbol, word, "</span><strong>", Escape(a->title()),
                      "</strong></p><p>", Escape(a->text()), "</p>",
                      Why(a->rationale()), Decision(key, displays_[key]),
                      "</div>");
    }
    if (body.empty()) body = "<p class=\"none\">No safety alerts.</p>";
    return Section("alerts", "Safety alerts", body);
  }

  std::string Delivery(const v1::TechniqueRecommendation& t) const {
    std::string html = "<ul class=\"delivery\" aria-label=\"Delivered by\">";
    for (const std::string& code : t.delivered_by()) {
      auto it = disciplines_.find(code);
      const bool in_team = it != disciplines_.end() && it->second->in_team();
      const std::string& name =
          it != disciplines_.end() && !it->second->display().empty()
              ? it->second->display()
              : code;
      absl::StrAppend(&html, "<li", in_team ? " class=\"in-team\"" : "", ">",
                      Escape(name), in_team ? " (in this team)" : "", "</li>");
    }
    absl::StrAppend(&html, "</ul>");
    for (const v1::SkillsGap& g : v_.plan.skills_gaps()) {
      if (g.kind() != v1::ITEM_KIND_TECHNIQUE || g.code() != t.code()) continue;
      absl::StrAppend(&html, "<p class=\"gap\"><strong>Skills gap:</strong> ",
                      Escape(g.suggestion()), "</p>");
    }
    return html;
  }

  std::string Plan() {
    std::string body;
    for (const v1::ComponentRecommendation& c : v_.plan.components()) {
      absl::StrAppend(&body, "<h3>", Escape(c.display()),
                      "</h3><div class=\"items\">");
      for (const v1::TechniqueRecommendation& t : c.techniques()) {
        const std::string key = absl::StrCat("technique/", t.code());
        absl::StrAppend(&body, "<article class=\"item\" data-technique=\"",
                        Escape(t.code()), "\"><h4>", Escape(t.display()),
                        "</h4><p><strong>Delivered by</strong></p>",
                        Delivery(t), Why(t.rationale()),
                        Decision(key, t.display()), "</article>");
      }
      absl::StrAppend(&body, "</div>");
    }
    if (body.empty()) {
      body = "<p class=\"none\">No components or techniques are suggested.</p>";
    }
    // A discipline a rule asks for directly (e.g. psychology after trauma)
    // that the care team lacks: no technique card carries it.
    std::string asked;
    for (const v1::SkillsGap& g : v_.plan.skills_gaps()) {
      if (g.kind() != v1::ITEM_KIND_DISCIPLINE) continue;
      absl::StrAppend(&asked, "<article class=\"item\" data-discipline-gap=\"",
                      Escape(g.code()), "\"><h4>", Escape(g.display()),
                      "</h4><p class=\"gap\"><strong>Skills gap:</strong> ",
                      Escape(g.suggestion()), "</p>", Why(g.rationale()),
                      "</article>");
    }
    if (!asked.empty()) {
      absl::StrAppend(&body, "<h3>Disciplines this team lacks</h3>",
                      "<div class=\"items\">", asked, "</div>");
    }
    return Section("plan", "Components, techniques and who delivers them",
                   body);
  }

  std::string Prompts() {
    static constexpr std::pair<v1::Audience, const char*> kAudiences[] = {
        {v1::AUDIENCE_CLINICIAN, "For the clinician"},
        {v1::AUDIENCE_PATIENT, "For the patient"},
        {v1::AUDIENCE_PARTNER, "For the partner"},
        {v1::AUDIENCE_TEAM, "For the team"},
        {v1::AUDIENCE_UNSPECIFIED, "Other prompts"}};
    std::string body;
    for (const auto& [audience, title] : kAudiences) {
      std::string group;
      for (const v1::Prompt& p : v_.plan.prompts()) {
        if (p.audience() != audience) continue;
        const std::string key = absl::StrCat("prompt/", p.code());
        absl::StrAppend(&group, "<article class=\"item\" data-prompt=\"",
                        Escape(p.code()), "\"><p>", Escape(p.text()), "</p>",
                        Why(p.rationale()), Decision(key, p.text()),
                        "</article>");
      }
      if (!group.empty()) {
        absl::StrAppend(&body, "<h3>", title, "</h3><div class=\"items\">",
                        group, "</div>");
      }
    }
    if (body.empty()) body = "<p class=\"none\">No prompts.</p>";
    return Section("prompts", "Prompts for the conversation", body);
  }

  std::string Considerations() {
    std::string body;
    for (const v1::Consideration& c : v_.plan.considerations()) {
      const std::string key = absl::StrCat("consideration/", c.code());
      absl::StrAppend(&body, "<article class=\"item\"><p>", Escape(c.text()),
                      "</p>", Why(c.rationale()), Decision(key, c.text()),
                      "</article>");
    }
    if (body.empty()) return "";
    return Section("considerations", "Cultural and social considerations",
                   absl::StrCat("<div class=\"items\">", body, "</div>"));
  }

  std::string Held() const {
    std::string body;
    for (const v1::HeldItem& h : v_.plan.held()) {
      absl::StrAppend(&body, "<li><strong>", Escape(h.display()),
                      "</strong>, held back by ",
                      Escape(absl::StrJoin(RuleIds(h.held_by()), ", ")),
                      Why(h.held_by()), "</li>");
    }
    if (body.empty()) return "";
    return Section("held", "Held back", absl::StrCat("<ul>", body, "</ul>"));
  }

  // For each technique a rule not met would have added: why not.
  std::string WhyNot() const {
    if (!v_.explained) {
      return Section("why-not", "Why not other techniques?",
                     absl::StrCat("<p class=\"none\">Not available: ",
                                  Escape(v_.explain_problem), "</p>"));
    }
    struct Technique {
      std::string display;
      std::string reasons;
    };
    std::vector<std::pair<std::string, Technique>> techniques;
    for (const v1::RuleExplanation& x : v_.why_not) {
      if (x.outcome() == v1::RuleExplanation::HELD) continue;
      for (const v1::PlanItem& item : x.would_add()) {
        if (item.kind() != v1::ITEM_KIND_TECHNIQUE) continue;
        auto it = std::find_if(techniques.begin(), techniques.end(),
                               [&](auto& t) { return t.first == item.code(); });
        if (it == techniques.end()) {
          techniques.push_back({item.code(), {item.display(), ""}});
          it = techniques.end() - 1;
        }
        const v1::Clause& c = x.clause();
        std::string why =
            x.outcome() == v1::RuleExplanation::ERROR
                ? absl::StrCat(" could not be evaluated: ", c.value())
                : absl::StrCat(" is ", c.value(),
                               c.comparison().empty()
                                   ? ""
                                   : absl::StrCat(" (", c.comparison(), ")"));
        absl::StrAppend(
            &it->second.reasons, "<li><strong>",
            Escape(x.rule_title().empty() ? x.rule_id() : x.rule_title()),
            "</strong> would suggest it, but <span class=\"clause\">",
            Escape(c.expression()), "</span>", Escape(why),
            c.definitions().empty()
                ? ""
                : absl::StrCat(" <span class=\"muted\">(in ",
                               Escape(absl::StrJoin(c.definitions(), ", ")),
                               ")</span>"),
            "</li>");
      }
    }
    std::string body;
    for (const auto& [code, t] : techniques) {
      absl::StrAppend(&body, "<details data-why-not=\"", Escape(code),
                      "\"><summary>Why not ", Escape(t.display),
                      "?</summary><ul>", t.reasons, "</ul></details>");
    }
    if (body.empty()) {
      body =
          "<p class=\"none\">Every technique a rule could suggest here is in "
          "the plan or held back.</p>";
    }
    return Section("why-not", "Why not other techniques?", body);
  }

  std::string Missing() const {
    if (!v_.explained) return "";
    const v1::MissingData& m = v_.missing_data;
    std::string body;
    if (m.has_worth_measuring()) {
      absl::StrAppend(&body, "<p><strong>", Escape(m.worth_measuring().text()),
                      "</strong></p>");
    }
    if (!m.rules().empty()) {
      absl::StrAppend(&body, "<ul>");
      for (const v1::UnknownRule& u : m.rules()) {
        absl::StrAppend(&body, "<li>", Escape(u.text()), "</li>");
      }
      absl::StrAppend(&body, "</ul>");
    }
    if (!m.complete()) {
      absl::StrAppend(&body,
                      "<p class=\"muted\">The analysis stopped at its cost "
                      "budget: other missing facts may matter too.</p>");
    }
    if (body.empty()) {
      body = "<p class=\"none\">No missing fact would change this plan.</p>";
    }
    return Section("missing", "Not recorded, and could change this plan", body);
  }

  std::string Recorded() const {
    std::string rows;
    for (auto it = v_.feedback.rbegin(); it != v_.feedback.rend(); ++it) {
      const FeedbackRecord& f = *it;
      auto display = displays_.find(f.card_item);
      absl::StrAppend(
          &rows, "<tr><td>", Escape(FormatTime(f.time_micros)), "</td><td>",
          Escape(display != displays_.end() ? display->second : f.card_item),
          "</td><td>", OutcomeWord(f), "</td><td>", Escape(Who(f)), "</td><td>",
          Escape(Details(f)), "</td></tr>");
    }
    if (rows.empty()) {
      return Section("recorded", "Decisions recorded",
                     "<p class=\"none\">Nothing recorded yet.</p>");
    }
    return Section(
        "recorded", "Decisions recorded",
        absl::StrCat("<table class=\"decisions\"><thead><tr><th scope=\"col\">"
                     "When</th><th scope=\"col\">Item</th><th scope=\"col\">"
                     "Decision</th><th scope=\"col\">By</th><th scope=\"col\">"
                     "Details</th></tr></thead><tbody>",
                     rows, "</tbody></table>"));
  }

  const CarePlanView& v_;
  std::map<std::string, const FeedbackRecord*> latest_;
  std::map<std::string, const v1::DisciplineAssignment*> disciplines_;
  std::map<std::string, std::string> displays_;
  int forms_ = 0;
};

}  // namespace

std::vector<PlanEntry> PlanEntries(const v1::Recommendation& plan) {
  std::vector<PlanEntry> out;
  for (const v1::Alert& a : plan.alerts()) {
    out.push_back({absl::StrCat("alert/", a.code()),
                   a.title().empty() ? a.text() : a.title(),
                   RuleIds(a.rationale())});
  }
  for (const v1::ComponentRecommendation& c : plan.components()) {
    for (const v1::TechniqueRecommendation& t : c.techniques()) {
      out.push_back({absl::StrCat("technique/", t.code()), t.display(),
                     RuleIds(t.rationale())});
    }
  }
  for (const v1::Prompt& p : plan.prompts()) {
    out.push_back(
        {absl::StrCat("prompt/", p.code()), p.text(), RuleIds(p.rationale())});
  }
  for (const v1::Consideration& c : plan.considerations()) {
    out.push_back({absl::StrCat("consideration/", c.code()), c.text(),
                   RuleIds(c.rationale())});
  }
  return out;
}

std::string CarePlanPage(const CarePlanView& view) {
  Renderer r(view);
  PageParts parts;
  parts.title = absl::StrCat("Care plan ", view.record.decision_id);
  parts.heading = "Care plan";
  parts.header_html = r.Header();
  parts.main_html = r.Main();
  parts.footer_text =
      absl::StrCat("Decision ", view.record.decision_id, " \xC2\xB7 rule set ",
                   view.rule_set_id, " ", view.rule_set_version,
                   " \xC2\xB7 digest ", view.record.rule_set_digest);
  if (view.can_record) parts.script = "mdt.js";
  return Page(parts);
}

}  // namespace reconnect::service::web
