#ifndef RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_FIELDS_H_
#define RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_FIELDS_H_

#include <memory>

#include "engine/cel/common/value.h"
#include "google/protobuf/message.h"

namespace reconnect::cel::runtime_internal {

// Reads field `f` of `m` as a CEL value. Strings and sub-messages are
// borrowed from `m`; `owner` (null when `m` outlives the evaluation) keeps
// `m` alive for values that escape. Repeated and map fields become list and
// map views without copying the elements. Well-known types take their CEL
// meaning (Timestamp, Duration, Value, Struct, ListValue, wrappers). Enum
// fields read as ints, or as enum values when `strong_enums`.
Value ReadField(const google::protobuf::Message& m,
                const google::protobuf::FieldDescriptor* f,
                const std::shared_ptr<const void>& owner,
                bool strong_enums = false);
// As ReadField, with `r` the reflection of `m`'s class.
Value ReadField(const google::protobuf::Reflection& r,
                const google::protobuf::Message& m,
                const google::protobuf::FieldDescriptor* f,
                const std::shared_ptr<const void>& owner, bool strong_enums);

// Converts a message-typed value to its CEL meaning: a well-known type to its
// value, any other message to a message value.
Value MessageToValue(const google::protobuf::Message& m,
                     const std::shared_ptr<const void>& owner);

// The prototype for messages of type `d`: the generated class for the
// generated pool, a dynamic message otherwise. Thread-safe.
const google::protobuf::Message* PrototypeFor(
    const google::protobuf::Descriptor* d);

// CEL's has(): presence of a field as protobuf defines it (repeated and map
// fields: non-empty).
bool HasField(const google::protobuf::Message& m,
              const google::protobuf::FieldDescriptor* f);
// As HasField, with `r` the reflection of `m`'s class.
bool HasField(const google::protobuf::Reflection& r,
              const google::protobuf::Message& m,
              const google::protobuf::FieldDescriptor* f);

}  // namespace reconnect::cel::runtime_internal

#endif  // RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_FIELDS_H_
