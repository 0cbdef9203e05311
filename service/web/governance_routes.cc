#include "service/web/governance_routes.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/url/parse.hpp"
#include "boost/url/url_view.hpp"
#include "service/web/internal/store_worker.h"
#include "service/web/responses.h"
#include "service/web/rules_in_practice_page.h"

namespace reconnect::service::web {

namespace {

using http::HttpRequest;
using http::HttpResponse;

constexpr int64_t kDefaultDays = 30;
constexpr int64_t kMaxDays = 5 * 366;
constexpr int64_t kMicrosPerDay = 86'400'000'000;

// A date (YYYY-MM-DD) as a day number; false when it is not one.
bool ParseDay(const std::string& text, int64_t& day) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error)) {
    return false;
  }
  day = absl::ToUnixSeconds(t) / 86400;
  return true;
}

std::string DayText(int64_t day) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(day * 86400),
                          absl::UTCTimeZone());
}

// Rules in practice over the period in `view`, read on the worker.
absl::StatusOr<PracticeView> Practice(StoreWorker& store, PracticeView view) {
  auto reader = store.Reader();
  if (!reader.ok()) return reader.status();
  auto decisions = (*reader)->ListDecisionCounts(view.first_day, view.last_day);
  if (!decisions.ok()) return decisions.status();
  auto rules = (*reader)->ListRuleCounts(view.first_day, view.last_day);
  if (!rules.ok()) return rules.status();
  auto feedback = (*reader)->ListFeedbackCounts(view.first_day, view.last_day);
  if (!feedback.ok()) return feedback.status();
  auto stored = (*reader)->ListRuleSets();
  if (!stored.ok()) return stored.status();
  CountPractice(*decisions, *rules, *feedback, view);
  for (VersionInPractice& v : view.versions) {
    for (const StoredRuleSet& s : *stored) {
      if (s.digest == v.digest) {
        v.id = s.id;
        v.version = s.version;
      }
    }
    // Every rule of the version, in its order, so that the rules that
    // never fired are listed too.
    auto rule_set = store.RuleSet(v.digest);
    if (!rule_set.ok()) continue;
    const ruleset::CompiledRuleSet& rs = **rule_set;
    std::map<std::string, RuleInPractice> counted;
    for (RuleInPractice& r : v.rules) counted[r.rule_id] = std::move(r);
    v.rules.clear();
    for (size_t i = 0; i < rs.rule_count(); ++i) {
      RuleInPractice r = std::move(counted[rs.rule_id(i)]);
      r.rule_id = rs.rule_id(i);
      r.title = rs.rule_title(i);
      v.rules.push_back(std::move(r));
    }
    v.all_rules_known = true;
  }
  if (view.comments_shown) {
    // The newest comments of the period: a bounded read, by the time index.
    FeedbackQuery query;
    query.start_micros = view.first_day * kMicrosPerDay;
    query.end_micros = (view.last_day + 1) * kMicrosPerDay;
    query.with_comment = true;
    query.newest_first = true;
    query.limit = 500;
    auto commented = (*reader)->ListFeedback(query);
    if (!commented.ok()) return commented.status();
    AddComments(*commented, view);
  }
  return view;
}

}  // namespace

GovernanceRoutes::GovernanceRoutes(const RuleSetRegistry& registry,
                                   Authorizer& authorizer,
                                   std::string audit_path)
    : store_(std::make_unique<StoreWorker>(registry, std::move(audit_path),
                                           "governance-web")),
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
    std::move(respond)(Redirect("/governance/rules"));
    return;
  }
  const bool csv = path == "/governance/rules.csv";
  if (path != "/governance/rules" && !csv) {
    std::move(respond)(Message(404, "Not found",
                               "There is no governance page at this address."));
    return;
  }
  if (request.method != "GET") {
    std::move(respond)(http::MethodNotAllowed(request, "GET"));
    return;
  }
  if (!store_->enabled()) {
    std::move(respond)(NeedsAuditTrail("The governance pages"));
    return;
  }
  PracticeView view;
  view.last_day = absl::ToUnixSeconds(absl::Now()) / 86400;
  view.first_day = view.last_day - kDefaultDays + 1;
  for (const auto& param : target->params()) {
    const std::string key = param.key;
    if (key != "from" && key != "to") continue;
    int64_t& day = key == "from" ? view.first_day : view.last_day;
    if (!ParseDay(param.value, day)) {
      std::move(respond)(Message(
          400, "Bad period",
          absl::StrCat("'", key, "' must be a date, e.g. 2026-12-01.")));
      return;
    }
  }
  if (view.first_day > view.last_day ||
      view.last_day - view.first_day >= kMaxDays) {
    std::move(respond)(Message(
        400, "Bad period",
        absl::StrCat("'from' must be on or before 'to', and the period at "
                     "most ",
                     kMaxDays, " days.")));
    return;
  }
  // Comments may hold patient words: the auditor role only.
  view.comments_shown = person->Has(Role::kAuditor);
  view.from = DayText(view.first_day);
  view.to = DayText(view.last_day);
  auto pending = std::make_shared<http::Respond>(std::move(respond));
  StoreWorker* store = store_.get();
  const bool queued = store_->Post([store, view, csv, pending] {
    absl::StatusOr<PracticeView> practice = Practice(*store, view);
    if (!practice.ok()) {
      std::move (*pending)(
          Message(absl::IsFailedPrecondition(practice.status()) ? 409 : 503,
                  "Audit trail unavailable", practice.status().message()));
      return;
    }
    if (!csv) {
      std::move (*pending)(HtmlAnswer(200, RulesInPracticePage(*practice)));
      return;
    }
    HttpResponse r;
    r.content_type = "text/csv; charset=utf-8";
    r.body = RulesInPracticeCsv(*practice);
    r.headers.emplace_back(
        "Content-Disposition",
        absl::StrCat("attachment; filename=\"rules-in-practice-",
                     practice->from, "-to-", practice->to, ".csv\""));
    r.headers.emplace_back("Cache-Control", "no-store");
    Harden(r);
    std::move (*pending)(std::move(r));
  });
  if (!queued) {
    std::move (*pending)(Busy());
  }
}

}  // namespace reconnect::service::web
