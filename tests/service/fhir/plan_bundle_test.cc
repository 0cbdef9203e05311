// Recommendations of the bundled rule set as FHIR R4 plan Bundles: every
// resource the CDS-on-FHIR pattern names, each item in its place, every
// reference resolved within the Bundle. (The official JSON schema checks
// the shapes: tests/interop/fhir_schema.mjs.)

#include "service/fhir/plan_bundle.h"

#include <map>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/bundled_rule_set.h"
#include "tests/testing/examples.h"

namespace reconnect::service::fhir {
namespace {

using nlohmann::json;
using testing::HasSubstr;

const ruleset::CompiledRuleSet& Bundled() {
  return testing_util::BundledRuleSet();
}

struct Planned {
  v1::Assessment assessment;
  v1::Recommendation recommendation;
  json bundle;
};

Planned Plan(const std::string& example) {
  Planned p;
  p.assessment = testing_util::ExampleRequest(example, "test").assessment();
  Bundled().Evaluate(p.assessment, p.recommendation);
  PlanInput in;
  in.decision_id = "0190-decision";
  in.rule_set = &Bundled();
  in.patient_ref = "Patient/p1";
  in.decided_at = "2026-12-01T10:00:00Z";
  in.missing = MissingFacts(Bundled().fhir_mapping(), p.assessment);
  p.bundle = PlanBundle(p.recommendation, in);
  return p;
}

// The Bundle's resources of `type`.
std::vector<json> Resources(const json& bundle, const std::string& type) {
  std::vector<json> out;
  for (const json& entry : bundle["entry"]) {
    if (entry["resource"]["resourceType"] == type) {
      out.push_back(entry["resource"]);
    }
  }
  return out;
}

// Every {"reference": ...} anywhere under `node`.
void References(const json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "reference" && value.is_string()) {
        out.push_back(value.get<std::string>());
      } else {
        References(value, out);
      }
    }
  } else if (node.is_array()) {
    for (const json& item : node) References(item, out);
  }
}

TEST(PlanBundleTest, EveryResourceIsThereAndEveryReferenceResolves) {
  for (const std::string& example : testing_util::ExampleNames()) {
    SCOPED_TRACE(example);
    const Planned p = Plan(example);
    const v1::Recommendation& r = p.recommendation;
    ASSERT_EQ(p.bundle["resourceType"], "Bundle");
    EXPECT_EQ(p.bundle["type"], "collection");
    std::set<std::string> urls;
    for (const json& entry : p.bundle["entry"]) {
      const std::string url = entry["fullUrl"];
      EXPECT_EQ(url, "urn:uuid:" + entry["resource"]["id"].get<std::string>());
      EXPECT_TRUE(urls.insert(url).second) << url;
    }
    std::vector<std::string> references;
    References(p.bundle, references);
    for (const std::string& ref : references) {
      if (ref.rfind("urn:uuid:", 0) == 0) {
        EXPECT_TRUE(urls.count(ref)) << "dangling " << ref;
      } else {
        EXPECT_EQ(ref, "Patient/p1");
      }
    }
    ASSERT_EQ(Resources(p.bundle, "CarePlan").size(), 1u);
    ASSERT_EQ(Resources(p.bundle, "RequestGroup").size(), 1u);
    ASSERT_EQ(Resources(p.bundle, "GuidanceResponse").size(), 1u);
    const json plan = Resources(p.bundle, "CarePlan")[0];
    EXPECT_EQ(plan["status"], "draft");
    EXPECT_EQ(plan["intent"], "proposal");
    EXPECT_EQ(plan["description"], r.summary());
    // Every request is one of the plan's activities.
    EXPECT_EQ(plan["activity"].size(), p.bundle["entry"].size() - 2);
    // A ServiceRequest per discipline and per skills gap, a
    // CommunicationRequest per patient or partner prompt.
    EXPECT_EQ(Resources(p.bundle, "ServiceRequest").size(),
              static_cast<size_t>(r.disciplines_size() + r.skills_gaps_size()));
    size_t to_patient_or_partner = 0;
    for (const auto& prompt : r.prompts()) {
      to_patient_or_partner += prompt.audience() == v1::AUDIENCE_PATIENT ||
                               prompt.audience() == v1::AUDIENCE_PARTNER;
    }
    EXPECT_EQ(Resources(p.bundle, "CommunicationRequest").size(),
              to_patient_or_partner);
    for (const json& request : Resources(p.bundle, "ServiceRequest")) {
      EXPECT_TRUE(request.contains("performerType")) << request.dump();
      EXPECT_EQ(request["intent"], "proposal");
    }
    // Every alert is a note of the plan, critical ones first.
    size_t alerts = 0;
    for (const json& note : plan.value("note", json::array())) {
      const std::string text = note["text"];
      alerts += text.rfind("Critical: ", 0) == 0 ||
                text.rfind("Warning: ", 0) == 0 || text.rfind("Note: ", 0) == 0;
    }
    EXPECT_EQ(alerts, static_cast<size_t>(r.alerts_size()));
    const json guidance = Resources(p.bundle, "GuidanceResponse")[0];
    EXPECT_EQ(guidance["requestIdentifier"]["value"], "0190-decision");
    EXPECT_EQ(guidance["moduleCanonical"],
              "urn:reconnect:fhir:PlanDefinition/reconnect|" +
                  Bundled().metadata().version);
    EXPECT_EQ(guidance["result"]["reference"],
              "urn:uuid:" + plan["id"].get<std::string>());
  }
}

