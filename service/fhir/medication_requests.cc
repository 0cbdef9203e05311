// MedicationRequests in: each active one becomes an element of the list
// field the rule set's mapping names (medicines), classed by its codes,
// with the flags a QuestionnaireResponse sets on it by reference.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "reconnect/v1/options.pb.h"
#include "service/fhir/internal/reading.h"

namespace reconnect::service::fhir::fhir_internal {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using nlohmann::json;

// What a MedicationRequest says it is for the mapping: a CodeableConcept
// (its own, or its Medication's) and a name.
struct Medication {
  const json* code = nullptr;
  std::string name;
};

// The Medication `reference` points at: contained in `request` ("#id") or
// sent alongside (`sent`, by "Medication/id").
const json* Referenced(const json& request, const std::string& reference,
                       const std::map<std::string, const json*>& sent) {
  if (absl::StartsWith(reference, "#")) {
    auto contained = request.find("contained");
    if (contained == request.end() || !contained->is_array()) return nullptr;
    for (const json& r : *contained) {
      if (Text(r, "resourceType") == "Medication" &&
          Text(r, "id") == reference.substr(1)) {
        return &r;
      }
    }
    return nullptr;
  }
  auto it = sent.find(ReferenceKey(reference));
  return it == sent.end() ? nullptr : it->second;
}

// The medication of `request` (medicationCodeableConcept or
// medicationReference), or nullopt with the problem recorded.
std::optional<Medication> MedicationOf(
    const json& request, const std::string& path,
    const std::map<std::string, const json*>& sent,
    std::vector<Problem>& problems) {
  Medication m;
  if (auto c = request.find("medicationCodeableConcept"); c != request.end()) {
    if (!c->is_object()) {
      problems.push_back(
          {path + ".medicationCodeableConcept", "must be a CodeableConcept"});
      return std::nullopt;
    }
    m.code = &*c;
  } else if (auto r = request.find("medicationReference"); r != request.end()) {
    if (!r->is_object()) {
      problems.push_back(
          {path + ".medicationReference", "must be a Reference"});
      return std::nullopt;
    }
    m.name = Text(*r, "display");
    if (const json* medication =
            Referenced(request, Text(*r, "reference"), sent);
        medication != nullptr && medication->contains("code")) {
      const json& code = (*medication)["code"];
      if (!code.is_object()) {
        problems.push_back({path + ".medicationReference",
                            "points at a Medication whose code is not a "
                            "CodeableConcept"});
        return std::nullopt;
      }
      m.code = &code;
    }
  } else {
    problems.push_back({path + ".medication[x]",
                        "is required (medicationCodeableConcept or "
                        "medicationReference)"});
    return std::nullopt;
  }
  if (m.code != nullptr) {
    // The code's text, else its first display, else the reference's.
    std::string name = Text(*m.code, "text");
    if (name.empty() && m.code->contains("coding") &&
        (*m.code)["coding"].is_array()) {
      for (const json& coding : (*m.code)["coding"]) {
        name = Text(coding, "display");
        if (!name.empty()) break;
      }
    }
    if (!name.empty()) m.name = std::move(name);
  }
  return m;
}

// `text` cut to the field's declared limit in bytes, at a character
// boundary, so that a long drug name never fails a whole call.
std::string Fitted(const FieldDescriptor* field, std::string text) {
  const auto& limits = field->options().GetExtension(v1::limits);
  if (!limits.has_max_length() || text.size() <= limits.max_length()) {
    return text;
  }
  size_t end = limits.max_length();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  text.resize(end);
  return text;
}

// The first code entry, in the order written, that one of `codes` matches.
const ruleset::FhirElementCode* Match(const ruleset::FhirListMapping& mapping,
                                      const std::vector<std::string>& codes) {
  for (const ruleset::FhirElementCode& entry : mapping.codes) {
    for (const std::string& code : codes) {
      if (entry.prefix ? absl::StartsWith(code, entry.code)
                       : code == entry.code) {
        return &entry;
      }
    }
  }
  return nullptr;
}

void SetAll(const std::vector<ruleset::FhirElementValue>& values,
            Message& element, const std::string& path, Translation& out) {
  for (const ruleset::FhirElementValue& v : values) {
    if (std::string problem = SetField(element, v.field, v.value);
        !problem.empty()) {
      out.problems.push_back(
          {path, absl::StrCat(v.field->name(), " ", problem)});
    }
  }
}

}  // namespace

void ReadListResources(const ruleset::FhirListMapping& mapping,
                       const std::vector<Found>& resources,
                       const ItemIndex* items, v1::Assessment& assessment,
                       Translation& out) {
  std::map<std::string, const json*> sent;
  for (const Found& found : resources) {
    if (Text(*found.resource, "resourceType") == "Medication") {
      sent.emplace(Reference(*found.resource), found.resource);
    }
  }
  Message* parent = &assessment;
  for (size_t i = 0; i + 1 < mapping.path.size(); ++i) {
    parent = parent->GetReflection()->MutableMessage(parent, mapping.path[i]);
  }
  const FieldDescriptor* list = mapping.path.back();
  // Each element made, by its request's "MedicationRequest/id".
  std::map<std::string, Message*> made;
  for (const Found& found : resources) {
    const json& r = *found.resource;
    if (Text(r, "resourceType") != "MedicationRequest") continue;
    const std::string status = Text(r, "status");
    if (!status.empty() && status != "active") continue;
    std::optional<Medication> medication =
        MedicationOf(r, found.path, sent, out.problems);
    if (!medication) continue;
    Message* element = parent->GetReflection()->AddMessage(parent, list);
    if (mapping.text != nullptr && !medication->name.empty()) {
      element->GetReflection()->SetString(
          element, mapping.text,
          Fitted(mapping.text, std::move(medication->name)));
    }
    const ruleset::FhirElementCode* match =
        medication->code == nullptr ? nullptr
                                    : Match(mapping, Codes(*medication->code));
    SetAll(match != nullptr ? match->set : mapping.otherwise, *element,
           found.path, out);
    out.found.emplace_back(match != nullptr
                               ? absl::StrCat(mapping.label, ": ", match->label)
                               : mapping.label,
                           Reference(r));
    made.emplace(Reference(r), element);
  }
  if (items == nullptr) return;
  for (const ruleset::FhirElementFlag& flag : mapping.flags) {
    ForEachAnswer(*items, flag.link_id, out.problems,
                  [&](const json& answer, const std::string& at) {
                    const json* ref =
                        answer.is_object() && answer.contains("valueReference")
                            ? &answer["valueReference"]
                            : nullptr;
                    if (ref == nullptr || Text(*ref, "reference").empty()) {
                      out.problems.push_back(
                          {at, absl::StrCat(flag.label,
                                            " must be a valueReference to a "
                                            "MedicationRequest")});
                      return true;
                    }
                    // A request that is not active (or was not sent) has no
                    // element: a flag on a medicine no longer taken changes
                    // nothing.
                    auto element =
                        made.find(ReferenceKey(Text(*ref, "reference")));
                    if (element != made.end()) {
                      SetAll(flag.set, *element->second, at, out);
                      out.found.emplace_back(flag.label, element->first);
                    }
                    return true;
                  });
  }
}

}  // namespace reconnect::service::fhir::fhir_internal
