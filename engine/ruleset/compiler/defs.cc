// The defs stage: defs.json, named expressions compiled in dependency
// order; a cycle is an issue naming its members.

#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/cel/parser/parser.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/issue_codes.h"
#include "re2/re2.h"

namespace reconnect::ruleset::ruleset_internal {

using nlohmann::json;

namespace {

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

}  // namespace

void RuleSetCompiler::ReadDefs(const SourceFile& f) {
  if (!f.root.is_object()) {
    issues_.push_back(
        f.IssueAt(issue_codes::kMissingOrWrongShape, 0, "",
                  "defs must be a JSON object of named expressions"));
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
    ObjectReader r(f, spec, absl::StrCat("def '", name, "'"), "", at, issues_);
    if (!r.ok()) continue;
    r.RejectUnknownKeys({"expr", "doc"});
    if (!RE2::FullMatch(name, "[a-z_][a-z0-9_]*")) {
      r.Error(issue_codes::kBadName,
              absl::StrCat("def name '", name, "' must be lower_snake_case"),
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
              f.IssueAt(issue_codes::kDefCycle, f.FindString(name), "",
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

}  // namespace reconnect::ruleset::ruleset_internal
