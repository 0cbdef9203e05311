// libFuzzer target: FHIR R4 in and out, as the HTTP interfaces bring and
// answer it. The input is a request (its "prefetch" is read) or a prefetch
// object, in JSON; it is translated into an Assessment by the bundled rule
// set's fhir_mapping.json, which is then checked, evaluated and written as
// a FHIR plan Bundle. Every problem must name a path into the prefetch. The
// same input is also read as a CDS Hooks feedback request: every issue must
// name a path into it, and an accepted one gives a record per entry.

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "engine/ruleset/rule_set.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/recommendation.pb.h"
#include "service/fhir/assessment_from_fhir.h"
#include "service/fhir/plan_bundle.h"
#include "service/http/cds_feedback.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* rule_set = [] {
    auto loaded = reconnect::ruleset::LoadRuleSet(
        std::filesystem::path(RECONNECT_SOURCE_DIR) / "rules/reconnect/1.1.0");
    if (loaded.rule_set == nullptr) std::abort();
    return new std::shared_ptr<const reconnect::ruleset::CompiledRuleSet>(
        loaded.rule_set);
  }();
  const nlohmann::json doc =
      nlohmann::json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  const nlohmann::json& prefetch =
      doc.is_object() && doc.contains("prefetch") ? doc["prefetch"] : doc;
  reconnect::v1::Assessment assessment;
  const reconnect::service::fhir::Translation t =
      reconnect::service::fhir::AssessmentFromPrefetch(
          (*rule_set)->fhir_mapping(), prefetch, assessment);
  for (const auto& problem : t.problems) {
    if (problem.path.rfind("prefetch", 0) != 0 || problem.message.empty()) {
      std::abort();
    }
  }
  if ((*rule_set)->ValidateInput(assessment).empty()) {
    reconnect::v1::Recommendation out;
    (*rule_set)->Evaluate(assessment, out);
    reconnect::service::fhir::PlanInput input;
    input.decision_id = "fuzz";
    input.rule_set = rule_set->get();
    input.patient_ref = assessment.patient_ref();
    input.missing = reconnect::service::fhir::FactsByLabel(
        (*rule_set)->fhir_mapping(), t.missing);
    const nlohmann::json bundle =
        reconnect::service::fhir::PlanBundle(out, input);
    if (bundle.value("resourceType", "") != "Bundle") std::abort();
  }
  std::vector<reconnect::service::http::OutcomeIssue> issues;
  const auto records =
      reconnect::service::http::ParseFeedback(doc, "fuzz", issues);
  for (const auto& issue : issues) {
    if (issue.expression.rfind("feedback", 0) != 0 ||
        issue.diagnostics.empty()) {
      std::abort();
    }
  }
  if (issues.empty() && records.size() != doc["feedback"].size()) {
    std::abort();
  }
  return 0;
}
