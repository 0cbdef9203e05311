#include "service/web/mdt_feedback.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "service/common/name_uuid.h"
#include "service/web/care_plan_page.h"

namespace reconnect::service::web {

namespace {

using nlohmann::json;

// The namespace of MDT items' name-based uuids (a random v4 uuid, fixed
// for ever: the same decision and item give the same uuid everywhere).
constexpr UuidNamespace kMdtItems = {0x6f, 0x2b, 0x8e, 0x41, 0x0c, 0x5d,
                                     0x4a, 0x77, 0x9b, 0x13, 0xd2, 0x60,
                                     0x8a, 0x4f, 0xe1, 0x35};

absl::Status Invalid(std::string& field, std::string name, std::string why) {
  field = std::move(name);
  return absl::InvalidArgumentError(std::move(why));
}

}  // namespace

absl::StatusOr<MdtEntry> ParseMdtEntry(const std::string& body,
                                       std::string& field) {
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) {
    return Invalid(field, "", "the body must be a JSON object");
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "item" && key != "outcome" && key != "modification" &&
        key != "reason" && key != "comment") {
      return Invalid(field, key,
                     absl::StrCat("unknown member '", key,
                                  "' (item, outcome, modification, reason, "
                                  "comment)"));
    }
    if (!value.is_string()) {
      return Invalid(field, key, absl::StrCat("'", key, "' must be text"));
    }
    if (value.get_ref<const std::string&>().size() > kMaxMdtTextBytes) {
      return Invalid(field, key,
                     absl::StrCat("'", key, "' must be at most ",
                                  kMaxMdtTextBytes, " bytes"));
    }
  }
  MdtEntry e;
  e.item = doc.value("item", "");
  e.modification = doc.value("modification", "");
  e.reason = doc.value("reason", "");
  e.comment = doc.value("comment", "");
  if (e.item.empty()) {
    return Invalid(field, "item",
                   "'item' (the plan item decided on) is required");
  }
  const std::string outcome = doc.value("outcome", "");
  if (outcome == "accepted" || outcome == "modified") {
    e.outcome = outcome;
  } else if (outcome == "declined") {
    e.outcome = "overridden";  // as CDS Hooks calls a card not taken
  } else {
    return Invalid(field, "outcome",
                   "'outcome' must be accepted, modified or declined");
  }
  if (e.outcome == "modified" && e.modification.empty()) {
    return Invalid(field, "modification",
                   "a modified item needs its 'modification': what the team "
                   "will do instead");
  }
  if (e.outcome != "modified" && !e.modification.empty()) {
    return Invalid(field, "modification",
                   "only a modified item has a 'modification'");
  }
  if (e.outcome == "overridden" && e.reason.empty() && e.comment.empty()) {
    return Invalid(field, "reason",
                   "a declined item needs a 'reason', a 'comment', or both");
  }
  if (e.outcome == "accepted" && !e.reason.empty()) {
    return Invalid(field, "reason", "an accepted item has no 'reason'");
  }
  return e;
}

absl::StatusOr<FeedbackRecord> MdtFeedback(const MdtEntry& entry,
                                           const std::string& decision_id,
                                           const v1::Recommendation& plan,
                                           const json& override_reasons,
                                           const std::string& caller,
                                           absl::Time now, std::string& field) {
  const std::vector<PlanEntry> entries = PlanEntries(plan);
  auto item =
      std::find_if(entries.begin(), entries.end(),
                   [&](const PlanEntry& p) { return p.key == entry.item; });
  if (item == entries.end()) {
    return Invalid(field, "item",
                   absl::StrCat("'", entry.item,
                                "' is not an item of this decision's plan"));
  }
  json detail = json::object();
  if (!entry.reason.empty()) {
    auto reason = std::find_if(
        override_reasons.begin(), override_reasons.end(), [&](const json& r) {
          return r.is_object() && r.value("code", "") == entry.reason;
        });
    if (reason == override_reasons.end()) {
      return Invalid(field, "reason",
                     absl::StrCat("'", entry.reason,
                                  "' is not one of the rule set's reasons"));
    }
    detail["reason"] = *reason;
  }
  if (!entry.comment.empty()) detail["userComment"] = entry.comment;
  if (!entry.modification.empty()) detail["modification"] = entry.modification;
  FeedbackRecord f;
  f.time_micros = absl::ToUnixMicros(now);
  f.caller = caller;
  f.service = kMdtService;
  f.card_uuid = NameUuid(kMdtItems, absl::StrCat(decision_id, " ", item->key));
  f.outcome = entry.outcome;
  f.outcome_time =
      absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone());
  if (!detail.empty()) {
    f.override_reason =
        detail.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  f.decision_id = decision_id;
  f.card_item = item->key;
  f.rule_ids = item->rule_ids;
  return f;
}

}  // namespace reconnect::service::web
