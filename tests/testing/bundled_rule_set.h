#ifndef RECONNECT_TESTS_TESTING_BUNDLED_RULE_SET_H_
#define RECONNECT_TESTS_TESTING_BUNDLED_RULE_SET_H_

#include <filesystem>
#include <memory>

#include "engine/ruleset/rule_set.h"
#include "gtest/gtest.h"

namespace reconnect::testing_util {

// The bundled rule set (rules/reconnect), loaded once per test binary.
inline const ruleset::CompiledRuleSet& BundledRuleSet() {
  static const auto* rule_set = [] {
    auto loaded = ruleset::LoadRuleSet(
        std::filesystem::path(RECONNECT_SOURCE_DIR) / "rules/reconnect/1.0.5");
    EXPECT_TRUE(loaded.issues.empty()) << loaded.issues[0].ToString();
    return new std::shared_ptr<const ruleset::CompiledRuleSet>(loaded.rule_set);
  }();
  return **rule_set;
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_BUNDLED_RULE_SET_H_
