// Loading a rule set: from its directory, or from the canonical content a
// store keeps, both through the one compiler.

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/ruleset/compiler/compiler.h"
#include "engine/ruleset/internal/rule_set_source.h"
#include "engine/ruleset/issue_codes.h"
#include "engine/ruleset/rule_set.h"

namespace reconnect::ruleset {

using ruleset_internal::CanonicalSource;
using ruleset_internal::DirectorySource;
using ruleset_internal::RuleSetCompiler;

std::string RuleSetIssue::ToString() const {
  std::string out = file;
  if (line > 0) absl::StrAppend(&out, ":", line, ":", column);
  absl::StrAppend(&out, ": ");
  if (!rule_id.empty()) absl::StrAppend(&out, "rule '", rule_id, "': ");
  absl::StrAppend(&out, message);
  if (!code.empty()) absl::StrAppend(&out, " [", code, "]");
  return out;
}

LoadResult LoadRuleSet(const std::filesystem::path& dir,
                       const LoadOptions& options) {
  return RuleSetCompiler(options).Run(*DirectorySource(dir));
}

LoadResult LoadCanonicalRuleSet(const std::string& canonical_content,
                                const std::string& expected_digest,
                                const LoadOptions& options) {
  LoadResult out;
  auto source = CanonicalSource(canonical_content, out.issues);
  if (source == nullptr) return out;
  out = RuleSetCompiler(options).Run(*source);
  if (out.rule_set && !expected_digest.empty() &&
      out.rule_set->digest() != expected_digest) {
    const std::string got = out.rule_set->digest();
    out.rule_set = nullptr;
    out.issues.push_back({"<canonical>", 0, 0, "",
                          absl::StrCat("the content rebuilds to digest ", got,
                                       ", not the expected ", expected_digest),
                          issue_codes::kBadCanonicalContent});
  }
  return out;
}

}  // namespace reconnect::ruleset
