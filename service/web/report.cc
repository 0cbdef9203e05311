#include "service/web/report.h"

#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "service/audit/audit_store.h"
#include "service/audit/impact.h"
#include "service/decision/rule_set_registry.h"
#include "service/web/console_data.h"
#include "service/web/html.h"
#include "service/web/impact_page.h"
#include "service/web/internal/background_job.h"
#include "service/web/internal/store_worker.h"
#include "service/web/trail_page.h"

namespace reconnect::service::web {

namespace {

std::string Part(const std::string& id, const PageParts& parts) {
  return absl::StrCat("<section class=\"report-part\" aria-labelledby=\"", id,
                      "\"><h2 class=\"part\" id=\"", id, "\">",
                      Escape(parts.heading), "</h2>\n", parts.header_html,
                      parts.main_html, "</section>\n");
}

}  // namespace

absl::StatusOr<std::string> GovernanceReport(const ReportOptions& options) {
  // The pages' own readers, on a worker of their own, with no version
  // loaded: every version is rebuilt from the store.
  RuleSetRegistry none;
  StoreWorker store(none, options.store_path, "report");
  struct Read {
    absl::StatusOr<VersionsView> versions;
    absl::StatusOr<DiffView> diff;
    absl::StatusOr<PracticeView> practice;
  };
  std::promise<Read> done;
  store.Post([&] {
    VersionsView versions;
    versions.today = DayOf(absl::ToUnixMicros(absl::Now()));
    PracticeView practice;
    practice.first_day = options.first_day;
    practice.last_day = options.last_day;
    practice.from = FormatDay(options.first_day);
    practice.to = FormatDay(options.last_day);
    practice.comments_shown = options.comments;
    practice.interactive = false;
    done.set_value({ReadVersions(store, none, std::move(versions)),
                    ReadDiff(store, none, "", ""),
                    ReadPractice(store, std::move(practice))});
  });
  Read read = done.get_future().get();
  if (!read.versions.ok()) return read.versions.status();
  if (!read.diff.ok()) return read.diff.status();
  if (!read.practice.ok()) return read.practice.status();
  read.diff->interactive = false;

  TrailCheck::State trail;
  trail.who = "reconnect report";
  trail.result = VerifyAuditTrail(options.store_path);
  trail.finished_micros = absl::ToUnixMicros(absl::Now());
  PageParts trail_parts;
  trail_parts.heading = "Is the audit trail intact?";
  trail_parts.main_html = TrailResult(trail);

  const std::string period = absl::StrCat(FormatDay(options.first_day), " to ",
                                          FormatDay(options.last_day));
  std::string impact;
  if (options.candidate != nullptr) {
    ImpactRun::State state;
    state.who = "reconnect report";
    state.subject = absl::StrCat(options.candidate->metadata().id, " ",
                                 options.candidate->metadata().version,
                                 " over the decisions of ", period);
    absl::StatusOr<std::unique_ptr<AuditReader>> reader =
        AuditReader::Open(options.store_path);
    if (!reader.ok()) return reader.status();
    DecisionQuery query;
    query.start_micros = options.first_day * 86'400'000'000;
    query.end_micros = (options.last_day + 1) * 86'400'000'000;
    state.result = AnalyzeImpact(**reader, *options.candidate, query,
                                 /*max_examples=*/5, nullptr);
    state.finished_micros = absl::ToUnixMicros(absl::Now());
    PageParts parts;
    parts.heading = "What would a candidate version change?";
    parts.main_html = ImpactResult(state);
    impact = Part("impact", parts);
  }
  PageParts report;
  report.title = absl::StrCat("Governance report, ", period);
  report.heading = absl::StrCat("Governance report: ", period);
  report.nav_html = "";
  report.self_contained = true;
  report.header_html = absl::StrCat(
      "<p>From the audit trail in <span class=\"mono\">",
      Escape(options.store_path), "</span>, made ",
      FormatTime(absl::ToUnixMicros(absl::Now())),
      ". Codes, counts and decision ids only",
      options.comments ? ", and the comments sent with feedback, which may "
                         "hold patient words: handle these papers as "
                         "special-category health data"
                       : "; no assessment content and no comments",
      ". Times are UTC.</p>");
  report.main_html = absl::StrCat(
      Part("versions", VersionsParts(*read.versions)),
      Part("diff", DiffParts(*read.diff)), Part("trail", trail_parts),
      Part("rules", RulesInPracticeParts(*read.practice)), impact);
  report.footer_text = report.title;
  return Page(report);
}

}  // namespace reconnect::service::web
