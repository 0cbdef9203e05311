#ifndef RECONNECT_TESTS_TESTING_CEL_EVAL_H_
#define RECONNECT_TESTS_TESTING_CEL_EVAL_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/cel/runtime/program.h"
#include "reconnect/v1/assessment.pb.h"

namespace reconnect::testing_util {

// Compiles and evaluates `expr` in an environment with the input
// `assessment` (reconnect.v1.Assessment, container reconnect.v1) and a
// dynamic variable `x`. Returns "type: value", "error: message" for a CEL
// error value, or "issues: line:col: message" for a compile-time problem.
// `strong_enums` compiles with ExpressionSetBuilder::UseStrongEnums.
inline std::string EvalCel(const std::string& expr,
                           const v1::Assessment& assessment = {},
                           cel::Value x = cel::Value::Null(),
                           cel::Limits limits = {}, bool strong_enums = false) {
  cel::ExpressionSetBuilder builder(
      google::protobuf::DescriptorPool::generated_pool(), "reconnect.v1",
      limits);
  if (strong_enums) builder.UseStrongEnums();
  const int input =
      builder.DeclareInput("assessment", v1::Assessment::descriptor());
  const int var = builder.DeclareVariable("x", cel::Type::Dyn());
  builder.DeclareConstant("params.limit", cel::Value::Int(30),
                          cel::Type::Int());
  auto compiled = builder.Compile(expr);
  if (compiled.id < 0)
    return absl::StrCat("issues: ", cel::FormatIssues(compiled.issues));
  auto set = builder.Build();
  cel::Evaluation ev(*set);
  ev.SetInput(input, assessment);
  ev.SetVariable(var, std::move(x));
  const cel::Value v = ev.Evaluate(compiled.id);
  if (v.is_error()) return absl::StrCat("error: ", v.error_message());
  return absl::StrCat(std::string(v.TypeName()), ": ", v.DebugString());
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_CEL_EVAL_H_
