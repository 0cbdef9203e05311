#include "service/http/cds_cards.h"

#include <array>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/common/name_uuid.h"

namespace reconnect::service::http {

namespace {

using nlohmann::json;

// The namespace of card uuids: fixed, so that uuids are stable across
// releases and replicas.
constexpr UuidNamespace kCardNamespace = {0x1d, 0xbd, 0x58, 0xfe, 0xd2, 0x4e,
                                          0x43, 0xd4, 0x8e, 0x91, 0x22, 0xbb,
                                          0x5e, 0xa6, 0xa5, 0xa8};

std::string Heading(const CardInput& in, const char* key) {
  if (in.cards == nullptr || !in.cards->contains("headings")) return key;
  const json& headings = (*in.cards)["headings"];
  auto it = headings.find(key);
  return it != headings.end() && it->is_string() ? it->get<std::string>() : key;
}

// The rendered reasons of `rationale`, one sentence after another.
std::string Reasons(const v1::Rationale& rationale) {
  std::vector<std::string> reasons;
  for (const auto& r : rationale.reasons()) {
    if (!r.reason().empty()) reasons.push_back(r.reason());
  }
  return absl::StrJoin(reasons, " ");
}

// Markdown text: characters that would start markup are escaped.
std::string Md(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '*' || c == '_' || c == '`' || c == '[' || c == ']' || c == '#' ||
        c == '<' || c == '>' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c == '\n' ? ' ' : c);
  }
  return out;
}

// `text` as inline code, or escaped when it holds a backtick (which would
// end the code span).
std::string Code(const std::string& text) {
  return text.find('`') == std::string::npos ? absl::StrCat("`", text, "`")
                                             : Md(text);
}

std::string AudienceWord(v1::Audience a) {
  std::string name = v1::Audience_Name(a);
  constexpr std::string_view kPrefix = "AUDIENCE_";
  if (name.rfind(kPrefix, 0) == 0) name = name.substr(kPrefix.size());
  return absl::AsciiStrToLower(name);
}

json Source(const CardInput& in) {
  if (in.cards != nullptr && in.cards->contains("source")) {
    return (*in.cards)["source"];
  }
  return {{"label", in.rule_set_id}};
}

json OverrideReasons(const CardInput& in) {
  if (in.cards != nullptr && in.cards->contains("override_reasons")) {
    return (*in.cards)["override_reasons"];
  }
  return json::array();
}

json Card(const CardInput& in, const std::string& item,
          const std::string& summary, const std::string& indicator,
          std::string detail) {
  json card = {{"uuid", CardUuid(in.decision_id, item)},
               {"summary", Summary(summary)},
               {"indicator", indicator},
               {"source", Source(in)}};
  if (!detail.empty()) card["detail"] = std::move(detail);
  if (json reasons = OverrideReasons(in); !reasons.empty()) {
    card["overrideReasons"] = std::move(reasons);
  }
  return card;
}

