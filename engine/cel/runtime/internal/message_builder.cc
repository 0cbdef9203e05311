#include "engine/cel/runtime/internal/message_builder.h"

#include <cmath>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/cel/runtime/internal/fields.h"
#include "engine/cel/runtime/internal/functions.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace reconnect::cel::runtime_internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using K = Value::Kind;

std::string TypeError(const FieldDescriptor* f, const Value& v) {
  return absl::StrCat("field '", f->name(),
                      "' cannot be set from a value of type ",
                      std::string(v.TypeName()));
}

std::string ToProtoValue(Message& out, const Value& v);
std::string SetMessage(Message& target, const FieldDescriptor* f,
                       const Value& v);

constexpr int64_t kMaxJsonInt = (int64_t{1} << 53) - 1;

// The well-known type that carries a value of kind `k` inside an Any.
const char* AnyCarrier(K k) {
  switch (k) {
    case K::kBool:
      return "google.protobuf.BoolValue";
    case K::kInt:
      return "google.protobuf.Int64Value";
    case K::kUint:
      return "google.protobuf.UInt64Value";
    case K::kDouble:
      return "google.protobuf.DoubleValue";
    case K::kString:
      return "google.protobuf.StringValue";
    case K::kBytes:
      return "google.protobuf.BytesValue";
    case K::kList:
      return "google.protobuf.ListValue";
    case K::kMap:
      return "google.protobuf.Struct";
    case K::kTimestamp:
      return "google.protobuf.Timestamp";
    case K::kDuration:
      return "google.protobuf.Duration";
    case K::kNull:
      return "google.protobuf.Value";
    default:
      return nullptr;
  }
}

// Packs `v` into the google.protobuf.Any `target`.
std::string PackAny(Message& target, const FieldDescriptor* f, const Value& v) {
  std::string bytes;
  std::string type;
  if (v.kind() == K::kMessage) {
    type = v.message().GetDescriptor()->full_name();
    bytes = v.message().SerializeAsString();
  } else {
    const char* carrier = AnyCarrier(v.kind());
    const Descriptor* d =
        carrier ? target.GetDescriptor()->file()->pool()->FindMessageTypeByName(
                      carrier)
                : nullptr;
    if (d == nullptr) {
      return absl::StrCat("field '", f->name(),
                          "' cannot hold a value of type ",
                          std::string(v.TypeName()));
    }
    std::unique_ptr<Message> inner(PrototypeFor(d)->New());
    if (std::string err = SetMessage(*inner, f, v); !err.empty()) return err;
    type = d->full_name();
    bytes = inner->SerializeAsString();
  }
  const Reflection* r = target.GetReflection();
  r->SetString(&target, target.GetDescriptor()->FindFieldByName("type_url"),
               "type.googleapis.com/" + type);
  r->SetString(&target, target.GetDescriptor()->FindFieldByName("value"),
               std::move(bytes));
  return "";
}

// Fills a google.protobuf.ListValue (of whatever pool `out` belongs to).
std::string ToProtoList(Message& out, const Value& v) {
  const FieldDescriptor* values =
      out.GetDescriptor()->FindFieldByName("values");
  for (size_t i = 0; i < v.list().size(); ++i) {
    Message* e = out.GetReflection()->AddMessage(&out, values);
    if (std::string err = ToProtoValue(*e, v.list().at(i)); !err.empty())
      return err;
  }
  return "";
}

// Fills a google.protobuf.Struct from a map with string keys.
std::string ToProtoStruct(Message& out, const Value& v) {
  const FieldDescriptor* fields =
      out.GetDescriptor()->FindFieldByName("fields");
  for (size_t i = 0; i < v.map().size(); ++i) {
    const Value key = v.map().key_at(i);
    if (key.kind() != K::kString)
      return "google.protobuf.Struct keys must be strings";
    Message* entry = out.GetReflection()->AddMessage(&out, fields);
    entry->GetReflection()->SetString(entry, entry->GetDescriptor()->map_key(),
                                      key.string_value());
    Message* value = entry->GetReflection()->MutableMessage(
        entry, entry->GetDescriptor()->map_value());
    if (std::string err = ToProtoValue(*value, v.map().value_at(i));
        !err.empty())
      return err;
  }
  return "";
}

