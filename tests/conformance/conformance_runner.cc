// Runs the CEL conformance suite (exported by export.mjs) against engine/cel
// and enforces a committed baseline of minimum passes per file.
//
//   conformance_runner DATA_DIR BASELINE_JSON REPORT_JSON [--write_baseline]
//
// The test messages and TestAllTypes come from the package's descriptors,
// loaded at run time into a DescriptorPool; nothing is generated or copied.

#include <cmath>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/cel/checker/checker.h"
#include "engine/cel/parser/parser.h"
#include "engine/cel/runtime/internal/fields.h"
#include "engine/cel/runtime/program.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/message_differencer.h"
#include "nlohmann/json.hpp"
#include "re2/re2.h"

namespace reconnect::conformance {
namespace {

using cel::Value;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Files of optional CEL extensions this engine does not offer.
const std::map<std::string, std::string>& SkippedFiles() {
  static const auto* files = new std::map<std::string, std::string>{
      {"string_ext", "strings extension library (not offered)"},
      {"math_ext", "math extension library (not offered)"},
      {"optionals", "optional values extension (not offered)"},
      {"bindings_ext", "cel.bind extension (not offered)"},
      {"block_ext", "cel.block extension (not offered)"},
      {"encoders_ext", "encoders extension library (not offered)"},
  };
  return *files;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reflection helpers by field name, so the runner depends only on the
// descriptors the package ships.
const FieldDescriptor* Field(const Message& m, const char* name) {
  const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr) {
    std::cerr << "conformance data: " << m.GetDescriptor()->full_name()
              << " has no field " << name << "\n";
    std::exit(2);
  }
  return f;
}
bool Has(const Message& m, const char* name) {
  return m.GetReflection()->HasField(m, Field(m, name));
}
std::string Str(const Message& m, const char* name) {
  return m.GetReflection()->GetString(m, Field(m, name));
}
bool Bool(const Message& m, const char* name) {
  return m.GetReflection()->GetBool(m, Field(m, name));
}
const Message& Msg(const Message& m, const char* name) {
  return m.GetReflection()->GetMessage(m, Field(m, name));
}
const FieldDescriptor* SetOneof(const Message& m, const char* oneof) {
  return m.GetReflection()->GetOneofFieldDescriptor(
      m, m.GetDescriptor()->FindOneofByName(oneof));
}

class Runner {
 public:
  explicit Runner(const std::string& data) : factory_(&pool_) {
    google::protobuf::FileDescriptorSet set;
    if (!set.ParseFromString(ReadFile(data + "/descriptors.pb")))
      Fatal("cannot read descriptors.pb");
    for (const auto& file : set.file()) {
      if (pool_.BuildFile(file) == nullptr)
        Fatal("cannot build " + file.name());
    }
    test_file_ =
        pool_.FindMessageTypeByName("cel.expr.conformance.test.SimpleTestFile");
    if (test_file_ == nullptr) Fatal("SimpleTestFile is not in descriptors.pb");
  }

  std::unique_ptr<Message> LoadFile(const std::string& path) {
    std::unique_ptr<Message> m(factory_.GetPrototype(test_file_)->New());
    if (!m->ParseFromString(ReadFile(path))) Fatal("cannot parse " + path);
    return m;
  }

  struct Outcome {
    enum Kind { kPass, kFail, kSkip } kind;
    std::string reason;
  };

