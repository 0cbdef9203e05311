// Evaluates a compiled rule set on one input and assembles the
// recommendation: fired rules, suppression by priority, skills mix, order.

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "engine/ruleset/internal/compiled.h"
#include "engine/ruleset/internal/fact_json.h"
#include "engine/ruleset/internal/missing_data.h"

namespace reconnect::ruleset::ruleset_internal {
namespace {

// The API's kind of each catalog kind (ItemKindIndex order).
constexpr v1::ItemKind kKinds[kItemKinds] = {
    v1::ITEM_KIND_TECHNIQUE, v1::ITEM_KIND_DISCIPLINE, v1::ITEM_KIND_PROMPT,
    v1::ITEM_KIND_ALERT, v1::ITEM_KIND_CONSIDERATION};

// Per-evaluation state: which rules fired, what each item got from whom.
class Assembly {
 public:
  Assembly(const CompiledRuleSetImpl& rs,
           const google::protobuf::Message& input, v1::Recommendation& out)
      : rs_(rs), input_(input), out_(out), ev_(*rs.expressions_) {
    ev_.SetInput(rs.input_index_, input);
    for (int k = 0; k < kItemKinds; ++k) {
      contrib_[k].resize(rs.catalog_[k].size());
      held_by_[k].resize(rs.catalog_[k].size());
    }
    reason_text_.resize(rs.rules_.size());
    reason_rendered_.resize(rs.rules_.size(), false);
    fact_cited_.resize(rs.expressions_->facts().size(), false);
  }

  void Run(std::vector<size_t>* fired_out,
           const CompiledRuleSet::Explain* explain) {
    FireRules(fired_out);
    ApplySuppression();
    if (explain != nullptr &&
        (explain->why_not != nullptr || explain->missing_data != nullptr)) {
      PlanState plan;
      plan.contrib = &contrib_;
      for (uint8_t state : fired_) {
        plan.not_met.push_back(state == kNotMet);
        plan.fired.push_back(state == kFired);
      }
      FindHolders(rs_, plan);
      if (explain->why_not != nullptr) ExplainWhyNot(plan, *explain->why_not);
      if (explain->missing_data != nullptr) {
        FindMissingData(rs_, input_, plan, explain->missing_data_budget,
                        *explain->missing_data);
      }
    }
    ReadTeam();
    EmitTechniquesAndSkills();
    EmitPrompts();
    EmitAlerts();
    EmitConsiderations();
    EmitHeld();
    EmitFacts();
    EmitSummary();
  }

 private:
  void FireRules(std::vector<size_t>* fired_out) {
    fired_.assign(rs_.rules_.size(), 0);
    for (size_t i = 0; i < rs_.rules_.size(); ++i) {
      const CompiledRule& rule = rs_.rules_[i];
      const cel::Value v = ev_.Evaluate(rule.when);
      if (v.kind() == cel::Value::Kind::kBool) {
        fired_[i] = v.bool_value() ? kFired : kNotMet;
      } else {
        fired_[i] = kError;
        auto* issue = out_.add_evaluation_issues();
        issue->set_rule_id(rule.id);
        issue->set_location(rs_.ErrorLocation(v));
        issue->set_message(v.is_error()
                               ? v.error_message()
                               : absl::StrCat("condition gave ",
                                              std::string(v.TypeName()),
                                              ", not bool"));
      }
      if (fired_[i] != kFired) continue;
      if (fired_out) fired_out->push_back(i);
      for (int k = 0; k < kItemKinds; ++k) {
        for (int item : rule.recommend[k])
          contrib_[k][item].push_back(static_cast<int>(i));
      }
    }
    for (int k = 0; k < kItemKinds; ++k) recommended_[k] = contrib_[k];
  }

  // A fired rule holds back what lower-priority rules recommend among the
  // items it suppresses. Rules are sorted by priority, highest first.
  void ApplySuppression() {
    for (size_t s = 0; s < rs_.rules_.size(); ++s) {
      const CompiledRule& sup = rs_.rules_[s];
      if (fired_[s] != kFired || !sup.suppresses_anything) continue;
      for (int k = 0; k < kItemKinds; ++k) {
        const std::vector<bool>& mask = sup.suppress[k];
        for (size_t item = 0; item < mask.size(); ++item) {
          if (!mask[item]) continue;
          RuleList& c = contrib_[k][item];
          const auto removed = std::remove_if(c.begin(), c.end(), [&](int r) {
            return rs_.rules_[r].priority < sup.priority;
          });
          if (removed != c.end()) {
            c.erase(removed, c.end());
            held_by_[k][item].push_back(static_cast<int>(s));
          }
        }
      }
    }
  }

