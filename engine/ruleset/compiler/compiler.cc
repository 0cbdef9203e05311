// Sequences the compiler's stages over a rule set's files.

#include "engine/ruleset/compiler/compiler.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "engine/ruleset/internal/digest.h"
#include "engine/ruleset/layout.h"

namespace reconnect::ruleset::ruleset_internal {

using nlohmann::json;

LoadResult RuleSetCompiler::Run(const RuleSetSource& source, Extra* extra) {
  LoadResult result;
  if (auto unusable = source.Unusable()) {
    result.issues.push_back(*std::move(unusable));
    return result;
  }
  const int64_t max_bytes = options_.max_file_bytes;
  auto meta = source.Read(kMetadataFile, max_bytes, issues_);
  auto catalog = source.Read(kCatalogFile, max_bytes, issues_);
  std::optional<SourceFile> params, defs;
  std::vector<std::optional<SourceFile>> optional(std::size(kOptionalFiles));
  if (source.Has(kParamsFile)) {
    params = source.Read(kParamsFile, max_bytes, issues_);
  }
  if (source.Has(kDefsFile)) {
    defs = source.Read(kDefsFile, max_bytes, issues_);
  }
  for (size_t i = 0; i < optional.size(); ++i) {
    if (source.Has(kOptionalFiles[i].file)) {
      optional[i] = source.Read(kOptionalFiles[i].file, max_bytes, issues_);
    }
  }
  std::vector<SourceFile> rule_files;
  for (const std::string& rel : source.RuleFiles(issues_)) {
    if (auto f = source.Read(rel, max_bytes, issues_)) {
      rule_files.push_back(std::move(*f));
    }
  }
  if (!meta || !catalog) {
    result.issues = std::move(issues_);
    return result;
  }
  // The stages, in order: each may use what the ones before it declared.
  if (!ReadMetadata(*meta)) {
    result.issues = std::move(issues_);
    return result;
  }
  if (params) ReadParams(*params);
  if (defs) ReadDefs(*defs);
  ReadCatalog(*catalog);
  ReadTeam(*meta);
  if (optional[0]) ReadCdsHooks(*optional[0]);
  if (optional[1]) ReadFhirMapping(*optional[1]);
  for (const SourceFile& f : rule_files) ReadRules(f);
  if (optional[2]) ReadHazards(*optional[2]);
  if (!issues_.empty()) {
    result.issues = std::move(issues_);
    return result;
  }
  if (extra != nullptr) {
    for (const auto& [name, value] : *extra->variables) {
      extra->variable_indices.push_back(
          builder_->DeclareVariable(name, cel::Type::Dyn()));
    }
    extra->compiled = builder_->Compile(*extra->text);
  }
  std::stable_sort(out_->rules_.begin(), out_->rules_.end(),
                   [](const CompiledRule& a, const CompiledRule& b) {
                     return a.priority > b.priority;
                   });
  // The canonical content, whose digest names the rule set: the parsed
  // files, independent of formatting and comments.
  json canonical = json::object();
  canonical["ruleset"] = meta->root;
  canonical["catalog"] = catalog->root;
  canonical["params"] = params ? params->root : json::object();
  canonical["defs"] = defs ? defs->root : json::object();
  json rules = json::object();
  for (const SourceFile& f : rule_files) rules[f.relative_path] = f.root;
  canonical["rules"] = std::move(rules);
  // Only when present, so that rule sets without one keep their digests.
  for (size_t i = 0; i < optional.size(); ++i) {
    if (optional[i]) canonical[kOptionalFiles[i].key] = optional[i]->root;
  }
  out_->canonical_ =
      canonical.dump(-1, ' ', false, json::error_handler_t::replace);
  out_->digest_ = Sha256Hex(out_->canonical_);
  out_->expressions_ = builder_->Build();
  // Each fact slot's label, looked up once here rather than per call.
  const auto& facts = out_->expressions_->facts();
  out_->fact_labels_.resize(facts.size());
  for (size_t slot = 0; slot < facts.size(); ++slot) {
    auto it = out_->missing_data_.labels.find(facts[slot].display);
    if (it != out_->missing_data_.labels.end()) {
      out_->fact_labels_[slot] = it->second;
    }
  }
  result.rule_set = std::move(out_);
  result.warnings = std::move(warnings_);
  return result;
}

}  // namespace reconnect::ruleset::ruleset_internal
