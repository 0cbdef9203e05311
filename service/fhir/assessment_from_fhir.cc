#include "service/fhir/assessment_from_fhir.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace reconnect::service::fhir {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using nlohmann::json;

// A resource found in the input, and where.
struct Found {
  const json* resource;
  std::string path;
};

std::string Text(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string Reference(const json& resource) {
  return absl::StrCat(Text(resource, "resourceType"), "/",
                      Text(resource, "id"));
}

// Every resource in the input: each prefetch value, or each entry of a
// Bundle. Malformed containers are problems; null values are skipped.
std::vector<Found> Resources(const json& prefetch,
                             std::vector<Problem>& problems) {
  std::vector<Found> out;
  if (!prefetch.is_object()) {
    problems.push_back({"prefetch", "must be an object of prefetch keys"});
    return out;
  }
  for (const auto& [key, value] : prefetch.items()) {
    const std::string path = absl::StrCat("prefetch.", key);
    if (value.is_null()) continue;
    if (!value.is_object() || !value.contains("resourceType") ||
        !value["resourceType"].is_string()) {
      problems.push_back({path, "must be a FHIR resource (with resourceType)"});
      continue;
    }
    if (Text(value, "resourceType") != "Bundle") {
      out.push_back({&value, path});
      continue;
    }
    if (!value.contains("entry")) continue;  // an empty searchset
    const json& entries = value["entry"];
    if (!entries.is_array()) {
      problems.push_back({path + ".entry", "must be a list"});
      continue;
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      const std::string at = absl::StrCat(path, ".entry[", i, "].resource");
      const json& entry = entries[i];
      if (!entry.is_object() || !entry.contains("resource")) continue;
      const json& resource = entry["resource"];
      if (!resource.is_object() || !resource.contains("resourceType") ||
          !resource["resourceType"].is_string()) {
        problems.push_back({at, "must be a FHIR resource (with resourceType)"});
        continue;
      }
      out.push_back({&resource, at});
    }
  }
  return out;
}

// "system|code" of each coding in `codeable` (a CodeableConcept).
std::vector<std::string> Codes(const json& codeable) {
  std::vector<std::string> out;
  if (!codeable.is_object() || !codeable.contains("coding") ||
      !codeable["coding"].is_array()) {
    return out;
  }
  for (const json& c : codeable["coding"]) {
    const std::string code = Text(c, "code");
    if (!code.empty())
      out.push_back(absl::StrCat(Text(c, "system"), "|", code));
  }
  return out;
}

// Sets the mapped field of `assessment` to `value` (already of the type the
// mapping's answers or the FHIR value gave), or says why it cannot.
std::string Set(const ruleset::FhirFieldMapping& m, const json& value,
                v1::Assessment& assessment) {
  Message* message = &assessment;
  for (size_t i = 0; i + 1 < m.path.size(); ++i) {
    message = message->GetReflection()->MutableMessage(message, m.path[i]);
  }
  const FieldDescriptor* f = m.path.back();
  const auto* r = message->GetReflection();
  auto integer = [&](int64_t lo, int64_t hi) -> std::optional<int64_t> {
    if (value.is_number_integer()) {
      if (value.is_number_unsigned() &&
          value.get<uint64_t>() >
              static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return std::nullopt;
      }
      const int64_t v = value.get<int64_t>();
      if (v < lo || v > hi) return std::nullopt;
      return v;
    }
    if (value.is_number_float()) {
      const double d = value.get<double>();
      if (!std::isfinite(d) || d != std::floor(d) ||
          d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
        return std::nullopt;
      }
      return static_cast<int64_t>(d);
    }
    return std::nullopt;
  };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      auto v = integer(std::numeric_limits<int32_t>::min(),
                       std::numeric_limits<int32_t>::max());
      if (!v) return "must be a whole number";
      r->SetInt32(message, f, static_cast<int32_t>(*v));
      return "";
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      auto v = integer(std::numeric_limits<int64_t>::min(),
                       std::numeric_limits<int64_t>::max());
      if (!v) return "must be a whole number";
      r->SetInt64(message, f, *v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      auto v = integer(0, std::numeric_limits<uint32_t>::max());
      if (!v) return "must be a whole number, 0 or more";
      r->SetUInt32(message, f, static_cast<uint32_t>(*v));
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      auto v = integer(0, std::numeric_limits<int64_t>::max());
      if (!v) return "must be a whole number, 0 or more";
      r->SetUInt64(message, f, static_cast<uint64_t>(*v));
      return "";
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      if (!value.is_number()) return "must be a number";
      const double d = value.get<double>();
      if (!std::isfinite(d)) return "must be a finite number";
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        r->SetDouble(message, f, d);
      } else {
        r->SetFloat(message, f, static_cast<float>(d));
      }
      return "";
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!value.is_boolean()) return "must be true or false";
      r->SetBool(message, f, value.get<bool>());
      return "";
    case FieldDescriptor::CPPTYPE_STRING: {
      if (!value.is_string()) return "must be text";
      const std::string text = value.get<std::string>();
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(*message, f); ++i) {
          if (r->GetRepeatedString(*message, f, i) == text) return "";
        }
        r->AddString(message, f, text);
      } else {
        r->SetString(message, f, text);
      }
      return "";
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (!value.is_number_integer()) return "must be one of the mapped codes";
      const int number = value.get<int>();
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(*message, f); ++i) {
          if (r->GetRepeatedEnumValue(*message, f, i) == number) return "";
        }
        r->AddEnumValue(message, f, number);
      } else {
        r->SetEnumValue(message, f, number);
      }
      return "";
    }
    default:
      return "cannot be set";
  }
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

