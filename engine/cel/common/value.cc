#include "engine/cel/common/value.h"

#include <charconv>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"

namespace reconnect::cel {

Value Value::Bool(bool v) {
  Value r;
  r.kind_ = Kind::kBool;
  r.scalar_.b = v;
  return r;
}
Value Value::Int(int64_t v) {
  Value r;
  r.kind_ = Kind::kInt;
  r.scalar_.i = v;
  return r;
}
Value Value::Uint(uint64_t v) {
  Value r;
  r.kind_ = Kind::kUint;
  r.scalar_.u = v;
  return r;
}
Value Value::Double(double v) {
  Value r;
  r.kind_ = Kind::kDouble;
  r.scalar_.d = v;
  return r;
}
Value Value::String(std::string v) {
  Value r;
  r.kind_ = Kind::kString;
  auto owned = std::make_shared<const std::string>(std::move(v));
  r.scalar_.p = owned.get();
  r.owner_ = std::move(owned);
  return r;
}
Value Value::StringRef(const std::string* v,
                       std::shared_ptr<const void> owner) {
  Value r;
  r.kind_ = Kind::kString;
  r.scalar_.p = v;
  r.owner_ = std::move(owner);
  return r;
}
Value Value::Bytes(std::string v) {
  Value r = String(std::move(v));
  r.kind_ = Kind::kBytes;
  return r;
}
Value Value::BytesRef(const std::string* v, std::shared_ptr<const void> owner) {
  Value r = StringRef(v, std::move(owner));
  r.kind_ = Kind::kBytes;
  return r;
}
Value Value::List(std::shared_ptr<const ListRep> v) {
  Value r;
  r.kind_ = Kind::kList;
  r.scalar_.p = v.get();
  r.owner_ = std::move(v);
  return r;
}
Value Value::ListRef(const ListRep* v) {
  Value r;
  r.kind_ = Kind::kList;
  r.scalar_.p = v;
  return r;
}
Value Value::List(std::vector<Value> elements) {
  return List(std::make_shared<const VectorListRep>(std::move(elements)));
}
Value Value::Map(std::shared_ptr<const MapRep> v) {
  Value r;
  r.kind_ = Kind::kMap;
  r.scalar_.p = v.get();
  r.owner_ = std::move(v);
  return r;
}
Value Value::MapRef(const MapRep* v) {
  Value r;
  r.kind_ = Kind::kMap;
  r.scalar_.p = v;
  return r;
}
Value Value::Message(const google::protobuf::Message* m,
                     std::shared_ptr<const void> owner) {
  Value r;
  r.kind_ = Kind::kMessage;
  r.scalar_.p = m;
  r.owner_ = std::move(owner);
  return r;
}
Value Value::Type(std::string_view name) {
  Value r;
  r.kind_ = Kind::kType;
  r.scalar_.p = name.data();
  r.nanos_ = static_cast<uint32_t>(name.size());
  return r;
}
Value Value::Duration(absl::Duration d) {
  Value r;
  r.kind_ = Kind::kDuration;
  r.scalar_.i = absl::ToInt64Nanoseconds(d);
  return r;
}
Value Value::Timestamp(absl::Time t) {
  Value r;
  r.kind_ = Kind::kTimestamp;
  const int64_t secs = absl::ToUnixSeconds(t);
  r.scalar_.i = secs;
  r.nanos_ = static_cast<uint32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(secs)));
  return r;
}
Value Value::Error(std::string message) {
  Value r = String(std::move(message));
  r.kind_ = Kind::kError;
  return r;
}

Value Value::Enum(const google::protobuf::EnumDescriptor* type,
                  int32_t number) {
  Value r;
  r.kind_ = Kind::kEnum;
  r.scalar_.p = type;
  r.nanos_ = static_cast<uint32_t>(number);
  return r;
}

absl::Duration Value::duration() const { return absl::Nanoseconds(scalar_.i); }
absl::Time Value::timestamp() const {
  return absl::FromUnixSeconds(scalar_.i) + absl::Nanoseconds(nanos_);
}

std::string_view Value::TypeName() const {
  switch (kind_) {
    case Kind::kNull:
      return "null_type";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kUint:
      return "uint";
    case Kind::kDouble:
      return "double";
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kList:
      return "list";
    case Kind::kMap:
      return "map";
    case Kind::kMessage:
      return message().GetDescriptor()->full_name();
    case Kind::kType:
      return "type";
    case Kind::kDuration:
      return "google.protobuf.Duration";
    case Kind::kTimestamp:
      return "google.protobuf.Timestamp";
    case Kind::kError:
      return "error";
    case Kind::kUnknown:
      return "unknown";
    case Kind::kEnum:
      return enum_type()->full_name();
  }
  return "unknown";
}

