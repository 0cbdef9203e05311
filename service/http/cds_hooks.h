#ifndef RECONNECT_SERVICE_HTTP_CDS_HOOKS_H_
#define RECONNECT_SERVICE_HTTP_CDS_HOOKS_H_

#include "service/decision/rule_set_registry.h"
#include "service/http/http_server.h"

namespace reconnect::service::http {

// The HTTP routes of `reconnect serve --http_listen`: CDS Hooks 2.0
// discovery (GET /cds-services) from the active rule set's cds_hooks.json.
// Anything else is 404, and a known path with the wrong method 405.
class CdsHooksRoutes {
 public:
  // `registry` must outlive the routes.
  explicit CdsHooksRoutes(const RuleSetRegistry& registry)
      : registry_(registry) {}

  void Handle(HttpRequest request, Respond respond) const;

 private:
  HttpResponse Discovery() const;

  const RuleSetRegistry& registry_;
};

}  // namespace reconnect::service::http

#endif  // RECONNECT_SERVICE_HTTP_CDS_HOOKS_H_
