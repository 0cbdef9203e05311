#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/cel/runtime/internal/standard_library.h"

namespace reconnect::cel::runtime_internal {

using K = Value::Kind;

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

}  // namespace reconnect::cel::runtime_internal