// Questionnaires nest items a few levels deep; deeper is refused rather
// than followed, so that hostile input cannot exhaust the stack.
constexpr int kMaxItemDepth = 16;

// Every item at any depth up to kMaxItemDepth (items nest in items and in
// answers).
void Items(
    const json& holder, const std::string& path, int depth,
    std::multimap<std::string, std::pair<const json*, std::string>>& by_link_id,
    std::vector<Problem>& problems) {
  if (!holder.is_object() || !holder.contains("item") ||
      !holder["item"].is_array()) {
    return;
  }
  if (depth >= kMaxItemDepth) {
    problems.push_back(
        {path + ".item",
         absl::StrCat("items nest deeper than ", kMaxItemDepth, " levels")});
    return;
  }
  const json& items = holder["item"];
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string at = absl::StrCat(path, ".item[", i, "]");
    const json& item = items[i];
    const std::string link_id = Text(item, "linkId");
    if (!link_id.empty())
      by_link_id.emplace(link_id, std::make_pair(&item, at));
    Items(item, at, depth + 1, by_link_id, problems);
    if (item.is_object() && item.contains("answer") &&
        item["answer"].is_array()) {
      for (size_t a = 0; a < item["answer"].size(); ++a) {
        Items(item["answer"][a], absl::StrCat(at, ".answer[", a, "]"),
              depth + 1, by_link_id, problems);
      }
    }
  }
}

void ReadQuestionnaire(const ruleset::FhirMapping& mapping,
                       const std::vector<Found>& resources,
                       v1::Assessment& assessment, Translation& out,
                       std::map<std::string, bool>& seen) {
  if (mapping.questionnaire.empty()) return;
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
  if (chosen == nullptr) return;
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
  std::multimap<std::string, std::pair<const json*, std::string>> by_link_id;
  Items(response, chosen->path, 0, by_link_id, out.problems);
  const std::string source = Reference(response);
  for (const auto& m : mapping.questionnaire_items) {
    auto [begin, end] = by_link_id.equal_range(m.key);
    for (auto it = begin; it != end; ++it) {
      const auto& [item, path] = it->second;
      if (!item->contains("answer")) continue;
      const json& answers = (*item)["answer"];
      if (!answers.is_array()) {
        out.problems.push_back({path + ".answer", "must be a list"});
        continue;
      }
      const bool gathers = m.path.back()->is_repeated();
      for (size_t a = 0; a < answers.size() && (gathers || a == 0); ++a) {
        const std::string at = absl::StrCat(path, ".answer[", a, "]");
        if (!answers[a].is_object()) {
          out.problems.push_back({at, "must be an answer object"});
          continue;
        }
        auto value = ValueOf(m, answers[a], at, out.problems);
        seen[m.label] = true;
        if (!value) continue;
        SetFact(m, *value, at, source, assessment, out);
      }
    }
  }
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
  const std::vector<Found> resources = Resources(prefetch, out.problems);
  for (const Found& found : resources) {
    if (Text(*found.resource, "resourceType") == "Patient") {
      const std::string id = Text(*found.resource, "id");
      if (!id.empty()) assessment.set_patient_ref("Patient/" + id);
    }
  }
  // Facts read (even when unusable), by label.
  std::map<std::string, bool> seen;
  ReadObservations(mapping, resources, assessment, out, seen);
  ReadQuestionnaire(mapping, resources, assessment, out, seen);
  ReadCoded(mapping, resources, assessment, out);
  for (const auto* list :
       {&mapping.observations, &mapping.questionnaire_items}) {
    for (const auto& m : *list) {
      if (!seen.count(m.label)) out.missing.push_back(m.label);
    }
  }
  return out;
}

}  // namespace reconnect::service::fhir
