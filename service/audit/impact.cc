#include "service/audit/impact.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "reconnect/v1/assessment.pb.h"
#include "reconnect/v1/recommendation.pb.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

namespace {

constexpr int kPage = 500;

// (kind, code) of every technique, prompt and alert in `r`.
std::set<std::pair<std::string, std::string>> Items(
    const v1::Recommendation& r) {
  std::set<std::pair<std::string, std::string>> items;
  for (const auto& c : r.components()) {
    for (const auto& t : c.techniques()) items.insert({"technique", t.code()});
  }
  for (const auto& p : r.prompts()) items.insert({"prompt", p.code()});
  for (const auto& a : r.alerts()) items.insert({"alert", a.code()});
  return items;
}

}  // namespace

absl::StatusOr<ImpactReport> AnalyzeImpact(
    AuditReader& store, const ruleset::CompiledRuleSet& candidate,
    DecisionQuery query, int max_examples,
    const std::function<bool(int64_t)>& progress) {
  ImpactReport report;
  std::map<std::pair<std::string, std::string>, ItemImpact> items;
  query.after_sequence = 0;
  query.limit = kPage;
  query.metadata_only = false;
  while (true) {
    ASSIGN_OR_RETURN(auto page, store.ListDecisions(query));
    if (page.empty()) break;
    for (const DecisionRecord& record : page) {
      v1::Assessment assessment;
      v1::Recommendation recorded, again;
      if (!assessment.ParseFromString(record.assessment) ||
          !recorded.ParseFromString(record.recommendation)) {
        return absl::DataLossError(
            absl::StrCat("decision ", record.decision_id,
                         ": the recorded messages do not parse"));
      }
      candidate.Evaluate(assessment, again);
      ++report.evaluated;
      if (google::protobuf::util::MessageDifferencer::Equals(recorded, again)) {
        continue;
      }
      ++report.changed;
      const auto before = Items(recorded), after = Items(again);
      auto note = [&](const std::pair<std::string, std::string>& key,
                      bool gained) {
        ItemImpact& impact = items[key];
        impact.kind = key.first;
        impact.code = key.second;
        ++(gained ? impact.gained : impact.lost);
        if (static_cast<int>(impact.examples.size()) < max_examples) {
          impact.examples.push_back(record.decision_id);
        }
      };
      for (const auto& key : after) {
        if (!before.count(key)) note(key, true);
      }
      for (const auto& key : before) {
        if (!after.count(key)) note(key, false);
      }
    }
    query.after_sequence = page.back().sequence;
    if (progress && !progress(report.evaluated)) {
      return absl::CancelledError("impact analysis stopped");
    }
  }
  for (auto& [key, impact] : items) report.items.push_back(std::move(impact));
  return report;
}

}  // namespace reconnect::service