  // Why each rule that did not fire did not (the deciding clause of its
  // condition) and what it would have added, and which fired rules' items
  // were held back, by whom.
  void ExplainWhyNot(
      const PlanState& plan,
      google::protobuf::RepeatedPtrField<v1::RuleExplanation>& out) {
    for (size_t i = 0; i < rs_.rules_.size(); ++i) {
      const CompiledRule& rule = rs_.rules_[i];
      if (fired_[i] == kFired) {
        ExplainHeld(static_cast<int>(i), out);
        continue;
      }
      const cel::Explanation& e = ev_.Explain(rule.when);
      v1::RuleExplanation& x = *out.Add();
      x.set_rule_id(rule.id);
      x.set_rule_title(rule.title);
      x.set_outcome(fired_[i] == kError ? v1::RuleExplanation::ERROR
                                        : v1::RuleExplanation::NOT_MET);
      FillClause(e, *x.mutable_clause());
      AddPlanItems(rs_, WouldAdd(rs_, plan, static_cast<int>(i)),
                   *x.mutable_would_add());
    }
  }

  // Copies `e` (which may be a definition's, shared by many rules) into the
  // response.
  void FillClause(const cel::Explanation& e, v1::Clause& out) const {
    out.set_expression(e.clause);
    out.set_value(e.value);
    for (const auto& [expression, value] : e.operands) {
      v1::ClauseOperand& op = *out.add_operands();
      op.set_expression(expression);
      op.set_value(value);
    }
    out.set_comparison(e.comparison);
    for (const std::string& d : e.definitions) out.add_definitions(d);
    if (e.site < rs_.error_locations_.size()) {
      out.set_location(rs_.error_locations_[e.site]);
    }
    for (const cel::Explanation& a : e.alternatives) {
      FillClause(a, *out.add_alternatives());
    }
  }

  void ExplainHeld(
      int rule_index,
      google::protobuf::RepeatedPtrField<v1::RuleExplanation>& out) {
    const CompiledRule& rule = rs_.rules_[rule_index];
    v1::RuleExplanation* x = nullptr;
    for (int k = 0; k < kItemKinds; ++k) {
      for (int item : rule.recommend[k]) {
        const RuleList& kept = contrib_[k][item];
        if (std::find(kept.begin(), kept.end(), rule_index) != kept.end() ||
            held_by_[k][item].empty()) {
          continue;
        }
        if (x == nullptr) {
          x = out.Add();
          x->set_rule_id(rule.id);
          x->set_rule_title(rule.title);
          x->set_outcome(v1::RuleExplanation::HELD);
        }
        v1::HeldItem& held = *x->add_held_items();
        const CatalogItem& entry = rs_.catalog_[k][item];
        held.set_kind(kKinds[k]);
        held.set_code(entry.code);
        held.set_display(entry.display.empty() ? entry.text : entry.display);
        for (int holder : held_by_[k][item]) {
          const std::string& id = rs_.rules_[holder].id;
          if (std::find(x->held_by().begin(), x->held_by().end(), id) ==
              x->held_by().end()) {
            x->add_held_by(id);
          }
        }
      }
    }
  }

  void ReadTeam() {
    team_.assign(rs_.catalog_[kDiscipline].size(), false);
    if (rs_.team_expression_ < 0) return;
    const cel::Value v = ev_.Evaluate(rs_.team_expression_);
    if (v.kind() != cel::Value::Kind::kList) return;
    for (size_t i = 0; i < v.list().size(); ++i) {
      const cel::Value code = v.list().at(i);
      if (code.kind() != cel::Value::Kind::kString) continue;
      const auto& ds = rs_.catalog_[kDiscipline];
      for (size_t d = 0; d < ds.size(); ++d) {
        if (ds[d].code == code.string_value()) {
          team_[d] = true;
          team_given_ = true;
        }
      }
    }
  }

  // The rendered rationale of rule `r`, computed at most once.
  const std::string& ReasonText(int r) {
    if (!reason_rendered_[r]) {
      std::string& text = reason_text_[r];
      for (const TemplatePart& p : rs_.rules_[r].rationale) {
        if (p.expression < 0) {
          text += p.text;
        } else {
          const cel::Value v = ev_.Evaluate(p.expression);
          text += v.is_error() ? "(not available)" : v.DebugString();
        }
      }
      reason_rendered_[r] = true;
    }
    return reason_text_[r];
  }