std::string PlanDetail(const v1::Recommendation& r, const CardInput& in) {
  std::string md;
  const std::string why = Heading(in, "why");
  // Who delivers a technique, by the disciplines' names.
  absl::flat_hash_map<std::string, std::string> disciplines;
  for (const auto& d : r.disciplines()) disciplines[d.code()] = d.display();
  if (r.components_size() > 0) {
    absl::StrAppend(&md, "### ", Md(Heading(in, "components")), "\n\n");
    for (const auto& c : r.components()) {
      absl::StrAppend(&md, "- **", Md(c.display()), "**\n");
      for (const auto& t : c.techniques()) {
        absl::StrAppend(&md, "  - ", Md(t.display()));
        if (t.delivered_by_size() > 0) {
          std::vector<std::string> who;
          for (const auto& code : t.delivered_by()) {
            auto it = disciplines.find(code);
            who.push_back(it == disciplines.end() ? code : it->second);
          }
          absl::StrAppend(&md, " (", Md(absl::StrJoin(who, ", ")), ")");
        }
        if (const std::string reasons = Reasons(t.rationale());
            !reasons.empty()) {
          absl::StrAppend(&md, ". *", Md(why), ":* ", Md(reasons));
        }
        md += "\n";
      }
    }
    md += "\n";
  }
  if (r.prompts_size() > 0) {
    absl::StrAppend(&md, "### ", Md(Heading(in, "prompts")), "\n\n");
    for (const auto& p : r.prompts()) {
      absl::StrAppend(&md, "- (", AudienceWord(p.audience()), ") ",
                      Md(p.text()), "\n");
    }
    md += "\n";
  }
  bool info_alerts = false;
  for (const auto& a : r.alerts()) {
    if (a.severity() == v1::SEVERITY_INFO) {
      absl::StrAppend(&md, "- ", Md(a.title().empty() ? a.text() : a.title()),
                      ": ", Md(a.text()), "\n");
      info_alerts = true;
    }
  }
  if (info_alerts) md += "\n";
  if (r.considerations_size() > 0) {
    absl::StrAppend(&md, "### ", Md(Heading(in, "considerations")), "\n\n");
    for (const auto& c : r.considerations()) {
      absl::StrAppend(&md, "- ", Md(c.text()), "\n");
    }
    md += "\n";
  }
  if (r.held_size() > 0) {
    absl::StrAppend(&md, "### ", Md(Heading(in, "held")), "\n\n");
    for (const auto& h : r.held()) {
      absl::StrAppend(&md, "- ", Md(h.display()));
      if (const std::string reasons = Reasons(h.held_by()); !reasons.empty()) {
        absl::StrAppend(&md, ": ", Md(reasons));
      }
      md += "\n";
    }
    md += "\n";
  }
  if (!in.missing.empty()) {
    absl::StrAppend(&md, "### ", Md(Heading(in, "not_available")), "\n\n");
    for (const auto& m : in.missing) absl::StrAppend(&md, "- ", Md(m), "\n");
    md += "\n";
  }
  if (in.why_not != nullptr && !in.why_not->empty()) {
    absl::StrAppend(&md, "### ", Md(Heading(in, "why_not")), "\n\n");
    for (const v1::RuleExplanation& x : *in.why_not) {
      absl::StrAppend(&md, "- **", Md(x.rule_title()), "**: ");
      if (x.outcome() == v1::RuleExplanation::HELD) {
        std::vector<std::string> items;
        for (const auto& h : x.held_items()) items.push_back(h.display());
        absl::StrAppend(&md, Md(absl::StrJoin(items, ", ")), " held back by ",
                        Code(absl::StrJoin(x.held_by(), ", ")), "\n");
        continue;
      }
      const v1::Clause& c = x.clause();
      absl::StrAppend(&md, Code(c.expression()), " is ", Md(c.value()));
      if (!c.comparison().empty()) {
        absl::StrAppend(&md, " (", Md(c.comparison()), ")");
      }
      for (const v1::Clause& a : c.alternatives()) {
        absl::StrAppend(&md, "; ", Code(a.expression()), " is ", Md(a.value()));
        if (!a.comparison().empty()) {
          absl::StrAppend(&md, " (", Md(a.comparison()), ")");
        }
      }
      md += "\n";
    }
    md += "\n";
  }
  const bool has_missing_heading =
      in.cards != nullptr && in.cards->contains("headings") &&
      (*in.cards)["headings"].contains("missing_data");
  if (in.missing_data != nullptr && !in.missing_data->rules().empty() &&
      has_missing_heading) {
    absl::StrAppend(&md, "### ", Md(Heading(in, "missing_data")), "\n\n");
    if (in.missing_data->has_worth_measuring()) {
      absl::StrAppend(&md, "**", Md(in.missing_data->worth_measuring().text()),
                      "**\n\n");
    }
    for (const v1::UnknownRule& u : in.missing_data->rules()) {
      absl::StrAppend(&md, "- ", Md(u.text()), "\n");
    }
    md += "\n";
  }
  while (!md.empty() && md.back() == '\n') md.pop_back();
  return md;
}

