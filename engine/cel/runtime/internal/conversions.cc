#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/cel/common/utf8.h"
#include "engine/cel/runtime/internal/standard_library.h"

namespace reconnect::cel::runtime_internal {

using K = Value::Kind;

namespace {

std::string FormatDoubleForString(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  return ShortestDouble(d);
}

}  // namespace

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

}  // namespace reconnect::cel::runtime_internal
