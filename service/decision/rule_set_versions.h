#ifndef RECONNECT_SERVICE_DECISION_RULE_SET_VERSIONS_H_
#define RECONNECT_SERVICE_DECISION_RULE_SET_VERSIONS_H_

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/ruleset/rule_set.h"
#include "service/audit/audit_store.h"
#include "service/common/rule_set_signature.h"
#include "service/decision/rule_set_registry.h"

namespace reconnect::service {

// The rule-set versions under one directory, loaded into a registry and
// reloaded on demand. The directory is either one rule set (it holds
// ruleset.json) or a directory of versions (each subdirectory that holds
// ruleset.json). A version is served only once it loads, lints, passes
// its own test cases and, when one is set, the approval check (its
// sign-off). The active version is the highest semantic version
// whose status is "active", or else the highest version.
class RuleSetVersions {
 public:
  // `audit` (may be null) records every version served, by digest.
  RuleSetVersions(std::filesystem::path root, RuleSetRegistry& registry,
                  AuditStore* audit)
      : root_(std::move(root)), registry_(registry), audit_(audit) {}

  // Loads every version and swaps them into the registry at once. A version
  // that fails is refused (logged, and kept in refusals()); the version
  // previously loaded from its directory, if any, keeps serving. False when
  // nothing at all could be served (the registry is then left as it was).
  // `who` asked for it: a person's identity, or the cause ("start-up",
  // "SIGHUP", "files changed"); the audit store records the reload, what it
  // served and what it refused.
  bool Reload(const std::string& who)
      ABSL_LOCKS_EXCLUDED(reload_mu_, refusals_mu_);

  // Makes the loaded version `id` `version` the active one until the next
  // restart, or until a reload no longer holds it. NOT_FOUND when it is not
  // loaded. Serialised with Reload; recorded as Reload is.
  absl::Status Activate(const std::string& id, const std::string& version,
                        const std::string& who)
      ABSL_LOCKS_EXCLUDED(reload_mu_, refusals_mu_);

  // Whether the files under the root changed since the last Reload (by
  // path, size and modification time).
  bool Changed() const ABSL_LOCKS_EXCLUDED(reload_mu_);

  // What reloads have done since start-up, for metrics. A reload "went
  // through" when it served something, though it may have refused some
  // versions; it was "refused" when nothing could be served.
  struct Counts {
    int64_t reloads = 0;
    int64_t reloads_refused = 0;
    int64_t versions_refused = 0;  // directories refused, over all reloads
  };
  Counts counts() const ABSL_LOCKS_EXCLUDED(refusals_mu_);

  // A check each version must pass before it serves, after its own test
  // cases: its sign-off. Its problems refuse the version as a failing test
  // case does; its signatures are kept in the audit store with the version.
  struct Approval {
    std::vector<std::string> problems;
    std::vector<RuleSetSignature> signatures;
  };
  using ApprovalCheck = std::function<Approval(
      const std::filesystem::path& dir, const ruleset::CompiledRuleSet& rs)>;
  // Sets the check for every Reload from now on.
  void set_approval_check(ApprovalCheck check) ABSL_LOCKS_EXCLUDED(reload_mu_);

  using Refusal = RuleSetRefusal;
  // The refusals of the last reload. Thread-safe.
  std::vector<Refusal> refusals() const ABSL_LOCKS_EXCLUDED(refusals_mu_);

 private:
  std::string Fingerprint() const;

  bool ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_)
      ABSL_LOCKS_EXCLUDED(refusals_mu_);
  // Records what was just done in the audit store, when there is one.
  void Record(std::string action, std::string who, std::string refused)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_)
          ABSL_LOCKS_EXCLUDED(refusals_mu_);

  const std::filesystem::path root_;
  RuleSetRegistry& registry_;
  AuditStore* const audit_;

  mutable absl::Mutex reload_mu_;  // one Reload or Activate at a time
  // An operator's choice of active version (id, version); empty when the
  // rule chooses.
  std::pair<std::string, std::string> activated_ ABSL_GUARDED_BY(reload_mu_);
  // What each version directory last loaded successfully.
  std::map<std::string, std::shared_ptr<const ruleset::CompiledRuleSet>> by_dir_
      ABSL_GUARDED_BY(reload_mu_);
  ApprovalCheck approval_check_ ABSL_GUARDED_BY(reload_mu_);
  // The files as the last Reload found them.
  std::string fingerprint_ ABSL_GUARDED_BY(reload_mu_);

  mutable absl::Mutex refusals_mu_;
  std::vector<Refusal> refusals_ ABSL_GUARDED_BY(refusals_mu_);
  Counts counts_ ABSL_GUARDED_BY(refusals_mu_);
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_DECISION_RULE_SET_VERSIONS_H_
