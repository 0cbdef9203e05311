// The feedback chain: what the writer does for CDS Hooks feedback and MDT
// decisions on items, inside its group commits.

#include <algorithm>
#include <iterator>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "service/audit/chain.h"
#include "service/audit/internal/postgres_store.h"
#include "service/audit/internal/rows.h"
#include "service/common/status_macros.h"

namespace reconnect::service::audit_internal {

namespace {

// Feedback counted per (day, rule set, rule, outcome, reason), with the
// reason's latest display text.
using FeedbackKey =
    std::tuple<int64_t, std::string, std::string, std::string, std::string>;
using FeedbackCounts = std::map<FeedbackKey, std::pair<int64_t, std::string>>;

// Counts `f` as SQLite's CountFeedback does: once per rule it was on and
// once as "*", by the day it was received, its outcome and its coded
// reason ('' when none, or when the reason is not JSON).
void CountFeedbackEntry(const FeedbackRecord& f, FeedbackCounts& counts) {
  std::string reason, display;
  const nlohmann::json j =
      nlohmann::json::parse(f.override_reason, nullptr, false);
  if (j.is_object() && j.contains("reason") && j["reason"].is_object()) {
    const nlohmann::json& coding = j["reason"];
    if (coding.contains("code") && coding["code"].is_string()) {
      reason = coding["code"].get<std::string>();
    }
    if (coding.contains("display") && coding["display"].is_string()) {
      display = coding["display"].get<std::string>();
    }
  }
  std::vector<std::string> rules = f.rule_ids;
  rules.push_back("*");
  for (const std::string& rule : rules) {
    auto& [count, shown] = counts[{DayOf(f.time_micros), f.rule_set_digest,
                                   rule, f.outcome, reason}];
    ++count;
    if (!display.empty()) shown = display;  // the latest sent, as SQLite
  }
}

}  // namespace

absl::Status PostgresAuditStore::WriteAllFeedback(PgConnection& db,
                                                  std::vector<Pending>& batch) {
  bool feedback_locked = false;
  FeedbackCounts counts;
  for (Pending& p : batch) {
    if (!p.is_feedback) continue;
    RETURN_IF_ERROR(WriteFeedback(db, p, feedback_locked));
    if (!p.result.status.ok()) continue;
    for (size_t i = 0; i < p.feedback.size(); ++i) {
      if (p.result.stored[i]) CountFeedbackEntry(p.feedback[i], counts);
    }
  }
  // Each entry stored counts at least once (as "*").
  if (counts.empty()) return absl::OkStatus();
  std::vector<PgConnection::Statement> writes;
  for (auto it = counts.begin(); it != counts.end();) {
    const size_t rows = std::min<size_t>(
        kPgRowsPerInsert, static_cast<size_t>(std::distance(it, counts.end())));
    PgParams params;
    for (size_t i = 0; i < rows; ++i, ++it) {
      const auto& [key, value] = *it;
      params.Int(std::get<0>(key))
          .Text(std::get<1>(key))
          .Text(std::get<2>(key))
          .Text(std::get<3>(key))
          .Text(std::get<4>(key))
          .Text(value.second)
          .Int(value.first);
    }
    writes.push_back(
        {MultiRowInsert("INSERT INTO feedback_daily (day, rule_set_digest,"
                        " rule_id, outcome, reason, display, count)",
                        7, rows,
                        " ON CONFLICT (day, rule_set_digest, rule_id, outcome,"
                        " reason) DO UPDATE SET count = feedback_daily.count +"
                        " excluded.count, display = CASE WHEN excluded.display"
                        " <> '' THEN excluded.display ELSE"
                        " feedback_daily.display END"),
         std::move(params)});
  }
  writes.push_back(
      {"UPDATE feedback_head SET sequence = $1, hash = $2 WHERE id = 1",
       PgParams().Int(feedback_sequence_).Bytes(feedback_hash_)});
  bool ignored = false;
  return RunPipeline(db, writes, false, ignored, nullptr);
}

absl::Status PostgresAuditStore::WriteFeedback(PgConnection& db, Pending& p,
                                               bool& feedback_locked) {
  if (!feedback_locked) {
    ASSIGN_OR_RETURN(PgResult head,
                     db.Query("SELECT sequence, hash FROM feedback_head"
                              " WHERE id = 1 FOR UPDATE"));
    if (head.rows() != 1) {
      return absl::DataLossError("the feedback chain head is missing");
    }
    feedback_sequence_ = head.Int(0, 0);
    feedback_hash_ = head.Bytes(0, 1);
    feedback_locked = true;
  }
  const int64_t saved_sequence = feedback_sequence_;
  const std::string saved_hash = feedback_hash_;
  RETURN_IF_ERROR(db.Exec("SAVEPOINT feedback"));
  // Refuses the request: nothing of it stays.
  auto refuse = [&](int entry, std::string field, std::string why) {
    feedback_sequence_ = saved_sequence;
    feedback_hash_ = saved_hash;
    p.result = {absl::InvalidArgumentError(std::move(why)),
                entry,
                std::move(field),
                {}};
    return db.Exec("ROLLBACK TO SAVEPOINT feedback; RELEASE feedback");
  };
  std::vector<bool> stored;
  for (size_t i = 0; i < p.feedback.size(); ++i) {
    FeedbackRecord& f = p.feedback[i];
    const int entry = static_cast<int>(i);
    if (!f.decision_id.empty()) {
      // On an item of a decision, not on a card.
      ASSIGN_OR_RETURN(PgResult decision,
                       db.Query("SELECT rule_set_digest FROM decisions"
                                " WHERE decision_id = $1",
                                PgParams().Text(f.decision_id)));
      if (decision.rows() == 0) {
        return refuse(entry, "decision",
                      absl::StrCat("no decision '", f.decision_id,
                                   "' is in the audit trail"));
      }
      f.rule_set_digest = decision.Bytes(0, 0);
    } else {
      ASSIGN_OR_RETURN(
          PgResult card,
          db.Query("SELECT c.decision_id, c.service, c.item, c.rule_ids,"
                   " c.suggestions, d.rule_set_digest FROM cards c"
                   " JOIN decisions d ON d.decision_id = c.decision_id"
                   " WHERE c.card_uuid = $1",
                   PgParams().Text(f.card_uuid)));
      if (card.rows() == 0) {
        return refuse(entry, "card",
                      absl::StrCat("no card with uuid '", f.card_uuid,
                                   "' was issued by this service"));
      }
      if (card.Bytes(0, 1) != f.service) {
        return refuse(
            entry, "card",
            absl::StrCat("card '", f.card_uuid, "' was issued by the service '",
                         card.Bytes(0, 1), "', not '", f.service, "'"));
      }
      const std::vector<std::string> suggestions =
          FromJsonArray(card.Bytes(0, 4));
      for (size_t j = 0; j < f.accepted_suggestions.size(); ++j) {
        if (std::find(suggestions.begin(), suggestions.end(),
                      f.accepted_suggestions[j]) == suggestions.end()) {
          return refuse(entry, absl::StrCat("acceptedSuggestions[", j, "].id"),
                        absl::StrCat("'", f.accepted_suggestions[j],
                                     "' is not a suggestion of card '",
                                     f.card_uuid, "'"));
        }
      }
      f.decision_id = card.Bytes(0, 0);
      f.card_item = card.Bytes(0, 2);
      f.rule_ids = FromJsonArray(card.Bytes(0, 3));
      f.rule_set_digest = card.Bytes(0, 5);
    }
    ASSIGN_OR_RETURN(
        PgResult seen,
        db.Query(
            "SELECT 1 FROM feedback WHERE card_uuid = $1"
            " AND outcome = $2 AND outcome_time = $3",
            PgParams().Text(f.card_uuid).Text(f.outcome).Text(f.outcome_time)));
    if (seen.rows() > 0) {
      stored.push_back(false);  // this interaction was stored before
      continue;
    }
    f.sequence = feedback_sequence_ + 1;
    f.prev_hash = feedback_hash_;
    f.hash = FeedbackChainHash(f);
    RETURN_IF_ERROR(
        db.Query(MultiRowInsert(absl::StrCat("INSERT INTO feedback (",
                                             kFeedbackColumns, ")"),
                                15, 1),
                 PgParams()
                     .Int(f.sequence)
                     .Int(f.time_micros)
                     .Text(f.caller)
                     .Text(f.service)
                     .Text(f.card_uuid)
                     .Text(f.outcome)
                     .Text(f.outcome_time)
                     .Text(JsonArray(f.accepted_suggestions))
                     .Text(f.override_reason)
                     .Text(f.decision_id)
                     .Text(f.card_item)
                     .Text(JsonArray(f.rule_ids))
                     .Text(f.rule_set_digest)
                     .Bytes(f.prev_hash)
                     .Bytes(f.hash))
            .status());
    feedback_sequence_ = f.sequence;
    feedback_hash_ = f.hash;
    stored.push_back(true);
  }
  p.result = {absl::OkStatus(), -1, "", std::move(stored)};
  return db.Exec("RELEASE feedback");
}

}  // namespace reconnect::service::audit_internal
