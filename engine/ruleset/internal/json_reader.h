#ifndef RECONNECT_ENGINE_RULESET_INTERNAL_JSON_READER_H_
#define RECONNECT_ENGINE_RULESET_INTERNAL_JSON_READER_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ruleset/internal/source_file.h"

namespace reconnect::ruleset::ruleset_internal {

// Typed access to one JSON object of a rule-set file. Every wrong type,
// missing required key or unknown key becomes an issue positioned near the
// object (the JSON library keeps no positions, so the reader anchors on a
// string the object contains, such as its id).
class ObjectReader {
 public:
  ObjectReader(const SourceFile& file, const nlohmann::json& object,
               std::string context, std::string rule_id, size_t anchor,
               std::vector<RuleSetIssue>& issues);

  bool ok() const { return object_.is_object(); }
  const nlohmann::json& json() const { return object_; }
  size_t anchor() const { return anchor_; }

  std::string String(const char* key, bool required);
  std::vector<std::string> StringList(const char* key);
  int64_t Int(const char* key, int64_t fallback);
  bool Bool(const char* key, bool fallback);
  // The text of an expression given as a string or as a list of lines; the
  // literal offsets of its lines, for positions, go to `line_offsets`.
  std::optional<std::string> Expression(const char* key, bool required,
                                        std::vector<size_t>& line_offsets);
  const nlohmann::json* Member(const char* key) const;
  // Reports keys not in `known` (catches misspelt keys such as "wehn").
  void RejectUnknownKeys(std::initializer_list<std::string_view> known);

  // An issue of kind `code` (issue_codes.h) at `offset`, or at the object.
  void Error(const char* code, std::string message,
             size_t offset = std::string::npos);
  size_t KeyOffset(const char* key) const;

 private:
  const SourceFile& file_;
  const nlohmann::json& object_;
  std::string context_;
  std::string rule_id_;
  size_t anchor_;
  std::vector<RuleSetIssue>& issues_;
};

}  // namespace reconnect::ruleset::ruleset_internal

#endif  // RECONNECT_ENGINE_RULESET_INTERNAL_JSON_READER_H_
