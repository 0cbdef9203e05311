#ifndef RECONNECT_SERVICE_WEB_CARE_PLAN_PAGE_H_
#define RECONNECT_SERVICE_WEB_CARE_PLAN_PAGE_H_

// One decision as an MDT reads it: a care plan, each part with its reason,
// what was held back and why, why other techniques were not suggested,
// what is missing, and what the team decided about each item.

#include <string>
#include <vector>

#include "google/protobuf/repeated_ptr_field.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/recommendation.pb.h"
#include "service/audit/audit_store.h"

namespace reconnect::service::web {

// An item of a plan the team can decide on.
struct PlanEntry {
  std::string key;      // "alert/CODE", "technique/CODE", "prompt/CODE", ...
  std::string display;  // for people
  std::vector<std::string> rule_ids;  // the rules behind it
};

// Every alert, technique, prompt and consideration of `plan`, in that
// order.
std::vector<PlanEntry> PlanEntries(const v1::Recommendation& plan);

struct CarePlanView {
  DecisionRecord record;    // its assessment is not shown
  v1::Recommendation plan;  // as recorded
  // The rule set that made it; unset fields when the store no longer has
  // it.
  std::string rule_set_id;
  std::string rule_set_version;
  std::vector<std::string> approvers;
  std::string review_by;
  // The explanation, from evaluating the recorded assessment again with the
  // same rule set; `explained` false (and `explain_problem` why) when that
  // could not be done or did not give the recorded plan.
  bool explained = false;
  std::string explain_problem;
  google::protobuf::RepeatedPtrField<v1::RuleExplanation> why_not;
  v1::MissingData missing_data;
  // What the team recorded on it, oldest first.
  std::vector<FeedbackRecord> feedback;
  // The reasons a decline may give (Codings, from the rule set).
  nlohmann::json override_reasons = nlohmann::json::array();
  // Whether the reader may record decisions (clinician or mdt role).
  bool can_record = false;
};

std::string CarePlanPage(const CarePlanView& view);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_CARE_PLAN_PAGE_H_
