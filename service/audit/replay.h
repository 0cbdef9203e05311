#ifndef RECONNECT_SERVICE_AUDIT_REPLAY_H_
#define RECONNECT_SERVICE_AUDIT_REPLAY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/ruleset/rule_set.h"
#include "reconnect/v1/recommendation.pb.h"
#include "service/audit/audit_store.h"

namespace reconnect::service {

// What re-evaluating one recorded decision gave.
struct ReplayResult {
  std::string decision_id;
  std::string rule_set_digest;
  bool identical = false;
  // When not identical: what differs, field by field, recorded first.
  std::string differences;
  v1::Recommendation recorded;
  v1::Recommendation replayed;
};

// Re-evaluates recorded decisions with the exact rule sets that made them
// (rebuilt from the store by digest, and cached).
class Replayer {
 public:
  explicit Replayer(AuditReader& store) : store_(store) {}

  // NOT_FOUND for an unknown decision; DATA_LOSS when the record or its rule
  // set cannot be read back.
  absl::StatusOr<ReplayResult> Replay(const std::string& decision_id);

  // The rule set with `digest`, rebuilt from the store (once; cached).
  // NOT_FOUND when the store holds none; DATA_LOSS when it cannot be
  // rebuilt.
  absl::StatusOr<std::shared_ptr<const ruleset::CompiledRuleSet>> RuleSet(
      const std::string& digest);

 private:
  AuditReader& store_;
  std::map<std::string, std::shared_ptr<const ruleset::CompiledRuleSet>>
      rule_sets_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_AUDIT_REPLAY_H_
