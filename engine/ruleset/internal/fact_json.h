#ifndef RECONNECT_ENGINE_RULESET_INTERNAL_FACT_JSON_H_
#define RECONNECT_ENGINE_RULESET_INTERNAL_FACT_JSON_H_

#include "engine/cel/runtime/program.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"

namespace reconnect::ruleset::ruleset_internal {

// Reads the field at `path` below `root` as a JSON value (enums by name, as
// protobuf's JSON mapping writes them). Returns whether the field is present
// (set, for fields with presence; non-empty, for repeated fields).
bool FactToJson(const google::protobuf::Message& root,
                const cel::FactPath& path, google::protobuf::Value* out);

}  // namespace reconnect::ruleset::ruleset_internal

#endif  // RECONNECT_ENGINE_RULESET_INTERNAL_FACT_JSON_H_
