#ifndef RECONNECT_ENGINE_RULESET_INTERNAL_MISSING_DATA_H_
#define RECONNECT_ENGINE_RULESET_INTERNAL_MISSING_DATA_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "engine/ruleset/internal/compiled.h"

namespace reconnect::ruleset::ruleset_internal {

using RuleList = absl::InlinedVector<int, 2>;

// A plan as the evaluator made it, for the missing-data analysis.
struct PlanState {
  // Per rule (in rs.rules_ order): whether its condition was false.
  std::vector<bool> not_met;
  // Per rule: whether it fired.
  std::vector<bool> fired;
  // Per kind and catalog item: the rules whose recommendation of it stands
  // (empty: not in the plan).
  const std::array<std::vector<RuleList>, kItemKinds>* contrib = nullptr;
};

// Fills `out` (see v1::MissingData): evaluates the conditions of the rules
// that were not met with the absent facts of `input` unknown, and for each
// that comes out unknown says what it would add or hold back, under what
// condition on the absent facts; then ranks those facts. Spends at most
// about `budget` of CEL evaluation cost.
void FindMissingData(const CompiledRuleSetImpl& rs,
                     const google::protobuf::Message& input,
                     const PlanState& plan, int64_t budget,
                     v1::MissingData& out);

}  // namespace reconnect::ruleset::ruleset_internal

#endif  // RECONNECT_ENGINE_RULESET_INTERNAL_MISSING_DATA_H_