  // Cites each rule's reason and the paths of the facts it read; the fact
  // values are emitted once, in EmitFacts.
  void FillRationale(v1::Rationale* out, const RuleList& rules) {
    const auto& facts = rs_.expressions_->facts();
    for (int r : rules) {
      v1::RuleReason* reason = out->add_reasons();
      reason->set_rule_id(rs_.rules_[r].id);
      reason->set_reason(ReasonText(r));
      for (int slot : rs_.rules_[r].facts) {
        reason->add_fact_paths(facts[slot].display);
        fact_cited_[slot] = true;
      }
    }
  }

  void EmitFacts() {
    const auto& facts = rs_.expressions_->facts();
    std::vector<int> cited;
    for (size_t slot = 0; slot < facts.size(); ++slot) {
      if (fact_cited_[slot]) cited.push_back(static_cast<int>(slot));
    }
    std::sort(cited.begin(), cited.end(), [&](int a, int b) {
      return facts[a].display < facts[b].display;
    });
    for (int slot : cited) {
      v1::Fact* fact = out_.add_facts();
      fact->set_path(facts[slot].display);
      fact->set_present(FactToJson(input_, facts[slot], fact->mutable_value()));
    }
  }

  void EmitTechniquesAndSkills() {
    const auto& techniques = rs_.catalog_[kTechnique];
    const auto& disciplines = rs_.catalog_[kDiscipline];
    std::vector<std::vector<int>> delivers(disciplines.size());
    std::vector<RuleList> discipline_rules(disciplines.size());
    for (size_t c = 0; c < rs_.components_.size(); ++c) {
      v1::ComponentRecommendation* comp = nullptr;
      for (size_t t = 0; t < techniques.size(); ++t) {
        const CatalogItem& tech = techniques[t];
        if (tech.component != static_cast<int>(c) ||
            contrib_[kTechnique][t].empty())
          continue;
        if (comp == nullptr) {
          comp = out_.add_components();
          comp->set_code(rs_.components_[c].code);
          comp->set_display(rs_.components_[c].display);
        }
        v1::TechniqueRecommendation* rec = comp->add_techniques();
        rec->set_code(tech.code);
        rec->set_display(tech.display);
        FillRationale(rec->mutable_rationale(), contrib_[kTechnique][t]);
        for (int d : tech.disciplines) {
          if (team_given_ && !team_[d]) continue;
          rec->add_delivered_by(disciplines[d].code);
          delivers[d].push_back(static_cast<int>(t));
          for (int r : contrib_[kTechnique][t]) {
            if (std::find(discipline_rules[d].begin(),
                          discipline_rules[d].end(),
                          r) == discipline_rules[d].end()) {
              discipline_rules[d].push_back(r);
            }
          }
        }
        if (team_given_ && rec->delivered_by().empty()) {
          v1::SkillsGap* gap = out_.add_skills_gaps();
          gap->set_kind(v1::ITEM_KIND_TECHNIQUE);
          gap->set_code(tech.code);
          gap->set_display(tech.display);
          std::vector<std::string> names;
          for (int d : tech.disciplines) {
            gap->add_disciplines_able(disciplines[d].code);
            names.push_back(disciplines[d].display);
          }
          gap->set_suggestion(Suggestion(tech.display, names));
          *gap->mutable_rationale() = rec->rationale();
        }
      }
    }
    // Disciplines a rule asks for directly (e.g. psychology-led work).
    for (size_t d = 0; d < disciplines.size(); ++d) {
      const RuleList& rules = contrib_[kDiscipline][d];
      if (rules.empty()) continue;
      for (int r : rules) {
        if (std::find(discipline_rules[d].begin(), discipline_rules[d].end(),
                      r) == discipline_rules[d].end()) {
          discipline_rules[d].push_back(r);
        }
      }
      if (team_given_ && !team_[d]) {
        v1::SkillsGap* gap = out_.add_skills_gaps();
        gap->set_kind(v1::ITEM_KIND_DISCIPLINE);
        gap->set_code(disciplines[d].code);
        gap->set_display(disciplines[d].display);
        gap->add_disciplines_able(disciplines[d].code);
        gap->set_suggestion(
            rs_.gap_discipline_suggestion_.empty()
                ? Suggestion(disciplines[d].display, {disciplines[d].display})
                : absl::StrReplaceAll(rs_.gap_discipline_suggestion_,
                                      {{"{item}", disciplines[d].display}}));
        FillRationale(gap->mutable_rationale(), rules);
      }
    }
    for (size_t d = 0; d < disciplines.size(); ++d) {
      if (discipline_rules[d].empty()) continue;
      if (team_given_ && !team_[d]) continue;  // reported as a gap instead
      v1::DisciplineAssignment* a = out_.add_disciplines();
      a->set_code(disciplines[d].code);
      a->set_display(disciplines[d].display);
      a->set_in_team(team_given_ && team_[d]);
      for (int t : delivers[d]) a->add_techniques(techniques[t].code);
      FillRationale(a->mutable_rationale(), discipline_rules[d]);
    }
  }

