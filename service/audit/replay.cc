#include "service/audit/replay.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "reconnect/v1/assessment.pb.h"
#include "reconnect/v1/recommendation.pb.h"
#include "service/common/status_macros.h"

namespace reconnect::service {

absl::StatusOr<std::shared_ptr<const ruleset::CompiledRuleSet>>
Replayer::RuleSet(const std::string& digest) {
  if (auto it = rule_sets_.find(digest); it != rule_sets_.end()) {
    return it->second;
  }
  ASSIGN_OR_RETURN(std::string content, store_.GetRuleSetContent(digest));
  ruleset::LoadResult loaded = ruleset::LoadCanonicalRuleSet(content, digest);
  if (!loaded.rule_set) {
    return absl::DataLossError(
        absl::StrCat("rule set ", digest, " cannot be rebuilt from the store: ",
                     loaded.issues.empty() ? "unknown problem"
                                           : loaded.issues.front().ToString()));
  }
  rule_sets_[digest] = loaded.rule_set;
  return loaded.rule_set;
}

absl::StatusOr<ReplayResult> Replayer::Replay(const std::string& decision_id) {
  ASSIGN_OR_RETURN(DecisionRecord record, store_.GetDecision(decision_id));
  ASSIGN_OR_RETURN(auto rule_set, RuleSet(record.rule_set_digest));
  v1::Assessment assessment;
  ReplayResult result;
  if (!assessment.ParseFromString(record.assessment) ||
      !result.recorded.ParseFromString(record.recommendation)) {
    return absl::DataLossError(absl::StrCat(
        "decision ", decision_id, ": the recorded messages do not parse"));
  }
  rule_set->Evaluate(assessment, result.replayed);
  result.decision_id = decision_id;
  result.rule_set_digest = record.rule_set_digest;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&result.differences);
  result.identical = differ.Compare(result.recorded, result.replayed);
  return result;
}

}  // namespace reconnect::service
