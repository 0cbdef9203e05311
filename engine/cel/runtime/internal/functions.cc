#include "engine/cel/runtime/internal/functions.h"

#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/cel/common/utf8.h"
#include "engine/cel/runtime/internal/standard_library.h"

namespace reconnect::cel::runtime_internal {

using K = Value::Kind;

Value NoOverload(std::string_view fn, const Value* args, size_t n) {
  std::string types;
  for (size_t i = 0; i < n; ++i) {
    absl::StrAppend(&types, i ? ", " : "", std::string(args[i].TypeName()));
  }
  return Value::Error(absl::StrCat("no matching overload for '",
                                   std::string(fn), "' applied to (", types,
                                   ")"));
}

constexpr int64_t kMinTimestampSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestampSeconds = 253402300799;  // 9999-12-31T23:59:59Z

Value CheckedTimestamp(absl::Time t) {
  const int64_t s = absl::ToUnixSeconds(t);
  if (t < absl::FromUnixSeconds(kMinTimestampSeconds) ||
      s > kMaxTimestampSeconds) {
    return Value::Error("timestamp out of range");
  }
  return Value::Timestamp(t);
}

Value CheckedDuration(absl::Duration d) {
  if (d >= absl::Nanoseconds(std::numeric_limits<int64_t>::max()) ||
      d <= absl::Nanoseconds(std::numeric_limits<int64_t>::min())) {
    return Value::Error("duration out of range");
  }
  return Value::Duration(d);
}

namespace {

Value Index(const Value& c, const Value& k) {
  if (c.kind() == K::kList) {
    int64_t i;
    if (k.kind() == K::kInt) {
      i = k.int_value();
    } else if (k.kind() == K::kUint) {
      if (k.uint_value() >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value::Error("index out of range");
      }
      i = static_cast<int64_t>(k.uint_value());
    } else if (k.kind() == K::kDouble &&
               std::trunc(k.double_value()) == k.double_value() &&
               std::abs(k.double_value()) < 9e18) {
      i = static_cast<int64_t>(k.double_value());
    } else {
      const Value args[] = {c, k};
      return NoOverload("_[_]", args, 2);
    }
    if (i < 0 || static_cast<uint64_t>(i) >= c.list().size()) {
      return Value::Error(absl::StrCat("index out of range: ", i));
    }
    return c.list().at(static_cast<size_t>(i));
  }
  if (c.kind() == K::kMap) {
    if (k.kind() == K::kList || k.kind() == K::kMap ||
        k.kind() == K::kMessage) {
      const Value args[] = {c, k};
      return NoOverload("_[_]", args, 2);
    }
    std::optional<Value> v = c.map().Find(k);
    if (!v) return Value::Error(absl::StrCat("no such key: ", k.DebugString()));
    return *v;
  }
  const Value args[] = {c, k};
  return NoOverload("_[_]", args, 2);
}

Value In(const Value& x, const Value& c) {
  if (c.kind() == K::kList) {
    const size_t n = c.list().size();
    for (size_t i = 0; i < n; ++i) {
      if (ValueEquals(x, c.list().at(i))) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (c.kind() == K::kMap) return Value::Bool(c.map().Find(x).has_value());
  const Value args[] = {x, c};
  return NoOverload("@in", args, 2);
}

Value Compare(Function fn, const Value& a, const Value& b) {
  std::optional<int> c = CompareValues(a, b);
  if (!c) {
    const bool both_numeric =
        (a.kind() == K::kInt || a.kind() == K::kUint ||
         a.kind() == K::kDouble) &&
        (b.kind() == K::kInt || b.kind() == K::kUint || b.kind() == K::kDouble);
    if (both_numeric) return Value::Bool(false);  // NaN compares false
    const Value args[] = {a, b};
    const char* name = fn == Function::kLt   ? "_<_"
                       : fn == Function::kLe ? "_<=_"
                       : fn == Function::kGt ? "_>_"
                                             : "_>=_";
    return NoOverload(name, args, 2);
  }
  switch (fn) {
    case Function::kLt:
      return Value::Bool(*c < 0);
    case Function::kLe:
      return Value::Bool(*c <= 0);
    case Function::kGt:
      return Value::Bool(*c > 0);
    default:
      return Value::Bool(*c >= 0);
  }
}

}  // namespace

std::optional<Function> LookupFunction(std::string_view name) {
  static const auto* table =
      new absl::flat_hash_map<std::string_view, Function>{
          {"_+_", Function::kAdd},
          {"_-_", Function::kSub},
          {"_*_", Function::kMul},
          {"_/_", Function::kDiv},
          {"_%_", Function::kMod},
          {"-_", Function::kNeg},
          {"!_", Function::kNot},
          {"_==_", Function::kEq},
          {"_!=_", Function::kNe},
          {"_<_", Function::kLt},
          {"_<=_", Function::kLe},
          {"_>_", Function::kGt},
          {"_>=_", Function::kGe},
          {"_[_]", Function::kIndex},
          {"@in", Function::kIn},
          {"size", Function::kSize},
          {"contains", Function::kContains},
          {"startsWith", Function::kStartsWith},
          {"endsWith", Function::kEndsWith},
          {"matches", Function::kMatches},
          {"int", Function::kToInt},
          {"uint", Function::kToUint},
          {"double", Function::kToDouble},
          {"string", Function::kToString},
          {"bytes", Function::kToBytes},
          {"bool", Function::kToBool},
          {"type", Function::kType},
          {"dyn", Function::kDyn},
          {"duration", Function::kDuration},
          {"timestamp", Function::kTimestamp},
          {"getFullYear", Function::kGetFullYear},
          {"getMonth", Function::kGetMonth},
          {"getDayOfYear", Function::kGetDayOfYear},
          {"getDayOfMonth", Function::kGetDayOfMonth},
          {"getDate", Function::kGetDate},
          {"getDayOfWeek", Function::kGetDayOfWeek},
          {"getHours", Function::kGetHours},
          {"getMinutes", Function::kGetMinutes},
          {"getSeconds", Function::kGetSeconds},
          {"getMilliseconds", Function::kGetMilliseconds},
      };
  auto it = table->find(name);
  if (it == table->end()) return std::nullopt;
  return it->second;
}

bool TakesArguments(Function fn, size_t n) {
  switch (fn) {
    case Function::kNeg:
    case Function::kNot:
    case Function::kSize:
    case Function::kToInt:
    case Function::kToUint:
    case Function::kToDouble:
    case Function::kToString:
    case Function::kToBytes:
    case Function::kToBool:
    case Function::kType:
    case Function::kDyn:
    case Function::kDuration:
    case Function::kTimestamp:
      return n == 1;
    case Function::kGetFullYear:
    case Function::kGetMonth:
    case Function::kGetDayOfYear:
    case Function::kGetDayOfMonth:
    case Function::kGetDate:
    case Function::kGetDayOfWeek:
    case Function::kGetHours:
    case Function::kGetMinutes:
    case Function::kGetSeconds:
    case Function::kGetMilliseconds:
      return n == 1 || n == 2;  // with an optional time zone
    default:
      return n == 2;
  }
}

std::unique_ptr<RE2> CompileRegex(const std::string& pattern,
                                  const Limits& limits, std::string& error) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(8 << 20);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    error = absl::StrCat("invalid regular expression: ", re->error());
    return nullptr;
  }
  if (re->ProgramSize() > limits.max_regex_program_size) {
    error = absl::StrCat("regular expression program size ", re->ProgramSize(),
                         " exceeds ", limits.max_regex_program_size,
                         " (limit max_regex_program_size)");
    return nullptr;
  }
  return re;
}

Value Apply(Function fn, const Value* args, size_t n, const Limits& limits) {
  for (size_t i = 0; i < n; ++i) {
    if (ABSL_PREDICT_FALSE(args[i].is_error_or_unknown())) {
      return *StrictOutcome(args, n);
    }
  }
  switch (fn) {
    case Function::kAdd:
      return Add(args[0], args[1], limits);
    case Function::kSub:
      return Sub(args[0], args[1]);
    case Function::kMul:
    case Function::kDiv:
    case Function::kMod:
      return MulDivMod(fn, args[0], args[1]);
    case Function::kNeg:
      if (args[0].kind() == K::kInt) {
        if (args[0].int_value() == std::numeric_limits<int64_t>::min()) {
          return Value::Error("integer overflow");
        }
        return Value::Int(-args[0].int_value());
      }
      if (args[0].kind() == K::kDouble)
        return Value::Double(-args[0].double_value());
      return NoOverload("-_", args, n);
    case Function::kNot:
      if (args[0].kind() == K::kBool) return Value::Bool(!args[0].bool_value());
      return NoOverload("!_", args, n);
    case Function::kEq:
      return Value::Bool(ValueEquals(args[0], args[1]));
    case Function::kNe:
      return Value::Bool(!ValueEquals(args[0], args[1]));
    case Function::kLt:
    case Function::kLe:
    case Function::kGt:
    case Function::kGe:
      return Compare(fn, args[0], args[1]);
    case Function::kIndex:
      return Index(args[0], args[1]);
    case Function::kIn:
      return In(args[0], args[1]);
    case Function::kSize:
      switch (args[0].kind()) {
        case K::kString:
          return Value::Int(CountCodePoints(args[0].string_value()));
        case K::kBytes:
          return Value::Int(
              static_cast<int64_t>(args[0].string_value().size()));
        case K::kList:
          return Value::Int(static_cast<int64_t>(args[0].list().size()));
        case K::kMap:
          return Value::Int(static_cast<int64_t>(args[0].map().size()));
        default:
          return NoOverload("size", args, n);
      }
    case Function::kContains:
    case Function::kStartsWith:
    case Function::kEndsWith: {
      if (n != 2 || args[0].kind() != K::kString ||
          args[1].kind() != K::kString) {
        return NoOverload(fn == Function::kContains     ? "contains"
                          : fn == Function::kStartsWith ? "startsWith"
                                                        : "endsWith",
                          args, n);
      }
      const std::string& s = args[0].string_value();
      const std::string& t = args[1].string_value();
      if (fn == Function::kContains)
        return Value::Bool(s.find(t) != std::string::npos);
      if (fn == Function::kStartsWith) return Value::Bool(s.rfind(t, 0) == 0);
      return Value::Bool(s.size() >= t.size() &&
                         s.compare(s.size() - t.size(), t.size(), t) == 0);
    }
    case Function::kMatches: {
      if (n != 2 || args[0].kind() != K::kString ||
          args[1].kind() != K::kString) {
        return NoOverload("matches", args, n);
      }
      std::string error;
      auto re = CompileRegex(args[1].string_value(), limits, error);
      if (!re) return Value::Error(error);
      return Value::Bool(RE2::PartialMatch(args[0].string_value(), *re));
    }
    case Function::kToInt:
      return ToInt(args[0]);
    case Function::kToUint:
      return ToUint(args[0]);
    case Function::kToDouble:
      return ToDouble(args[0]);
    case Function::kToString:
      return ToString(args[0]);
    case Function::kToBytes:
      if (args[0].kind() == K::kBytes) return args[0];
      if (args[0].kind() == K::kString)
        return Value::Bytes(args[0].string_value());
      return NoOverload("bytes", args, n);
    case Function::kToBool:
      return ToBool(args[0]);
    case Function::kType:
      return Value::Type(args[0].TypeName());
    case Function::kDyn:
      return args[0];
    case Function::kDuration:
      return ParseDuration(args[0]);
    case Function::kTimestamp:
      return ParseTimestamp(args[0]);
    default:
      return TimeAccessor(fn, args, n);
  }
}

}  // namespace reconnect::cel::runtime_internal
