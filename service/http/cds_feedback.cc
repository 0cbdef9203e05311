#include "service/http/cds_feedback.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace reconnect::service::http {

namespace {

using nlohmann::json;

// A UUID as CDS Hooks writes card and suggestion uuids: 8-4-4-4-12 hex
// digits.
bool IsUuid(const json& value) {
  if (!value.is_string()) return false;
  const std::string& s = value.get_ref<const std::string&>();
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-'
             : !absl::ascii_isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

// An instant: an RFC 3339 date and time with its offset.
bool IsInstant(const json& value) {
  if (!value.is_string()) return false;
  absl::Time t;
  std::string error;
  return absl::ParseTime(absl::RFC3339_full, value.get<std::string>(), &t,
                         &error);
}

bool NonEmptyString(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() &&
         !it->get_ref<const std::string&>().empty();
}

// One entry, `at` its path; appends what is wrong to `issues`.
FeedbackRecord ParseEntry(const json& entry, const std::string& at,
                          const std::string& service,
                          std::vector<OutcomeIssue>& issues) {
  FeedbackRecord f;
  f.service = service;
  auto problem = [&](std::string code, std::string field, std::string what) {
    issues.push_back({std::move(code), std::move(what),
                      field.empty() ? at : absl::StrCat(at, ".", field)});
  };
  if (!entry.is_object()) {
    problem("structure", "", "each feedback entry must be an object");
    return f;
  }
  if (!entry.contains("card")) {
    problem("required", "card", "the card's uuid is required");
  } else if (!IsUuid(entry["card"])) {
    problem("value", "card", "must be a card uuid (8-4-4-4-12 hex digits)");
  } else {
    f.card_uuid = absl::AsciiStrToLower(entry["card"].get<std::string>());
  }
  const json* outcome = entry.contains("outcome") ? &entry["outcome"] : nullptr;
  if (outcome == nullptr) {
    problem("required", "outcome", "the outcome is required");
  } else if (*outcome != "accepted" && *outcome != "overridden") {
    problem("code-invalid", "outcome", "must be 'accepted' or 'overridden'");
  } else {
    f.outcome = outcome->get<std::string>();
  }
  if (!entry.contains("outcomeTimestamp")) {
    problem("required", "outcomeTimestamp",
            "when the clinician acted is required");
  } else if (!IsInstant(entry["outcomeTimestamp"])) {
    problem("value", "outcomeTimestamp",
            "must be an instant, e.g. 2026-12-01T10:15:00Z");
  } else {
    f.outcome_time = entry["outcomeTimestamp"].get<std::string>();
  }
  if (auto accepted = entry.find("acceptedSuggestions");
      accepted != entry.end()) {
    if (!accepted->is_array()) {
      problem("structure", "acceptedSuggestions", "must be an array");
    } else {
      for (size_t j = 0; j < accepted->size(); ++j) {
        const json& s = (*accepted)[j];
        if (!s.is_object() || !IsUuid(s.value("id", json()))) {
          problem("value", absl::StrCat("acceptedSuggestions[", j, "].id"),
                  "must be a suggestion uuid");
          continue;
        }
        f.accepted_suggestions.push_back(
            absl::AsciiStrToLower(s["id"].get<std::string>()));
      }
    }
  }
  if (f.outcome == "accepted" && (!entry.contains("acceptedSuggestions") ||
                                  (entry["acceptedSuggestions"].is_array() &&
                                   entry["acceptedSuggestions"].empty()))) {
    problem("required", "acceptedSuggestions",
            "an accepted outcome must name the suggestions accepted "
            "(cds-fb-2)");
  }
  if (f.outcome == "overridden" && entry.contains("acceptedSuggestions")) {
    problem("invariant", "acceptedSuggestions",
            "an overridden card has no accepted suggestions (cds-fb-1)");
  }
  if (auto reason = entry.find("overrideReason"); reason != entry.end()) {
    if (f.outcome == "accepted") {
      problem("invariant", "overrideReason",
              "only an overridden card has an override reason (cds-fb-1)");
    }
    if (!reason->is_object()) {
      problem("structure", "overrideReason", "must be an object");
      return f;
    }
    const bool has_reason = reason->contains("reason");
    const bool has_comment = reason->contains("userComment");
    if (!has_reason && !has_comment) {
      problem("invariant", "overrideReason",
              "must hold a reason, a userComment, or both (cds-fb-3)");
    }
    json kept = json::object();
    if (has_reason) {
      const json& coding = (*reason)["reason"];
      if (!coding.is_object() || !NonEmptyString(coding, "code") ||
          !NonEmptyString(coding, "system")) {
        problem("value", "overrideReason.reason",
                "must be a Coding with a system and a code");
      } else {
        kept["reason"] = {{"system", coding["system"]},
                          {"code", coding["code"]}};
        if (NonEmptyString(coding, "display")) {
          kept["reason"]["display"] = coding["display"];
        }
      }
    }
    if (has_comment) {
      const json& comment = (*reason)["userComment"];
      if (!comment.is_string()) {
        problem("value", "overrideReason.userComment", "must be a string");
      } else if (comment.get_ref<const std::string&>().size() >
                 kMaxUserCommentBytes) {
        problem(
            "too-long", "overrideReason.userComment",
            absl::StrCat("must be at most ", kMaxUserCommentBytes, " bytes"));
      } else {
        kept["userComment"] = comment;
      }
    }
    f.override_reason =
        kept.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return f;
}

}  // namespace

std::vector<FeedbackRecord> ParseFeedback(const json& body,
                                          const std::string& service,
                                          std::vector<OutcomeIssue>& issues) {
  std::vector<FeedbackRecord> records;
  if (!body.is_object() || !body.contains("feedback") ||
      !body["feedback"].is_array()) {
    issues.push_back({"structure",
                      "the request must be an object with a 'feedback' array",
                      "feedback"});
    return records;
  }
  const json& entries = body["feedback"];
  if (entries.size() > kMaxFeedbackEntries) {
    issues.push_back({"too-long",
                      absl::StrCat("at most ", kMaxFeedbackEntries,
                                   " entries in one request"),
                      "feedback"});
    return records;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    records.push_back(ParseEntry(entries[i], absl::StrCat("feedback[", i, "]"),
                                 service, issues));
  }
  return records;
}

}  // namespace reconnect::service::http
