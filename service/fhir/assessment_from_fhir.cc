#include "service/fhir/assessment_from_fhir.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "service/fhir/internal/reading.h"

namespace reconnect::service::fhir {

namespace {

using fhir_internal::Codes;
using fhir_internal::Found;
using fhir_internal::ItemIndex;
using fhir_internal::Reference;
using fhir_internal::SetField;
using fhir_internal::Text;
using google::protobuf::Message;
using nlohmann::json;

// Sets the mapped field of `assessment` to `value` (already of the type the
// mapping's answers or the FHIR value gave), or says why it cannot.
std::string Set(const ruleset::FhirFieldMapping& m, const json& value,
                v1::Assessment& assessment) {
  Message* message = &assessment;
  for (size_t i = 0; i + 1 < m.path.size(); ++i) {
    message = message->GetReflection()->MutableMessage(message, m.path[i]);
  }
  return SetField(*message, m.path.back(), value);
}

// The value of a FHIR value[x] in `holder` for mapping `m`: a coded one
// through the mapping's answers, any other as given. `path` names the
// holder, for problems. Nullopt when there is none (or it is unusable).
std::optional<json> ValueOf(const ruleset::FhirFieldMapping& m,
                            const json& holder, const std::string& path,
                            std::vector<Problem>& problems) {
  auto problem = [&](const std::string& where, std::string message) {
    problems.push_back({absl::StrCat(path, ".", where), std::move(message)});
    return std::nullopt;
  };
  if (holder.contains("valueCodeableConcept") ||
      holder.contains("valueCoding")) {
    std::vector<std::string> codes;
    if (holder.contains("valueCoding")) {
      const json& c = holder["valueCoding"];
      if (!c.is_object()) return problem("valueCoding", "must be a Coding");
      codes.push_back(absl::StrCat(Text(c, "system"), "|", Text(c, "code")));
    } else {
      codes = Codes(holder["valueCodeableConcept"]);
    }
    for (const std::string& code : codes) {
      if (auto it = m.answers.find(code); it != m.answers.end()) {
        return it->second;
      }
    }
    return problem(
        holder.contains("valueCoding") ? "valueCoding" : "valueCodeableConcept",
        absl::StrCat("has no code that ", m.label,
                     " maps (the rule set's fhir_mapping.json)"));
  }
  if (!m.answers.empty()) {
    return problem("value[x]", absl::StrCat(m.label, " must be coded"));
  }
  if (holder.contains("valueQuantity")) {
    const json& q = holder["valueQuantity"];
    if (!q.is_object() || !q.contains("value") || !q["value"].is_number()) {
      return problem("valueQuantity.value", "must be a number");
    }
    return q["value"];
  }
  for (const char* key : {"valueInteger", "valueDecimal"}) {
    if (holder.contains(key)) {
      if (!holder[key].is_number()) return problem(key, "must be a number");
      return holder[key];
    }
  }
  if (holder.contains("valueBoolean")) {
    if (!holder["valueBoolean"].is_boolean()) {
      return problem("valueBoolean", "must be true or false");
    }
    return holder["valueBoolean"];
  }
  if (holder.contains("valueString")) {
    if (!holder["valueString"].is_string()) {
      return problem("valueString", "must be text");
    }
    return holder["valueString"];
  }
  return std::nullopt;
}

void SetFact(const ruleset::FhirFieldMapping& m, const json& value,
             const std::string& path, const std::string& source,
             v1::Assessment& assessment, Translation& out) {
  if (std::string problem = Set(m, value, assessment); !problem.empty()) {
    out.problems.push_back(
        {path, absl::StrCat(m.label, " (", m.field, ") ", problem)});
    return;
  }
  out.found.emplace_back(m.label, source);
}

void ReadObservations(const ruleset::FhirMapping& mapping,
                      const std::vector<Found>& resources,
                      v1::Assessment& assessment, Translation& out,
                      std::map<std::string, bool>& seen) {
  // The latest observation for each mapping.
  std::map<const ruleset::FhirFieldMapping*, std::pair<std::string, Found>>
      latest;
  for (const Found& found : resources) {
    const json& r = *found.resource;
    if (Text(r, "resourceType") != "Observation") continue;
    const std::string status = Text(r, "status");
    if (status != "final" && status != "amended" && status != "corrected") {
      continue;
    }
    if (!r.contains("code")) continue;
    const std::vector<std::string> codes = Codes(r["code"]);
    for (const auto& m : mapping.observations) {
      if (std::find(codes.begin(), codes.end(), m.key) == codes.end()) {
        continue;
      }
      std::string when = Text(r, "effectiveDateTime");
      if (when.empty()) when = Text(r, "issued");
      auto it = latest.find(&m);
      if (it == latest.end() || when > it->second.first) {
        latest[&m] = {when, found};
      }
    }
  }
  for (const auto& [m, chosen] : latest) {
    const Found& found = chosen.second;
    auto value = ValueOf(*m, *found.resource, found.path, out.problems);
    seen[m->label] = true;
    if (!value) continue;
    SetFact(*m, *value, found.path, Reference(*found.resource), assessment,
            out);
  }
}

// Reads the latest completed response to the mapping's Questionnaire into
// `assessment`; its items go to `by_link_id`. False when there is none.
bool ReadQuestionnaire(const ruleset::FhirMapping& mapping,
                       const std::vector<Found>& resources,
                       v1::Assessment& assessment, Translation& out,
                       std::map<std::string, bool>& seen,
                       ItemIndex& by_link_id) {
  if (mapping.questionnaire.empty()) return false;
  const Found* chosen = nullptr;
  std::string chosen_at;
  for (const Found& found : resources) {
    const json& r = *found.resource;
    if (Text(r, "resourceType") != "QuestionnaireResponse") continue;
    const std::string status = Text(r, "status");
    if (status != "completed" && status != "amended") continue;
    const std::string q = Text(r, "questionnaire");
    if (q != mapping.questionnaire &&
        !absl::StartsWith(q, mapping.questionnaire + "|")) {
      continue;
    }
    const std::string authored = Text(r, "authored");
    if (chosen == nullptr || authored > chosen_at) {
      chosen = &found;
      chosen_at = authored;
    }
  }
  if (chosen == nullptr) return false;
  const json& response = *chosen->resource;
  assessment.set_assessment_ref(Reference(response));
  if (!chosen_at.empty()) {
    absl::Time t;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, chosen_at, &t, &error)) {
      const int64_t seconds = absl::ToUnixSeconds(t);
      assessment.mutable_assessed_at()->set_seconds(seconds);
      assessment.mutable_assessed_at()->set_nanos(static_cast<int32_t>(
          absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
    } else {
      out.problems.push_back(
          {chosen->path + ".authored",
           "must be a dateTime with a time and a time zone"});
    }
  }
  fhir_internal::IndexItems(response, chosen->path, by_link_id, out.problems);
  const std::string source = Reference(response);
  for (const auto& m : mapping.questionnaire_items) {
    // A list field gathers every answer; any other takes an item's first.
    const bool gathers = m.path.back()->is_repeated();
    fhir_internal::ForEachAnswer(
        by_link_id, m.key, out.problems,
        [&](const json& answer, const std::string& at) {
          if (!answer.is_object()) {
            out.problems.push_back({at, "must be an answer object"});
            return gathers;
          }
          auto value = ValueOf(m, answer, at, out.problems);
          seen[m.label] = true;
          if (value) SetFact(m, *value, at, source, assessment, out);
          return gathers;
        });
  }
  return true;
}

// Whether a coded field `key` of `resource` holds one of `codes` (lower
// case), or has none at all.
bool StatusIs(const json& resource, const char* key,
              std::initializer_list<const char*> codes) {
  if (!resource.contains(key)) return true;
  for (const std::string& code : Codes(resource[key])) {
    const std::string bare = code.substr(code.find('|') + 1);
    for (const char* c : codes) {
      if (bare == c) return true;
    }
  }
  return false;
}

// Sets, for each code a mapping in `list` names, the value it maps to.
void SetCoded(const std::vector<ruleset::FhirFieldMapping>& list,
              const std::vector<std::string>& codes, const std::string& path,
              const std::string& source, v1::Assessment& assessment,
              Translation& out) {
  for (const std::string& code : codes) {
    for (const ruleset::FhirFieldMapping& m : list) {
      if (m.key == code)
        SetFact(m, m.answers.at(code), path, source, assessment, out);
    }
  }
}

// Conditions that stand (clinical status active, recurrence or relapse, or
// none given; not refuted or entered in error), and the roles of the
// participants of care teams that are active (or say nothing), by the
// mapping's codes. Their absence is not a missing fact: a Condition not
// sent is a condition not known.
void ReadCoded(const ruleset::FhirMapping& mapping,
               const std::vector<Found>& resources, v1::Assessment& assessment,
               Translation& out) {
  for (const Found& found : resources) {
    const json& r = *found.resource;
    const std::string type = Text(r, "resourceType");
    if (type == "Condition" && !mapping.conditions.empty()) {
      if (!StatusIs(r, "clinicalStatus", {"active", "recurrence", "relapse"}) ||
          (r.contains("verificationStatus") &&
           StatusIs(r, "verificationStatus",
                    {"refuted", "entered-in-error"}))) {
        continue;
      }
      if (r.contains("code") && !r["code"].is_object()) {
        out.problems.push_back(
            {found.path + ".code", "must be a CodeableConcept"});
        continue;
      }
      SetCoded(mapping.conditions, Codes(r.value("code", json())),
               found.path + ".code", Reference(r), assessment, out);
    } else if (type == "CareTeam" && !mapping.care_team_roles.empty()) {
      const std::string status = Text(r, "status");
      if (!status.empty() && status != "active") continue;
      if (!r.contains("participant")) continue;
      const json& participants = r["participant"];
      if (!participants.is_array()) {
        out.problems.push_back({found.path + ".participant", "must be a list"});
        continue;
      }
      for (size_t i = 0; i < participants.size(); ++i) {
        const std::string at =
            absl::StrCat(found.path, ".participant[", i, "].role");
        const json& p = participants[i];
        if (!p.is_object() || !p.contains("role")) continue;
        if (!p["role"].is_array()) {
          out.problems.push_back({at, "must be a list of CodeableConcepts"});
          continue;
        }
        for (const json& role : p["role"]) {
          SetCoded(mapping.care_team_roles, Codes(role), at, Reference(r),
                   assessment, out);
        }
      }
    }
  }
}

}  // namespace

Translation AssessmentFromPrefetch(const ruleset::FhirMapping& mapping,
                                   const json& prefetch,
                                   v1::Assessment& assessment) {
  Translation out;
  const std::vector<Found> resources =
      fhir_internal::Resources(prefetch, out.problems);
  for (const Found& found : resources) {
    if (Text(*found.resource, "resourceType") == "Patient") {
      const std::string id = Text(*found.resource, "id");
      if (!id.empty()) assessment.set_patient_ref("Patient/" + id);
    }
  }
  // Facts read (even when unusable), by label.
  std::map<std::string, bool> seen;
  ReadObservations(mapping, resources, assessment, out, seen);
  ItemIndex items;
  const bool answered =
      ReadQuestionnaire(mapping, resources, assessment, out, seen, items);
  ReadCoded(mapping, resources, assessment, out);
  if (!mapping.medication_requests.empty()) {
    fhir_internal::ReadListResources(mapping.medication_requests, resources,
                                     answered ? &items : nullptr, assessment,
                                     out);
  }
  for (const auto* list :
       {&mapping.observations, &mapping.questionnaire_items}) {
    for (const auto& m : *list) {
      if (!seen.count(m.label)) out.missing.push_back(m.label);
    }
  }
  return out;
}

}  // namespace reconnect::service::fhir
