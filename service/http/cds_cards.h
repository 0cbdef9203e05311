#ifndef RECONNECT_SERVICE_HTTP_CDS_CARDS_H_
#define RECONNECT_SERVICE_HTTP_CDS_CARDS_H_

// A recommendation as CDS Hooks 2.0 cards, within the budget EHR users
// expect (a few cards, not dozens):
// - one card per critical or warning alert, its indicator the severity;
// - one info plan card: the summary, and in Markdown the components with
//   their techniques and who delivers them, the prompts, the
//   considerations, info alerts, what was held back and why, and the facts
//   that were not available;
// - one card for skills gaps, with a referral suggestion (a draft
//   ServiceRequest) per gap;
// - a warning card when a rule could not be evaluated.
// On request, the plan card also says why each other rule did not fire: the
// deciding clause of its condition, or the rules that held it back.
// Every word comes from the recommendation or the rule set's cds_hooks.json
// ("cards"); card and suggestion uuids are UUID v5 of the decision id and
// the item, so that feedback on a card joins the audit trail.

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "reconnect/v1/recommendation.pb.h"
#include "service/audit/audit_store.h"

namespace reconnect::service::http {

struct CardInput {
  std::string decision_id;
  std::string rule_set_id;
  std::string rule_set_version;
  std::string rule_set_digest;
  // "Patient/ID", for the referral suggestions' subject; may be empty.
  std::string patient_ref;
  // The rule set's cds_hooks.json "cards" (as checked at load).
  const nlohmann::json* cards = nullptr;
  // Labels of the facts the EHR did not send.
  std::vector<std::string> missing;
  // Why the rules that did not fire did not, when the caller asked
  // (EXPLANATION_WHY_NOT): the plan card then says so, under the rule set's
  // "why_not" heading.
  const google::protobuf::RepeatedPtrField<v1::RuleExplanation>* why_not =
      nullptr;
  // With it, the absent facts that could change the plan, under the rule
  // set's "missing_data" heading (left out when the rule set has none).
  const v1::MissingData* missing_data = nullptr;
};

// The CDS Hooks response: {"cards": [...], "extension": {...}}; the
// extension carries the decision id and the rule set. When `issued` is
// given, each card is added to it (uuid, item, the rules behind it, its
// suggestions' uuids; the service left for the caller), for the audit
// store's card index, which feedback is checked against.
nlohmann::json CdsHooksResponse(const v1::Recommendation& recommendation,
                                const CardInput& input,
                                std::vector<IssuedCard>* issued = nullptr);

// The plan as a person reads it, in Markdown: the summary, the critical and
// warning alerts, then what the plan card's detail says.
std::string PlanMarkdown(const v1::Recommendation& recommendation,
                         const CardInput& input);

// A name-based (version 5, RFC 9562) UUID of `name` in the Re-Connect card
// namespace: the same decision and item always give the same uuid.
std::string CardUuid(const std::string& decision_id, const std::string& item);

// `text` cut to fewer than `limit` code points (with an ellipsis when cut),
// as a card summary must be under 140 characters.
std::string Summary(const std::string& text, size_t limit = 140);

}  // namespace reconnect::service::http

#endif  // RECONNECT_SERVICE_HTTP_CDS_CARDS_H_
