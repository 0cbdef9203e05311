// Loads a rule-set directory and compiles it: metadata, params, defs,
// catalog and rules, in that order, collecting every issue on the way.

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/cel/parser/parser.h"
#include "engine/cel/runtime/program.h"
#include "engine/ruleset/internal/compiled.h"
#include "engine/ruleset/internal/digest.h"
#include "engine/ruleset/internal/json_reader.h"
#include "engine/ruleset/internal/source_file.h"
#include "engine/ruleset/rule_set.h"
#include "google/protobuf/descriptor.h"
#include "re2/re2.h"

namespace reconnect::ruleset {

using nlohmann::json;
using ruleset_internal::CatalogItem;
using ruleset_internal::CompiledRule;
using ruleset_internal::CompiledRuleSetImpl;
using ruleset_internal::kItemKinds;
using ruleset_internal::kKindKeys;
using ruleset_internal::ObjectReader;
using ruleset_internal::ReadJsonFile;
using ruleset_internal::SourceFile;
using ruleset_internal::TemplatePart;

std::string RuleSetIssue::ToString() const {
  std::string out = file;
  if (line > 0) absl::StrAppend(&out, ":", line, ":", column);
  absl::StrAppend(&out, ": ");
  if (!rule_id.empty()) absl::StrAppend(&out, "rule '", rule_id, "': ");
  absl::StrAppend(&out, message);
  return out;
}

namespace {

constexpr char kMetadataFile[] = "ruleset.json";
constexpr char kParamsFile[] = "params.json";
constexpr char kDefsFile[] = "defs.json";
constexpr char kCatalogFile[] = "catalog.json";
constexpr char kRulesDir[] = "rules";

// Collects the names of `defs.NAME` references in a parsed expression.
void CollectDefReferences(const cel::Expr& e, std::set<std::string>& out) {
  if (e.kind == cel::ExprKind::kSelect && e.operand &&
      e.operand->kind == cel::ExprKind::kIdent && e.operand->name == "defs") {
    out.insert(e.name);
  }
  if (e.operand) CollectDefReferences(*e.operand, out);
  if (e.range) CollectDefReferences(*e.range, out);
  for (const auto& a : e.args) CollectDefReferences(*a, out);
  for (const auto& en : e.entries) {
    if (en.key) CollectDefReferences(*en.key, out);
    if (en.value) CollectDefReferences(*en.value, out);
  }
}

std::vector<std::string> ListRuleFiles(const std::filesystem::path& dir,
                                       std::vector<RuleSetIssue>& issues) {
  std::vector<std::string> files;
  std::error_code ec;
  const auto rules_dir = dir / kRulesDir;
  if (!std::filesystem::is_directory(rules_dir, ec)) {
    issues.push_back({kRulesDir, 0, 0, "", "the rules directory is missing"});
    return files;
  }
  for (const auto& entry : std::filesystem::directory_iterator(rules_dir, ec)) {
    if (entry.path().extension() == ".json") {
      files.push_back(
          absl::StrCat(kRulesDir, "/", entry.path().filename().string()));
    }
  }
  if (ec)
    issues.push_back(
        {kRulesDir, 0, 0, "", absl::StrCat("cannot list: ", ec.message())});
  std::sort(files.begin(), files.end());
  return files;
}

class RuleSetCompiler {
 public:
  RuleSetCompiler(std::filesystem::path dir, const LoadOptions& options)
      : dir_(std::move(dir)),
        options_(options),
        out_(std::make_unique<CompiledRuleSetImpl>()) {}

  // An expression compiled after the rule set's own, for EvaluateExpression.
  struct Extra {
    const std::string* text = nullptr;
    const std::vector<std::pair<std::string, cel::Value>>* variables = nullptr;
    std::vector<int> variable_indices;
    cel::ExpressionSetBuilder::Compiled compiled;
  };

