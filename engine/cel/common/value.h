#ifndef RECONNECT_ENGINE_CEL_COMMON_VALUE_H_
#define RECONNECT_ENGINE_CEL_COMMON_VALUE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace reconnect::cel {

class Value;

// A CEL list. Implementations may view data owned elsewhere (a repeated
// protobuf field) or own their elements.
class ListRep {
 public:
  virtual ~ListRep() = default;
  virtual size_t size() const = 0;
  virtual Value at(size_t i) const = 0;
};

// A CEL map: entries in insertion (or field) order, with lookup by key.
class MapRep {
 public:
  virtual ~MapRep() = default;
  virtual size_t size() const = 0;
  virtual Value key_at(size_t i) const = 0;
  virtual Value value_at(size_t i) const = 0;
  // The value under `key`, or nullopt when absent. Keys compare as CEL's
  // `==` does (1 == 1u == 1.0).
  virtual std::optional<Value> Find(const Value& key) const = 0;
};

// A CEL runtime value. Scalars are held inline. Strings, bytes, lists, maps
// and messages are either borrowed (a pointer into data that outlives the
// evaluation: the program's constants or the input message) or owned through
// a shared pointer. Copying a borrowed value costs no allocation and touches
// no reference count, which matters when many threads evaluate one program.
class Value {
 public:
  enum class Kind : uint8_t {
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
    // A value of a protobuf enum type, under strong enum typing only; with
    // CEL's default (legacy) typing, enum values are ints.
    kEnum,
    // The two kinds that are not values proper come last, so that one
    // comparison tests for either (is_error_or_unknown).
    kError,
    // An unknown (CEL's partial evaluation): the value depends on facts that
    // are absent. It carries the attributes (fact slots) it depends on.
    kUnknown,
  };

  Value() : kind_(Kind::kNull) { scalar_.i = 0; }

  static Value Null() { return Value(); }
  static Value Bool(bool v);
  static Value Int(int64_t v);
  static Value Uint(uint64_t v);
  static Value Double(double v);
  static Value String(std::string v);
  // Borrowed: `v` must outlive the value, unless `owner` (when not null)
  // keeps it alive, as for a string inside a message built at run time.
  static Value StringRef(const std::string* v,
                         std::shared_ptr<const void> owner = nullptr);
  static Value Bytes(std::string v);
  static Value BytesRef(const std::string* v,
                        std::shared_ptr<const void> owner = nullptr);
  static Value List(std::shared_ptr<const ListRep> v);
  static Value ListRef(const ListRep* v);  // borrowed
  static Value List(std::vector<Value> elements);
  static Value Map(std::shared_ptr<const MapRep> v);
  static Value MapRef(const MapRep* v);  // borrowed
  static Value Message(const google::protobuf::Message* m,
                       std::shared_ptr<const void> owner = nullptr);
  // A type value, e.g. `int` or `google.protobuf.Duration`; `name` must
  // outlive the value (type names are static or owned by the program).
  static Value Type(std::string_view name);
  static Value Duration(absl::Duration d);
  static Value Timestamp(absl::Time t);
  static Value Error(std::string message);
  // An unknown depending on `attributes` (sorted, without duplicates, not
  // empty). Up to two are held inline, without allocating.
  static Value Unknown(const std::vector<int>& attributes);
  static Value Unknown(int attribute);
  // `type` must outlive the value (descriptors live as long as their pool).
  static Value Enum(const google::protobuf::EnumDescriptor* type,
                    int32_t number);

  Kind kind() const { return kind_; }
  bool is_error() const { return kind_ == Kind::kError; }
  bool is_unknown() const { return kind_ == Kind::kUnknown; }
  bool is_error_or_unknown() const { return kind_ >= Kind::kError; }

