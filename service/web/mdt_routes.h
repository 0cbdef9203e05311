#ifndef RECONNECT_SERVICE_WEB_MDT_ROUTES_H_
#define RECONNECT_SERVICE_WEB_MDT_ROUTES_H_

#include <memory>
#include <string>

#include "service/audit/audit_store.h"
#include "service/decision/rule_set_registry.h"
#include "service/http/http_server.h"
#include "service/security/auth.h"

namespace reconnect::service::web {

class MdtPages;

// The MDT care-plan view on `reconnect serve --http_listen`:
// - GET /mdt: recent decisions, searched by time and calling system;
// - GET /mdt/decisions/{id}: one decision as a care plan, explained;
// - POST /mdt/decisions/{id}/feedback: the team's decision on one item
//   (JSON), stored as feedback in the audit chain;
// - GET /mdt/patients/{ref}: one patient's decisions over time. {ref} is
//   the patient's stored HMAC; a clear reference (or POST /mdt/patients
//   with `ref`) is turned into it and redirected to, so that the clear
//   reference stays out of addresses, history and logs;
// - GET /mdt/assets/{hash}/{name}: the embedded stylesheet and script.
// People are authenticated by a bearer JWT (as a sign-in proxy in front of
// the pages sends it) and need the clinician, mdt or auditor role; an
// auditor reads only. Reads run on a worker thread of their own, never on
// the HTTP threads.
class MdtRoutes {
 public:
  static constexpr char kPrefix[] = "/mdt";

  // Each must outlive the routes. `audit` may be null and `audit_path`
  // empty (the audit store is off): the pages then say they need it.
  MdtRoutes(const RuleSetRegistry& registry, Authorizer& authorizer,
            AuditStore* audit, std::string audit_path);
  ~MdtRoutes();
  MdtRoutes(const MdtRoutes&) = delete;
  MdtRoutes& operator=(const MdtRoutes&) = delete;

  // The key patient references are stored under (as HMAC-SHA256).
  void SetPatientRefKey(std::string key) { patient_ref_key_ = std::move(key); }

  void Handle(http::HttpRequest request, http::Respond respond) const;

 private:
  std::unique_ptr<MdtPages> worker_;
  Authorizer& authorizer_;
  std::string patient_ref_key_;
};

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_MDT_ROUTES_H_
