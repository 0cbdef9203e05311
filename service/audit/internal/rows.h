#ifndef RECONNECT_SERVICE_AUDIT_INTERNAL_ROWS_H_
#define RECONNECT_SERVICE_AUDIT_INTERNAL_ROWS_H_

// The records as both stores keep them in rows: the columns, in the order
// the readers here read them, and lists kept as JSON arrays. `Row` is a
// row of either store: Int(col) and Bytes(col).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "service/audit/audit_store.h"

namespace reconnect::service::audit_internal {

// A list of strings as a JSON array, and back (a malformed array: none).
std::string JsonArray(const std::vector<std::string>& items);
std::vector<std::string> FromJsonArray(const std::string& text);

// A reload's refusals as a JSON array of {dir, problems}, and back.
std::string RefusalsJson(const std::vector<RuleSetRefusal>& refusals);
std::vector<RuleSetRefusal> FromRefusalsJson(const std::string& text);

// The columns of a decisions row, as ReadDecision reads them.
inline constexpr char kDecisionColumns[] =
    "sequence, decision_id, time_micros, calling_system, caller,"
    " rule_set_digest, assessment, recommendation, prev_hash, hash, context,"
    " patient_hmac, packing";

// As read: `packing` says whether the assessment and recommendation are
// still to be unpacked (packing.h).
template <typename Row>
DecisionRecord ReadDecision(Row& row) {
  DecisionRecord r;
  r.sequence = row.Int(0);
  r.decision_id = row.Bytes(1);
  r.time_micros = row.Int(2);
  r.calling_system = row.Bytes(3);
  r.caller = row.Bytes(4);
  r.rule_set_digest = row.Bytes(5);
  r.assessment = row.Bytes(6);
  r.recommendation = row.Bytes(7);
  r.prev_hash = row.Bytes(8);
  r.hash = row.Bytes(9);
  r.context = row.Bytes(10);
  r.patient_hmac = row.Bytes(11);
  r.packing = static_cast<int>(row.Int(12));
  return r;
}

// The columns of a feedback row, as ReadFeedback reads them.
inline constexpr char kFeedbackColumns[] =
    "sequence, time_micros, caller, service, card_uuid, outcome,"
    " outcome_time, accepted_suggestions, override_reason, decision_id,"
    " card_item, rule_ids, rule_set_digest, prev_hash, hash";

template <typename Row>
FeedbackRecord ReadFeedback(Row& row) {
  FeedbackRecord f;
  f.sequence = row.Int(0);
  f.time_micros = row.Int(1);
  f.caller = row.Bytes(2);
  f.service = row.Bytes(3);
  f.card_uuid = row.Bytes(4);
  f.outcome = row.Bytes(5);
  f.outcome_time = row.Bytes(6);
  f.accepted_suggestions = FromJsonArray(row.Bytes(7));
  f.override_reason = row.Bytes(8);
  f.decision_id = row.Bytes(9);
  f.card_item = row.Bytes(10);
  f.rule_ids = FromJsonArray(row.Bytes(11));
  f.rule_set_digest = row.Bytes(12);
  f.prev_hash = row.Bytes(13);
  f.hash = row.Bytes(14);
  return f;
}

// The rule_set_events columns, in the order ReadRuleSetEvent reads them.
inline constexpr char kRuleSetEventColumns[] =
    "sequence, time_micros, action, who, refused, active_digest,"
    " loaded_digests, refusals";

template <typename Row>
RuleSetEvent ReadRuleSetEvent(Row& row) {
  RuleSetEvent e;
  e.sequence = row.Int(0);
  e.time_micros = row.Int(1);
  e.action = row.Bytes(2);
  e.who = row.Bytes(3);
  e.refused = row.Bytes(4);
  e.active_digest = row.Bytes(5);
  e.loaded_digests = FromJsonArray(row.Bytes(6));
  e.refusals = FromRefusalsJson(row.Bytes(7));
  return e;
}

// The columns of a rule_set_signatures row after its digest, as
// ReadSignature reads them.
inline constexpr char kSignatureColumns[] =
    "role, signer, signed_at, key_id, algorithm, jws";

template <typename Row>
RuleSetSignature ReadSignature(Row& row, const std::string& digest) {
  RuleSetSignature s;
  s.digest = digest;
  s.role = row.Bytes(0);
  s.signer = row.Bytes(1);
  s.signed_at = row.Bytes(2);
  s.key_id = row.Bytes(3);
  s.algorithm = row.Bytes(4);
  s.jws = row.Bytes(5);
  return s;
}

// Now, in microseconds since the Unix epoch.
int64_t NowMicros();

}  // namespace reconnect::service::audit_internal

#endif  // RECONNECT_SERVICE_AUDIT_INTERNAL_ROWS_H_
