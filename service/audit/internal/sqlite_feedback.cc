// The card index and the feedback chain: what the writer thread does for
// CDS Hooks cards and the feedback on them, inside its transactions.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/audit/chain.h"
#include "service/audit/internal/schema.h"
#include "service/audit/internal/sqlite.h"
#include "service/audit/internal/sqlite_store.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

absl::Status SqliteAuditStore::WriteCards(const DecisionRecord& r) {
  if (r.cards.empty()) return absl::OkStatus();
  Statement card(db_,
                 "INSERT INTO cards (card_uuid, decision_id, service, item,"
                 " rule_ids, suggestions) VALUES (?, ?, ?, ?, ?, ?)");
  for (const IssuedCard& c : r.cards) {
    card.Reset();
    card.BindText(1, c.uuid)
        .BindText(2, r.decision_id)
        .BindText(3, c.service)
        .BindText(4, c.item)
        .BindText(5, JsonArray(c.rule_ids))
        .BindText(6, JsonArray(c.suggestions));
    if (card.Step() != SQLITE_DONE) {
      return absl::UnavailableError(card.Error());
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteAuditStore::AppendFeedbackRow(FeedbackRecord& f,
                                                 Statement& seen,
                                                 Statement& insert,
                                                 std::vector<bool>& stored) {
  seen.Reset();
  seen.BindText(1, f.card_uuid)
      .BindText(2, f.outcome)
      .BindText(3, f.outcome_time);
  const int seen_step = seen.Step();
  if (seen_step == SQLITE_ROW) {
    stored.push_back(false);  // this interaction was stored before
    return absl::OkStatus();
  }
  if (seen_step != SQLITE_DONE) return absl::UnavailableError(seen.Error());
  f.sequence = feedback_sequence_ + 1;
  f.prev_hash = feedback_hash_;
  f.hash = FeedbackChainHash(f);
  insert.Reset();
  insert.Bind(1, f.sequence)
      .Bind(2, f.time_micros)
      .BindText(3, f.caller)
      .BindText(4, f.service)
      .BindText(5, f.card_uuid)
      .BindText(6, f.outcome)
      .BindText(7, f.outcome_time)
      .BindText(8, JsonArray(f.accepted_suggestions))
      .BindText(9, f.override_reason)
      .BindText(10, f.decision_id)
      .BindText(11, f.card_item)
      .BindText(12, JsonArray(f.rule_ids))
      .BindText(13, f.rule_set_digest)
      .BindBlob(14, f.prev_hash)
      .BindBlob(15, f.hash);
  if (insert.Step() != SQLITE_DONE) {
    return absl::UnavailableError(insert.Error());
  }
  RETURN_IF_ERROR(CountFeedback(db_, f.sequence, f.sequence));
  feedback_sequence_ = f.sequence;
  feedback_hash_ = f.hash;
  stored.push_back(true);
  return absl::OkStatus();
}

absl::Status SqliteAuditStore::WriteFeedback(Pending& p) {
  const int64_t saved_sequence = feedback_sequence_;
  const std::string saved_hash = feedback_hash_;
  RETURN_IF_ERROR(Exec(db_, "SAVEPOINT feedback"));
  // Refuses the request: nothing of it stays.
  auto refuse = [&](int entry, std::string field,
                    std::string why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_) {
    feedback_sequence_ = saved_sequence;
    feedback_hash_ = saved_hash;
    p.result = {absl::InvalidArgumentError(std::move(why)),
                entry,
                std::move(field),
                {}};
    return Exec(db_, "ROLLBACK TO feedback; RELEASE feedback");
  };
  Statement card(db_,
                 "SELECT c.decision_id, c.service, c.item, c.rule_ids,"
                 " c.suggestions, d.rule_set_digest FROM cards c"
                 " JOIN decisions d ON d.decision_id = c.decision_id"
                 " WHERE c.card_uuid = ?");
  Statement decision(
      db_, "SELECT rule_set_digest FROM decisions WHERE decision_id = ?");
  Statement seen(db_,
                 "SELECT 1 FROM feedback WHERE card_uuid = ? AND outcome = ?"
                 " AND outcome_time = ?");
  Statement insert(
      db_,
      "INSERT INTO feedback (sequence, time_micros, caller, service,"
      " card_uuid, outcome, outcome_time, accepted_suggestions,"
      " override_reason, decision_id, card_item, rule_ids, rule_set_digest,"
      " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  std::vector<bool> stored;
  for (size_t i = 0; i < p.feedback.size(); ++i) {
    FeedbackRecord& f = p.feedback[i];
    const int entry = static_cast<int>(i);
    if (!f.decision_id.empty()) {
      // On an item of a decision, not on a card.
      decision.Reset();
      decision.BindText(1, f.decision_id);
      const int found = decision.Step();
      if (found == SQLITE_DONE) {
        return refuse(entry, "decision",
                      absl::StrCat("no decision '", f.decision_id,
                                   "' is in the audit trail"));
      }
      if (found != SQLITE_ROW) return absl::UnavailableError(decision.Error());
      f.rule_set_digest = decision.Bytes(0);
      RETURN_IF_ERROR(AppendFeedbackRow(f, seen, insert, stored));
      continue;
    }
    card.Reset();
    card.BindText(1, f.card_uuid);
    const int step = card.Step();
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
      return absl::UnavailableError(card.Error());
    }
    if (step == SQLITE_DONE) {
      return refuse(entry, "card",
                    absl::StrCat("no card with uuid '", f.card_uuid,
                                 "' was issued by this service"));
    }
    if (card.Bytes(1) != f.service) {
      return refuse(
          entry, "card",
          absl::StrCat("card '", f.card_uuid, "' was issued by the service '",
                       card.Bytes(1), "', not '", f.service, "'"));
    }
    const std::vector<std::string> suggestions = FromJsonArray(card.Bytes(4));
    for (size_t j = 0; j < f.accepted_suggestions.size(); ++j) {
      if (std::find(suggestions.begin(), suggestions.end(),
                    f.accepted_suggestions[j]) == suggestions.end()) {
        return refuse(
            entry, absl::StrCat("acceptedSuggestions[", j, "].id"),
            absl::StrCat("'", f.accepted_suggestions[j],
                         "' is not a suggestion of card '", f.card_uuid, "'"));
      }
    }
    f.decision_id = card.Bytes(0);
    f.card_item = card.Bytes(2);
    f.rule_ids = FromJsonArray(card.Bytes(3));
    f.rule_set_digest = card.Bytes(5);
    RETURN_IF_ERROR(AppendFeedbackRow(f, seen, insert, stored));
  }
  p.result = {absl::OkStatus(), -1, "", std::move(stored)};
  return Exec(db_, "RELEASE feedback");
}

}  // namespace reconnect::service::audit_internal