  std::string Suggestion(const std::string& item,
                         const std::vector<std::string>& able) const {
    return absl::StrReplaceAll(
        rs_.gap_suggestion_,
        {{"{item}", item}, {"{disciplines}", absl::StrJoin(able, ", ")}});
  }

  int TopPriority(const RuleList& rules) const {
    int p = std::numeric_limits<int>::min();
    for (int r : rules) p = std::max(p, rs_.rules_[r].priority);
    return p;
  }

  std::vector<int> Active(int kind) const {
    std::vector<int> items;
    for (size_t i = 0; i < contrib_[kind].size(); ++i) {
      if (!contrib_[kind][i].empty()) items.push_back(static_cast<int>(i));
    }
    return items;
  }

  void EmitPrompts() {
    std::vector<int> items = Active(kPrompt);
    std::stable_sort(items.begin(), items.end(), [&](int a, int b) {
      return TopPriority(contrib_[kPrompt][a]) >
             TopPriority(contrib_[kPrompt][b]);
    });
    for (int i : items) {
      const CatalogItem& item = rs_.catalog_[kPrompt][i];
      v1::Prompt* p = out_.add_prompts();
      p->set_code(item.code);
      p->set_text(item.text);
      p->set_audience(static_cast<v1::Audience>(item.audience));
      FillRationale(p->mutable_rationale(), contrib_[kPrompt][i]);
    }
  }

  void EmitAlerts() {
    std::vector<int> items = Active(kAlert);
    const auto& cat = rs_.catalog_[kAlert];
    std::stable_sort(items.begin(), items.end(), [&](int a, int b) {
      if (cat[a].severity != cat[b].severity)
        return cat[a].severity > cat[b].severity;
      return TopPriority(contrib_[kAlert][a]) >
             TopPriority(contrib_[kAlert][b]);
    });
    for (int i : items) {
      v1::Alert* a = out_.add_alerts();
      a->set_code(cat[i].code);
      a->set_title(cat[i].display);
      a->set_text(cat[i].text);
      a->set_severity(static_cast<v1::Severity>(cat[i].severity));
      FillRationale(a->mutable_rationale(), contrib_[kAlert][i]);
    }
  }

  void EmitConsiderations() {
    for (int i : Active(kConsideration)) {
      const CatalogItem& item = rs_.catalog_[kConsideration][i];
      v1::Consideration* c = out_.add_considerations();
      c->set_code(item.code);
      c->set_text(item.text);
      FillRationale(c->mutable_rationale(), contrib_[kConsideration][i]);
    }
  }

  void EmitHeld() {
    for (int k = 0; k < kItemKinds; ++k) {
      for (size_t i = 0; i < contrib_[k].size(); ++i) {
        if (!contrib_[k][i].empty() || held_by_[k][i].empty()) continue;
        const CatalogItem& item = rs_.catalog_[k][i];
        v1::HeldItem* h = out_.add_held();
        h->set_kind(kKinds[k]);
        h->set_code(item.code);
        h->set_display(item.display.empty() ? item.text : item.display);
        for (int r : recommended_[k][i])
          h->add_recommended_by(rs_.rules_[r].id);
        FillRationale(h->mutable_held_by(), held_by_[k][i]);
      }
    }
  }

