// FHIR prefetch to Assessment, by the bundled rule set's fhir_mapping.json.

#include "service/fhir/assessment_from_fhir.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/ruleset/rule_set.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/bundled_rule_set.h"
#include "tests/testing/temp_rule_set.h"

namespace reconnect::service::fhir {
namespace {

using nlohmann::json;
using testing::AllOf;
using testing::Contains;
using testing::ElementsAre;
using testing::Field;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::Not;
using testing::Pair;

const ruleset::CompiledRuleSet& Bundled() {
  return testing_util::BundledRuleSet();
}

json ExampleRequest() {
  std::ifstream in(std::string(RECONNECT_SOURCE_DIR) +
                   "/examples/cds-hooks/patient-view-catastrophising.json");
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

json Observation(const std::string& id, const std::string& code,
                 const json& value, const std::string& when,
                 const std::string& status = "final") {
  json o = {{"resourceType", "Observation"},
            {"id", id},
            {"status", status},
            {"code",
             {{"coding", {{{"system", "http://loinc.org"}, {"code", code}}}}}},
            {"effectiveDateTime", when}};
  o.update(value);
  return o;
}

json Bundle(const json& resources) {
  json entries = json::array();
  for (const json& r : resources) entries.push_back({{"resource", r}});
  return {
      {"resourceType", "Bundle"}, {"type", "searchset"}, {"entry", entries}};
}

json Response(const json& items,
              const std::string& authored = "2026-11-28T10:30:00Z",
              const std::string& status = "completed",
              const std::string& questionnaire =
                  "urn:reconnect:fhir:Questionnaire/reconnect-assessment") {
  return {{"resourceType", "QuestionnaireResponse"},
          {"id", "qr-" + authored},
          {"questionnaire", questionnaire},
          {"status", status},
          {"authored", authored},
          {"item", items}};
}

json Coded(const std::string& code) {
  return {{"valueCoding",
           {{"system", "urn:reconnect:fhir:CodeSystem/assessment"},
            {"code", code}}}};
}

json Item(const std::string& link_id, const json& answer) {
  return {{"linkId", link_id}, {"answer", json::array({answer})}};
}

TEST(AssessmentFromFhirTest, TheExampleGivesTheFactsItCarries) {
  v1::Assessment a;
  const Translation t = AssessmentFromPrefetch(Bundled().fhir_mapping(),
                                               ExampleRequest()["prefetch"], a);
  EXPECT_THAT(t.problems, IsEmpty());
  EXPECT_EQ(a.patient_ref(), "Patient/example-001");
  EXPECT_EQ(a.assessment_ref(),
            "QuestionnaireResponse/reconnect-assessment-001");
  EXPECT_EQ(a.assessed_at().seconds(), 1795861800);  // 2026-11-28T10:30:00Z
  EXPECT_EQ(a.scores().phq9_total(), 8);
  EXPECT_TRUE(a.scores().has_phq9_item9());
  EXPECT_EQ(a.scores().phq9_item9(), 0);
  EXPECT_EQ(a.scores().gad7_total(), 7);
  EXPECT_EQ(a.pain().average_nrs(), 6);
  EXPECT_EQ(a.scores().pcs_total(), 36);
  EXPECT_EQ(a.scores().tsk17_total(), 41);
  EXPECT_DOUBLE_EQ(a.scores().fsfi_total(), 21.4);
  EXPECT_EQ(a.pain().during_sex_nrs(), 7);
  EXPECT_EQ(a.pain().duration_months(), 30);
  EXPECT_EQ(a.intimacy_consent(), v1::INTIMACY_CONSENT_GIVEN);
  EXPECT_EQ(a.relationship().partner_status(), v1::PARTNER_STATUS_PARTNERED);
  EXPECT_FALSE(a.relationship().partner_involved());
  EXPECT_EQ(a.activity_pattern(), v1::ACTIVITY_PATTERN_STEADY);
  EXPECT_EQ(a.safeguarding().coercion_or_abuse(),
            v1::SAFEGUARDING_CONCERN_NONE);
  // Unmeasured scores stay absent, never zero, and are listed as missing.
  EXPECT_FALSE(a.scores().has_iief5_total());
  EXPECT_FALSE(a.scores().has_fsdsr_total());
  EXPECT_THAT(t.missing, Contains("IIEF-5 total"));
  EXPECT_THAT(t.missing, Contains("red flags"));
  EXPECT_THAT(t.missing, Not(Contains("PHQ-9 total")));
  EXPECT_THAT(t.found, Contains(Pair("PHQ-9 total", "Observation/phq9-1")));
  EXPECT_THAT(t.found,
              Contains(Pair("Pain Catastrophizing Scale (PCS) total",
                            "QuestionnaireResponse/reconnect-assessment-001")));
  // And the rule set evaluates it.
  v1::Recommendation out;
  Bundled().Evaluate(a, out);
  EXPECT_FALSE(out.summary().empty());
}

TEST(AssessmentFromFhirTest, TheLatestUsableObservationWins) {
  json prefetch = {
      {"observations",
       Bundle(
           {Observation("old", "44261-6", {{"valueInteger", 5}},
                        "2026-01-01T00:00:00Z"),
            Observation("new", "44261-6", {{"valueInteger", 12}},
                        "2026-06-01T00:00:00Z"),
            Observation("newer-but-preliminary", "44261-6",
                        {{"valueInteger", 20}}, "2026-07-01T00:00:00Z",
                        "preliminary"),
            Observation("entered-in-error", "44261-6", {{"valueInteger", 27}},
                        "2026-08-01T00:00:00Z", "entered-in-error")})}};
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(Bundled().fhir_mapping(), prefetch, a);
  EXPECT_THAT(t.problems, IsEmpty());
  EXPECT_EQ(a.scores().phq9_total(), 12);
  EXPECT_THAT(t.found, ElementsAre(Pair("PHQ-9 total", "Observation/new")));
}

TEST(AssessmentFromFhirTest, CodedAnswersTranslateAndUnknownCodesAreNamed) {
  json loinc_answer = {
      {"valueCodeableConcept",
       {{"coding", {{{"system", "http://loinc.org"}, {"code", "LA6571-9"}}}}}}};
  json unknown_answer = {
      {"valueCodeableConcept",
       {{"coding", {{{"system", "http://loinc.org"}, {"code", "LA0000-0"}}}}}}};
  v1::Assessment a;
  Translation t = AssessmentFromPrefetch(
      Bundled().fhir_mapping(),
      {{"o", Observation("i9", "44260-8", loinc_answer, "2026-01-01")}}, a);
  EXPECT_THAT(t.problems, IsEmpty());
  EXPECT_EQ(a.scores().phq9_item9(), 3);

  v1::Assessment b;
  t = AssessmentFromPrefetch(
      Bundled().fhir_mapping(),
      {{"o", Observation("i9", "44260-8", unknown_answer, "2026-01-01")}}, b);
  EXPECT_FALSE(b.scores().has_phq9_item9());
  EXPECT_THAT(t.problems,
              ElementsAre(AllOf(
                  Field(&Problem::path, "prefetch.o.valueCodeableConcept"),
                  Field(&Problem::message, HasSubstr("PHQ-9 item 9")))));
}

TEST(AssessmentFromFhirTest, WrongFhirTypesAreProblemsWithTheirPath) {
  json prefetch = {
      {"patient", {{"resourceType", "Patient"}, {"id", "p"}}},
      {"notAResource", {{"foo", 1}}},
      {"list", json::array({1, 2})},
      {"absent", nullptr},
      {"observations",
       Bundle({Observation("text", "44261-6",
                           {{"valueQuantity", {{"value", "eight"}}}},
                           "2026-01-01"),
               json{{"no", "type"}},
               Observation("fraction", "70274-6", {{"valueDecimal", 6.5}},
                           "2026-01-01"),
               Observation("huge", "72514-3", {{"valueInteger", 1e12}},
                           "2026-01-01")})}};
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(Bundled().fhir_mapping(), prefetch, a);
  std::vector<std::string> paths;
  for (const Problem& p : t.problems) paths.push_back(p.path);
  EXPECT_THAT(paths,
              testing::UnorderedElementsAre(
                  "prefetch.notAResource", "prefetch.list",
                  "prefetch.observations.entry[0].resource.valueQuantity."
                  "value",
                  "prefetch.observations.entry[1].resource",
                  "prefetch.observations.entry[2].resource",
                  "prefetch.observations.entry[3].resource"));
  EXPECT_THAT(
      t.problems,
      Contains(AllOf(
          Field(&Problem::path, "prefetch.observations.entry[2].resource"),
          Field(&Problem::message, HasSubstr("must be a whole number")))));
  EXPECT_FALSE(a.scores().has_phq9_total());
  EXPECT_FALSE(a.scores().has_gad7_total());
  EXPECT_FALSE(a.pain().has_average_nrs());
  EXPECT_EQ(a.patient_ref(), "Patient/p");
}

TEST(AssessmentFromFhirTest, OnlyTheLatestCompletedResponseToOurQuestionnaire) {
  json prefetch = {
      {"qr",
       Bundle(
           {Response(json::array({Item("pcs-total", {{"valueInteger", 10}})}),
                     "2026-01-01T00:00:00Z"),
            Response(json::array({Item("pcs-total", {{"valueInteger", 20}})}),
                     "2026-02-01T00:00:00Z"),
            Response(json::array({Item("pcs-total", {{"valueInteger", 30}})}),
                     "2026-03-01T00:00:00Z", "in-progress"),
            Response(json::array({Item("pcs-total", {{"valueInteger", 40}})}),
                     "2026-04-01T00:00:00Z", "completed",
                     "http://other.example/Questionnaire/x")})}};
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(Bundled().fhir_mapping(), prefetch, a);
  EXPECT_THAT(t.problems, IsEmpty());
  EXPECT_EQ(a.scores().pcs_total(), 20);
  EXPECT_EQ(a.assessment_ref(),
            "QuestionnaireResponse/qr-2026-02-01T00:00:00Z");
}

TEST(AssessmentFromFhirTest, NestedItemsAreFoundAndCodedListsGather) {
  json red_flags = {
      {"linkId", "red-flags"},
      {"answer", json::array({Coded("new-mass"), Coded("pregnancy"),
                              Coded("new-mass")})}};
  json group = {
      {"linkId", "history"},
      {"item",
       json::array({red_flags, Item("tsk17-total", {{"valueInteger", 30}})})}};
  v1::Assessment a;
  const Translation t = AssessmentFromPrefetch(
      Bundled().fhir_mapping(), {{"qr", Response(json::array({group}))}}, a);
  EXPECT_THAT(t.problems, IsEmpty());
  EXPECT_THAT(a.red_flags(),
              ElementsAre(v1::RED_FLAG_NEW_MASS, v1::RED_FLAG_PREGNANCY));
  EXPECT_EQ(a.scores().tsk17_total(), 30);
}

TEST(AssessmentFromFhirTest, AnUnreadableAuthoredTimeIsAProblem) {
  v1::Assessment a;
  const Translation t = AssessmentFromPrefetch(
      Bundled().fhir_mapping(),
      {{"qr", Response(json::array({Item("pcs-total", {{"valueInteger", 10}})}),
                       "last Tuesday")}},
      a);
  EXPECT_THAT(t.problems,
              ElementsAre(Field(&Problem::path, "prefetch.qr.authored")));
  EXPECT_FALSE(a.has_assessed_at());
  EXPECT_EQ(a.scores().pcs_total(), 10);
}

TEST(AssessmentFromFhirTest, ItemsNestedTooDeepAreRefusedNotFollowed) {
  // Built as text and parsed (the parser does not recurse; copying a JSON
  // value this deep would).
  constexpr int kDepth = 100000;
  std::string text =
      R"({"qr": {"resourceType": "QuestionnaireResponse", "id": "deep", )"
      R"("questionnaire": "urn:reconnect:fhir:Questionnaire/)"
      R"(reconnect-assessment", "status": "completed", "item": [)";
  for (int i = 0; i < kDepth; ++i) text += R"({"linkId": "g", "item": [)";
  text += R"({"linkId": "pcs-total", "answer": [{"valueInteger": 10}]})";
  for (int i = 0; i < kDepth; ++i) text += "]}";
  text += "]}}";
  const json prefetch = json::parse(text);
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(Bundled().fhir_mapping(), prefetch, a);
  ASSERT_EQ(t.problems.size(), 1u);
  EXPECT_THAT(t.problems[0].message, HasSubstr("nest deeper than 16"));
  EXPECT_FALSE(a.scores().has_pcs_total());
}

TEST(AssessmentFromFhirTest, NotAnObjectIsOneProblem) {
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(Bundled().fhir_mapping(), json::array(), a);
  EXPECT_THAT(t.problems, ElementsAre(Field(&Problem::path, "prefetch")));
  EXPECT_EQ(t.missing.size(),
            Bundled().fhir_mapping().observations.size() +
                Bundled().fhir_mapping().questionnaire_items.size());
}

// A CodeableConcept of one coding.
json Concept(const std::string& system, const std::string& code) {
  return {{"coding", json::array({{{"system", system}, {"code", code}}})}};
}

json Condition(const std::string& id, const std::string& system,
               const std::string& code, const std::string& clinical_status,
               const std::string& verification = "") {
  json c = {{"resourceType", "Condition"},
            {"id", id},
            {"code", Concept(system, code)}};
  if (!clinical_status.empty()) {
    c["clinicalStatus"] =
        Concept("http://terminology.hl7.org/CodeSystem/condition-clinical",
                clinical_status);
  }
  if (!verification.empty()) {
    c["verificationStatus"] =
        Concept("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                verification);
  }
  return c;
}

json Role(const std::string& discipline) {
  return {
      {"role", json::array({Concept("urn:reconnect:fhir:CodeSystem/discipline",
                                    discipline)})}};
}

TEST(AssessmentFromFhirTest, ConditionsThatStandSetTheirFacts) {
  const std::string local = "urn:reconnect:fhir:CodeSystem/assessment";
  const json prefetch = {
      {"conditions",
       Bundle(
           {Condition("c1", local, "new-or-unexplained-bleeding", "active"),
            Condition("c2", "http://snomed.info/sct", "77386006", ""),
            Condition("c3", local, "trauma-history", "recurrence"),
            // These do not stand.
            Condition("c4", local, "new-mass", "resolved"),
            Condition("c5", local, "suspected-infection", "active", "refuted"),
            Condition("c6", local, "changed-pain-pattern", "active",
                      "entered-in-error"),
            // Codes no mapping names are not facts.
            Condition("c7", "http://snomed.info/sct", "38341003", "active")})}};
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(Bundled().fhir_mapping(), prefetch, a);
  EXPECT_THAT(t.problems, IsEmpty());
  EXPECT_THAT(a.red_flags(),
              ElementsAre(v1::RED_FLAG_NEW_OR_UNEXPLAINED_BLEEDING,
                          v1::RED_FLAG_PREGNANCY));
  EXPECT_TRUE(a.safeguarding().trauma_history());
  EXPECT_THAT(t.found, Contains(Pair("trauma history", "Condition/c3")));
  // A Condition not sent is not a fact missing.
  EXPECT_THAT(t.missing, Not(Contains("red flag: new mass")));
}

// Rule set 1.1.0 records a pregnancy Condition as the pregnancy fact, not
// as a red flag (1.0.5, above).
TEST(AssessmentFromFhirTest, APregnancyConditionIsThePregnancyFactIn110) {
  const ruleset::LoadResult loaded = ruleset::LoadRuleSet(
      std::string(RECONNECT_SOURCE_DIR) + "/rules/reconnect/1.1.0");
  ASSERT_NE(loaded.rule_set, nullptr);
  const json prefetch = {
      {"conditions", Bundle(json::array({Condition(
                         "c2", "http://snomed.info/sct", "77386006", "")}))}};
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(loaded.rule_set->fhir_mapping(), prefetch, a);
  for (const auto& p : t.problems) {
    ADD_FAILURE() << p.path << ": " << p.message;
  }
  EXPECT_EQ(a.pregnancy().status(), v1::PREGNANCY_STATUS_PREGNANT);
  EXPECT_THAT(a.red_flags(), IsEmpty());
  EXPECT_THAT(t.found, Contains(Pair("pregnancy", "Condition/c2")));
}

TEST(AssessmentFromFhirTest, TheActiveCareTeamsRolesAreItsDisciplines) {
  const json team = {{"resourceType", "CareTeam"},
                     {"id", "t1"},
                     {"status", "active"},
                     {"participant",
                      {Role("clinical_psychology"),
                       Role("physiotherapy"),
                       Role("clinical_psychology"),
                       {{"member", {{"reference", "Practitioner/9"}}}}}}};
  json old_team = team;
  old_team["id"] = "t0";
  old_team["status"] = "inactive";
  old_team["participant"] = {Role("pharmacy")};
  v1::Assessment a;
  const Translation t = AssessmentFromPrefetch(
      Bundled().fhir_mapping(), {{"careTeam", Bundle({team, old_team})}}, a);
  EXPECT_THAT(t.problems, IsEmpty());
  EXPECT_THAT(a.care_team().disciplines(),
              ElementsAre("clinical_psychology", "physiotherapy"));
  EXPECT_THAT(t.found,
              Contains(Pair("care team: physiotherapy", "CareTeam/t1")));
}

TEST(AssessmentFromFhirTest, MalformedConditionsAndCareTeamsAreProblems) {
  json bad_condition = Condition("c1", "x", "y", "");
  bad_condition["code"] = "bleeding";
  const json bad_team = {{"resourceType", "CareTeam"},
                         {"id", "t1"},
                         {"participant", {{{"role", "psychology"}}}}};
  const json not_list = {
      {"resourceType", "CareTeam"}, {"id", "t2"}, {"participant", "everyone"}};
  v1::Assessment a;
  const Translation t = AssessmentFromPrefetch(
      Bundled().fhir_mapping(),
      {{"conditions", Bundle(json::array({bad_condition}))},
       {"careTeam", Bundle(json::array({bad_team, not_list}))}},
      a);
  EXPECT_THAT(
      t.problems,
      testing::UnorderedElementsAre(
          Field(&Problem::path, "prefetch.conditions.entry[0].resource.code"),
          Field(&Problem::path,
                "prefetch.careTeam.entry[0].resource"
                ".participant[0].role"),
          Field(&Problem::path,
                "prefetch.careTeam.entry[1].resource"
                ".participant")));
}

json Request(const std::string& id, const json& medication,
             const std::string& status = "active") {
  json r = {{"resourceType", "MedicationRequest"},
            {"id", id},
            {"status", status},
            {"intent", "order"},
            {"subject", {{"reference", "Patient/p1"}}}};
  r.update(medication);
  return r;
}

json Atc(const std::string& code, const std::string& text) {
  return {{"medicationCodeableConcept",
           {{"coding", json::array({{{"system", "http://www.whocc.no/atc"},
                                     {"code", code}}})},
            {"text", text}}}};
}

json Pointing(const std::string& link_id,
              const std::vector<std::string>& references) {
  json answers = json::array();
  for (const std::string& r : references) {
    answers.push_back({{"valueReference", {{"reference", r}}}});
  }
  return {{"linkId", link_id}, {"answer", answers}};
}

TEST(AssessmentFromFhirTest, ActiveMedicationRequestsAreMedicinesByAtcGroup) {
  json contained =
      Request("m4", {{"medicationReference",
                      {{"reference", "#med"}, {"display", "the pill"}}}});
  contained["contained"] = json::array(
      {{{"resourceType", "Medication"},
        {"id", "med"},
        {"code",
         Atc("N06AX21", "duloxetine 30mg")["medicationCodeableConcept"]}}});
  const json sent_medication = {
      {"resourceType", "Medication"},
      {"id", "prg"},
      {"code",
       {{"coding", json::array({{{"system", "http://www.whocc.no/atc"},
                                 {"code", "N03AX16"},
                                 {"display", "pregabalin"}}})}}}};
  const json prefetch = {
      {"medications",
       Bundle(json::array(
           {Request("m1", Atc("N02AX02", "tramadol 50mg capsules")),
            Request("m2", Atc("M01AE01", "ibuprofen 400mg")),
            Request("m3", {{"medicationReference",
                            {{"reference",
                              "https://ehr.example/fhir/"
                              "Medication/prg/_history/2"}}}}),
            contained,
            // Only in a national dictionary: a medicine, class unknown.
            Request("m5",
                    {{"medicationCodeableConcept",
                      {{"coding",
                        json::array({{{"system", "https://dmd.nhs.uk"},
                                      {"code", "39720311000001101"},
                                      {"display", "Paracetamol 500mg"}}})}}}}),
            // Not taken now: not a medicine of this assessment.
            Request("m6", Atc("N02AA01", "morphine"), "stopped"),
            Request("m7", Atc("N02AA01", "morphine"), "on-hold"),
            sent_medication}))}};
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(Bundled().fhir_mapping(), prefetch, a);
  EXPECT_THAT(t.problems, IsEmpty());
  ASSERT_EQ(a.medicines_size(), 5);
  EXPECT_EQ(a.medicines(0).medicine_class(), v1::MEDICINE_CLASS_OPIOID);
  EXPECT_EQ(a.medicines(0).name(), "tramadol 50mg capsules");
  EXPECT_EQ(a.medicines(1).medicine_class(), v1::MEDICINE_CLASS_NSAID);
  EXPECT_EQ(a.medicines(2).medicine_class(), v1::MEDICINE_CLASS_GABAPENTINOID);
  EXPECT_EQ(a.medicines(2).name(), "pregabalin");
  EXPECT_EQ(a.medicines(3).medicine_class(), v1::MEDICINE_CLASS_ANTIDEPRESSANT);
  EXPECT_EQ(a.medicines(3).name(), "duloxetine 30mg");
  EXPECT_EQ(a.medicines(4).medicine_class(), v1::MEDICINE_CLASS_UNSPECIFIED);
  EXPECT_EQ(a.medicines(4).name(), "Paracetamol 500mg");
  for (const v1::Medicine& m : a.medicines()) {
    EXPECT_FALSE(m.timing_problem() || m.sexual_side_effects()) << m.name();
  }
  EXPECT_THAT(t.found, Contains(Pair("active medicines: opioid",
                                     "MedicationRequest/m1")));
  EXPECT_THAT(t.found,
              Contains(Pair("active medicines", "MedicationRequest/m5")));
}

TEST(AssessmentFromFhirTest, TheQuestionnaireFlagsMedicinesByReference) {
  const json prefetch = {
      {"medications",
       Bundle(json::array(
           {Request("m1", Atc("N02AX02", "tramadol")),
            Request("m2", Atc("N06AB06", "sertraline")),
            Request("m3", Atc("N02AA01", "morphine"), "completed")}))},
      {"assessment",
       Response(json::array(
           {Pointing("medicine-timing-problem",
                     {"MedicationRequest/m1",
                      // Not active: changes nothing, and is no problem.
                      "MedicationRequest/m3"}),
            Pointing("medicine-sexual-side-effects",
                     {"https://ehr.example/fhir/MedicationRequest/m2"})}))}};
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(Bundled().fhir_mapping(), prefetch, a);
  EXPECT_THAT(t.problems, IsEmpty());
  ASSERT_EQ(a.medicines_size(), 2);
  EXPECT_TRUE(a.medicines(0).timing_problem());
  EXPECT_FALSE(a.medicines(0).sexual_side_effects());
  EXPECT_FALSE(a.medicines(1).timing_problem());
  EXPECT_TRUE(a.medicines(1).sexual_side_effects());
  EXPECT_THAT(t.found, Contains(Pair("a medicine timed badly for intimacy",
                                     "MedicationRequest/m1")));
}

TEST(AssessmentFromFhirTest, MalformedMedicationRequestsAreProblems) {
  json no_medication = Request("m1", json::object());
  json bad_concept = Request("m2", {{"medicationCodeableConcept", "tramadol"}});
  json bad_reference = Request("m3", {{"medicationReference", 7}});
  json bad_code =
      Request("m4", {{"medicationReference", {{"reference", "#x"}}}});
  bad_code["contained"] = json::array(
      {{{"resourceType", "Medication"}, {"id", "x"}, {"code", "tramadol"}}});
  const json prefetch = {
      {"medications", Bundle(json::array({no_medication, bad_concept,
                                          bad_reference, bad_code}))},
      {"assessment",
       Response(json::array({Item("medicine-timing-problem",
                                  {{"valueString", "the tramadol"}})}))}};
  v1::Assessment a;
  const Translation t =
      AssessmentFromPrefetch(Bundled().fhir_mapping(), prefetch, a);
  EXPECT_EQ(a.medicines_size(), 0);
  const std::string at = "prefetch.medications.entry[";
  EXPECT_THAT(
      t.problems,
      testing::UnorderedElementsAre(
          Field(&Problem::path, at + "0].resource.medication[x]"),
          Field(&Problem::path, at + "1].resource.medicationCodeableConcept"),
          Field(&Problem::path, at + "2].resource.medicationReference"),
          Field(&Problem::path, at + "3].resource.medicationReference"),
          AllOf(Field(&Problem::path, "prefetch.assessment.item[0].answer[0]"),
                Field(&Problem::message,
                      HasSubstr("must be a valueReference to a "
                                "MedicationRequest")))));
}

TEST(AssessmentFromFhirTest, AMappingsOtherwiseClassesWhatNoCodeMatches) {
  testing_util::TempRuleSet rs;
  rs.Write("fhir_mapping.json", R"({"medication_requests": {
    "field": "medicines", "label": "medicines",
    "codes": [{"code": "urn:local|1", "label": "one",
               "set": {"medicine_class": "MEDICINE_CLASS_HORMONAL",
                       "sexual_side_effects": true}}],
    "otherwise": {"medicine_class": "MEDICINE_CLASS_OTHER"}}})");
  ruleset::LoadResult loaded = ruleset::LoadRuleSet(rs.dir());
  ASSERT_NE(loaded.rule_set, nullptr) << loaded.issues[0].ToString();
  const json coded = {
      {"medicationCodeableConcept",
       {{"coding", json::array({{{"system", "urn:local"}, {"code", "1"}}})},
        {"text", "one"}}}};
  v1::Assessment a;
  const Translation t = AssessmentFromPrefetch(
      loaded.rule_set->fhir_mapping(),
      {{"m", Bundle(json::array({Request("m1", coded),
                                 Request("m2", Atc("N02AX02", "tramadol"))}))}},
      a);
  EXPECT_THAT(t.problems, IsEmpty());
  ASSERT_EQ(a.medicines_size(), 2);
  EXPECT_EQ(a.medicines(0).medicine_class(), v1::MEDICINE_CLASS_HORMONAL);
  EXPECT_TRUE(a.medicines(0).sexual_side_effects());
  // No text field is mapped: the name stays empty.
  EXPECT_EQ(a.medicines(0).name(), "");
  EXPECT_EQ(a.medicines(1).medicine_class(), v1::MEDICINE_CLASS_OTHER);
}

TEST(AssessmentFromFhirTest, ALongMedicineNameIsCutToItsLimit) {
  // 150 two-byte characters: 300 bytes, over the name's 200.
  std::string name;
  for (int i = 0; i < 150; ++i) name += "\xc3\xa9";
  v1::Assessment a;
  const Translation t = AssessmentFromPrefetch(
      Bundled().fhir_mapping(),
      {{"medications",
        Bundle(json::array({Request("m1", Atc("N02AX02", name))}))}},
      a);
  EXPECT_THAT(t.problems, IsEmpty());
  ASSERT_EQ(a.medicines_size(), 1);
  EXPECT_EQ(a.medicines(0).name(), name.substr(0, 200));
}

}  // namespace
}  // namespace reconnect::service::fhir
