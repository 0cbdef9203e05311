// Missing data: which absent facts could change a plan, found by CEL's
// partial evaluation of the rules that were not met.

#include "engine/ruleset/internal/missing_data.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace reconnect::ruleset::ruleset_internal {
namespace {

constexpr v1::ItemKind kKinds[kItemKinds] = {
    v1::ITEM_KIND_TECHNIQUE, v1::ITEM_KIND_DISCIPLINE, v1::ITEM_KIND_PROMPT,
    v1::ITEM_KIND_ALERT, v1::ITEM_KIND_CONSIDERATION};

class Analysis {
 public:
  Analysis(const CompiledRuleSetImpl& rs, const PlanState& plan)
      : rs_(rs), plan_(plan), facts_(rs.expressions_->facts()) {}

  std::vector<Item> WouldAdd(int r) const {
    return ruleset_internal::WouldAdd(rs_, plan_, r);
  }

  // What it would hold back that the plan has from rules of lower priority.
  std::vector<Item> WouldHold(int r) const {
    const CompiledRule& rule = rs_.rules_[r];
    std::vector<Item> out;
    if (!rule.suppresses_anything) return out;
    for (int k = 0; k < kItemKinds; ++k) {
      const std::vector<bool>& mask = rule.suppress[k];
      for (size_t item = 0; item < mask.size(); ++item) {
        if (!mask[item]) continue;
        for (int c : (*plan_.contrib)[k][item]) {
          if (rs_.rules_[c].priority < rule.priority) {
            out.emplace_back(k, static_cast<int>(item));
            break;
          }
        }
      }
    }
    return out;
  }

  const std::string& Label(int slot) const {
    return rs_.fact_labels_[slot].empty() ? facts_[slot].display
                                          : rs_.fact_labels_[slot];
  }

  std::string Display(const Item& item) const {
    const CatalogItem& e = rs_.catalog_[item.first][item.second];
    return e.display.empty() ? e.text : e.display;
  }

  std::string Sentence(const std::vector<int>& slots,
                       const std::string& condition,
                       const std::vector<Item>& add,
                       const std::vector<Item>& hold) const {
    const MissingDataWords& w = rs_.missing_data_;
    std::vector<std::string> labels;
    for (int slot : slots) labels.push_back(Label(slot));
    std::vector<std::string> changes;
    for (const auto& [items, words] :
         {std::pair{&add, &w.add}, std::pair{&hold, &w.hold}}) {
      if (items->empty()) continue;
      std::vector<std::string> names;
      int more = 0;
      for (const Item& item : *items) {
        if (item.first == kPrompt || item.first == kConsideration) {
          ++more;
        } else {
          names.push_back(Display(item));
        }
      }
      if (more > 0) {
        names.push_back(
            absl::StrReplaceAll(w.more, {{"{n}", absl::StrCat(more)}}));
      }
      changes.push_back(absl::StrReplaceAll(
          *words, {{"{items}", absl::StrJoin(names, ", ")}}));
    }
    return absl::StrReplaceAll(w.sentence,
                               {{"{facts}", absl::StrJoin(labels, ", ")},
                                {"{condition}", condition},
                                {"{changes}", absl::StrJoin(changes, w.and_)}});
  }

 private:
  const CompiledRuleSetImpl& rs_;
  const PlanState& plan_;
  const std::vector<cel::FactPath>& facts_;
};

}  // namespace

void FindHolders(const CompiledRuleSetImpl& rs, PlanState& plan) {
  for (int k = 0; k < kItemKinds; ++k) {
    plan.held_at[k].assign(rs.catalog_[k].size(), INT_MIN);
  }
  for (size_t s = 0; s < rs.rules_.size(); ++s) {
    const CompiledRule& sup = rs.rules_[s];
    if (!plan.fired[s] || !sup.suppresses_anything) continue;
    for (int k = 0; k < kItemKinds; ++k) {
      const std::vector<bool>& mask = sup.suppress[k];
      std::vector<int>& at = plan.held_at[k];
      for (size_t item = 0; item < mask.size(); ++item) {
        if (mask[item] && sup.priority > at[item]) at[item] = sup.priority;
      }
    }
  }
}

std::vector<Item> WouldAdd(const CompiledRuleSetImpl& rs, const PlanState& plan,
                           int r) {
  const CompiledRule& rule = rs.rules_[r];
  std::vector<Item> out;
  for (int k = 0; k < kItemKinds; ++k) {
    for (int item : rule.recommend[k]) {
      // Not in the plan, and no fired rule of higher priority holds it.
      if ((*plan.contrib)[k][item].empty() &&
          plan.held_at[k][item] <= rule.priority) {
        out.emplace_back(k, item);
      }
    }
  }
  return out;
}

void AddPlanItems(const CompiledRuleSetImpl& rs, const std::vector<Item>& items,
                  google::protobuf::RepeatedPtrField<v1::PlanItem>& out) {
  for (const Item& item : items) {
    const CatalogItem& e = rs.catalog_[item.first][item.second];
    v1::PlanItem& p = *out.Add();
    p.set_kind(kKinds[item.first]);
    p.set_code(e.code);
    p.set_display(e.display.empty() ? e.text : e.display);
  }
}

