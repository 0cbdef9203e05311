#ifndef RECONNECT_SERVICE_WEB_MDT_FEEDBACK_H_
#define RECONNECT_SERVICE_WEB_MDT_FEEDBACK_H_

// What an MDT decided about one item of a plan, as the care-plan page
// posts it, checked and turned into the feedback record the audit chain
// keeps (the same record as CDS Hooks feedback).

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/recommendation.pb.h"
#include "service/audit/audit_store.h"

namespace reconnect::service::web {

// The service name MDT feedback is stored under.
inline constexpr char kMdtService[] = "mdt";
inline constexpr size_t kMaxMdtTextBytes = 2000;

// {"item": "technique/CODE", "outcome": "accepted"|"modified"|"declined",
//  "modification": text (modified only, required), "reason": a code of the
//  rule set's override reasons, "comment": text}. A declined item needs a
//  reason or a comment.
struct MdtEntry {
  std::string item;
  std::string outcome;  // as stored: accepted, modified or overridden
  std::string modification;
  std::string reason;
  std::string comment;
};

// INVALID_ARGUMENT naming what is wrong, with the field in `field`.
absl::StatusOr<MdtEntry> ParseMdtEntry(const std::string& body,
                                       std::string& field);

// The record to store for `entry` on `decision` (whose recorded plan is
// `plan`), by `caller` at `now`; INVALID_ARGUMENT (with `field`) when the
// item is not in the plan or the reason not among `override_reasons`.
absl::StatusOr<FeedbackRecord> MdtFeedback(
    const MdtEntry& entry, const std::string& decision_id,
    const v1::Recommendation& plan, const nlohmann::json& override_reasons,
    const std::string& caller, absl::Time now, std::string& field);

}  // namespace reconnect::service::web

#endif  // RECONNECT_SERVICE_WEB_MDT_FEEDBACK_H_
