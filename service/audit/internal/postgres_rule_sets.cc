// The rule-set versions a PostgreSQL store keeps: their content, their
// verified sign-offs, and the reloads and activations. Written by reloads
// and admin actions on a connection of their own, never by request threads.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/audit/internal/postgres_store.h"
#include "service/audit/internal/rows.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

absl::Status PostgresAuditStore::AdminWrite(const std::string& what,
                                            const std::string& sql,
                                            const PgParams& params) {
  absl::MutexLock lock(&admin_mu_);
  absl::Status status;
  // Once more on a new connection when the old one went down.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (admin_db_ == nullptr || !admin_db_->up()) {
      admin_db_.reset();
      absl::StatusOr<std::unique_ptr<PgConnection>> db =
          PgConnection::Open(options_.path);
      if (!db.ok()) {
        status = db.status();
        break;
      }
      admin_db_ = std::move(*db);
    }
    status = admin_db_->Query(sql, params).status();
    if (status.ok() || admin_db_->up()) break;
  }
  if (status.ok()) return status;
  return absl::UnavailableError(
      absl::StrCat("audit store cannot ", what, ": ", status.message()));
}

absl::Status PostgresAuditStore::RecordRuleSet(
    const std::string& digest, const std::string& id,
    const std::string& version, const std::string& canonical_content) {
  RETURN_IF_ERROR(AdminWrite(absl::StrCat("record rule set ", digest),
                             "INSERT INTO rule_sets (digest, id, version,"
                             " content, first_recorded_micros) VALUES ($1,"
                             " $2, $3, $4, $5) ON CONFLICT (digest) DO NOTHING",
                             PgParams()
                                 .Text(digest)
                                 .Text(id)
                                 .Text(version)
                                 .Text(canonical_content)
                                 .Int(NowMicros())));
  dictionaries_.Add(digest, canonical_content);
  return absl::OkStatus();
}

absl::Status PostgresAuditStore::RecordRuleSetSignatures(
    const std::string& digest,
    const std::vector<RuleSetSignature>& signatures) {
  if (signatures.empty()) return absl::OkStatus();
  PgParams params;
  const int64_t now = NowMicros();
  for (const RuleSetSignature& s : signatures) {
    params.Text(digest)
        .Text(s.role)
        .Text(s.signer)
        .Text(s.signed_at)
        .Text(s.key_id)
        .Text(s.algorithm)
        .Text(s.jws)
        .Int(now);
  }
  return AdminWrite(
      absl::StrCat("keep the signatures of rule set ", digest),
      MultiRowInsert("INSERT INTO rule_set_signatures (digest, role, signer,"
                     " signed_at, key_id, algorithm, jws,"
                     " first_recorded_micros)",
                     8, signatures.size(), " ON CONFLICT DO NOTHING"),
      params);
}

absl::Status PostgresAuditStore::RecordRuleSetEvent(RuleSetEvent event) {
  if (event.time_micros == 0) event.time_micros = NowMicros();
  return AdminWrite(absl::StrCat("record the rule-set ", event.action),
                    "INSERT INTO rule_set_events (time_micros, action, who,"
                    " refused, active_digest, loaded_digests, refusals)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    PgParams()
                        .Int(event.time_micros)
                        .Text(event.action)
                        .Text(event.who)
                        .Text(event.refused)
                        .Text(event.active_digest)
                        .Text(JsonArray(event.loaded_digests))
                        .Text(RefusalsJson(event.refusals)));
}

}  // namespace reconnect::service::audit_internal