TEST(PlanBundleTest, TechniquesAreJustifiedWithTheirRulesConditions) {
  const Planned p = Plan("catastrophising-performance-beliefs.json");
  const v1::Recommendation& r = p.recommendation;
  const json group = Resources(p.bundle, "RequestGroup")[0];
  ASSERT_GE(group["action"].size(), static_cast<size_t>(r.components_size()));
  for (int c = 0; c < r.components_size(); ++c) {
    const json& component = group["action"][c];
    EXPECT_EQ(component["title"], r.components(c).display());
    ASSERT_EQ(component["action"].size(),
              static_cast<size_t>(r.components(c).techniques_size()));
    for (int t = 0; t < r.components(c).techniques_size(); ++t) {
      const auto& technique = r.components(c).techniques(t);
      const json& action = component["action"][t];
      EXPECT_EQ(action["title"], technique.display());
      // A justification per reason, then the condition of each rule.
      const size_t reasons = technique.rationale().reasons_size();
      ASSERT_EQ(action["documentation"].size(), 2 * reasons);
      for (size_t i = 0; i < reasons; ++i) {
        const auto& reason = technique.rationale().reasons(i);
        const json& why = action["documentation"][i];
        EXPECT_EQ(why["type"], "justification");
        EXPECT_EQ(why["label"], reason.rule_id());
        EXPECT_EQ(why["display"], reason.reason());
        const json& when = action["documentation"][reasons + i];
        EXPECT_EQ(when["type"], "documentation");
        EXPECT_EQ(when["label"], reason.rule_id());
        size_t rule = 0;
        while (Bundled().rule_id(rule) != reason.rule_id()) ++rule;
        EXPECT_EQ(when["display"],
                  "Applies when (CEL): " + Bundled().rule_condition(rule));
        EXPECT_FALSE(Bundled().rule_condition(rule).empty());
      }
    }
  }
}

TEST(PlanBundleTest, MissingFactsAreDataRequirementsWithTheirCodes) {
  const Planned p = Plan("no-partner.json");
  const json guidance = Resources(p.bundle, "GuidanceResponse")[0];
  const auto missing = MissingFacts(Bundled().fhir_mapping(), p.assessment);
  ASSERT_FALSE(missing.empty());
  EXPECT_EQ(guidance["status"], "data-requested");
  ASSERT_EQ(guidance["dataRequirement"].size(), missing.size());
  bool loinc = false;
  for (const json& requirement : guidance["dataRequirement"]) {
    if (requirement["type"] == "Observation") {
      loinc |= requirement["codeFilter"][0]["code"][0]["system"] ==
               "http://loinc.org";
    } else {
      EXPECT_EQ(requirement["type"], "QuestionnaireResponse");
      EXPECT_THAT(requirement["mustSupport"][0].get<std::string>(),
                  HasSubstr("linkId="));
    }
  }
  EXPECT_TRUE(loinc);
  // With every fact known there is nothing to ask for.
  PlanInput complete;
  complete.decision_id = "d";
  complete.rule_set = &Bundled();
  const json bundle = PlanBundle(p.recommendation, complete);
  EXPECT_EQ(Resources(bundle, "GuidanceResponse")[0]["status"], "success");
  EXPECT_FALSE(
      Resources(bundle, "GuidanceResponse")[0].contains("dataRequirement"));
}

TEST(PlanBundleTest, TheSameDecisionGivesTheSameBundleAndAnotherOther) {
  const Planned a = Plan("safeguarding-disclosure.json");
  const Planned b = Plan("safeguarding-disclosure.json");
  EXPECT_EQ(a.bundle, b.bundle);
  PlanInput other;
  other.decision_id = "another-decision";
  other.rule_set = &Bundled();
  other.patient_ref = "Patient/p1";
  const json c = PlanBundle(a.recommendation, other);
  EXPECT_NE(c["id"], a.bundle["id"]);
  // Without a patient reference the subject says so, not a made-up one.
  EXPECT_EQ(Resources(PlanBundle(a.recommendation, {}),
                      "CarePlan")[0]["subject"]["display"],
            "the patient assessed (not identified)");
}

}  // namespace
}  // namespace reconnect::service::fhir
