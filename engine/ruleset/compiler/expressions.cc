// Compiling one expression of a rule-set file, and placing its issues and
// its run-time error sites at their positions in the file.

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/issue_codes.h"

namespace reconnect::ruleset::ruleset_internal {

using nlohmann::json;

// Declares a name whose definition is broken (already reported), so that
// expressions using it are still checked without a cascade of
// "undeclared reference" issues. The rule set will not load anyway.
void RuleSetCompiler::DeclarePoisoned(const std::string& name) {
  builder_->DeclareConstant(
      name, cel::Value::Error(absl::StrCat(name, " is invalid")),
      cel::Type::Dyn());
}

cel::ExpressionSetBuilder::Compiled RuleSetCompiler::CompileExpression(
    const SourceFile& f, const std::string& rule_id, const std::string& context,
    const std::string& text, const std::vector<size_t>& lines) {
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
std::pair<int, int> RuleSetCompiler::FilePosition(
    const SourceFile& f, const std::vector<size_t>& lines,
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
void RuleSetCompiler::RecordErrorSites(
    const SourceFile& f, const std::vector<size_t>& lines,
    const std::vector<std::pair<uint32_t, cel::SourcePosition>>& sites) {
  for (const auto& [site, position] : sites) {
    const auto [line, column] = FilePosition(f, lines, position);
    SetErrorLocation(site, f, line, column);
  }
}

void RuleSetCompiler::SetErrorLocation(uint32_t site, const SourceFile& f,
                                       int line, int column) {
  auto& locations = out_->error_locations_;
  if (locations.size() <= site) locations.resize(site + 1);
  locations[site] = line == 0
                        ? f.relative_path
                        : absl::StrCat(f.relative_path, ":", line, ":", column);
}

void RuleSetCompiler::ReportExpressionIssues(
    const SourceFile& f, const std::string& rule_id, const std::string& context,
    const std::vector<size_t>& lines, const std::vector<cel::Issue>& issues) {
  for (const cel::Issue& i : issues) {
    RuleSetIssue issue;
    issue.code = issue_codes::kExpression;
    issue.file = f.relative_path;
    issue.rule_id = rule_id;
    issue.message = absl::StrCat(context, ": ", i.message);
    std::tie(issue.line, issue.column) = FilePosition(f, lines, i.position);
    issues_.push_back(std::move(issue));
  }
}

}  // namespace reconnect::ruleset::ruleset_internal
