// Recommendations of the bundled rule set as CDS Hooks cards: the card
// budget, and CDS Hooks 2.0's response invariants (cds-resp-1 to 7) on every
// example.

#include "service/http/cds_cards.h"

#include <filesystem>
#include <set>
#include <string>

#include "engine/ruleset/rule_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "tests/testing/bundled_rule_set.h"
#include "tests/testing/examples.h"

namespace reconnect::service::http {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing::Not;

const ruleset::CompiledRuleSet& Bundled() {
  return testing_util::BundledRuleSet();
}

v1::Recommendation Evaluate(const std::string& example) {
  v1::Recommendation out;
  Bundled().Evaluate(testing_util::ExampleRequest(example, "test").assessment(),
                     out);
  return out;
}

CardInput Input(std::string decision_id = "0190-decision") {
  CardInput in;
  in.decision_id = std::move(decision_id);
  in.rule_set_id = Bundled().metadata().id;
  in.rule_set_version = Bundled().metadata().version;
  in.rule_set_digest = Bundled().digest();
  in.patient_ref = "Patient/p1";
  in.cards = &Bundled().cds_hooks()["cards"];
  return in;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// CDS Hooks 2.0's rules for a response, each named.
void ExpectConforms(const json& response) {
  ASSERT_TRUE(response.contains("cards") && response["cards"].is_array());
  std::set<std::string> uuids;
  for (const json& card : response["cards"]) {
    SCOPED_TRACE(card.dump());
    ASSERT_TRUE(card["summary"].is_string());
    EXPECT_LT(CodePoints(card["summary"]), 140u);
    EXPECT_FALSE(card["summary"].get<std::string>().empty());
    EXPECT_TRUE(card["indicator"] == "info" || card["indicator"] == "warning" ||
                card["indicator"] == "critical");
    ASSERT_TRUE(card["source"].is_object());
    EXPECT_FALSE(card["source"].value("label", "").empty());
    EXPECT_TRUE(RE2::FullMatch(
        card.value("uuid", ""),
        "[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    EXPECT_TRUE(uuids.insert(card.value("uuid", "")).second) << "unique uuid";
    // cds-resp-4: every override reason has a display.
    for (const json& reason : card.value("overrideReasons", json::array())) {
      EXPECT_FALSE(reason.value("display", "").empty());
      EXPECT_FALSE(reason.value("code", "").empty());
    }
    if (card.contains("suggestions")) {
      // cds-resp-6: suggestions need a selection behaviour (cds-resp-7: a
      // known one).
      ASSERT_TRUE(card.contains("selectionBehavior"));
      EXPECT_TRUE(card["selectionBehavior"] == "any" ||
                  card["selectionBehavior"] == "at-most-one");
      int recommended = 0;
      for (const json& s : card["suggestions"]) {
        EXPECT_FALSE(s.value("label", "").empty());
        recommended += s.value("isRecommended", false);
        for (const json& action : s.value("actions", json::array())) {
          // cds-resp-5: every action has a description.
          EXPECT_FALSE(action.value("description", "").empty());
          const std::string type = action.value("type", "");
          EXPECT_TRUE(type == "create" || type == "update" || type == "delete");
          // cds-resp-2: a delete names a resourceId, not a resource.
          if (type == "delete") {
            EXPECT_TRUE(action.contains("resourceId"));
            EXPECT_FALSE(action.contains("resource"));
          }
        }
        EXPECT_TRUE(uuids.insert(s.value("uuid", "")).second);
      }
      // cds-resp-1.
      if (card["selectionBehavior"] == "at-most-one") {
        EXPECT_LE(recommended, 1);
      }
    }
    for (const json& link : card.value("links", json::array())) {
      // cds-resp-3: appContext only for SMART links.
      if (link.value("type", "") != "smart") {
        EXPECT_FALSE(link.contains("appContext"));
      }
      EXPECT_FALSE(link.value("label", "").empty());
    }
  }
}

TEST(CdsCardsTest, EveryExampleConformsAndKeepsToTheCardBudget) {
  for (const std::string& example : testing_util::ExampleNames()) {
    SCOPED_TRACE(example);
    const v1::Recommendation r = Evaluate(example);
    const json response = CdsHooksResponse(r, Input());
    ExpectConforms(response);
    int urgent = 0;
    for (const auto& a : r.alerts()) {
      urgent += a.severity() == v1::SEVERITY_CRITICAL ||
                a.severity() == v1::SEVERITY_WARNING;
    }
    const size_t expected = urgent + 1 + (r.skills_gaps_size() > 0) +
                            (r.evaluation_issues_size() > 0);
    EXPECT_EQ(response["cards"].size(), expected);
    int plans = 0;
    for (const json& card : response["cards"]) {
      plans += card["uuid"] == CardUuid("0190-decision", "plan");
    }
    EXPECT_EQ(plans, 1);
    EXPECT_EQ(response["extension"]["reconnect"]["decisionId"],
              "0190-decision");
    EXPECT_EQ(response["extension"]["reconnect"]["ruleSet"]["digest"],
              Bundled().digest());
  }
}

TEST(CdsCardsTest, ARedFlagIsACriticalCardFirstAndThePlanSaysWhatIsHeld) {
  const v1::Recommendation r = Evaluate("red-flag-bleeding.json");
  ASSERT_GT(r.held_size(), 0);
  const json response = CdsHooksResponse(r, Input());
  const json& first = response["cards"][0];
  EXPECT_EQ(first["indicator"], "critical");
  EXPECT_THAT(first["detail"].get<std::string>(), HasSubstr("*Why:*"));
  const json* plan = nullptr;
  for (const json& card : response["cards"]) {
    if (card["indicator"] == "info" && !card.contains("suggestions")) {
      plan = &card;
    }
  }
  ASSERT_NE(plan, nullptr);
  EXPECT_EQ((*plan)["summary"], Summary(r.summary()));
  EXPECT_THAT((*plan)["detail"].get<std::string>(), HasSubstr("### Held back"));
  EXPECT_THAT((*plan)["detail"].get<std::string>(),
              HasSubstr(r.held(0).display()));
  // Who delivers each technique, by name.
  ASSERT_GT(r.disciplines_size(), 0);
  EXPECT_THAT((*plan)["detail"].get<std::string>(),
              HasSubstr("(" + r.disciplines(0).display()));
}

TEST(CdsCardsTest, SkillsGapsAreOneCardWithAReferralPerGap) {
  const v1::Recommendation r =
      Evaluate("post-sex-flares-analgesic-timing.json");
  ASSERT_EQ(r.skills_gaps_size(), 2) << "the example's team lacks two skills";
  const json response = CdsHooksResponse(r, Input());
  const json* gaps = nullptr;
  for (const json& card : response["cards"]) {
    if (card.contains("suggestions")) gaps = &card;
  }
  ASSERT_NE(gaps, nullptr);
  ASSERT_EQ((*gaps)["suggestions"].size(),
            static_cast<size_t>(r.skills_gaps_size()));
  const json& request = (*gaps)["suggestions"][0]["actions"][0]["resource"];
  EXPECT_EQ(request["resourceType"], "ServiceRequest");
  EXPECT_EQ(request["status"], "draft");
  EXPECT_EQ(request["intent"], "proposal");
  EXPECT_EQ(request["subject"]["reference"], "Patient/p1");
  EXPECT_EQ(request["code"]["text"], r.skills_gaps(0).display());
}

// Every card is issued for the audit store's card index, with the rules
// behind it, so that feedback on it reaches its rules.
TEST(CdsCardsTest, EachCardIsIssuedWithTheRulesBehindIt) {
  for (const char* example :
       {"post-sex-flares-analgesic-timing.json", "red-flag-bleeding.json",
        "safeguarding-disclosure.json"}) {
    SCOPED_TRACE(example);
    const v1::Recommendation r = Evaluate(example);
    std::vector<IssuedCard> issued;
    const json response = CdsHooksResponse(r, Input(), &issued);
    ASSERT_EQ(issued.size(), response["cards"].size());
    for (size_t i = 0; i < issued.size(); ++i) {
      const json& card = response["cards"][i];
      EXPECT_EQ(issued[i].uuid, card["uuid"]);
      EXPECT_EQ(issued[i].uuid, CardUuid("0190-decision", issued[i].item));
      EXPECT_FALSE(issued[i].rule_ids.empty()) << issued[i].item;
      std::vector<std::string> suggestions;
      for (const json& s : card.value("suggestions", json::array())) {
        suggestions.push_back(s["uuid"]);
      }
      EXPECT_EQ(issued[i].suggestions, suggestions);
    }
    // An alert card is behind its alert's rules, and only those.
    for (const auto& a : r.alerts()) {
      if (a.severity() == v1::SEVERITY_INFO) continue;
      auto card = std::find_if(
          issued.begin(), issued.end(),
          [&](const IssuedCard& c) { return c.item == "alert/" + a.code(); });
      ASSERT_NE(card, issued.end());
      std::vector<std::string> rules;
      for (const auto& reason : a.rationale().reasons()) {
        rules.push_back(reason.rule_id());
      }
      EXPECT_EQ(card->rule_ids, rules);
    }
  }
}

TEST(CdsCardsTest, MissingFactsAreListedInThePlan) {
  CardInput in = Input();
  in.missing = {"PHQ-9 total", "IIEF-5 total"};
  const json response = CdsHooksResponse(Evaluate("no-partner.json"), in);
  const std::string detail = response["cards"].back()["detail"];
  EXPECT_THAT(detail, HasSubstr("### Facts not available"));
  EXPECT_THAT(detail, HasSubstr("- PHQ-9 total\n- IIEF-5 total"));
}

TEST(CdsCardsTest, RulesThatCouldNotBeEvaluatedGetAWarningCard) {
  v1::Recommendation r = Evaluate("no-partner.json");
  auto* issue = r.add_evaluation_issues();
  issue->set_rule_id("r.broken");
  issue->set_message("no such key");
  issue->set_location("rules/x.json:3:4");
  const json response = CdsHooksResponse(r, Input());
  const json& last = response["cards"].back();
  EXPECT_EQ(last["indicator"], "warning");
  EXPECT_THAT(last["summary"].get<std::string>(),
              HasSubstr("could not be evaluated"));
  EXPECT_THAT(last["detail"].get<std::string>(),
              HasSubstr("`r.broken` (rules/x.json:3:4): no such key"));
  ExpectConforms(response);
}

TEST(CdsCardsTest, UuidsAreVersion5OfTheDecisionAndItem) {
  // Known answers, computed independently (RFC 9562 name-based, SHA-1, in
  // the Re-Connect card namespace 1dbd58fe-d24e-43d4-8e91-22bb5ea6a5a8).
  EXPECT_EQ(CardUuid("0190-decision", "plan"),
            "f82d897d-e764-5ff3-a045-7cfc9bc01778");
  EXPECT_EQ(CardUuid("0190-decision", "alert/x"),
            "725477f9-851c-5792-b897-a431bb23dc8f");
  EXPECT_NE(CardUuid("0191-decision", "plan"),
            CardUuid("0190-decision", "plan"));
}

TEST(CdsCardsTest, SummariesAreCutUnder140CodePoints) {
  EXPECT_EQ(Summary("short"), "short");
  const std::string exactly139(139, 'a');
  EXPECT_EQ(Summary(exactly139), exactly139);
  const std::string cut = Summary(std::string(200, 'a'));
  EXPECT_EQ(CodePoints(cut), 139u);
  EXPECT_THAT(cut, testing::EndsWith("\u2026"));
  // Multi-byte text is cut between code points, never inside one.
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "\u00e9";
  const std::string cut_accents = Summary(accents);
  EXPECT_EQ(CodePoints(cut_accents), 139u);
  EXPECT_EQ(cut_accents.size(), 138u * 2 + 3);
}

TEST(CdsCardsTest, MarkupInRuleTextIsEscaped) {
  v1::Recommendation r;
  r.set_summary("s");
  auto* c = r.add_considerations();
  c->set_code("x");
  c->set_text("use *care* with <b>tags</b> and [links](x)");
  const json response = CdsHooksResponse(r, Input());
  const std::string detail = response["cards"][0]["detail"];
  EXPECT_THAT(detail, HasSubstr("use \\*care\\* with \\<b\\>tags\\</b\\> and "
                                "\\[links\\](x)"));
}

}  // namespace
}  // namespace reconnect::service::http
