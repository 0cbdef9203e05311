#include "service/audit/rule_outcomes.h"

#include <algorithm>

namespace reconnect::service {

namespace {

void AddRules(const v1::Rationale& rationale, std::vector<std::string>& out) {
  for (const v1::RuleReason& r : rationale.reasons())
    out.push_back(r.rule_id());
}

template <typename T>
void Unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

RuleOutcomes OutcomesOf(const v1::Recommendation& plan) {
  RuleOutcomes out;
  for (const auto& c : plan.components()) {
    for (const auto& t : c.techniques()) AddRules(t.rationale(), out.fired);
  }
  for (const auto& g : plan.skills_gaps()) AddRules(g.rationale(), out.fired);
  for (const auto& p : plan.prompts()) AddRules(p.rationale(), out.fired);
  for (const auto& a : plan.alerts()) AddRules(a.rationale(), out.fired);
  for (const auto& c : plan.considerations()) {
    AddRules(c.rationale(), out.fired);
  }
  for (const v1::HeldItem& h : plan.held()) {
    for (const std::string& rule : h.recommended_by()) {
      out.fired.push_back(rule);
      for (const v1::RuleReason& holder : h.held_by().reasons()) {
        out.held.emplace_back(rule, holder.rule_id());
      }
    }
  }
  Unique(out.fired);
  Unique(out.held);
  return out;
}

}  // namespace reconnect::service
