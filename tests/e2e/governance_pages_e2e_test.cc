// The governance console's "rules in practice" on the real process: after a
// decision from every example, the page and its CSV count each rule's fires
// and holds as the decisions' own recommendations say, list the rules that
// never fired, and chart decisions per day; feedback recorded on a care
// plan shows in the rules' rates, with its reason and comment.

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "service/audit/rule_outcomes.h"
#include "tests/testing/cli.h"
#include "tests/testing/examples.h"
#include "tests/testing/html.h"
#include "tests/testing/http_client.h"
#include "tests/testing/server_process.h"

namespace reconnect {
namespace {

using testing::HasSubstr;
using testing::Not;
using testing_util::Count;
using testing_util::HttpCall;
using testing_util::HttpReply;
using testing_util::ServerProcess;

class GovernancePagesTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/governance_pages_e2e.XXXXXX";
    dir_ = mkdtemp(tmpl);
    server_ = std::make_unique<ServerProcess>(testing_util::ServeBundled(
        {"--audit=" + dir_ + "/audit.db", "--http_listen=127.0.0.1:0"}));
    auto http = server_->WaitForEvent("http_serving", std::chrono::seconds(30));
    ASSERT_TRUE(http.has_value());
    port_ = (*http)["port"].get<int>();
    auto serving = server_->WaitForEvent("serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value());
    auto stub = v1::DecisionSupport::NewStub(
        grpc::CreateChannel((*serving)["address"].get<std::string>(),
                            grpc::InsecureChannelCredentials()));
    // Every example, and the red-flag one twice: what the page must count.
    std::vector<std::string> names = testing_util::ExampleNames();
    names.push_back("red-flag-bleeding.json");
    for (const std::string& name : names) {
      grpc::ClientContext ctx;
      v1::EvaluateResponse response;
      ASSERT_TRUE(stub->Evaluate(&ctx,
                                 testing_util::ExampleRequest(name, "gov-e2e"),
                                 &response)
                      .ok());
      digest_ = response.rule_set().digest();
      if (name == "catastrophising-performance-beliefs.json") {
        decided_ = response;
      }
      const service::RuleOutcomes o =
          service::OutcomesOf(response.recommendation());
      for (const std::string& rule : o.fired) ++fired_[rule];
      for (const auto& [rule, holder] : o.held) ++held_by_[rule][holder];
      ++decisions_;
    }
  }
  void TearDown() override {
    EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(20)), 0);
    std::filesystem::remove_all(dir_);
  }

  HttpReply Get(const std::string& path) {
    auto reply = HttpCall(port_, "GET", path);
    EXPECT_TRUE(reply.has_value()) << path;
    return reply.value_or(HttpReply{});
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
  std::string digest_;
  int decisions_ = 0;
  std::map<std::string, int> fired_;
  std::map<std::string, std::map<std::string, int>> held_by_;
  v1::EvaluateResponse decided_;
};

TEST_F(GovernancePagesTest, RulesInPracticeCountsWhatTheDecisionsSaid) {
  const HttpReply page = Get("/governance/rules");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_THAT(page.headers.at("content-security-policy"),
              HasSubstr("default-src 'none'"));
  const std::string& html = page.body;
  // Thirty days by default, one bar each.
  EXPECT_EQ(Count(html, "<rect class=\"bar\""), 30u);
  EXPECT_THAT(html, HasSubstr(absl::StrCat("Decisions per day: ", decisions_,
                                           " in all")));
  EXPECT_THAT(html, HasSubstr("data-digest=\"" + digest_ + "\""));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("reconnect 1.0.5: ", decisions_,
                                           " decisions")));
  // Every rule of the version: a row and a bar; held bars where held.
  EXPECT_EQ(Count(html, "<tr data-rule="), 29u);
  EXPECT_EQ(Count(html, "<rect class=\"fired\""), 29u);
  EXPECT_EQ(Count(html, "<rect class=\"held\""), held_by_.size());
  for (const auto& [rule, n] : fired_) {
    EXPECT_THAT(html, HasSubstr(absl::StrCat("<tr data-rule=\"", rule, "\">")));
    EXPECT_THAT(html, HasSubstr(absl::StrCat(rule, " fired in ", n, " of ",
                                             decisions_, " decisions")));
  }
  ASSERT_FALSE(held_by_.empty());  // the red flag holds exposure work
  for (const auto& [rule, holders] : held_by_) {
    for (const auto& [holder, n] : holders) {
      EXPECT_THAT(html, HasSubstr(absl::StrCat(holder, " (", n, ")"))) << rule;
    }
  }
  // The rules that never fired, named.
  const size_t never = html.find("Never fired in this period:");
  ASSERT_NE(never, std::string::npos);
  const std::string listed =
      html.substr(never, html.find("</p>", never) - never);
  EXPECT_EQ(Count(listed, "<span class=\"mono\">"), 29u - fired_.size());
  for (const auto& [rule, n] : fired_) {
    EXPECT_THAT(listed, Not(HasSubstr(">" + rule + "<")));
  }
}