json GapsCard(const v1::Recommendation& r, const CardInput& in) {
  std::vector<std::string> items;
  json suggestions = json::array();
  for (const auto& g : r.skills_gaps()) {
    items.push_back(g.display());
    json request = {{"resourceType", "ServiceRequest"},
                    {"status", "draft"},
                    {"intent", "proposal"},
                    {"code", {{"text", g.display()}}},
                    {"note", json::array({{{"text", g.suggestion()}}})}};
    if (!in.patient_ref.empty()) {
      request["subject"] = {{"reference", in.patient_ref}};
    }
    json performers = json::array();
    for (const auto& d : g.disciplines_able()) {
      performers.push_back({{"text", d}});
    }
    if (!performers.empty()) request["performerType"] = performers[0];
    suggestions.push_back(
        {{"label", Summary(g.suggestion(), 80)},
         {"uuid", CardUuid(in.decision_id, absl::StrCat("gap/", g.code()))},
         {"actions", json::array({{{"type", "create"},
                                   {"description", g.suggestion()},
                                   {"resource", std::move(request)}}})}});
  }
  json card =
      Card(in, "gaps",
           absl::StrCat(Heading(in, "gaps"), ": ", absl::StrJoin(items, ", ")),
           "info", "");
  std::string detail;
  for (const auto& g : r.skills_gaps()) {
    absl::StrAppend(&detail, "- **", Md(g.display()),
                    "**: ", Md(g.suggestion()), "\n");
  }
  if (!detail.empty()) detail.pop_back();
  card["detail"] = detail;
  card["suggestions"] = std::move(suggestions);
  card["selectionBehavior"] = "any";
  return card;
}

}  // namespace

std::string Summary(const std::string& text, size_t limit) {
  // Count code points (UTF-8 lead bytes).
  size_t points = 0;
  for (unsigned char c : text) points += (c & 0xC0) != 0x80;
  if (points < limit) return text;
  std::string out;
  size_t kept = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) {
      if (kept + 2 >= limit) break;  // room for the ellipsis, and under
      ++kept;
    }
    out.push_back(text[i]);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + "\u2026";
}

std::string PlanMarkdown(const v1::Recommendation& r, const CardInput& in) {
  std::string md = absl::StrCat("# ", Md(r.summary()), "\n\n");
  for (const v1::Severity severity :
       {v1::SEVERITY_CRITICAL, v1::SEVERITY_WARNING}) {
    for (const auto& a : r.alerts()) {
      if (a.severity() != severity) continue;
      absl::StrAppend(
          &md, "**", severity == v1::SEVERITY_CRITICAL ? "Critical" : "Warning",
          a.title().empty() ? "" : absl::StrCat(": ", Md(a.title())), ".** ",
          Md(a.text()), "\n\n");
    }
  }
  absl::StrAppend(&md, PlanDetail(r, in), "\n");
  return md;
}

std::string CardUuid(const std::string& decision_id, const std::string& item) {
  return NameUuid(kCardNamespace, absl::StrCat(decision_id, "/", item));
}

namespace {

// The rules behind items, each once, in the order first met.
class RuleList {
 public:
  void Add(const v1::Rationale& rationale) {
    for (const auto& reason : rationale.reasons()) Add(reason.rule_id());
  }
  void Add(const std::string& rule_id) {
    if (seen_.insert(rule_id).second) ids_.push_back(rule_id);
  }
  std::vector<std::string> Take() { return std::move(ids_); }

