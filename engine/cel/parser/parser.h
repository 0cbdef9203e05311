#ifndef RECONNECT_ENGINE_CEL_PARSER_PARSER_H_
#define RECONNECT_ENGINE_CEL_PARSER_PARSER_H_

#include <vector>

#include "engine/cel/common/ast.h"
#include "engine/cel/common/source.h"
#include "engine/cel/parser/options.h"

namespace reconnect::cel {

struct ParseResult {
  // Null when `issues` is not empty.
  ExprPtr expr;
  std::vector<Issue> issues;
  // One more than the largest node id in `expr`.
  int64_t next_id = 1;
};

// Parses the whole CEL grammar, expanding the standard macros (has, all,
// exists, exists_one, map, filter). Thread-safe; `source` must outlive the
// call only.
ParseResult Parse(const Source& source, const ParserOptions& options = {});

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_PARSER_PARSER_H_
