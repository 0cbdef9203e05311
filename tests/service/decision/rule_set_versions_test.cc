// Rule-set versions under one directory: which one is active, pinning by
// activation, and refusals that leave the previous versions serving.

#include "service/decision/rule_set_versions.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/audit/audit_store.h"
#include "tests/testing/files.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_rule_set.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
namespace fs = std::filesystem;

class RuleSetVersionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = template_.dir().string() + "-versions";
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A copy of the small test rule set as version directory `name`.
  void AddVersion(const std::string& name, const std::string& version,
                  const std::string& status) {
    const fs::path dir = root_ / name;
    fs::copy(template_.dir(), dir, fs::copy_options::recursive);
    Edit(dir / "ruleset.json",
         {{"\"version\": \"1.0.0\"", "\"version\": \"" + version + "\""},
          {"\"status\": \"draft\"", "\"status\": \"" + status + "\""}});
  }

  static void Edit(const fs::path& file,
                   std::vector<std::pair<std::string, std::string>> changes) {
    testing_util::EditFile(file, changes);
  }

  std::string ActiveVersion() const {
    const auto active = registry_.Active();
    return active ? active->metadata().version : "(none)";
  }

  testing_util::TempRuleSet template_;
  fs::path root_;
  RuleSetRegistry registry_;
};

TEST_F(RuleSetVersionsTest, TheHighestActiveVersionIsActive) {
  AddVersion("a", "1.0.0", "retired");
  AddVersion("b", "1.9.2", "active");
  AddVersion("c", "1.10.0", "active");
  AddVersion("d", "2.0.0-draft", "draft");
  RuleSetVersions versions(root_, registry_, nullptr);
  ASSERT_TRUE(versions.Reload("test"));
  EXPECT_EQ(ActiveVersion(), "1.10.0");  // by semantic version, not text
  EXPECT_THAT(registry_.All(), SizeIs(4));
  EXPECT_THAT(versions.refusals(), IsEmpty());
}

TEST_F(RuleSetVersionsTest, WithoutAnActiveOneTheHighestVersionIsActive) {
  AddVersion("a", "1.0.0", "draft");
  AddVersion("b", "1.2.0-draft", "draft");
  AddVersion("c", "1.2.0", "retired");
  RuleSetVersions versions(root_, registry_, nullptr);
  ASSERT_TRUE(versions.Reload("test"));
  EXPECT_EQ(ActiveVersion(), "1.2.0");
}

TEST_F(RuleSetVersionsTest, ActivationPinsAVersionUntilItIsGone) {
  AddVersion("a", "1.0.0", "active");
  AddVersion("b", "1.1.0", "active");
  RuleSetVersions versions(root_, registry_, nullptr);
  ASSERT_TRUE(versions.Reload("test"));
  EXPECT_EQ(ActiveVersion(), "1.1.0");
  EXPECT_THAT(versions.Activate("test", "1.0.0", "jwt:ops"), IsOk());
  EXPECT_EQ(ActiveVersion(), "1.0.0");
  // A reload keeps the operator's choice.
  ASSERT_TRUE(versions.Reload("test"));
  EXPECT_EQ(ActiveVersion(), "1.0.0");
  EXPECT_THAT(versions.Activate("test", "9.9.9", "jwt:ops"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("9.9.9")));
  EXPECT_EQ(ActiveVersion(), "1.0.0");
  // Once the pinned version is gone, the rule chooses again.
  fs::remove_all(root_ / "a");
  ASSERT_TRUE(versions.Reload("test"));
  EXPECT_EQ(ActiveVersion(), "1.1.0");
}

