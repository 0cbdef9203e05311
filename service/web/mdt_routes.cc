#include "service/web/mdt_routes.h"

#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/url/encode.hpp"
#include "boost/url/parse.hpp"
#include "boost/url/rfc/unreserved_chars.hpp"
#include "boost/url/url_view.hpp"
#include "service/decision/stored_record.h"
#include "service/web/assets.h"
#include "service/web/decision_list_page.h"
#include "service/web/internal/mdt_pages.h"
#include "service/web/mdt_feedback.h"
#include "service/web/responses.h"

namespace reconnect::service::web {

namespace {

using http::HttpRequest;
using http::HttpResponse;

constexpr int kPageSize = 50;
constexpr char kPatientHmacPrefix[] = "hmac-sha256:";

std::optional<HttpResponse> Asset(const std::vector<std::string>& segments) {
  // mdt, assets, hash, name
  if (segments.size() != 4 || segments[1] != "assets") return std::nullopt;
  for (const EmbeddedAsset& a : EmbeddedAssets()) {
    if (a.name != segments[3] || a.sha256.substr(0, 16) != segments[2]) {
      continue;
    }
    HttpResponse r;
    r.content_type = std::string(a.content_type);
    r.body = std::string(a.bytes);
    // The URL names the content: it never changes.
    r.headers.emplace_back("Cache-Control",
                           "public, max-age=31536000, immutable");
    r.headers.emplace_back("ETag",
                           absl::StrCat("\"", std::string(a.sha256), "\""));
    Harden(r);
    return r;
  }
  return Message(404, "Not found", "No such asset in this build.");
}

// A date (YYYY-MM-DD) as the start of its day, UTC; `end` the start of
// the next. Empty: 0.
bool ParseDay(const std::string& text, bool end, int64_t& micros) {
  micros = 0;
  if (text.empty()) return true;
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error)) {
    return false;
  }
  if (end) t += absl::Hours(24);
  micros = absl::ToUnixMicros(t);
  return true;
}

}  // namespace

MdtRoutes::MdtRoutes(const RuleSetRegistry& registry, Authorizer& authorizer,
                     AuditStore* audit, std::string audit_path)
    : worker_(
          std::make_unique<MdtPages>(registry, audit, std::move(audit_path))),
      authorizer_(authorizer) {}

MdtRoutes::~MdtRoutes() = default;

