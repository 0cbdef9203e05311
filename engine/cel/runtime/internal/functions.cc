#include "engine/cel/runtime/internal/functions.h"

#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "engine/cel/common/utf8.h"

namespace reconnect::cel::runtime_internal {
namespace {

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

Value Add(const Value& a, const Value& b, const Limits& limits) {
  if (a.kind() == K::kInt && b.kind() == K::kInt) {
    int64_t r;
    if (__builtin_add_overflow(a.int_value(), b.int_value(), &r)) {
      return Value::Error("integer overflow");
    }
    return Value::Int(r);
  }
  if (a.kind() == K::kUint && b.kind() == K::kUint) {
    uint64_t r;
    if (__builtin_add_overflow(a.uint_value(), b.uint_value(), &r)) {
      return Value::Error("unsigned integer overflow");
    }
    return Value::Uint(r);
  }
  if (a.kind() == K::kDouble && b.kind() == K::kDouble) {
    return Value::Double(a.double_value() + b.double_value());
  }
  if ((a.kind() == K::kString || a.kind() == K::kBytes) &&
      a.kind() == b.kind()) {
    const size_t size = a.string_value().size() + b.string_value().size();
    if (static_cast<int64_t>(size) > limits.max_value_size) {
      return Value::Error(absl::StrCat("result of '+' exceeds ",
                                       limits.max_value_size,
                                       " bytes (limit max_value_size)"));
    }
    std::string s = a.string_value();
    s += b.string_value();
    return a.kind() == K::kString ? Value::String(std::move(s))
                                  : Value::Bytes(std::move(s));
  }
  if (a.kind() == K::kList && b.kind() == K::kList) {
    const size_t size = a.list().size() + b.list().size();
    if (static_cast<int64_t>(size) > limits.max_value_size) {
      return Value::Error(absl::StrCat("result of '+' exceeds ",
                                       limits.max_value_size,
                                       " elements (limit max_value_size)"));
    }
    std::vector<Value> v;
    v.reserve(size);
    for (size_t i = 0; i < a.list().size(); ++i) v.push_back(a.list().at(i));
    for (size_t i = 0; i < b.list().size(); ++i) v.push_back(b.list().at(i));
    return Value::List(std::move(v));
  }
  if (a.kind() == K::kDuration && b.kind() == K::kDuration) {
    return CheckedDuration(a.duration() + b.duration());
  }
  if (a.kind() == K::kTimestamp && b.kind() == K::kDuration) {
    return CheckedTimestamp(a.timestamp() + b.duration());
  }
  if (a.kind() == K::kDuration && b.kind() == K::kTimestamp) {
    return CheckedTimestamp(b.timestamp() + a.duration());
  }
  const Value args[] = {a, b};
  return NoOverload("_+_", args, 2);
}

Value Sub(const Value& a, const Value& b) {
  if (a.kind() == K::kInt && b.kind() == K::kInt) {
    int64_t r;
    if (__builtin_sub_overflow(a.int_value(), b.int_value(), &r)) {
      return Value::Error("integer overflow");
    }
    return Value::Int(r);
  }
  if (a.kind() == K::kUint && b.kind() == K::kUint) {
    uint64_t r;
    if (__builtin_sub_overflow(a.uint_value(), b.uint_value(), &r)) {
      return Value::Error("unsigned integer overflow");
    }
    return Value::Uint(r);
  }
  if (a.kind() == K::kDouble && b.kind() == K::kDouble) {
    return Value::Double(a.double_value() - b.double_value());
  }
  if (a.kind() == K::kTimestamp && b.kind() == K::kTimestamp) {
    return CheckedDuration(a.timestamp() - b.timestamp());
  }
  if (a.kind() == K::kTimestamp && b.kind() == K::kDuration) {
    return CheckedTimestamp(a.timestamp() - b.duration());
  }
  if (a.kind() == K::kDuration && b.kind() == K::kDuration) {
    return CheckedDuration(a.duration() - b.duration());
  }
  const Value args[] = {a, b};
  return NoOverload("_-_", args, 2);
}

Value MulDivMod(Function fn, const Value& a, const Value& b) {
  const char* name = fn == Function::kMul   ? "_*_"
                     : fn == Function::kDiv ? "_/_"
                                            : "_%_";
  if (a.kind() == K::kInt && b.kind() == K::kInt) {
    const int64_t x = a.int_value(), y = b.int_value();
    int64_t r;
    if (fn == Function::kMul) {
      if (__builtin_mul_overflow(x, y, &r))
        return Value::Error("integer overflow");
      return Value::Int(r);
    }
    if (y == 0)
      return Value::Error(fn == Function::kDiv ? "division by zero"
                                               : "modulus by zero");
    if (x == std::numeric_limits<int64_t>::min() && y == -1) {
      return Value::Error("integer overflow");
    }
    return Value::Int(fn == Function::kDiv ? x / y : x % y);
  }
  if (a.kind() == K::kUint && b.kind() == K::kUint) {
    const uint64_t x = a.uint_value(), y = b.uint_value();
    uint64_t r;
    if (fn == Function::kMul) {
      if (__builtin_mul_overflow(x, y, &r))
        return Value::Error("unsigned integer overflow");
      return Value::Uint(r);
    }
    if (y == 0)
      return Value::Error(fn == Function::kDiv ? "division by zero"
                                               : "modulus by zero");
    return Value::Uint(fn == Function::kDiv ? x / y : x % y);
  }
  if (a.kind() == K::kDouble && b.kind() == K::kDouble &&
      fn != Function::kMod) {
    return Value::Double(fn == Function::kMul
                             ? a.double_value() * b.double_value()
                             : a.double_value() / b.double_value());
  }
  const Value args[] = {a, b};
  return NoOverload(name, args, 2);
}

std::string FormatDoubleForString(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  return ShortestDouble(d);
}

Value ToInt(const Value& v) {
  switch (v.kind()) {
    case K::kInt:
      return v;
    case K::kEnum:
      return Value::Int(v.enum_number());
    case K::kUint:
      if (v.uint_value() >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value::Error("range error: uint value does not fit in int");
      }
      return Value::Int(static_cast<int64_t>(v.uint_value()));
    case K::kDouble: {
      const double d = v.double_value();
      if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0)) {
        return Value::Error("range error: double value does not fit in int");
      }
      return Value::Int(static_cast<int64_t>(d));
    }
    case K::kString: {
      int64_t r;
      if (!absl::SimpleAtoi(v.string_value(), &r)) {
        return Value::Error(absl::StrCat("cannot convert string to int: \"",
                                         v.string_value(), "\""));
      }
      return Value::Int(r);
    }
    case K::kTimestamp:
      return Value::Int(absl::ToUnixSeconds(v.timestamp()));
    default:
      return NoOverload("int", &v, 1);
  }
}

