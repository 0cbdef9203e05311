#include "engine/ruleset/internal/fact_json.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace reconnect::ruleset::ruleset_internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void ElementToJson(const Message& m, const FieldDescriptor* f, int index,
                   google::protobuf::Value* out);

// Writes `m` as protobuf's JSON mapping would, but straight into a Value:
// facts are rendered on every evaluation, and the text round trip through
// MessageToJsonString and JsonStringToMessage cost half of an evaluation.
void MessageToJsonValue(const Message& m, google::protobuf::Value* out) {
  using google::protobuf::Descriptor;
  using google::protobuf::util::TimeUtil;
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  switch (d->well_known_type()) {
    case Descriptor::WELLKNOWNTYPE_TIMESTAMP:
      out->set_string_value(TimeUtil::ToString(
          static_cast<const google::protobuf::Timestamp&>(m)));
      return;
    case Descriptor::WELLKNOWNTYPE_DURATION:
      out->set_string_value(TimeUtil::ToString(
          static_cast<const google::protobuf::Duration&>(m)));
      return;
    case Descriptor::WELLKNOWNTYPE_VALUE:
      out->CopyFrom(m);
      return;
    case Descriptor::WELLKNOWNTYPE_STRUCT:
      out->mutable_struct_value()->CopyFrom(m);
      return;
    case Descriptor::WELLKNOWNTYPE_LISTVALUE:
      out->mutable_list_value()->CopyFrom(m);
      return;
    case Descriptor::WELLKNOWNTYPE_UNSPECIFIED:
      break;
    default: {
      if (d->well_known_type() >= Descriptor::WELLKNOWNTYPE_DOUBLEVALUE &&
          d->well_known_type() <= Descriptor::WELLKNOWNTYPE_BOOLVALUE) {
        ElementToJson(m, d->FindFieldByName("value"), -1, out);
        return;
      }
      // Any and the rest: the library's own mapping, through text.
      std::string json;
      if (!google::protobuf::util::MessageToJsonString(m, &json).ok() ||
          !google::protobuf::util::JsonStringToMessage(json, out).ok()) {
        out->set_null_value(google::protobuf::NULL_VALUE);
      }
      return;
    }
  }
  auto& fields = *out->mutable_struct_value()->mutable_fields();
  std::vector<const FieldDescriptor*> set;
  r->ListFields(m, &set);
  for (const FieldDescriptor* f : set) {
    google::protobuf::Value& v = fields[f->json_name()];
    if (f->is_map()) {
      auto& entries = *v.mutable_struct_value()->mutable_fields();
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        const Message& e = r->GetRepeatedMessage(m, f, i);
        google::protobuf::Value key;
        ElementToJson(e, e.GetDescriptor()->map_key(), -1, &key);
        const std::string k = key.has_string_value()
                                  ? key.string_value()
                                  : absl::StrCat(key.number_value());
        ElementToJson(e, e.GetDescriptor()->map_value(), -1, &entries[k]);
      }
    } else if (f->is_repeated()) {
      auto* list = v.mutable_list_value();
      for (int i = 0; i < r->FieldSize(m, f); ++i)
        ElementToJson(m, f, i, list->add_values());
    } else {
      ElementToJson(m, f, -1, &v);
    }
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
    case FieldDescriptor::CPPTYPE_INT64:  // a string, as the JSON mapping says
      out->set_string_value(absl::StrCat(rep ? r->GetRepeatedInt64(m, f, index)
                                             : r->GetInt64(m, f)));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out->set_number_value(rep ? r->GetRepeatedUInt32(m, f, index)
                                : r->GetUInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out->set_string_value(absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, index)
                                             : r->GetUInt64(m, f)));
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
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v =
          rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      if (f->type() == FieldDescriptor::TYPE_BYTES) v = absl::Base64Escape(v);
      out->set_string_value(std::move(v));
      break;
    }
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
