#include "engine/ruleset/internal/rule_set_source.h"

#include <algorithm>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/layout.h"
#include "nlohmann/json.hpp"
#include "re2/re2.h"

namespace reconnect::ruleset::ruleset_internal {

namespace {

class Directory final : public RuleSetSource {
 public:
  explicit Directory(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::optional<RuleSetIssue> Unusable() const override {
    std::error_code ec;
    if (std::filesystem::is_directory(dir_, ec)) return std::nullopt;
    return RuleSetIssue{
        dir_.string(),           0, 0, "", "not a rule-set directory",
        issue_codes::kUnreadable};
  }

  bool Has(const std::string& relative) const override {
    std::error_code ec;
    return std::filesystem::exists(dir_ / relative, ec);
  }

  std::optional<SourceFile> Read(
      const std::string& relative, int64_t max_bytes,
      std::vector<RuleSetIssue>& issues) const override {
    return ReadJsonFile(dir_, relative, max_bytes, issues);
  }

  std::vector<std::string> RuleFiles(
      std::vector<RuleSetIssue>& issues) const override {
    std::vector<std::string> files;
    std::error_code ec;
    const auto rules_dir = dir_ / kRulesDir;
    if (!std::filesystem::is_directory(rules_dir, ec)) {
      issues.push_back({kRulesDir, 0, 0, "", "the rules directory is missing",
                        issue_codes::kUnreadable});
      return files;
    }
    for (const auto& entry :
         std::filesystem::directory_iterator(rules_dir, ec)) {
      if (entry.path().extension() == ".json") {
        files.push_back(
            absl::StrCat(kRulesDir, "/", entry.path().filename().string()));
      }
    }
    if (ec) {
      issues.push_back({kRulesDir, 0, 0, "",
                        absl::StrCat("cannot list: ", ec.message()),
                        issue_codes::kUnreadable});
    }
    std::sort(files.begin(), files.end());
    return files;
  }

 private:
  const std::filesystem::path dir_;
};

class Memory final : public RuleSetSource {
 public:
  explicit Memory(std::map<std::string, std::string> files)
      : files_(std::move(files)) {}

  std::optional<RuleSetIssue> Unusable() const override { return std::nullopt; }

  bool Has(const std::string& relative) const override {
    return files_.count(relative) > 0;
  }

  std::optional<SourceFile> Read(
      const std::string& relative, int64_t max_bytes,
      std::vector<RuleSetIssue>& issues) const override {
    auto it = files_.find(relative);
    if (it == files_.end()) {
      issues.push_back({relative, 0, 0, "", "cannot read file: not present",
                        issue_codes::kUnreadable});
      return std::nullopt;
    }
    return ParseJsonFile(relative, it->second, max_bytes, issues);
  }

  std::vector<std::string> RuleFiles(
      std::vector<RuleSetIssue>& issues) const override {
    std::vector<std::string> files;
    const std::string prefix = absl::StrCat(kRulesDir, "/");
    for (const auto& [path, unused] : files_) {
      if (absl::StartsWith(path, prefix)) files.push_back(path);
    }
    if (files.empty()) {
      issues.push_back({kRulesDir, 0, 0, "", "the rules directory is missing",
                        issue_codes::kUnreadable});
    }
    return files;  // a std::map's keys: already sorted
  }

 private:
  const std::map<std::string, std::string> files_;
};

}  // namespace

std::unique_ptr<RuleSetSource> DirectorySource(std::filesystem::path dir) {
  return std::make_unique<Directory>(std::move(dir));
}

std::unique_ptr<RuleSetSource> MemorySource(
    std::map<std::string, std::string> files) {
  return std::make_unique<Memory>(std::move(files));
}

std::unique_ptr<RuleSetSource> CanonicalSource(
    const std::string& canonical_content, std::vector<RuleSetIssue>& issues) {
  using nlohmann::json;
  auto fail = [&](std::string message) -> std::unique_ptr<RuleSetSource> {
    issues.push_back({"<canonical>", 0, 0, "", std::move(message),
                      issue_codes::kBadCanonicalContent});
    return nullptr;
  };
  const json doc = json::parse(canonical_content, nullptr, false);
  if (!doc.is_object() || !doc.contains("ruleset") ||
      !doc.contains("catalog") || !doc.contains("rules") ||
      !doc["rules"].is_object()) {
    return fail("not the canonical content of a rule set");
  }
  auto text = [](const json& root) {
    return root.dump(1, ' ', false, json::error_handler_t::replace);
  };
  std::map<std::string, std::string> files = {
      {kMetadataFile, text(doc["ruleset"])},
      {kCatalogFile, text(doc["catalog"])},
      {kParamsFile, text(doc.value("params", json::object()))},
      {kDefsFile, text(doc.value("defs", json::object()))}};
  for (const OptionalFile& optional : kOptionalFiles) {
    if (doc.contains(optional.key)) {
      files.emplace(optional.file, text(doc[optional.key]));
    }
  }
  for (const auto& [rel, root] : doc["rules"].items()) {
    if (!RE2::FullMatch(rel, R"(rules/[A-Za-z0-9_.-]+\.json)") ||
        absl::StrContains(rel, "..")) {
      return fail(absl::StrCat("unexpected rule file name '", rel, "'"));
    }
    files.emplace(rel, text(root));
  }
  return MemorySource(std::move(files));
}

}  // namespace reconnect::ruleset::ruleset_internal
