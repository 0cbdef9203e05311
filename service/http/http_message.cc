#include "service/http/http_message.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace reconnect::service::http {

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

std::string LoggablePath(std::string_view path) {
  constexpr std::string_view kPatients = "/mdt/patients/";
  if (path.substr(0, kPatients.size()) == kPatients &&
      path.size() > kPatients.size()) {
    return std::string(kPatients) + "{ref}";
  }
  return std::string(path);
}

HttpResponse OutcomeResponse(int status,
                             const std::vector<OutcomeIssue>& issues) {
  nlohmann::json list = nlohmann::json::array();
  for (const OutcomeIssue& i : issues) {
    nlohmann::json issue = {{"severity", "error"},
                            {"code", i.code},
                            {"diagnostics", i.diagnostics}};
    if (!i.expression.empty()) {
      issue["expression"] = nlohmann::json::array({i.expression});
    }
    list.push_back(std::move(issue));
  }
  HttpResponse r;
  r.status = status;
  r.content_type = "application/fhir+json";
  r.body = nlohmann::json{{"resourceType", "OperationOutcome"},
                          {"issue", std::move(list)}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse ErrorResponse(int status, std::string_view code,
                           std::string_view diagnostics,
                           std::string_view expression) {
  return OutcomeResponse(status, {{std::string(code), std::string(diagnostics),
                                   std::string(expression)}});
}

HttpResponse MethodNotAllowed(const HttpRequest& request,
                              std::string_view allow) {
  HttpResponse r =
      ErrorResponse(405, "not-supported",
                    absl::StrCat(request.method, " is not allowed on ",
                                 request.path, "; use ", std::string(allow)));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

std::optional<nlohmann::json> PostedJson(const HttpRequest& request,
                                         HttpResponse& refusal) {
  if (request.method != "POST") {
    refusal = MethodNotAllowed(request, "POST");
    return std::nullopt;
  }
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    refusal = ErrorResponse(
        400, "structure",
        absl::StrCat("the request body is not JSON (at byte ", e.byte, ")"));
    return std::nullopt;
  }
}

}  // namespace reconnect::service::http
