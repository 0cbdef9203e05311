#ifndef RECONNECT_SERVICE_FHIR_INTERNAL_READING_H_
#define RECONNECT_SERVICE_FHIR_INTERNAL_READING_H_

// What the readers of FHIR input share: where each resource is, typed
// access to JSON as sent, and setting an input field from a FHIR value.
// None of it throws, whatever the input.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "engine/ruleset/rule_set.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/assessment.pb.h"
#include "service/fhir/assessment_from_fhir.h"

namespace reconnect::service::fhir::fhir_internal {

// A resource found in the input, and where.
struct Found {
  const nlohmann::json* resource;
  std::string path;
};

// The text member `key` of `j`, or "" when `j` is not an object or the
// member is not text.
std::string Text(const nlohmann::json& j, const char* key);

// "Type/id" of `resource`.
std::string Reference(const nlohmann::json& resource);

// "Type/id" of a reference as written: relative ("Medication/1"), absolute
// ("https://ehr/fhir/Medication/1") or versioned (".../_history/2").
std::string ReferenceKey(const std::string& reference);

// Every resource in `prefetch`: each prefetch value, or each entry of a
// Bundle. Malformed containers are problems; null values are skipped.
std::vector<Found> Resources(const nlohmann::json& prefetch,
                             std::vector<Problem>& problems);

// "system|code" of each coding in `codeable` (a CodeableConcept).
std::vector<std::string> Codes(const nlohmann::json& codeable);

// Sets `field` of `message` to `value` (already of the type the mapping or
// the FHIR value gave; a repeated text or enum field gathers), or says why
// it cannot.
std::string SetField(google::protobuf::Message& message,
                     const google::protobuf::FieldDescriptor* field,
                     const nlohmann::json& value);

// The items of a QuestionnaireResponse by linkId, with their paths.
using ItemIndex =
    std::multimap<std::string, std::pair<const nlohmann::json*, std::string>>;

// Every item of `holder` at any depth up to a bound (items nest in items
// and in answers); deeper nesting is a problem, not followed.
void IndexItems(const nlohmann::json& holder, const std::string& path,
                ItemIndex& by_link_id, std::vector<Problem>& problems);

// Calls `each` with every answer (and its path) of the items `link_id`
// names, in order, while it returns true; an answer list that is not a list
// is a problem.
void ForEachAnswer(
    const ItemIndex& items, const std::string& link_id,
    std::vector<Problem>& problems,
    absl::FunctionRef<bool(const nlohmann::json&, const std::string&)> each);

// The active MedicationRequests (or those of the list mapping), each made
// an element of its list field, with the flags `items` (the chosen
// QuestionnaireResponse's; null when there is none) set on them.
void ReadListResources(const ruleset::FhirListMapping& mapping,
                       const std::vector<Found>& resources,
                       const ItemIndex* items, v1::Assessment& assessment,
                       Translation& out);

}  // namespace reconnect::service::fhir::fhir_internal

#endif  // RECONNECT_SERVICE_FHIR_INTERNAL_READING_H_
