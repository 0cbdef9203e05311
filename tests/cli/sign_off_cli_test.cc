// `reconnect sign`, `verify-signatures`, `signer-jwk` and what `lint`
// checks of signatures.json, run as a user runs them.

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/cli.h"
#include "tests/testing/files.h"

namespace reconnect {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::RunReconnect;
namespace fs = std::filesystem;

const std::string kSource = RECONNECT_SOURCE_DIR;
const std::string kKeys = kSource + "/tests/keys/";
const std::string kSigners = kKeys + "rule-signers.jwks.json";

// A copy of the bundled, signed 1.1.0 in a temporary directory.
class SignOffCliTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sign_off_cli_test.XXXXXX";
    root_ = mkdtemp(tmpl);
    dir_ = root_ / "1.1.0";
    fs::copy(kSource + "/rules/reconnect/1.1.0", dir_,
             fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::pair<int, std::string> SignAs(
      const std::string& signer,
      const std::string& key = "safety-officer-test.pem") {
    return RunReconnect(
        absl::StrCat("sign ", dir_.string(), " --key ", kKeys, key,
                     " --role clinical_safety_officer --signer '", signer,
                     "' --key_id reconnect-test-safety-officer"));
  }

  fs::path root_, dir_;
};

TEST_F(SignOffCliTest, TheBundledVersionVerifies) {
  auto [code, out] = RunReconnect(absl::StrCat(
      "verify-signatures ", kSource, "/rules/reconnect/1.1.0 --keys ", kSigners,
      " --require_signatures clinical_safety_officer,clinical_lead"));
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("  ok    clinical_safety_officer: Re-Connect test "
                             "signer: clinical safety officer, "));
  EXPECT_THAT(out, HasSubstr("key reconnect-test-clinical-lead (EdDSA)"));
  EXPECT_THAT(out, HasSubstr("  2 valid, 0 problem(s)\n"));
  // 1.0.5 is unsigned: fine when nothing is required, refused when it is.
  std::tie(code, out) = RunReconnect(absl::StrCat(
      "verify-signatures ", kSource, "/rules/reconnect --keys ", kSigners));
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("  unsigned (no signatures.json)\n"));
  std::tie(code, out) = RunReconnect(
      absl::StrCat("verify-signatures ", kSource, "/rules/reconnect --keys ",
                   kSigners, " --require_signatures clinical_lead"));
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out,
              HasSubstr("  BAD   no valid signature by the clinical_lead"));
}

TEST_F(SignOffCliTest, VerifyRefusesBadKeysAndRoles) {
  auto [code, out] = RunReconnect(absl::StrCat(
      "verify-signatures ", dir_.string(), " --keys /nonexistent.json"));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("--keys '/nonexistent.json' cannot be read"));
  std::tie(code, out) =
      RunReconnect(absl::StrCat("verify-signatures ", dir_.string(), " --keys ",
                                kKeys, "safety-officer-test.pem"));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("not a JSON object with a 'keys' array"));
  std::tie(code, out) =
      RunReconnect(absl::StrCat("verify-signatures ", dir_.string(), " --keys ",
                                kSigners, " --require_signatures porter"));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("'porter' is not a signer role"));
}

TEST_F(SignOffCliTest, LintFindsStaleSignaturesAndStrangers) {
  auto [code, out] = RunReconnect("lint " + dir_.string());
  EXPECT_EQ(code, 0) << out;
  testing_util::EditFile(
      dir_ / "ruleset.json",
      {{"\"title\": \"Re-Connect:", "\"title\": \"Re-Connect, edited:"}});
  std::tie(code, out) = RunReconnect("lint " + dir_.string());
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("/signatures.json: signature 0 ("));
  EXPECT_THAT(out, HasSubstr("not this rule set's: it changed after it was "
                             "signed; sign it again [RS701]"));
  // An approver who has not signed, after the rule set is signed again.
  testing_util::EditFile(
      dir_ / "ruleset.json",
      {{"\"approvers\": [", "\"approvers\": [\"Dr Unsigned\", "}});
  std::tie(code, out) =
      SignAs("Re-Connect test signer: clinical safety officer");
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("dropped 2 signature(s) over an earlier digest"));
  std::tie(code, out) = RunReconnect("lint " + dir_.string());
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("approver 'Dr Unsigned' in ruleset.json has not "
                             "signed it [RS701]"));
  std::ofstream(dir_ / "signatures.json", std::ios::trunc) << "[]";
  std::tie(code, out) = RunReconnect("lint " + dir_.string());
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("is not a JSON object holding only a "
                             "'signatures' array [RS701]"));
}

TEST_F(SignOffCliTest, SignRefusesWhatShouldNotBeSigned) {
  // Someone who is not an approver.
  auto [code, out] = SignAs("Dr Nobody");
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("'Dr Nobody' is not among the approvers"));
  // A version whose test cases fail.
  testing_util::EditFile(dir_ / "params.json",
                         {{"\"value\": 30,", "\"value\": 99,"}});
  std::tie(code, out) =
      SignAs("Re-Connect test signer: clinical safety officer");
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, HasSubstr("not signed: its test cases do not pass"));
  // A key of another kind, a versions directory, a role that is not one.
  std::tie(code, out) = SignAs("x", "rule-signers.jwks.json");
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("is not a PEM private key"));
  std::tie(code, out) = RunReconnect(
      absl::StrCat("sign ", root_.string(), " --key ", kKeys,
                   "safety-officer-test.pem --role clinical_lead --signer x"));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("is not one version's directory"));
  std::tie(code, out) = RunReconnect(
      absl::StrCat("sign ", dir_.string(), " --key ", kKeys,
                   "safety-officer-test.pem --role clinical_lead"));
  EXPECT_EQ(code, 2) << out;
  EXPECT_THAT(out, HasSubstr("sign needs --key, --role and --signer"));
}

TEST_F(SignOffCliTest, SignerJwkPublishesTheKeyTheServerTrusts) {
  auto [code, out] = RunReconnect(absl::StrCat(
      "signer-jwk --key ", kKeys,
      "clinical-lead-test.pem --key_id reconnect-test-clinical-lead"));
  ASSERT_EQ(code, 0) << out;
  nlohmann::json printed = nlohmann::json::parse(out);
  nlohmann::json bundled;
  std::ifstream(kSigners) >> bundled;
  EXPECT_THAT(bundled["keys"], testing::Contains(printed["keys"][0]));
  EXPECT_EQ(printed["keys"][0]["kty"], "OKP");
  // Without a key id, the key's thumbprint names it.
  std::tie(code, out) = RunReconnect(
      absl::StrCat("signer-jwk --key ", kKeys, "safety-officer-test.pem"));
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(
      nlohmann::json::parse(out)["keys"][0]["kid"].get<std::string>().size(),
      43u);
}

}  // namespace
}  // namespace reconnect
