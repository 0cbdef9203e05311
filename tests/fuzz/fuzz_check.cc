// libFuzzer target: parse, then type-check against the Assessment message,
// a dynamic variable and a constant, as the rule-set compiler declares them.

#include <cstdint>
#include <string>

#include "engine/cel/checker/checker.h"
#include "engine/cel/common/source.h"
#include "engine/cel/parser/parser.h"
#include "reconnect/v1/assessment.pb.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

const reconnect::cel::CheckerEnv& Env() {
  static const auto* env = [] {
    auto* e = new reconnect::cel::CheckerEnv(
        google::protobuf::DescriptorPool::generated_pool(), "reconnect.v1");
    e->AddVariable("assessment", reconnect::cel::Type::Message(
                                     reconnect::v1::Assessment::descriptor()));
    e->AddVariable("x", reconnect::cel::Type::Dyn());
    e->AddVariable("params.limit", reconnect::cel::Type::Int());
    return e;
  }();
  return *env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const reconnect::cel::Source source(
      std::string(reinterpret_cast<const char*>(data), size));
  const reconnect::cel::ParseResult parsed = reconnect::cel::Parse(source);
  if (parsed.expr == nullptr) return 0;
  const reconnect::cel::CheckResult checked =
      reconnect::cel::Check(*parsed.expr, source, Env());
  for (const auto& issue : checked.issues) {
    reconnect::fuzz::CheckOutcome(false, {issue});
  }
  return 0;
}