 private:
  absl::flat_hash_set<std::string> seen_;
  std::vector<std::string> ids_;
};

// The rules behind the plan card: every item it shows.
std::vector<std::string> PlanRules(const v1::Recommendation& r) {
  RuleList rules;
  for (const auto& c : r.components()) {
    for (const auto& t : c.techniques()) rules.Add(t.rationale());
  }
  for (const auto& d : r.disciplines()) rules.Add(d.rationale());
  for (const auto& p : r.prompts()) rules.Add(p.rationale());
  for (const auto& a : r.alerts()) {
    if (a.severity() == v1::SEVERITY_INFO) rules.Add(a.rationale());
  }
  for (const auto& c : r.considerations()) rules.Add(c.rationale());
  for (const auto& h : r.held()) {
    for (const auto& id : h.recommended_by()) rules.Add(id);
    rules.Add(h.held_by());
  }
  return rules.Take();
}

// Adds `card` (made for `item`) to `issued`, when there is one.
void Issue(std::vector<IssuedCard>* issued, const json& card,
           const std::string& item, std::vector<std::string> rule_ids) {
  if (issued == nullptr) return;
  IssuedCard c;
  c.uuid = card["uuid"].get<std::string>();
  c.item = item;
  c.rule_ids = std::move(rule_ids);
  if (auto s = card.find("suggestions"); s != card.end()) {
    for (const json& suggestion : *s) {
      c.suggestions.push_back(suggestion["uuid"].get<std::string>());
    }
  }
  issued->push_back(std::move(c));
}

}  // namespace

json CdsHooksResponse(const v1::Recommendation& r, const CardInput& in,
                      std::vector<IssuedCard>* issued) {
  json cards = json::array();
  // Alerts that must stop the clinician first, critical before warning, in
  // the recommendation's order within each.
  for (const v1::Severity severity :
       {v1::SEVERITY_CRITICAL, v1::SEVERITY_WARNING}) {
    for (const auto& a : r.alerts()) {
      if (a.severity() != severity) continue;
      std::string detail = Md(a.text());
      if (const std::string reasons = Reasons(a.rationale());
          !reasons.empty()) {
        absl::StrAppend(&detail, "\n\n*", Md(Heading(in, "why")), ":* ",
                        Md(reasons));
      }
      const std::string item = absl::StrCat("alert/", a.code());
      cards.push_back(
          Card(in, item, a.title().empty() ? a.text() : a.title(),
               severity == v1::SEVERITY_CRITICAL ? "critical" : "warning",
               std::move(detail)));
      RuleList rules;
      rules.Add(a.rationale());
      Issue(issued, cards.back(), item, rules.Take());
    }
  }
  json plan = Card(in, "plan", r.summary(), "info", PlanDetail(r, in));
  if (in.cards != nullptr && in.cards->contains("app_url")) {
    plan["links"] = json::array(
        {{{"label", Source(in).value("label", "")},
          {"url", (*in.cards)["app_url"]},
          {"type", "smart"},
          {"appContext", json{{"decisionId", in.decision_id}}.dump()}}});
  }
  cards.push_back(std::move(plan));
  Issue(issued, cards.back(), "plan", PlanRules(r));
  if (r.skills_gaps_size() > 0) {
    cards.push_back(GapsCard(r, in));
    RuleList rules;
    for (const auto& g : r.skills_gaps()) rules.Add(g.rationale());
    Issue(issued, cards.back(), "gaps", rules.Take());
  }
  if (r.evaluation_issues_size() > 0) {
    std::string detail;
    for (const auto& issue : r.evaluation_issues()) {
      absl::StrAppend(&detail, "- `", issue.rule_id(), "` (", issue.location(),
                      "): ", Md(issue.message()), "\n");
    }
    detail.pop_back();
    cards.push_back(Card(in, "rule-errors", Heading(in, "rule_errors"),
                         "warning", std::move(detail)));
    RuleList rules;
    for (const auto& issue : r.evaluation_issues()) rules.Add(issue.rule_id());
    Issue(issued, cards.back(), "rule-errors", rules.Take());
  }
  return {{"cards", std::move(cards)},
          {"extension",
           {{"reconnect",
             {{"decisionId", in.decision_id},
              {"ruleSet",
               {{"id", in.rule_set_id},
                {"version", in.rule_set_version},
                {"digest", in.rule_set_digest}}}}}}}};
}

}  // namespace reconnect::service::http
