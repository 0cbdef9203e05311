#include "engine/ruleset/internal/fact_json.h"

#include "google/protobuf/util/json_util.h"

namespace reconnect::ruleset::ruleset_internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void MessageToJsonValue(const Message& m, google::protobuf::Value* out) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(m, &json).ok() ||
      !google::protobuf::util::JsonStringToMessage(json, out).ok()) {
    out->set_null_value(google::protobuf::NULL_VALUE);
  }
}

void ElementToJson(const Message& m, const FieldDescriptor* f, int index,
                   google::protobuf::Value* out) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out->set_number_value(rep ? r->GetRepeatedInt32(m, f, index)
                                : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out->set_number_value(static_cast<double>(
          rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out->set_number_value(rep ? r->GetRepeatedUInt32(m, f, index)
                                : r->GetUInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out->set_number_value(static_cast<double>(
          rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f)));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      out->set_number_value(rep ? r->GetRepeatedFloat(m, f, index)
                                : r->GetFloat(m, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out->set_number_value(rep ? r->GetRepeatedDouble(m, f, index)
                                : r->GetDouble(m, f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->set_bool_value(rep ? r->GetRepeatedBool(m, f, index)
                              : r->GetBool(m, f));
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v =
          rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      if (const auto* ev = f->enum_type()->FindValueByNumber(v)) {
        out->set_string_value(ev->name());
      } else {
        out->set_number_value(v);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      out->set_string_value(rep ? r->GetRepeatedString(m, f, index)
                                : r->GetString(m, f));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      MessageToJsonValue(
          rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), out);
      break;
  }
}

}  // namespace

bool FactToJson(const Message& root, const cel::FactPath& path,
                google::protobuf::Value* out) {
  const Message* m = &root;
  for (size_t i = 0; i + 1 < path.fields.size(); ++i) {
    if (!m->GetReflection()->HasField(*m, path.fields[i])) {
      out->set_null_value(google::protobuf::NULL_VALUE);
      return false;
    }
    m = &m->GetReflection()->GetMessage(*m, path.fields[i]);
  }
  const FieldDescriptor* f = path.fields.back();
  const Reflection* r = m->GetReflection();
  if (f->is_map()) {
    // Maps are written as JSON objects through the owning message's mapping.
    MessageToJsonValue(*m, out);
    const bool present = r->FieldSize(*m, f) > 0;
    if (out->has_struct_value()) {
      auto& fields = out->struct_value().fields();
      auto it = fields.find(f->json_name());
      google::protobuf::Value v =
          it != fields.end() ? it->second : google::protobuf::Value();
      *out = std::move(v);
    }
    return present;
  }
  if (f->is_repeated()) {
    auto* list = out->mutable_list_value();
    const int n = r->FieldSize(*m, f);
    for (int i = 0; i < n; ++i) ElementToJson(*m, f, i, list->add_values());
    return n > 0;
  }
  const bool present = r->HasField(*m, f);
  if (!present && f->has_presence()) {
    out->set_null_value(google::protobuf::NULL_VALUE);
    return false;
  }
  ElementToJson(*m, f, -1, out);
  return present;
}

}  // namespace reconnect::ruleset::ruleset_internal
