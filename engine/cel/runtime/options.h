#ifndef RECONNECT_ENGINE_CEL_RUNTIME_OPTIONS_H_
#define RECONNECT_ENGINE_CEL_RUNTIME_OPTIONS_H_

#include <cstdint>

#include "engine/cel/parser/options.h"

namespace reconnect::cel {

// Every limit that bounds the work or memory one expression can take. A
// breach is a load error (parse limits, regex size) or a CEL error value at
// evaluation time (iterations, value size); never a crash or a hang.
struct Limits {
  ParserOptions parser;
  // Comprehension iterations allowed in one evaluation, over all expressions
  // evaluated through the same Evaluation.
  int64_t max_iterations = 100'000;
  // Largest string, bytes or list that `+` or a macro may build.
  int64_t max_value_size = 1 << 20;
  // Largest compiled regular expression (RE2 program size) for matches().
  int max_regex_program_size = 1000;
  // The evaluation cost budget, over all expressions evaluated through the
  // same Evaluation: each node evaluated costs 1, and a function call costs
  // as well one per list or map element and one per 32 bytes of string
  // passed to it. It bounds the time of work that no other limit catches,
  // such as string searches over large values in long comprehensions.
  int64_t max_cost = 1'000'000;
};

}  // namespace reconnect::cel

#endif  // RECONNECT_ENGINE_CEL_RUNTIME_OPTIONS_H_
