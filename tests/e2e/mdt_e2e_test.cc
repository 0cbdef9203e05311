// The MDT care-plan view on the real process: a decision made from each
// example reads as a care plan with its alerts first, who delivers what,
// why other techniques were not suggested and what is missing; the team's
// decisions are recorded in the audit chain and shown again; patients are
// found through their HMAC only; and only the clinician, mdt and auditor
// roles get in (the auditor read-only).

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "reconnect/v1/governance.grpc.pb.h"
#include "tests/testing/cli.h"
#include "tests/testing/examples.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pki.h"
#include "tests/testing/server_process.h"

namespace reconnect {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing::Not;
using testing_util::HttpCall;
using testing_util::HttpReply;
using testing_util::ServerProcess;

constexpr char kJson[] = "Content-Type: application/json\r\n";

// As the page escapes text.
std::string Html(const std::string& text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"},
                                    {"<", "&lt;"},
                                    {">", "&gt;"},
                                    {"\"", "&quot;"},
                                    {"'", "&#39;"}});
}

// A server with the audit store, the HTTP listener and a patient key; no
// policy (loopback), so every caller holds every role.
class MdtTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/mdt_e2e.XXXXXX";
    dir_ = new std::string(mkdtemp(tmpl));
    testing_util::WriteFile(*dir_ + "/patient.key",
                            std::string(48, 'k') + "patient-key");
    server_ = new ServerProcess(testing_util::ServeBundled(
        {"--audit=" + *dir_ + "/audit.db", "--http_listen=127.0.0.1:0",
         "--patient_ref_key=" + *dir_ + "/patient.key"}));
    auto http = server_->WaitForEvent("http_serving", std::chrono::seconds(30));
    ASSERT_TRUE(http.has_value());
    port_ = (*http)["port"].get<int>();
    auto serving = server_->WaitForEvent("serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value());
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel((*serving)["address"].get<std::string>(),
                            grpc::InsecureChannelCredentials()));
  }
  static void TearDownTestSuite() {
    delete channel_;  // its connection would hold the drain open
    EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(20)), 0);
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // Decides on examples/NAME; with why-not, so that the test knows what the
  // page should explain.
  static v1::EvaluateResponse Decide(const std::string& name,
                                     const std::string& patient = "",
                                     const std::string& system = "mdt-e2e") {
    v1::EvaluateRequest request = testing_util::ExampleRequest(name, system);
    request.set_explanation(v1::EXPLANATION_WHY_NOT);
    if (!patient.empty())
      request.mutable_assessment()->set_patient_ref(patient);
    auto stub = v1::DecisionSupport::NewStub(*channel_);
    grpc::ClientContext ctx;
    v1::EvaluateResponse response;
    grpc::Status s = stub->Evaluate(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  static HttpReply Get(const std::string& path) {
    auto reply = HttpCall(port_, "GET", path);
    EXPECT_TRUE(reply.has_value()) << path;
    return reply.value_or(HttpReply{});
  }

  static HttpReply Post(const std::string& path, const json& body,
                        const std::string& headers = kJson) {
    auto reply = HttpCall(port_, "POST", path, body.dump(), headers);
    EXPECT_TRUE(reply.has_value()) << path;
    return reply.value_or(HttpReply{});
  }

  static std::vector<v1::Feedback> Feedback(const std::string& decision_id) {
    auto stub = v1::Governance::NewStub(*channel_);
    grpc::ClientContext ctx;
    v1::ListFeedbackRequest request;
    request.set_decision_id(decision_id);
    v1::ListFeedbackResponse response;
    grpc::Status s = stub->ListFeedback(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.feedback().begin(), response.feedback().end()};
  }

  static std::string* dir_;
  static ServerProcess* server_;
  static int port_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

std::string* MdtTest::dir_ = nullptr;
ServerProcess* MdtTest::server_ = nullptr;
int MdtTest::port_ = 0;
std::shared_ptr<grpc::Channel>* MdtTest::channel_ = nullptr;

TEST_F(MdtTest, EveryExampleReadsAsAnExplainedCarePlan) {
  for (const std::string& name : testing_util::ExampleNames()) {
    SCOPED_TRACE(name);
    const v1::EvaluateResponse decided = Decide(name);
    const v1::Recommendation& plan = decided.recommendation();
    const HttpReply page = Get("/mdt/decisions/" + decided.decision_id());
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(page.headers.at("content-type"), "text/html; charset=utf-8");
    EXPECT_THAT(page.headers.at("content-security-policy"),
                HasSubstr("script-src 'self'"));
    EXPECT_EQ(page.headers.at("cache-control"), "no-store");
    const std::string& html = page.body;
    // Alerts first, each with its severity in words.
    const size_t alerts = html.find("id=\"alerts\"");
    const size_t techniques = html.find("id=\"plan\"");
    ASSERT_NE(alerts, std::string::npos);
    ASSERT_NE(techniques, std::string::npos);
    EXPECT_LT(alerts, techniques);
    for (const v1::Alert& a : plan.alerts()) {
      const size_t at = html.find(Html(a.title()));
      EXPECT_NE(at, std::string::npos) << a.code();
      EXPECT_LT(at, techniques) << a.code();
      if (a.severity() == v1::SEVERITY_CRITICAL) {
        EXPECT_THAT(html,
                    HasSubstr("Critical</span><strong>" + Html(a.title())));
      }
    }
    // Components, techniques and who delivers each; gaps with referrals.
    for (const v1::ComponentRecommendation& c : plan.components()) {
      EXPECT_THAT(html, HasSubstr("<h3>" + Html(c.display()) + "</h3>"));
      for (const v1::TechniqueRecommendation& t : c.techniques()) {
        EXPECT_THAT(html, HasSubstr("<h4>" + Html(t.display()) + "</h4>"));
      }
    }
    // Every gap: a technique's on its card, a discipline's (one a rule asks
    // for that the team lacks) in a block of its own.
    for (const v1::SkillsGap& g : plan.skills_gaps()) {
      EXPECT_THAT(html,
                  HasSubstr("Skills gap:</strong> " + Html(g.suggestion())));
      if (g.kind() == v1::ITEM_KIND_DISCIPLINE) {
        EXPECT_THAT(html,
                    HasSubstr("data-discipline-gap=\"" + g.code() + "\""));
      }
    }
    for (const v1::Prompt& p : plan.prompts()) {
      EXPECT_THAT(html, HasSubstr(Html(p.text())));
    }
    for (const v1::HeldItem& h : plan.held()) {
      EXPECT_THAT(html, HasSubstr("<strong>" + Html(h.display()) +
                                  "</strong>, held back by"));
    }
    // Why not, per technique a rule not met would add.
    for (const v1::RuleExplanation& x : decided.why_not()) {
      for (const v1::PlanItem& item : x.would_add()) {
        if (item.kind() != v1::ITEM_KIND_TECHNIQUE) continue;
        EXPECT_THAT(html, HasSubstr("data-why-not=\"" + item.code() + "\""));
        EXPECT_THAT(html, HasSubstr("Why not " + Html(item.display()) + "?"));
        EXPECT_THAT(html, HasSubstr(Html(x.clause().expression())));
      }
    }
    if (decided.missing_data().has_worth_measuring()) {
      EXPECT_THAT(
          html,
          HasSubstr(Html(decided.missing_data().worth_measuring().text())));
    }
    for (const v1::UnknownRule& u : decided.missing_data().rules()) {
      EXPECT_THAT(html, HasSubstr(Html(u.text())));
    }
    // The rule set, its review date, and the print footer.
    EXPECT_THAT(html, HasSubstr("reconnect 1.0.5"));
    EXPECT_THAT(html, HasSubstr("<dt>Review by</dt><dd>2027-12-01"));
    EXPECT_THAT(html, HasSubstr("<footer class=\"print-only\">Decision " +
                                decided.decision_id()));
    EXPECT_THAT(html, HasSubstr(decided.rule_set().digest()));
  }
}

TEST_F(MdtTest, ATeamDecisionIsRecordedInTheTrailAndShownAgain) {
  const v1::EvaluateResponse decided =
      Decide("catastrophising-performance-beliefs.json");
  const std::string id = decided.decision_id();
  const v1::TechniqueRecommendation& technique =
      decided.recommendation().components(0).techniques(0);
  const std::string item = "technique/" + technique.code();
  const std::string path = "/mdt/decisions/" + id + "/feedback";

  HttpReply declined = Post(path, {{"item", item},
                                   {"outcome", "declined"},
                                   {"reason", "does-not-align-preferences"},
                                   {"comment", "Prefers to start later."}});
  ASSERT_EQ(declined.status, 201) << declined.body;
  HttpReply accepted = Post(
      path,
      {{"item", "alert/" + (decided.recommendation().alerts().empty()
                                ? std::string("none")
                                : decided.recommendation().alerts(0).code())},
       {"outcome", "accepted"}});
  if (!decided.recommendation().alerts().empty()) {
    EXPECT_EQ(accepted.status, 201) << accepted.body;
  }

  // A later visit shows what was decided, by whom and when.
  const std::string html = Get("/mdt/decisions/" + id).body;
  EXPECT_THAT(html, HasSubstr("<span class=\"outcome\">Declined</span> by "
                              "an unauthenticated local user"));
  EXPECT_THAT(html, HasSubstr("reason: Recommendation does not align with "
                              "patient preferences or values; comment: "
                              "Prefers to start later."));

  // In the trail, as feedback beside CDS Hooks feedback.
  const std::vector<v1::Feedback> listed = Feedback(id);
  ASSERT_FALSE(listed.empty());
  EXPECT_EQ(listed[0].service(), "mdt");
  EXPECT_EQ(listed[0].outcome(), "overridden");
  EXPECT_EQ(listed[0].card_item(), item);
  EXPECT_THAT(listed[0].rule_ids(), testing::Not(testing::IsEmpty()));
  EXPECT_EQ(listed[0].rule_set_digest(), decided.rule_set().digest());
  const auto [exit_code, out] =
      testing_util::RunReconnect("audit verify " + *dir_ + "/audit.db");
  EXPECT_EQ(exit_code, 0) << out;
}

TEST_F(MdtTest, AMalformedDecisionIsRefusedNamingTheField) {
  const v1::EvaluateResponse decided =
      Decide("catastrophising-performance-beliefs.json");
  const std::string path =
      "/mdt/decisions/" + decided.decision_id() + "/feedback";
  const std::string item =
      "technique/" +
      decided.recommendation().components(0).techniques(0).code();
  struct Case {
    json body;
    std::string field;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{{"item", "technique/not-in-plan"}, {"outcome", "accepted"}},
       "item",
       "not an item of this decision's plan"},
      {{{"item", item}, {"outcome", "modified"}},
       "modification",
       "needs its 'modification'"},
      {{{"item", item}, {"outcome", "declined"}},
       "reason",
       "a 'reason', a 'comment', or both"},
      {{{"item", item}, {"outcome", "declined"}, {"reason", "made-up"}},
       "reason",
       "not one of the rule set's reasons"},
      {{{"item", item}, {"outcome", "maybe"}}, "outcome", "accepted, modified"},
      {{{"item", item}, {"outcome", "accepted"}, {"extra", "x"}},
       "extra",
       "unknown member"},
      {{{"item", item},
        {"outcome", "declined"},
        {"comment", std::string(2001, 'x')}},
       "comment",
       "at most 2000 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.dump().substr(0, 120));
    const HttpReply reply = Post(path, c.body);
    EXPECT_EQ(reply.status, 400);
    const json problem = json::parse(reply.body, nullptr, false);
    ASSERT_TRUE(problem.is_object()) << reply.body;
    EXPECT_EQ(problem.value("field", ""), c.field);
    EXPECT_THAT(problem.value("error", ""), HasSubstr(c.says));
  }
  // Not JSON from the page: a form or another site cannot record.
  EXPECT_EQ(Post(path, {{"item", item}, {"outcome", "accepted"}},
                 "Content-Type: application/x-www-form-urlencoded\r\n")
                .status,
            415);
  EXPECT_EQ(Post(path, {{"item", item}, {"outcome", "accepted"}},
                 absl::StrCat(kJson, "Sec-Fetch-Site: cross-site\r\n"))
                .status,
            415);
  EXPECT_EQ(HttpCall(port_, "POST", path, "{not json", kJson)->status, 400);
  EXPECT_EQ(Post("/mdt/decisions/no-such-decision/feedback",
                 {{"item", item}, {"outcome", "accepted"}})
                .status,
            404);
  EXPECT_EQ(Get(path).status, 405);
  EXPECT_EQ(Get("/mdt/decisions/no-such-decision").status, 404);
  EXPECT_EQ(Get("/mdt/nothing-here").status, 404);
  // Nothing of it was stored.
  EXPECT_TRUE(Feedback(decided.decision_id()).empty());
}

TEST_F(MdtTest, APatientIsFoundThroughTheHmacOnly) {
  const std::string patient = "Patient/mdt-p-4471";
  const std::string first = Decide("no-partner.json", patient).decision_id();
  const std::string second =
      Decide("red-flag-bleeding.json", patient).decision_id();
  const std::string other =
      Decide("no-partner.json", "Patient/someone-else").decision_id();

  const HttpReply redirect = Get("/mdt/patients/Patient%2Fmdt-p-4471");
  ASSERT_EQ(redirect.status, 303);
  const std::string location = redirect.headers.at("location");
  EXPECT_THAT(location, testing::StartsWith("/mdt/patients/hmac-sha256:"));
  EXPECT_THAT(location, Not(HasSubstr("4471")));

  const HttpReply page = Get(location);
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr(first));
  EXPECT_THAT(page.body, HasSubstr(second));
  EXPECT_THAT(page.body, Not(HasSubstr(other)));
  EXPECT_LT(page.body.find(second), page.body.find(first));  // newest first
  EXPECT_THAT(page.body, Not(HasSubstr("4471")));
  // The decision page links to the same list.
  EXPECT_THAT(Get("/mdt/decisions/" + first).body,
              HasSubstr("href=\"" + location + "\""));
  // The search form posts the reference, so it is not in an address.
  auto posted =
      HttpCall(port_, "POST", "/mdt/patients", "ref=Patient%2Fmdt-p-4471",
               "Content-Type: application/x-www-form-urlencoded\r\n");
  ASSERT_TRUE(posted.has_value());
  EXPECT_EQ(posted->status, 303);
  EXPECT_EQ(posted->headers.at("location"), location);
  // The clear reference is never logged.
  for (const std::string& line : server_->lines()) {
    EXPECT_THAT(line, Not(HasSubstr("4471")));
  }
}

TEST_F(MdtTest, RecentDecisionsAreSearchedByTimeAndCallingSystem) {
  const std::string mine =
      Decide("no-partner.json", "", "mdt-search-system").decision_id();
  const std::string today =
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  HttpReply found =
      Get("/mdt?system=mdt-search-system&from=" + today + "&to=" + today);
  ASSERT_EQ(found.status, 200);
  EXPECT_THAT(found.body, HasSubstr(mine));
  EXPECT_THAT(found.body, HasSubstr("value=\"mdt-search-system\""));
  EXPECT_THAT(Get("/mdt?system=another-system").body,
              HasSubstr("No decisions found."));
  EXPECT_THAT(Get("/mdt?system=mdt-search-system&to=2000-01-01").body,
              HasSubstr("No decisions found."));
  const HttpReply bad = Get("/mdt?from=yesterday");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("&#39;from&#39; must be a date"));
  EXPECT_EQ(Get("/mdt").status, 200);
}