  // `strong_enums`: the test is of a strong-enum section, which CEL runs
  // with enum values typed by their enum. `proto_macros`: the test is of
  // the protos extension library's file (proto.getExt, proto.hasExt).
  Outcome Run(const Message& test, bool strong_enums, bool proto_macros) {
    strings_.clear();
    strong_enums_ = strong_enums;
    const FieldDescriptor* matcher = SetOneof(test, "result_matcher");
    if (Bool(test, "check_only")) return RunCheckOnly(test, matcher);
    if (matcher &&
        (matcher->name() == "unknown" || matcher->name() == "any_unknowns")) {
      // None in the pinned suite: `unknowns` is empty upstream too.
      return {Outcome::kSkip,
              "unknown results are sets of expression ids; this engine's "
              "unknowns name fact paths (tests/cel/unknowns_test.cc)"};
    }
    cel::Limits limits;
    limits.parser.proto_extension_macros = proto_macros;
    cel::ExpressionSetBuilder builder(&pool_, Str(test, "container"), limits);
    if (strong_enums) builder.UseStrongEnums();
    std::map<std::string, int> vars;
    if (!DeclareTypeEnv(test, builder, vars))
      return {Outcome::kSkip, "declares custom functions"};
    const Reflection* r = test.GetReflection();
    std::vector<std::pair<int, Value>> bound;
    const FieldDescriptor* bindings = Field(test, "bindings");
    for (int i = 0; i < r->FieldSize(test, bindings); ++i) {
      const Message& entry = r->GetRepeatedMessage(test, bindings, i);
      const std::string name = entry.GetReflection()->GetString(
          entry, entry.GetDescriptor()->map_key());
      const Message& expr_value = entry.GetReflection()->GetMessage(
          entry, entry.GetDescriptor()->map_value());
      if (!Has(expr_value, "value"))
        return {Outcome::kSkip, "binds an error or unknown"};
      std::string error;
      Value v = ConvertValue(Msg(expr_value, "value"), error);
      if (!error.empty()) return {Outcome::kFail, "binding: " + error};
      if (!vars.count(name))
        vars[name] = builder.DeclareVariable(name, cel::Type::Dyn());
      bound.emplace_back(vars[name], std::move(v));
    }
    auto compiled = Bool(test, "disable_check")
                        ? builder.CompileUnchecked(Str(test, "expr"))
                        : builder.Compile(Str(test, "expr"));
    const std::string kind = matcher ? matcher->name() : "value";
    const bool expects_error =
        kind == "eval_error" || kind == "any_eval_errors";
    if (compiled.id < 0) {
      if (expects_error) return {Outcome::kPass, ""};
      return {Outcome::kFail, "compile: " + cel::FormatIssues(compiled.issues)};
    }
    auto set = builder.Build();
    cel::Evaluation ev(*set);
    for (auto& [index, v] : bound) ev.SetVariable(index, v);
    const Value got = ev.Evaluate(compiled.id);
    if (expects_error) {
      if (got.is_error()) return {Outcome::kPass, ""};
      return {Outcome::kFail, "expected an error, got " + Describe(got)};
    }
    if (got.is_error())
      return {Outcome::kFail, "error: " + got.error_message()};
    Value want = Value::Bool(true);
    if (matcher && (kind == "value" || kind == "typed_result")) {
      const Message& expected = kind == "value"
                                    ? Msg(test, "value")
                                    : Msg(Msg(test, "typed_result"), "result");
      std::string error;
      want = ConvertValue(expected, error);
      if (!error.empty()) return {Outcome::kFail, "expected value: " + error};
    }
    if (!StrictEquals(got, want)) {
      return {Outcome::kFail, absl::StrCat("expected ", Describe(want),
                                           ", got ", Describe(got))};
    }
    if (kind == "typed_result" &&
        Has(Msg(test, "typed_result"), "deduced_type")) {
      auto type = ConvertType(Msg(Msg(test, "typed_result"), "deduced_type"));
      if (!type) return {Outcome::kFail, "cannot read the deduced type"};
      if (compiled.type.ToString() != type->ToString()) {
        return {Outcome::kFail,
                absl::StrCat("deduced type ", compiled.type.ToString(),
                             ", expected ", type->ToString())};
      }
    }
    return {Outcome::kPass, ""};
  }

