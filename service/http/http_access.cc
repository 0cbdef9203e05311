#include "service/http/http_access.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/common/log.h"

namespace reconnect::service::http {

namespace {

constexpr char kAllowedMethods[] = "GET, POST, OPTIONS";
constexpr char kAllowedHeaders[] = "Authorization, Content-Type";
// How long a browser may reuse a preflight's answer.
constexpr char kPreflightMaxAge[] = "600";

// An answer with a status and nothing else that could tell a caller why.
HttpResponse Bare(int status) {
  HttpResponse r;
  r.status = status;
  r.content_type.clear();
  return r;
}

}  // namespace

bool HttpAccess::OriginAllowed(const std::string& origin) const {
  return !origin.empty() &&
         std::find(options_.cors_origins.begin(), options_.cors_origins.end(),
                   origin) != options_.cors_origins.end();
}

void HttpAccess::AllowOrigin(const std::string& origin,
                             HttpResponse& response) const {
  response.headers.emplace_back("Access-Control-Allow-Origin", origin);
  response.headers.emplace_back("Access-Control-Expose-Headers",
                                "Retry-After, WWW-Authenticate");
  response.headers.emplace_back("Vary", "Origin");
}

HttpResponse HttpAccess::Preflight(const HttpRequest& request) const {
  const std::string origin = request.Header("origin");
  const std::string method = request.Header("access-control-request-method");
  if (!OriginAllowed(origin) || (method != "GET" && method != "POST")) {
    Log(LogLevel::kWarning, "cors_preflight_refused",
        {{"origin", origin},
         {"method", method},
         {"path", LoggablePath(request.path)}});
    HttpResponse r = Bare(403);
    r.headers.emplace_back("Vary", "Origin");
    return r;
  }
  HttpResponse r = Bare(204);
  AllowOrigin(origin, r);
  r.headers.emplace_back("Access-Control-Allow-Methods", kAllowedMethods);
  r.headers.emplace_back("Access-Control-Allow-Headers", kAllowedHeaders);
  r.headers.emplace_back("Access-Control-Max-Age", kPreflightMaxAge);
  return r;
}

std::optional<HttpResponse> HttpAccess::Authenticate(
    HttpRequest& request) const {
  if (verifier_ == nullptr) return std::nullopt;
  absl::StatusOr<CdsCaller> caller = verifier_->Verify(
      request.Header("authorization"),
      absl::StrCat(options_.public_url, request.path), absl::Now());
  if (!caller.ok()) {
    const uint64_t count = ++unauthenticated_;
    Log(LogLevel::kWarning, "http_unauthenticated",
        {{"path", LoggablePath(request.path)},
         {"reason", std::string(caller.status().message())},
         {"unauthenticated_total", count}});
    HttpResponse r = Bare(401);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  if (!authorizer_
           .AuthorizeIdentity(caller->Identities(), Role::kEvaluator,
                              LoggablePath(request.path), &request.caller)
           .ok()) {
    return Bare(403);  // logged by the authorizer
  }
  return std::nullopt;
}

HttpHandler HttpAccess::Wrap(HttpHandler next) const {
  return [this, next = std::move(next)](HttpRequest request, Respond respond) {
    const std::string origin = request.Header("origin");
    if (request.method == "OPTIONS" &&
        !request.Header("access-control-request-method").empty()) {
      std::move(respond)(Preflight(request));
      return;
    }
    if (OriginAllowed(origin)) {
      respond = [this, origin,
                 inner = std::move(respond)](HttpResponse response) mutable {
        AllowOrigin(origin, response);
        std::move(inner)(std::move(response));
      };
    }
    // People on the MDT and governance pages are no CDS clients: those
    // routes check their bearer tokens and roles themselves (web/).
    const bool person = request.path == "/mdt" ||
                        absl::StartsWith(request.path, "/mdt/") ||
                        request.path == "/governance" ||
                        absl::StartsWith(request.path, "/governance/");
    if (std::optional<HttpResponse> refused =
            person ? std::nullopt : Authenticate(request)) {
      std::move(respond)(*std::move(refused));
      return;
    }
    next(std::move(request), std::move(respond));
  };
}

}  // namespace reconnect::service::http
