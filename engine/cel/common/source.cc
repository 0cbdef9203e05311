#include "engine/cel/common/source.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reconnect::cel {

Source::Source(std::string text) : text_(std::move(text)) {
  line_starts_.push_back(0);
  int32_t cp = 0;
  for (size_t i = 0; i < text_.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text_[i]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    ++cp;
    if (c == '\n') line_starts_.push_back(cp);
  }
}

SourcePosition Source::PositionOf(int32_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const int line = static_cast<int>(it - line_starts_.begin());
  return {line, offset - line_starts_[line - 1] + 1};
}

std::string Issue::ToString() const {
  return absl::StrCat(position.line, ":", position.column, ": ", message);
}

std::string FormatIssues(const std::vector<Issue>& issues) {
  return absl::StrJoin(issues, "\n", [](std::string* out, const Issue& i) {
    out->append(i.ToString());
  });
}

}  // namespace reconnect::cel
