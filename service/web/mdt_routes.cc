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
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/url/encode.hpp"
#include "boost/url/parse.hpp"
#include "boost/url/rfc/unreserved_chars.hpp"
#include "boost/url/url_view.hpp"
#include "google/protobuf/util/message_differencer.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/assessment.pb.h"
#include "service/common/log.h"
#include "service/decision/stored_record.h"
#include "service/web/assets.h"
#include "service/web/care_plan_page.h"
#include "service/web/decision_list_page.h"
#include "service/web/html.h"
#include "service/web/mdt_feedback.h"

namespace reconnect::service::web {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

// Scripts and styles from the service only, none inline; nothing framed,
// no other origin reached.
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";
// Pages waiting for the worker; more are refused with 503.
constexpr int kMaxQueued = 32;
constexpr int kPageSize = 50;
constexpr char kPatientHmacPrefix[] = "hmac-sha256:";

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
                       absl::string_view field = "") {
  json body = {{"error", std::string(error)}};
  if (!field.empty()) body["field"] = std::string(field);
  return JsonAnswer(status, body);
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

// Everything that reads the audit store, on one thread of its own.
class MdtRoutes::Worker {
 public:
  Worker(const RuleSetRegistry& registry, AuditStore* audit, std::string path)
      : registry_(registry), audit_(audit), path_(std::move(path)) {}

  bool enabled() const { return audit_ != nullptr && !path_.empty(); }

  // Runs `work` on the worker; false (not queued) when too much waits.
  bool Post(std::function<void()> work) {
    if (queued_.fetch_add(1) >= kMaxQueued) {
      --queued_;
      return false;
    }
    executor_.Post([this, work = std::move(work)] {
      --queued_;
      work();
    });
    return true;
  }

  HttpResponse DecisionPage(const std::string& id, const Principal& person);
  HttpResponse ListPage(DecisionQuery query, DecisionListView view,
                        const std::string& more_url);
  void Record(const std::string& id, const MdtEntry& entry,
              const Principal& person, std::shared_ptr<http::Respond> respond);

 private:
  absl::StatusOr<AuditReader*> Reader() {
    if (!reader_) {
      auto opened = AuditReader::Open(path_);
      if (!opened.ok()) return opened.status();
      reader_ = *std::move(opened);
      replayer_ = std::make_unique<Replayer>(*reader_);
    }
    return reader_.get();
  }

  // The rule set with `digest`: a loaded one, else rebuilt from the store.
  absl::StatusOr<std::shared_ptr<const ruleset::CompiledRuleSet>> RuleSet(
      const std::string& digest) {
    for (auto& rs : registry_.All()) {
      if (rs->digest() == digest) return rs;
    }
    if (absl::Status s = Reader().status(); !s.ok()) return s;
    return replayer_->RuleSet(digest);
  }

  static json OverrideReasons(const ruleset::CompiledRuleSet& rs) {
    const json& hooks = rs.cds_hooks();
    if (!hooks.is_object() || !hooks.contains("cards")) return json::array();
    return hooks["cards"].value("override_reasons", json::array());
  }

  const RuleSetRegistry& registry_;
  AuditStore* const audit_;
  const std::string path_;
  std::atomic<int> queued_{0};
  // Worker thread only.
  std::unique_ptr<AuditReader> reader_;
  std::unique_ptr<Replayer> replayer_;
  // Last: its thread stops before what it uses goes.
  Executor executor_{"mdt", 1};
};

HttpResponse MdtRoutes::Worker::DecisionPage(const std::string& id,
                                             const Principal& person) {
  absl::StatusOr<AuditReader*> reader = Reader();
  if (!reader.ok()) {
    return Message(503, "Audit trail unavailable",
                   "The audit trail cannot be read just now.");
  }
  absl::StatusOr<DecisionRecord> record = (*reader)->GetDecision(id);
  if (absl::IsNotFound(record.status())) {
    return Message(404, "No such decision",
                   absl::StrCat("The audit trail holds no decision ", id, "."));
  }
  if (!record.ok()) {
    return Message(503, "Audit trail unavailable",
                   "The audit trail cannot be read just now.");
  }
  CarePlanView view;
  v1::Assessment assessment;
  if (!view.plan.ParseFromString(record->recommendation) ||
      !assessment.ParseFromString(record->assessment)) {
    return Message(500, "Unreadable decision",
                   absl::StrCat("Decision ", id,
                                " cannot be read back from the audit trail; "
                                "run `reconnect audit verify`."));
  }
  view.record = *std::move(record);
  view.can_record = person.Has(Role::kClinician) || person.Has(Role::kMdt);
  auto rule_set = RuleSet(view.record.rule_set_digest);
  if (!rule_set.ok()) {
    view.explain_problem = std::string(rule_set.status().message());
  } else {
    const ruleset::CompiledRuleSet& rs = **rule_set;
    view.rule_set_id = rs.metadata().id;
    view.rule_set_version = rs.metadata().version;
    view.approvers = rs.metadata().approvers;
    view.review_by = rs.metadata().review_by;
    view.override_reasons = OverrideReasons(rs);
    v1::Recommendation again;
    ruleset::CompiledRuleSet::Explain explain;
    explain.why_not = &view.why_not;
    explain.missing_data = &view.missing_data;
    rs.Evaluate(assessment, again, nullptr, &explain);
    view.explained =
        google::protobuf::util::MessageDifferencer::Equals(again, view.plan);
    if (!view.explained) {
      view.explain_problem =
          "evaluating the recorded assessment again did not give the "
          "recorded plan (see `reconnect replay`)";
    }
  }
  FeedbackQuery feedback;
  feedback.decision_id = id;
  feedback.limit = 10000;
  auto recorded = (*reader)->ListFeedback(feedback);
  if (!recorded.ok()) {
    return Message(503, "Audit trail unavailable",
                   "The audit trail cannot be read just now.");
  }
  view.feedback = *std::move(recorded);
  return HtmlAnswer(200, CarePlanPage(view));
}

HttpResponse MdtRoutes::Worker::ListPage(DecisionQuery query,
                                         DecisionListView view,
                                         const std::string& more_url) {
  absl::StatusOr<AuditReader*> reader = Reader();
  absl::StatusOr<std::vector<DecisionRecord>> decisions =
      reader.ok() ? (*reader)->ListDecisions(query) : reader.status();
  auto rule_sets = reader.ok() ? (*reader)->ListRuleSets() : reader.status();
  if (!decisions.ok() || !rule_sets.ok()) {
    return Message(503, "Audit trail unavailable",
                   "The audit trail cannot be read just now.");
  }
  for (const StoredRuleSet& r : *rule_sets) {
    view.rule_sets[r.digest] = absl::StrCat(r.id, " ", r.version);
  }
  view.decisions = *std::move(decisions);
  if (static_cast<int>(view.decisions.size()) == query.limit) {
    view.older_url =
        absl::StrCat(more_url, "before=", view.decisions.back().sequence);
  }
  return HtmlAnswer(200, DecisionListPage(view));
}

void MdtRoutes::Worker::Record(const std::string& id, const MdtEntry& entry,
                               const Principal& person,
                               std::shared_ptr<http::Respond> respond) {
  auto answer = [&](HttpResponse r) { std::move (*respond)(std::move(r)); };
  absl::StatusOr<AuditReader*> reader = Reader();
  absl::StatusOr<DecisionRecord> record =
      reader.ok() ? (*reader)->GetDecision(id) : reader.status();
  if (absl::IsNotFound(record.status())) {
    return answer(JsonError(404, absl::StrCat("no decision ", id)));
  }
  if (!record.ok()) {
    return answer(JsonError(503, "the audit trail cannot be read just now"));
  }
  v1::Recommendation plan;
  if (!plan.ParseFromString(record->recommendation)) {
    return answer(JsonError(500, "the decision cannot be read back"));
  }
  auto rule_set = RuleSet(record->rule_set_digest);
  const json reasons =
      rule_set.ok() ? OverrideReasons(**rule_set) : json::array();
  std::string field;
  absl::StatusOr<FeedbackRecord> feedback = MdtFeedback(
      entry, id, plan, reasons, person.identity, absl::Now(), field);
  if (!feedback.ok()) {
    return answer(JsonError(400, feedback.status().message(), field));
  }
  const std::string item = feedback->card_item;
  const std::string outcome = feedback->outcome;
  std::vector<FeedbackRecord> entries;
  entries.push_back(*std::move(feedback));
  audit_->AppendFeedback(
      std::move(entries), [respond, item, outcome](const FeedbackResult& r) {
        if (r.status.ok()) {
          Log(LogLevel::kInfo, "mdt_decision_recorded", {{"outcome", outcome}});
          std::move (*respond)(
              JsonAnswer(201, {{"recorded", true}, {"item", item}}));
        } else if (absl::IsInvalidArgument(r.status)) {
          std::move (*respond)(JsonError(400, r.status.message(), r.field));
        } else {
          std::move (*respond)(
              JsonError(503, "the audit trail cannot be written just now"));
        }
      });
}

MdtRoutes::MdtRoutes(const RuleSetRegistry& registry, Authorizer& authorizer,
                     AuditStore* audit, std::string audit_path)
    : worker_(std::make_unique<Worker>(registry, audit, std::move(audit_path))),
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
    const bool who = absl::IsUnauthenticated(person.status());
    HttpResponse r =
        Message(who ? 401 : 403, who ? "Sign in needed" : "Not allowed",
                who ? "These pages need a signed-in clinician, MDT member or "
                      "auditor."
                    : "Your role does not include the MDT pages.");
    if (who) r.headers.emplace_back("WWW-Authenticate", "Bearer");
    std::move(respond)(std::move(r));
    return;
  }
  if (!worker_->enabled()) {
    std::move(respond)(Message(
        404, "MDT pages unavailable",
        "The MDT pages read the audit trail, and this server runs without "
        "one (--audit=off)."));
    return;
  }
  auto pending = std::make_shared<http::Respond>(std::move(respond));
  auto queue = [&](std::function<HttpResponse()> page) {
    if (!worker_->Post([pending, page = std::move(page)] {
          std::move (*pending)(page());
        })) {
      HttpResponse busy =
          Message(503, "Busy", "Too many pages are being made; try again.");
      busy.headers.emplace_back("Retry-After", "1");
      std::move (*pending)(std::move(busy));
    }
  };
  const std::string& method = request.method;
  const size_t n = segments.size();
  if (n == 0 || segments[0] != "mdt") {
    std::move (*pending)(
        Message(404, "Not found", "There is no MDT page at this address."));
    return;
  }
  Worker* worker = worker_.get();
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
      if (param.key == "before") {
        absl::SimpleAtoi(std::string(param.value), &query.before_sequence);
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
    // Only this page's own script may post: a form on another site can
    // send neither JSON nor a same-origin fetch.
    const std::string site = request.Header("sec-fetch-site");
    if (!absl::StartsWith(request.Header("content-type"), "application/json") ||
        (!site.empty() && site != "same-origin")) {
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
