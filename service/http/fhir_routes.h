#ifndef RECONNECT_SERVICE_HTTP_FHIR_ROUTES_H_
#define RECONNECT_SERVICE_HTTP_FHIR_ROUTES_H_

#include <string>

#include "service/audit/audit_store.h"
#include "service/decision/decision_engine.h"
#include "service/decision/rule_set_registry.h"
#include "service/http/http_server.h"
#include "service/security/call_limits.h"

namespace reconnect::service::http {

// The FHIR R4 routes of `reconnect serve --http_listen`, under /fhir:
// - POST /fhir/PlanDefinition/{id}/$apply, {id} the active rule set's id:
//   a Parameters resource with `subject` (a Patient reference) and `data`
//   (a Bundle of the patient's resources, read by the rule set's
//   fhir_mapping.json as CDS Hooks prefetch is). The decision is recorded
//   like any other, and answered with the plan Bundle (plan_bundle.h).
// Anything else under /fhir is 404, and the wrong method 405.
class FhirRoutes {
 public:
  static constexpr char kPrefix[] = "/fhir/";

  // Each must outlive the routes; `audit` may be null (not recorded).
  FhirRoutes(const RuleSetRegistry& registry, const DecisionEngine& engine,
             CallLimits& limits, AuditStore* audit)
      : registry_(registry), engine_(engine), limits_(limits), audit_(audit) {}

  void SetPatientRefKey(std::string key) { patient_ref_key_ = std::move(key); }

  void Handle(HttpRequest request, Respond respond) const;

 private:
  void Apply(const std::string& id, const HttpRequest& request,
             Respond respond) const;

  const RuleSetRegistry& registry_;
  const DecisionEngine& engine_;
  CallLimits& limits_;
  AuditStore* const audit_;
  std::string patient_ref_key_;
};

}  // namespace reconnect::service::http

#endif  // RECONNECT_SERVICE_HTTP_FHIR_ROUTES_H_
