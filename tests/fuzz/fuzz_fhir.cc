// libFuzzer target: FHIR R4 in, as a CDS Hooks service call brings it. The
// input is a request (its "prefetch" is read) or a prefetch object, in
// JSON; it is translated into an Assessment by the bundled rule set's
// fhir_mapping.json, which is then checked and evaluated. Every problem must
// name a path into the prefetch.

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "engine/ruleset/rule_set.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/recommendation.pb.h"
#include "service/fhir/assessment_from_fhir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* rule_set = [] {
    auto loaded = reconnect::ruleset::LoadRuleSet(
        std::filesystem::path(RECONNECT_SOURCE_DIR) / "rules/reconnect");
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
  }
  return 0;
}