  // A test of the checking suite, against cel-go's deduced type or errors
  // (`want`): the type must match, or the first error's line and column.
  Outcome RunChecking(const Message& test, const nlohmann::json& want) {
    const std::string error = want.value("error", "");
    if (absl::StrContains(test.ShortDebugString(), "google.expr.") ||
        absl::StrContains(error, "google.expr.")) {
      return {Outcome::kSkip,
              "uses cel-go's own test messages (google.expr.*), whose "
              "descriptors the suite does not carry"};
    }
    if (absl::StrContains(error, "unsupported syntax")) {
      return {Outcome::kSkip,
              "cel-go ran this test with optional syntax turned off"};
    }
    if (absl::StrContains(test.ShortDebugString(), "optional_type")) {
      return {Outcome::kSkip,
              "uses the optional values extension, which this engine does "
              "not offer"};
    }
    if (RE2::PartialMatch(error,
                          R"(overload for '_[<>]=?_' applied to )"
                          R"('\((int|uint|double), (int|uint|double)\)')")) {
      return {Outcome::kSkip,
              "cel-go ran this test with cross-type numeric comparisons "
              "turned off; CEL's spec has them (see the comparisons "
              "section), and so does this engine"};
    }
    cel::CheckerEnv env(&pool_, Str(test, "container"));
    std::string why;
    if (!DeclareCheckerEnv(test, env, why)) return {Outcome::kFail, why};
    cel::Source source(Str(test, "expr"));
    cel::ParseResult parsed = cel::Parse(source);
    std::vector<cel::Issue> issues = parsed.issues;
    cel::Type type;
    if (issues.empty()) {
      cel::CheckResult checked = cel::Check(*parsed.expr, source, env);
      issues = std::move(checked.issues);
      type = checked.type;
    }
    if (!error.empty()) {
      int line = 0, column = 0;
      if (!RE2::PartialMatch(error, R"(ERROR: [^:]*:(-?\d+):(\d+):)", &line,
                             &column)) {
        return {Outcome::kFail, "no position in the expected error: " + error};
      }
      if (issues.empty()) {
        return {Outcome::kFail,
                absl::StrCat("expected an error at ", line, ":", column,
                             ", got type ", type.ToString())};
      }
      const cel::SourcePosition got = issues.front().position;
      if (got.line == line && got.column == column) return {Outcome::kPass, ""};
      return {Outcome::kFail,
              absl::StrCat("expected the first error at ", line, ":", column,
                           ", got ", cel::FormatIssues(issues))};
    }
    if (!issues.empty()) {
      bool only_undeclared = true;
      for (const auto& i : issues) {
        only_undeclared = only_undeclared &&
                          absl::StartsWith(i.message, "undeclared reference");
      }
      if (only_undeclared) {
        return {Outcome::kSkip,
                "uses declarations of cel-go's test environment that the "
                "suite does not carry: " +
                    cel::FormatIssues(issues)};
      }
      return {Outcome::kFail, "check: " + cel::FormatIssues(issues)};
    }
    // cel-go writes the null type as `null`.
    std::string expected = want.value("type", "");
    if (expected == "null") expected = "null_type";
    if (type.ToString() == expected) return {Outcome::kPass, ""};
    return {Outcome::kFail, absl::StrCat("deduced type ", type.ToString(),
                                         ", expected ", expected)};
  }

 private:
  [[noreturn]] static void Fatal(const std::string& message) {
    std::cerr << "conformance: " << message << "\n";
    std::exit(2);
  }

  static std::string Describe(const Value& v) {
    return absl::StrCat(std::string(v.TypeName()), " ", v.DebugString());
  }

  // Declares the test's variables in `builder`, recording their indices in
  // `vars`; false when it declares functions, which this engine's runtime
  // does not take (it evaluates the standard library only).
  bool DeclareTypeEnv(const Message& test, cel::ExpressionSetBuilder& builder,
                      std::map<std::string, int>& vars) {
    const Reflection* r = test.GetReflection();
    const FieldDescriptor* env = Field(test, "type_env");
    for (int i = 0; i < r->FieldSize(test, env); ++i) {
      const Message& decl = r->GetRepeatedMessage(test, env, i);
      if (Has(decl, "function")) return false;
      vars[Str(decl, "name")] = builder.DeclareVariable(
          Str(decl, "name"), ConvertType(Msg(Msg(decl, "ident"), "type"))
                                 .value_or(cel::Type::Dyn()));
    }
    return true;
  }