void MdtRoutes::Handle(HttpRequest request, http::Respond respond) const {
  auto target = boost::urls::parse_origin_form(request.target);
  if (!target) {
    std::move(respond)(
        Message(400, "Bad address", "The address is malformed."));
    return;
  }
  std::vector<std::string> segments;
  for (const std::string& s : target->segments()) segments.push_back(s);
  while (!segments.empty() && segments.back().empty()) segments.pop_back();
  if (std::optional<HttpResponse> asset = Asset(segments)) {
    std::move(respond)(*std::move(asset));
    return;
  }
  absl::StatusOr<Principal> person = authorizer_.AuthorizePerson(
      request.Header("authorization"),
      {Role::kClinician, Role::kMdt, Role::kAuditor},
      http::LoggablePath(request.path));
  if (!person.ok()) {
    std::move(respond)(PersonRefused(person.status(), "The MDT pages",
                                     "clinician, MDT member or auditor"));
    return;
  }
  if (!worker_->enabled()) {
    std::move(respond)(NeedsAuditTrail("The MDT pages"));
    return;
  }
  auto pending = std::make_shared<http::Respond>(std::move(respond));
  auto queue = [&](std::function<HttpResponse()> page) {
    if (!worker_->Post([pending, page = std::move(page)] {
          std::move (*pending)(page());
        })) {
      std::move (*pending)(Busy());
    }
  };
  const std::string& method = request.method;
  const size_t n = segments.size();
  if (n == 0 || segments[0] != "mdt") {
    std::move (*pending)(
        Message(404, "Not found", "There is no MDT page at this address."));
    return;
  }
  MdtPages* worker = worker_.get();
  if (n == 1 || (n == 2 && segments[1] == "decisions")) {
    if (method != "GET") {
      std::move (*pending)(http::MethodNotAllowed(request, "GET"));
      return;
    }
    DecisionListView view;
    view.heading = "Recent decisions";
    DecisionQuery query;
    query.newest_first = true;
    query.metadata_only = false;
    query.limit = kPageSize;
    std::string more = "/mdt?";
    for (const auto& param : target->params()) {
      const std::string key = param.key;
      const std::string value = param.value;
      if (key == "from" || key == "to") {
        int64_t& at = key == "from" ? query.start_micros : query.end_micros;
        if (!ParseDay(value, key == "to", at)) {
          std::move (*pending)(Message(
              400, "Bad search",
              absl::StrCat("'", key, "' must be a date, e.g. 2026-12-01.")));
          return;
        }
        (key == "from" ? view.from : view.to) = value;
      } else if (key == "system") {
        query.calling_system = value;
        view.system = value;
      } else if (key == "before") {
        if (!absl::SimpleAtoi(value, &query.before_sequence) ||
            query.before_sequence <= 0) {
          std::move (*pending)(Message(400, "Bad search",
                                       "'before' must be a positive number."));
          return;
        }
        continue;
      }
      if (!value.empty()) {
        absl::StrAppend(
            &more, key, "=",
            boost::urls::encode(value, boost::urls::unreserved_chars), "&");
      }
    }
    queue([worker, query, view, more] {
      return worker->ListPage(query, view, more);
    });
    return;
  }
  if (segments[1] == "patients" && n <= 3) {
    std::string ref;
    if (n == 2 && method == "POST") {
      // A url_view borrows: the text it parses must outlive it.
      const std::string query = absl::StrCat("/?", request.body);
      auto form = boost::urls::parse_origin_form(query);
      if (form) {
        for (const auto& param : form->params()) {
          if (param.key == "ref") ref = param.value;
        }
      }
    } else if (n == 3 && method == "GET") {
      ref = segments[2];
    } else {
      std::move (*pending)(
          http::MethodNotAllowed(request, n == 2 ? "POST" : "GET"));
      return;
    }
    if (ref.empty()) {
      std::move (*pending)(
          Message(400, "No patient", "Give the patient's reference."));
      return;
    }
    if (!absl::StartsWith(ref, kPatientHmacPrefix)) {
      if (patient_ref_key_.empty()) {
        std::move (*pending)(Message(
            404, "Patients not linked",
            "This server stores no patient references (no "
            "--patient_ref_key), so decisions cannot be found by patient."));
        return;
      }
      std::move (*pending)(Redirect(absl::StrCat(
          "/mdt/patients/", PatientRefHmac(patient_ref_key_, ref))));
      return;
    }
    DecisionListView view;
    view.heading = "Decisions for one patient";
    view.patient = true;
    DecisionQuery query;
    query.newest_first = true;
    query.patient_hmac = ref;
    query.limit = kPageSize;
    for (const auto& param : target->params()) {
      if (param.key == "before" && (!absl::SimpleAtoi(std::string(param.value),
                                                      &query.before_sequence) ||
                                    query.before_sequence <= 0)) {
        std::move (*pending)(
            Message(400, "Bad address", "'before' must be a positive number."));
        return;
      }
    }
    const std::string more = absl::StrCat("/mdt/patients/", ref, "?");
    queue([worker, query, view, more] {
      return worker->ListPage(query, view, more);
    });
    return;
  }
  if (segments[1] == "decisions" && n == 3) {
    if (method != "GET") {
      std::move (*pending)(http::MethodNotAllowed(request, "GET"));
      return;
    }
    queue([worker, id = segments[2], who = *person] {
      return worker->DecisionPage(id, who);
    });
    return;
  }
  if (segments[1] == "decisions" && n == 4 && segments[3] == "feedback") {
    if (method != "POST") {
      std::move (*pending)(http::MethodNotAllowed(request, "POST"));
      return;
    }
    if (!person->Has(Role::kClinician) && !person->Has(Role::kMdt)) {
      std::move (*pending)(JsonError(
          403, "recording a decision needs the clinician or mdt role"));
      return;
    }
    if (!PostedByPage(request)) {
      std::move (*pending)(JsonError(
          415, "the decision must be posted as JSON from the care-plan page"));
      return;
    }
    std::string field;
    absl::StatusOr<MdtEntry> entry = ParseMdtEntry(request.body, field);
    if (!entry.ok()) {
      std::move (*pending)(JsonError(400, entry.status().message(), field));
      return;
    }
    if (!worker->Post([worker, id = segments[2], entry = *std::move(entry),
                       who = *person,
                       pending] { worker->Record(id, entry, who, pending); })) {
      std::move (*pending)(JsonError(503, "busy; try again"));
    }
    return;
  }
  std::move (*pending)(
      Message(404, "Not found", "There is no MDT page at this address."));
}

}  // namespace reconnect::service::web
