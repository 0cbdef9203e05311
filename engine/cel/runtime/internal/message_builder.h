#ifndef RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_MESSAGE_BUILDER_H_
#define RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_MESSAGE_BUILDER_H_

#include <string>

#include "engine/cel/common/value.h"
#include "google/protobuf/message.h"

namespace reconnect::cel::runtime_internal {

// Sets field `f` of `m` from a CEL value, converting as CEL specifies (ints
// range-checked into 32-bit fields, lists into repeated fields, maps into map
// fields, timestamps and durations into their well-known messages, dynamic
// values into google.protobuf.Value). Returns an empty string on success, or
// the error message.
std::string SetFieldFromValue(google::protobuf::Message& m,
                              const google::protobuf::FieldDescriptor* f,
                              const Value& v);

}  // namespace reconnect::cel::runtime_internal

#endif  // RECONNECT_ENGINE_CEL_RUNTIME_INTERNAL_MESSAGE_BUILDER_H_
