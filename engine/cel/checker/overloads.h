#ifndef RECONNECT_ENGINE_CEL_CHECKER_OVERLOADS_H_
#define RECONNECT_ENGINE_CEL_CHECKER_OVERLOADS_H_

#include <optional>
#include <string>
#include <vector>

#include "engine/cel/checker/types.h"

namespace reconnect::cel {

// The result type of calling the standard function or operator `name` on
// `target` (null for a global call) and `args`, or nullopt with `error` set
// when no overload matches or the function is not declared.
std::optional<Type> ResolveOverload(const std::string& name, const Type* target,
                                    const std::vector<Type>& args,
                                    std::string& error);

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_CHECKER_OVERLOADS_H_
