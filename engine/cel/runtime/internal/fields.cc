#include "engine/cel/runtime/internal/fields.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "google/protobuf/dynamic_message.h"

namespace reconnect::cel::runtime_internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

Value ReadRepeatedElement(const Reflection* r, const Message& m,
                          const FieldDescriptor* f, int i,
                          const std::shared_ptr<const void>& owner,
                          bool strong_enums) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return Value::Int(r->GetRepeatedInt32(m, f, i));
    case FieldDescriptor::CPPTYPE_INT64:
      return Value::Int(r->GetRepeatedInt64(m, f, i));
    case FieldDescriptor::CPPTYPE_UINT32:
      return Value::Uint(r->GetRepeatedUInt32(m, f, i));
    case FieldDescriptor::CPPTYPE_UINT64:
      return Value::Uint(r->GetRepeatedUInt64(m, f, i));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return Value::Double(r->GetRepeatedFloat(m, f, i));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Value::Double(r->GetRepeatedDouble(m, f, i));
    case FieldDescriptor::CPPTYPE_BOOL:
      return Value::Bool(r->GetRepeatedBool(m, f, i));
    case FieldDescriptor::CPPTYPE_ENUM:
      if (strong_enums) {
        return Value::Enum(f->enum_type(), r->GetRepeatedEnumValue(m, f, i));
      }
      return Value::Int(r->GetRepeatedEnumValue(m, f, i));
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = r->GetRepeatedStringReference(m, f, i, &scratch);
      if (&s == &scratch) {
        return f->type() == FieldDescriptor::TYPE_BYTES
                   ? Value::Bytes(scratch)
                   : Value::String(scratch);
      }
      return f->type() == FieldDescriptor::TYPE_BYTES
                 ? Value::BytesRef(&s, owner)
                 : Value::StringRef(&s, owner);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageToValue(r->GetRepeatedMessage(m, f, i), owner);
  }
  return Value::Error("unsupported field type");
}

// A view of a repeated field as a CEL list.
class RepeatedFieldList final : public ListRep {
 public:
  // `r` is the reflection of `m`'s class.
  RepeatedFieldList(const Reflection* r, const Message& m,
                    const FieldDescriptor* f, std::shared_ptr<const void> owner,
                    bool strong_enums)
      : r_(r),
        m_(m),
        f_(f),
        owner_(std::move(owner)),
        strong_enums_(strong_enums) {}
  size_t size() const override {
    return static_cast<size_t>(r_->FieldSize(m_, f_));
  }
  Value at(size_t i) const override {
    return ReadRepeatedElement(r_, m_, f_, static_cast<int>(i), owner_,
                               strong_enums_);
  }

 private:
  const Reflection* r_;
  const Message& m_;
  const FieldDescriptor* f_;
  std::shared_ptr<const void> owner_;
  const bool strong_enums_;
};

// A view of a protobuf map field (a repeated entry message) as a CEL map.
class MapFieldMap final : public MapRep {
 public:
  MapFieldMap(const Message& m, const FieldDescriptor* f,
              std::shared_ptr<const void> owner, bool strong_enums)
      : m_(m),
        f_(f),
        key_(f->message_type()->map_key()),
        value_(f->message_type()->map_value()),
        owner_(std::move(owner)),
        strong_enums_(strong_enums) {}
  size_t size() const override {
    return static_cast<size_t>(m_.GetReflection()->FieldSize(m_, f_));
  }
  Value key_at(size_t i) const override {
    return ReadField(Entry(i), key_, owner_);
  }
  Value value_at(size_t i) const override {
    return ReadField(Entry(i), value_, owner_, strong_enums_);
  }
  std::optional<Value> Find(const Value& key) const override {
    const size_t n = size();
    for (size_t i = 0; i < n; ++i) {
      if (ValueEquals(key_at(i), key)) return value_at(i);
    }
    return std::nullopt;
  }

 private:
  const Message& Entry(size_t i) const {
    return m_.GetReflection()->GetRepeatedMessage(m_, f_, static_cast<int>(i));
  }
  const Message& m_;
  const FieldDescriptor* f_;
  const FieldDescriptor* key_;
  const FieldDescriptor* value_;
  std::shared_ptr<const void> owner_;
  const bool strong_enums_;
};

