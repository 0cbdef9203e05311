// libFuzzer target: parse, check, plan and evaluate, with bindings drawn from
// the input. The input is the expression, then optionally a NUL and binding
// bytes: the kinds of `x` and `y` (the high bit of the first compiles the
// expression unchecked, so that ill-typed calls reach the runtime), eight
// bytes for their values, and the rest as a binary reconnect.v1.Assessment.
// Plain-text seeds are thus valid inputs with null bindings.
//
// Beyond not crashing, evaluation must be deterministic: a second evaluation
// of the same expression on the same bindings renders the same result.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "engine/cel/runtime/program.h"
#include "google/protobuf/stubs/logging.h"
#include "reconnect/v1/assessment.pb.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

using reconnect::cel::Value;

Value MakeValue(uint8_t kind, uint64_t seed,
                const reconnect::v1::Assessment& assessment) {
  const auto i = static_cast<int64_t>(seed);
  double d;
  std::memcpy(&d, &seed, sizeof d);
  switch (kind % 12) {
    case 0:
      return Value::Null();
    case 1:
      return Value::Bool(seed & 1);
    case 2:
      return Value::Int(i);
    case 3:
      return Value::Uint(seed);
    case 4:
      return Value::Double(d);
    case 5:
      return Value::String(
          std::string(reinterpret_cast<const char*>(&seed), sizeof seed));
    case 6:
      return Value::Bytes(
          std::string(reinterpret_cast<const char*>(&seed), sizeof seed));
    case 7:
      return Value::List({Value::Int(i), Value::String("a"), Value::Null()});
    case 8:
      return Value::Map(std::make_shared<reconnect::cel::VectorMapRep>(
          std::vector<std::pair<Value, Value>>{
              {Value::String("k"), Value::Int(i)},
              {Value::Int(1), Value::Bool(true)}}));
    case 9:
      // CEL's duration range: about +-10,000 years.
      return Value::Duration(absl::Seconds(i % 315'576'000'000) +
                             absl::Nanoseconds(i % 1'000'000'000));
    case 10:
      // CEL's timestamp range: years 1 to 9999.
      return Value::Timestamp(absl::FromUnixSeconds(
          -62'135'596'800 + static_cast<int64_t>(seed % 315'537'897'599)));
    default:
      return Value::Message(&assessment);
  }
}

std::string Render(const Value& v) {
  return v.is_error() ? "error: " + v.error_message()
                      : std::string(v.TypeName()) + ": " + v.DebugString();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Binary assessments with invalid UTF-8 are expected; do not log them.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view expression = input.substr(0, nul);
  std::string_view bindings = nul == std::string_view::npos
                                  ? std::string_view()
                                  : input.substr(nul + 1);
  uint8_t kinds[2] = {0, 0};
  uint64_t seed = 0;
  for (int k = 0; k < 2 && !bindings.empty(); ++k) {
    kinds[k] = static_cast<uint8_t>(bindings[0]);
    bindings.remove_prefix(1);
  }
  const size_t n = std::min(bindings.size(), sizeof seed);
  if (n > 0) std::memcpy(&seed, bindings.data(), n);
  bindings.remove_prefix(n);
  reconnect::v1::Assessment assessment;
  if (!assessment.ParseFromArray(bindings.data(),
                                 static_cast<int>(bindings.size()))) {
    assessment.Clear();
  }

  reconnect::cel::ExpressionSetBuilder builder(
      google::protobuf::DescriptorPool::generated_pool(), "reconnect.v1");
  const int input_index = builder.DeclareInput(
      "assessment", reconnect::v1::Assessment::descriptor());
  const int x = builder.DeclareVariable("x", reconnect::cel::Type::Dyn());
  const int y = builder.DeclareVariable("y", reconnect::cel::Type::Dyn());
  builder.DeclareConstant("params.limit", Value::Int(30),
                          reconnect::cel::Type::Int());
  const auto compiled = (kinds[0] & 0x80) != 0
                            ? builder.CompileUnchecked(expression)
                            : builder.Compile(expression);
  reconnect::fuzz::CheckOutcome(compiled.id >= 0, compiled.issues);
  if (compiled.id < 0) return 0;
  const auto set = builder.Build();

  std::string first;
  for (int round = 0; round < 2; ++round) {
    reconnect::cel::Evaluation ev(*set);
    ev.SetInput(input_index, assessment);
    ev.SetVariable(x, MakeValue(kinds[0] & 0x7f, seed, assessment));
    ev.SetVariable(y, MakeValue(kinds[1], ~seed, assessment));
    const Value v = ev.Evaluate(compiled.id);
    std::string rendered = Render(v);
    if (round == 0) {
      first = std::move(rendered);
    } else if (rendered != first) {
      std::fprintf(stderr, "nondeterministic: '%s' then '%s'\n", first.c_str(),
                   rendered.c_str());
      std::abort();
    }
  }
  // Partial evaluation is sound: a value it finds without an error or an
  // unknown holds whatever the absent facts are, so also for their defaults,
  // which the plain evaluation reads.
  reconnect::cel::Evaluation plain(*set);
  plain.SetInput(input_index, assessment);
  plain.SetVariable(x, MakeValue(kinds[0] & 0x7f, seed, assessment));
  plain.SetVariable(y, MakeValue(kinds[1], ~seed, assessment));
  const Value known = plain.Evaluate(compiled.id);
  reconnect::cel::Evaluation partial(*set);
  partial.SetInput(input_index, assessment);
  partial.SetVariable(x, MakeValue(kinds[0] & 0x7f, seed, assessment));
  partial.SetVariable(y, MakeValue(kinds[1], ~seed, assessment));
  partial.SetPartial(true);
  const Value v = partial.Evaluate(compiled.id);
  if (v.is_unknown()) {
    if (partial.Residual(compiled.id).empty()) {
      std::fprintf(stderr, "an unknown without a residual\n");
      std::abort();
    }
  } else if (!v.is_error() && !known.is_error() && Render(v) != Render(known)) {
    std::fprintf(stderr, "partial '%s' but plain '%s'\n", Render(v).c_str(),
                 Render(known).c_str());
    std::abort();
  }
  return 0;
}
