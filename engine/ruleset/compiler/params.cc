// The params stage: params.json, named and typed constants.

#include "absl/strings/str_cat.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/issue_codes.h"
#include "re2/re2.h"

namespace reconnect::ruleset::ruleset_internal {

using nlohmann::json;

void RuleSetCompiler::ReadParams(const SourceFile& f) {
  if (!f.root.is_object()) {
    issues_.push_back(
        f.IssueAt(issue_codes::kMissingOrWrongShape, 0, "",
                  "params must be a JSON object of named parameters"));
    return;
  }
  for (const auto& [name, spec] : f.root.items()) {
    const size_t at = f.FindString(name);
    ObjectReader r(f, spec, absl::StrCat("param '", name, "'"), "", at,
                   issues_);
    if (!r.ok()) continue;
    r.RejectUnknownKeys({"type", "value", "doc", "unit", "source"});
    if (!RE2::FullMatch(name, "[a-z_][a-z0-9_]*")) {
      r.Error(issue_codes::kBadName,
              absl::StrCat("param name '", name, "' must be lower_snake_case"),
              at);
    }
    if (r.String("doc", true).empty()) {
      DeclarePoisoned(absl::StrCat("params.", name));
      continue;
    }
    const std::string type = r.String("type", true);
    const json* v = r.Member("value");
    if (v == nullptr) {
      r.Error(issue_codes::kMissingOrWrongShape,
              absl::StrCat("param '", name, "': \"value\" is required"));
      DeclarePoisoned(absl::StrCat("params.", name));
      continue;
    }
    std::optional<std::pair<cel::Value, cel::Type>> value =
        ParamValue(type, *v);
    if (!value) {
      r.Error(
          issue_codes::kParamValue,
          absl::StrCat(
              "param '", name, "': value ", v->dump(), " is not of type '",
              type, "' (int, double, string, bool, list(int), list(string))"),
          r.KeyOffset("value"));
      DeclarePoisoned(absl::StrCat("params.", name));
      continue;
    }
    builder_->DeclareConstant(absl::StrCat("params.", name),
                              std::move(value->first),
                              std::move(value->second));
  }
}

std::optional<std::pair<cel::Value, cel::Type>> RuleSetCompiler::ParamValue(
    const std::string& type, const json& v) {
  if (type == "int" && v.is_number_integer()) {
    return std::pair{cel::Value::Int(v.get<int64_t>()), cel::Type::Int()};
  }
  if (type == "double" && v.is_number()) {
    return std::pair{cel::Value::Double(v.get<double>()), cel::Type::Double()};
  }
  if (type == "string" && v.is_string()) {
    return std::pair{cel::Value::String(v.get<std::string>()),
                     cel::Type::String()};
  }
  if (type == "bool" && v.is_boolean()) {
    return std::pair{cel::Value::Bool(v.get<bool>()), cel::Type::Bool()};
  }
  if ((type == "list(int)" || type == "list(string)") && v.is_array()) {
    const bool ints = type == "list(int)";
    std::vector<cel::Value> elems;
    for (const auto& e : v) {
      if (ints && !e.is_number_integer()) return std::nullopt;
      if (!ints && !e.is_string()) return std::nullopt;
      elems.push_back(ints ? cel::Value::Int(e.get<int64_t>())
                           : cel::Value::String(e.get<std::string>()));
    }
    return std::pair{
        cel::Value::List(std::move(elems)),
        cel::Type::List(ints ? cel::Type::Int() : cel::Type::String())};
  }
  return std::nullopt;
}

}  // namespace reconnect::ruleset::ruleset_internal