TEST_F(RuleSetVersionsTest, ABrokenVersionIsRefusedAndTheOthersServe) {
  AddVersion("a", "1.0.0", "active");
  RuleSetVersions versions(root_, registry_, nullptr);
  ASSERT_TRUE(versions.Reload("test"));
  // A new version whose condition names nothing declared.
  AddVersion("b", "2.0.0", "active");
  Edit(root_ / "b/rules/main.json",
       {{"\"when\": \"defs.high\"", "\"when\": \"undeclared_name\""}});
  // And the serving version broken in place.
  Edit(root_ / "a/catalog.json", {{"\"components\"", "\"components\" x"}});
  EXPECT_TRUE(versions.Changed());
  ASSERT_TRUE(versions.Reload("test"));
  EXPECT_EQ(ActiveVersion(), "1.0.0") << "the version loaded before serves on";
  const auto refusals = versions.refusals();
  ASSERT_THAT(refusals, SizeIs(2));
  EXPECT_THAT(refusals[0].dir, HasSubstr("/a"));
  EXPECT_THAT(refusals[0].problems,
              ElementsAre(HasSubstr("catalog.json:2:16: invalid JSON")));
  EXPECT_THAT(refusals[1].dir, HasSubstr("/b"));
  EXPECT_THAT(refusals[1].problems,
              ElementsAre(HasSubstr("rules/main.json:2:46: rule 'r.high': "
                                    "when: undeclared reference to "
                                    "'undeclared_name'")));
  EXPECT_THAT(refusals[1].problems[0], testing::EndsWith("[RS201]"));
  EXPECT_FALSE(versions.Changed());
}

TEST_F(RuleSetVersionsTest, AVersionWhoseOwnTestsFailIsRefused) {
  AddVersion("a", "1.0.0", "active");
  Edit(root_ / "a/tests/cases.json",
       {{"\"expect\": {\"techniques\": [\"t1\"]}",
         "\"expect\": {\"techniques\": [\"t2\"]}"}});
  RuleSetVersions versions(root_, registry_, nullptr);
  EXPECT_FALSE(versions.Reload("test"));
  EXPECT_EQ(ActiveVersion(), "(none)");
  ASSERT_THAT(versions.refusals(), SizeIs(1));
  EXPECT_THAT(versions.refusals()[0].problems,
              testing::Contains(HasSubstr("high")));
}

TEST_F(RuleSetVersionsTest, TwoDirectoriesWithOneVersionServeTheFirst) {
  AddVersion("a", "1.0.0", "active");
  AddVersion("b", "1.0.0", "active");
  RuleSetVersions versions(root_, registry_, nullptr);
  ASSERT_TRUE(versions.Reload("test"));
  EXPECT_THAT(registry_.All(), SizeIs(1));
}

TEST_F(RuleSetVersionsTest, AnEmptyDirectoryServesNothingAndSaysWhy) {
  RuleSetVersions versions(root_, registry_, nullptr);
  EXPECT_FALSE(versions.Reload("test"));
  ASSERT_THAT(versions.refusals(), SizeIs(1));
  EXPECT_THAT(versions.refusals()[0].problems,
              ElementsAre(HasSubstr("holds no ruleset.json")));
}