  LoadResult Run(Extra* extra = nullptr) {
    LoadResult result;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir_, ec)) {
      result.issues.push_back(
          {dir_.string(), 0, 0, "", "not a rule-set directory"});
      return result;
    }
    auto meta =
        ReadJsonFile(dir_, kMetadataFile, options_.max_file_bytes, issues_);
    auto catalog =
        ReadJsonFile(dir_, kCatalogFile, options_.max_file_bytes, issues_);
    std::optional<SourceFile> params, defs;
    if (std::filesystem::exists(dir_ / kParamsFile)) {
      params =
          ReadJsonFile(dir_, kParamsFile, options_.max_file_bytes, issues_);
    }
    if (std::filesystem::exists(dir_ / kDefsFile)) {
      defs = ReadJsonFile(dir_, kDefsFile, options_.max_file_bytes, issues_);
    }
    std::vector<SourceFile> rule_files;
    for (const std::string& rel : ListRuleFiles(dir_, issues_)) {
      if (auto f = ReadJsonFile(dir_, rel, options_.max_file_bytes, issues_)) {
        rule_files.push_back(std::move(*f));
      }
    }
    if (!meta || !catalog) {
      result.issues = std::move(issues_);
      return result;
    }
    if (!ReadMetadata(*meta)) {
      result.issues = std::move(issues_);
      return result;
    }
    if (params) ReadParams(*params);
    if (defs) ReadDefs(*defs);
    ReadCatalog(*catalog);
    ReadTeam(*meta);
    for (const SourceFile& f : rule_files) ReadRules(f);
    if (!issues_.empty()) {
      result.issues = std::move(issues_);
      return result;
    }
    if (extra != nullptr) {
      for (const auto& [name, value] : *extra->variables) {
        extra->variable_indices.push_back(
            builder_->DeclareVariable(name, cel::Type::Dyn()));
      }
      extra->compiled = builder_->Compile(*extra->text);
    }
    std::stable_sort(out_->rules_.begin(), out_->rules_.end(),
                     [](const CompiledRule& a, const CompiledRule& b) {
                       return a.priority > b.priority;
                     });
    json canonical = json::object();
    canonical["ruleset"] = meta->root;
    canonical["catalog"] = catalog->root;
    canonical["params"] = params ? params->root : json::object();
    canonical["defs"] = defs ? defs->root : json::object();
    json rules = json::object();
    for (const SourceFile& f : rule_files) rules[f.relative_path] = f.root;
    canonical["rules"] = std::move(rules);
    out_->canonical_ =
        canonical.dump(-1, ' ', false, json::error_handler_t::replace);
    out_->digest_ = ruleset_internal::Sha256Hex(out_->canonical_);
    out_->expressions_ = builder_->Build();
    result.rule_set = std::move(out_);
    return result;
  }

 private:
  bool ReadMetadata(const SourceFile& f) {
    ObjectReader r(f, f.root, "rule-set metadata", "", 0, issues_);
    if (!r.ok()) return false;
    r.RejectUnknownKeys({"id", "version", "status", "effective_date", "title",
                         "description", "authors", "approvers", "changelog",
                         "input", "container", "team", "gap_suggestion",
                         "summary_labels"});
    RuleSetMetadata& m = out_->metadata_;
    m.id = r.String("id", true);
    m.version = r.String("version", true);
    m.status = r.String("status", true);
    m.effective_date = r.String("effective_date", false);
    m.title = r.String("title", false);
    m.authors = r.StringList("authors");
    m.approvers = r.StringList("approvers");
    if (!m.id.empty() && !RE2::FullMatch(m.id, "[a-z][a-z0-9_.-]{0,63}")) {
      r.Error("\"id\" must be lower-case letters, digits, '_', '.' or '-'",
              f.FindString(m.id));
    }
    if (!m.version.empty() &&
        !RE2::FullMatch(
            m.version,
            R"((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?)")) {
      r.Error("\"version\" must be a semantic version such as 1.2.0",
              f.FindString(m.version));
    }
    if (!m.status.empty() && m.status != "draft" && m.status != "active" &&
        m.status != "retired") {
      r.Error("\"status\" must be draft, active or retired",
              f.FindString(m.status));
    }
    out_->gap_suggestion_ = r.String("gap_suggestion", true);
    if (const json* labels = r.Member("summary_labels")) {
      ObjectReader lr(f, *labels, "summary_labels", "",
                      r.KeyOffset("summary_labels"), issues_);
      lr.RejectUnknownKeys(
          {"alerts", "components", "prompts", "gaps", "held", "empty"});
      auto& l = out_->labels_;
      for (auto [key, dest] : {std::pair{"alerts", &l.alerts},
                               {"components", &l.components},
                               {"prompts", &l.prompts},
                               {"gaps", &l.gaps},
                               {"held", &l.held},
                               {"empty", &l.empty}}) {
        if (std::string s = lr.String(key, false); !s.empty()) *dest = s;
      }
    }
    const json* input = r.Member("input");
    if (input == nullptr) {
      r.Error(
          "rule-set metadata: \"input\" is required ({\"name\": ..., \"type\": "
          "...})");
      return false;
    }
    ObjectReader ir(f, *input, "input", "", r.KeyOffset("input"), issues_);
    ir.RejectUnknownKeys({"name", "type"});
    input_name_ = ir.String("name", true);
    const std::string type = ir.String("type", true);
    const google::protobuf::Descriptor* d =
        google::protobuf::DescriptorPool::generated_pool()
            ->FindMessageTypeByName(type);
    if (!type.empty() && d == nullptr) {
      ir.Error(
          absl::StrCat("input type '", type, "' is not a known message type"),
          f.FindString(type));
    }
    if (d == nullptr || input_name_.empty()) return false;
    out_->input_type_ = type;
    builder_ = std::make_unique<cel::ExpressionSetBuilder>(
        google::protobuf::DescriptorPool::generated_pool(),
        r.String("container", false), options_.limits);
    out_->input_index_ = builder_->DeclareInput(input_name_, d);
    return issues_.empty();
  }

