#ifndef RECONNECT_SERVICE_WEB_RESPONSES_H_
#define RECONNECT_SERVICE_WEB_RESPONSES_H_

// The answers every page route gives: pages (never cached, under a strict
// Content-Security-Policy), short messages, JSON and redirects.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "service/http/http_message.h"

namespace reconnect::service::web {

// Adds the security headers every answer of the pages carries.
void Harden(http::HttpResponse& r);

// `html`, a page with health data: never cached.
http::HttpResponse HtmlAnswer(int status, std::string html);

// A page saying `text` under the heading `title`.
http::HttpResponse Message(int status, absl::string_view title,
                           absl::string_view text);

http::HttpResponse JsonAnswer(int status, const nlohmann::json& body);

// {"error": error, "field": field} (no field when empty).
http::HttpResponse JsonError(int status, absl::string_view error,
                             absl::string_view field = "");

// The answer to a person refused by Authorizer::AuthorizePerson: 401 (with
// WWW-Authenticate) when `refusal` is UNAUTHENTICATED, else 403; `pages`
// names the pages and `who` the people they are for.
http::HttpResponse PersonRefused(const absl::Status& refusal,
                                 absl::string_view pages,
                                 absl::string_view who);

// 503 with Retry-After: the pages' worker has too much waiting.
http::HttpResponse Busy();

// 404: `pages` read the audit trail, and the server runs without one.
http::HttpResponse NeedsAuditTrail(absl::string_view pages);

// 303 to `location` (an address on this service).
http::HttpResponse Redirect(const std::string& location);

// Whether `request` was posted by one of these pages' own scripts: JSON,
// and not from another site. A form on another site can send neither JSON
// nor a same-origin fetch, so the people's tokens cannot be used by it.
bool PostedByPage(const http::HttpRequest& request);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_RESPONSES_H_
