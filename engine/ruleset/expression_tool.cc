// One expression evaluated exactly as a rule's condition sees it, for rule
// authors' tools (`reconnect expr`).

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/cel/runtime/program.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/internal/compiled.h"
#include "engine/ruleset/internal/rule_set_source.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/rule_set.h"
#include "google/protobuf/descriptor.h"

namespace reconnect::ruleset {

using ruleset_internal::CompiledRuleSetImpl;
using ruleset_internal::DirectorySource;
using ruleset_internal::RuleSetCompiler;

ExpressionResult EvaluateExpression(
    const std::filesystem::path& dir, const std::string& expression,
    const std::vector<std::pair<std::string, cel::Value>>& variables,
    const google::protobuf::Message* input, const LoadOptions& options) {
  ExpressionResult out;
  RuleSetCompiler::Extra extra;
  extra.text = &expression;
  extra.variables = &variables;
  LoadResult loaded =
      RuleSetCompiler(options).Run(*DirectorySource(dir), &extra);
  if (!loaded.rule_set) {
    out.issues = std::move(loaded.issues);
    return out;
  }
  for (const cel::Issue& i : extra.compiled.issues) {
    out.issues.push_back({"<expr>", i.position.line, i.position.column, "",
                          i.message, issue_codes::kExpression});
  }
  if (!out.issues.empty()) return out;
  const auto& impl = static_cast<const CompiledRuleSetImpl&>(*loaded.rule_set);
  if (input != nullptr &&
      input->GetDescriptor()->full_name() != impl.input_type()) {
    out.issues.push_back(
        {"<input>", 0, 0, "",
         absl::StrCat("the input must be a ", impl.input_type()),
         issue_codes::kBadToolInput});
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

}  // namespace reconnect::ruleset
