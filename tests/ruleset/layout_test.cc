#include "engine/ruleset/layout.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"

namespace reconnect::ruleset {
namespace {

using ::testing::ElementsAre;
namespace fs = std::filesystem;

TEST(VersionLessTest, OrdersBySemanticVersionPrecedence) {
  // Each is before the next.
  const std::vector<std::string> ordered = {
      "0.9.0", "1.0.0-alpha", "1.0.0-beta", "1.0.0", "1.0.1", "1.2.0-draft",
      "1.2.0", "1.9.2",       "1.10.0",     "2.0.0", "10.0.0"};
  for (size_t i = 0; i + 1 < ordered.size(); ++i) {
    EXPECT_TRUE(VersionLess(ordered[i], ordered[i + 1]))
        << ordered[i] << " < " << ordered[i + 1];
    EXPECT_FALSE(VersionLess(ordered[i + 1], ordered[i]))
        << ordered[i + 1] << " !< " << ordered[i];
  }
  EXPECT_FALSE(VersionLess("1.2.3", "1.2.3"));
  std::vector<std::string> shuffled = {"1.10.0", "1.2.0", "1.2.0-draft",
                                       "1.9.2"};
  std::sort(shuffled.begin(), shuffled.end(), VersionLess);
  EXPECT_THAT(shuffled, ElementsAre("1.2.0-draft", "1.2.0", "1.9.2", "1.10.0"));
}

TEST(VersionPatternTest, AcceptsSemanticVersionsOnly) {
  for (const char* good :
       {"1.0.0", "0.1.0", "10.20.30", "1.2.0-draft", "1.2.0-rc.1"}) {
    EXPECT_TRUE(RE2::FullMatch(good, kVersionPattern)) << good;
  }
  for (const char* bad : {"1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0 ", ""}) {
    EXPECT_FALSE(RE2::FullMatch(bad, kVersionPattern)) << bad;
  }
}

TEST(RuleSetDirectoriesTest, OneRuleSetOrOneDirectoryPerVersion) {
  char tmpl[] = "/tmp/layout_test.XXXXXX";
  const fs::path root = mkdtemp(tmpl);
  auto touch = [](const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "{}";
  };
  touch(root / "v2" / kMetadataFile);
  touch(root / "v1" / kMetadataFile);
  touch(root / "notes" / "README.md");  // no metadata: not a version
  EXPECT_THAT(RuleSetDirectories(root), ElementsAre(root / "v1", root / "v2"));
  EXPECT_THAT(RuleSetDirectories(root / "v1"), ElementsAre(root / "v1"));
  EXPECT_TRUE(RuleSetDirectories(root / "notes").empty());
  EXPECT_TRUE(RuleSetDirectories(root / "missing").empty());
  fs::remove_all(root);
}

}  // namespace
}  // namespace reconnect::ruleset