namespace {

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+infinity" : "-infinity";
  std::string s = ShortestDouble(d);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

void Render(const Value& v, bool quote, std::string& out) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out += "null";
      break;
    case Value::Kind::kBool:
      out += v.bool_value() ? "true" : "false";
      break;
    case Value::Kind::kInt:
      absl::StrAppend(&out, v.int_value());
      break;
    case Value::Kind::kUint:
      absl::StrAppend(&out, v.uint_value(), "u");
      break;
    case Value::Kind::kDouble:
      out += FormatDouble(v.double_value());
      break;
    case Value::Kind::kString:
      if (quote) {
        absl::StrAppend(&out, "\"", absl::CHexEscape(v.string_value()), "\"");
      } else {
        out += v.string_value();
      }
      break;
    case Value::Kind::kBytes:
      absl::StrAppend(&out, "b\"", absl::CHexEscape(v.string_value()), "\"");
      break;
    case Value::Kind::kList: {
      out += "[";
      for (size_t i = 0; i < v.list().size(); ++i) {
        if (i > 0) out += ", ";
        Render(v.list().at(i), true, out);
      }
      out += "]";
      break;
    }
    case Value::Kind::kMap: {
      out += "{";
      for (size_t i = 0; i < v.map().size(); ++i) {
        if (i > 0) out += ", ";
        Render(v.map().key_at(i), true, out);
        out += ": ";
        Render(v.map().value_at(i), true, out);
      }
      out += "}";
      break;
    }
    case Value::Kind::kMessage:
      absl::StrAppend(&out, v.message().GetDescriptor()->full_name(), "{",
                      v.message().ShortDebugString(), "}");
      break;
    case Value::Kind::kType:
      out += v.type_name();
      break;
    case Value::Kind::kDuration:
      absl::StrAppend(&out, "duration(\"", absl::FormatDuration(v.duration()),
                      "\")");
      break;
    case Value::Kind::kTimestamp:
      absl::StrAppend(&out, "timestamp(\"",
                      absl::FormatTime(absl::RFC3339_full, v.timestamp(),
                                       absl::UTCTimeZone()),
                      "\")");
      break;
    case Value::Kind::kError:
      absl::StrAppend(&out, "error: ", v.error_message());
      break;
    case Value::Kind::kUnknown:
      absl::StrAppend(&out, "unknown(",
                      absl::StrJoin(v.unknown_attributes(), ", "), ")");
      break;
    case Value::Kind::kEnum:
      if (const auto* ev = v.enum_type()->FindValueByNumber(v.enum_number())) {
        absl::StrAppend(&out, v.enum_type()->full_name(), ".", ev->name());
      } else {
        absl::StrAppend(&out, v.enum_type()->full_name(), "(", v.enum_number(),
                        ")");
      }
      break;
  }
}

bool IsNumeric(Value::Kind k) {
  return k == Value::Kind::kInt || k == Value::Kind::kUint ||
         k == Value::Kind::kDouble;
}

// Compares two numbers of any numeric kinds exactly (no rounding of large
// integers through double). nullopt for NaN.
std::optional<int> CompareNumbers(const Value& a, const Value& b) {
  using K = Value::Kind;
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (x > y ? 1 : 0); };
  if (a.kind() == K::kDouble || b.kind() == K::kDouble) {
    // As the reference implementation does, an int or uint meets a double
    // as a double (so 2^63-1 equals 2^63.0, which it rounds to).
    auto as_double = [](const Value& v) {
      return v.kind() == K::kDouble ? v.double_value()
             : v.kind() == K::kInt  ? static_cast<double>(v.int_value())
                                    : static_cast<double>(v.uint_value());
    };
    const double x = as_double(a), y = as_double(b);
    if (std::isnan(x) || std::isnan(y)) return std::nullopt;
    return cmp(x, y);
  }
  if (a.kind() == K::kInt && b.kind() == K::kInt) {
    return cmp(a.int_value(), b.int_value());
  }
  if (a.kind() == K::kUint && b.kind() == K::kUint) {
    return cmp(a.uint_value(), b.uint_value());
  }
  if (a.kind() == K::kInt) {
    if (a.int_value() < 0) return -1;
    return cmp(static_cast<uint64_t>(a.int_value()), b.uint_value());
  }
  if (b.int_value() < 0) return 1;
  return cmp(a.uint_value(), static_cast<uint64_t>(b.int_value()));
}

}  // namespace

