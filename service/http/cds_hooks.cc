#include "service/http/cds_hooks.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace reconnect::service::http {

namespace {

constexpr char kDiscoveryPath[] = "/cds-services";

HttpResponse MethodNotAllowed(const HttpRequest& request,
                              std::string_view allow) {
  HttpResponse r =
      ErrorResponse(405, "not-supported",
                    absl::StrCat(request.method, " is not allowed on ",
                                 request.path, "; use ", std::string(allow)));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

}  // namespace

HttpResponse CdsHooksRoutes::Discovery() const {
  auto active = registry_.Active();
  if (active == nullptr) {
    HttpResponse r = ErrorResponse(
        503, "transient",
        "no rule set is loaded; the service offers nothing until one is");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  nlohmann::json services = nlohmann::json::array();
  const nlohmann::json& declared = active->cds_hooks();
  if (declared.is_object() && declared.contains("services")) {
    services = declared["services"];
  }
  HttpResponse r;
  r.body = nlohmann::json{{"services", std::move(services)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

void CdsHooksRoutes::Handle(HttpRequest request, Respond respond) const {
  if (request.path == kDiscoveryPath) {
    if (request.method != "GET") {
      std::move(respond)(MethodNotAllowed(request, "GET"));
      return;
    }
    std::move(respond)(Discovery());
    return;
  }
  std::move(respond)(ErrorResponse(
      404, "not-found",
      absl::StrCat("nothing is served at ", request.path,
                   "; CDS Hooks discovery is GET ", kDiscoveryPath)));
}

}  // namespace reconnect::service::http