  // Declares the test's variables and functions in a checker environment;
  // false, with `why` set, for a declaration whose types this runner cannot
  // read.
  bool DeclareCheckerEnv(const Message& test, cel::CheckerEnv& env,
                         std::string& why) {
    const Reflection* r = test.GetReflection();
    const FieldDescriptor* field = Field(test, "type_env");
    for (int i = 0; i < r->FieldSize(test, field); ++i) {
      const Message& decl = r->GetRepeatedMessage(test, field, i);
      const std::string name = Str(decl, "name");
      if (!Has(decl, "function")) {
        auto t = ConvertType(Msg(Msg(decl, "ident"), "type"));
        if (!t)
          return (why = "declares " + name + " with an unknown type"), false;
        env.AddVariable(name, *t);
        continue;
      }
      const Message& fn = Msg(decl, "function");
      const FieldDescriptor* overloads = Field(fn, "overloads");
      const Reflection* fr = fn.GetReflection();
      for (int j = 0; j < fr->FieldSize(fn, overloads); ++j) {
        const Message& o = fr->GetRepeatedMessage(fn, overloads, j);
        cel::Overload overload;
        overload.receiver = Bool(o, "is_instance_function");
        const FieldDescriptor* params = Field(o, "params");
        for (int k = 0; k < o.GetReflection()->FieldSize(o, params); ++k) {
          auto t =
              ConvertType(o.GetReflection()->GetRepeatedMessage(o, params, k));
          if (!t)
            return (why = "declares " + name + " with an unknown type"), false;
          overload.params.push_back(*t);
        }
        auto result = ConvertType(Msg(o, "result_type"));
        if (!result)
          return (why = "declares " + name + " with an unknown type"), false;
        overload.result = *result;
        env.AddFunction(name, std::move(overload));
      }
    }
    return true;
  }

  // A check_only test: the expression must type-check to the deduced type.
  Outcome RunCheckOnly(const Message& test, const FieldDescriptor* matcher) {
    if (matcher == nullptr || matcher->name() != "typed_result" ||
        !Has(Msg(test, "typed_result"), "deduced_type")) {
      return {Outcome::kSkip, "check_only without a deduced type"};
    }
    if (absl::StrContains(Str(test, "expr"), "optional.")) {
      return {Outcome::kSkip,
              "uses the optional values extension (optional.of, "
              "optional.none), which this engine does not offer"};
    }
    auto want = ConvertType(Msg(Msg(test, "typed_result"), "deduced_type"));
    if (!want) return {Outcome::kFail, "cannot read the deduced type"};
    cel::CheckerEnv env(&pool_, Str(test, "container"));
    std::string why;
    if (!DeclareCheckerEnv(test, env, why)) return {Outcome::kFail, why};
    cel::Source source(Str(test, "expr"));
    cel::ParseResult parsed = cel::Parse(source);
    if (!parsed.issues.empty())
      return {Outcome::kFail, "parse: " + cel::FormatIssues(parsed.issues)};
    cel::CheckResult checked = cel::Check(*parsed.expr, source, env);
    if (!checked.issues.empty())
      return {Outcome::kFail, "check: " + cel::FormatIssues(checked.issues)};
    const std::string got = checked.type.ToString();
    if (got == want->ToString()) return {Outcome::kPass, ""};
    return {Outcome::kFail, absl::StrCat("deduced type ", got, ", expected ",
                                         want->ToString())};
  }