std::string ShortestDouble(double d) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, r.ptr);
}

std::string Value::DebugString() const {
  std::string out;
  Render(*this, /*quote=*/false, out);
  return out;
}

namespace {

// A float or double field without presence (proto3) that is zero on both
// sides: one may hold -0.0, which protobuf counts as set (its bits are not
// zero) while the other is unset, yet they are the same number and, without
// presence, the same message.
class SignedZeroIsUnset final
    : public google::protobuf::util::MessageDifferencer::IgnoreCriteria {
 public:
  bool IsIgnored(
      const google::protobuf::Message& a, const google::protobuf::Message& b,
      const google::protobuf::FieldDescriptor* f,
      const std::vector<
          google::protobuf::util::MessageDifferencer::SpecificField>&)
      override {
    using FD = google::protobuf::FieldDescriptor;
    if (f->is_repeated() || f->has_presence()) return false;
    if (f->cpp_type() == FD::CPPTYPE_FLOAT) {
      return a.GetReflection()->GetFloat(a, f) == 0 &&
             b.GetReflection()->GetFloat(b, f) == 0;
    }
    if (f->cpp_type() == FD::CPPTYPE_DOUBLE) {
      return a.GetReflection()->GetDouble(a, f) == 0 &&
             b.GetReflection()->GetDouble(b, f) == 0;
    }
    return false;
  }
};

// Protobuf equality, with presence as protobuf defines it, but for signed
// zeros in fields without presence (above).
bool MessagesEqual(const google::protobuf::Message& a,
                   const google::protobuf::Message& b) {
  google::protobuf::util::MessageDifferencer differencer;
  differencer.AddIgnoreCriteria(new SignedZeroIsUnset());  // takes ownership
  return differencer.Compare(a, b);
}

}  // namespace

bool ValueEquals(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (IsNumeric(a.kind()) && IsNumeric(b.kind())) {
    auto c = CompareNumbers(a, b);
    return c.has_value() && *c == 0;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kNull:
      return true;
    case K::kBool:
      return a.bool_value() == b.bool_value();
    case K::kString:
    case K::kBytes:
      return a.string_value() == b.string_value();
    case K::kType:
      return a.type_name() == b.type_name();
    case K::kEnum:
      return a.enum_type() == b.enum_type() &&
             a.enum_number() == b.enum_number();
    case K::kDuration:
      return a.duration() == b.duration();
    case K::kTimestamp:
      return a.timestamp() == b.timestamp();
    case K::kList: {
      if (a.list().size() != b.list().size()) return false;
      for (size_t i = 0; i < a.list().size(); ++i) {
        if (!ValueEquals(a.list().at(i), b.list().at(i))) return false;
      }
      return true;
    }
    case K::kMap: {
      if (a.map().size() != b.map().size()) return false;
      for (size_t i = 0; i < a.map().size(); ++i) {
        auto other = b.map().Find(a.map().key_at(i));
        if (!other || !ValueEquals(a.map().value_at(i), *other)) return false;
      }
      return true;
    }
    case K::kMessage:
      return a.message().GetDescriptor() == b.message().GetDescriptor() &&
             MessagesEqual(a.message(), b.message());
    default:
      return false;
  }
}

std::optional<int> CompareValues(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (IsNumeric(a.kind()) && IsNumeric(b.kind())) return CompareNumbers(a, b);
  if (a.kind() != b.kind()) return std::nullopt;
  switch (a.kind()) {
    case K::kBool:
      return static_cast<int>(a.bool_value()) -
             static_cast<int>(b.bool_value());
    case K::kString:
    case K::kBytes: {
      const int c = a.string_value().compare(b.string_value());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case K::kDuration:
      return a.duration() < b.duration()
                 ? -1
                 : (a.duration() > b.duration() ? 1 : 0);
    case K::kTimestamp:
      return a.timestamp() < b.timestamp()
                 ? -1
                 : (a.timestamp() > b.timestamp() ? 1 : 0);
    default:
      return std::nullopt;
  }
}

std::optional<Value> VectorMapRep::Find(const Value& key) const {
  for (const auto& [k, v] : entries_) {
    if (ValueEquals(k, key)) return v;
  }
  return std::nullopt;
}

}  // namespace reconnect::cel
