#ifndef RECONNECT_SERVICE_WEB_GOVERNANCE_ROUTES_H_
#define RECONNECT_SERVICE_WEB_GOVERNANCE_ROUTES_H_

#include <memory>
#include <string>

#include "service/audit/audit_store.h"
#include "service/audit/impact.h"
#include "service/decision/rule_set_registry.h"
#include "service/decision/rule_set_versions.h"
#include "service/http/http_server.h"
#include "service/security/auth.h"

namespace reconnect::service::web {

class StoreWorker;
template <typename Result>
class BackgroundJob;

// The governance console on `reconnect serve --http_listen`, for the
// auditor and admin roles (bearer JWT, as for the MDT pages):
// - GET /governance/versions: every rule-set version, when each ran, the
//   reloads and activations; for the admin, the buttons below;
// - POST /governance/versions/reload and /governance/versions/activate
//   ({"id", "version"}): the admin's actions, posted as JSON by the page's
//   script after a confirmation, and recorded in the audit store;
// - GET /governance/diff?from=DIGEST&to=DIGEST: two versions side by side
//   (by default the version before the active one, and the active one);
// - GET /governance/trail: the last check of the audit trail, or its
//   progress; POST /governance/trail/verify starts one (JSON, from the
//   page), and GET /governance/trail/status is what the page polls;
// - GET /governance/impact: what a loaded candidate version would change
//   over a period; POST /governance/impact/run ({"candidate": DIGEST,
//   "from", "to"}) starts an analysis, GET /governance/impact/status is what
//   the page polls;
// - GET /governance/rules?from=DATE&to=DATE: rules in practice over a
//   period (the last 30 days by default), with charts;
// - GET /governance/rules.csv?from=DATE&to=DATE: the same as CSV.
// Read from the audit store (its daily counts for periods) on a worker
// thread of their own, which also runs the admin's actions.
class GovernanceRoutes {
 public:
  static constexpr char kPrefix[] = "/governance";

  // `registry` and `authorizer` must outlive the routes; `audit_path` is
  // empty when the audit store is off.
  GovernanceRoutes(const RuleSetRegistry& registry, RuleSetVersions& versions,
                   Authorizer& authorizer, std::string audit_path);
  ~GovernanceRoutes();
  GovernanceRoutes(const GovernanceRoutes&) = delete;
  GovernanceRoutes& operator=(const GovernanceRoutes&) = delete;

  void Handle(http::HttpRequest request, http::Respond respond) const;

 private:
  // Starts an impact analysis (POST /governance/impact/run).
  http::HttpResponse StartImpact(const http::HttpRequest& request,
                                 const Principal& person) const;
  // Reload or activate, for the admin role.
  void Act(const http::HttpRequest& request, const Principal& person,
           http::Respond respond) const;

  std::unique_ptr<StoreWorker> store_;
  // Null when the store is off.
  std::unique_ptr<BackgroundJob<ImpactReport>> impact_;
  std::unique_ptr<BackgroundJob<VerifyReport>> trail_;
  const RuleSetRegistry& registry_;
  RuleSetVersions& versions_;
  Authorizer& authorizer_;
};

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_GOVERNANCE_ROUTES_H_