Value ToUint(const Value& v) {
  switch (v.kind()) {
    case K::kUint:
      return v;
    case K::kInt:
      if (v.int_value() < 0)
        return Value::Error("range error: negative int cannot be uint");
      return Value::Uint(static_cast<uint64_t>(v.int_value()));
    case K::kDouble: {
      const double d = v.double_value();
      if (!(d > -1.0 && d < 18446744073709551616.0)) {
        return Value::Error("range error: double value does not fit in uint");
      }
      return Value::Uint(static_cast<uint64_t>(d));
    }
    case K::kString: {
      uint64_t r;
      if (!absl::SimpleAtoi(v.string_value(), &r)) {
        return Value::Error(absl::StrCat("cannot convert string to uint: \"",
                                         v.string_value(), "\""));
      }
      return Value::Uint(r);
    }
    default:
      return NoOverload("uint", &v, 1);
  }
}

Value ToDouble(const Value& v) {
  switch (v.kind()) {
    case K::kDouble:
      return v;
    case K::kInt:
      return Value::Double(static_cast<double>(v.int_value()));
    case K::kUint:
      return Value::Double(static_cast<double>(v.uint_value()));
    case K::kString: {
      double r;
      if (!absl::SimpleAtod(v.string_value(), &r)) {
        return Value::Error(absl::StrCat("cannot convert string to double: \"",
                                         v.string_value(), "\""));
      }
      return Value::Double(r);
    }
    default:
      return NoOverload("double", &v, 1);
  }
}

Value ToString(const Value& v) {
  switch (v.kind()) {
    case K::kString:
      return v;
    case K::kInt:
      return Value::String(absl::StrCat(v.int_value()));
    case K::kUint:
      return Value::String(absl::StrCat(v.uint_value()));
    case K::kDouble:
      return Value::String(FormatDoubleForString(v.double_value()));
    case K::kBool:
      return Value::String(v.bool_value() ? "true" : "false");
    case K::kBytes:
      if (!IsValidUtf8(v.string_value())) {
        return Value::Error("invalid UTF-8 in bytes, cannot convert to string");
      }
      return Value::String(v.string_value());
    case K::kTimestamp:
      return Value::String(FormatTimestampText(v.timestamp()));
    case K::kDuration:
      return Value::String(FormatDurationText(v.duration()));
    default:
      return NoOverload("string", &v, 1);
  }
}

Value ToBool(const Value& v) {
  if (v.kind() == K::kBool) return v;
  if (v.kind() == K::kString) {
    const std::string& s = v.string_value();
    if (s == "true" || s == "TRUE" || s == "True" || s == "t" || s == "1")
      return Value::Bool(true);
    if (s == "false" || s == "FALSE" || s == "False" || s == "f" || s == "0")
      return Value::Bool(false);
    return Value::Error(
        absl::StrCat("cannot convert string to bool: \"", s, "\""));
  }
  return NoOverload("bool", &v, 1);
}