// Writes a dynamic value into a google.protobuf.Value message.
std::string ToProtoValue(Message& out, const Value& v) {
  const Descriptor* d = out.GetDescriptor();
  const Reflection* r = out.GetReflection();
  switch (v.kind()) {
    case K::kNull:
      r->SetEnumValue(&out, d->FindFieldByName("null_value"), 0);
      return "";
    case K::kBool:
      r->SetBool(&out, d->FindFieldByName("bool_value"), v.bool_value());
      return "";
    case K::kInt:
      // Integers beyond what a JSON number holds exactly become strings.
      if (v.int_value() > kMaxJsonInt || v.int_value() < -kMaxJsonInt) {
        r->SetString(&out, d->FindFieldByName("string_value"),
                     absl::StrCat(v.int_value()));
      } else {
        r->SetDouble(&out, d->FindFieldByName("number_value"),
                     static_cast<double>(v.int_value()));
      }
      return "";
    case K::kUint:
      if (v.uint_value() > static_cast<uint64_t>(kMaxJsonInt)) {
        r->SetString(&out, d->FindFieldByName("string_value"),
                     absl::StrCat(v.uint_value()));
      } else {
        r->SetDouble(&out, d->FindFieldByName("number_value"),
                     static_cast<double>(v.uint_value()));
      }
      return "";
    case K::kDouble:
      r->SetDouble(&out, d->FindFieldByName("number_value"), v.double_value());
      return "";
    case K::kString:
      r->SetString(&out, d->FindFieldByName("string_value"), v.string_value());
      return "";
    case K::kList:
      return ToProtoList(
          *r->MutableMessage(&out, d->FindFieldByName("list_value")), v);
    case K::kMap:
      return ToProtoStruct(
          *r->MutableMessage(&out, d->FindFieldByName("struct_value")), v);
    case K::kBytes:
      r->SetString(&out, d->FindFieldByName("string_value"),
                   absl::Base64Escape(v.string_value()));
      return "";
    case K::kTimestamp:
      r->SetString(&out, d->FindFieldByName("string_value"),
                   FormatTimestampText(v.timestamp()));
      return "";
    case K::kDuration:
      r->SetString(&out, d->FindFieldByName("string_value"),
                   FormatDurationText(v.duration()));
      return "";
    case K::kMessage: {
      // Any other message: protobuf's own JSON mapping, carried across
      // descriptor pools as bytes of google.protobuf.Value.
      std::string json;
      google::protobuf::Value generated;
      if (!google::protobuf::util::MessageToJsonString(v.message(), &json)
               .ok() ||
          !google::protobuf::util::JsonStringToMessage(json, &generated).ok() ||
          !out.ParseFromString(generated.SerializeAsString())) {
        return absl::StrCat("a ", std::string(v.TypeName()),
                            " cannot be converted to JSON");
      }
      return "";
    }
    default:
      return absl::StrCat("a value of type ", std::string(v.TypeName()),
                          " cannot be a google.protobuf.Value");
  }
}

// Sets a message-typed target (a singular field's message, or a new repeated
// element) from `v`.
std::string SetMessage(Message& target, const FieldDescriptor* f,
                       const Value& v) {
  const Descriptor* d = target.GetDescriptor();
  const Reflection* r = target.GetReflection();
  switch (d->well_known_type()) {
    case Descriptor::WELLKNOWNTYPE_TIMESTAMP:
    case Descriptor::WELLKNOWNTYPE_DURATION: {
      int64_t seconds;
      int32_t nanos;
      if (v.kind() == K::kTimestamp &&
          d->well_known_type() == Descriptor::WELLKNOWNTYPE_TIMESTAMP) {
        const absl::Time t = v.timestamp();
        seconds = absl::ToUnixSeconds(t);
        nanos = static_cast<int32_t>(
            absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds)));
      } else if (v.kind() == K::kDuration &&
                 d->well_known_type() == Descriptor::WELLKNOWNTYPE_DURATION) {
        const int64_t ns = absl::ToInt64Nanoseconds(v.duration());
        seconds = ns / 1'000'000'000;
        nanos = static_cast<int32_t>(ns % 1'000'000'000);
      } else {
        return TypeError(f, v);
      }
      r->SetInt64(&target, d->FindFieldByName("seconds"), seconds);
      r->SetInt32(&target, d->FindFieldByName("nanos"), nanos);
      return "";
    }
    case Descriptor::WELLKNOWNTYPE_VALUE:
      return ToProtoValue(target, v);
    case Descriptor::WELLKNOWNTYPE_ANY:
      return PackAny(target, f, v);
    case Descriptor::WELLKNOWNTYPE_STRUCT:
      if (v.kind() != K::kMap) return TypeError(f, v);
      return ToProtoStruct(target, v);
    case Descriptor::WELLKNOWNTYPE_LISTVALUE:
      if (v.kind() != K::kList) return TypeError(f, v);
      return ToProtoList(target, v);
    default:
      break;
  }
  if (d->well_known_type() >= Descriptor::WELLKNOWNTYPE_DOUBLEVALUE &&
      d->well_known_type() <= Descriptor::WELLKNOWNTYPE_BOOLVALUE) {
    return SetFieldFromValue(target, d->FindFieldByName("value"), v);
  }
  if (v.kind() != K::kMessage || v.message().GetDescriptor() != d)
    return TypeError(f, v);
  target.CopyFrom(v.message());
  return "";
}

