#include "service/web/governance_routes.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/url/parse.hpp"
#include "boost/url/url_view.hpp"
#include "engine/ruleset/layout.h"
#include "nlohmann/json.hpp"
#include "service/audit/impact.h"
#include "service/common/status_macros.h"
#include "service/web/console_data.h"
#include "service/web/diff_page.h"
#include "service/web/html.h"
#include "service/web/impact_page.h"
#include "service/web/internal/background_job.h"
#include "service/web/internal/store_worker.h"
#include "service/web/job_view.h"
#include "service/web/responses.h"
#include "service/web/rules_in_practice_page.h"
#include "service/web/trail_page.h"
#include "service/web/versions_page.h"

namespace reconnect::service::web {

namespace {

using http::HttpRequest;
using http::HttpResponse;

constexpr int64_t kDefaultDays = 30;
constexpr int64_t kMaxDays = 5 * 366;
constexpr int64_t kMicrosPerDay = 86'400'000'000;
// Example decisions per item of an impact analysis.
constexpr int kImpactExamples = 5;

// The period of a rules-in-practice address (the last 30 days unless
// `from` and `to` say otherwise); an answer when it is not one.
std::optional<HttpResponse> ReadPeriod(const boost::urls::url_view& target,
                                       PracticeView& view) {
  view.last_day = absl::ToUnixSeconds(absl::Now()) / 86400;
  view.first_day = view.last_day - kDefaultDays + 1;
  for (const auto& param : target.params()) {
    const std::string key = param.key;
    if (key != "from" && key != "to") continue;
    int64_t& day = key == "from" ? view.first_day : view.last_day;
    if (!ParseDay(param.value, day)) {
      return Message(
          400, "Bad period",
          absl::StrCat("'", key, "' must be a date, e.g. 2026-12-01."));
    }
  }
  if (view.first_day > view.last_day ||
      view.last_day - view.first_day >= kMaxDays) {
    return Message(400, "Bad period",
                   absl::StrCat("'from' must be on or before 'to', and the "
                                "period at most ",
                                kMaxDays, " days."));
  }
  view.from = FormatDay(view.first_day);
  view.to = FormatDay(view.last_day);
  return std::nullopt;
}

HttpResponse PracticeAnswer(const PracticeView& practice, bool csv) {
  if (!csv) return HtmlAnswer(200, RulesInPracticePage(practice));
  HttpResponse r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = RulesInPracticeCsv(practice);
  r.headers.emplace_back(
      "Content-Disposition",
      absl::StrCat("attachment; filename=\"rules-in-practice-", practice.from,
                   "-to-", practice.to, ".csv\""));
  r.headers.emplace_back("Cache-Control", "no-store");
  Harden(r);
  return r;
}

HttpResponse StoreProblem(const absl::Status& status) {
  return Message(absl::IsFailedPrecondition(status) ? 409 : 503,
                 "Audit trail unavailable", status.message());
}

}  // namespace

GovernanceRoutes::GovernanceRoutes(const RuleSetRegistry& registry,
                                   RuleSetVersions& versions,
                                   Authorizer& authorizer,
                                   std::string audit_path)
    : store_(std::make_unique<StoreWorker>(registry, audit_path,
                                           "governance-web")),
      impact_(audit_path.empty() ? nullptr
                                 : std::make_unique<ImpactRun>("impact-web")),
      trail_(audit_path.empty() ? nullptr
                                : std::make_unique<TrailCheck>("trail-check")),
      registry_(registry),
      versions_(versions),
      authorizer_(authorizer) {}

GovernanceRoutes::~GovernanceRoutes() = default;

void GovernanceRoutes::Handle(HttpRequest request,
                              http::Respond respond) const {
  absl::StatusOr<Principal> person =
      authorizer_.AuthorizePerson(request.Header("authorization"),
                                  {Role::kAuditor, Role::kAdmin}, request.path);
  if (!person.ok()) {
    std::move(respond)(PersonRefused(person.status(), "The governance pages",
                                     "auditor or admin"));
    return;
  }
  auto target = boost::urls::parse_origin_form(request.target);
  if (!target) {
    std::move(respond)(
        Message(400, "Bad address", "The address is malformed."));
    return;
  }
  const std::string path = request.path;
  if (path == "/governance" || path == "/governance/") {
    std::move(respond)(Redirect("/governance/versions"));
    return;
  }
  const bool action = path == "/governance/versions/activate" ||
                      path == "/governance/versions/reload" ||
                      path == "/governance/trail/verify" ||
                      path == "/governance/impact/run";
  const bool csv = path == "/governance/rules.csv";
  const bool trail =
      path == "/governance/trail" || path == "/governance/trail/status";
  const bool impact =
      path == "/governance/impact" || path == "/governance/impact/status";
  if (path != "/governance/rules" && !csv && path != "/governance/versions" &&
      path != "/governance/diff" && !trail && !impact && !action) {
    std::move(respond)(Message(404, "Not found",
                               "There is no governance page at this address."));
    return;
  }
  if (request.method != (action ? "POST" : "GET")) {
    std::move(respond)(
        http::MethodNotAllowed(request, action ? "POST" : "GET"));
    return;
  }
  if (!store_->enabled()) {
    std::move(respond)(NeedsAuditTrail("The governance pages"));
    return;
  }
  if (path == "/governance/trail/verify") {
    if (!PostedByPage(request)) {
      std::move(respond)(JsonError(
          415, "the check must be started by a JSON post from the trail page"));
      return;
    }
    const std::string store_path = store_->path();
    std::move(respond)(
        trail_->Start(person->identity, "the audit trail",
                      [store_path](const TrailCheck::Progress& progress) {
                        return VerifyAuditTrail(store_path, progress);
                      })
            ? JsonAnswer(202, {{"message", "The check has started."}})
            : JsonError(409, "a check is already running"));
    return;
  }
  if (path == "/governance/impact/run") {
    std::move(respond)(StartImpact(request, *person));
    return;
  }
  if (action) {
    Act(request, *person, std::move(respond));
    return;
  }
  if (impact) {
    ImpactView view;
    view.state = impact_->state();
    if (path == "/governance/impact/status") {
      std::move(respond)(JsonAnswer(200, JobStatus(view.state)));
      return;
    }
    // The loaded versions; by default the newest that is not active.
    const auto active = registry_.Active();
    std::vector<std::shared_ptr<const ruleset::CompiledRuleSet>> loaded =
        registry_.All();
    std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
      return ruleset::VersionLess(b->metadata().version, a->metadata().version);
    });
    for (const auto& rs : loaded) {
      view.candidates.emplace_back(
          rs->digest(),
          absl::StrCat(rs->metadata().id, " ", rs->metadata().version,
                       rs == active ? " (active)" : ""));
      if (view.candidate.empty() && rs != active) view.candidate = rs->digest();
    }
    const int64_t today = absl::ToUnixSeconds(absl::Now()) / 86400;
    view.from = FormatDay(today - kDefaultDays + 1);
    view.to = FormatDay(today);
    std::move(respond)(HtmlAnswer(200, ImpactPage(view)));
    return;
  }
  if (trail) {
    const TrailCheck::State state = trail_->state();
    std::move(respond)(path == "/governance/trail"
                           ? HtmlAnswer(200, TrailPage(state))
                           : JsonAnswer(200, JobStatus(state)));
    return;
  }
  auto pending = std::make_shared<http::Respond>(std::move(respond));
  StoreWorker* store = store_.get();
  std::function<void()> work;
  if (path == "/governance/versions") {
    VersionsView view;
    view.today = absl::ToUnixSeconds(absl::Now()) / 86400;
    view.admin = person->Has(Role::kAdmin);
    view.refusals = versions_.refusals();
    work = [store, &registry = registry_, view, pending] {
      absl::StatusOr<VersionsView> versions =
          ReadVersions(*store, registry, view);
      std::move (*pending)(versions.ok()
                               ? HtmlAnswer(200, VersionsPage(*versions))
                               : StoreProblem(versions.status()));
    };
  } else if (path == "/governance/diff") {
    std::string from, to;
    for (const auto& param : target->params()) {
      if (param.key == "from") from = param.value;
      if (param.key == "to") to = param.value;
    }
    work = [store, &registry = registry_, from, to, pending] {
      absl::StatusOr<DiffView> diff = ReadDiff(*store, registry, from, to);
      if (absl::IsNotFound(diff.status())) {
        std::move (*pending)(
            Message(404, "No such version", diff.status().message()));
        return;
      }
      std::move (*pending)(diff.ok() ? HtmlAnswer(200, DiffPage(*diff))
                                     : StoreProblem(diff.status()));
    };
  } else {
    PracticeView view;
    if (auto refused = ReadPeriod(*target, view)) {
      std::move (*pending)(*std::move(refused));
      return;
    }
    // Comments may hold patient words: the auditor role only.
    view.comments_shown = person->Has(Role::kAuditor);
    work = [store, view, csv, pending] {
      absl::StatusOr<PracticeView> practice = ReadPractice(*store, view);
      std::move (*pending)(practice.ok() ? PracticeAnswer(*practice, csv)
                                         : StoreProblem(practice.status()));
    };
  }
  if (!store_->Post(std::move(work))) {
    std::move (*pending)(Busy());
  }
}

