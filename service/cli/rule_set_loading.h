#ifndef RECONNECT_SERVICE_CLI_RULE_SET_LOADING_H_
#define RECONNECT_SERVICE_CLI_RULE_SET_LOADING_H_

// How the rule-set subcommands find and load a rule set: one version's
// directory, or a versions directory (rules/reconnect) holding several.

#include <memory>
#include <string>
#include <vector>

#include "engine/ruleset/rule_set.h"

namespace reconnect::service {

// The rule sets `dir` names: itself, or each version directory under it.
std::vector<std::string> VersionDirs(const std::string& dir);

// Loads the rule set in `dir`, printing its issues.
ruleset::LoadResult LoadReportingIssues(const std::string& dir);

// `dir` itself when it is one rule set; given a versions directory, the
// version the server would serve as active (of those that load).
std::string ChosenVersionDir(const std::string& dir);

// Loads the rule set ChosenVersionDir names, printing its issues; null on
// failure.
std::shared_ptr<const ruleset::CompiledRuleSet> LoadOrReport(
    const std::string& given);

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_CLI_RULE_SET_LOADING_H_
