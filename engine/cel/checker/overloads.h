#ifndef RECONNECT_ENGINE_CEL_CHECKER_OVERLOADS_H_
#define RECONNECT_ENGINE_CEL_CHECKER_OVERLOADS_H_

#include <optional>
#include <string>
#include <vector>

#include "engine/cel/checker/types.h"

namespace reconnect::cel {

// One signature of a function. Parameter and result types may use type
// parameters (Type::TypeParam), bound afresh at each call.
struct Overload {
  bool receiver = false;     // called as `target.f(args)`
  std::vector<Type> params;  // the receiver first when `receiver`
  Type result;
};

// The result type of calling function or operator `name` on `target` (null
// for a global call) and `args`: the standard library's overloads, then
// `declared` (may be null). Nullopt, with `error` set, when no overload
// matches or the function is not declared. Unbound type variables among
// the arguments may be bound, as the first overload that fits them would
// (`y` in `x in y` becomes a list of x's type).
std::optional<Type> ResolveOverload(const std::string& name, const Type* target,
                                    const std::vector<Type>& args,
                                    const std::vector<Overload>* declared,
                                    TypeVars& vars, std::string& error);

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_CHECKER_OVERLOADS_H_
