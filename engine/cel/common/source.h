#ifndef RECONNECT_ENGINE_CEL_COMMON_SOURCE_H_
#define RECONNECT_ENGINE_CEL_COMMON_SOURCE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reconnect::cel {

// A 1-based line and column; columns count Unicode code points, as CEL does.
struct SourcePosition {
  int line = 0;
  int column = 0;
  friend bool operator==(const SourcePosition&,
                         const SourcePosition&) = default;
};

// The text of one expression and the code-point offset of each line start, so
// that a code-point offset in an AST node maps to a line and column.
class Source {
 public:
  explicit Source(std::string text);

  const std::string& text() const { return text_; }
  SourcePosition PositionOf(int32_t code_point_offset) const;

 private:
  std::string text_;
  std::vector<int32_t> line_starts_;  // code-point offsets
};

// One problem in an expression: what is wrong and where. These are data, not
// failures: a checker or parser collects all of them and reports together.
struct Issue {
  SourcePosition position;
  std::string message;

  std::string ToString() const;  // "line:col: message"
};

// Joins issues one per line, each "line:col: message".
std::string FormatIssues(const std::vector<Issue>& issues);

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_COMMON_SOURCE_H_