  bool bool_value() const { return scalar_.b; }
  int64_t int_value() const { return scalar_.i; }
  uint64_t uint_value() const { return scalar_.u; }
  double double_value() const { return scalar_.d; }
  // For kString and kBytes.
  const std::string& string_value() const {
    return *static_cast<const std::string*>(scalar_.p);
  }
  const ListRep& list() const {
    return *static_cast<const ListRep*>(scalar_.p);
  }
  const MapRep& map() const { return *static_cast<const MapRep*>(scalar_.p); }
  const google::protobuf::Message& message() const {
    return *static_cast<const google::protobuf::Message*>(scalar_.p);
  }
  std::string_view type_name() const {
    return {static_cast<const char*>(scalar_.p), nanos_};
  }
  absl::Duration duration() const;
  absl::Time timestamp() const;
  // For kEnum.
  const google::protobuf::EnumDescriptor* enum_type() const {
    return static_cast<const google::protobuf::EnumDescriptor*>(scalar_.p);
  }
  int32_t enum_number() const { return static_cast<int32_t>(nanos_); }
  // For kError.
  const std::string& error_message() const { return string_value(); }
  // For kUnknown: the attributes it depends on, sorted.
  size_t unknown_size() const { return nanos_; }
  int unknown_attribute(size_t i) const {
    if (nanos_ <= 2) return i == 0 ? scalar_.pair[0] : scalar_.pair[1];
    return (*static_cast<const std::vector<int>*>(scalar_.p))[i];
  }
  std::vector<int> unknown_attributes() const;
  // Where the error arose: an index an ExpressionSet resolves to a line and
  // column; 0 when unknown.
  uint32_t error_site() const { return nanos_; }
  void set_error_site(uint32_t site) { nanos_ = site; }
  // What keeps the data of an owned value alive; null for borrowed values.
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // The CEL type name of this value: "int", "list", "reconnect.v1.Pain", ...
  std::string_view TypeName() const;

  // A readable rendering for rationale texts and command output (strings
  // unquoted at the top level).
  std::string DebugString() const;

 private:
  Kind kind_;
  // Type-name length, the nanoseconds of a duration or timestamp, the
  // number of an enum value, the site of an error, or the number of an
  // unknown's attributes.
  uint32_t nanos_ = 0;
  union {
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    const void* p;
    int32_t pair[2];  // an unknown's attributes, when there are up to two
  } scalar_;
  std::shared_ptr<const void> owner_;
};

// The outcome of a strict operation over `values`, when one of them is an
// error or unknown (as ExprValue.unknown in cel-spec's eval.proto says):
// the first error, else the unknowns merged. Nullopt when every value is a
// value proper.
std::optional<Value> StrictOutcome(const Value* values, size_t n);
// The outcome of && or || whose operands are neither decisive nor both
// bool: unknowns (merged) take precedence over an error. Nullopt when
// neither is an error or unknown.
std::optional<Value> LogicalOutcome(const Value& a, const Value& b);

// CEL equality (`==`): numeric values compare across int, uint and double;
// lists and maps compare element-wise; messages compare field by field.
// Returns an error value only where CEL says so (none for equality proper).
bool ValueEquals(const Value& a, const Value& b);

// Orders two values of comparable kinds: <0, 0, >0; nullopt when the kinds are
// not comparable (the caller raises "no such overload") or a NaN is involved.
std::optional<int> CompareValues(const Value& a, const Value& b);

// The shortest decimal text that reads back as exactly `d` ("1500", "0.1",
// "1e+300"); finite values only.
std::string ShortestDouble(double d);

// A list that owns its elements.
class VectorListRep final : public ListRep {
 public:
  explicit VectorListRep(std::vector<Value> v) : elements_(std::move(v)) {}
  size_t size() const override { return elements_.size(); }
  Value at(size_t i) const override { return elements_[i]; }

 private:
  std::vector<Value> elements_;
};

// A map that owns its entries; lookup is linear, which beats hashing for the
// handful of entries CEL maps hold in rules.
class VectorMapRep final : public MapRep {
 public:
  explicit VectorMapRep(std::vector<std::pair<Value, Value>> entries)
      : entries_(std::move(entries)) {}
  size_t size() const override { return entries_.size(); }
  Value key_at(size_t i) const override { return entries_[i].first; }
  Value value_at(size_t i) const override { return entries_[i].second; }
  std::optional<Value> Find(const Value& key) const override;

 private:
  std::vector<std::pair<Value, Value>> entries_;
};

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_COMMON_VALUE_H_
