#include "service/fhir/plan_bundle.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "service/common/name_uuid.h"

namespace reconnect::service::fhir {

namespace {

using nlohmann::json;

// The namespace of resource ids in plan Bundles: fixed, so that ids are
// stable across releases and replicas.
constexpr UuidNamespace kPlanNamespace = {0x6b, 0x0e, 0x2f, 0x41, 0x93, 0x5c,
                                          0x4d, 0x0a, 0xa1, 0x7e, 0x3c, 0x58,
                                          0x0f, 0xd2, 0x64, 0x19};

constexpr char kCodeSystemBase[] = "urn:reconnect:fhir:CodeSystem/";
constexpr char kDecisionIdSystem[] = "urn:reconnect:decision-id";
constexpr char kQuestionnaireExtension[] =
    "urn:reconnect:fhir:StructureDefinition/data-requirement-questionnaire";
constexpr char kLabelExtension[] =
    "urn:reconnect:fhir:StructureDefinition/data-requirement-label";
// SNOMED CT 3457005 "Patient referral": a discipline the team lacks.
constexpr char kSnomed[] = "http://snomed.info/sct";

// Builds the Bundle's resources, each with its urn:uuid.
class Builder {
 public:
  Builder(const v1::Recommendation& r, const PlanInput& in) : r_(r), in_(in) {}

  json Build();

 private:
  std::string Urn(const std::string& item) const {
    return absl::StrCat("urn:uuid:", Id(item));
  }
  std::string Id(const std::string& item) const {
    return NameUuid(kPlanNamespace, absl::StrCat(in_.decision_id, "/", item));
  }
  json Subject() const {
    if (in_.patient_ref.empty()) {
      return {{"display", "the patient assessed (not identified)"}};
    }
    return {{"reference", in_.patient_ref}};
  }
  // Starts a resource of `type` for `item`, and adds it to the Bundle.
  json& Add(const std::string& type, const std::string& item) {
    entries_.push_back(
        {{"fullUrl", Urn(item)},
         {"resource", {{"resourceType", type}, {"id", Id(item)}}}});
    return entries_.back()["resource"];
  }
  static json Coding(const std::string& system, const std::string& code,
                     const std::string& display) {
    json coding = {{"system", absl::StrCat(kCodeSystemBase, system)},
                   {"code", code}};
    if (!display.empty()) coding["display"] = display;
    return coding;
  }
  // A rationale as FHIR justifications, one per rule.
  static json Justifications(const v1::Rationale& rationale) {
    json out = json::array();
    for (const auto& reason : rationale.reasons()) {
      out.push_back({{"type", "justification"},
                     {"label", reason.rule_id()},
                     {"display", reason.reason()}});
    }
    return out;
  }
  static std::string Reasons(const v1::Rationale& rationale) {
    std::vector<std::string> texts;
    for (const auto& reason : rationale.reasons()) {
      texts.push_back(reason.reason());
    }
    return absl::StrJoin(texts, " ");
  }
  // The conditions of the rules behind `rationale`, as text (CEL), as
  // documentation: R4's Expression admits only CQL, FHIRPath and FHIR
  // queries, so an action's `condition` cannot carry CEL.
  json Conditions(const v1::Rationale& rationale) const;
  // Notes for the CarePlan: alerts (critical first), considerations, and
  // what was held back and why.
  json Notes() const;
  json Actions() const;
  void Requests(json& activities);
  json DataRequirements() const;