Value ParseDuration(const Value& v) {
  if (v.kind() == K::kDuration) return v;
  if (v.kind() != K::kString) return NoOverload("duration", &v, 1);
  absl::Duration d;
  if (!absl::ParseDuration(v.string_value(), &d) ||
      d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    return Value::Error(
        absl::StrCat("cannot parse duration: \"", v.string_value(), "\""));
  }
  return CheckedDuration(d);
}

Value ParseTimestamp(const Value& v) {
  if (v.kind() == K::kTimestamp) return v;
  if (v.kind() == K::kInt)
    return CheckedTimestamp(absl::FromUnixSeconds(v.int_value()));
  if (v.kind() != K::kString) return NoOverload("timestamp", &v, 1);
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, v.string_value(), &t, &err)) {
    return Value::Error(
        absl::StrCat("cannot parse timestamp: \"", v.string_value(), "\""));
  }
  return CheckedTimestamp(t);
}

bool ParseTimeZone(const std::string& name, absl::TimeZone& tz) {
  if (!name.empty() &&
      (name[0] == '+' || name[0] == '-' || absl::ascii_isdigit(name[0]))) {
    // A fixed offset: [+-]HH:MM.
    std::string s = name;
    int sign = 1;
    if (s[0] == '+' || s[0] == '-') {
      sign = s[0] == '-' ? -1 : 1;
      s = s.substr(1);
    }
    const size_t colon = s.find(':');
    int h = 0, m = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(s.substr(0, colon), &h) ||
        !absl::SimpleAtoi(s.substr(colon + 1), &m)) {
      return false;
    }
    tz = absl::FixedTimeZone(sign * (h * 3600 + m * 60));
    return true;
  }
  return absl::LoadTimeZone(name, &tz);
}

Value TimeAccessor(Function fn, const Value* args, size_t n) {
  const Value& t = args[0];
  if (t.kind() == K::kDuration && n == 1) {
    const absl::Duration d = t.duration();
    switch (fn) {
      case Function::kGetHours:
        return Value::Int(absl::ToInt64Hours(d));
      case Function::kGetMinutes:
        return Value::Int(absl::ToInt64Minutes(d));
      case Function::kGetSeconds:
        return Value::Int(absl::ToInt64Seconds(d));
      case Function::kGetMilliseconds:
        return Value::Int(absl::ToInt64Milliseconds(d) % 1000);
      default:
        break;
    }
    return NoOverload("duration accessor", args, n);
  }
  if (t.kind() != K::kTimestamp || (n == 2 && args[1].kind() != K::kString)) {
    return NoOverload("timestamp accessor", args, n);
  }
  absl::TimeZone tz = absl::UTCTimeZone();
  if (n == 2 && !ParseTimeZone(args[1].string_value(), tz)) {
    return Value::Error(
        absl::StrCat("unknown time zone: \"", args[1].string_value(), "\""));
  }
  const absl::TimeZone::CivilInfo ci = tz.At(t.timestamp());
  switch (fn) {
    case Function::kGetFullYear:
      return Value::Int(ci.cs.year());
    case Function::kGetMonth:
      return Value::Int(ci.cs.month() - 1);
    case Function::kGetDayOfYear:
      return Value::Int(absl::GetYearDay(absl::CivilDay(ci.cs)) - 1);
    case Function::kGetDayOfMonth:
      return Value::Int(ci.cs.day() - 1);
    case Function::kGetDate:
      return Value::Int(ci.cs.day());
    case Function::kGetDayOfWeek: {
      const absl::Weekday w = absl::GetWeekday(absl::CivilDay(ci.cs));
      // CEL: 0 = Sunday.
      return Value::Int((static_cast<int>(w) + 1) % 7);
    }
    case Function::kGetHours:
      return Value::Int(ci.cs.hour());
    case Function::kGetMinutes:
      return Value::Int(ci.cs.minute());
    case Function::kGetSeconds:
      return Value::Int(ci.cs.second());
    case Function::kGetMilliseconds:
      return Value::Int(absl::ToInt64Milliseconds(ci.subsecond));
    default:
      break;
  }
  return NoOverload("timestamp accessor", args, n);
}

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

std::string FormatDurationText(absl::Duration d) {
  // CEL renders durations as seconds with a trailing "s", e.g. "1.5s".
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  const int64_t secs = ns / 1'000'000'000;
  int64_t frac = ns % 1'000'000'000;
  std::string out = (ns < 0 && secs == 0) ? "-" : "";
  absl::StrAppend(&out, secs);
  if (frac != 0) {
    if (frac < 0) frac = -frac;
    std::string f = absl::StrFormat("%09d", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    absl::StrAppend(&out, ".", f);
  }
  return out + "s";
}

std::string FormatTimestampText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

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
    if (args[i].is_error()) return args[i];
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
