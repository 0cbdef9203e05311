#ifndef RECONNECT_ENGINE_CEL_COMMON_AST_DEBUG_H_
#define RECONNECT_ENGINE_CEL_COMMON_AST_DEBUG_H_

#include <string>

#include "engine/cel/common/ast.h"

namespace reconnect::cel {

// A compact, unambiguous rendering of an AST, for golden tests and tools:
// calls as name(args), receiver calls as target.name(args), selections as
// a.b (has: a.b~test), macros as range.macro(var, ...), literals as CEL
// source (1, 1u, 1.0, "s", b"x").
std::string ExprToString(const Expr& e);

// The expression as CEL source for people, e.g. in explanations: operators
// infix ("a.b >= 30 && !c"), with the parentheses their precedence needs,
// has() and macros as written. Parsing it gives the same expression.
std::string ExprToCel(const Expr& e);

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_COMMON_AST_DEBUG_H_