void FindMissingData(const CompiledRuleSetImpl& rs,
                     const google::protobuf::Message& input,
                     const PlanState& plan, int64_t budget,
                     v1::MissingData& out) {
  const Analysis analysis(rs, plan);
  cel::Evaluation partial(*rs.expressions_);
  partial.SetInput(rs.input_index_, input);
  partial.SetPartial(true);
  struct Impact {
    std::set<Item> items;
    std::vector<std::string> rules;
  };
  std::map<int, Impact> by_fact;  // attribute slot -> what it could change
  bool complete = true;
  // Per fact slot: 0 not yet looked at, 1 recorded, 2 absent.
  std::vector<uint8_t> absent(rs.expressions_->facts().size(), 0);
  auto reads_an_absent_fact = [&](const CompiledRule& rule) {
    for (int slot : rule.facts) {
      if (absent[slot] == 0) absent[slot] = partial.Absent(slot) ? 2 : 1;
      if (absent[slot] == 2) return true;
    }
    return false;
  };
  for (size_t i = 0; i < rs.rules_.size(); ++i) {
    if (!plan.not_met[i]) continue;
    // A condition that reads no absent fact is as false as it was.
    if (!reads_an_absent_fact(rs.rules_[i])) continue;
    // The budget is checked before each rule: the last may overrun it by
    // the cost of one condition.
    if (partial.cost() > budget) {
      complete = false;
      break;
    }
    const CompiledRule& rule = rs.rules_[i];
    const cel::Value v = partial.Evaluate(rule.when);
    // Past the evaluation's own cost limit every condition is an error:
    // the analysis cannot go on, and says so.
    if (v.is_error() && partial.cost() > rs.expressions_->limits().max_cost) {
      complete = false;
      break;
    }
    if (!v.is_unknown()) continue;
    const std::vector<Item> add = analysis.WouldAdd(static_cast<int>(i));
    const std::vector<Item> hold = analysis.WouldHold(static_cast<int>(i));
    if (add.empty() && hold.empty()) continue;  // it would change nothing
    const std::vector<int> slots = v.unknown_attributes();
    v1::UnknownRule& u = *out.add_rules();
    u.set_rule_id(rule.id);
    u.set_rule_title(rule.title);
    u.set_condition(partial.Residual(rule.when, rs.fact_labels_));
    for (int slot : slots) {
      u.add_facts(rs.expressions_->facts()[slot].display);
      Impact& impact = by_fact[slot];
      impact.items.insert(add.begin(), add.end());
      impact.items.insert(hold.begin(), hold.end());
      impact.rules.push_back(rule.id);
    }
    AddPlanItems(rs, add, *u.mutable_would_add());
    AddPlanItems(rs, hold, *u.mutable_would_hold());
    u.set_text(analysis.Sentence(slots, u.condition(), add, hold));
  }
  std::vector<int> ranked;
  for (const auto& [slot, unused] : by_fact) ranked.push_back(slot);
  const auto& facts = rs.expressions_->facts();
  std::sort(ranked.begin(), ranked.end(), [&](int a, int b) {
    const Impact& x = by_fact[a];
    const Impact& y = by_fact[b];
    if (x.items.size() != y.items.size())
      return x.items.size() > y.items.size();
    if (x.rules.size() != y.rules.size())
      return x.rules.size() > y.rules.size();
    return facts[a].display < facts[b].display;
  });
  for (int slot : ranked) {
    v1::MissingFact& f = *out.add_facts();
    f.set_path(facts[slot].display);
    f.set_label(analysis.Label(slot));
    f.set_impact(static_cast<int32_t>(by_fact[slot].items.size()));
    for (const std::string& id : by_fact[slot].rules) f.add_rule_ids(id);
  }
  const MissingDataWords& w = rs.missing_data_;
  if (!w.worth_measuring_code.empty() && !ranked.empty()) {
    std::vector<std::string> top;
    std::set<std::string> cited;
    for (size_t i = 0; i < ranked.size() && i < static_cast<size_t>(w.top);
         ++i) {
      top.push_back(analysis.Label(ranked[i]));
      cited.insert(by_fact[ranked[i]].rules.begin(),
                   by_fact[ranked[i]].rules.end());
    }
    v1::Prompt& p = *out.mutable_worth_measuring();
    p.set_code(w.worth_measuring_code);
    p.set_audience(v1::AUDIENCE_CLINICIAN);
    p.set_text(absl::StrReplaceAll(w.worth_measuring,
                                   {{"{facts}", absl::StrJoin(top, ", ")}}));
    // Its reasons: the rules that the top facts could make fire.
    for (const v1::UnknownRule& u : out.rules()) {
      if (!cited.count(u.rule_id())) continue;
      v1::RuleReason& reason = *p.mutable_rationale()->add_reasons();
      reason.set_rule_id(u.rule_id());
      reason.set_reason(u.text());
      for (const std::string& path : u.facts()) reason.add_fact_paths(path);
    }
  }
  out.set_complete(complete);
}

}  // namespace reconnect::ruleset::ruleset_internal