  const v1::Recommendation& r_;
  const PlanInput& in_;
  json entries_ = json::array();
};

json Builder::Conditions(const v1::Rationale& rationale) const {
  json out = json::array();
  if (in_.rule_set == nullptr) return out;
  for (const auto& reason : rationale.reasons()) {
    for (size_t i = 0; i < in_.rule_set->rule_count(); ++i) {
      if (in_.rule_set->rule_id(i) != reason.rule_id()) continue;
      out.push_back(
          {{"type", "documentation"},
           {"label", reason.rule_id()},
           {"display", absl::StrCat("Applies when (CEL): ",
                                    in_.rule_set->rule_condition(i))}});
      break;
    }
  }
  return out;
}

json Builder::Notes() const {
  json notes = json::array();
  for (const v1::Severity severity :
       {v1::SEVERITY_CRITICAL, v1::SEVERITY_WARNING, v1::SEVERITY_INFO}) {
    for (const auto& a : r_.alerts()) {
      if (a.severity() != severity) continue;
      const std::string level = severity == v1::SEVERITY_CRITICAL  ? "Critical"
                                : severity == v1::SEVERITY_WARNING ? "Warning"
                                                                   : "Note";
      notes.push_back(
          {{"text",
            absl::StrCat(level, ": ", a.title().empty() ? "" : a.title() + ". ",
                         a.text())}});
    }
  }
  for (const auto& c : r_.considerations()) {
    notes.push_back({{"text", absl::StrCat("Consider: ", c.text())}});
  }
  for (const auto& h : r_.held()) {
    notes.push_back({{"text", absl::StrCat("Held back: ", h.display(), ". ",
                                           Reasons(h.held_by()))}});
  }
  return notes;
}

json Builder::Actions() const {
  absl::flat_hash_map<std::string, std::string> disciplines;
  for (const auto& d : r_.disciplines()) disciplines[d.code()] = d.display();
  json actions = json::array();
  for (const auto& c : r_.components()) {
    json techniques = json::array();
    for (const auto& t : c.techniques()) {
      json action = {
          {"title", t.display()},
          {"code",
           json::array({{{"coding", json::array({Coding("technique", t.code(),
                                                        t.display())})}}})}};
      std::vector<std::string> who;
      for (const auto& code : t.delivered_by()) {
        auto it = disciplines.find(code);
        who.push_back(it == disciplines.end() ? code : it->second);
      }
      if (!who.empty()) {
        action["description"] =
            absl::StrCat("Delivered by: ", absl::StrJoin(who, ", "), ".");
      }
      json documentation = Justifications(t.rationale());
      for (json& when : Conditions(t.rationale())) {
        documentation.push_back(std::move(when));
      }
      if (!documentation.empty()) {
        action["documentation"] = std::move(documentation);
      }
      techniques.push_back(std::move(action));
    }
    actions.push_back(
        {{"title", c.display()},
         {"code",
          json::array({{{"coding", json::array({Coding("component", c.code(),
                                                       c.display())})}}})},
         {"groupingBehavior", "logical-group"},
         {"action", std::move(techniques)}});
  }
  json prompts = json::array();
  for (const auto& p : r_.prompts()) {
    if (p.audience() == v1::AUDIENCE_PATIENT ||
        p.audience() == v1::AUDIENCE_PARTNER) {
      continue;  // CommunicationRequests
    }
    json action = {
        {"title", p.text()},
        {"code",
         json::array(
             {{{"coding", json::array({Coding("prompt", p.code(), "")})}}})}};
    if (json why = Justifications(p.rationale()); !why.empty()) {
      action["documentation"] = std::move(why);
    }
    prompts.push_back(std::move(action));
  }
  if (!prompts.empty()) {
    actions.push_back({{"title", "Prompts for the clinician and the team"},
                       {"groupingBehavior", "logical-group"},
                       {"action", std::move(prompts)}});
  }
  return actions;
}

void Builder::Requests(json& activities) {
  for (const auto& d : r_.disciplines()) {
    const std::string item = absl::StrCat("discipline/", d.code());
    json& request = Add("ServiceRequest", item);
    request["status"] = "draft";
    request["intent"] = "proposal";
    request["subject"] = Subject();
    request["code"] = {
        {"text",
         absl::StrCat(d.display(), ": ", absl::StrJoin(d.techniques(), ", "))}};
    request["performerType"] = {
        {"coding", json::array({Coding("discipline", d.code(), d.display())})},
        {"text", d.display()}};
    if (!d.in_team()) {
      request["category"] = json::array(
          {{{"coding", json::array({{{"system", kSnomed},
                                     {"code", "3457005"},
                                     {"display", "Patient referral"}}})}}});
    }
    if (const std::string why = Reasons(d.rationale()); !why.empty()) {
      request["note"] = json::array({{{"text", why}}});
    }
    activities.push_back({{"reference", {{"reference", Urn(item)}}}});
  }
  for (const auto& g : r_.skills_gaps()) {
    const std::string item = absl::StrCat("gap/", g.code());
    json& request = Add("ServiceRequest", item);
    request["status"] = "draft";
    request["intent"] = "proposal";
    request["subject"] = Subject();
    request["category"] = json::array(
        {{{"coding", json::array({{{"system", kSnomed},
                                   {"code", "3457005"},
                                   {"display", "Patient referral"}}})}}});
    request["code"] = {{"text", g.display()}};
    if (g.disciplines_able_size() > 0) {
      request["performerType"] = {
          {"coding",
           json::array({Coding("discipline", g.disciplines_able(0), "")})},
          {"text", g.disciplines_able(0)}};
    }
    json notes = json::array({{{"text", g.suggestion()}}});
    if (const std::string why = Reasons(g.rationale()); !why.empty()) {
      notes.push_back({{"text", why}});
    }
    request["note"] = std::move(notes);
    activities.push_back({{"reference", {{"reference", Urn(item)}}}});
  }
  for (const auto& p : r_.prompts()) {
    const bool patient = p.audience() == v1::AUDIENCE_PATIENT;
    if (!patient && p.audience() != v1::AUDIENCE_PARTNER) continue;
    const std::string item = absl::StrCat("prompt/", p.code());
    json& request = Add("CommunicationRequest", item);
    request["status"] = "draft";
    request["subject"] = Subject();
    request["category"] = json::array(
        {{{"coding",
           json::array({Coding("audience", patient ? "patient" : "partner",
                               patient ? "Patient" : "Partner")})}}});
    request["payload"] = json::array({{{"contentString", p.text()}}});
    if (patient && !in_.patient_ref.empty()) {
      request["recipient"] = json::array({{{"reference", in_.patient_ref}}});
    }
    if (const std::string why = Reasons(p.rationale()); !why.empty()) {
      request["note"] = json::array({{{"text", why}}});
    }
    activities.push_back({{"reference", {{"reference", Urn(item)}}}});
  }
}

json Builder::DataRequirements() const {
  json out = json::array();
  // The facts are the rule set's mappings: without it there are none.
  if (in_.rule_set == nullptr) return out;
  for (const ruleset::FhirFieldMapping* fact : in_.missing) {
    const bool observation = std::any_of(
        in_.rule_set->fhir_mapping().observations.begin(),
        in_.rule_set->fhir_mapping().observations.end(),
        [fact](const ruleset::FhirFieldMapping& m) { return &m == fact; });
    if (observation) {
      std::vector<std::string> parts = absl::StrSplit(fact->key, '|');
      json coding = {{"code", parts.back()}, {"display", fact->label}};
      if (parts.size() == 2) coding["system"] = parts[0];
      out.push_back(
          {{"type", "Observation"},
           {"codeFilter", json::array({{{"path", "code"},
                                        {"code", json::array({coding})}}})}});
    } else {
      // Which Questionnaire, and what the fact is called, as extensions:
      // DataRequirement has no element for either.
      out.push_back(
          {{"extension",
            json::array(
                {{{"url", kQuestionnaireExtension},
                  {"valueCanonical",
                   in_.rule_set->fhir_mapping().questionnaire}},
                 {{"url", kLabelExtension}, {"valueString", fact->label}}})},
           {"type", "QuestionnaireResponse"},
           {"mustSupport",
            json::array({absl::StrCat("item.where(linkId='", fact->key,
                                      "').answer")})}});
    }
  }
  return out;
}

json Builder::Build() {
  const std::string module =
      in_.rule_set ? ModuleCanonical(in_.rule_set->metadata()) : "";
  json activities = json::array();
  json& group = Add("RequestGroup", "request-group");
  group["status"] = "draft";
  group["intent"] = "proposal";
  group["subject"] = Subject();
  if (!module.empty()) group["instantiatesCanonical"] = json::array({module});
  if (json actions = Actions(); !actions.empty()) {
    group["action"] = std::move(actions);
  }
  activities.push_back({{"reference", {{"reference", Urn("request-group")}}}});
  Requests(activities);

  json& plan = Add("CarePlan", "care-plan");
  plan["status"] = "draft";
  plan["intent"] = "proposal";
  plan["title"] = "Re-Connect plan";
  plan["subject"] = Subject();
  if (!r_.summary().empty()) plan["description"] = r_.summary();
  if (!in_.decided_at.empty()) plan["created"] = in_.decided_at;
  if (!module.empty()) plan["instantiatesCanonical"] = json::array({module});
  plan["activity"] = std::move(activities);
  if (json notes = Notes(); !notes.empty()) plan["note"] = std::move(notes);

  json& guidance = Add("GuidanceResponse", "guidance-response");
  guidance["requestIdentifier"] = {{"system", kDecisionIdSystem},
                                   {"value", in_.decision_id}};
  guidance["identifier"] = json::array(
      {{{"system", kDecisionIdSystem}, {"value", in_.decision_id}}});
  if (!module.empty()) guidance["moduleCanonical"] = module;
  json requirements = DataRequirements();
  // More data could make the evaluation more complete.
  guidance["status"] = requirements.empty() ? "success" : "data-requested";
  guidance["subject"] = Subject();
  if (!in_.decided_at.empty()) guidance["occurrenceDateTime"] = in_.decided_at;
  guidance["result"] = {{"reference", Urn("care-plan")}};
  if (!requirements.empty())
    guidance["dataRequirement"] = std::move(requirements);
  if (in_.rule_set != nullptr) {
    guidance["note"] = json::array(
        {{{"text", absl::StrCat("Rule set ", in_.rule_set->metadata().id, " ",
                                in_.rule_set->metadata().version, ", digest ",
                                in_.rule_set->digest())}}});
  }
  return {{"resourceType", "Bundle"},
          {"id", Id("bundle")},
          {"type", "collection"},
          {"entry", std::move(entries_)}};
}

}  // namespace

std::string ModuleCanonical(const ruleset::RuleSetMetadata& metadata) {
  return absl::StrCat("urn:reconnect:fhir:PlanDefinition/", metadata.id, "|",
                      metadata.version);
}

json PlanBundle(const v1::Recommendation& recommendation,
                const PlanInput& input) {
  return Builder(recommendation, input).Build();
}

std::vector<const ruleset::FhirFieldMapping*> MissingFacts(
    const ruleset::FhirMapping& mapping,
    const google::protobuf::Message& assessment) {
  std::vector<const ruleset::FhirFieldMapping*> missing;
  auto set = [&assessment](const ruleset::FhirFieldMapping& m) {
    const google::protobuf::Message* message = &assessment;
    for (size_t i = 0; i < m.path.size(); ++i) {
      const auto* field = m.path[i];
      const auto* reflection = message->GetReflection();
      if (field->is_repeated())
        return reflection->FieldSize(*message, field) > 0;
      if (!reflection->HasField(*message, field)) return false;
      if (i + 1 < m.path.size()) {
        message = &reflection->GetMessage(*message, field);
      }
    }
    return true;
  };
  for (const auto* group :
       {&mapping.observations, &mapping.questionnaire_items}) {
    for (const ruleset::FhirFieldMapping& m : *group) {
      // A field several codes can set is missing only when none did, and
      // listed once.
      if (set(m)) continue;
      if (std::none_of(missing.begin(), missing.end(),
                       [&m](const ruleset::FhirFieldMapping* seen) {
                         return seen->field == m.field;
                       })) {
        missing.push_back(&m);
      }
    }
  }
  return missing;
}

std::vector<const ruleset::FhirFieldMapping*> FactsByLabel(
    const ruleset::FhirMapping& mapping,
    const std::vector<std::string>& labels) {
  std::vector<const ruleset::FhirFieldMapping*> facts;
  for (const std::string& label : labels) {
    for (const auto* group :
         {&mapping.observations, &mapping.questionnaire_items}) {
      auto it = std::find_if(group->begin(), group->end(),
                             [&label](const ruleset::FhirFieldMapping& m) {
                               return m.label == label;
                             });
      if (it != group->end()) {
        facts.push_back(&*it);
        break;
      }
    }
  }
  return facts;
}

}  // namespace reconnect::service::fhir