  // The cel.expr.Type `t` as this checker's type; nullopt for a kind it
  // does not model (function types, errors).
  std::optional<cel::Type> ConvertType(const Message& t) {
    const FieldDescriptor* k = SetOneof(t, "type_kind");
    if (k == nullptr) return std::nullopt;
    const std::string n = k->name();
    const Reflection* r = t.GetReflection();
    if (n == "primitive" || n == "wrapper") {
      std::optional<cel::Type> p;
      switch (r->GetEnumValue(t, k)) {
        case 1:
          p = cel::Type::Bool();
          break;
        case 2:
          p = cel::Type::Int();
          break;
        case 3:
          p = cel::Type::Uint();
          break;
        case 4:
          p = cel::Type::Double();
          break;
        case 5:
          p = cel::Type::String();
          break;
        case 6:
          p = cel::Type::Bytes();
          break;
      }
      if (p && n == "wrapper") return cel::Type::Wrapper(*p);
      return p;
    }
    if (n == "well_known") {
      switch (r->GetEnumValue(t, k)) {
        case 1:
          return cel::Type::Dyn();  // Any: whatever it holds
        case 2:
          return cel::Type::Timestamp();
        case 3:
          return cel::Type::Duration();
      }
      return std::nullopt;
    }
    if (n == "null") return cel::Type::Null();
    if (n == "dyn") return cel::Type::Dyn();
    if (n == "type") return cel::Type::TypeType();
    if (n == "type_param") return cel::Type::TypeParam(r->GetString(t, k));
    if (n == "list_type") {
      auto elem = ConvertType(Msg(Msg(t, "list_type"), "elem_type"));
      if (!elem) return std::nullopt;
      return cel::Type::List(*elem);
    }
    if (n == "map_type") {
      const Message& m = Msg(t, "map_type");
      auto key = ConvertType(Msg(m, "key_type"));
      auto value = ConvertType(Msg(m, "value_type"));
      if (!key || !value) return std::nullopt;
      return cel::Type::Map(*key, *value);
    }
    if (n == "abstract_type") {
      const Message& a = Msg(t, "abstract_type");
      const FieldDescriptor* pf = Field(a, "parameter_types");
      std::vector<cel::Type> params;
      for (int i = 0; i < a.GetReflection()->FieldSize(a, pf); ++i) {
        auto p = ConvertType(a.GetReflection()->GetRepeatedMessage(a, pf, i));
        if (!p) return std::nullopt;
        params.push_back(*p);
      }
      return cel::Type::Abstract(Str(a, "name"), std::move(params));
    }
    if (n == "message_type") {
      if (const Descriptor* d = pool_.FindMessageTypeByName(r->GetString(t, k)))
        return cel::MessageCelType(d);
    }
    return std::nullopt;
  }

  Value ConvertValue(const Message& v, std::string& error) {
    const FieldDescriptor* k = SetOneof(v, "kind");
    if (k == nullptr) {
      error = "empty value";
      return Value::Null();
    }
    const Reflection* r = v.GetReflection();
    const std::string n = k->name();
    if (n == "null_value") return Value::Null();
    if (n == "bool_value") return Value::Bool(r->GetBool(v, k));
    if (n == "int64_value") return Value::Int(r->GetInt64(v, k));
    if (n == "uint64_value") return Value::Uint(r->GetUInt64(v, k));
    if (n == "double_value") return Value::Double(r->GetDouble(v, k));
    if (n == "string_value") return Value::String(r->GetString(v, k));
    if (n == "bytes_value") return Value::Bytes(r->GetString(v, k));
    if (n == "enum_value") {
      const Message& e = r->GetMessage(v, k);
      const int32_t number = e.GetReflection()->GetInt32(e, Field(e, "value"));
      if (!strong_enums_) return Value::Int(number);
      const auto* type = pool_.FindEnumTypeByName(Str(e, "type"));
      if (type == nullptr) {
        error = "unknown enum type " + Str(e, "type");
        return Value::Null();
      }
      return Value::Enum(type, number);
    }
    if (n == "type_value") {
      strings_.push_back(r->GetString(v, k));
      return Value::Type(strings_.back());
    }
    if (n == "list_value") {
      const Message& list = r->GetMessage(v, k);
      const FieldDescriptor* values = Field(list, "values");
      std::vector<Value> out;
      for (int i = 0; i < list.GetReflection()->FieldSize(list, values); ++i) {
        out.push_back(ConvertValue(
            list.GetReflection()->GetRepeatedMessage(list, values, i), error));
      }
      return Value::List(std::move(out));
    }
    if (n == "map_value") {
      const Message& map = r->GetMessage(v, k);
      const FieldDescriptor* entries = Field(map, "entries");
      std::vector<std::pair<Value, Value>> out;
      for (int i = 0; i < map.GetReflection()->FieldSize(map, entries); ++i) {
        const Message& e =
            map.GetReflection()->GetRepeatedMessage(map, entries, i);
        out.emplace_back(ConvertValue(Msg(e, "key"), error),
                         ConvertValue(Msg(e, "value"), error));
      }
      return Value::Map(
          std::make_shared<const cel::VectorMapRep>(std::move(out)));
    }
    if (n == "object_value") {
      const Message& any = r->GetMessage(v, k);
      const std::string url = Str(any, "type_url");
      const Descriptor* d =
          pool_.FindMessageTypeByName(url.substr(url.rfind('/') + 1));
      if (d == nullptr) {
        error = "unknown type " + url;
        return Value::Null();
      }
      std::shared_ptr<Message> m(factory_.GetPrototype(d)->New());
      if (!m->ParseFromString(Str(any, "value"))) {
        error = "cannot parse " + url;
        return Value::Null();
      }
      const Message& ref = *m;
      return cel::runtime_internal::MessageToValue(ref, std::move(m));
    }
    error = "unsupported value kind " + n;
    return Value::Null();
  }

