#ifndef RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_FUNCTIONS_H_
#define RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_FUNCTIONS_H_

#include <optional>
#include <string_view>

#include "engine/cel/common/value.h"
#include "engine/cel/runtime/options.h"
#include "re2/re2.h"

namespace reconnect::cel::runtime_internal {

// The standard functions and operators, resolved by name once at plan time.
enum class Function : uint8_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kNeg,
  kNot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIndex,
  kIn,
  kSize,
  kContains,
  kStartsWith,
  kEndsWith,
  kMatches,
  kToInt,
  kToUint,
  kToDouble,
  kToString,
  kToBytes,
  kToBool,
  kType,
  kDyn,
  kDuration,
  kTimestamp,
  kGetFullYear,
  kGetMonth,
  kGetDayOfYear,
  kGetDayOfMonth,
  kGetDate,
  kGetDayOfWeek,
  kGetHours,
  kGetMinutes,
  kGetSeconds,
  kGetMilliseconds,
};

std::optional<Function> LookupFunction(std::string_view name);

// Whether `fn` takes `n` arguments (a receiver counts as one). The checker
// guarantees it for checked expressions; the planner tests it for unchecked
// ones, so that Apply never reads past its arguments.
bool TakesArguments(Function fn, size_t n);

// The text forms CEL's string() gives, which are also the protobuf JSON
// forms: "1.5s" and "2026-01-02T03:04:05.5Z".
std::string FormatDurationText(absl::Duration d);
std::string FormatTimestampText(absl::Time t);

// Applies a strict function: an error argument is returned as the result.
// For receiver-style calls, args[0] is the receiver.
Value Apply(Function fn, const Value* args, size_t n, const Limits& limits);

// Compiles a pattern for matches() under the program-size limit; on failure
// returns null and sets `error`.
std::unique_ptr<RE2> CompileRegex(const std::string& pattern,
                                  const Limits& limits, std::string& error);

}  // namespace reconnect::cel::runtime_internal

#endif  // RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_FUNCTIONS_H_
