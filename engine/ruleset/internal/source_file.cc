#include "engine/ruleset/internal/source_file.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "engine/ruleset/issue_codes.h"

namespace reconnect::ruleset::ruleset_internal {

std::pair<int, int> SourceFile::LineColumn(size_t offset) const {
  constexpr size_t kStride = 256;
  auto is_lead = [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  };
  if (checkpoints_.empty()) {
    int line = 1, col = 1;
    size_t last = 0;
    checkpoints_.push_back({0, 1, 1});
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
        checkpoints_.push_back({i + 1, line, col});
        last = i + 1;
        continue;
      }
      if (is_lead(text[i])) ++col;
      if (i + 1 - last >= kStride) {
        checkpoints_.push_back({i + 1, line, col});
        last = i + 1;
      }
    }
  }
  offset = std::min(offset, text.size());
  const auto next = std::upper_bound(
      checkpoints_.begin(), checkpoints_.end(), offset,
      [](size_t o, const Checkpoint& c) { return o < c.offset; });
  const Checkpoint& from = *(next - 1);
  int col = from.column;
  for (size_t i = from.offset; i < offset; ++i) {
    if (is_lead(text[i])) ++col;
  }
  return {from.line, col};
}

size_t SourceFile::FindString(std::string_view value, size_t from) const {
  const std::string literal =
      nlohmann::json(std::string(value))
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  size_t pos = text.find(literal, from);
  if (pos == std::string::npos) {
    // Authors may escape differently (e.g. \u00e9); fall back to the raw text.
    pos = text.find(absl::StrCat("\"", std::string(value), "\""), from);
  }
  return pos;
}

size_t SourceFile::FindKey(std::string_view key, int nth) const {
  const std::string literal =
      nlohmann::json(std::string(key))
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  size_t from = 0;
  while (true) {
    const size_t at = text.find(literal, from);
    if (at == std::string::npos) return at;
    size_t next = at + literal.size();
    while (next < text.size() &&
           std::isspace(static_cast<unsigned char>(text[next]))) {
      ++next;
    }
    // A key is the string before a ':'; a value cannot be followed by one.
    if (next < text.size() && text[next] == ':' && --nth == 0) return at;
    from = at + 1;
  }
}

RuleSetIssue SourceFile::IssueAt(const char* code, size_t offset,
                                 std::string rule_id,
                                 std::string message) const {
  RuleSetIssue issue;
  issue.code = code;
  issue.file = relative_path;
  if (offset != std::string::npos) {
    std::tie(issue.line, issue.column) = LineColumn(offset);
  }
  issue.rule_id = std::move(rule_id);
  issue.message = std::move(message);
  return issue;
}

std::pair<int, int> SourceFile::ExpressionPosition(size_t literal_offset,
                                                   int line, int column) const {
  // Walk the literal's raw text, counting decoded code points; a JSON string
  // holds no raw newline, so an expression line maps to an escaped "\n".
  size_t i = literal_offset + 1;
  int cur_line = 1, cur_col = 1;
  while (i < text.size() && text[i] != '"') {
    if (cur_line == line && cur_col == column) break;
    if (text[i] == '\\' && i + 1 < text.size()) {
      const char e = text[i + 1];
      i += e == 'u' ? 6 : 2;
      if (e == 'n') {
        ++cur_line;
        cur_col = 1;
        continue;
      }
    } else {
      ++i;
      while (i < text.size() &&
             (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) {
        ++i;
      }
    }
    ++cur_col;
  }
  return LineColumn(i);
}

ListEntryLocator::Entry ListEntryLocator::Next(const nlohmann::json& entry,
                                               const char* key) {
  Entry e{"", from_};
  if (entry.is_object()) {
    auto it = entry.find(key);
    if (it != entry.end() && it->is_string()) e.key = it->get<std::string>();
  }
  if (!e.key.empty()) e.offset = file_.FindString(e.key, from_);
  if (e.offset != std::string::npos && !e.key.empty()) from_ = e.offset + 1;
  return e;
}

std::optional<SourceFile> ReadJsonFile(const std::filesystem::path& dir,
                                       const std::string& relative,
                                       int64_t max_bytes,
                                       std::vector<RuleSetIssue>& issues) {
  const std::filesystem::path path = dir / relative;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    issues.push_back({relative, 0, 0, "",
                      absl::StrCat("cannot read file: ", ec.message()),
                      issue_codes::kUnreadable});
    return std::nullopt;
  }
  if (static_cast<int64_t>(size) > max_bytes) {
    issues.push_back({relative, 0, 0, "",
                      absl::StrCat("file is ", size, " bytes, more than the ",
                                   max_bytes, " allowed (max_file_bytes)"),
                      issue_codes::kUnreadable});
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in && !in.eof()) {
    issues.push_back(
        {relative, 0, 0, "", "cannot read file", issue_codes::kUnreadable});
    return std::nullopt;
  }
  return ParseJsonFile(relative, buf.str(), max_bytes, issues);
}

std::optional<SourceFile> ParseJsonFile(const std::string& relative,
                                        std::string text, int64_t max_bytes,
                                        std::vector<RuleSetIssue>& issues) {
  if (static_cast<int64_t>(text.size()) > max_bytes) {
    issues.push_back(
        {relative, 0, 0, "",
         absl::StrCat("file is ", text.size(), " bytes, more than the ",
                      max_bytes, " allowed (max_file_bytes)"),
         issue_codes::kUnreadable});
    return std::nullopt;
  }
  SourceFile f;
  f.relative_path = relative;
  f.text = std::move(text);
  // A key given twice in one object would silently lose its first value;
  // the parser's callback sees each key, with the object it belongs to.
  // Keys are counted through the document (the nth "when" key), so that
  // both places can be found in the text afterwards.
  std::vector<std::map<std::string, int>> objects;
  std::map<std::string, int> key_count;
  std::vector<std::tuple<std::string, int, int>> duplicates;
  auto on_event = [&](int, nlohmann::json::parse_event_t event,
                      nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      objects.emplace_back();
    } else if (event == E::object_end && !objects.empty()) {
      objects.pop_back();
    } else if (event == E::key && !objects.empty()) {
      const std::string key = parsed.get<std::string>();
      const int nth = ++key_count[key];
      auto [it, inserted] = objects.back().try_emplace(key, nth);
      if (!inserted) duplicates.emplace_back(key, it->second, nth);
    }
    return true;
  };
  // The JSON library reports errors by exception; it is caught here, in the
  // one place that parses rule files, and becomes an issue.
  try {
    f.root = nlohmann::json::parse(f.text, on_event, /*allow_exceptions=*/true,
                                   /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    const size_t at = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    // Drop the library's "[json.exception.parse_error.101] parse error at
    // line 3, column 5: " prefix; the position is reported in our form.
    if (const size_t colon = what.find(": "); colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    issues.push_back(f.IssueAt(issue_codes::kInvalidJson, at, "",
                               absl::StrCat("invalid JSON: ", what)));
    return std::nullopt;
  }
  for (const auto& [key, first, second] : duplicates) {
    const size_t first_at = f.FindKey(key, first);
    const auto [line, column] = f.LineColumn(first_at);
    issues.push_back(f.IssueAt(
        issue_codes::kDuplicate, f.FindKey(key, second), "",
        absl::StrCat(
            "key \"", key, "\" is given twice in one object (first at ",
            first_at == std::string::npos ? std::string("an earlier place")
                                          : absl::StrCat(line, ":", column),
            "); only one may stand")));
  }
  return f;
}

}  // namespace reconnect::ruleset::ruleset_internal
