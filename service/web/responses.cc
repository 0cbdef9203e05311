#include "service/web/responses.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/web/html.h"

namespace reconnect::service::web {

namespace {

// Scripts and styles from the service only, none inline; nothing framed,
// no other origin reached.
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

}  // namespace

using http::HttpResponse;
using nlohmann::json;

void Harden(HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

// A page with health data: never cached.
HttpResponse HtmlAnswer(int status, std::string html) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(html);
  r.headers.emplace_back("Cache-Control", "no-store");
  Harden(r);
  return r;
}

HttpResponse Message(int status, absl::string_view title,
                     absl::string_view text) {
  PageParts parts;
  parts.title = std::string(title);
  parts.heading = std::string(title);
  parts.main_html = absl::StrCat("<p>", Escape(std::string(text)), "</p>");
  return HtmlAnswer(status, Page(parts));
}

HttpResponse JsonAnswer(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.headers.emplace_back("Cache-Control", "no-store");
  Harden(r);
  return r;
}

HttpResponse JsonError(int status, absl::string_view error,
                       absl::string_view field) {
  json body = {{"error", std::string(error)}};
  if (!field.empty()) body["field"] = std::string(field);
  return JsonAnswer(status, body);
}

HttpResponse PersonRefused(const absl::Status& refusal, absl::string_view pages,
                           absl::string_view who) {
  if (absl::IsUnauthenticated(refusal)) {
    HttpResponse r =
        Message(401, "Sign in needed",
                absl::StrCat(pages, " need a signed-in ", who, "."));
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  return Message(403, "Not allowed",
                 absl::StrCat("Your role does not include ", pages, "."));
}

HttpResponse Busy() {
  HttpResponse r =
      Message(503, "Busy", "Too many pages are being made; try again.");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse NeedsAuditTrail(absl::string_view pages) {
  return Message(404, absl::StrCat(pages, " unavailable"),
                 absl::StrCat(pages,
                              " read the audit trail, and this server runs "
                              "without one (--audit=off)."));
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r;
  r.status = 303;
  r.content_type.clear();
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("Cache-Control", "no-store");
  Harden(r);
  return r;
}

bool PostedByPage(const http::HttpRequest& request) {
  const std::string site = request.Header("sec-fetch-site");
  return absl::StartsWith(request.Header("content-type"), "application/json") &&
         (site.empty() || site == "same-origin");
}

}  // namespace reconnect::service::web
