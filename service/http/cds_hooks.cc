#include "service/http/cds_hooks.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "service/common/log.h"
#include "service/decision/stored_record.h"
#include "service/fhir/assessment_from_fhir.h"
#include "service/http/cds_cards.h"
#include "service/http/cds_feedback.h"
#include "service/http/decide.h"

namespace reconnect::service::http {

namespace {

constexpr char kDiscoveryPath[] = "/cds-services";

}  // namespace

HttpResponse CdsHooksRoutes::Discovery() const {
  auto active = registry_.Active();
  if (active == nullptr) {
    HttpResponse r = ErrorResponse(
        503, "transient",
        "no rule set is loaded; the service offers nothing until one is");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  nlohmann::json services = nlohmann::json::array();
  const nlohmann::json& declared = active->cds_hooks();
  if (declared.is_object() && declared.contains("services")) {
    services = declared["services"];
  }
  HttpResponse r;
  r.body = nlohmann::json{{"services", std::move(services)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

namespace {

using nlohmann::json;

HttpResponse UnknownService(const std::string& id) {
  return ErrorResponse(404, "not-found",
                       absl::StrCat("there is no CDS service '", id, "'; GET ",
                                    kDiscoveryPath, " lists them"));
}

// The service `id` in the active rule set's cds_hooks.json, or null.
const json* FindService(const ruleset::CompiledRuleSet& rule_set,
                        const std::string& id) {
  const json& declared = rule_set.cds_hooks();
  if (!declared.is_object() || !declared.contains("services")) return nullptr;
  for (const json& service : declared["services"]) {
    if (service.value("id", "") == id) return &service;
  }
  return nullptr;
}

// What the request says about each of the service's prefetch keys, for a
// 412: absent (the EHR did not prefetch it), null (it found nothing or
// would not say) or an OperationOutcome (it failed to fetch).
std::vector<OutcomeIssue> PrefetchNotes(const json& service,
                                        const json& prefetch) {
  std::vector<OutcomeIssue> notes;
  if (!service.contains("prefetch")) return notes;
  for (const auto& [key, query] : service["prefetch"].items()) {
    const std::string path = absl::StrCat("prefetch.", key);
    if (!prefetch.is_object() || !prefetch.contains(key)) {
      notes.push_back(
          {"required", absl::StrCat("'", key, "' was not prefetched"), path});
    } else if (prefetch[key].is_null()) {
      notes.push_back({"not-found", absl::StrCat("'", key, "' is null"), path});
    } else if (prefetch[key].is_object() &&
               prefetch[key].value("resourceType", "") == "OperationOutcome") {
      notes.push_back({"exception",
                       absl::StrCat("'", key,
                                    "' is an OperationOutcome: the EHR could "
                                    "not fetch it"),
                       path});
    }
  }
  return notes;
}

// The request's shape, as CDS Hooks 2.0 defines it for this service.
// What the caller asks explained: the request's
// extension.reconnect.explanation, "none" (the default) or "why-not".
const json* ExplanationAsked(const json& body) {
  auto ext = body.find("extension");
  if (ext == body.end() || !ext->is_object()) return nullptr;
  auto ours = ext->find("reconnect");
  if (ours == ext->end() || !ours->is_object()) return nullptr;
  auto explanation = ours->find("explanation");
  return explanation == ours->end() ? nullptr : &*explanation;
}

std::optional<std::string> ExplanationProblem(const json& body) {
  const json* asked = ExplanationAsked(body);
  if (asked == nullptr || *asked == "none" || *asked == "why-not") {
    return std::nullopt;
  }
  return "extension.reconnect.explanation must be \"none\" or \"why-not\"";
}

std::vector<OutcomeIssue> CheckRequest(const json& body, const json& service) {
  std::vector<OutcomeIssue> issues;
  if (!body.is_object()) {
    return {{"structure", "the request must be a JSON object", ""}};
  }
  const json* hook_instance =
      body.contains("hookInstance") ? &body["hookInstance"] : nullptr;
  if (hook_instance == nullptr || !hook_instance->is_string() ||
      hook_instance->get<std::string>().empty() ||
      hook_instance->get<std::string>().size() > 128) {
    issues.push_back({"required",
                      "hookInstance must be a string of 1 to 128 characters",
                      "hookInstance"});
  }
  const std::string hook = service.value("hook", "");
  if (!body.contains("hook") || !body["hook"].is_string()) {
    issues.push_back({"required", "hook is required", "hook"});
  } else if (body["hook"] != hook) {
    issues.push_back(
        {"not-supported",
         absl::StrCat("this service answers the hook '", hook, "', not '",
                      body["hook"].get<std::string>(), "'"),
         "hook"});
  }
  if (!body.contains("context") || !body["context"].is_object()) {
    issues.push_back({"required", "context must be an object", "context"});
  } else {
    const json& context = body["context"];
    if (!context.contains("patientId") || !context["patientId"].is_string() ||
        context["patientId"].get<std::string>().empty()) {
      issues.push_back(
          {"required", "context.patientId is required", "context.patientId"});
    }
    if (context.contains("userId") && !context["userId"].is_string()) {
      issues.push_back(
          {"structure", "context.userId must be a string", "context.userId"});
    }
  }
  if (body.contains("prefetch") && !body["prefetch"].is_object() &&
      !body["prefetch"].is_null()) {
    issues.push_back({"structure",
                      "prefetch must be an object of prefetch keys",
                      "prefetch"});
  }
  if (std::optional<std::string> problem = ExplanationProblem(body)) {
    issues.push_back({"value", *problem, "extension.reconnect.explanation"});
  }
  return issues;
}

// A patient or a person related to one, in a portal: they get no cards. A
// safeguarding alert must never reach a partner's screen.
bool PortalUser(const json& context) {
  const std::string user = context.value("userId", "");
  return absl::StartsWith(user, "Patient/") ||
         absl::StartsWith(user, "RelatedPerson/");
}

}  // namespace

void CdsHooksRoutes::ServiceCall(const std::string& id,
                                 const HttpRequest& request,
                                 Respond respond) const {
  auto rule_set = registry_.Active();
  if (rule_set == nullptr) {
    std::move(respond)(Discovery());  // the 503 that says why
    return;
  }
  const json* service = FindService(*rule_set, id);
  if (service == nullptr) {
    std::move(respond)(UnknownService(id));
    return;
  }
  HttpResponse refusal;
  std::optional<json> posted = PostedJson(request, refusal);
  if (!posted) {
    std::move(respond)(std::move(refusal));
    return;
  }
  const json& body = *posted;
  if (std::vector<OutcomeIssue> issues = CheckRequest(body, *service);
      !issues.empty()) {
    std::move(respond)(OutcomeResponse(400, issues));
    return;
  }
  const json& context = body["context"];
  if (PortalUser(context)) {
    Log(LogLevel::kInfo, "cds_portal_user_no_cards", {{"service", id}});
    HttpResponse r;
    r.body = R"({"cards":[]})";
    std::move(respond)(std::move(r));
    return;
  }
  std::optional<CallSlot> slot = limits_.Admit("cds-hooks");
  if (!slot) {
    std::move(respond)(Throttled());
    return;
  }
  static const json kNoPrefetch = json::object();
  const json& prefetch =
      body.contains("prefetch") && body["prefetch"].is_object()
          ? body["prefetch"]
          : kNoPrefetch;
  v1::EvaluateRequest evaluate;
  evaluate.set_calling_system(absl::StrCat("cds-hooks:", id));
  if (const json* asked = ExplanationAsked(body);
      asked != nullptr && *asked == "why-not") {
    evaluate.set_explanation(v1::EXPLANATION_WHY_NOT);
  }
  v1::Assessment& assessment = *evaluate.mutable_assessment();
  const fhir::Translation translation = fhir::AssessmentFromPrefetch(
      rule_set->fhir_mapping(), prefetch, assessment);
  if (!translation.problems.empty()) {
    std::vector<OutcomeIssue> issues;
    for (const fhir::Problem& p : translation.problems) {
      issues.push_back({"invalid", p.message, p.path});
    }
    std::move(respond)(OutcomeResponse(400, issues));
    return;
  }
  if (translation.found.empty()) {
    std::vector<OutcomeIssue> issues = {
        {"required",
         absl::StrCat("none of the facts this service reads were in the "
                      "prefetched data; it needs at least one of: ",
                      absl::StrJoin(translation.missing, ", ")),
         "prefetch"}};
    for (OutcomeIssue& note : PrefetchNotes(*service, prefetch)) {
      issues.push_back(std::move(note));
    }
    std::move(respond)(OutcomeResponse(412, issues));
    return;
  }
  if (assessment.patient_ref().empty()) {
    assessment.set_patient_ref(
        absl::StrCat("Patient/", context["patientId"].get<std::string>()));
  }
  Decision decision;
  decision.request = std::move(evaluate);
  decision.caller = request.caller;
  decision.context = {{"interface", "cds-hooks"},
                      {"service", id},
                      {"hook", body["hook"]},
                      {"hookInstance", body["hookInstance"]}};
  decision.log_name = id;
  const json* declared_cards = nullptr;
  if (auto it = rule_set->cds_hooks().find("cards");
      it != rule_set->cds_hooks().end()) {
    declared_cards = &*it;
  }
  const std::string patient_ref = decision.request.assessment().patient_ref();
  Decide(
      engine_, audit_, patient_ref_key_, std::move(slot), std::move(decision),
      [&](const v1::EvaluateResponse& response,
          std::vector<IssuedCard>& issued) {
        CardInput cards;
        cards.decision_id = response.decision_id();
        cards.rule_set_id = response.rule_set().id();
        cards.rule_set_version = response.rule_set().version();
        cards.rule_set_digest = response.rule_set().digest();
        cards.patient_ref = patient_ref;
        cards.cards = declared_cards;
        cards.missing = translation.missing;
        cards.why_not = &response.why_not();
        cards.missing_data = &response.missing_data();
        HttpResponse answer;
        answer.body =
            CdsHooksResponse(response.recommendation(), cards, &issued)
                .dump(-1, ' ', false, json::error_handler_t::replace);
        for (IssuedCard& card : issued) card.service = id;
        return answer;
      },
      std::move(respond));
}

void CdsHooksRoutes::Feedback(const std::string& id, const HttpRequest& request,
                              Respond respond) const {
  auto rule_set = registry_.Active();
  if (rule_set == nullptr) {
    std::move(respond)(Discovery());  // the 503 that says why
    return;
  }
  if (FindService(*rule_set, id) == nullptr) {
    std::move(respond)(UnknownService(id));
    return;
  }
  HttpResponse refusal;
  std::optional<json> posted = PostedJson(request, refusal);
  if (!posted) {
    std::move(respond)(std::move(refusal));
    return;
  }
  const json& body = *posted;
  std::vector<OutcomeIssue> issues;
  std::vector<FeedbackRecord> entries = ParseFeedback(body, id, issues);
  if (!issues.empty()) {
    std::move(respond)(OutcomeResponse(400, issues));
    return;
  }
  if (audit_ == nullptr) {
    std::move(respond)(ErrorResponse(
        503, "not-supported",
        "feedback is kept in the audit trail, and this server keeps none "
        "(--audit=off)"));
    return;
  }
  std::optional<CallSlot> slot = limits_.Admit("cds-hooks-feedback");
  if (!slot) {
    std::move(respond)(Throttled());
    return;
  }
  const int64_t now = absl::ToUnixMicros(absl::Now());
  for (FeedbackRecord& f : entries) {
    f.caller = request.caller;
    f.time_micros = now;
  }
  auto pending = std::make_shared<Respond>(std::move(respond));
  auto held = std::make_shared<std::optional<CallSlot>>(std::move(slot));
  audit_->AppendFeedback(
      std::move(entries), [pending, held, id](const FeedbackResult& result) {
        held->reset();
        if (result.status.code() == absl::StatusCode::kInvalidArgument) {
          std::move (*pending)(OutcomeResponse(
              400,
              {{"not-found", std::string(result.status.message()),
                absl::StrCat("feedback[", result.entry, "].", result.field)}}));
          return;
        }
        if (!result.status.ok()) {
          std::move (*pending)(NotRecorded(result.status, "the feedback"));
          return;
        }
        size_t stored = 0;
        for (bool s : result.stored) stored += s;
        Log(LogLevel::kInfo, "cds_feedback_recorded",
            {{"service", id},
             {"stored", stored},
             {"already_stored", result.stored.size() - stored}});
        HttpResponse r;
        r.body = json{{"stored", stored},
                      {"alreadyStored", result.stored.size() - stored}}
                     .dump();
        std::move (*pending)(std::move(r));
      });
}

void CdsHooksRoutes::Handle(HttpRequest request, Respond respond) const {
  if (request.path == kDiscoveryPath) {
    if (request.method != "GET") {
      std::move(respond)(MethodNotAllowed(request, "GET"));
      return;
    }
    std::move(respond)(Discovery());
    return;
  }
  const std::string prefix = absl::StrCat(kDiscoveryPath, "/");
  if (absl::StartsWith(request.path, prefix)) {
    const std::string rest = request.path.substr(prefix.size());
    const size_t slash = rest.find('/');
    if (!rest.empty() && slash == std::string::npos) {
      ServiceCall(rest, request, std::move(respond));
      return;
    }
    if (slash != std::string::npos && slash > 0 &&
        rest.substr(slash) == "/feedback") {
      Feedback(rest.substr(0, slash), request, std::move(respond));
      return;
    }
  }
  std::move(respond)(ErrorResponse(
      404, "not-found",
      absl::StrCat("nothing is served at ", request.path,
                   "; CDS Hooks discovery is GET ", kDiscoveryPath)));
}

}  // namespace reconnect::service::http