// Every reload and activation is recorded in the audit store: by whom,
// what was then active and loaded, and what was refused.
TEST_F(RuleSetVersionsTest, ReloadsAndActivationsAreRecorded) {
  AddVersion("a", "1.0.0", "active");
  AddVersion("b", "1.1.0", "active");
  const std::string path = root_.string() + "-audit.db";
  {
    auto audit = AuditStore::Open({path});
    ASSERT_THAT(audit, IsOk());
    RuleSetVersions versions(root_, registry_, audit->get());
    ASSERT_TRUE(versions.Reload("start-up"));
    const std::string newer = registry_.Active()->digest();
    EXPECT_THAT(versions.Activate("test", "1.0.0", "jwt:ops"), IsOk());
    const std::string older = registry_.Active()->digest();
    EXPECT_FALSE(versions.Activate("test", "9.9.9", "jwt:ops").ok());
    Edit(root_ / "b/catalog.json", {{"\"components\"", "\"components\" x"}});
    ASSERT_TRUE(versions.Reload("SIGHUP"));

    auto reader = AuditReader::Open(path);
    ASSERT_THAT(reader, IsOk());
    auto events = (*reader)->ListRuleSetEvents(10);
    ASSERT_THAT(events, IsOk());
    ASSERT_THAT(*events, SizeIs(4));
    // Newest first.
    const RuleSetEvent& reload = (*events)[0];
    EXPECT_EQ(reload.action, "reload");
    EXPECT_EQ(reload.who, "SIGHUP");
    EXPECT_EQ(reload.refused, "");
    EXPECT_EQ(reload.active_digest, older);
    EXPECT_THAT(reload.loaded_digests, SizeIs(2));  // b serves on
    ASSERT_THAT(reload.refusals, SizeIs(1));
    EXPECT_THAT(reload.refusals[0].dir, HasSubstr("/b"));
    EXPECT_THAT(reload.refusals[0].problems,
                ElementsAre(HasSubstr("catalog.json:2:16: invalid JSON")));
    EXPECT_EQ((*events)[1].action, "activate");
    EXPECT_THAT((*events)[1].refused, HasSubstr("9.9.9 is not loaded"));
    EXPECT_EQ((*events)[2].action, "activate");
    EXPECT_EQ((*events)[2].who, "jwt:ops");
    EXPECT_EQ((*events)[2].refused, "");
    EXPECT_EQ((*events)[2].active_digest, older);
    EXPECT_EQ((*events)[3].who, "start-up");
    EXPECT_EQ((*events)[3].active_digest, newer);
    EXPECT_GT((*events)[0].sequence, (*events)[3].sequence);
    EXPECT_GT((*events)[3].time_micros, 0);
  }
  fs::remove(path);
  fs::remove(path + "-wal");
  fs::remove(path + "-shm");
}

// The approval check (a sign-off) refuses as a failing test case does, the
// version before keeps serving, and what it approved with is kept in the
// audit store with the version.
TEST_F(RuleSetVersionsTest, AnApprovalCheckRefusesOrRecordsItsSignatures) {
  AddVersion("a", "1.0.0", "active");
  const std::string path = root_.string() + "-approval.db";
  {
    auto audit = AuditStore::Open({path});
    ASSERT_THAT(audit, IsOk());
    RuleSetVersions versions(root_, registry_, audit->get());
    bool approve = true;
    versions.set_approval_check([&approve](const fs::path& dir,
                                           const ruleset::CompiledRuleSet& rs) {
      RuleSetVersions::Approval approval;
      if (!approve) {
        approval.problems.push_back("not signed: " + dir.filename().string());
        return approval;
      }
      RuleSetSignature s;
      s.digest = rs.digest();
      s.role = "clinical_lead";
      s.signer = "B. Lead";
      s.signed_at = "2026-12-01T10:00:00Z";
      s.key_id = "lead";
      s.algorithm = "EdDSA";
      s.jws = "h.p." + rs.metadata().version;
      approval.signatures = {s};
      return approval;
    });
    ASSERT_TRUE(versions.Reload("start-up"));
    const std::string first = registry_.Active()->digest();
    approve = false;
    AddVersion("b", "1.1.0", "active");
    ASSERT_TRUE(versions.Reload("SIGHUP"));
    // a was approved before and serves on; b is refused.
    EXPECT_EQ(ActiveVersion(), "1.0.0");
    ASSERT_THAT(versions.refusals(), SizeIs(2));
    EXPECT_THAT(versions.refusals()[1].problems, ElementsAre("not signed: b"));

    auto reader = AuditReader::Open(path);
    ASSERT_THAT(reader, IsOk());
    auto kept = (*reader)->GetRuleSetSignatures(first);
    ASSERT_THAT(kept, IsOk());
    ASSERT_THAT(*kept, SizeIs(1));
    EXPECT_EQ((*kept)[0].signer, "B. Lead");
    EXPECT_EQ((*kept)[0].jws, "h.p.1.0.0");
    EXPECT_EQ((*kept)[0].digest, first);
    EXPECT_THAT(*(*reader)->GetRuleSetSignatures("other"), IsEmpty());
  }
  fs::remove(path);
  fs::remove(path + "-wal");
  fs::remove(path + "-shm");
}

}  // namespace
}  // namespace reconnect::service
