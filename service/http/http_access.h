#ifndef RECONNECT_SERVICE_HTTP_HTTP_ACCESS_H_
#define RECONNECT_SERVICE_HTTP_HTTP_ACCESS_H_

#include <atomic>
#include <string>
#include <vector>

#include "service/http/http_server.h"
#include "service/security/auth.h"
#include "service/security/cds_clients.h"

namespace reconnect::service::http {

struct HttpAccessOptions {
  // The URL the listener is reached at from outside: scheme, host, port,
  // and any path a proxy puts in front (https://cds.example.org). A CDS
  // client's token must name exactly this plus the path it calls as its
  // `aud`. Taken from configuration, never from the request's Host header,
  // which the caller writes.
  std::string public_url;
  // Browser origins (scheme://host[:port]) allowed to call: CORS, for a
  // browser-based EHR or the CDS Hooks sandbox. Others get no CORS headers,
  // so their browsers keep the answers from them.
  std::vector<std::string> cors_origins;
};

// What every HTTP request passes before it reaches the routes:
// - CORS: a preflight (OPTIONS with Access-Control-Request-Method) is
//   answered here, 204 for an allowed origin and 403 otherwise; answers to
//   an allowed origin carry Access-Control-Allow-Origin.
// - Authentication, when a CDS client verifier is given: a bearer JWT on
//   every call, discovery included. Failure is a bare 401 (the reason goes
//   to the log, never the token); a verified client whose identity the
//   policy gives no evaluator role gets a bare 403. The caller's identity
//   goes to the routes in HttpRequest::caller, and so to the audit trail.
//   The MDT pages (/mdt) are for people, not CDS clients: they
//   authenticate their users themselves.
class HttpAccess {
 public:
  // `verifier` may be null: no authentication (loopback only; serve checks).
  // Both must outlive the handler Wrap returns.
  HttpAccess(HttpAccessOptions options, CdsClientVerifier* verifier,
             Authorizer& authorizer)
      : options_(std::move(options)),
        verifier_(verifier),
        authorizer_(authorizer) {}

  HttpHandler Wrap(HttpHandler next) const;

 private:
  bool OriginAllowed(const std::string& origin) const;
  // Adds the CORS headers an allowed origin's answer carries.
  void AllowOrigin(const std::string& origin, HttpResponse& response) const;
  HttpResponse Preflight(const HttpRequest& request) const;
  // Null when the request may go on (its caller set), else the refusal.
  std::optional<HttpResponse> Authenticate(HttpRequest& request) const;

  const HttpAccessOptions options_;
  CdsClientVerifier* const verifier_;
  Authorizer& authorizer_;
  mutable std::atomic<uint64_t> unauthenticated_{0};
};

}  // namespace reconnect::service::http

#endif  // RECONNECT_SERVICE_HTTP_HTTP_ACCESS_H_