  // Equality that also requires the same kinds (1 and 1u differ here).
  static bool StrictEquals(const Value& a, const Value& b) {
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
      case Value::Kind::kDouble:
        if (std::isnan(a.double_value()) && std::isnan(b.double_value()))
          return true;
        return a.double_value() == b.double_value();
      case Value::Kind::kList:
        if (a.list().size() != b.list().size()) return false;
        for (size_t i = 0; i < a.list().size(); ++i) {
          if (!StrictEquals(a.list().at(i), b.list().at(i))) return false;
        }
        return true;
      case Value::Kind::kMap:
        if (a.map().size() != b.map().size()) return false;
        for (size_t i = 0; i < a.map().size(); ++i) {
          auto other = b.map().Find(a.map().key_at(i));
          if (!other || !StrictEquals(a.map().value_at(i), *other))
            return false;
        }
        return true;
      default:
        return cel::ValueEquals(a, b);
    }
  }

  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
  const Descriptor* test_file_ = nullptr;
  std::deque<std::string> strings_;
  bool strong_enums_ = false;
};

}  // namespace
}  // namespace reconnect::conformance

namespace reconnect::conformance {
namespace {

// The parsing suite: every expression cel-go parsed must parse here; every
// one it refused must be refused here, with the first error at the same
// line and column.
struct ParsingOutcome {
  std::optional<bool> pass;  // nullopt: skipped, for `reason`
  std::string reason;
};

ParsingOutcome RunParsingTest(const nlohmann::json& test) {
  const cel::Source source(test["expr"].get<std::string>());
  const cel::ParseResult parsed = cel::Parse(source);
  if (test["parsed"].get<bool>()) {
    if (parsed.issues.empty()) return {true, ""};
    return {false, "expected to parse: " + cel::FormatIssues(parsed.issues)};
  }
  int line = 0, column = 0;
  const std::string error = test["error"].get<std::string>();
  if (!RE2::PartialMatch(error, R"(ERROR: [^:]*:(-?\d+):(\d+):)", &line,
                         &column)) {
    return {false, "no position in the expected error: " + error};
  }
  if (line < 1) {
    // cel-go refused it under the limits of its parser tests (recursion
    // depth 32), with no position to compare. It passes if this parser
    // refuses it too, with its own limits or with depth 32.
    if (!parsed.issues.empty()) return {true, ""};
    cel::ParserOptions go_limits;
    go_limits.max_depth = 32;
    if (!cel::Parse(source, go_limits).issues.empty()) return {true, ""};
    return {false,
            "cel-go refused this, without a position; it parses here "
            "even with nesting depth 32"};
  }
  if (error.find("unsupported syntax") != std::string::npos) {
    return {std::nullopt,
            "cel-go ran this test with optional or backtick syntax turned "
            "off; the CEL spec has both, so the parser accepts them"};
  }
  if (parsed.issues.empty()) {
    return {false,
            absl::StrCat("expected a parse error at ", line, ":", column)};
  }
  const cel::SourcePosition got = parsed.issues.front().position;
  if (got.line == line && got.column == column) return {true, ""};
  return {false, absl::StrCat("expected the first error at ", line, ":", column,
                              ", got ", cel::FormatIssues(parsed.issues))};
}

}  // namespace
}  // namespace reconnect::conformance

