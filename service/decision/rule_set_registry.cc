#include "service/decision/rule_set_registry.h"

namespace reconnect::service {

void RuleSetRegistry::Add(
    std::shared_ptr<const ruleset::CompiledRuleSet> rule_set, bool activate) {
  absl::MutexLock lock(&mu_);
  for (auto& v : versions_) {
    if (v->metadata().id == rule_set->metadata().id &&
        v->metadata().version == rule_set->metadata().version) {
      v = rule_set;
      if (activate) active_ = std::move(rule_set);
      return;
    }
  }
  versions_.push_back(rule_set);
  if (activate) active_ = std::move(rule_set);
}

std::shared_ptr<const ruleset::CompiledRuleSet> RuleSetRegistry::Active()
    const {
  absl::MutexLock lock(&mu_);
  return active_;
}

std::shared_ptr<const ruleset::CompiledRuleSet> RuleSetRegistry::Find(
    const std::string& id, const std::string& version) const {
  absl::MutexLock lock(&mu_);
  for (const auto& v : versions_) {
    if (v->metadata().id == id && v->metadata().version == version) return v;
  }
  return nullptr;
}

void RuleSetRegistry::Replace(
    std::vector<std::shared_ptr<const ruleset::CompiledRuleSet>> versions,
    std::shared_ptr<const ruleset::CompiledRuleSet> active) {
  absl::MutexLock lock(&mu_);
  versions_ = std::move(versions);
  active_ = std::move(active);
}

std::vector<std::shared_ptr<const ruleset::CompiledRuleSet>>
RuleSetRegistry::All() const {
  absl::MutexLock lock(&mu_);
  return versions_;
}

}  // namespace reconnect::service