// google.protobuf.Struct as a CEL map(string, dyn).
class StructMap final : public MapRep {
 public:
  StructMap(const Message& m, std::shared_ptr<const void> owner)
      : m_(m),
        fields_(m.GetDescriptor()->FindFieldByName("fields")),
        owner_(std::move(owner)) {}
  size_t size() const override {
    return static_cast<size_t>(m_.GetReflection()->FieldSize(m_, fields_));
  }
  Value key_at(size_t i) const override {
    const Message& e = Entry(i);
    return ReadField(e, e.GetDescriptor()->map_key(), owner_);
  }
  Value value_at(size_t i) const override {
    const Message& e = Entry(i);
    return ReadField(e, e.GetDescriptor()->map_value(), owner_);
  }
  std::optional<Value> Find(const Value& key) const override {
    if (key.kind() != Value::Kind::kString) return std::nullopt;
    const size_t n = size();
    for (size_t i = 0; i < n; ++i) {
      if (key_at(i).string_value() == key.string_value()) return value_at(i);
    }
    return std::nullopt;
  }

 private:
  const Message& Entry(size_t i) const {
    return m_.GetReflection()->GetRepeatedMessage(m_, fields_,
                                                  static_cast<int>(i));
  }
  const Message& m_;
  const FieldDescriptor* fields_;
  std::shared_ptr<const void> owner_;
};

Value ProtoValueToValue(const Message& m,
                        const std::shared_ptr<const void>& owner) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  const google::protobuf::OneofDescriptor* kind = d->FindOneofByName("kind");
  const FieldDescriptor* set = r->GetOneofFieldDescriptor(m, kind);
  if (set == nullptr || set->name() == "null_value") return Value::Null();
  if (set->name() == "number_value") return Value::Double(r->GetDouble(m, set));
  if (set->name() == "bool_value") return Value::Bool(r->GetBool(m, set));
  if (set->name() == "string_value") return ReadField(m, set, owner);
  if (set->name() == "struct_value") {
    return Value::Map(
        std::make_shared<const StructMap>(r->GetMessage(m, set), owner));
  }
  const Message& list = r->GetMessage(m, set);
  return Value::List(std::make_shared<const RepeatedFieldList>(
      list.GetReflection(), list,
      list.GetDescriptor()->FindFieldByName("values"), owner,
      /*strong_enums=*/false));
}

}  // namespace

const Message* PrototypeFor(const Descriptor* d) {
  if (d->file()->pool() == google::protobuf::DescriptorPool::generated_pool()) {
    return google::protobuf::MessageFactory::generated_factory()->GetPrototype(
        d);
  }
  static auto* factory = new google::protobuf::DynamicMessageFactory();
  return factory->GetPrototype(d);
}