// A technique declined at the MDT, with a reason and a comment: each rule
// behind it shows one override, the reason by its words, and the comment.
TEST_F(GovernancePagesTest, AnOverrideShowsInTheRulesRates) {
  ASSERT_FALSE(decided_.decision_id().empty());
  const v1::TechniqueRecommendation& technique =
      decided_.recommendation().components(0).techniques(0);
  const auto posted = HttpCall(
      port_, "POST", "/mdt/decisions/" + decided_.decision_id() + "/feedback",
      absl::StrCat(R"({"item":"technique/)", technique.code(),
                   R"(","outcome":"declined",)",
                   R"("reason":"does-not-align-preferences",)",
                   R"("comment":"Prefers to start later."})"),
      "Content-Type: application/json\r\n");
  ASSERT_TRUE(posted.has_value());
  ASSERT_EQ(posted->status, 201) << posted->body;
  std::set<std::string> behind;
  for (const v1::RuleReason& r : technique.rationale().reasons()) {
    behind.insert(r.rule_id());
  }
  ASSERT_FALSE(behind.empty());

  const std::string html = Get("/governance/rules").body;
  // One mark in the feedback-per-day chart, one per rule behind it.
  EXPECT_EQ(Count(html, "<rect class=\"overridden\""), 1u + behind.size());
  EXPECT_EQ(Count(html, "<rect class=\"accepted\""), 0u);
  for (const std::string& rule : behind) {
    const size_t row = html.find(absl::StrCat("<tr data-rule=\"", rule, "\">"));
    ASSERT_NE(row, std::string::npos) << rule;
    const std::string cells = html.substr(row, html.find("</tr>", row) - row);
    EXPECT_THAT(cells, HasSubstr("0 / 0 / 1 (100% overridden)"));
    EXPECT_THAT(cells, HasSubstr("Recommendation does not align with patient "
                                 "preferences or values (1)"));
    EXPECT_THAT(cells, HasSubstr("Prefers to start later."));
    EXPECT_THAT(cells, HasSubstr("href=\"/mdt/decisions/" +
                                 decided_.decision_id() + "\""));
  }
  // The CSV says the same.
  const std::vector<std::string> lines = absl::StrSplit(
      Get("/governance/rules.csv").body, "\r\n", absl::SkipEmpty());
  size_t overridden = 0;
  for (const std::string& line : lines) {
    const std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (fields.size() < 7 || !behind.count(fields[6])) continue;
    ++overridden;
    EXPECT_THAT(line, testing::EndsWith(
                          ",0,0,1,Recommendation does not align with patient "
                          "preferences or values (1)"));
  }
  EXPECT_EQ(overridden, behind.size());
}

TEST_F(GovernancePagesTest, TheSameFiguresExportAsCsv) {
  const std::string today =
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  const HttpReply csv =
      Get("/governance/rules.csv?from=" + today + "&to=" + today);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.headers.at("content-type"), "text/csv; charset=utf-8");
  EXPECT_THAT(csv.headers.at("content-disposition"), HasSubstr("attachment"));
  std::vector<std::string> lines =
      absl::StrSplit(csv.body, "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 30u);  // the header and 29 rules
  EXPECT_THAT(lines[0], testing::StartsWith("from,to,rule_set_id"));
  for (size_t i = 1; i < lines.size(); ++i) {
    // Titles may hold commas (quoted); the counts are the last fields.
    const std::string& line = lines[i];
    EXPECT_THAT(line, testing::StartsWith(
                          absl::StrCat(today, ",", today, ",reconnect,1.0.5,",
                                       digest_, ",", decisions_, ",")));
    const std::vector<std::string> fields = absl::StrSplit(line, ',');
    const std::string rule = fields[6];
    // No feedback yet: no reasons, no rates.
    EXPECT_THAT(line, testing::EndsWith(",0,0,0,")) << line;
    const std::string fired = fields[fields.size() - 7];
    EXPECT_EQ(fired, absl::StrCat(fired_.count(rule) ? fired_.at(rule) : 0))
        << line;
  }
  // A period with no decisions: no version made any, so only the header.
  const HttpReply empty =
      Get("/governance/rules.csv?from=2020-01-01&to=2020-01-31");
  EXPECT_EQ(empty.status, 200);
  const std::vector<std::string> header_only =
      absl::StrSplit(empty.body, "\r\n", absl::SkipEmpty());
  EXPECT_EQ(header_only.size(), 1u);
}

