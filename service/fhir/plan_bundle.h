#ifndef RECONNECT_SERVICE_FHIR_PLAN_BUNDLE_H_
#define RECONNECT_SERVICE_FHIR_PLAN_BUNDLE_H_

// FHIR R4 out: a recommendation as the resources of clinical reasoning's
// CDS-on-FHIR pattern (PlanDefinition/$apply), in one Bundle (type
// collection, each entry a urn:uuid the others refer to):
// - a CarePlan (draft, intent proposal): the summary, alerts,
//   considerations and what was held back as notes, and the requests below
//   as its activities;
// - a RequestGroup: an action per component, with an action per technique
//   justified by its rationale (documentation of type justification), the
//   conditions of the rules behind it as text (CEL, in documentation: R4's
//   action.condition takes only CQL, FHIRPath or FHIR queries); prompts for
//   the clinician and the team as a group of actions;
// - a ServiceRequest per discipline (performerType), and per skills gap a
//   referral;
// - a CommunicationRequest per patient or partner prompt;
// - a GuidanceResponse: the decision id as requestIdentifier, the rule set
//   as module, the facts that were not available as dataRequirement.
// Resource ids are name-based uuids of the decision id and the item, so the
// same decision always gives the same Bundle.

#include <string>
#include <vector>

#include "engine/ruleset/rule_set.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/recommendation.pb.h"

namespace reconnect::service::fhir {

struct PlanInput {
  std::string decision_id;
  const ruleset::CompiledRuleSet* rule_set = nullptr;  // that decided
  // "Patient/ID"; empty when the assessment names no patient.
  std::string patient_ref;
  // When the decision was made, as an RFC 3339 dateTime.
  std::string decided_at;
  // The mapped facts (fhir_mapping.json) the decision was made without.
  std::vector<const ruleset::FhirFieldMapping*> missing;
};

nlohmann::json PlanBundle(const v1::Recommendation& recommendation,
                          const PlanInput& input);

// The canonical URL the rule set goes by as a FHIR module:
// "urn:reconnect:fhir:PlanDefinition/ID|VERSION".
std::string ModuleCanonical(const ruleset::RuleSetMetadata& metadata);

// The mapped facts whose field `assessment` leaves unset.
std::vector<const ruleset::FhirFieldMapping*> MissingFacts(
    const ruleset::FhirMapping& mapping,
    const google::protobuf::Message& assessment);

// The mappings of the facts called `labels` (as a Translation lists them).
std::vector<const ruleset::FhirFieldMapping*> FactsByLabel(
    const ruleset::FhirMapping& mapping,
    const std::vector<std::string>& labels);

}  // namespace reconnect::service::fhir

#endif  // RECONNECT_SERVICE_FHIR_PLAN_BUNDLE_H_
