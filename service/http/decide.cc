#include "service/http/decide.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/log.h"
#include "service/decision/stored_record.h"

namespace reconnect::service::http {

using nlohmann::json;

HttpResponse Throttled() {
  HttpResponse r = ErrorResponse(
      429, "throttled",
      "the service is answering as many calls as it may; retry with backoff");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse NotRecorded(const absl::Status& status, std::string_view what) {
  Log(LogLevel::kError, "audit_write_failed",
      {{"code", absl::StatusCodeToString(status.code())},
       {"reason", std::string(status.message())}});
  HttpResponse r = ErrorResponse(
      503, "transient",
      absl::StrCat(std::string(what),
                   " could not be recorded in the audit trail, and nothing "
                   "unrecorded is answered; retry later"));
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

void Decide(const DecisionEngine& engine, AuditStore* audit,
            const std::string& patient_ref_key, std::optional<CallSlot> slot,
            Decision decision, const AnswerMaker& make, Respond respond) {
  if (DecisionObserver* observer = engine.observer(); observer != nullptr) {
    // The observer hears how the call ended, whichever way it does.
    respond = [observer, arrived = absl::Now(),
               interface = decision.context.value("interface", "http"),
               respond = std::move(respond)](HttpResponse r) mutable {
      observer->CallEnded(interface, absl::StrCat(r.status),
                          absl::Now() - arrived);
      std::move(respond)(std::move(r));
    };
  }
  v1::EvaluateResponse response;
  std::vector<FieldViolation> violations;
  if (absl::Status s = engine.Evaluate(decision.request, response, violations);
      !s.ok()) {
    if (s.code() != absl::StatusCode::kInvalidArgument) {
      std::move(respond)(
          ErrorResponse(503, "transient", std::string(s.message())));
      return;
    }
    // Field names only: violations never carry the submitted values.
    Log(LogLevel::kWarning, "http_decision_refused",
        {{"interface", decision.context.value("interface", "")},
         {"at", decision.log_name},
         {"violations", violations.size()}});
    std::vector<OutcomeIssue> issues;
    for (const FieldViolation& v : violations) {
      issues.push_back({"value", v.description, v.field});
    }
    if (issues.empty()) {
      issues.push_back({"invalid", std::string(s.message()), ""});
    }
    std::move(respond)(OutcomeResponse(400, issues));
    return;
  }
  std::vector<IssuedCard> issued;
  HttpResponse answer = make(response, issued);
  if (engine.observer() != nullptr && !issued.empty()) {
    engine.observer()->CardsIssued(issued);
  }
  if (audit == nullptr) {
    std::move(respond)(std::move(answer));
    return;
  }
  const v1::Assessment& assessment = decision.request.assessment();
  DecisionRecord record;
  record.decision_id = response.decision_id();
  record.time_micros = absl::ToUnixMicros(absl::Now());
  record.calling_system = decision.request.calling_system();
  record.caller = decision.caller;
  record.rule_set_digest = response.rule_set().digest();
  record.assessment =
      StoredAssessment(assessment, patient_ref_key, &record.patient_hmac);
  record.recommendation = DeterministicBytes(response.recommendation());
  record.outcomes = OutcomesOf(response.recommendation());
  // The cards go into the context, and so under the decision's hash: the
  // link from a card's feedback to its decision is part of the chain.
  if (!issued.empty()) {
    json cards = json::array();
    for (const IssuedCard& card : issued) {
      cards.push_back({{"uuid", card.uuid}, {"item", card.item}});
    }
    decision.context["cards"] = std::move(cards);
  }
  record.context =
      decision.context.dump(-1, ' ', false, json::error_handler_t::replace);
  record.cards = std::move(issued);
  // The answer goes out only once its record is committed; the store's
  // completion thread sends it.
  auto pending = std::make_shared<Respond>(std::move(respond));
  auto held = std::make_shared<std::optional<CallSlot>>(std::move(slot));
  audit->Append(std::move(record), [pending, held, answer = std::move(answer)](
                                       const absl::Status& s) mutable {
    held->reset();
    if (s.ok()) {
      std::move (*pending)(std::move(answer));
      return;
    }
    std::move (*pending)(NotRecorded(s, "the decision"));
  });
}

}  // namespace reconnect::service::http
