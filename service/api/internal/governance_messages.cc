#include "service/api/internal/governance_messages.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"
#include "service/api/status_mapping.h"
#include "service/common/today.h"

namespace reconnect::service::governance_internal {

absl::Status DeadlineExceeded() {
  return absl::DeadlineExceededError(
      "the call's deadline passed before it was answered");
}

grpc::Status Invalid(std::vector<FieldViolation> violations) {
  return ToGrpcStatus(
      absl::InvalidArgumentError(absl::StrCat(
          "the request has ", violations.size(), " invalid field(s)")),
      violations);
}

// The page size asked for, checked.
int PageSize(int asked, std::vector<FieldViolation>& violations) {
  if (asked < 0 || asked > kMaxPageSize) {
    violations.push_back(
        {"page_size", absl::StrCat("must be between 0 and ", kMaxPageSize,
                                   " (0 means ", kDefaultPageSize, ")")});
    return kDefaultPageSize;
  }
  return asked == 0 ? kDefaultPageSize : asked;
}

// Page tokens are the position after which the next page starts, as a
// decimal number; anything else is refused.
int64_t PageToken(const std::string& token,
                  std::vector<FieldViolation>& violations) {
  if (token.empty()) return 0;
  int64_t position = 0;
  if (!absl::SimpleAtoi(token, &position) || position < 0) {
    violations.push_back(
        {"page_token", "is not a token from a previous response"});
    return 0;
  }
  return position;
}

// A timestamp as microseconds, checked to lie in 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
int64_t Micros(const google::protobuf::Timestamp& t, const std::string& field,
               std::vector<FieldViolation>& violations) {
  if (t.seconds() < -62135596800 || t.seconds() > 253402300799 ||
      t.nanos() < 0 || t.nanos() > 999999999) {
    violations.push_back({field, "is not a valid timestamp"});
    return 0;
  }
  return google::protobuf::util::TimeUtil::TimestampToMicroseconds(t);
}

void FillSummary(const ruleset::CompiledRuleSet& rs, bool active,
                 v1::RuleSetSummary& out) {
  const auto& m = rs.metadata();
  out.set_id(m.id);
  out.set_version(m.version);
  out.set_status(m.status);
  out.set_digest(rs.digest());
  out.set_title(m.title);
  out.set_effective_date(m.effective_date);
  out.set_review_by(m.review_by);
  const std::string today = TodayOrUtc(absl::Now());
  out.set_past_review(!m.review_by.empty() && m.review_by < today);
  for (size_t i = 0; i < rs.rule_count(); ++i) {
    v1::RuleReviewDate* r = out.add_rule_reviews();
    r->set_rule_id(rs.rule_id(i));
    r->set_review_by(rs.rule_review_by(i));
    r->set_past_review(!r->review_by().empty() && r->review_by() < today);
  }
  for (const auto& a : m.authors) out.add_authors(a);
  for (const auto& a : m.approvers) out.add_approvers(a);
  out.set_loaded(true);
  out.set_active(active);
  out.set_rule_count(static_cast<int32_t>(rs.rule_count()));
}

absl::Status FillDecision(const DecisionRecord& r, bool with_content,
                          v1::Decision& out) {
  out.set_decision_id(r.decision_id);
  out.set_sequence(r.sequence);
  *out.mutable_time() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(r.time_micros);
  out.set_calling_system(r.calling_system);
  out.set_caller(r.caller);
  out.set_rule_set_digest(r.rule_set_digest);
  out.set_hash(absl::BytesToHexString(r.hash));
  if (with_content &&
      (!out.mutable_assessment()->ParseFromString(r.assessment) ||
       !out.mutable_recommendation()->ParseFromString(r.recommendation))) {
    return absl::DataLossError(absl::StrCat(
        "decision ", r.decision_id, ": the recorded messages do not parse"));
  }
  return absl::OkStatus();
}

void FillFeedback(const FeedbackRecord& r, v1::Feedback& out) {
  out.set_sequence(r.sequence);
  *out.mutable_received() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(r.time_micros);
  out.set_caller(r.caller);
  out.set_service(r.service);
  out.set_card_uuid(r.card_uuid);
  out.set_card_item(r.card_item);
  out.set_decision_id(r.decision_id);
  out.set_rule_set_digest(r.rule_set_digest);
  for (const auto& id : r.rule_ids) out.add_rule_ids(id);
  out.set_outcome(r.outcome);
  out.set_outcome_time(r.outcome_time);
  for (const auto& id : r.accepted_suggestions) {
    out.add_accepted_suggestions(id);
  }
  // Stored as the EHR sent it (checked on the way in).
  const nlohmann::json reason =
      nlohmann::json::parse(r.override_reason, nullptr, false);
  if (reason.is_object()) {
    v1::OverrideReason& o = *out.mutable_override_reason();
    if (auto coding = reason.find("reason");
        coding != reason.end() && coding->is_object()) {
      o.set_system(coding->value("system", ""));
      o.set_code(coding->value("code", ""));
      o.set_display(coding->value("display", ""));
    }
    o.set_user_comment(reason.value("userComment", ""));
  }
  out.set_hash(absl::BytesToHexString(r.hash));
}

}  // namespace reconnect::service::governance_internal
