#include "engine/cel/checker/types.h"

#include "absl/strings/str_cat.h"

namespace reconnect::cel {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

Type Type::List(Type elem) {
  Type t(Kind::kList);
  t.first_ = std::make_shared<const Type>(std::move(elem));
  return t;
}
Type Type::Map(Type key, Type value) {
  Type t(Kind::kMap);
  t.first_ = std::make_shared<const Type>(std::move(key));
  t.second_ = std::make_shared<const Type>(std::move(value));
  return t;
}
Type Type::Message(const Descriptor* d) {
  Type t(Kind::kMessage);
  t.message_ = d;
  return t;
}

std::string Type::ToString() const {
  switch (kind_) {
    case Kind::kDyn:
      return "dyn";
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
      return absl::StrCat("list(", first_->ToString(), ")");
    case Kind::kMap:
      return absl::StrCat("map(", first_->ToString(), ", ", second_->ToString(),
                          ")");
    case Kind::kMessage:
      return message_->full_name();
    case Kind::kType:
      return "type";
    case Kind::kDuration:
      return "google.protobuf.Duration";
    case Kind::kTimestamp:
      return "google.protobuf.Timestamp";
  }
  return "dyn";
}

bool Type::IsAssignableFrom(const Type& other) const {
  if (is_dyn() || other.is_dyn()) return true;
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::kList:
      return first_->IsAssignableFrom(*other.first_);
    case Kind::kMap:
      return first_->IsAssignableFrom(*other.first_) &&
             second_->IsAssignableFrom(*other.second_);
    case Kind::kMessage:
      return message_ == other.message_;
    default:
      return true;
  }
}

bool operator==(const Type& a, const Type& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Type::Kind::kList:
      return *a.first_ == *b.first_;
    case Type::Kind::kMap:
      return *a.first_ == *b.first_ && *a.second_ == *b.second_;
    case Type::Kind::kMessage:
      return a.message_ == b.message_;
    default:
      return true;
  }
}

Type MessageCelType(const Descriptor* d) {
  const std::string& n = d->full_name();
  if (n == "google.protobuf.Timestamp") return Type::Timestamp();
  if (n == "google.protobuf.Duration") return Type::Duration();
  if (n == "google.protobuf.Value") return Type::Dyn();
  if (n == "google.protobuf.Struct")
    return Type::Map(Type::String(), Type::Dyn());
  if (n == "google.protobuf.ListValue") return Type::List(Type::Dyn());
  if (n == "google.protobuf.Any") return Type::Dyn();
  if (n == "google.protobuf.BoolValue") return Type::Bool();
  if (n == "google.protobuf.Int32Value" || n == "google.protobuf.Int64Value") {
    return Type::Int();
  }
  if (n == "google.protobuf.UInt32Value" ||
      n == "google.protobuf.UInt64Value") {
    return Type::Uint();
  }
  if (n == "google.protobuf.FloatValue" || n == "google.protobuf.DoubleValue") {
    return Type::Double();
  }
  if (n == "google.protobuf.StringValue") return Type::String();
  if (n == "google.protobuf.BytesValue") return Type::Bytes();
  return Type::Message(d);
}

Type SingularFieldType(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_ENUM:
      return Type::Int();
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return Type::Uint();
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Type::Double();
    case FieldDescriptor::CPPTYPE_BOOL:
      return Type::Bool();
    case FieldDescriptor::CPPTYPE_STRING:
      return f->type() == FieldDescriptor::TYPE_BYTES ? Type::Bytes()
                                                      : Type::String();
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageCelType(f->message_type());
  }
  return Type::Dyn();
}

Type FieldType(const FieldDescriptor* f) {
  if (f->is_map()) {
    return Type::Map(SingularFieldType(f->message_type()->map_key()),
                     SingularFieldType(f->message_type()->map_value()));
  }
  if (f->is_repeated()) return Type::List(SingularFieldType(f));
  return SingularFieldType(f);
}

}  // namespace reconnect::cel
