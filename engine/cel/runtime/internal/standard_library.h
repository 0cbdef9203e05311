#ifndef RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_STANDARD_LIBRARY_H_
#define RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_STANDARD_LIBRARY_H_

// The standard functions that Apply (functions.cc) dispatches to, by
// family: arithmetic (arithmetic.cc), conversions (conversions.cc), and
// timestamps and durations (time_functions.cc). Each is strict: error
// arguments have been returned before these are called.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "engine/cel/common/value.h"
#include "engine/cel/runtime/internal/functions.h"
#include "engine/cel/runtime/options.h"

namespace reconnect::cel::runtime_internal {

// "no matching overload for 'fn' applied to (types)".
Value NoOverload(std::string_view fn, const Value* args, size_t n);
// The value, or an error when it is outside CEL's range.
Value CheckedTimestamp(absl::Time t);
Value CheckedDuration(absl::Duration d);

// arithmetic.cc: _+_ (numbers, strings, bytes, lists within the limits,
// timestamps and durations), _-_, and _*_, _/_ and _%_ (by `fn`).
Value Add(const Value& a, const Value& b, const Limits& limits);
Value Sub(const Value& a, const Value& b);
Value MulDivMod(Function fn, const Value& a, const Value& b);

// conversions.cc: int(), uint(), double(), string() and bool().
Value ToInt(const Value& v);
Value ToUint(const Value& v);
Value ToDouble(const Value& v);
Value ToString(const Value& v);
Value ToBool(const Value& v);

// time_functions.cc: duration() and timestamp() from text, and the
// accessors (getFullYear() and the rest, with an optional time zone).
Value ParseDuration(const Value& v);
Value ParseTimestamp(const Value& v);
Value TimeAccessor(Function fn, const Value* args, size_t n);

}  // namespace reconnect::cel::runtime_internal

#endif  // RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_STANDARD_LIBRARY_H_