// The versions page: the loaded version with its metadata, change-log
// entry and use, on the timeline; the start-up reload in the events.
TEST_F(GovernancePagesTest, TheVersionsPageSaysWhatRanAndWhen) {
  const HttpReply page = Get("/governance/versions");
  ASSERT_EQ(page.status, 200) << page.body;
  const std::string& html = page.body;
  EXPECT_THAT(html, HasSubstr("data-version=\"reconnect 1.0.5\""));
  EXPECT_THAT(html, HasSubstr("data-digest=\"" + digest_ + "\""));
  EXPECT_THAT(html, HasSubstr("Active now"));
  EXPECT_THAT(html, HasSubstr("Adds review_by"));  // its change-log entry
  EXPECT_THAT(html, HasSubstr("<dt>Review by</dt><dd>2027-12-01</dd>"));
  const std::string today =
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  EXPECT_THAT(html, HasSubstr(absl::StrCat(decisions_, " decisions, ", today,
                                           " to ", today)));
  EXPECT_EQ(Count(html, "<rect class=\"used\""), 1u);
  EXPECT_EQ(Count(html, "<rect class=\"activation\""), 0u);
  EXPECT_EQ(Count(html, "<tr data-event="), 1u);
  EXPECT_THAT(html, HasSubstr("<td>Reload</td><td>start-up</td><td>Done</td>"
                              "<td>reconnect 1.0.5</td>"));
  // Authorization is off here, so every role: the admin's buttons and the
  // script that confirms them.
  EXPECT_THAT(html, HasSubstr("action=\"/governance/versions/reload\""));
  EXPECT_THAT(html, HasSubstr("governance.js"));
  EXPECT_EQ(Get("/governance").headers.at("location"), "/governance/versions");
}

TEST_F(GovernancePagesTest, TheAdminsActionsAreCheckedAndRecorded) {
  const std::string json = "Content-Type: application/json\r\n";
  auto reload = HttpCall(port_, "POST", "/governance/versions/reload", "{}",
                         json, std::chrono::seconds(60));
  ASSERT_TRUE(reload.has_value());
  EXPECT_EQ(reload->status, 200) << reload->body;
  EXPECT_THAT(reload->body, HasSubstr("reconnect 1.0.5 is active"));
  struct Case {
    std::string path, body, headers;
    int status;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"/governance/versions/activate",
            R"({"id":"reconnect","version":"9.9.9"})", json, 404,
            "reconnect 9.9.9 is not loaded"},
           {"/governance/versions/activate", R"({"id":"reconnect"})", json, 400,
            "'version' (text) is required"},
           {"/governance/versions/activate", R"({"id":7,"version":"1"})", json,
            400, "'id' (text) is required"},
           {"/governance/versions/activate", "[1]", json, 400,
            "must be a JSON object"},
           {"/governance/versions/activate", "id=reconnect&version=1.0.5",
            "Content-Type: application/x-www-form-urlencoded\r\n", 415,
            "posted as JSON from the versions page"},
           {"/governance/versions/reload", "{}",
            json + "Sec-Fetch-Site: cross-site\r\n", 415,
            "posted as JSON from the versions page"},
       }) {
    auto reply = HttpCall(port_, "POST", c.path, c.body, c.headers);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, c.status) << c.body << " " << reply->body;
    EXPECT_THAT(reply->body, HasSubstr(c.says)) << c.body;
  }
  EXPECT_EQ(Get("/governance/versions/reload").status, 405);
  // The reload and the refused activation are on the page, by whom.
  const std::string html = Get("/governance/versions").body;
  EXPECT_EQ(Count(html, "<tr data-event="), 3u);
  EXPECT_THAT(html, HasSubstr("<td>Activation</td><td>an unauthenticated "
                              "local user</td><td>Refused: rule set "
                              "reconnect 9.9.9 is not loaded</td>"));
  EXPECT_THAT(html, HasSubstr("<td>Reload</td><td>an unauthenticated local "
                              "user</td><td>Done</td>"));
}

