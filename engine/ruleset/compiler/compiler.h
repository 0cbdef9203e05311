#ifndef RECONNECT_ENGINE_RULESET_COMPILER_COMPILER_H_
#define RECONNECT_ENGINE_RULESET_COMPILER_COMPILER_H_

// The rule-set compiler: reads a rule set's files from a source and
// compiles them, stage by stage, collecting every issue on the way. Run
// (compiler.cc) is the one place that sequences the stages; each stage is a
// file of its own:
//   metadata.cc     ruleset.json: id, version, status, input, team
//   params.cc       params.json: named, typed constants
//   defs.cc         defs.json: named expressions, in dependency order
//   catalog.cc      catalog.json: components, techniques, disciplines,
//                   prompts, alerts, considerations
//   rules.cc        rules/*.json: conditions, items, rationale templates
//   cds_hooks.cc    cds_hooks.json: the CDS Hooks services offered
//   fhir_mapping.cc fhir_mapping.json: FHIR codes to input fields
//   expressions.cc  compiling one expression and placing its issues and
//                   error sites in the files

#include <array>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/cel/runtime/program.h"
#include "engine/ruleset/internal/compiled.h"
#include "engine/ruleset/internal/json_reader.h"
#include "engine/ruleset/internal/rule_set_source.h"
#include "engine/ruleset/internal/source_file.h"
#include "engine/ruleset/rule_set.h"
#include "nlohmann/json.hpp"

namespace reconnect::ruleset::ruleset_internal {

class RuleSetCompiler {
 public:
  // `options` must outlive the compiler. One compiler compiles one rule
  // set, once.
  explicit RuleSetCompiler(const LoadOptions& options)
      : options_(options), out_(std::make_unique<CompiledRuleSetImpl>()) {}
  RuleSetCompiler(const RuleSetCompiler&) = delete;
  RuleSetCompiler& operator=(const RuleSetCompiler&) = delete;

  // An expression compiled after the rule set's own, for EvaluateExpression.
  struct Extra {
    const std::string* text = nullptr;
    const std::vector<std::pair<std::string, cel::Value>>* variables = nullptr;
    std::vector<int> variable_indices;
    cel::ExpressionSetBuilder::Compiled compiled;
  };

  // Reads every file of `source`, then runs the stages in order.
  LoadResult Run(const RuleSetSource& source, Extra* extra = nullptr);

 private:
  using json = nlohmann::json;

  // metadata.cc
  bool ReadMetadata(const SourceFile& f);
  void ReadMissingDataWords(const SourceFile& f, const nlohmann::json& words,
                            size_t offset,
                            const google::protobuf::Descriptor* input);
  void ReadTeam(const SourceFile& f);
  // params.cc
  void ReadParams(const SourceFile& f);
  static std::optional<std::pair<cel::Value, cel::Type>> ParamValue(
      const std::string& type, const json& v);
  // defs.cc
  void ReadDefs(const SourceFile& f);
  // catalog.cc
  void ReadCatalog(const SourceFile& f);
  // cds_hooks.cc
  void ReadCdsHooks(const SourceFile& f);
  // fhir_mapping.cc
  void ReadFhirMapping(const SourceFile& f);
  // rules.cc
  void ReadRules(const SourceFile& f);
  // After the rules: the hazard log, its ratings, and the rules it names.
  void ReadHazards(const SourceFile& f);
  void ReadRationale(const SourceFile& f, ObjectReader& r, CompiledRule& rule);
  void ReadItems(const SourceFile& f, ObjectReader& r, const char* key,
                 CompiledRule& rule, bool suppress);
  void HoldPromptsOfHeldTechniques(const CompiledRule& rule,
                                   std::vector<bool>& mask);
  void WarnOfPromptsWithoutTechnique(const SourceFile& f, ObjectReader& items,
                                     const CompiledRule& rule);
  static void AddFacts(std::vector<int>& into, const std::vector<int>& facts);
  // expressions.cc
  void DeclarePoisoned(const std::string& name);
  cel::ExpressionSetBuilder::Compiled CompileExpression(
      const SourceFile& f, const std::string& rule_id,
      const std::string& context, const std::string& text,
      const std::vector<size_t>& lines);
  static std::pair<int, int> FilePosition(const SourceFile& f,
                                          const std::vector<size_t>& lines,
                                          const cel::SourcePosition& p);
  void RecordErrorSites(
      const SourceFile& f, const std::vector<size_t>& lines,
      const std::vector<std::pair<uint32_t, cel::SourcePosition>>& sites);
  void SetErrorLocation(uint32_t site, const SourceFile& f, int line,
                        int column);
  void ReportExpressionIssues(const SourceFile& f, const std::string& rule_id,
                              const std::string& context,
                              const std::vector<size_t>& lines,
                              const std::vector<cel::Issue>& issues);

  const LoadOptions& options_;
  std::unique_ptr<CompiledRuleSetImpl> out_;
  std::unique_ptr<cel::ExpressionSetBuilder> builder_;
  std::vector<RuleSetIssue> issues_;
  // What lint reports without refusing the rule set.
  std::vector<RuleSetIssue> warnings_;
  std::string input_name_;
  std::array<absl::flat_hash_map<std::string, int>, kItemKinds> codes_;
  std::set<std::string> rule_ids_;
};

}  // namespace reconnect::ruleset::ruleset_internal

#endif  // RECONNECT_ENGINE_RULESET_COMPILER_COMPILER_H_
