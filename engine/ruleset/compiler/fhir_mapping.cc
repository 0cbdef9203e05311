// The FHIR mapping stage: fhir_mapping.json, which coded FHIR facts (an
// Observation's code, a QuestionnaireResponse item's linkId) set which
// input fields, and how coded answers translate into the fields' values;
// and which resources (MedicationRequests) become elements of which list.
// The engine resolves every field against the input message type and checks
// every value against the field, so that a translation never has to guess.

#include <functional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/issue_codes.h"
#include "google/protobuf/descriptor.h"

namespace reconnect::ruleset::ruleset_internal {

using google::protobuf::FieldDescriptor;
using nlohmann::json;

namespace {

// The fields from `type` along `path` ("a.b.c"), or an error message.
std::string Resolve(const google::protobuf::Descriptor* type,
                    const std::string& path,
                    std::vector<const FieldDescriptor*>& out,
                    bool text_lists = false) {
  const std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = type->FindFieldByName(parts[i]);
    if (f == nullptr) {
      return absl::StrCat("'", path, "' names no field: ", type->full_name(),
                          " has no field '", parts[i], "'");
    }
    out.push_back(f);
    const bool last = i + 1 == parts.size();
    if (!last) {
      if (f->is_repeated() || f->is_map() ||
          f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::StrCat("'", path, "': '", parts[i],
                            "' is not a single message to go into");
      }
      type = f->message_type();
      continue;
    }
    const bool gathers =
        f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM ||
        (text_lists && f->cpp_type() == FieldDescriptor::CPPTYPE_STRING);
    if (f->is_map() || f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ||
        (f->is_repeated() && !gathers)) {
      return absl::StrCat("'", path,
                          "' cannot be set from one FHIR value (a number, "
                          "code, boolean or text, or a list of codes)");
    }
  }
  return "";
}

// `value` as `field` needs it (an enum value's name becomes its number), or
// an error message.
std::string Fit(const FieldDescriptor* field, const json& value, json& out) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM: {
      if (!value.is_string()) return "must name one of the field's enum values";
      const auto* v =
          field->enum_type()->FindValueByName(value.get<std::string>());
      if (v == nullptr || v->number() == 0) {
        return absl::StrCat("'", value.get<std::string>(),
                            "' is not a value of ",
                            field->enum_type()->full_name());
      }
      out = v->number();
      return "";
    }
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      if (!value.is_number_integer()) return "must be an integer";
      out = value;
      return "";
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      if (!value.is_number()) return "must be a number";
      out = value;
      return "";
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!value.is_boolean()) return "must be true or false";
      out = value;
      return "";
    case FieldDescriptor::CPPTYPE_STRING:
      if (!value.is_string()) return "must be text";
      out = value;
      return "";
    default:
      return "cannot be set";
  }
}

// Reads "set": field names of `element` to values, each fitted. False when
// the object is not there or not usable (each problem reported).
bool ReadSet(ObjectReader& er, const char* key,
             const google::protobuf::Descriptor* element,
             std::vector<FhirElementValue>& out) {
  const json* given = er.Member(key);
  if (given == nullptr) return false;
  if (!given->is_object() || given->empty()) {
    er.Error(issue_codes::kMissingOrWrongShape,
             absl::StrCat("fhir_mapping: \"", key, "\" must map fields of ",
                          element->full_name(), " to values"),
             er.KeyOffset(key));
    return false;
  }
  bool ok = true;
  for (const auto& [name, value] : given->items()) {
    const FieldDescriptor* field = element->FindFieldByName(name);
    if (field == nullptr || field->is_repeated() ||
        field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      er.Error(issue_codes::kMissingOrWrongShape,
               absl::StrCat("fhir_mapping: '", name,
                            "' is not a single "
                            "number, code, boolean or text field of ",
                            element->full_name()),
               er.KeyOffset(key));
      ok = false;
      continue;
    }
    json fitted;
    if (std::string problem = Fit(field, value, fitted); !problem.empty()) {
      er.Error(field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
                       value.is_string()
                   ? issue_codes::kBadEnumValue
                   : issue_codes::kWrongType,
               absl::StrCat("fhir_mapping: value for ", name, " ", problem),
               er.KeyOffset(key));
      ok = false;
      continue;
    }
    out.push_back({field, std::move(fitted)});
  }
  return ok;
}

