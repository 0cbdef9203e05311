#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_SCHEMA_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_SCHEMA_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/audit/rule_outcomes.h"

namespace reconnect::service::audit_internal {

// The schema this binary writes. Older files are migrated on open; newer
// ones are refused.
// 1: the first schema. 2: an index of decisions by caller, for governance
// queries by caller identity. 3: a decision's context (the interface and the
// request it came through, e.g. a CDS Hooks hookInstance). 4: the cards
// decisions were answered with, and the feedback on them in a chain of its
// own. 5: each decision's patient HMAC, indexed. 6: daily counts of
// decisions and of rule fires and holds. 7: daily counts of feedback per
// rule, outcome and reason; feedback indexed by time; rule-set reloads and
// activations. 8: the verified sign-offs of rule-set versions. 9: each
// decision's assessment and recommendation packed with its rule set as
// dictionary (packing.h).
inline constexpr int kSchemaVersion = 9;
// Readers (verify, replay, governance) read every version from this one on.
inline constexpr int kOldestReadableVersion = 1;

// Decisions and rule outcomes counted per day, then added to the daily
// tables in one go (per group commit, or once when migrating).
class DailyCounts {
 public:
  void Add(int64_t time_micros, const std::string& digest,
           const std::string& calling_system, const RuleOutcomes& outcomes);
  // Adds what was counted to the tables of `db` (inside the caller's
  // transaction), and starts counting afresh.
  absl::Status Write(sqlite3* db);
  bool empty() const { return decisions_.empty(); }

  // What was counted: (day, rule set, calling system) and (day, rule set,
  // rule, holder), each with its count, in key order.
  using DecisionKey = std::tuple<int64_t, std::string, std::string>;
  using RuleKey = std::tuple<int64_t, std::string, std::string, std::string>;
  const std::map<DecisionKey, int64_t>& decisions() const { return decisions_; }
  const std::map<RuleKey, int64_t>& rules() const { return rules_; }

 private:
  std::map<DecisionKey, int64_t> decisions_;
  std::map<RuleKey, int64_t> rules_;
};

// Adds the feedback rows with sequences `first` to `last` to the daily
// feedback counts (inside the caller's transaction): once per rule the
// feedback was on, by the day it was received, its outcome and its coded
// reason ('' when none).
absl::Status CountFeedback(sqlite3* db, int64_t first, int64_t last);

// Brings the store at `path`, open as `db` for writing, to kSchemaVersion,
// one version per transaction. FAILED_PRECONDITION for a newer file.
absl::Status Migrate(sqlite3* db, const std::string& path);

// The schema version of the store at `path`, open as `db`, when this
// binary reads it; FAILED_PRECONDITION otherwise.
absl::StatusOr<int> CheckReadable(sqlite3* db, const std::string& path);

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_SCHEMA_H_
