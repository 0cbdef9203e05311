#include "service/cli/serve_http.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/common/log.h"

namespace reconnect::service {

namespace {

bool Refuse(std::string_view reason) {
  Log(LogLevel::kError, "refused_http_listener",
      {{"reason", std::string(reason)}});
  return false;
}

// "scheme://host[:port]" with nothing after: what a browser sends as its
// Origin.
bool IsOrigin(const std::string& origin) {
  const size_t scheme = origin.find("://");
  if (scheme == std::string::npos || (!absl::StartsWith(origin, "https://") &&
                                      !absl::StartsWith(origin, "http://"))) {
    return false;
  }
  const std::string rest = origin.substr(scheme + 3);
  return !rest.empty() && rest.find_first_of("/?#* ") == std::string::npos;
}

// The rules the HTTP listener's options must keep; false (logged) when
// they are refused.
bool CheckHttpOptions(const ServeOptions& o) {
  const bool authenticated = !o.cds_clients.file.empty();
  if (!o.auth.policy_file.empty() && !authenticated) {
    return Refuse(
        "with --policy the HTTP listener must authenticate its callers as "
        "gRPC does: give --cds_clients (the EHRs it trusts and their keys) "
        "and --http_public_url");
  }
  if (authenticated) {
    const std::string& url = o.http_access.public_url;
    if (url.empty()) {
      return Refuse(
          "--cds_clients needs --http_public_url: a client's token must name "
          "the exact URL it calls, and the service must know its own");
    }
    if ((!absl::StartsWith(url, "https://") &&
         !absl::StartsWith(url, "http://")) ||
        absl::EndsWith(url, "/") ||
        url.find_first_of("?# ") != std::string::npos) {
      return Refuse(absl::StrCat(
          "--http_public_url '", url,
          "' must be an http(s) URL without a trailing slash, query or "
          "fragment (https://cds.example.org)"));
    }
  }
  for (const std::string& origin : o.http_access.cors_origins) {
    if (!IsOrigin(origin)) {
      return Refuse(absl::StrCat(
          "--http_cors_origins: '", origin,
          "' is not an origin (scheme://host[:port]); list each one, since "
          "'*' would let any web page call with a clinician's token"));
    }
  }
  if (!IsLoopback(o.http_listen) && !o.insecure &&
      (!TlsConfigured(o.tls) || !authenticated)) {
    return Refuse(absl::StrCat(
        "--http_listen '", o.http_listen,
        "' is beyond loopback: it needs TLS (--tls_cert, --tls_key) and "
        "authenticated callers (--cds_clients), or --insecure"));
  }
  return true;
}

}  // namespace

std::unique_ptr<HttpListener> HttpListener::Prepare(const ServeOptions& options,
                                                    Authorizer& authorizer) {
  if (!CheckHttpOptions(options)) return nullptr;
  std::unique_ptr<HttpListener> listener(new HttpListener());
  if (!options.cds_clients.file.empty()) {
    auto verifier = CdsClientVerifier::Create(options.cds_clients);
    if (!verifier.ok()) {
      Refuse(std::string(verifier.status().message()));
      return nullptr;
    }
    listener->verifier_ = *std::move(verifier);
  } else {
    Log(LogLevel::kWarning, "http_unauthenticated_listener",
        {{"listen", options.http_listen},
         {"reason",
          "no --cds_clients: HTTP callers are not authenticated; for local "
          "use only"}});
  }
  listener->access_ = std::make_unique<http::HttpAccess>(
      options.http_access, listener->verifier_.get(), authorizer);
  return listener;
}

bool HttpListener::Listen(const ServeOptions& options,
                          const http::CdsHooksRoutes& cds,
                          const http::FhirRoutes& fhir,
                          const web::MdtRoutes& mdt,
                          const web::GovernanceRoutes& governance) {
  http::HttpOptions http = options.http;
  http.tls = {options.tls.cert_file, options.tls.key_file,
              absl::Seconds(options.tls.refresh_seconds)};
  auto server = http::HttpServer::Start(
      options.http_listen, http,
      access_->Wrap([&cds, &fhir, &mdt, &governance](http::HttpRequest request,
                                                     http::Respond respond) {
        if (absl::StartsWith(request.path, http::FhirRoutes::kPrefix)) {
          fhir.Handle(std::move(request), std::move(respond));
        } else if (request.path == web::MdtRoutes::kPrefix ||
                   absl::StartsWith(request.path, "/mdt/")) {
          mdt.Handle(std::move(request), std::move(respond));
        } else if (request.path == web::GovernanceRoutes::kPrefix ||
                   absl::StartsWith(request.path, "/governance/")) {
          governance.Handle(std::move(request), std::move(respond));
        } else {
          cds.Handle(std::move(request), std::move(respond));
        }
      }));
  if (!server.ok()) {
    Log(LogLevel::kError, "listen_failed",
        {{"listen", options.http_listen},
         {"reason", std::string(server.status().message())}});
    return false;
  }
  server_ = *std::move(server);
  const int port = server_->port();
  const std::string host =
      options.http_listen.substr(0, options.http_listen.rfind(':'));
  Log(LogLevel::kInfo, "http_serving",
      {{"address", absl::StrCat(host, ":", port)},
       {"port", port},
       {"max_connections", options.http.max_connections},
       {"max_body_bytes", options.http.max_body_bytes},
       {"tls", TlsConfigured(options.tls)},
       {"cds_clients", verifier_ ? verifier_->client_count() : 0},
       {"cors_origins", options.http_access.cors_origins.size()}});
  return true;
}

void HttpListener::ReloadIfChanged() {
  if (verifier_ == nullptr) return;
  if (absl::Status s = verifier_->ReloadIfChanged(); !s.ok()) {
    Log(LogLevel::kError, "cds_clients_reload_refused",
        {{"reason", std::string(s.message())},
         {"still_serving", "the client list and keys loaded before"}});
  }
}

void HttpListener::Shutdown(absl::Duration grace) {
  if (server_) server_->Shutdown(grace);
}

}  // namespace reconnect::service