  void EmitSummary() {
    const SummaryLabels& l = rs_.labels_;
    std::vector<std::string> parts;
    if (out_.alerts_size() > 0) {
      std::vector<std::string> alerts;
      for (const auto& a : out_.alerts()) {
        if (a.severity() >= v1::SEVERITY_WARNING) alerts.push_back(a.title());
      }
      if (!alerts.empty())
        parts.push_back(
            absl::StrCat(l.alerts, ": ", absl::StrJoin(alerts, ", ")));
    }
    std::vector<std::string> considerations;
    for (int i : Active(kConsideration)) {
      const CatalogItem& item = rs_.catalog_[kConsideration][i];
      if (item.in_summary) considerations.push_back(item.display);
    }
    if (!considerations.empty()) {
      parts.push_back(absl::StrCat(l.considerations, ": ",
                                   absl::StrJoin(considerations, ", ")));
    }
    if (out_.components_size() > 0) {
      std::vector<std::string> comps;
      for (const auto& c : out_.components()) {
        comps.push_back(
            absl::StrCat(c.display(), " (", c.techniques_size(), ")"));
      }
      parts.push_back(
          absl::StrCat(l.components, ": ", absl::StrJoin(comps, ", ")));
    }
    if (out_.prompts_size() > 0) {
      parts.push_back(absl::StrCat(l.prompts, ": ", out_.prompts_size()));
    }
    if (out_.skills_gaps_size() > 0) {
      parts.push_back(absl::StrCat(l.gaps, ": ", out_.skills_gaps_size()));
    }
    if (out_.held_size() > 0)
      parts.push_back(absl::StrCat(l.held, ": ", out_.held_size()));
    out_.set_summary(parts.empty() ? l.empty : absl::StrJoin(parts, ". "));
  }

  const CompiledRuleSetImpl& rs_;
  const google::protobuf::Message& input_;
  v1::Recommendation& out_;
  cel::Evaluation ev_;
  // Per rule: what its condition came to.
  static constexpr uint8_t kNotMet = 0, kFired = 1, kError = 2;
  std::vector<uint8_t> fired_;
  std::array<std::vector<RuleList>, kItemKinds> contrib_;
  std::array<std::vector<RuleList>, kItemKinds> recommended_;
  std::array<std::vector<RuleList>, kItemKinds> held_by_;
  std::vector<std::string> reason_text_;
  std::vector<bool> reason_rendered_;
  std::vector<bool> fact_cited_;
  std::vector<bool> team_;
  bool team_given_ = false;
};

}  // namespace

void CompiledRuleSetImpl::Evaluate(const google::protobuf::Message& input,
                                   v1::Recommendation& out,
                                   std::vector<size_t>* fired,
                                   const Explain* explain) const {
  Assembly(*this, input, out).Run(fired, explain);
}

void CompiledRuleSetImpl::EvaluateConditions(
    const google::protobuf::Message& input, std::vector<bool>& met) const {
  cel::Evaluation ev(*expressions_);
  ev.SetInput(input_index_, input);
  met.assign(rules_.size(), false);
  for (size_t i = 0; i < rules_.size(); ++i) {
    const cel::Value v = ev.Evaluate(rules_[i].when);
    met[i] = v.kind() == cel::Value::Kind::kBool && v.bool_value();
  }
}

std::vector<InputViolation> CompiledRuleSetImpl::ValidateInput(
    const google::protobuf::Message& input) const {
  std::vector<InputViolation> violations;
  if (input.GetDescriptor()->full_name() != input_type_) {
    violations.push_back(
        {"", absl::StrCat("expected a ", input_type_, ", got ",
                          input.GetDescriptor()->full_name())});
    return violations;
  }
  if (team_expression_ < 0) return violations;
  cel::Evaluation ev(*expressions_);
  ev.SetInput(input_index_, input);
  const cel::Value v = ev.Evaluate(team_expression_);
  if (v.kind() != cel::Value::Kind::kList) return violations;
  const auto& ds = catalog_[kDiscipline];
  for (size_t i = 0; i < v.list().size(); ++i) {
    const cel::Value code = v.list().at(i);
    if (code.kind() != cel::Value::Kind::kString) continue;
    const bool known = std::any_of(
        ds.begin(), ds.end(),
        [&](const CatalogItem& d) { return d.code == code.string_value(); });
    if (!known) {
      std::vector<std::string> codes;
      for (const auto& d : ds) codes.push_back(d.code);
      violations.push_back(
          {absl::StrCat(team_path_, "[", i, "]"),
           absl::StrCat("unknown discipline code; expected one of: ",
                        absl::StrJoin(codes, ", "))});
    }
  }
  return violations;
}

}  // namespace reconnect::ruleset::ruleset_internal
