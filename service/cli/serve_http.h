#ifndef RECONNECT_SERVICE_CLI_SERVE_HTTP_H_
#define RECONNECT_SERVICE_CLI_SERVE_HTTP_H_

// The HTTP listener of `reconnect serve` (CDS Hooks), and what guards it:
// TLS from the gRPC certificate flags, CDS client tokens, the policy's
// roles and CORS.

#include <memory>

#include "absl/time/time.h"
#include "service/cli/serve.h"
#include "service/http/cds_hooks.h"
#include "service/http/fhir_routes.h"
#include "service/http/http_access.h"
#include "service/http/http_server.h"
#include "service/security/auth.h"
#include "service/security/cds_clients.h"
#include "service/web/governance_routes.h"
#include "service/web/mdt_routes.h"

namespace reconnect::service {

class HttpListener {
 public:
  // Checks the options (TLS and authentication beyond loopback, a public
  // URL for token audiences, real CORS origins) and loads the CDS client
  // list, before anything starts: null, the reason logged, when they are
  // refused. `authorizer` must outlive it.
  static std::unique_ptr<HttpListener> Prepare(const ServeOptions& options,
                                               Authorizer& authorizer);

  // Starts listening; false, the reason logged, when it cannot. The routes
  // must outlive it: /fhir/ goes to `fhir`, everything else to `cds`.
  bool Listen(const ServeOptions& options, const http::CdsHooksRoutes& cds,
              const http::FhirRoutes& fhir, const web::MdtRoutes& mdt,
              const web::GovernanceRoutes& governance);

  // Re-reads the CDS client list and its keys if they changed (logged).
  void ReloadIfChanged();
  // Stops taking requests and answers those in flight for up to `grace`.
  void Shutdown(absl::Duration grace);

 private:
  HttpListener() = default;

  std::unique_ptr<CdsClientVerifier> verifier_;  // null: no authentication
  std::unique_ptr<http::HttpAccess> access_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_CLI_SERVE_HTTP_H_
