#ifndef RECONNECT_ENGINE_CEL_PARSER_OPTIONS_H_
#define RECONNECT_ENGINE_CEL_PARSER_OPTIONS_H_

#include <cstdint>

namespace reconnect::cel {

// Limits that keep a hostile expression from exhausting the stack or memory.
// An expression beyond a limit is refused with an issue naming the limit.
struct ParserOptions {
  // Maximum nesting of the syntax tree (parenthesised, unary, binary, member
  // chains). The evaluator and checker recurse at most this deep.
  int max_depth = 64;
  // Maximum expression length in Unicode code points.
  int32_t max_code_points = 100'000;
  // Maximum number of AST nodes.
  int32_t max_nodes = 10'000;
  // The macros of CEL's protos extension library: proto.getExt(m, ext) and
  // proto.hasExt(m, ext), with `ext` an extension's qualified name, read
  // and test a proto2 extension field (as m.`ext` does). Off by default, as
  // in other CEL implementations.
  bool proto_extension_macros = false;
};

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_PARSER_OPTIONS_H_
