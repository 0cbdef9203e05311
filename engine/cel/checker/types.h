#ifndef RECONNECT_ENGINE_CEL_CHECKER_TYPES_H_
#define RECONNECT_ENGINE_CEL_CHECKER_TYPES_H_

#include <memory>
#include <string>

#include "google/protobuf/descriptor.h"

namespace reconnect::cel {

// A CEL type as the checker sees it. `dyn` is the type of anything whose type
// is known only at run time; it is assignable to and from every type.
class Type {
 public:
  enum class Kind : uint8_t {
    kDyn,
    kNull,
    kBool,
    kInt,
    kUint,
    kDouble,
    kString,
    kBytes,
    kList,
    kMap,
    kMessage,
    kType,
    kDuration,
    kTimestamp,
  };

  Type() = default;
  static Type Dyn() { return Type(Kind::kDyn); }
  static Type Null() { return Type(Kind::kNull); }
  static Type Bool() { return Type(Kind::kBool); }
  static Type Int() { return Type(Kind::kInt); }
  static Type Uint() { return Type(Kind::kUint); }
  static Type Double() { return Type(Kind::kDouble); }
  static Type String() { return Type(Kind::kString); }
  static Type Bytes() { return Type(Kind::kBytes); }
  static Type TypeType() { return Type(Kind::kType); }
  static Type Duration() { return Type(Kind::kDuration); }
  static Type Timestamp() { return Type(Kind::kTimestamp); }
  static Type List(Type elem);
  static Type Map(Type key, Type value);
  static Type Message(const google::protobuf::Descriptor* d);

  Kind kind() const { return kind_; }
  bool is_dyn() const { return kind_ == Kind::kDyn; }
  bool is_numeric() const {
    return kind_ == Kind::kInt || kind_ == Kind::kUint ||
           kind_ == Kind::kDouble;
  }
  // For lists: the element type; for maps: the key type.
  const Type& elem() const { return *first_; }
  const Type& map_value() const { return *second_; }
  const google::protobuf::Descriptor* descriptor() const { return message_; }

  // "int", "list(string)", "map(string, dyn)", "reconnect.v1.Pain", ...
  std::string ToString() const;

  // Whether a value of type `other` may be used where this type is expected,
  // with `dyn` matching anything at any depth.
  bool IsAssignableFrom(const Type& other) const;

  friend bool operator==(const Type& a, const Type& b);

 private:
  explicit Type(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kDyn;
  std::shared_ptr<const Type> first_;
  std::shared_ptr<const Type> second_;
  const google::protobuf::Descriptor* message_ = nullptr;
};

// The CEL type of a protobuf field, with the well-known types mapped to their
// CEL meaning (Timestamp to timestamp, Value to dyn, wrappers to their
// primitive, Struct to map(string, dyn)). Enum fields are ints.
Type FieldType(const google::protobuf::FieldDescriptor* field);
// As FieldType, for one element of a repeated field or the whole singular one.
Type SingularFieldType(const google::protobuf::FieldDescriptor* field);
// The CEL type of a message-typed value of descriptor `d`.
Type MessageCelType(const google::protobuf::Descriptor* d);

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_CHECKER_TYPES_H_
