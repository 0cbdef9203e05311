#ifndef RECONNECT_SERVICE_HTTP_CDS_HOOKS_H_
#define RECONNECT_SERVICE_HTTP_CDS_HOOKS_H_

#include <string>

#include "nlohmann/json.hpp"
#include "service/audit/audit_store.h"
#include "service/decision/decision_engine.h"
#include "service/decision/rule_set_registry.h"
#include "service/http/http_server.h"
#include "service/security/call_limits.h"

namespace reconnect::service::http {

// The HTTP routes of `reconnect serve --http_listen`, CDS Hooks 2.0:
// - GET /cds-services: discovery, the services the active rule set
//   declares in its cds_hooks.json;
// - POST /cds-services/{id}: a service call. The prefetched FHIR resources
//   become an Assessment (by the rule set's fhir_mapping.json), which is
//   evaluated like any other, recorded in the audit store with the
//   hookInstance, and answered as cards once its record is committed;
// - POST /cds-services/{id}/feedback: what clinicians did with the cards,
//   checked against the cards the service issued and stored in the audit
//   trail (cds_feedback.h).
// Anything else is 404, and a known path with the wrong method 405.
class CdsHooksRoutes {
 public:
  // Each must outlive the routes; `audit` may be null (not recorded).
  CdsHooksRoutes(const RuleSetRegistry& registry, const DecisionEngine& engine,
                 CallLimits& limits, AuditStore* audit)
      : registry_(registry), engine_(engine), limits_(limits), audit_(audit) {}

  // The key patient references are stored under (as HMAC-SHA256); without
  // one they are not stored at all.
  void SetPatientRefKey(std::string key) { patient_ref_key_ = std::move(key); }

  void Handle(HttpRequest request, Respond respond) const;

 private:
  HttpResponse Discovery() const;
  void ServiceCall(const std::string& id, const HttpRequest& request,
                   Respond respond) const;
  void Feedback(const std::string& id, const HttpRequest& request,
                Respond respond) const;

  const RuleSetRegistry& registry_;
  const DecisionEngine& engine_;
  CallLimits& limits_;
  AuditStore* const audit_;
  std::string patient_ref_key_;
};

}  // namespace reconnect::service::http

#endif  // RECONNECT_SERVICE_HTTP_CDS_HOOKS_H_
