#include "service/cli/rule_set_loading.h"

#include <filesystem>
#include <iostream>

#include "engine/ruleset/layout.h"

namespace reconnect::service {

namespace {

struct Chosen {
  std::string dir;
  std::shared_ptr<const ruleset::CompiledRuleSet> rule_set;  // null: none
};

// Of several versions, the one the server would make active, loaded once.
Chosen ChooseVersion(const std::vector<std::filesystem::path>& versions) {
  Chosen chosen;
  for (const auto& v : versions) {
    ruleset::LoadResult r = ruleset::LoadRuleSet(v);
    if (!r.rule_set) continue;
    const auto& m = r.rule_set->metadata();
    if (!chosen.rule_set ||
        ruleset::PreferredAsActive(m.status, m.version,
                                   chosen.rule_set->metadata().status,
                                   chosen.rule_set->metadata().version)) {
      chosen = {v.string(), std::move(r.rule_set)};
    }
  }
  return chosen;
}

}  // namespace

std::vector<std::string> VersionDirs(const std::string& dir) {
  std::vector<std::string> dirs;
  for (const auto& d : ruleset::RuleSetDirectories(dir)) {
    dirs.push_back(d.string());
  }
  if (dirs.empty()) dirs.push_back(dir);  // LoadRuleSet says what is wrong
  return dirs;
}

ruleset::LoadResult LoadReportingIssues(const std::string& dir) {
  ruleset::LoadResult loaded = ruleset::LoadRuleSet(dir);
  for (const auto& issue : loaded.issues) {
    std::cerr << dir << "/" << issue.ToString() << "\n";
  }
  if (!loaded.rule_set) {
    std::cerr << dir << ": " << loaded.issues.size()
              << " problem(s); rule set not loaded\n";
  }
  return loaded;
}

std::string ChosenVersionDir(const std::string& dir) {
  const auto versions = ruleset::RuleSetDirectories(dir);
  if (versions.size() == 1) return versions[0].string();
  Chosen chosen = ChooseVersion(versions);
  return chosen.rule_set ? chosen.dir : dir;
}

std::shared_ptr<const ruleset::CompiledRuleSet> LoadOrReport(
    const std::string& given) {
  const auto versions = ruleset::RuleSetDirectories(given);
  if (versions.size() > 1) {
    if (Chosen chosen = ChooseVersion(versions); chosen.rule_set) {
      return chosen.rule_set;
    }
  }
  // One version, or none that loads: load it, or the directory itself, so
  // that every problem is reported.
  return LoadReportingIssues(versions.size() == 1 ? versions[0].string()
                                                  : given)
      .rule_set;
}

}  // namespace reconnect::service
