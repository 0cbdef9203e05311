#include "service/http/fhir_routes.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "service/fhir/assessment_from_fhir.h"
#include "service/fhir/plan_bundle.h"
#include "service/http/decide.h"

namespace reconnect::service::http {

namespace {

using nlohmann::json;

constexpr char kApplyPath[] = "PlanDefinition/";
constexpr char kApplyOperation[] = "/$apply";

// The Parameters' parameter `name`, with its index; null when absent.
const json* Parameter(const json& parameters, const std::string& name,
                      size_t* index) {
  const json& list = parameters["parameter"];
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].is_object() && list[i].value("name", "") == name) {
      *index = i;
      return &list[i];
    }
  }
  return nullptr;
}

// "Patient/ID" from the `subject` parameter (valueString or
// valueReference), or an issue saying what is wrong with it.
std::string Subject(const json& parameters, std::vector<OutcomeIssue>& issues) {
  size_t index = 0;
  const json* subject = Parameter(parameters, "subject", &index);
  if (subject == nullptr) {
    issues.push_back({"required",
                      "the subject parameter (a Patient reference) is required",
                      "Parameters.parameter"});
    return "";
  }
  std::string ref;
  if (subject->contains("valueString") &&
      (*subject)["valueString"].is_string()) {
    ref = (*subject)["valueString"].get<std::string>();
  } else if (subject->contains("valueReference") &&
             (*subject)["valueReference"].is_object()) {
    ref = (*subject)["valueReference"].value("reference", "");
  }
  if (!absl::StartsWith(ref, "Patient/") || ref.size() == 8 ||
      ref.find_first_of("/ ", 8) != std::string::npos) {
    issues.push_back({"value",
                      "the subject must be a Patient reference, Patient/ID",
                      absl::StrCat("Parameters.parameter[", index, "]")});
    return "";
  }
  return ref;
}

HttpResponse FhirJson(const json& resource) {
  HttpResponse r;
  r.content_type = "application/fhir+json";
  r.body = resource.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

}  // namespace

void FhirRoutes::Handle(HttpRequest request, Respond respond) const {
  const std::string rest = request.path.substr(sizeof(kPrefix) - 1);
  if (absl::StartsWith(rest, kApplyPath) &&
      absl::EndsWith(rest, kApplyOperation)) {
    const std::string id = rest.substr(
        sizeof(kApplyPath) - 1,
        rest.size() - (sizeof(kApplyPath) - 1) - (sizeof(kApplyOperation) - 1));
    if (!id.empty() && id.find('/') == std::string::npos) {
      Apply(id, request, std::move(respond));
      return;
    }
  }
  std::move(respond)(ErrorResponse(
      404, "not-found",
      absl::StrCat("nothing is served at ", request.path,
                   "; FHIR here is POST /fhir/PlanDefinition/{id}/$apply")));
}

void FhirRoutes::Apply(const std::string& id, const HttpRequest& request,
                       Respond respond) const {
  auto rule_set = registry_.Active();
  if (rule_set == nullptr) {
    HttpResponse r = ErrorResponse(
        503, "transient",
        "no rule set is loaded; the service offers nothing until one is");
    r.headers.emplace_back("Retry-After", "5");
    std::move(respond)(std::move(r));
    return;
  }
  if (id != rule_set->metadata().id) {
    std::move(respond)(
        ErrorResponse(404, "not-found",
                      absl::StrCat("there is no PlanDefinition '", id,
                                   "'; this service applies '",
                                   rule_set->metadata().id, "'")));
    return;
  }
  HttpResponse refusal;
  std::optional<json> posted = PostedJson(request, refusal);
  if (!posted) {
    std::move(respond)(std::move(refusal));
    return;
  }
  const json& body = *posted;
  if (!body.is_object() || body.value("resourceType", "") != "Parameters" ||
      !body.contains("parameter") || !body["parameter"].is_array()) {
    std::move(respond)(ErrorResponse(
        400, "structure",
        "the request must be a FHIR Parameters resource with a parameter "
        "array",
        "Parameters"));
    return;
  }
  std::vector<OutcomeIssue> issues;
  const std::string subject = Subject(body, issues);
  size_t data_index = 0;
  const json* data = Parameter(body, "data", &data_index);
  static const json kNothing = json::object();
  const json prefetch = data != nullptr && data->contains("resource")
                            ? json{{"data", (*data)["resource"]}}
                            : kNothing;
  v1::EvaluateRequest evaluate;
  evaluate.set_calling_system("fhir:PlanDefinition/$apply");
  // Pinned to the version read above, whatever a reload does meanwhile.
  evaluate.set_rule_set_id(rule_set->metadata().id);
  evaluate.set_rule_set_version(rule_set->metadata().version);
  v1::Assessment& assessment = *evaluate.mutable_assessment();
  const fhir::Translation translation = fhir::AssessmentFromPrefetch(
      rule_set->fhir_mapping(), prefetch, assessment);
  const std::string data_path =
      absl::StrCat("Parameters.parameter[", data_index, "].resource");
  for (const fhir::Problem& p : translation.problems) {
    std::string path = p.path;
    if (absl::StartsWith(path, "prefetch.data")) {
      path = data_path + path.substr(sizeof("prefetch.data") - 1);
    }
    issues.push_back({"invalid", p.message, path});
  }
  if (!issues.empty()) {
    std::move(respond)(OutcomeResponse(400, issues));
    return;
  }
  if (translation.found.empty()) {
    std::move(respond)(OutcomeResponse(
        412, {{"required",
               absl::StrCat("none of the facts this PlanDefinition reads were "
                            "in the data parameter (a Bundle); it needs at "
                            "least one of: ",
                            absl::StrJoin(translation.missing, ", ")),
               data == nullptr ? "Parameters.parameter" : data_path}}));
    return;
  }
  std::optional<CallSlot> slot = limits_.Admit("fhir-apply");
  if (!slot) {
    std::move(respond)(Throttled());
    return;
  }
  assessment.set_patient_ref(subject);
  Decision decision;
  decision.request = std::move(evaluate);
  decision.caller = request.caller;
  decision.context = {{"interface", "fhir"},
                      {"operation", "PlanDefinition/$apply"},
                      {"planDefinition", id}};
  decision.log_name = id;
  const auto* compiled = rule_set.get();
  Decide(
      engine_, audit_, patient_ref_key_, std::move(slot), std::move(decision),
      [&](const v1::EvaluateResponse& response, std::vector<IssuedCard>&) {
        fhir::PlanInput input;
        input.decision_id = response.decision_id();
        input.rule_set = compiled;
        input.patient_ref = subject;
        input.decided_at = absl::FormatTime(absl::RFC3339_sec, absl::Now(),
                                            absl::UTCTimeZone());
        input.missing =
            fhir::FactsByLabel(compiled->fhir_mapping(), translation.missing);
        return FhirJson(fhir::PlanBundle(response.recommendation(), input));
      },
      std::move(respond));
}

}  // namespace reconnect::service::http