// "medication_requests": resources that become elements of a list field.
void ReadListMapping(const SourceFile& f, ObjectReader& r, const char* key,
                     const google::protobuf::Descriptor* input,
                     FhirListMapping& out, std::vector<RuleSetIssue>& issues) {
  const json* given = r.Member(key);
  if (given == nullptr) return;
  ObjectReader lr(f, *given, absl::StrCat("fhir_mapping ", key), "",
                  r.KeyOffset(key), issues);
  if (!lr.ok()) {
    r.Error(issue_codes::kMissingOrWrongShape,
            absl::StrCat("fhir_mapping: \"", key, "\" must be an object"),
            r.KeyOffset(key));
    return;
  }
  lr.RejectUnknownKeys(
      {"field", "text", "label", "codes", "otherwise", "flags"});
  FhirListMapping m;
  m.field = lr.String("field", true);
  m.label = lr.String("label", true);
  if (m.field.empty()) return;
  // Every part but the last is a singular message; the last is a list of
  // messages.
  const std::vector<std::string> parts = absl::StrSplit(m.field, '.');
  const google::protobuf::Descriptor* type = input;
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = type->FindFieldByName(parts[i]);
    const bool last = i + 1 == parts.size();
    if (field == nullptr || field->is_map() ||
        field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
        field->is_repeated() != last) {
      lr.Error(issue_codes::kMissingOrWrongShape,
               absl::StrCat("fhir_mapping: field '", m.field,
                            "' must be a list of messages (", type->full_name(),
                            " '", parts[i], "' is not ",
                            last ? "a list of messages)" : "a single message)"),
               lr.KeyOffset("field"));
      return;
    }
    m.path.push_back(field);
    type = field->message_type();
  }
  if (std::string text = lr.String("text", false); !text.empty()) {
    m.text = type->FindFieldByName(text);
    if (m.text == nullptr || m.text->is_repeated() ||
        m.text->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
      lr.Error(
          issue_codes::kMissingOrWrongShape,
          absl::StrCat("fhir_mapping: text '", text,
                       "' is not a single text field of ", type->full_name()),
          lr.KeyOffset("text"));
      m.text = nullptr;
    }
  }
  if (lr.Member("otherwise") != nullptr) {
    ReadSet(lr, "otherwise", type, m.otherwise);
  }
  // The entries of list `list_key`, each identified by `id_key`.
  auto entries = [&](const char* list_key, const char* id_key,
                     const std::function<void(ObjectReader&, size_t)>& read) {
    const json* list = lr.Member(list_key);
    if (list == nullptr) return;
    if (!list->is_array()) {
      lr.Error(issue_codes::kMissingOrWrongShape,
               absl::StrCat("fhir_mapping: \"", list_key, "\" must be a list"),
               lr.KeyOffset(list_key));
      return;
    }
    ListEntryLocator locate(f, lr.KeyOffset(list_key));
    for (const json& e : *list) {
      const auto [id, at] = locate.Next(e, id_key);
      ObjectReader er(
          f, e,
          absl::StrCat("fhir_mapping ", key, " ", list_key, " '", id, "'"), "",
          at, issues);
      if (er.ok()) read(er, at);
    }
  };
  absl::flat_hash_set<std::string> seen;
  auto unique = [&](ObjectReader& er, const std::string& id, size_t at) {
    if (seen.insert(id).second) return true;
    er.Error(issue_codes::kDuplicate,
             absl::StrCat("fhir_mapping: '", id, "' is mapped twice in ", key),
             at);
    return false;
  };
  entries("codes", "code", [&](ObjectReader& er, size_t at) {
    er.RejectUnknownKeys({"code", "code_prefix", "label", "set"});
    FhirElementCode c;
    c.prefix = er.Member("code_prefix") != nullptr;
    c.code = er.String(c.prefix ? "code_prefix" : "code", true);
    c.label = er.String("label", true);
    if (c.code.empty()) return;
    if (c.code.find('|') == std::string::npos) {
      er.Error(issue_codes::kBadName,
               absl::StrCat("fhir_mapping: code '", c.code,
                            "' must be written system|code"),
               at);
      return;
    }
    if (!ReadSet(er, "set", type, c.set)) {
      if (er.Member("set") == nullptr) {
        er.Error(issue_codes::kMissingOrWrongShape,
                 absl::StrCat("fhir_mapping: '", c.code,
                              "' needs the values it \"set\"s"),
                 at);
      }
      return;
    }
    if (unique(er, c.code, at)) m.codes.push_back(std::move(c));
  });
  entries("flags", "linkId", [&](ObjectReader& er, size_t at) {
    er.RejectUnknownKeys({"linkId", "label", "set"});
    FhirElementFlag flag;
    flag.link_id = er.String("linkId", true);
    flag.label = er.String("label", true);
    if (flag.link_id.empty()) return;
    if (!ReadSet(er, "set", type, flag.set)) {
      if (er.Member("set") == nullptr) {
        er.Error(issue_codes::kMissingOrWrongShape,
                 absl::StrCat("fhir_mapping: '", flag.link_id,
                              "' needs the values it \"set\"s"),
                 at);
      }
      return;
    }
    if (unique(er, flag.link_id, at)) m.flags.push_back(std::move(flag));
  });
  out = std::move(m);
}

}  // namespace

