#ifndef RECONNECT_SERVICE_FHIR_ASSESSMENT_FROM_FHIR_H_
#define RECONNECT_SERVICE_FHIR_ASSESSMENT_FROM_FHIR_H_

// FHIR R4 in: an Assessment from the resources an EHR prefetches (CDS
// Hooks), by the mapping the rule set declares (fhir_mapping.json). Reads
// JSON as sent; never throws, whatever the input.

#include <string>
#include <vector>

#include "engine/ruleset/rule_set.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/assessment.pb.h"

namespace reconnect::service::fhir {

// A part of the input that is not what FHIR R4 says it must be.
struct Problem {
  // Where, as a path into the input: "prefetch.observations.entry[2]
  // .resource.valueQuantity.value".
  std::string path;
  std::string message;
};

struct Translation {
  // The facts set: each mapping's label, and the resource it came from
  // ("Observation/abc").
  std::vector<std::pair<std::string, std::string>> found;
  // The labels of mapped facts the input did not carry.
  std::vector<std::string> missing;
  // Resources or values that are malformed. A fact with a problem is not
  // set; the caller decides whether to go on.
  std::vector<Problem> problems;
};

// Fills `assessment` from `prefetch` (an object of prefetch keys to a
// resource, a Bundle of them, or null) by `mapping`:
// - Observations with status final, amended or corrected, by a code of
//   theirs that the mapping names; the latest (effectiveDateTime, else
//   issued) wins. Their value is valueQuantity.value, valueInteger,
//   valueBoolean, valueString, or a valueCodeableConcept coding that the
//   mapping's answers translate.
// - The latest (authored) QuestionnaireResponse, completed or amended, to
//   the mapping's Questionnaire (its canonical URL, with or without
//   "|version"): items by linkId, at any depth; its id and authored time
//   become assessment_ref and assessed_at.
// - Conditions that stand (clinical status active, recurrence or relapse,
//   or none; not refuted or entered in error) and the participant roles of
//   active CareTeams, by the codes the mapping names: each sets its field
//   to the value mapped (a list gathers). Their absence is not missing.
// - Active MedicationRequests (status active, or none given) become
//   elements of the mapping's list field (medicines): the medication's text
//   (medicationCodeableConcept, or the Medication a medicationReference
//   points at, contained or sent alongside) names it, the first code entry
//   that matches classes it. The response's flag items, answered with a
//   valueReference to a request, set values on that request's element; a
//   flag on a request that is not active changes nothing.
// - The Patient's id becomes patient_ref ("Patient/ID").
// Anything else in the input is ignored.
Translation AssessmentFromPrefetch(const ruleset::FhirMapping& mapping,
                                   const nlohmann::json& prefetch,
                                   v1::Assessment& assessment);

}  // namespace reconnect::service::fhir

#endif  // RECONNECT_SERVICE_FHIR_ASSESSMENT_FROM_FHIR_H_
