#include "engine/ruleset/internal/json_reader.h"

#include "absl/strings/str_cat.h"
#include "engine/ruleset/issue_codes.h"

namespace reconnect::ruleset::ruleset_internal {

ObjectReader::ObjectReader(const SourceFile& file, const nlohmann::json& object,
                           std::string context, std::string rule_id,
                           size_t anchor, std::vector<RuleSetIssue>& issues)
    : file_(file),
      object_(object),
      context_(std::move(context)),
      rule_id_(std::move(rule_id)),
      anchor_(anchor),
      issues_(issues) {
  if (!object_.is_object())
    Error(issue_codes::kMissingOrWrongShape,
          absl::StrCat(context_, " must be a JSON object"));
}

void ObjectReader::Error(const char* code, std::string message, size_t offset) {
  issues_.push_back(
      file_.IssueAt(code, offset == std::string::npos ? anchor_ : offset,
                    rule_id_, std::move(message)));
}

size_t ObjectReader::KeyOffset(const char* key) const {
  const size_t at =
      file_.FindString(key, anchor_ == std::string::npos ? 0 : anchor_);
  return at == std::string::npos ? anchor_ : at;
}

const nlohmann::json* ObjectReader::Member(const char* key) const {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

std::string ObjectReader::String(const char* key, bool required) {
  const nlohmann::json* v = Member(key);
  if (v == nullptr) {
    if (required && ok())
      Error(issue_codes::kMissingOrWrongShape,
            absl::StrCat(context_, ": \"", key, "\" is required"));
    return "";
  }
  if (!v->is_string()) {
    Error(issue_codes::kMissingOrWrongShape,
          absl::StrCat(context_, ": \"", key, "\" must be a string"),
          KeyOffset(key));
    return "";
  }
  return v->get<std::string>();
}

std::vector<std::string> ObjectReader::StringList(const char* key) {
  std::vector<std::string> out;
  const nlohmann::json* v = Member(key);
  if (v == nullptr) return out;
  if (!v->is_array()) {
    Error(issue_codes::kMissingOrWrongShape,
          absl::StrCat(context_, ": \"", key, "\" must be a list of strings"),
          KeyOffset(key));
    return out;
  }
  for (const auto& e : *v) {
    if (!e.is_string()) {
      Error(issue_codes::kMissingOrWrongShape,
            absl::StrCat(context_, ": \"", key, "\" must be a list of strings"),
            KeyOffset(key));
      return {};
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

int64_t ObjectReader::Int(const char* key, int64_t fallback) {
  const nlohmann::json* v = Member(key);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer()) {
    Error(issue_codes::kMissingOrWrongShape,
          absl::StrCat(context_, ": \"", key, "\" must be an integer"),
          KeyOffset(key));
    return fallback;
  }
  return v->get<int64_t>();
}

bool ObjectReader::Bool(const char* key, bool fallback) {
  const nlohmann::json* v = Member(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) {
    Error(issue_codes::kMissingOrWrongShape,
          absl::StrCat(context_, ": \"", key, "\" must be true or false"),
          KeyOffset(key));
    return fallback;
  }
  return v->get<bool>();
}

std::optional<std::string> ObjectReader::Expression(
    const char* key, bool required, std::vector<size_t>& line_offsets) {
  line_offsets.clear();
  const nlohmann::json* v = Member(key);
  if (v == nullptr) {
    if (required && ok())
      Error(issue_codes::kMissingOrWrongShape,
            absl::StrCat(context_, ": \"", key, "\" is required"));
    return std::nullopt;
  }
  const size_t key_at = KeyOffset(key);
  if (v->is_string()) {
    const std::string text = v->get<std::string>();
    line_offsets.push_back(file_.FindString(text, key_at));
    return text;
  }
  if (v->is_array() && !v->empty()) {
    std::string text;
    size_t from = key_at;
    for (const auto& line : *v) {
      if (!line.is_string()) break;
      const std::string s = line.get<std::string>();
      const size_t at = file_.FindString(s, from);
      line_offsets.push_back(at);
      if (at != std::string::npos) from = at + 1;
      absl::StrAppend(&text,
                      text.empty() && line_offsets.size() == 1 ? "" : "\n", s);
    }
    if (line_offsets.size() == v->size()) return text;
  }
  Error(
      issue_codes::kMissingOrWrongShape,
      absl::StrCat(context_, ": \"", key,
                   "\" must be a CEL expression: a string, or a list of lines"),
      key_at);
  line_offsets.clear();
  return std::nullopt;
}

void ObjectReader::RejectUnknownKeys(
    std::initializer_list<std::string_view> known) {
  if (!ok()) return;
  for (const auto& [k, unused] : object_.items()) {
    bool found = false;
    for (std::string_view n : known) found = found || n == k;
    if (!found) {
      Error(issue_codes::kUnknownKey,
            absl::StrCat(context_, ": unknown key \"", k, "\""),
            KeyOffset(k.c_str()));
    }
  }
}

}  // namespace reconnect::ruleset::ruleset_internal
