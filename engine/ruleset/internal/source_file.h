#ifndef RECONNECT_ENGINE_RULESET_INTERNAL_SOURCE_FILE_H_
#define RECONNECT_ENGINE_RULESET_INTERNAL_SOURCE_FILE_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ruleset/rule_set.h"
#include "nlohmann/json.hpp"

namespace reconnect::ruleset::ruleset_internal {

// One rule-set file: its text (for positions) and its parsed JSON.
struct SourceFile {
  std::string relative_path;
  std::string text;
  nlohmann::json root;

  // 1-based line and column (in code points) of byte `offset`.
  std::pair<int, int> LineColumn(size_t offset) const;

  // The byte offset of the first JSON string literal spelling `value`, at or
  // after `from`; npos when absent. Used to give positions to values, since
  // the JSON library keeps none.
  size_t FindString(std::string_view value, size_t from = 0) const;

  // The byte offset of the `nth` (1-based) place where `key` is spelt as
  // an object key (a string literal followed by ':'); npos when absent.
  size_t FindKey(std::string_view key, int nth) const;

  // An issue of kind `code` (issue_codes.h) positioned at `offset` (npos:
  // no position).
  RuleSetIssue IssueAt(const char* code, size_t offset, std::string rule_id,
                       std::string message) const;

  // The position of code point (line, column) of an expression whose source
  // is the JSON string literal at `literal_offset`.
  std::pair<int, int> ExpressionPosition(size_t literal_offset, int line,
                                         int column) const;

 private:
  // The line and column at each line start and every 256 bytes within long
  // lines, built on first use: a position costs a binary search and a short
  // scan, however long the file or its lines.
  struct Checkpoint {
    size_t offset;
    int line;
    int column;
  };
  mutable std::vector<Checkpoint> checkpoints_;
};

// Finds the entries of a JSON list in the file text, in order, by a string
// each entry holds (its "id", "code" or "name"), to give them positions.
class ListEntryLocator {
 public:
  // Searches from byte `from` of `file`.
  ListEntryLocator(const SourceFile& file, size_t from)
      : file_(file), from_(from) {}

  struct Entry {
    std::string key;  // the entry's string member; empty when absent
    size_t offset;    // where that string is spelt; else the search point
  };
  // Locates `entry`, whose identifying string is its member `key`.
  Entry Next(const nlohmann::json& entry, const char* key);

 private:
  const SourceFile& file_;
  size_t from_;
};

// Reads and parses `dir/relative`, allowing comments. On failure appends an
// issue with the position the parser reports and returns nullopt.
std::optional<SourceFile> ReadJsonFile(const std::filesystem::path& dir,
                                       const std::string& relative,
                                       int64_t max_bytes,
                                       std::vector<RuleSetIssue>& issues);

// Parses `text` as the file `relative` (comments allowed). On failure
// appends an issue and returns nullopt.
std::optional<SourceFile> ParseJsonFile(const std::string& relative,
                                        std::string text, int64_t max_bytes,
                                        std::vector<RuleSetIssue>& issues);

}  // namespace reconnect::ruleset::ruleset_internal

#endif  // RECONNECT_ENGINE_RULESET_INTERNAL_SOURCE_FILE_H_
