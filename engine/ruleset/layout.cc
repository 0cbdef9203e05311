#include "engine/ruleset/layout.h"

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace reconnect::ruleset {

namespace {

// (major, minor, patch, is-release, pre-release text)
std::tuple<int64_t, int64_t, int64_t, bool, std::string> VersionKey(
    const std::string& v) {
  const size_t dash = v.find('-');
  const std::string core = v.substr(0, dash);
  std::vector<std::string> parts = absl::StrSplit(core, '.');
  int64_t n[3] = {0, 0, 0};
  for (size_t i = 0; i < parts.size() && i < 3; ++i) {
    if (!absl::SimpleAtoi(parts[i], &n[i])) n[i] = 0;
  }
  return {n[0], n[1], n[2], dash == std::string::npos,
          dash == std::string::npos ? "" : v.substr(dash + 1)};
}

}  // namespace

bool VersionLess(const std::string& a, const std::string& b) {
  return VersionKey(a) < VersionKey(b);
}

bool PreferredAsActive(const std::string& a_status,
                       const std::string& a_version,
                       const std::string& b_status,
                       const std::string& b_version) {
  const bool a_active = a_status == "active";
  const bool b_active = b_status == "active";
  if (a_active != b_active) return a_active;
  return VersionLess(b_version, a_version);
}

std::vector<std::filesystem::path> RuleSetDirectories(
    const std::filesystem::path& root) {
  std::error_code ec;
  if (std::filesystem::exists(root / kMetadataFile, ec)) return {root};
  std::vector<std::filesystem::path> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    if (entry.is_directory(ec) &&
        std::filesystem::exists(entry.path() / kMetadataFile, ec)) {
      dirs.push_back(entry.path());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace reconnect::ruleset