namespace reconnect::conformance {
namespace {

// Counts one file's (or suite's) outcomes into the report and the totals.
struct Tally {
  nlohmann::json& report;
  size_t& total_pass;
  size_t& total_fail;
  size_t& total_skip;
  size_t pass = 0, fail = 0, skip = 0;

  void Add(const std::string& id, Runner::Outcome::Kind kind,
           const std::string& reason) {
    switch (kind) {
      case Runner::Outcome::kPass:
        ++pass;
        break;
      case Runner::Outcome::kFail:
        ++fail;
        report["failures"].push_back({{"test", id}, {"reason", reason}});
        break;
      case Runner::Outcome::kSkip:
        ++skip;
        report["skipped"].push_back({{"test", id}, {"reason", reason}});
        break;
    }
  }

  // Prints the row, records the counts under `name`, and adds the totals.
  void Close(const std::string& name) {
    const size_t run = pass + fail;
    std::printf(
        "%-16s %6zu %6zu %6zu %6.1f%%\n", name.c_str(), pass, fail, skip,
        run ? 100.0 * static_cast<double>(pass) / static_cast<double>(run)
            : 0.0);
    report["files"][name] = {{"pass", pass}, {"fail", fail}, {"skip", skip}};
    total_pass += pass;
    total_fail += fail;
    total_skip += skip;
  }
};

}  // namespace
}  // namespace reconnect::conformance

