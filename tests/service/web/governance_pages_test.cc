// The governance console's pages as the server draws them, from made-up
// figures: one mark per thing counted, the admin's buttons only where they
// can act, every kind of difference in its place, and the counting of
// feedback per rule (rates, top reasons, at most three comments).

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/web/diff_page.h"
#include "service/web/impact_page.h"
#include "service/web/job_view.h"
#include "service/web/rules_in_practice_page.h"
#include "service/web/trail_page.h"
#include "service/web/versions_page.h"
#include "tests/testing/html.h"

namespace reconnect::service::web {
namespace {

using testing::HasSubstr;
using testing::Not;
using testing_util::Count;

constexpr int64_t kDay = 20'000;  // 2024-10-04
constexpr int64_t kMicrosPerDay = 86'400'000'000;

VersionEntry Version(const std::string& version, const std::string& digest,
                     bool loaded, bool active, int64_t first_day = -1) {
  VersionEntry v;
  v.id = "rs";
  v.version = version;
  v.digest = digest;
  v.loaded = loaded;
  v.active = active;
  v.status = active ? "active" : "draft";
  if (first_day >= 0) {
    v.first_day = first_day;
    v.last_day = first_day + 2;
    v.decisions = 5;
  }
  return v;
}

TEST(VersionsPageTest, MarksAndButtonsFollowWhatHappened) {
  VersionsView view;
  view.today = kDay + 10;
  view.versions = {Version("2.0.0", "d2", true, true, kDay + 5),
                   Version("1.1.0", "d11", true, false),
                   Version("1.0.0", "d1", false, false, kDay)};
  RuleSetEvent activated;
  activated.sequence = 2;
  activated.action = "activate";
  activated.who = "jwt:ops";
  activated.active_digest = "d2";
  activated.time_micros = (kDay + 5) * kMicrosPerDay;
  RuleSetEvent refused = activated;
  refused.sequence = 3;
  refused.refused = "rule set rs 9 is not loaded";
  RuleSetEvent reload;
  reload.sequence = 1;
  reload.action = "reload";
  reload.who = "start-up";
  reload.refusals = {{"/rules/broken", {"ruleset.json:1:1: invalid JSON"}}};
  view.events = {refused, activated, reload};
  view.refusals = reload.refusals;

  view.admin = false;
  std::string html = VersionsPage(view);
  // A bar per version used; a mark per activation that went through.
  EXPECT_EQ(Count(html, "<rect class=\"used\""), 2u);
  EXPECT_EQ(Count(html, "<rect class=\"activation\""), 1u);
  EXPECT_THAT(html, HasSubstr("rs 1.0.0: 5 decisions, 2024-10-04 to "
                              "2024-10-06"));
  EXPECT_THAT(html, HasSubstr("Only in the audit trail"));
  EXPECT_THAT(html, HasSubstr("Active now: <strong>rs 2.0.0</strong>"));
  EXPECT_THAT(html, HasSubstr("Refused: rule set rs 9 is not loaded"));
  EXPECT_THAT(html, HasSubstr("ruleset.json:1:1: invalid JSON"));
  EXPECT_THAT(html, HasSubstr("Refused at the last reload"));
  EXPECT_EQ(Count(html, "form class=\"admin-action\""), 0u);
  EXPECT_THAT(html, Not(HasSubstr("governance.js")));

  // The admin may activate only what is loaded and not active already.
  view.admin = true;
  html = VersionsPage(view);
  EXPECT_EQ(Count(html, "form class=\"admin-action\""), 2u);
  EXPECT_THAT(html, HasSubstr("Make rs 1.1.0 active"));
  EXPECT_THAT(html, Not(HasSubstr("Make rs 1.0.0 active")));
  EXPECT_THAT(html, Not(HasSubstr("Make rs 2.0.0 active")));
  EXPECT_THAT(html, HasSubstr("governance.js"));
}

TEST(VersionsPageTest, EachVersionSaysWhoSignedItOff) {
  VersionsView view;
  view.today = kDay;
  view.versions = {Version("2.0.0", "d2", true, true),
                   Version("1.0.0", "d1", true, false)};
  RuleSetSignature s;
  s.role = "clinical_safety_officer";
  s.signer = "Dr <A> Officer";
  s.signed_at = "2026-12-01T10:00:00Z";
  s.key_id = "cso-2026";
  s.algorithm = "ES256";
  view.versions[0].signatures = {s};
  const std::string html = VersionsPage(view);
  EXPECT_THAT(html, HasSubstr("<li><strong>Clinical safety officer</strong>: "
                              "Dr &lt;A&gt; Officer, signed "
                              "2026-12-01 10:00 UTC with key <span "
                              "class=\"mono\">cso-2026</span> (ES256)</li>"));
  EXPECT_EQ(Count(html, "No recorded sign-off"), 1u);
}

TEST(VersionsPageTest, MetadataComesFromTheVersionsOwnRulesetJson) {
  VersionEntry v;
  v.version = "1.0.1";
  EXPECT_TRUE(ReadVersionMetadata(
      R"({"ruleset":{"status":"active","authors":["A","B"],"approvers":[],)"
      R"("effective_date":"2026-01-01","changelog":[)"
      R"({"version":"1.0.1","date":"2026-01-02","changes":"Fixes a typo."},)"
      R"({"version":"1.0.0","date":"2025-12-01","changes":"First."}]}})",
      v));
  EXPECT_EQ(v.status, "active");
  EXPECT_EQ(v.authors, (std::vector<std::string>{"A", "B"}));
  EXPECT_TRUE(v.approvers.empty());
  EXPECT_EQ(v.change_date, "2026-01-02");
  EXPECT_EQ(v.changes, "Fixes a typo.");
  VersionEntry other;
  EXPECT_FALSE(ReadVersionMetadata("not json", other));
  EXPECT_FALSE(ReadVersionMetadata(R"({"rules":[]})", other));
}

TEST(DiffPageTest, EveryKindOfDifferenceIsInItsPlace) {
  DiffView view;
  view.versions = {{"d2", "rs 2.0.0"}, {"d1", "rs 1.0.0"}};
  view.from = "d1";
  view.to = "d2";
  ruleset::RuleSetDiff diff;
  diff.rules_added = {"r.new"};
  diff.rules_removed = {"r.old"};
  diff.rules_changed = {{"r.changed", {{"when", "\"a > 1\"", "\"a > 2\""}}}};
  diff.changes = {{"ruleset.version", "\"1.0.0\"", "\"2.0.0\""},
                  {"params.max_nrs", "7", "6"},
                  {"catalog.prompts[p1].text", "\"Old <b>\"", ""},
                  {"defs.high", "", "\"x > 1\""}};
  view.diff = diff;
  const std::string html = DiffPage(view);
  EXPECT_THAT(html, HasSubstr("1 rule(s) added, 1 removed, 1 changed; 4"));
  EXPECT_THAT(html, HasSubstr("<ul class=\"added\"><li class=\"mono\" "
                              "data-rule=\"r.new\">"));
  EXPECT_THAT(html, HasSubstr("<ul class=\"removed\"><li class=\"mono\" "
                              "data-rule=\"r.old\">"));
  EXPECT_THAT(html, HasSubstr("data-rule-changed=\"r.changed\""));
  EXPECT_THAT(html, HasSubstr("<pre>&quot;a &gt; 1&quot;</pre>"));
  for (const char* heading : {"Metadata", "Params", "Defs", "Catalog texts"}) {
    EXPECT_THAT(html, HasSubstr(std::string("<h2>") + heading + "</h2>"));
  }
  EXPECT_THAT(html, Not(HasSubstr("Other files")));
  // Escaped, and absent on one side.
  EXPECT_THAT(html, HasSubstr("&quot;Old &lt;b&gt;&quot;"));
  EXPECT_EQ(Count(html, "(absent)"), 2u);
  EXPECT_EQ(Count(html, "<option value=\"d1\" selected>"), 1u);
  EXPECT_EQ(Count(html, "<option value=\"d2\" selected>"), 1u);
  EXPECT_EQ(VersionName(view, "d3abcdef012345"), "d3abcdef0123");
}

TEST(TrailPageTest, SaysWhereTheTrailBrokeAndHowFarACheckHasGot) {
  TrailCheck::State state;
  EXPECT_THAT(TrailPage(state), HasSubstr("Not checked since the service"));
  state.running = true;
  state.done = 4096;
  state.total = 10000;
  std::string html = TrailPage(state);
  EXPECT_THAT(html, HasSubstr("<progress id=\"job-progress\" max=\"10000\" "
                              "value=\"4096\""));
  EXPECT_THAT(html, HasSubstr("Check the trail now</button>"));
  EXPECT_THAT(html, HasSubstr("<button type=\"submit\" disabled>"));
  EXPECT_EQ(JobStatus(state)["done"], 4096);

  state.running = false;
  VerifyReport broken;
  broken.records = 6;
  broken.broken_sequence = 7;
  broken.problem = "record 7 was altered: its hash does not match";
  state.result = broken;
  html = TrailPage(state);
  EXPECT_THAT(html, HasSubstr("data-outcome=\"broken\""));
  EXPECT_THAT(html, HasSubstr("BROKEN</strong> at record 7: record 7 was "
                              "altered"));
  EXPECT_THAT(html, Not(HasSubstr("Keep the head hash")));
  state.result = absl::DataLossError("cannot read /x/audit.db: disk I/O");
  html = TrailPage(state);
  EXPECT_THAT(html, HasSubstr("data-outcome=\"error\""));
  EXPECT_THAT(html, HasSubstr("could not finish:</strong> cannot read "
                              "/x/audit.db: disk I/O"));
  EXPECT_TRUE(JobStatus(state)["finished"].get<bool>());
}

TEST(ImpactPageTest, GainsAndLossesAreChartedWithExampleDecisions) {
  ImpactView view;
  view.candidates = {{"d2", "rs 2.0.0"}, {"d1", "rs 1.0.0 (active)"}};
  view.candidate = "d2";
  view.from = "2026-11-01";
  view.to = "2026-11-30";
  std::string html = ImpactPage(view);
  EXPECT_THAT(html, HasSubstr("<option value=\"d2\" selected>rs 2.0.0"));
  EXPECT_THAT(html, HasSubstr("No analysis run since the service started."));
  EXPECT_THAT(html, HasSubstr("name=\"from\" value=\"2026-11-01\""));

  view.state.running = true;
  view.state.done = 500;
  view.state.total = 2000;
  view.state.subject =
      "rs 2.0.0 over the decisions of 2026-11-01 to 2026-11-30";
  html = ImpactPage(view);
  EXPECT_THAT(html, HasSubstr("max=\"2000\" value=\"500\""));
  EXPECT_THAT(html, HasSubstr("500 of 2000 decisions"));
  EXPECT_EQ(JobStatus(view.state)["total"], 2000);

  view.state.running = false;
  ImpactReport report;
  report.evaluated = 2000;
  report.changed = 300;
  report.items = {{"technique", "pain_education", 0, 250, {"d-7", "d-15"}},
                  {"prompt", "p1", 50, 0, {"d-3"}},
                  {"alert", "a1", 5, 5, {}}};
  view.state.result = report;
  html = ImpactPage(view);
  EXPECT_THAT(html, HasSubstr("<strong>2000</strong> recorded decisions "
                              "evaluated again: <strong>300</strong> would "
                              "change."));
  EXPECT_EQ(Count(html, "<rect class=\"lost\""), 2u);
  EXPECT_EQ(Count(html, "<rect class=\"gained\""), 2u);
  EXPECT_THAT(html, HasSubstr("<a href=\"/mdt/decisions/d-7\""));
  EXPECT_EQ(Count(html, "<tr data-item="), 3u);

  view.state.result = ImpactReport{};
  EXPECT_THAT(ImpactPage(view), HasSubstr("No technique, prompt or alert"));
  view.state.result = absl::UnavailableError("cannot read the audit store");
  EXPECT_THAT(ImpactPage(view), HasSubstr("could not finish:</strong> cannot "
                                          "read the audit store"));
}

TEST(RulesInPracticeTest, FeedbackIsCountedPerRuleWithTheTopReasons) {
  PracticeView view;
  view.first_day = kDay;
  view.last_day = kDay + 1;
  std::vector<FeedbackDayCount> feedback = {
      {kDay, "d", "r1", "accepted", "", "", 3},
      {kDay, "d", "r1", "overridden", "a", "Reason A", 1},
      {kDay, "d", "r1", "overridden", "b", "", 4},
      {kDay + 1, "d", "r1", "overridden", "c", "Reason C", 2},
      {kDay + 1, "d", "r1", "overridden", "dd", "Reason D", 3},
      {kDay + 1, "d", "r1", "modified", "", "", 1},
      {kDay, "d", "*", "accepted", "", "", 3},
      {kDay, "d", "*", "overridden", "", "", 5},
      {kDay + 1, "d", "*", "overridden", "", "", 5},
      {kDay + 1, "d", "*", "modified", "", "", 1},
      {kDay, "d", "r1", "unknown-outcome", "", "", 9},
  };
  CountPractice({{kDay, "d", "ehr", 10}}, {{kDay, "d", "r1", "", 10}}, feedback,
                view);
  ASSERT_EQ(view.versions.size(), 1u);
  ASSERT_EQ(view.versions[0].rules.size(), 1u);
  const RuleInPractice& r = view.versions[0].rules[0];
  EXPECT_EQ(r.accepted, 3);
  EXPECT_EQ(r.modified, 1);
  EXPECT_EQ(r.overridden, 10);
  // The top three, by count; the code where no display text came.
  EXPECT_EQ(r.reasons, (std::vector<std::pair<std::string, int64_t>>{
                           {"b", 4}, {"Reason D", 3}, {"Reason C", 2}}));
  EXPECT_EQ(view.feedback_per_day,
            (std::vector<std::array<int64_t, 3>>{{3, 0, 5}, {0, 1, 5}}));

  FeedbackRecord commented;
  commented.rule_set_digest = "d";
  commented.rule_ids = {"r1", "r2"};
  commented.outcome = "overridden";
  commented.decision_id = "dec-1";
  commented.time_micros = kDay * kMicrosPerDay;
  commented.override_reason = R"({"userComment":"Not yet <ok>"})";
  FeedbackRecord uncommented = commented;
  uncommented.override_reason = R"({"reason":{"code":"x"}})";
  AddComments({commented, uncommented, commented, commented, commented}, view);
  ASSERT_EQ(r.comments.size(), 3u);
  EXPECT_EQ(r.comments[0].text, "Not yet <ok>");
  EXPECT_EQ(r.comments[0].day, "2024-10-04");
  view.comments_shown = true;
  const std::string html = RulesInPracticePage(view);
  EXPECT_THAT(html, HasSubstr("3 / 1 / 10 (71% overridden)"));
  EXPECT_THAT(html, HasSubstr("Not yet &lt;ok&gt;"));
  // Feedback per day: a mark per day and outcome that had any.
  EXPECT_EQ(Count(html, "<rect class=\"overridden\""), 2u + 1u);
  EXPECT_EQ(Count(html, "<rect class=\"accepted\""), 1u + 1u);
  EXPECT_EQ(Count(html, "<rect class=\"modified\""), 1u + 1u);
}

}  // namespace
}  // namespace reconnect::service::web