TEST_F(MdtTest, AssetsAreEmbeddedAndCachedByContent) {
  const std::string html = Get("/mdt").body;
  auto linked = [&](const std::string& before) {
    const size_t at = html.find(before);
    if (at == std::string::npos) return std::string();
    const size_t start = at + before.size();
    return html.substr(start, html.find('"', start) - start);
  };
  const std::string url = linked("<link rel=\"stylesheet\" href=\"");
  ASSERT_THAT(url, testing::StartsWith("/mdt/assets/"));
  const HttpReply icon = Get(linked("<link rel=\"icon\" href=\""));
  EXPECT_EQ(icon.status, 200);
  EXPECT_EQ(icon.headers.at("content-type"), "image/svg+xml");
  const HttpReply css = Get(url);
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.headers.at("content-type"), "text/css; charset=utf-8");
  EXPECT_THAT(css.headers.at("cache-control"), HasSubstr("immutable"));
  EXPECT_THAT(css.body, HasSubstr("@media print"));
  EXPECT_EQ(Get("/mdt/assets/0000000000000000/mdt.css").status, 404);
}

// With a policy: people sign in with a bearer JWT, and their roles decide.
class MdtAccessTest : public testing::Test {
 protected:
  static constexpr char kIssuer[] = "https://login.example.test";
  static constexpr char kAudience[] = "reconnect-mdt";