Value MessageToValue(const Message& m,
                     const std::shared_ptr<const void>& owner) {
  const Descriptor* d = m.GetDescriptor();
  if (d->file()->name().rfind("google/protobuf/", 0) != 0) {
    return Value::Message(&m, owner);
  }
  const std::string& n = d->full_name();
  const Reflection* r = m.GetReflection();
  if (n == "google.protobuf.Any") {
    // An Any is its content: unpack it (a wrapper inside becomes its value).
    const std::string url = r->GetString(m, d->FindFieldByName("type_url"));
    if (url.empty()) return Value::Error("google.protobuf.Any has no type_url");
    const Descriptor* inner = d->file()->pool()->FindMessageTypeByName(
        url.substr(url.rfind('/') + 1));
    if (inner == nullptr) {
      return Value::Error(
          absl::StrCat("google.protobuf.Any holds unknown type ", url));
    }
    std::shared_ptr<Message> unpacked(PrototypeFor(inner)->New());
    if (!unpacked->ParseFromString(
            r->GetString(m, d->FindFieldByName("value")))) {
      return Value::Error(
          absl::StrCat("google.protobuf.Any holds an invalid ", url));
    }
    const Message& ref = *unpacked;
    return MessageToValue(ref, std::move(unpacked));
  }
  if (n == "google.protobuf.Timestamp" || n == "google.protobuf.Duration") {
    const int64_t secs = r->GetInt64(m, d->FindFieldByName("seconds"));
    const int32_t nanos = r->GetInt32(m, d->FindFieldByName("nanos"));
    if (n == "google.protobuf.Duration") {
      return Value::Duration(absl::Seconds(secs) + absl::Nanoseconds(nanos));
    }
    return Value::Timestamp(absl::FromUnixSeconds(secs) +
                            absl::Nanoseconds(nanos));
  }
  if (n == "google.protobuf.Value") return ProtoValueToValue(m, owner);
  if (n == "google.protobuf.Struct") {
    return Value::Map(std::make_shared<const StructMap>(m, owner));
  }
  if (n == "google.protobuf.ListValue") {
    return Value::List(std::make_shared<const RepeatedFieldList>(
        r, m, d->FindFieldByName("values"), owner, /*strong_enums=*/false));
  }
  if (d->well_known_type() >= Descriptor::WELLKNOWNTYPE_DOUBLEVALUE &&
      d->well_known_type() <= Descriptor::WELLKNOWNTYPE_BOOLVALUE) {
    return ReadField(m, d->FindFieldByName("value"), owner);
  }
  return Value::Message(&m, owner);
}

Value ReadField(const Message& m, const FieldDescriptor* f,
                const std::shared_ptr<const void>& owner, bool strong_enums) {
  return ReadField(*m.GetReflection(), m, f, owner, strong_enums);
}

Value ReadField(const Reflection& reflection, const Message& m,
                const FieldDescriptor* f,
                const std::shared_ptr<const void>& owner, bool strong_enums) {
  const Reflection* r = &reflection;
  if (f->is_map()) {
    return Value::Map(
        std::make_shared<const MapFieldMap>(m, f, owner, strong_enums));
  }
  if (f->is_repeated()) {
    return Value::List(std::make_shared<const RepeatedFieldList>(r, m, f, owner,
                                                                 strong_enums));
  }
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return Value::Int(r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return Value::Int(r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return Value::Uint(r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return Value::Uint(r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return Value::Double(r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Value::Double(r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return Value::Bool(r->GetBool(m, f));
    case FieldDescriptor::CPPTYPE_ENUM:
      if (strong_enums)
        return Value::Enum(f->enum_type(), r->GetEnumValue(m, f));
      return Value::Int(r->GetEnumValue(m, f));
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = r->GetStringReference(m, f, &scratch);
      const bool bytes = f->type() == FieldDescriptor::TYPE_BYTES;
      if (&s == &scratch)
        return bytes ? Value::Bytes(scratch) : Value::String(scratch);
      return bytes ? Value::BytesRef(&s, owner) : Value::StringRef(&s, owner);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Descriptor* d = f->message_type();
      // An unset wrapper field is null, as CEL specifies.
      if (d->well_known_type() >= Descriptor::WELLKNOWNTYPE_DOUBLEVALUE &&
          d->well_known_type() <= Descriptor::WELLKNOWNTYPE_BOOLVALUE &&
          !r->HasField(m, f)) {
        return Value::Null();
      }
      if ((d->well_known_type() == Descriptor::WELLKNOWNTYPE_VALUE ||
           d->well_known_type() == Descriptor::WELLKNOWNTYPE_ANY) &&
          !r->HasField(m, f)) {
        return Value::Null();
      }
      return MessageToValue(r->GetMessage(m, f), owner);
    }
  }
  return Value::Error(
      absl::StrCat("unsupported field type for '", f->name(), "'"));
}

bool HasField(const Message& m, const FieldDescriptor* f) {
  return HasField(*m.GetReflection(), m, f);
}

bool HasField(const Reflection& r, const Message& m, const FieldDescriptor* f) {
  if (f->is_repeated()) return r.FieldSize(m, f) > 0;
  return r.HasField(m, f);
}

}  // namespace reconnect::cel::runtime_internal
