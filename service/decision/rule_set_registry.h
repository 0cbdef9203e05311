#ifndef RECONNECT_SERVICE_DECISION_RULE_SET_REGISTRY_H_
#define RECONNECT_SERVICE_DECISION_RULE_SET_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/ruleset/rule_set.h"

namespace reconnect::service {

// The loaded rule-set versions and the active one. Callers take immutable
// snapshots (shared pointers): replacing the active version never changes a
// rule set under a running evaluation. Thread-safe.
class RuleSetRegistry {
 public:
  // Adds a version (replacing one with the same id and version) and, when
  // `activate`, makes it the active one.
  void Add(std::shared_ptr<const ruleset::CompiledRuleSet> rule_set,
           bool activate);

  // The active version; null when none is loaded.
  std::shared_ptr<const ruleset::CompiledRuleSet> Active() const;

  // The version pinned by id and version; null when not loaded.
  std::shared_ptr<const ruleset::CompiledRuleSet> Find(
      const std::string& id, const std::string& version) const;

  // Replaces every version and the active one in one step: a call sees
  // either the old set or the new, never a mix.
  void Replace(
      std::vector<std::shared_ptr<const ruleset::CompiledRuleSet>> versions,
      std::shared_ptr<const ruleset::CompiledRuleSet> active);
  std::vector<std::shared_ptr<const ruleset::CompiledRuleSet>> All() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<const ruleset::CompiledRuleSet>> versions_
      ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const ruleset::CompiledRuleSet> active_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_DECISION_RULE_SET_REGISTRY_H_