  void SetUp() override {
    char tmpl[] = "/tmp/mdt_access_e2e.XXXXXX";
    dir_ = mkdtemp(tmpl);
    key_ = std::make_unique<testing_util::Key>(testing_util::Key::EcP256());
    testing_util::WriteFile(dir_ + "/jwks.json",
                            json({{"keys", {key_->Jwk("people-1")}}}).dump());
    // A CDS client list is needed for the listener to run with a policy;
    // no client calls here.
    testing_util::WriteFile(
        dir_ + "/clients.json",
        json({{"clients",
               {{{"issuer", "https://ehr.example.test"},
                 {"jwks", {{"keys", {key_->Jwk("ehr-1")}}}}}}}})
            .dump());
    testing_util::WriteFile(dir_ + "/policy.json", R"({"bindings": [
      {"jwt_subject": "dr-adams", "roles": ["clinician"]},
      {"jwt_subject": "mdt-lead", "roles": ["mdt"]},
      {"jwt_subject": "auditor-1", "roles": ["auditor"]},
      {"jwt_subject": "ehr-system", "roles": ["evaluator"]}
    ]})");
    server_ = std::make_unique<ServerProcess>(testing_util::ServeBundled(
        {"--audit=" + dir_ + "/audit.db", "--http_listen=127.0.0.1:0",
         "--policy=" + dir_ + "/policy.json", "--jwks=" + dir_ + "/jwks.json",
         std::string("--jwt_issuer=") + kIssuer,
         std::string("--jwt_audience=") + kAudience,
         "--cds_clients=" + dir_ + "/clients.json",
         "--http_public_url=https://cds.example.test"}));
    auto http = server_->WaitForEvent("http_serving", std::chrono::seconds(30));
    ASSERT_TRUE(http.has_value());
    port_ = (*http)["port"].get<int>();
    auto serving = server_->WaitForEvent("serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value());
    address_ = (*serving)["address"].get<std::string>();
  }
  void TearDown() override {
    EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(20)), 0);
    std::filesystem::remove_all(dir_);
  }

  std::string Bearer(const std::string& subject) const {
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    return absl::StrCat(
        "Authorization: Bearer ",
        testing_util::SignJwt({{"alg", "ES256"}, {"kid", "people-1"}},
                              {{"iss", kIssuer},
                               {"sub", subject},
                               {"aud", kAudience},
                               {"iat", now},
                               {"exp", now + 300}},
                              *key_),
        "\r\n");
  }

  // A decision, made over gRPC by the evaluator.
  std::string Decide() {
    auto stub = v1::DecisionSupport::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    std::string header = Bearer("ehr-system");
    header = header.substr(std::string("Authorization: ").size());
    header.resize(header.size() - 2);
    ctx.AddMetadata("authorization", header);
    v1::EvaluateResponse response;
    grpc::Status s = stub->Evaluate(
        &ctx,
        testing_util::ExampleRequest("catastrophising-performance-beliefs.json",
                                     "mdt-access"),
        &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    first_technique_ =
        "technique/" +
        response.recommendation().components(0).techniques(0).code();
    return response.decision_id();
  }

  std::string dir_;
  std::unique_ptr<testing_util::Key> key_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
  std::string address_;
  std::string first_technique_;
};

