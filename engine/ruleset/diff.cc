#include "engine/ruleset/diff.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace reconnect::ruleset {

namespace {

using json = nlohmann::json;

std::string Text(const json* j) { return j == nullptr ? "" : j->dump(); }

// The key that identifies an element of `array`, when every element is an
// object with the same identifying field ("id", else "code").
std::string KeyField(const json& array) {
  for (const char* key : {"id", "code"}) {
    bool all = !array.empty();
    for (const auto& e : array) {
      all = all && e.is_object() && e.contains(key) && e[key].is_string();
    }
    if (all) return key;
  }
  return "";
}

void Diff(const std::string& path, const json* a, const json* b,
          std::vector<FieldChange>& out);

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : absl::StrCat(path, ".", key);
}

void DiffKeyedArrays(const std::string& path, const json& a, const json& b,
                     const std::string& key, std::vector<FieldChange>& out) {
  std::map<std::string, const json*> left, right;
  for (const auto& e : a) left[e[key].get<std::string>()] = &e;
  for (const auto& e : b) right[e[key].get<std::string>()] = &e;
  std::set<std::string> keys;
  for (const auto& [k, v] : left) keys.insert(k);
  for (const auto& [k, v] : right) keys.insert(k);
  for (const auto& k : keys) {
    auto l = left.find(k), r = right.find(k);
    Diff(absl::StrCat(path, "[", k, "]"), l == left.end() ? nullptr : l->second,
         r == right.end() ? nullptr : r->second, out);
  }
}

void Diff(const std::string& path, const json* a, const json* b,
          std::vector<FieldChange>& out) {
  if (a != nullptr && b != nullptr && *a == *b) return;
  if (a != nullptr && b != nullptr && a->is_object() && b->is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a->items()) keys.insert(k);
    for (const auto& [k, v] : b->items()) keys.insert(k);
    for (const auto& k : keys) {
      Diff(Join(path, k), a->contains(k) ? &(*a)[k] : nullptr,
           b->contains(k) ? &(*b)[k] : nullptr, out);
    }
    return;
  }
  if (a != nullptr && b != nullptr && a->is_array() && b->is_array()) {
    const std::string key = KeyField(*a);
    if (!key.empty() && key == KeyField(*b)) {
      DiffKeyedArrays(path, *a, *b, key, out);
      return;
    }
  }
  out.push_back({path, Text(a), Text(b)});
}

bool IsCanonical(const json& doc) {
  return doc.is_object() && doc.contains("ruleset") &&
         doc.contains("catalog") && doc.contains("rules") &&
         doc["rules"].is_object();
}

// Rules by id, from every rule file.
std::map<std::string, json> Rules(const json& doc) {
  std::map<std::string, json> rules;
  for (const auto& [file, root] : doc["rules"].items()) {
    if (!root.is_object() || !root.contains("rules") ||
        !root["rules"].is_array()) {
      continue;
    }
    for (const auto& rule : root["rules"]) {
      if (rule.is_object() && rule.contains("id") && rule["id"].is_string()) {
        rules[rule["id"].get<std::string>()] = rule;
      }
    }
  }
  return rules;
}

}  // namespace

absl::StatusOr<RuleSetDiff> DiffRuleSets(const std::string& from,
                                         const std::string& to) {
  const json a = json::parse(from, nullptr, false);
  const json b = json::parse(to, nullptr, false);
  if (!IsCanonical(a) || !IsCanonical(b)) {
    return absl::InvalidArgumentError(
        absl::StrCat(IsCanonical(a) ? "the second" : "the first",
                     " side is not the canonical content of a rule set"));
  }
  RuleSetDiff diff;
  const auto left = Rules(a), right = Rules(b);
  for (const auto& [id, rule] : right) {
    if (!left.count(id)) diff.rules_added.push_back(id);
  }
  for (const auto& [id, rule] : left) {
    auto other = right.find(id);
    if (other == right.end()) {
      diff.rules_removed.push_back(id);
      continue;
    }
    RuleChange change{id, {}};
    Diff("", &rule, &other->second, change.fields);
    if (!change.fields.empty()) diff.rules_changed.push_back(std::move(change));
  }
  for (const char* part :
       {"ruleset", "params", "defs", "catalog", "cds_hooks", "fhir_mapping"}) {
    // The optional parts appear only in rule sets that have them.
    if (!a.contains(part) && !b.contains(part)) continue;
    Diff(part, a.contains(part) ? &a[part] : nullptr,
         b.contains(part) ? &b[part] : nullptr, diff.changes);
  }
  return diff;
}

}  // namespace reconnect::ruleset