HttpResponse GovernanceRoutes::StartImpact(const HttpRequest& request,
                                           const Principal& person) const {
  if (!PostedByPage(request)) {
    return JsonError(
        415,
        "the analysis must be started by a JSON post from the impact page");
  }
  const nlohmann::json body =
      nlohmann::json::parse(request.body, nullptr, false);
  if (!body.is_object())
    return JsonError(400, "the body must be a JSON object");
  std::string fields[3];
  const char* names[3] = {"candidate", "from", "to"};
  for (int i = 0; i < 3; ++i) {
    if (!body.contains(names[i]) || !body[names[i]].is_string()) {
      return JsonError(400, absl::StrCat("'", names[i], "' (text) is required"),
                       names[i]);
    }
    fields[i] = body[names[i]].get<std::string>();
  }
  std::shared_ptr<const ruleset::CompiledRuleSet> candidate;
  for (const auto& rs : registry_.All()) {
    if (rs->digest() == fields[0]) candidate = rs;
  }
  if (candidate == nullptr) {
    return JsonError(404, "'candidate' names no loaded rule-set version",
                     "candidate");
  }
  int64_t first_day = 0, last_day = 0;
  if (!ParseDay(fields[1], first_day)) {
    return JsonError(400, "'from' must be a date, e.g. 2026-12-01", "from");
  }
  if (!ParseDay(fields[2], last_day)) {
    return JsonError(400, "'to' must be a date, e.g. 2026-12-01", "to");
  }
  if (first_day > last_day) {
    return JsonError(400, "'from' must be on or before 'to'", "from");
  }
  const std::string store_path = store_->path();
  const std::string subject =
      absl::StrCat(candidate->metadata().id, " ", candidate->metadata().version,
                   " over the decisions of ", fields[1], " to ", fields[2]);
  const bool started = impact_->Start(
      person.identity, subject,
      [store_path, candidate, first_day, last_day](
          const ImpactRun::Progress& progress) -> absl::StatusOr<ImpactReport> {
        // A reader of its own: the analysis runs beside the pages.
        ASSIGN_OR_RETURN(std::unique_ptr<AuditReader> reader,
                         AuditReader::Open(store_path));
        // How many there are, for the progress bar, from the daily counts.
        ASSIGN_OR_RETURN(std::vector<DecisionDayCount> days,
                         reader->ListDecisionCounts(first_day, last_day));
        int64_t total = 0;
        for (const DecisionDayCount& d : days) total += d.count;
        DecisionQuery query;
        query.start_micros = first_day * kMicrosPerDay;
        query.end_micros = (last_day + 1) * kMicrosPerDay;
        return AnalyzeImpact(*reader, *candidate, query, kImpactExamples,
                             [&progress, total](int64_t evaluated) {
                               return progress(evaluated, total);
                             });
      });
  return started ? JsonAnswer(202, {{"message", "The analysis has started."}})
                 : JsonError(409, "an analysis is already running");
}

