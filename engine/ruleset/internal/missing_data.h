#ifndef RECONNECT_ENGINE_RULESET_INTERNAL_MISSING_DATA_H_
#define RECONNECT_ENGINE_RULESET_INTERNAL_MISSING_DATA_H_

#include <array>
#include <climits>
#include <cstdint>
#include <utility>
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
  // Per kind and catalog item: the highest priority of a fired rule that
  // suppresses it (INT_MIN: none). Set by FindHolders.
  std::array<std::vector<int>, kItemKinds> held_at;
};

// Sets `plan.held_at` from the fired rules.
void FindHolders(const CompiledRuleSetImpl& rs, PlanState& plan);

using Item = std::pair<int, int>;  // kind, catalog index

// What rule `r`, were it to fire, would add that the plan lacks: items no
// fired rule of higher priority holds back.
std::vector<Item> WouldAdd(const CompiledRuleSetImpl& rs, const PlanState& plan,
                           int r);

// Appends `items` to `out` as the API names them.
void AddPlanItems(const CompiledRuleSetImpl& rs, const std::vector<Item>& items,
                  google::protobuf::RepeatedPtrField<v1::PlanItem>& out);

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
