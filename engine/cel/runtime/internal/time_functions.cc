#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "engine/cel/runtime/internal/standard_library.h"

namespace reconnect::cel::runtime_internal {

using K = Value::Kind;

namespace {

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

}  // namespace

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

}  // namespace reconnect::cel::runtime_internal
