// Sign-offs of rule-set versions: signing with ES256 and EdDSA, and every
// way a signature fails to verify, each a problem rather than a skip.

#include "service/security/rule_signatures.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
namespace fs = std::filesystem;

constexpr char kDigest[] =
    "1111111111111111111111111111111111111111111111111111111111111111";
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

SigningKey Key(const std::string& name) {
  auto key = SigningKey::FromPem(
      ReadFile(std::string(RECONNECT_SOURCE_DIR) + "/tests/keys/" + name));
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

std::shared_ptr<const JwkSet> Keys(std::vector<nlohmann::json> jwks) {
  auto keys = JwkSet::Parse(nlohmann::json({{"keys", jwks}}).dump());
  EXPECT_TRUE(keys.ok()) << keys.status();
  return *keys;
}

class RuleSignaturesTest : public testing::Test {
 protected:
  RuleSignaturesTest()
      : officer_(Key("safety-officer-test.pem")),
        lead_(Key("clinical-lead-test.pem")),
        keys_(Keys({officer_.PublicJwk("officer"), lead_.PublicJwk("lead")})) {}

  RuleSetSignature Sign(const SigningKey& key, const std::string& kid,
                        const std::string& role = "clinical_safety_officer",
                        const std::string& digest = kDigest) {
    auto s = SignRuleSet(digest, role, "A. Officer", key, kid,
                         kNow - absl::Hours(1));
    EXPECT_TRUE(s.ok()) << s.status();
    return *s;
  }

  std::vector<std::string> Problems(const RuleSetSignature& s) {
    const SignatureCheck check = VerifySignatures({s}, kDigest, *keys_, kNow);
    EXPECT_THAT(check.verified, IsEmpty());
    return check.problems;
  }

  SigningKey officer_, lead_;
  std::shared_ptr<const JwkSet> keys_;
};

TEST_F(RuleSignaturesTest, SignsAndVerifiesWithBothAlgorithms) {
  EXPECT_EQ(officer_.algorithm(), "ES256");
  EXPECT_EQ(lead_.algorithm(), "EdDSA");
  const RuleSetSignature a = Sign(officer_, "officer");
  const RuleSetSignature b = Sign(lead_, "lead", "clinical_lead");
  const SignatureCheck check = VerifySignatures({a, b}, kDigest, *keys_, kNow);
  EXPECT_THAT(check.problems, IsEmpty());
  ASSERT_THAT(check.verified, SizeIs(2));
  EXPECT_EQ(check.verified[0].signed_at, "2027-01-15T07:00:00Z");
  EXPECT_THAT(MissingRoles(check.verified,
                           {"clinical_safety_officer", "clinical_lead"}),
              IsEmpty());
  EXPECT_THAT(MissingRoles(check.verified, {"governance"}),
              ElementsAre(HasSubstr("no valid signature by the governance")));
}

TEST_F(RuleSignaturesTest, ThumbprintNamesTheKey) {
  EXPECT_EQ(officer_.Thumbprint().size(), 43u);  // base64url of SHA-256
  EXPECT_NE(officer_.Thumbprint(), lead_.Thumbprint());
  EXPECT_EQ(officer_.Thumbprint(), Key("safety-officer-test.pem").Thumbprint());
}

TEST_F(RuleSignaturesTest, EveryFaultIsAProblem) {
  // An unknown key id.
  EXPECT_THAT(Problems(Sign(officer_, "nobody")),
              ElementsAre(HasSubstr("which the signers' JWKS does not hold")));
  // A signature over another digest.
  EXPECT_THAT(
      Problems(Sign(officer_, "officer", "clinical_safety_officer",
                    std::string(64, '2'))),
      ElementsAre(HasSubstr("the rule set changed after it was signed")));
  // Readable fields that say something the signed payload does not.
  RuleSetSignature relabelled = Sign(officer_, "officer");
  relabelled.signer = "Someone Else";
  EXPECT_THAT(Problems(relabelled),
              ElementsAre(HasSubstr("payload does not say what its fields")));
  relabelled = Sign(officer_, "officer");
  relabelled.role = "governance";
  EXPECT_THAT(Problems(relabelled),
              ElementsAre(HasSubstr("payload does not say what its fields")));
  // Signed with the other key than its kid names.
  RuleSetSignature swapped = Sign(lead_, "officer");
  EXPECT_THAT(Problems(swapped), ElementsAre(HasSubstr("does not verify")));
  // A signature whose bytes were changed.
  RuleSetSignature tampered = Sign(officer_, "officer");
  // (Not the last character, whose low bits are padding.)
  char& c = tampered.jws[tampered.jws.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  EXPECT_THAT(Problems(tampered), ElementsAre(HasSubstr("does not verify")));
  // A time in the future.
  auto future = SignRuleSet(kDigest, "clinical_safety_officer", "A. Officer",
                            officer_, "officer", kNow + absl::Hours(1));
  ASSERT_TRUE(future.ok());
  EXPECT_THAT(Problems(*future),
              ElementsAre(HasSubstr("which is not a past time")));
}

TEST_F(RuleSignaturesTest, AnExpiredKeyVerifiesNothing) {
  nlohmann::json jwk = officer_.PublicJwk("officer");
  jwk["exp"] = absl::ToUnixSeconds(kNow - absl::Hours(1));
  const auto expired = Keys({jwk});
  const SignatureCheck check =
      VerifySignatures({Sign(officer_, "officer")}, kDigest, *expired, kNow);
  EXPECT_THAT(check.verified, IsEmpty());
  EXPECT_THAT(check.problems, ElementsAre(HasSubstr("expired at")));
  // Before its expiry it verifies.
  jwk["exp"] = absl::ToUnixSeconds(kNow + absl::Hours(1));
  EXPECT_THAT(
      VerifySignatures({Sign(officer_, "officer")}, kDigest, *Keys({jwk}), kNow)
          .problems,
      IsEmpty());
}

TEST_F(RuleSignaturesTest, ApproversMustBeTheSigners) {
  const RuleSetSignature s = Sign(officer_, "officer");
  EXPECT_THAT(ApproverMismatches({"A. Officer"}, {s}), IsEmpty());
  EXPECT_THAT(ApproverMismatches({"A. Officer", "B. Lead"}, {s}),
              ElementsAre(HasSubstr("approver 'B. Lead' in ruleset.json has "
                                    "not signed it")));
  EXPECT_THAT(ApproverMismatches({}, {s}),
              ElementsAre(HasSubstr("'A. Officer' signed it but is not among "
                                    "the approvers")));
}

TEST_F(RuleSignaturesTest, RolesAreChecked) {
  EXPECT_THAT(*ParseSignerRoles("clinical_lead, governance,clinical_lead"),
              ElementsAre("clinical_lead", "governance"));
  EXPECT_THAT(*ParseSignerRoles(""), IsEmpty());
  EXPECT_THAT(ParseSignerRoles("clinical_lead,ward_clerk").status().message(),
              HasSubstr("'ward_clerk' is not a signer role"));
  EXPECT_FALSE(
      SignRuleSet(kDigest, "ward_clerk", "A", officer_, "officer", kNow).ok());
}

class SignaturesFileTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("signatures-file-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Why(const std::string& text) {
    std::ofstream(dir_ / kSignaturesFile, std::ios::trunc) << text;
    auto read = ReadSignatures(dir_);
    EXPECT_FALSE(read.ok()) << text;
    return std::string(read.status().message());
  }
  fs::path dir_;
};

TEST_F(SignaturesFileTest, RoundTripsAndNoFileIsNoSignatures) {
  EXPECT_THAT(*ReadSignatures(dir_), IsEmpty());
  SigningKey key = Key("clinical-lead-test.pem");
  auto s = SignRuleSet(kDigest, "clinical_lead", "B. Lead", key, "lead", kNow);
  ASSERT_TRUE(s.ok());
  std::ofstream(dir_ / kSignaturesFile) << SignaturesJson({*s, *s});
  auto read = ReadSignatures(dir_);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_THAT(*read, SizeIs(2));
  EXPECT_EQ((*read)[1].jws, s->jws);
  EXPECT_EQ((*read)[1].signer, "B. Lead");
}

TEST_F(SignaturesFileTest, MalformedFilesNameWhatAndWhere) {
  EXPECT_THAT(Why("{"), HasSubstr("signatures.json is not valid JSON"));
  EXPECT_THAT(Why("{\"signatures\": [\"\xff\"]}"),
              HasSubstr("is not valid JSON (UTF-8)"));
  EXPECT_THAT(Why("[]"), HasSubstr("signatures.json is not a JSON object"));
  EXPECT_THAT(Why(R"({"signatures": {}})"),
              HasSubstr("holding only a 'signatures' array"));
  EXPECT_THAT(Why(R"({"signatures": [], "extra": 1})"),
              HasSubstr("holding only a 'signatures' array"));
  EXPECT_THAT(Why(R"({"signatures": [7]})"),
              HasSubstr("signature 0 is not an object"));
  const std::string good =
      R"("digest": "d", "role": "clinical_lead", "signer": "B",)"
      R"( "signed_at": "2026-12-01T10:00:00Z", "key_id": "k",)";
  EXPECT_THAT(
      Why(R"({"signatures": [{)" + good + R"( "algorithm": "ES256"}]})"),
      HasSubstr("signature 0 needs 'jws' as a non-empty string"));
  EXPECT_THAT(Why(R"({"signatures": [{)" + good +
                  R"( "algorithm": "RS256", "jws": "x"}]})"),
              HasSubstr("algorithm 'RS256'"));
  EXPECT_THAT(Why(R"({"signatures": [{)" + good +
                  R"( "algorithm": "ES256", "jws": "x", "note": ""}]})"),
              HasSubstr("unknown field 'note'"));
  std::string bad_role = good;
  bad_role.replace(bad_role.find("clinical_lead"), 13, "porter");
  EXPECT_THAT(Why(R"({"signatures": [{)" + bad_role +
                  R"( "algorithm": "ES256", "jws": "x"}]})"),
              HasSubstr("role 'porter'"));
  std::string bad_time = good;
  bad_time.replace(bad_time.find("2026-12-01T10:00:00Z"), 20, "yesterday");
  EXPECT_THAT(Why(R"({"signatures": [{)" + bad_time +
                  R"( "algorithm": "ES256", "jws": "x"}]})"),
              HasSubstr("not an RFC 3339 time"));
}

TEST(SigningKeyTest, RefusesOtherKeys) {
  EXPECT_THAT(SigningKey::FromPem("not a key").status().message(),
              HasSubstr("is not a PEM private key"));
  // A public key, or an RSA key, signs nothing here.
  EXPECT_FALSE(
      SigningKey::FromPem(ReadFile(std::string(RECONNECT_SOURCE_DIR) +
                                   "/tests/keys/rule-signers.jwks.json"))
          .ok());
}

}  // namespace
}  // namespace reconnect::service