int main(int argc, char** argv) {
  using reconnect::conformance::Runner;
  using reconnect::conformance::Tally;
  if (argc < 4) {
    std::cerr << "usage: conformance_runner DATA_DIR BASELINE_JSON REPORT_JSON "
                 "[--write_baseline]\n";
    return 2;
  }
  const std::string data = argv[1], baseline_path = argv[2],
                    report_path = argv[3];
  const bool write_baseline =
      argc > 4 && std::string(argv[4]) == "--write_baseline";
  Runner runner(data);
  nlohmann::json report = {{"files", nlohmann::json::object()},
                           {"skipped", nlohmann::json::array()},
                           {"failures", nlohmann::json::array()}};
  std::ifstream names(data + "/files.txt");
  std::string name;
  size_t total_pass = 0, total_fail = 0, total_skip = 0;
  std::printf("%-16s %6s %6s %6s %7s\n", "file", "pass", "fail", "skip",
              "pass%");
  while (std::getline(names, name)) {
    if (name.empty()) continue;
    auto file = runner.LoadFile(data + "/" + name + ".pb");
    const auto* sections = file->GetDescriptor()->FindFieldByName("section");
    const auto& skipped = reconnect::conformance::SkippedFiles();
    Tally tally{report, total_pass, total_fail, total_skip};
    for (int s = 0; s < file->GetReflection()->FieldSize(*file, sections);
         ++s) {
      const auto& section =
          file->GetReflection()->GetRepeatedMessage(*file, sections, s);
      const auto* tests = section.GetDescriptor()->FindFieldByName("test");
      const std::string section_name = section.GetReflection()->GetString(
          section, section.GetDescriptor()->FindFieldByName("name"));
      for (int t = 0; t < section.GetReflection()->FieldSize(section, tests);
           ++t) {
        const auto& test =
            section.GetReflection()->GetRepeatedMessage(section, tests, t);
        const std::string id = absl::StrCat(
            name, "/", section_name, "/",
            test.GetReflection()->GetString(
                test, test.GetDescriptor()->FindFieldByName("name")));
        Runner::Outcome o;
        if (auto it = skipped.find(name); it != skipped.end()) {
          o = {Runner::Outcome::kSkip, it->second};
        } else {
          o = runner.Run(
              test,
              name == "enums" && absl::StartsWith(section_name, "strong_"),
              name == "proto2_ext");
        }
        tally.Add(id, o.kind, o.reason);
      }
    }
    tally.Close(name);
  }
  if (std::ifstream parsing_file(data + "/parsing.json"); parsing_file) {
    const auto tests = nlohmann::json::parse(parsing_file, nullptr, false);
    Tally tally{report, total_pass, total_fail, total_skip};
    for (const auto& test : tests) {
      const auto o = reconnect::conformance::RunParsingTest(test);
      tally.Add("parsing_suite/" + test["name"].get<std::string>(),
                !o.pass.has_value() ? Runner::Outcome::kSkip
                : *o.pass           ? Runner::Outcome::kPass
                                    : Runner::Outcome::kFail,
                o.reason);
    }
    tally.Close("parsing_suite");
  }
  if (std::ifstream expected_file(data + "/checking.json"); expected_file) {
    const auto expected = nlohmann::json::parse(expected_file, nullptr, false);
    auto file = runner.LoadFile(data + "/checking.pb");
    const auto* sections = file->GetDescriptor()->FindFieldByName("section");
    const auto& section =
        file->GetReflection()->GetRepeatedMessage(*file, sections, 0);
    const auto* tests = section.GetDescriptor()->FindFieldByName("test");
    const int n = section.GetReflection()->FieldSize(section, tests);
    if (!expected.is_array() || expected.size() != static_cast<size_t>(n)) {
      std::cerr << "conformance: checking.json does not match checking.pb\n";
      return 2;
    }
    Tally tally{report, total_pass, total_fail, total_skip};
    for (int t = 0; t < n; ++t) {
      const auto o = runner.RunChecking(
          section.GetReflection()->GetRepeatedMessage(section, tests, t),
          expected[t]);
      const std::string id =
          "checking_suite/" + expected[t].value("name", std::to_string(t));
      tally.Add(id, o.kind, o.reason);
    }
    tally.Close("checking_suite");
  }
  std::ofstream(report_path) << report.dump(1) << "\n";
  std::cout << "report: " << report_path
            << " (every failure and skip, with its reason)\n";

  if (write_baseline) {
    nlohmann::json baseline = nlohmann::json::object();
    for (auto& [file, counts] : report["files"].items())
      baseline[file] = counts["pass"];
    std::ofstream(baseline_path) << baseline.dump(1) << "\n";
    std::cout << "baseline written: " << baseline_path << "\n";
  }
  // Correctness only ratchets up: no file may pass fewer tests than its
  // committed baseline.
  const auto baseline =
      nlohmann::json::parse(std::ifstream(baseline_path), nullptr, false);
  if (!baseline.is_object()) {
    std::cerr << baseline_path
              << ": not a JSON object of minimum passes per file\n";
    return 2;
  }
  int regressions = 0;
  for (auto& [file, min] : baseline.items()) {
    const size_t got = report["files"].contains(file)
                           ? report["files"][file]["pass"].get<size_t>()
                           : 0;
    if (got < min.get<size_t>()) {
      std::cout << "REGRESSION " << file << ": " << got << " passed, baseline "
                << min << "\n";
      ++regressions;
    }
  }
  std::cout << "conformance: " << total_pass << " passed, " << total_fail
            << " failed, " << total_skip << " skipped; " << regressions
            << " file(s) below baseline\n";
  return regressions == 0 ? 0 : 1;
}
