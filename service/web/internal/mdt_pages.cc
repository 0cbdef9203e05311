#include "service/web/internal/mdt_pages.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "reconnect/v1/assessment.pb.h"
#include "service/common/log.h"
#include "service/web/care_plan_page.h"
#include "service/web/responses.h"

namespace reconnect::service::web {

using http::HttpResponse;
using nlohmann::json;

HttpResponse MdtPages::DecisionPage(const std::string& id,
                                    const Principal& person) {
  absl::StatusOr<AuditReader*> reader = Reader();
  if (!reader.ok()) {
    return Message(503, "Audit trail unavailable",
                   "The audit trail cannot be read just now.");
  }
  absl::StatusOr<DecisionRecord> record = (*reader)->GetDecision(id);
  if (absl::IsNotFound(record.status())) {
    return Message(404, "No such decision",
                   absl::StrCat("The audit trail holds no decision ", id, "."));
  }
  if (!record.ok()) {
    return Message(503, "Audit trail unavailable",
                   "The audit trail cannot be read just now.");
  }
  CarePlanView view;
  v1::Assessment assessment;
  if (!view.plan.ParseFromString(record->recommendation) ||
      !assessment.ParseFromString(record->assessment)) {
    return Message(500, "Unreadable decision",
                   absl::StrCat("Decision ", id,
                                " cannot be read back from the audit trail; "
                                "run `reconnect audit verify`."));
  }
  view.record = *std::move(record);
  view.can_record = person.Has(Role::kClinician) || person.Has(Role::kMdt);
  auto rule_set = RuleSet(view.record.rule_set_digest);
  if (!rule_set.ok()) {
    view.explain_problem = std::string(rule_set.status().message());
  } else {
    const ruleset::CompiledRuleSet& rs = **rule_set;
    view.rule_set_id = rs.metadata().id;
    view.rule_set_version = rs.metadata().version;
    view.approvers = rs.metadata().approvers;
    view.review_by = rs.metadata().review_by;
    view.override_reasons = OverrideReasons(rs);
    v1::Recommendation again;
    ruleset::CompiledRuleSet::Explain explain;
    explain.why_not = &view.why_not;
    explain.missing_data = &view.missing_data;
    rs.Evaluate(assessment, again, nullptr, &explain);
    view.explained =
        google::protobuf::util::MessageDifferencer::Equals(again, view.plan);
    if (!view.explained) {
      view.explain_problem =
          "evaluating the recorded assessment again did not give the "
          "recorded plan (see `reconnect replay`)";
    }
  }
  FeedbackQuery feedback;
  feedback.decision_id = id;
  feedback.limit = 10000;
  auto recorded = (*reader)->ListFeedback(feedback);
  if (!recorded.ok()) {
    return Message(503, "Audit trail unavailable",
                   "The audit trail cannot be read just now.");
  }
  view.feedback = *std::move(recorded);
  return HtmlAnswer(200, CarePlanPage(view));
}

HttpResponse MdtPages::ListPage(DecisionQuery query, DecisionListView view,
                                const std::string& more_url) {
  absl::StatusOr<AuditReader*> reader = Reader();
  absl::StatusOr<std::vector<DecisionRecord>> decisions =
      reader.ok() ? (*reader)->ListDecisions(query) : reader.status();
  auto rule_sets = reader.ok() ? (*reader)->ListRuleSets() : reader.status();
  if (!decisions.ok() || !rule_sets.ok()) {
    return Message(503, "Audit trail unavailable",
                   "The audit trail cannot be read just now.");
  }
  for (const StoredRuleSet& r : *rule_sets) {
    view.rule_sets[r.digest] = absl::StrCat(r.id, " ", r.version);
  }
  view.decisions = *std::move(decisions);
  if (static_cast<int>(view.decisions.size()) == query.limit) {
    view.older_url =
        absl::StrCat(more_url, "before=", view.decisions.back().sequence);
  }
  return HtmlAnswer(200, DecisionListPage(view));
}

void MdtPages::Record(const std::string& id, const MdtEntry& entry,
                      const Principal& person,
                      std::shared_ptr<http::Respond> respond) {
  auto answer = [&](HttpResponse r) { std::move (*respond)(std::move(r)); };
  absl::StatusOr<AuditReader*> reader = Reader();
  absl::StatusOr<DecisionRecord> record =
      reader.ok() ? (*reader)->GetDecision(id) : reader.status();
  if (absl::IsNotFound(record.status())) {
    return answer(JsonError(404, absl::StrCat("no decision ", id)));
  }
  if (!record.ok()) {
    return answer(JsonError(503, "the audit trail cannot be read just now"));
  }
  v1::Recommendation plan;
  if (!plan.ParseFromString(record->recommendation)) {
    return answer(JsonError(500, "the decision cannot be read back"));
  }
  auto rule_set = RuleSet(record->rule_set_digest);
  const json reasons =
      rule_set.ok() ? OverrideReasons(**rule_set) : json::array();
  std::string field;
  absl::StatusOr<FeedbackRecord> feedback = MdtFeedback(
      entry, id, plan, reasons, person.identity, absl::Now(), field);
  if (!feedback.ok()) {
    return answer(JsonError(400, feedback.status().message(), field));
  }
  const std::string item = feedback->card_item;
  const std::string outcome = feedback->outcome;
  std::vector<FeedbackRecord> entries;
  entries.push_back(*std::move(feedback));
  audit_->AppendFeedback(
      std::move(entries), [respond, item, outcome](const FeedbackResult& r) {
        if (r.status.ok()) {
          Log(LogLevel::kInfo, "mdt_decision_recorded", {{"outcome", outcome}});
          std::move (*respond)(
              JsonAnswer(201, {{"recorded", true}, {"item", item}}));
        } else if (absl::IsInvalidArgument(r.status)) {
          std::move (*respond)(JsonError(400, r.status.message(), r.field));
        } else {
          std::move (*respond)(
              JsonError(503, "the audit trail cannot be written just now"));
        }
      });
}

}  // namespace reconnect::service::web
