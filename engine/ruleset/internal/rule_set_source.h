#ifndef RECONNECT_ENGINE_RULESET_INTERNAL_RULE_SET_SOURCE_H_
#define RECONNECT_ENGINE_RULESET_INTERNAL_RULE_SET_SOURCE_H_

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/ruleset/internal/source_file.h"
#include "engine/ruleset/rule_set.h"

namespace reconnect::ruleset::ruleset_internal {

// Where a rule set's files come from: a directory, or memory (a stored rule
// set's canonical content, rebuilt with no temporary files). Paths are
// relative to the rule set ("ruleset.json", "rules/safety.json").
class RuleSetSource {
 public:
  virtual ~RuleSetSource() = default;

  // An issue when the source cannot hold a rule set at all.
  virtual std::optional<RuleSetIssue> Unusable() const = 0;
  virtual bool Has(const std::string& relative) const = 0;
  // Reads and parses one file (comments allowed); nullopt with an issue
  // appended when it is missing, too large or not JSON.
  virtual std::optional<SourceFile> Read(
      const std::string& relative, int64_t max_bytes,
      std::vector<RuleSetIssue>& issues) const = 0;
  // The rule files (rules/*.json), sorted; an issue when there are none to
  // list.
  virtual std::vector<std::string> RuleFiles(
      std::vector<RuleSetIssue>& issues) const = 0;
};

// The files of the rule-set directory `dir`.
std::unique_ptr<RuleSetSource> DirectorySource(std::filesystem::path dir);

// Files held in memory, by relative path.
std::unique_ptr<RuleSetSource> MemorySource(
    std::map<std::string, std::string> files);

// The files a canonical content (CompiledRuleSet::canonical_content())
// stands for; null with an issue when it is not one. Rule-file names are
// data: only rules/NAME.json is accepted.
std::unique_ptr<RuleSetSource> CanonicalSource(
    const std::string& canonical_content, std::vector<RuleSetIssue>& issues);

}  // namespace reconnect::ruleset::ruleset_internal

#endif  // RECONNECT_ENGINE_RULESET_INTERNAL_RULE_SET_SOURCE_H_
