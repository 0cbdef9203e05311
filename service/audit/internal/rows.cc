#include "service/audit/internal/rows.h"

#include <chrono>

#include "nlohmann/json.hpp"

namespace reconnect::service::audit_internal {

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

std::string RefusalsJson(const std::vector<RuleSetRefusal>& refusals) {
  nlohmann::json out = nlohmann::json::array();
  for (const RuleSetRefusal& r : refusals) {
    out.push_back({{"dir", r.dir}, {"problems", r.problems}});
  }
  return out.dump();
}

std::vector<RuleSetRefusal> FromRefusalsJson(const std::string& text) {
  std::vector<RuleSetRefusal> out;
  const nlohmann::json refusals = nlohmann::json::parse(text, nullptr, false);
  if (!refusals.is_array()) return out;
  for (const nlohmann::json& r : refusals) {
    if (!r.is_object()) continue;
    RuleSetRefusal refusal;
    refusal.dir = r.value("dir", "");
    if (r.contains("problems")) {
      refusal.problems = FromJsonArray(r["problems"].dump());
    }
    out.push_back(std::move(refusal));
  }
  return out;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace reconnect::service::audit_internal
