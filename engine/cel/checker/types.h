#ifndef RECONNECT_ENGINE_CEL_CHECKER_TYPES_H_
#define RECONNECT_ENGINE_CEL_CHECKER_TYPES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"

namespace reconnect::cel {

// A CEL type as the checker sees it. `dyn` is the type of anything whose type
// is known only at run time; it is assignable to and from every type.
//
// Beyond the types of values, the checker models:
//  - wrapper(T): a protobuf wrapper field (google.protobuf.Int64Value, ...),
//    a T that may be null;
//  - abstract types such as set(T), named with type parameters, which only
//    declared functions produce;
//  - type parameters (T), in function declarations only;
//  - the free type: a wildcard that takes the type it is joined with and
//    otherwise reads as dyn (for unbound type parameters of overloads);
//  - type variables: unknowns of one check, such as the element type of
//    `[]` or a comprehension variable over it, bound by what the expression
//    does with them (TypeVars); unbound ones read as dyn.
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
    kWrapper,
    kAbstract,
    kTypeParam,
    kFree,
    kEnum,  // under strong enum typing only
    kVar,
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
  // The type of the value `type(x)` gives for an x of type `t`.
  static Type TypeOf(Type t);
  static Type Duration() { return Type(Kind::kDuration); }
  static Type Timestamp() { return Type(Kind::kTimestamp); }
  static Type List(Type elem);
  static Type Map(Type key, Type value);
  static Type Message(const google::protobuf::Descriptor* d);
  // `primitive` is bool, int, uint, double, string or bytes.
  static Type Wrapper(Type primitive);
  static Type Abstract(std::string name, std::vector<Type> params);
  static Type TypeParam(std::string name);
  static Type Free() { return Type(Kind::kFree); }
  static Type Enum(const google::protobuf::EnumDescriptor* e);
  static Type Var(int id);

  Kind kind() const { return kind_; }
  // Dyn, free, or a type parameter (the declared type of a variable that
  // may hold anything): either way, anything may be done with it.
  bool is_dyn() const {
    return kind_ == Kind::kDyn || kind_ == Kind::kFree ||
           kind_ == Kind::kTypeParam || kind_ == Kind::kVar;
  }
  bool is_numeric() const {
    return kind_ == Kind::kInt || kind_ == Kind::kUint ||
           kind_ == Kind::kDouble;
  }
  // For lists: the element type; for maps: the key type; for wrappers: the
  // wrapped primitive; for the type of a type (when has_elem()), the type.
  bool has_elem() const { return first_ != nullptr; }
  const Type& elem() const { return *first_; }
  const Type& map_value() const { return *second_; }
  const google::protobuf::Descriptor* descriptor() const { return message_; }
  const google::protobuf::EnumDescriptor* enum_descriptor() const {
    return enum_;
  }
  // For abstract types and type parameters.
  const std::string& name() const { return *name_; }
  const std::vector<Type>& params() const { return *params_; }
  // For type variables.
  int var_id() const { return var_id_; }

  // "int", "list(string)", "map(string, dyn)", "reconnect.v1.Pain", ...
  std::string ToString() const;

  // Whether a value of type `other` may be used where this type is expected,
  // with `dyn` matching anything at any depth, and a wrapper interchangeable
  // with its primitive.
  bool IsAssignableFrom(const Type& other) const;

  friend bool operator==(const Type& a, const Type& b);

 private:
  explicit Type(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kDyn;
  std::shared_ptr<const Type> first_;
  std::shared_ptr<const Type> second_;
  const google::protobuf::Descriptor* message_ = nullptr;
  const google::protobuf::EnumDescriptor* enum_ = nullptr;
  std::shared_ptr<const std::string> name_;
  std::shared_ptr<const std::vector<Type>> params_;
  int var_id_ = -1;
};

// The type variables of one check and what they are bound to. Binding is
// checked for occurrence: a variable is never bound to a type that holds it
// (`x in y && y in x` over unknown x and y has no type).
class TypeVars {
 public:
  Type Fresh();
  // `t` with every bound variable replaced by its binding, at any depth.
  Type Resolve(const Type& t) const;
  // Resolve, with unbound variables as dyn: the type as reported.
  Type Finalize(const Type& t) const;
  // The most specific type that values of both `a` and `b` have, binding
  // unbound variables to make them agree; nullopt when none does short of
  // dyn (bindings made on the way are then undone).
  std::optional<Type> Unify(const Type& a, const Type& b);
  // Unify, falling back to dyn (as for the elements of one list literal).
  Type Join(const Type& a, const Type& b) {
    return Unify(a, b).value_or(Type::Dyn());
  }

 private:
  std::optional<Type> UnifyResolved(const Type& a, const Type& b);
  bool Occurs(int id, const Type& t) const;
  std::vector<std::optional<Type>> bound_;
  std::vector<int> trail_;  // variables bound by the Unify under way
};

// The most specific type that values of both `a` and `b` have, as for the
// elements of one list literal or the two branches of `?:`; nullopt when
// none does short of dyn. Free types take the other side; dyn absorbs
// anything; null joins a nullable type (message, wrapper, timestamp,
// duration, abstract); a wrapper joins its primitive.
std::optional<Type> Unify(const Type& a, const Type& b);
// The type of a value read out of a container of element type `t`: a free
// element is no constraint on what is read, so dyn.
inline Type ElementRead(const Type& t) {
  return t.kind() == Type::Kind::kFree ? Type::Dyn() : t;
}

// The CEL type of a protobuf field, with the well-known types mapped to their
// CEL meaning (Timestamp to timestamp, Value to dyn, Int64Value to
// wrapper(int), Struct to map(string, dyn)). Enum fields are ints, or of
// their enum type when `strong_enums`.
Type FieldType(const google::protobuf::FieldDescriptor* field,
               bool strong_enums = false);
// As FieldType, for one element of a repeated field or the whole singular one.
Type SingularFieldType(const google::protobuf::FieldDescriptor* field,
                       bool strong_enums = false);
// The CEL type of a message-typed value of descriptor `d`.
Type MessageCelType(const google::protobuf::Descriptor* d);

// The field of `d` named `name`: a field of its own, or a proto2 extension
// of it named by its fully qualified name (as in a.`pkg.ext_name`, or
// a.pkg.ext_name resolved by the checker). Null when neither exists.
const google::protobuf::FieldDescriptor* FindFieldOrExtension(
    const google::protobuf::Descriptor* d, const std::string& name);

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_CHECKER_TYPES_H_
