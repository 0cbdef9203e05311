#include "service/audit/internal/sqlite.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace reconnect::service::audit_internal {

absl::Status Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("audit store: ", error ? error : sqlite3_errmsg(db)));
    sqlite3_free(error);
    return s;
  }
  return absl::OkStatus();
}

std::string JsonArray(const std::vector<std::string>& items) {
  return nlohmann::json(items).dump();
}

std::vector<std::string> FromJsonArray(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& item : j) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

void BindRuleSetEvent(Statement& insert, const RuleSetEvent& e) {
  nlohmann::json refusals = nlohmann::json::array();
  for (const RuleSetRefusal& r : e.refusals) {
    refusals.push_back({{"dir", r.dir}, {"problems", r.problems}});
  }
  insert.Bind(1, e.time_micros)
      .BindText(2, e.action)
      .BindText(3, e.who)
      .BindText(4, e.refused)
      .BindText(5, e.active_digest)
      .BindText(6, JsonArray(e.loaded_digests))
      .BindText(7, refusals.dump());
}

RuleSetEvent ReadRuleSetEvent(Statement& row) {
  RuleSetEvent e;
  e.sequence = row.Int(0);
  e.time_micros = row.Int(1);
  e.action = row.Bytes(2);
  e.who = row.Bytes(3);
  e.refused = row.Bytes(4);
  e.active_digest = row.Bytes(5);
  e.loaded_digests = FromJsonArray(row.Bytes(6));
  const nlohmann::json refusals =
      nlohmann::json::parse(row.Bytes(7), nullptr, false);
  if (refusals.is_array()) {
    for (const nlohmann::json& r : refusals) {
      if (!r.is_object()) continue;
      RuleSetRefusal refusal;
      refusal.dir = r.value("dir", "");
      if (r.contains("problems")) {
        refusal.problems = FromJsonArray(r["problems"].dump());
      }
      e.refusals.push_back(std::move(refusal));
    }
  }
  return e;
}

FeedbackRecord ReadFeedback(Statement& row) {
  FeedbackRecord f;
  f.sequence = row.Int(0);
  f.time_micros = row.Int(1);
  f.caller = row.Bytes(2);
  f.service = row.Bytes(3);
  f.card_uuid = row.Bytes(4);
  f.outcome = row.Bytes(5);
  f.outcome_time = row.Bytes(6);
  f.accepted_suggestions = FromJsonArray(row.Bytes(7));
  f.override_reason = row.Bytes(8);
  f.decision_id = row.Bytes(9);
  f.card_item = row.Bytes(10);
  f.rule_ids = FromJsonArray(row.Bytes(11));
  f.rule_set_digest = row.Bytes(12);
  f.prev_hash = row.Bytes(13);
  f.hash = row.Bytes(14);
  return f;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace reconnect::service::audit_internal
