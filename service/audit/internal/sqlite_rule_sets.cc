// The rule-set versions a store keeps: their content by digest, their
// verified sign-offs, and the reloads and activations. Written by reloads
// and admin actions, never by request threads.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/audit/internal/sqlite.h"
#include "service/audit/internal/sqlite_store.h"

namespace reconnect::service::audit_internal {

absl::Status SqliteAuditStore::RecordRuleSet(
    const std::string& digest, const std::string& id,
    const std::string& version, const std::string& canonical_content) {
  absl::MutexLock lock(&db_mu_);
  Statement insert(db_,
                   "INSERT OR IGNORE INTO rule_sets (digest, id, version,"
                   " content, first_recorded_micros) VALUES (?, ?, ?, ?, ?)");
  insert.BindText(1, digest)
      .BindText(2, id)
      .BindText(3, version)
      .BindText(4, canonical_content)
      .Bind(5, NowMicros());
  if (insert.Step() != SQLITE_DONE) {
    return absl::UnavailableError(absl::StrCat(
        "audit store cannot record rule set ", digest, ": ", insert.Error()));
  }
  dictionaries_.Add(digest, canonical_content);
  return absl::OkStatus();
}

absl::Status SqliteAuditStore::RecordRuleSetSignatures(
    const std::string& digest,
    const std::vector<RuleSetSignature>& signatures) {
  absl::MutexLock lock(&db_mu_);
  Statement insert(db_,
                   "INSERT OR IGNORE INTO rule_set_signatures (digest, role,"
                   " signer, signed_at, key_id, algorithm, jws,"
                   " first_recorded_micros) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  for (const RuleSetSignature& s : signatures) {
    insert.Reset();
    insert.BindText(1, digest)
        .BindText(2, s.role)
        .BindText(3, s.signer)
        .BindText(4, s.signed_at)
        .BindText(5, s.key_id)
        .BindText(6, s.algorithm)
        .BindText(7, s.jws)
        .Bind(8, NowMicros());
    if (insert.Step() != SQLITE_DONE) {
      return absl::UnavailableError(
          absl::StrCat("audit store cannot keep the signatures of rule set ",
                       digest, ": ", insert.Error()));
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteAuditStore::RecordRuleSetEvent(RuleSetEvent event) {
  if (event.time_micros == 0) event.time_micros = NowMicros();
  absl::MutexLock lock(&db_mu_);
  Statement insert(db_,
                   "INSERT INTO rule_set_events (time_micros, action, who,"
                   " refused, active_digest, loaded_digests, refusals)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)");
  BindRuleSetEvent(insert, event);
  if (insert.Step() != SQLITE_DONE) {
    return absl::UnavailableError(
        absl::StrCat("audit store cannot record the rule-set ", event.action,
                     ": ", insert.Error()));
  }
  return absl::OkStatus();
}

}  // namespace reconnect::service::audit_internal
