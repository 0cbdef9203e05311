#ifndef RECONNECT_ENGINE_RULESET_LAYOUT_H_
#define RECONNECT_ENGINE_RULESET_LAYOUT_H_

// What a rule set looks like on disk, and how its versions order: the one
// place that names the files and compares versions.

#include <filesystem>
#include <string>
#include <vector>

namespace reconnect::ruleset {

// A rule-set directory holds these. The metadata and the catalog are
// required; params, defs and kOptionalFiles are optional; rules/*.json hold the
// rules and tests/*.json the rule set's own test cases.
inline constexpr char kMetadataFile[] = "ruleset.json";
inline constexpr char kParamsFile[] = "params.json";
inline constexpr char kDefsFile[] = "defs.json";
inline constexpr char kCatalogFile[] = "catalog.json";
inline constexpr char kCdsHooksFile[] = "cds_hooks.json";
inline constexpr char kFhirMappingFile[] = "fhir_mapping.json";

// The optional files beyond params and defs, with their keys in the
// canonical content, where each appears only when present (so that a rule
// set without one keeps its digest).
struct OptionalFile {
  const char* file;
  const char* key;
};
inline constexpr char kHazardsFile[] = "hazards.json";
inline constexpr OptionalFile kOptionalFiles[] = {
    {kCdsHooksFile, "cds_hooks"},
    {kFhirMappingFile, "fhir_mapping"},
    {kHazardsFile, "hazards"}};
inline constexpr char kRulesDir[] = "rules";
inline constexpr char kTestsDir[] = "tests";

// A semantic version as the metadata's "version" must spell it (RE2
// syntax): MAJOR.MINOR.PATCH with an optional -PRE-RELEASE.
inline constexpr char kVersionPattern[] =
    R"((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?)";
// A calendar date, YYYY-MM-DD, as review dates are written.
inline constexpr char kDatePattern[] =
    R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))";

// Orders semantic versions by precedence: "1.10.0" after "1.9.2", and a
// pre-release before its release ("1.2.0-draft" < "1.2.0"). Pre-releases of
// one version compare as text.
bool VersionLess(const std::string& a, const std::string& b);

// Whether version `a` should be served as active rather than `b`, when no
// one has activated a version: an "active" status first, then the newer.
bool PreferredAsActive(const std::string& a_status,
                       const std::string& a_version,
                       const std::string& b_status,
                       const std::string& b_version);

// The rule sets under `root`: `root` itself when it holds kMetadataFile,
// or else each subdirectory that does (one per version), sorted by path.
std::vector<std::filesystem::path> RuleSetDirectories(
    const std::filesystem::path& root);

}  // namespace reconnect::ruleset

#endif  // RECONNECT_ENGINE_RULESET_LAYOUT_H_