void RuleSetCompiler::ReadFhirMapping(const SourceFile& f) {
  ObjectReader r(f, f.root, "fhir_mapping", "", 0, issues_);
  if (!r.ok()) return;
  r.RejectUnknownKeys({"questionnaire", "observations", "questionnaire_items",
                       "conditions", "care_team_roles", "medication_requests"});
  const google::protobuf::Descriptor* input =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          out_->input_type_);
  if (input == nullptr) return;  // the metadata stage has said why
  FhirMapping& mapping = out_->fhir_mapping_;
  mapping.questionnaire = r.String("questionnaire", false);

  // Reads list `list_key` into `out`: each entry keyed by `key_name` (a
  // code written system|code, or a linkId; once per list), naming a field
  // (resolved against the input type; `text_lists` lets a list of text
  // gather) and a label. `rest` reads what else an entry holds, and says
  // whether it is usable.
  using Rest = std::function<bool(ObjectReader&, FhirFieldMapping&, size_t)>;
  auto each = [&](const char* list_key, const char* key_name,
                  std::initializer_list<std::string_view> keys, bool text_lists,
                  std::vector<FhirFieldMapping>& out, const Rest& rest) {
    const json* list = r.Member(list_key);
    if (list == nullptr) return;
    if (!list->is_array()) {
      r.Error(issue_codes::kMissingOrWrongShape,
              absl::StrCat("fhir_mapping: \"", list_key, "\" must be a list"),
              r.KeyOffset(list_key));
      return;
    }
    absl::flat_hash_set<std::string> seen;
    ListEntryLocator locate(f, r.KeyOffset(list_key));
    for (const json& e : *list) {
      const auto [key, at] = locate.Next(e, key_name);
      ObjectReader er(f, e,
                      absl::StrCat("fhir_mapping ", list_key, " '", key, "'"),
                      "", at, issues_);
      if (!er.ok()) continue;
      er.RejectUnknownKeys(keys);
      FhirFieldMapping m;
      m.key = er.String(key_name, true);
      m.field = er.String("field", true);
      m.label = er.String("label", true);
      if (m.key.empty() || m.field.empty()) continue;
      if (std::string(key_name) == "code" &&
          m.key.find('|') == std::string::npos) {
        er.Error(issue_codes::kBadName,
                 absl::StrCat("fhir_mapping: code '", m.key,
                              "' must be written system|code"),
                 at);
      }
      if (!seen.insert(m.key).second) {
        er.Error(issue_codes::kDuplicate,
                 absl::StrCat("fhir_mapping: '", m.key, "' is mapped twice in ",
                              list_key),
                 at);
      }
      if (std::string problem = Resolve(input, m.field, m.path, text_lists);
          !problem.empty()) {
        er.Error(issue_codes::kMissingOrWrongShape,
                 absl::StrCat("fhir_mapping: field ", problem),
                 er.KeyOffset("field"));
        continue;
      }
      if (rest(er, m, at)) out.push_back(std::move(m));
    }
  };

  // A value as FHIR gives it, or a coded one through "answers" (required
  // for a coded field).
  const Rest answers = [&](ObjectReader& er, FhirFieldMapping& m, size_t at) {
    const FieldDescriptor* leaf = m.path.back();
    const json* given = er.Member("answers");
    if (given == nullptr) {
      if (leaf->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        er.Error(issue_codes::kMissingOrWrongShape,
                 absl::StrCat("fhir_mapping: ", m.field,
                              " is coded, so it needs \"answers\" that map "
                              "FHIR codes to its values"),
                 at);
      }
      return true;
    }
    if (!given->is_object() || given->empty()) {
      er.Error(issue_codes::kMissingOrWrongShape,
               "fhir_mapping: \"answers\" must map codes to values",
               er.KeyOffset("answers"));
      return false;
    }
    for (const auto& [code, value] : given->items()) {
      json fitted;
      if (std::string problem = Fit(leaf, value, fitted); !problem.empty()) {
        er.Error(leaf->cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
                         value.is_string()
                     ? issue_codes::kBadEnumValue
                     : issue_codes::kWrongType,
                 absl::StrCat("fhir_mapping: answer '", code, "' for ", m.field,
                              " ", problem),
                 er.KeyOffset("answers"));
        continue;
      }
      m.answers.emplace(code, std::move(fitted));
    }
    return true;
  };
  each("observations", "code", {"code", "field", "label", "answers"}, false,
       mapping.observations, answers);
  each("questionnaire_items", "linkId", {"linkId", "field", "label", "answers"},
       false, mapping.questionnaire_items, answers);

  // Coded presence: the "value" the code's presence sets.
  const Rest presence = [&](ObjectReader& er, FhirFieldMapping& m, size_t at) {
    const json* value = er.Member("value");
    if (value == nullptr) {
      er.Error(issue_codes::kMissingOrWrongShape,
               absl::StrCat("fhir_mapping: '", m.key,
                            "' needs the \"value\" its presence sets"),
               at);
      return false;
    }
    const FieldDescriptor* leaf = m.path.back();
    json fitted;
    if (std::string problem = Fit(leaf, *value, fitted); !problem.empty()) {
      er.Error(leaf->cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
                       value->is_string()
                   ? issue_codes::kBadEnumValue
                   : issue_codes::kWrongType,
               absl::StrCat("fhir_mapping: value for ", m.field, " ", problem),
               er.KeyOffset("value"));
      return false;
    }
    m.answers.emplace(m.key, std::move(fitted));
    return true;
  };
  each("conditions", "code", {"code", "field", "value", "label"}, true,
       mapping.conditions, presence);
  each("care_team_roles", "code", {"code", "field", "value", "label"}, true,
       mapping.care_team_roles, presence);

  ReadListMapping(f, r, "medication_requests", input,
                  mapping.medication_requests, issues_);

  if ((!mapping.questionnaire_items.empty() ||
       !mapping.medication_requests.flags.empty()) &&
      mapping.questionnaire.empty()) {
    r.Error(issue_codes::kMissingOrWrongShape,
            "fhir_mapping: \"questionnaire_items\" and \"flags\" need "
            "\"questionnaire\", the "
            "canonical URL of the Questionnaire whose responses are read");
  }
}

}  // namespace reconnect::ruleset::ruleset_internal