// With one version there is nothing before the active one: the page offers
// the choice; the same version twice has no differences; a digest the
// service does not know is refused, naming the parameter.
TEST_F(GovernancePagesTest, TheDiffPageComparesTheVersionsItKnows) {
  const HttpReply first = Get("/governance/diff");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_THAT(first.body, HasSubstr("Choose two versions."));
  EXPECT_EQ(Count(first.body, "<option value=\"" + digest_ + "\""), 2u);
  const HttpReply same =
      Get("/governance/diff?from=" + digest_ + "&to=" + digest_);
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_THAT(same.body, HasSubstr("No differences"));
  EXPECT_THAT(same.body, HasSubstr("From <strong>reconnect 1.0.5</strong>"));
  const HttpReply unknown = Get("/governance/diff?from=" + digest_ + "&to=ab");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body,
              HasSubstr("&#39;to&#39; names no rule-set version"));
}

// The trail checked on demand: started by a JSON post, followed by its
// status, then shown intact with the head hash `reconnect audit verify`
// gives.
TEST_F(GovernancePagesTest, TheTrailIsCheckedOnDemand) {
  EXPECT_THAT(Get("/governance/trail").body,
              HasSubstr("Not checked since the service started."));
  const std::string json = "Content-Type: application/json\r\n";
  auto form = HttpCall(port_, "POST", "/governance/trail/verify", "x=1",
                       "Content-Type: application/x-www-form-urlencoded\r\n");
  ASSERT_TRUE(form.has_value());
  EXPECT_EQ(form->status, 415);
  auto started =
      HttpCall(port_, "POST", "/governance/trail/verify", "{}", json);
  ASSERT_TRUE(started.has_value());
  ASSERT_EQ(started->status, 202) << started->body;
  nlohmann::json status;
  for (int i = 0; i < 200; ++i) {
    status = nlohmann::json::parse(Get("/governance/trail/status").body);
    if (!status["running"].get<bool>()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(status["running"].get<bool>());
  EXPECT_TRUE(status["finished"].get<bool>());
  EXPECT_EQ(status["done"], decisions_);
  EXPECT_EQ(status["total"], decisions_);
  const std::string html = Get("/governance/trail").body;
  EXPECT_THAT(html, HasSubstr("data-outcome=\"intact\""));
  EXPECT_THAT(html, HasSubstr(absl::StrCat("<dd id=\"trail-records\">",
                                           decisions_, "</dd>")));
  const auto [exit_code, out] =
      testing_util::RunReconnect("audit verify " + dir_ + "/audit.db");
  ASSERT_EQ(exit_code, 0) << out;
  const size_t at = html.find("id=\"head-hash\" data-copy>");
  ASSERT_NE(at, std::string::npos);
  const std::string hash = html.substr(at + 25, 64);
  EXPECT_THAT(out, HasSubstr(hash));
  EXPECT_EQ(HttpCall(port_, "GET", "/governance/trail/verify")->status, 405);
}

// An impact analysis of the active version over today: every decision is
// evaluated again and none would change; bad requests name their field.
TEST_F(GovernancePagesTest, AnImpactAnalysisRunsAndBadRequestsAreNamed) {
  const std::string today =
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  const std::string json = "Content-Type: application/json\r\n";
  const std::string page = Get("/governance/impact").body;
  EXPECT_THAT(page, HasSubstr("No analysis run since the service started."));
  EXPECT_THAT(page, HasSubstr(absl::StrCat("<option value=\"", digest_,
                                           "\">reconnect 1.0.5 (active)")));
  struct Case {
    std::string body;
    int status;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"candidate":"nope","from":"2026-11-01","to":"2026-11-02"})",
            404, "'candidate' names no loaded rule-set version"},
           {absl::StrCat(R"({"candidate":")", digest_,
                         R"(","from":"soon","to":"2026-11-02"})"),
            400, "'from' must be a date"},
           {absl::StrCat(R"({"candidate":")", digest_,
                         R"(","from":"2026-11-03","to":"2026-11-02"})"),
            400, "'from' must be on or before 'to'"},
           {absl::StrCat(R"({"candidate":")", digest_, R"(","from":"x"})"), 400,
            "'to' (text) is required"},
       }) {
    auto reply =
        HttpCall(port_, "POST", "/governance/impact/run", c.body, json);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, c.status) << c.body << " " << reply->body;
    EXPECT_THAT(reply->body, HasSubstr(c.says)) << c.body;
  }
  EXPECT_EQ(HttpCall(port_, "POST", "/governance/impact/run", "candidate=x",
                     "Content-Type: application/x-www-form-urlencoded\r\n")
                ->status,
            415);
  auto started =
      HttpCall(port_, "POST", "/governance/impact/run",
               absl::StrCat(R"({"candidate":")", digest_, R"(","from":")",
                            today, R"(","to":")", today, R"("})"),
               json);
  ASSERT_TRUE(started.has_value());
  ASSERT_EQ(started->status, 202) << started->body;
  nlohmann::json status;
  for (int i = 0; i < 200; ++i) {
    status = nlohmann::json::parse(Get("/governance/impact/status").body);
    if (!status["running"].get<bool>()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(status["finished"].get<bool>());
  EXPECT_EQ(status["total"], decisions_);
  EXPECT_THAT(Get("/governance/impact").body,
              HasSubstr(absl::StrCat("<strong>", decisions_,
                                     "</strong> recorded decisions evaluated "
                                     "again: <strong>0</strong> would "
                                     "change.")));
}

// `reconnect report`: the console as one self-contained file, from the
// store the running server writes; and its bad arguments, named.
TEST_F(GovernancePagesTest, TheReportIsOneSelfContainedFile) {
  const std::string today =
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  const std::string store = dir_ + "/audit.db";
  const auto [code, html] = testing_util::RunReconnect(
      "report " + store + " --from " + today + " --to " + today);
  ASSERT_EQ(code, 0) << html;
  EXPECT_THAT(html, testing::StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("<form")));
  EXPECT_EQ(Count(html, "<section class=\"report-part\""), 4u);
  EXPECT_THAT(html, HasSubstr("data-version=\"reconnect 1.0.5\""));
  EXPECT_THAT(html, HasSubstr("fewer than two versions: nothing to compare"));
  EXPECT_THAT(html, HasSubstr("data-outcome=\"intact\""));
  EXPECT_EQ(Count(html, "<rect class=\"bar\""), 1u);  // one day
  EXPECT_THAT(html, HasSubstr(absl::StrCat("Decisions per day: ", decisions_,
                                           " in all")));
  EXPECT_EQ(Count(html, "<tr data-rule="), 29u);
  EXPECT_THAT(html, HasSubstr("no assessment content and no comments"));
  EXPECT_THAT(html, Not(HasSubstr("What would a candidate version change?")));
  // With a candidate: its impact over the period (the bundled rule set
  // itself: nothing would change).
  const auto [with_code, with_impact] = testing_util::RunReconnect(
      "report " + store + " --from " + today + " --to " + today +
      " --candidate " + RECONNECT_SOURCE_DIR + "/rules/reconnect/1.0.5");
  ASSERT_EQ(with_code, 0) << with_impact;
  EXPECT_EQ(Count(with_impact, "<section class=\"report-part\""), 5u);
  EXPECT_THAT(with_impact,
              HasSubstr(absl::StrCat("<strong>", decisions_,
                                     "</strong> recorded decisions evaluated "
                                     "again: <strong>0</strong> would "
                                     "change.")));
  for (const auto& [args, says] :
       std::vector<std::pair<std::string, std::string>>{
           {"report " + store + " --from 2026-13-01",
            "--from '2026-13-01' is neither a date"},
           {"report " + store + " --from 2026-12-03 --to 2026-12-01",
            "--from must be on or before --to"},
           {"report " + dir_ + "/none.db", "cannot open audit store"},
           {"report " + store + " --candidate " + dir_,
            "the candidate does not load"},
           {"report", "report takes one store file"}}) {
    const auto [bad, out] = testing_util::RunReconnect(args);
    EXPECT_EQ(bad, 2) << args;
    EXPECT_THAT(out, HasSubstr(says)) << args;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/none.db"));
}

TEST_F(GovernancePagesTest, ABadPeriodIsRefusedNamingIt) {
  const HttpReply bad = Get("/governance/rules?from=2026-13-01");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("&#39;from&#39; must be a date"));
  const HttpReply backwards =
      Get("/governance/rules?from=2026-12-02&to=2026-12-01");
  EXPECT_EQ(backwards.status, 400);
  EXPECT_THAT(backwards.body, HasSubstr("on or before"));
  EXPECT_EQ(Get("/governance/rules?from=2000-01-01&to=2026-12-01").status, 400);
  EXPECT_EQ(Get("/governance").status, 303);
  EXPECT_EQ(HttpCall(port_, "POST", "/governance/versions", "{}")->status, 405);
  EXPECT_EQ(Get("/governance/nothing").status, 404);
  EXPECT_EQ(HttpCall(port_, "POST", "/governance/rules", "{}")->status, 405);
}

}  // namespace
}  // namespace reconnect