// Sets one scalar (or appends one element, when `repeated`).
std::string SetScalar(Message& m, const FieldDescriptor* f, const Value& v,
                      bool repeated) {
  const Reflection* r = m.GetReflection();
  auto int_in = [&](int64_t lo, int64_t hi, int64_t& out) -> std::string {
    // An enum value (strong enum typing) sets a field of its own enum type.
    if (v.kind() == K::kEnum && f->enum_type() == v.enum_type()) {
      out = v.enum_number();
      return "";
    }
    if (v.kind() != K::kInt) return TypeError(f, v);
    if (v.int_value() < lo || v.int_value() > hi) {
      return absl::StrCat("range error: ", v.int_value(),
                          " does not fit field '", f->name(), "'");
    }
    out = v.int_value();
    return "";
  };
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_ENUM: {
      int64_t x = 0;
      if (std::string e = int_in(std::numeric_limits<int32_t>::min(),
                                 std::numeric_limits<int32_t>::max(), x);
          !e.empty()) {
        return e;
      }
      const int32_t y = static_cast<int32_t>(x);
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        repeated ? r->AddEnumValue(&m, f, y) : r->SetEnumValue(&m, f, y);
      } else {
        repeated ? r->AddInt32(&m, f, y) : r->SetInt32(&m, f, y);
      }
      return "";
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      if (v.kind() != K::kInt) return TypeError(f, v);
      repeated ? r->AddInt64(&m, f, v.int_value())
               : r->SetInt64(&m, f, v.int_value());
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      if (v.kind() != K::kUint) return TypeError(f, v);
      if (v.uint_value() > std::numeric_limits<uint32_t>::max()) {
        return absl::StrCat("range error: ", v.uint_value(),
                            "u does not fit field '", f->name(), "'");
      }
      const uint32_t y = static_cast<uint32_t>(v.uint_value());
      repeated ? r->AddUInt32(&m, f, y) : r->SetUInt32(&m, f, y);
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      if (v.kind() != K::kUint) return TypeError(f, v);
      repeated ? r->AddUInt64(&m, f, v.uint_value())
               : r->SetUInt64(&m, f, v.uint_value());
      return "";
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      if (v.kind() != K::kDouble) return TypeError(f, v);
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        const float y = static_cast<float>(v.double_value());
        repeated ? r->AddFloat(&m, f, y) : r->SetFloat(&m, f, y);
      } else {
        repeated ? r->AddDouble(&m, f, v.double_value())
                 : r->SetDouble(&m, f, v.double_value());
      }
      return "";
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      if (v.kind() != K::kBool) return TypeError(f, v);
      repeated ? r->AddBool(&m, f, v.bool_value())
               : r->SetBool(&m, f, v.bool_value());
      return "";
    case FieldDescriptor::CPPTYPE_STRING: {
      const K want =
          f->type() == FieldDescriptor::TYPE_BYTES ? K::kBytes : K::kString;
      if (v.kind() != want) return TypeError(f, v);
      repeated ? r->AddString(&m, f, v.string_value())
               : r->SetString(&m, f, v.string_value());
      return "";
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return SetMessage(
          repeated ? *r->AddMessage(&m, f) : *r->MutableMessage(&m, f), f, v);
  }
  return TypeError(f, v);
}

}  // namespace

std::string SetFieldFromValue(Message& m, const FieldDescriptor* f,
                              const Value& v) {
  if (v.is_error()) return v.error_message();
  const Reflection* r = m.GetReflection();
  if (f->is_map()) {
    if (v.kind() != K::kMap) return TypeError(f, v);
    const Descriptor* entry_type = f->message_type();
    for (size_t i = 0; i < v.map().size(); ++i) {
      Message* entry = r->AddMessage(&m, f);
      if (std::string e = SetScalar(*entry, entry_type->map_key(),
                                    v.map().key_at(i), false);
          !e.empty()) {
        return e;
      }
      if (std::string e = SetScalar(*entry, entry_type->map_value(),
                                    v.map().value_at(i), false);
          !e.empty()) {
        return e;
      }
    }
    return "";
  }
  if (f->is_repeated()) {
    if (v.kind() == K::kNull) {
      return absl::StrCat("field '", f->name(),
                          "' is repeated and cannot be null");
    }
    if (v.kind() != K::kList) return TypeError(f, v);
    for (size_t i = 0; i < v.list().size(); ++i) {
      if (std::string e = SetScalar(m, f, v.list().at(i), true); !e.empty())
        return e;
    }
    return "";
  }
  // null leaves a message field unset (for wrappers, that is CEL's null);
  // for google.protobuf.Value it is the JSON null; a list or struct cannot
  // be null.
  if (v.kind() == K::kNull &&
      f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    switch (f->message_type()->well_known_type()) {
      case Descriptor::WELLKNOWNTYPE_VALUE:
        break;  // the JSON null
      case Descriptor::WELLKNOWNTYPE_LISTVALUE:
      case Descriptor::WELLKNOWNTYPE_STRUCT:
        return absl::StrCat("field '", f->name(), "' cannot be null");
      default:
        return "";
    }
  }
  return SetScalar(m, f, v, false);
}

}  // namespace reconnect::cel::runtime_internal
