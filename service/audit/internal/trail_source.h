#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_TRAIL_SOURCE_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_TRAIL_SOURCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "service/audit/audit_store.h"

namespace reconnect::service::audit_internal {

// What `audit verify` reads from a store, all of it from one snapshot (a
// read transaction), so that a trail being written is checked as of one
// commit. Each store provides one; verify.cc checks what they read.
class TrailSource {
 public:
  virtual ~TrailSource() = default;

  // Calls `each` with every stored rule set (digest, id, version, canonical
  // content), in the order they were first recorded.
  using RuleSetFn = std::function<void(
      const std::string& digest, const std::string& id,
      const std::string& version, const std::string& content)>;
  virtual absl::Status ForEachRuleSet(const RuleSetFn& each) = 0;
  // The head the last commit recorded for the decisions' chain, or for the
  // feedback chain: (sequence, hash); nullopt when the row is missing.
  virtual absl::StatusOr<std::optional<std::pair<int64_t, std::string>>> Head(
      bool feedback) = 0;
  // Calls `each` with every decision in sequence order, until it returns
  // false.
  virtual absl::Status ForEachDecision(
      const std::function<bool(const DecisionRecord&)>& each) = 0;
  // Whether the store keeps feedback (SQLite schema 4 on).
  virtual bool has_feedback() const = 0;
  // Calls `each` with every feedback record in sequence order, and whether
  // the store holds its decision, until it returns false.
  virtual absl::Status ForEachFeedback(
      const std::function<bool(const FeedbackRecord&, bool decision_held)>&
          each) = 0;
};

// The SQLite store file at `path`, opened read-only; NOT_FOUND when it
// cannot be opened, FAILED_PRECONDITION when it is no readable store.
absl::StatusOr<std::unique_ptr<TrailSource>> OpenSqliteTrail(
    const std::string& path);

// The PostgreSQL store at `uri`, read in one read-only transaction;
// UNAVAILABLE when it cannot be reached, FAILED_PRECONDITION when it holds
// no readable store.
absl::StatusOr<std::unique_ptr<TrailSource>> OpenPostgresTrail(
    const std::string& uri);

// A reader of the PostgreSQL store at `uri`; as OpenPostgresTrail fails.
absl::StatusOr<std::unique_ptr<AuditReader>> OpenPostgresReader(
    const std::string& uri);

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_TRAIL_SOURCE_H_