  void ReadTeam(const SourceFile& f) {
    ObjectReader r(f, f.root, "rule-set metadata", "", 0, issues_);
    std::vector<size_t> lines;
    auto text = r.Expression("team", false, lines);
    if (!text) return;
    auto c = CompileExpression(f, "", "team", *text, lines);
    if (c.id < 0) return;
    if (!cel::Type::List(cel::Type::String()).IsAssignableFrom(c.type)) {
      r.Error(
          absl::StrCat(
              "\"team\" must be a list(string) of discipline codes, found '",
              c.type.ToString(), "'"),
          r.KeyOffset("team"));
      return;
    }
    out_->team_expression_ = c.id;
    out_->team_path_ = text->rfind(input_name_ + ".", 0) == 0
                           ? text->substr(input_name_.size() + 1)
                           : *text;
  }

  void ReadParams(const SourceFile& f) {
    if (!f.root.is_object()) {
      issues_.push_back(
          f.IssueAt(0, "", "params must be a JSON object of named parameters"));
      return;
    }
    for (const auto& [name, spec] : f.root.items()) {
      const size_t at = f.FindString(name);
      ObjectReader r(f, spec, absl::StrCat("param '", name, "'"), "", at,
                     issues_);
      if (!r.ok()) continue;
      r.RejectUnknownKeys({"type", "value", "doc", "unit", "source"});
      if (!RE2::FullMatch(name, "[a-z_][a-z0-9_]*")) {
        r.Error(
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
        r.Error(absl::StrCat("param '", name, "': \"value\" is required"));
        DeclarePoisoned(absl::StrCat("params.", name));
        continue;
      }
      std::optional<std::pair<cel::Value, cel::Type>> value =
          ParamValue(type, *v);
      if (!value) {
        r.Error(
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

  static std::optional<std::pair<cel::Value, cel::Type>> ParamValue(
      const std::string& type, const json& v) {
    if (type == "int" && v.is_number_integer()) {
      return std::pair{cel::Value::Int(v.get<int64_t>()), cel::Type::Int()};
    }
    if (type == "double" && v.is_number()) {
      return std::pair{cel::Value::Double(v.get<double>()),
                       cel::Type::Double()};
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

  void ReadDefs(const SourceFile& f) {
    if (!f.root.is_object()) {
      issues_.push_back(
          f.IssueAt(0, "", "defs must be a JSON object of named expressions"));
      return;
    }
    struct Def {
      std::string name;
      std::string text;
      std::vector<size_t> lines;
      std::set<std::string> deps;
    };
    std::map<std::string, Def> defs;
    for (const auto& [name, spec] : f.root.items()) {
      const size_t at = f.FindString(name);
      ObjectReader r(f, spec, absl::StrCat("def '", name, "'"), "", at,
                     issues_);
      if (!r.ok()) continue;
      r.RejectUnknownKeys({"expr", "doc"});
      if (!RE2::FullMatch(name, "[a-z_][a-z0-9_]*")) {
        r.Error(absl::StrCat("def name '", name, "' must be lower_snake_case"),
                at);
      }
      r.String("doc", true);
      Def d;
      d.name = name;
      auto text = r.Expression("expr", true, d.lines);
      if (!text) continue;
      d.text = *text;
      cel::Source src(d.text);
      cel::ParseResult parsed = cel::Parse(src, options_.limits.parser);
      if (!parsed.issues.empty()) {
        ReportExpressionIssues(f, "", absl::StrCat("def '", name, "'"), d.lines,
                               parsed.issues);
        DeclarePoisoned(absl::StrCat("defs.", name));
        continue;
      }
      CollectDefReferences(*parsed.expr, d.deps);
      defs.emplace(name, std::move(d));
    }
    // Compile in dependency order; a cycle is an issue naming its members.
    std::map<std::string, int> state;  // 0 new, 1 visiting, 2 done
    std::function<void(const std::string&, std::vector<std::string>&)> visit =
        [&](const std::string& name, std::vector<std::string>& path) {
          auto it = defs.find(name);
          if (it == defs.end() || state[name] == 2) return;
          if (state[name] == 1) {
            path.push_back(name);
            issues_.push_back(
                f.IssueAt(f.FindString(name), "",
                          absl::StrCat("defs form a cycle: ",
                                       absl::StrJoin(path, " -> "))));
            path.pop_back();
            state[name] = 2;
            DeclarePoisoned(absl::StrCat("defs.", name));
            return;
          }
          state[name] = 1;
          path.push_back(name);
          for (const std::string& dep : it->second.deps) visit(dep, path);
          path.pop_back();
          if (state[name] == 2) return;  // part of a reported cycle
          state[name] = 2;
          const Def& d = it->second;
          auto c = CompileExpression(f, "", absl::StrCat("def '", name, "'"),
                                     d.text, d.lines);
          if (c.id >= 0) {
            builder_->DeclareDefinition(absl::StrCat("defs.", name), c);
          } else {
            DeclarePoisoned(absl::StrCat("defs.", name));
          }
        };
    for (const auto& [name, unused] : defs) {
      std::vector<std::string> path;
      visit(name, path);
    }
  }

  void ReadCatalog(const SourceFile& f) {
    ObjectReader r(f, f.root, "catalog", "", 0, issues_);
    if (!r.ok()) return;
    r.RejectUnknownKeys({"components", "techniques", "disciplines", "prompts",
                         "alerts", "considerations"});
    auto each = [&](const char* key, auto&& fn) {
      const json* list = r.Member(key);
      if (list == nullptr) return;
      if (!list->is_array()) {
        r.Error(absl::StrCat("catalog: \"", key, "\" must be a list"),
                r.KeyOffset(key));
        return;
      }
      ruleset_internal::ListEntryLocator locate(f, r.KeyOffset(key));
      for (const json& e : *list) {
        const auto [code, at] = locate.Next(e, "code");
        ObjectReader er(f, e,
                        absl::StrCat("catalog ", key, " entry '", code, "'"),
                        "", at, issues_);
        if (!er.ok()) continue;
        if (code.empty()) {
          er.Error(
              absl::StrCat("catalog ", key, ": every entry needs a \"code\""));
          continue;
        }
        if (!RE2::FullMatch(code, "[a-z][a-z0-9_]*")) {
          er.Error(absl::StrCat("code '", code, "' must be lower_snake_case"),
                   at);
        }
        fn(er, code);
      }
    };
    absl::flat_hash_map<std::string, int> component_index;
    each("components", [&](ObjectReader& er, const std::string& code) {
      er.RejectUnknownKeys({"code", "display", "description"});
      if (!component_index
               .try_emplace(code, static_cast<int>(out_->components_.size()))
               .second) {
        er.Error(absl::StrCat("duplicate component code '", code, "'"));
      }
      out_->components_.push_back({code, er.String("display", true)});
      er.String("description", false);
    });
    auto add_item = [&](int kind, ObjectReader& er,
                        const std::string& code) -> CatalogItem* {
      if (!codes_[kind]
               .try_emplace(code, static_cast<int>(out_->catalog_[kind].size()))
               .second) {
        er.Error(
            absl::StrCat("duplicate ", kKindKeys[kind], " code '", code, "'"));
        return nullptr;
      }
      CatalogItem& item = out_->catalog_[kind].emplace_back();
      item.code = code;
      item.tags = er.StringList("tags");
      return &item;
    };
    using namespace ruleset_internal;
    each("disciplines", [&](ObjectReader& er, const std::string& code) {
      er.RejectUnknownKeys({"code", "display", "tags"});
      if (CatalogItem* item = add_item(kDiscipline, er, code)) {
        item->display = er.String("display", true);
      }
    });
    each("techniques", [&](ObjectReader& er, const std::string& code) {
      er.RejectUnknownKeys({"code", "display", "description", "component",
                            "disciplines", "tags"});
      CatalogItem* item = add_item(kTechnique, er, code);
      if (item == nullptr) return;
      item->display = er.String("display", true);
      item->text = er.String("description", false);
      const std::string component = er.String("component", true);
      if (auto it = component_index.find(component);
          it != component_index.end()) {
        item->component = it->second;
      } else if (!component.empty()) {
        er.Error(absl::StrCat("technique '", code, "': unknown component '",
                              component, "'"),
                 er.KeyOffset("component"));
      }
      for (const std::string& d : er.StringList("disciplines")) {
        if (auto it = codes_[kDiscipline].find(d);
            it != codes_[kDiscipline].end()) {
          item->disciplines.push_back(it->second);
        } else {
          er.Error(absl::StrCat("technique '", code, "': unknown discipline '",
                                d, "'"),
                   er.KeyOffset("disciplines"));
        }
      }
      if (item->disciplines.empty()) {
        er.Error(absl::StrCat(
            "technique '", code,
            "': the skills mapping needs at least one discipline"));
      }
    });
    each("prompts", [&](ObjectReader& er, const std::string& code) {
      er.RejectUnknownKeys({"code", "text", "audience", "tags"});
      CatalogItem* item = add_item(kPrompt, er, code);
      if (item == nullptr) return;
      item->text = er.String("text", true);
      const std::string audience = er.String("audience", true);
      static const std::map<std::string, int> kAudiences = {
          {"clinician", v1::AUDIENCE_CLINICIAN},
          {"patient", v1::AUDIENCE_PATIENT},
          {"partner", v1::AUDIENCE_PARTNER},
          {"team", v1::AUDIENCE_TEAM}};
      if (auto it = kAudiences.find(audience); it != kAudiences.end()) {
        item->audience = it->second;
      } else if (!audience.empty()) {
        er.Error("\"audience\" must be clinician, patient, partner or team",
                 er.KeyOffset("audience"));
      }
    });
    each("alerts", [&](ObjectReader& er, const std::string& code) {
      er.RejectUnknownKeys({"code", "title", "text", "severity", "tags"});
      CatalogItem* item = add_item(kAlert, er, code);
      if (item == nullptr) return;
      item->display = er.String("title", true);
      item->text = er.String("text", true);
      const std::string severity = er.String("severity", true);
      static const std::map<std::string, int> kSeverities = {
          {"info", v1::SEVERITY_INFO},
          {"warning", v1::SEVERITY_WARNING},
          {"critical", v1::SEVERITY_CRITICAL}};
      if (auto it = kSeverities.find(severity); it != kSeverities.end()) {
        item->severity = it->second;
      } else if (!severity.empty()) {
        er.Error("\"severity\" must be info, warning or critical",
                 er.KeyOffset("severity"));
      }
    });
    each("considerations", [&](ObjectReader& er, const std::string& code) {
      er.RejectUnknownKeys({"code", "text", "tags"});
      if (CatalogItem* item = add_item(kConsideration, er, code)) {
        item->text = er.String("text", true);
      }
    });
  }

  void ReadRules(const SourceFile& f) {
    ObjectReader fr(f, f.root, "rule file", "", 0, issues_);
    if (!fr.ok()) return;
    fr.RejectUnknownKeys({"rules", "description"});
    const json* rules = fr.Member("rules");
    if (rules == nullptr || !rules->is_array()) {
      fr.Error("a rule file must hold {\"rules\": [ ... ]}");
      return;
    }
    ruleset_internal::ListEntryLocator locate(f, 0);
    for (const json& rj : *rules) {
      const auto [id, at] = locate.Next(rj, "id");
      ObjectReader r(f, rj, "rule", id, at, issues_);
      if (!r.ok()) continue;
      if (id.empty()) {
        r.Error("every rule needs a string \"id\"");
        continue;
      }
      if (!RE2::FullMatch(id, "[a-z][a-z0-9_.-]*")) {
        r.Error("rule id must be lower-case letters, digits, '_', '.' or '-'",
                at);
      }
      if (!rule_ids_.insert(id).second) {
        r.Error(absl::StrCat("duplicate rule id '", id, "'"), at);
        continue;
      }
      r.RejectUnknownKeys({"id", "title", "when", "priority", "recommend",
                           "suppress", "rationale", "source"});
      CompiledRule rule;
      rule.id = id;
      rule.title = r.String("title", true);
      rule.source = r.String("source", true);
      rule.priority = static_cast<int>(r.Int("priority", 0));
      std::vector<size_t> lines;
      if (auto when = r.Expression("when", true, lines)) {
        auto c = CompileExpression(f, id, "when", *when, lines);
        if (c.id >= 0) {
          if (!cel::Type::Bool().IsAssignableFrom(c.type)) {
            r.Error(absl::StrCat("\"when\" must be a bool expression, found '",
                                 c.type.ToString(), "'"),
                    r.KeyOffset("when"));
          }
          rule.when = c.id;
          AddFacts(rule.facts, c.facts);
        }
      }
      ReadRationale(f, r, rule);
      ReadItems(f, r, "recommend", rule, /*suppress=*/false);
      ReadItems(f, r, "suppress", rule, /*suppress=*/true);
      if (!r.Member("recommend") && !r.Member("suppress")) {
        r.Error("a rule must recommend or suppress something");
      }
      out_->rules_.push_back(std::move(rule));
    }
  }

  // Declares a name whose definition is broken (already reported), so that
  // expressions using it are still checked without a cascade of
  // "undeclared reference" issues. The rule set will not load anyway.
  void DeclarePoisoned(const std::string& name) {
    builder_->DeclareConstant(
        name, cel::Value::Error(absl::StrCat(name, " is invalid")),
        cel::Type::Dyn());
  }

  static void AddFacts(std::vector<int>& into, const std::vector<int>& facts) {
    for (int f : facts) {
      if (std::find(into.begin(), into.end(), f) == into.end())
        into.push_back(f);
    }
  }

  void ReadRationale(const SourceFile& f, ObjectReader& r, CompiledRule& rule) {
    const std::string tmpl = r.String("rationale", true);
    const size_t at = r.KeyOffset("rationale");
    size_t pos = 0;
    while (pos < tmpl.size()) {
      const size_t open = tmpl.find("{{", pos);
      if (open == std::string::npos) {
        rule.rationale.push_back({tmpl.substr(pos), -1});
        break;
      }
      if (open > pos)
        rule.rationale.push_back({tmpl.substr(pos, open - pos), -1});
      const size_t close = tmpl.find("}}", open + 2);
      if (close == std::string::npos) {
        r.Error("rationale: '{{' without a closing '}}'", at);
        return;
      }
      const std::string expr = tmpl.substr(open + 2, close - open - 2);
      auto c = builder_->Compile(expr);
      if (c.id < 0) {
        for (const cel::Issue& i : c.issues) {
          r.Error(absl::StrCat("rationale expression {{", expr,
                               "}}: ", i.ToString()),
                  at);
        }
      } else {
        // The template's expressions have no position of their own in the
        // file; their errors point at the "rationale" key.
        const auto [line, column] = f.LineColumn(at);
        for (const auto& site : c.sites) {
          SetErrorLocation(site.first, f, line, column);
        }
        rule.rationale.push_back({"", c.id});
        AddFacts(rule.facts, c.facts);
      }
      pos = close + 2;
    }
  }

  void ReadItems(const SourceFile& f, ObjectReader& r, const char* key,
                 CompiledRule& rule, bool suppress) {
    const json* obj = r.Member(key);
    if (obj == nullptr) return;
    ObjectReader ir(f, *obj, absl::StrCat("\"", key, "\""), rule.id,
                    r.KeyOffset(key), issues_);
    if (!ir.ok()) return;
    ir.RejectUnknownKeys(
        {kKindKeys[0], kKindKeys[1], kKindKeys[2], kKindKeys[3], kKindKeys[4]});
    for (int kind = 0; kind < kItemKinds; ++kind) {
      const auto& catalog = out_->catalog_[kind];
      std::vector<bool> mask(catalog.size(), false);
      for (const std::string& code : ir.StringList(kKindKeys[kind])) {
        const size_t at = f.FindString(code, ir.anchor());
        if (suppress && code == "*") {
          mask.assign(catalog.size(), true);
        } else if (suppress && code.rfind("tag:", 0) == 0) {
          const std::string tag = code.substr(4);
          bool any = false;
          for (size_t i = 0; i < catalog.size(); ++i) {
            if (std::find(catalog[i].tags.begin(), catalog[i].tags.end(),
                          tag) != catalog[i].tags.end()) {
              mask[i] = any = true;
            }
          }
          if (!any)
            ir.Error(
                absl::StrCat("no ", kKindKeys[kind], " carry tag '", tag, "'"),
                at);
        } else if (auto it = codes_[kind].find(code);
                   it != codes_[kind].end()) {
          if (suppress) {
            mask[it->second] = true;
          } else {
            rule.recommend[kind].push_back(it->second);
          }
        } else {
          ir.Error(
              absl::StrCat("unknown ", kKindKeys[kind], " code '", code, "'"),
              at);
        }
      }
      if (suppress && std::find(mask.begin(), mask.end(), true) != mask.end()) {
        rule.suppress[kind] = std::move(mask);
        rule.suppresses_anything = true;
      }
    }
  }

  cel::ExpressionSetBuilder::Compiled CompileExpression(
      const SourceFile& f, const std::string& rule_id,
      const std::string& context, const std::string& text,
      const std::vector<size_t>& lines) {
    auto c = builder_->Compile(text);
    if (c.id < 0) {
      ReportExpressionIssues(f, rule_id, context, lines, c.issues);
    } else {
      RecordErrorSites(f, lines, c.sites);
    }
    return c;
  }

  // The file position of `p` in an expression whose text is the string
  // literal at lines[0], or one literal per line; (0, 0) when unknown.
  static std::pair<int, int> FilePosition(const SourceFile& f,
                                          const std::vector<size_t>& lines,
                                          const cel::SourcePosition& p) {
    if (lines.empty()) return {0, 0};
    const bool one_literal = lines.size() == 1;
    const size_t lit =
        one_literal ? lines[0]
                    : lines[std::min<size_t>(p.line - 1, lines.size() - 1)];
    if (lit == std::string::npos) return {0, 0};
    return one_literal ? f.ExpressionPosition(lit, p.line, p.column)
                       : f.ExpressionPosition(lit, 1, p.column);
  }

  // Remembers where in the files each error site of an expression is, so
  // that evaluation issues can name it.
  void RecordErrorSites(
      const SourceFile& f, const std::vector<size_t>& lines,
      const std::vector<std::pair<uint32_t, cel::SourcePosition>>& sites) {
    for (const auto& [site, position] : sites) {
      const auto [line, column] = FilePosition(f, lines, position);
      SetErrorLocation(site, f, line, column);
    }
  }

  void SetErrorLocation(uint32_t site, const SourceFile& f, int line,
                        int column) {
    auto& locations = out_->error_locations_;
    if (locations.size() <= site) locations.resize(site + 1);
    locations[site] =
        line == 0 ? f.relative_path
                  : absl::StrCat(f.relative_path, ":", line, ":", column);
  }

  void ReportExpressionIssues(const SourceFile& f, const std::string& rule_id,
                              const std::string& context,
                              const std::vector<size_t>& lines,
                              const std::vector<cel::Issue>& issues) {
    for (const cel::Issue& i : issues) {
      RuleSetIssue issue;
      issue.file = f.relative_path;
      issue.rule_id = rule_id;
      issue.message = absl::StrCat(context, ": ", i.message);
      std::tie(issue.line, issue.column) = FilePosition(f, lines, i.position);
      issues_.push_back(std::move(issue));
    }
  }

  std::filesystem::path dir_;
  const LoadOptions& options_;
  std::unique_ptr<CompiledRuleSetImpl> out_;
  std::unique_ptr<cel::ExpressionSetBuilder> builder_;
  std::vector<RuleSetIssue> issues_;
  std::string input_name_;
  std::array<absl::flat_hash_map<std::string, int>, kItemKinds> codes_;
  std::set<std::string> rule_ids_;
};

}  // namespace

ExpressionResult EvaluateExpression(
    const std::filesystem::path& dir, const std::string& expression,
    const std::vector<std::pair<std::string, cel::Value>>& variables,
    const google::protobuf::Message* input, const LoadOptions& options) {
  ExpressionResult out;
  RuleSetCompiler::Extra extra;
  extra.text = &expression;
  extra.variables = &variables;
  LoadResult loaded = RuleSetCompiler(dir, options).Run(&extra);
  if (!loaded.rule_set) {
    out.issues = std::move(loaded.issues);
    return out;
  }
  for (const cel::Issue& i : extra.compiled.issues) {
    out.issues.push_back(
        {"<expr>", i.position.line, i.position.column, "", i.message});
  }
  if (!out.issues.empty()) return out;
  const auto& impl = static_cast<const CompiledRuleSetImpl&>(*loaded.rule_set);
  if (input != nullptr &&
      input->GetDescriptor()->full_name() != impl.input_type()) {
    out.issues.push_back(
        {"<input>", 0, 0, "",
         absl::StrCat("the input must be a ", impl.input_type())});
    return out;
  }
  cel::Evaluation ev(*impl.expressions_);
  if (input != nullptr) ev.SetInput(impl.input_index_, *input);
  for (size_t i = 0; i < variables.size(); ++i) {
    ev.SetVariable(extra.variable_indices[i], variables[i].second);
  }
  out.type = extra.compiled.type.ToString();
  out.value = ev.Evaluate(extra.compiled.id);
  out.keep_alive = loaded.rule_set;
  if (const auto site = impl.expressions_->SiteOf(out.value)) {
    out.error_location = site->expression == extra.compiled.id
                             ? absl::StrCat("<expr>:", site->position.line, ":",
                                            site->position.column)
                             : impl.ErrorLocation(out.value);
  }
  return out;
}

LoadResult LoadRuleSet(const std::filesystem::path& dir,
                       const LoadOptions& options) {
  return RuleSetCompiler(dir, options).Run();
}

LoadResult LoadCanonicalRuleSet(const std::string& canonical_content,
                                const std::string& expected_digest,
                                const LoadOptions& options) {
  LoadResult out;
  auto fail = [&](std::string message) {
    out.issues.push_back({"<canonical>", 0, 0, "", std::move(message)});
    return out;
  };
  const json doc = json::parse(canonical_content, nullptr, false);
  if (!doc.is_object() || !doc.contains("ruleset") ||
      !doc.contains("catalog") || !doc.contains("rules") ||
      !doc["rules"].is_object()) {
    return fail("not the canonical content of a rule set");
  }
  // The loader reads directories, so the files are laid out again in a
  // private temporary one. Rule-file names are data: only rules/NAME.json.
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "reconnect-canonical.XXXXXX")
          .string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return fail("cannot create a temporary directory to rebuild it in");
  }
  const std::filesystem::path dir = tmpl;
  auto write = [&](const std::string& rel, const json& root) {
    std::ofstream f(dir / rel);
    f << root.dump(1);
    return static_cast<bool>(f);
  };
  std::error_code ec;
  std::filesystem::create_directory(dir / kRulesDir, ec);
  bool ok = !ec && write(kMetadataFile, doc["ruleset"]) &&
            write(kCatalogFile, doc["catalog"]) &&
            write(kParamsFile, doc.value("params", json::object())) &&
            write(kDefsFile, doc.value("defs", json::object()));
  for (const auto& [rel, root] : doc["rules"].items()) {
    if (!RE2::FullMatch(rel, R"(rules/[A-Za-z0-9_.-]+\.json)") ||
        absl::StrContains(rel, "..")) {
      std::filesystem::remove_all(dir, ec);
      return fail(absl::StrCat("unexpected rule file name '", rel, "'"));
    }
    ok = ok && write(rel, root);
  }
  if (ok) out = LoadRuleSet(dir, options);
  std::filesystem::remove_all(dir, ec);
  if (!ok) return fail("cannot write the temporary rule-set files");
  if (out.rule_set && !expected_digest.empty() &&
      out.rule_set->digest() != expected_digest) {
    const std::string got = out.rule_set->digest();
    out.rule_set = nullptr;
    return fail(absl::StrCat("the content rebuilds to digest ", got,
                             ", not the expected ", expected_digest));
  }
  return out;
}

}  // namespace reconnect::ruleset
