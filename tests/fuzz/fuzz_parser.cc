// libFuzzer target: the CEL parser on arbitrary text. Whatever the input, the
// parser returns a tree or issues that each name a position in the text.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/cel/common/source.h"
#include "engine/cel/parser/parser.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const reconnect::cel::Source source(
      std::string(reinterpret_cast<const char*>(data), size));
  const reconnect::cel::ParseResult parsed = reconnect::cel::Parse(source);
  reconnect::fuzz::CheckOutcome(parsed.expr != nullptr, parsed.issues);
  // Again with the optional macros of the protos extension library.
  reconnect::cel::ParserOptions options;
  options.proto_extension_macros = true;
  const reconnect::cel::ParseResult with_macros =
      reconnect::cel::Parse(source, options);
  reconnect::fuzz::CheckOutcome(with_macros.expr != nullptr,
                                with_macros.issues);
  return 0;
}