void GovernanceRoutes::Act(const HttpRequest& request, const Principal& person,
                           http::Respond respond) const {
  if (!person.Has(Role::kAdmin)) {
    std::move(respond)(
        JsonError(403,
                  "reloading and activating rule sets needs the admin "
                  "role"));
    return;
  }
  if (!PostedByPage(request)) {
    std::move(respond)(JsonError(
        415, "the action must be posted as JSON from the versions page"));
    return;
  }
  const nlohmann::json body =
      nlohmann::json::parse(request.body, nullptr, false);
  if (!body.is_object()) {
    std::move(respond)(JsonError(400, "the body must be a JSON object"));
    return;
  }
  const bool activate = request.path == "/governance/versions/activate";
  std::string id, version;
  if (activate) {
    for (const char* field : {"id", "version"}) {
      if (!body.contains(field) || !body[field].is_string() ||
          body[field].get<std::string>().empty()) {
        std::move(respond)(JsonError(
            400, absl::StrCat("'", field, "' (text) is required"), field));
        return;
      }
    }
    id = body["id"].get<std::string>();
    version = body["version"].get<std::string>();
  }
  auto pending = std::make_shared<http::Respond>(std::move(respond));
  // On the worker: a reload compiles and tests every version, which takes
  // seconds, and no HTTP thread may wait for it.
  RuleSetVersions& versions = versions_;
  const RuleSetRegistry& registry = registry_;
  const bool queued = store_->Post([&versions, &registry, activate, id, version,
                                    who = person.identity, pending] {
    if (activate) {
      const absl::Status s = versions.Activate(id, version, who);
      std::move (*pending)(
          s.ok()
              ? JsonAnswer(200, {{"message", absl::StrCat(id, " ", version,
                                                          " is now active.")}})
              : JsonError(absl::IsNotFound(s) ? 404 : 503, s.message()));
      return;
    }
    const bool loaded = versions.Reload(who);
    const auto active = registry.Active();
    const size_t refused = versions.refusals().size();
    std::move (*pending)(JsonAnswer(
        loaded ? 200 : 409,
        loaded ? nlohmann::json{{"message",
                                 absl::StrCat(
                                     "Reloaded: ", active->metadata().id, " ",
                                     active->metadata().version, " is active; ",
                                     refused, " directories refused.")}}
               : nlohmann::json{{"error",
                                 "no version loads; the versions before keep "
                                 "serving"}}));
  });
  if (!queued) {
    std::move (*pending)(JsonError(503, "busy; try again"));
  }
}

}  // namespace reconnect::service::web
