#ifndef RECONNECT_SERVICE_HTTP_HTTP_MESSAGE_H_
#define RECONNECT_SERVICE_HTTP_HTTP_MESSAGE_H_

// An HTTP request and response as the routes see them, and the FHIR
// OperationOutcome every refusal carries.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"

namespace reconnect::service::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // the target up to '?'
  // Header names lower-cased, in the order sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The authenticated caller ("cds:ISSUER", ...), set before the routes
  // see the request; empty without authentication.
  std::string caller;
  // The first value of header `name` (lower case), or "".
  std::string Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";  // none when empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// One issue of a FHIR OperationOutcome: `code` a FHIR issue-type, what is
// wrong, and where (a path into the request; empty when not one place).
struct OutcomeIssue {
  std::string code;
  std::string diagnostics;
  std::string expression;
};

// `path` as it may be logged: a patient reference in it (the MDT view's
// /mdt/patients/{ref}) is replaced by "{ref}".
std::string LoggablePath(std::string_view path);

// `status` with a FHIR OperationOutcome of `issues` (all errors).
HttpResponse OutcomeResponse(int status,
                             const std::vector<OutcomeIssue>& issues);

// The answer to a request refused for one reason: `status` with a FHIR
// OperationOutcome whose issue has `code` (a FHIR issue-type) and
// `diagnostics`, and `expression` when non-empty.
HttpResponse ErrorResponse(int status, std::string_view code,
                           std::string_view diagnostics,
                           std::string_view expression = "");

// 405 for a request whose method is not `allow`, with an Allow header.
HttpResponse MethodNotAllowed(const HttpRequest& request,
                              std::string_view allow);

// The body of a POST as JSON; nullopt, with `refusal` set, when the method
// is not POST (405) or the body is not JSON (400, naming the byte).
std::optional<nlohmann::json> PostedJson(const HttpRequest& request,
                                         HttpResponse& refusal);

}  // namespace reconnect::service::http

#endif  // RECONNECT_SERVICE_HTTP_HTTP_MESSAGE_H_