TEST_F(MdtAccessTest, OnlyTheCareTeamRecordsAndTheAuditorReads) {
  const std::string id = Decide();
  const std::string page = "/mdt/decisions/" + id;
  const std::string feedback = page + "/feedback";
  const std::string entry =
      json({{"item", first_technique_}, {"outcome", "accepted"}}).dump();

  // No token: 401. A role without the pages: 403, and no plan in the body.
  auto none = HttpCall(port_, "GET", page);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->headers.at("www-authenticate"), "Bearer");
  auto evaluator = HttpCall(port_, "GET", page, "", Bearer("ehr-system"));
  EXPECT_EQ(evaluator->status, 403);
  EXPECT_THAT(evaluator->body, Not(HasSubstr("id=\"plan\"")));
  EXPECT_EQ(HttpCall(port_, "GET", "/mdt", "", Bearer("stranger"))->status,
            403);

  // The auditor reads, without forms, and cannot record.
  auto audit = HttpCall(port_, "GET", page, "", Bearer("auditor-1"));
  EXPECT_EQ(audit->status, 200);
  EXPECT_THAT(audit->body, HasSubstr("id=\"plan\""));
  EXPECT_THAT(audit->body, Not(HasSubstr("<form class=\"record\"")));
  EXPECT_EQ(HttpCall(port_, "POST", feedback, entry,
                     absl::StrCat(kJson, Bearer("auditor-1")))
                ->status,
            403);

  // The clinician and the MDT record, under their own names.
  auto clinician = HttpCall(port_, "GET", page, "", Bearer("dr-adams"));
  EXPECT_THAT(clinician->body, HasSubstr("<form class=\"record\""));
  EXPECT_EQ(HttpCall(port_, "POST", feedback, entry,
                     absl::StrCat(kJson, Bearer("dr-adams")))
                ->status,
            201);
  EXPECT_EQ(HttpCall(port_, "GET", "/mdt", "", Bearer("mdt-lead"))->status,
            200);
  auto after = HttpCall(port_, "GET", page, "", Bearer("mdt-lead"));
  EXPECT_THAT(after->body, HasSubstr("Accepted</span> by jwt:dr-adams"));

  // The governance pages are the auditor's (and admin's), not the team's.
  EXPECT_EQ(HttpCall(port_, "GET", "/governance/rules", "", Bearer("auditor-1"))
                ->status,
            200);
  EXPECT_EQ(HttpCall(port_, "GET", "/governance/rules", "", Bearer("dr-adams"))
                ->status,
            403);
  EXPECT_EQ(HttpCall(port_, "GET", "/governance/rules")->status, 401);
}

}  // namespace
}  // namespace reconnect
