// Writes, as JSON on stdout, what bench/cel_js_bench.mjs needs to evaluate a
// rule set's conditions with another CEL implementation on the same work:
//   - the definitions and conditions as written, and each rule's rationale
//     template;
//   - the params and the enum constants, which the engine folds into the
//     programs at load and the script writes into the text as literals;
//   - each example's facts as CEL sees them (ints marked, so that the script
//     can make them CEL ints; every message present, as proto messages are
//     in CEL; a field with presence only when set);
//   - which rules' conditions the engine found met on each, so that the
//     script can check it fires the same rules.
//
//   reconnect_cel_js_export RULE_SET_DIR EXAMPLES_DIR > export.json

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/ruleset/rule_set.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "reconnect/v1/assessment.pb.h"

namespace reconnect {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using nlohmann::json;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json ParseRuleSetFile(const std::filesystem::path& p) {
  return json::parse(ReadFile(p), nullptr, /*allow_exceptions=*/true,
                     /*ignore_comments=*/true);
}

// A rule-set expression as the loader reads it: one string, or lines joined
// by newlines.
std::string ExpressionText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  std::string text;
  for (const auto& line : v) {
    if (!text.empty()) text += "\n";
    text += line.get<std::string>();
  }
  return text;
}

json Int(int64_t v) { return json{{"$int", std::to_string(v)}}; }

json Scalar(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return Int(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return Int(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return Int(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return Int(static_cast<int64_t>(rep ? r->GetRepeatedUInt64(m, f, index)
                                          : r->GetUInt64(m, f)));
    case FieldDescriptor::CPPTYPE_ENUM:
      return Int(rep ? r->GetRepeatedEnumValue(m, f, index)
                     : r->GetEnumValue(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
    case FieldDescriptor::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case FieldDescriptor::CPPTYPE_STRING:
      return rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return nullptr;
}

// Well-known types (timestamps, Struct) and maps are left out: no condition
// of the bundled rule set reads them, and the comparison's fired-rule check
// fails if one ever does.
bool Skipped(const FieldDescriptor* f) {
  return f->is_map() ||
         (f->message_type() != nullptr &&
          f->message_type()->file()->package() == "google.protobuf");
}

json Facts(const Message& m) {
  json out = json::object();
  const Reflection* r = m.GetReflection();
  const auto* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (Skipped(f)) continue;
    if (f->is_repeated()) {
      json list = json::array();
      for (int j = 0; j < r->FieldSize(m, f); ++j) {
        list.push_back(f->message_type() != nullptr
                           ? Facts(r->GetRepeatedMessage(m, f, j))
                           : Scalar(m, f, j));
      }
      out[f->name()] = std::move(list);
    } else if (f->message_type() != nullptr) {
      out[f->name()] = Facts(r->GetMessage(m, f));
    } else if (!f->has_presence() || r->HasField(m, f)) {
      out[f->name()] = Scalar(m, f, -1);
    }
  }
  return out;
}

void AddEnums(const google::protobuf::EnumDescriptor* e,
              const std::string& prefix, json& out) {
  for (int i = 0; i < e->value_count(); ++i) {
    out[prefix + e->name() + "." + e->value(i)->name()] = e->value(i)->number();
  }
}

void AddEnums(const google::protobuf::Descriptor* d, const std::string& prefix,
              json& out) {
  const std::string inner = prefix + d->name() + ".";
  for (int i = 0; i < d->enum_type_count(); ++i)
    AddEnums(d->enum_type(i), inner, out);
  for (int i = 0; i < d->nested_type_count(); ++i)
    AddEnums(d->nested_type(i), inner, out);
}

int Run(const std::filesystem::path& dir,
        const std::filesystem::path& examples) {
  const ruleset::LoadResult loaded = ruleset::LoadRuleSet(dir);
  if (!loaded.rule_set) {
    for (const auto& i : loaded.issues) std::cerr << i.ToString() << "\n";
    return 1;
  }
  const ruleset::CompiledRuleSet& rs = *loaded.rule_set;
  json out;
  out["rule_set"] = rs.metadata().id + " " + rs.metadata().version;

  json defs = json::array();
  const json defs_file = ParseRuleSetFile(dir / "defs.json");
  for (const auto& [name, def] : defs_file.items()) {
    defs.push_back({{"name", name}, {"expr", ExpressionText(def.at("expr"))}});
  }
  out["defs"] = std::move(defs);

  std::map<std::string, std::string> rationale;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "rules")) {
    const json file = ParseRuleSetFile(entry.path());
    for (const auto& rule : file.at("rules")) {
      if (rule.contains("rationale")) {
        rationale[rule.at("id").get<std::string>()] =
            ExpressionText(rule.at("rationale"));
      }
    }
  }
  json rules = json::array();
  for (size_t i = 0; i < rs.rule_count(); ++i) {
    rules.push_back({{"id", rs.rule_id(i)},
                     {"when", rs.rule_condition(i)},
                     {"rationale", rationale[rs.rule_id(i)]}});
  }
  out["rules"] = std::move(rules);

  json params = json::object();
  const json params_file = ParseRuleSetFile(dir / "params.json");
  for (const auto& [name, p] : params_file.items()) {
    params[name] = {{"type", p.at("type")}, {"value", p.at("value")}};
  }
  out["params"] = std::move(params);

  const auto* proto_file = v1::Assessment::descriptor()->file();
  json enums = json::object();
  for (int i = 0; i < proto_file->enum_type_count(); ++i)
    AddEnums(proto_file->enum_type(i), "", enums);
  for (int i = 0; i < proto_file->message_type_count(); ++i)
    AddEnums(proto_file->message_type(i), "", enums);
  out["enums"] = std::move(enums);

  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(examples)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  json list = json::array();
  for (const auto& path : files) {
    v1::Assessment a;
    const auto s =
        google::protobuf::util::JsonStringToMessage(ReadFile(path), &a);
    if (!s.ok()) {
      std::cerr << path.string() << ": " << s.ToString() << "\n";
      return 1;
    }
    std::vector<bool> met;
    rs.EvaluateConditions(a, met);
    json ids = json::array();
    for (size_t i = 0; i < met.size(); ++i) {
      if (met[i]) ids.push_back(rs.rule_id(i));
    }
    list.push_back({{"name", path.filename().string()},
                    {"facts", Facts(a)},
                    {"met", std::move(ids)}});
  }
  out["examples"] = std::move(list);
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace
}  // namespace reconnect

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: reconnect_cel_js_export RULE_SET_DIR EXAMPLES_DIR\n";
    return 2;
  }
  return reconnect::Run(argv[1], argv[2]);
}
