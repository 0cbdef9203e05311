// Signed rule-set versions over real processes: a server that requires the
// clinical safety officer's and the clinical lead's sign-off refuses a new
// version for each signature fault (the version before keeps serving, and
// Governance shows the refusal), and takes it once `reconnect sign` has
// signed it properly. The bundled version is signed with the test keys in
// tests/keys/.

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "reconnect/v1/decision_support.grpc.pb.h"
#include "reconnect/v1/governance.grpc.pb.h"
#include "tests/testing/cli.h"
#include "tests/testing/examples.h"
#include "tests/testing/files.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"

namespace reconnect {
namespace {

using ::reconnect::testing_util::IsOk;
using ::testing::HasSubstr;
using testing_util::RunReconnect;
using testing_util::ServerProcess;
namespace fs = std::filesystem;

const std::string kSource = RECONNECT_SOURCE_DIR;
const std::string kSigners = kSource + "/tests/keys/rule-signers.jwks.json";
constexpr char kOfficer[] = "Re-Connect test signer: clinical safety officer";
constexpr char kLead[] = "Re-Connect test signer: clinical lead";

class SignOffE2ETest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/sign_off_e2e_test.XXXXXX";
    root_ = new fs::path(mkdtemp(tmpl));
    fs::create_directories(*root_ / "versions");
    fs::copy(kSource + "/rules/reconnect/1.1.0", *root_ / "versions/base",
             fs::copy_options::recursive);
    server_ = new ServerProcess(
        {RECONNECT_BINARY, "serve", "--rules", (*root_ / "versions").string(),
         "--listen", "127.0.0.1:0", "--audit", (*root_ / "audit.db").string(),
         "--reload_poll_seconds=0", "--rule_signers", kSigners,
         "--require_signatures", "clinical_safety_officer,clinical_lead"});
    auto serving = server_->WaitForEvent("serving", std::chrono::seconds(30));
    ASSERT_TRUE(serving.has_value());
    auto channel = grpc::CreateChannel((*serving)["address"].get<std::string>(),
                                       grpc::InsecureChannelCredentials());
    governance_ = v1::Governance::NewStub(channel).release();
    decisions_ = v1::DecisionSupport::NewStub(channel).release();
  }
  static void TearDownTestSuite() {
    delete governance_;
    delete decisions_;
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(SIGTERM, std::chrono::seconds(10)), 0);
      delete server_;
    }
    fs::remove_all(*root_);
    delete root_;
  }

  // versions/next: the bundled version as 1.2.0, unsigned.
  void SetUp() override {
    fs::remove_all(Next());
    fs::copy(kSource + "/rules/reconnect/1.1.0", Next(),
             fs::copy_options::recursive);
    fs::remove(Next() / "signatures.json");
    testing_util::EditFile(Next() / "ruleset.json",
                           {{"\"version\": \"1.1.0\",\n  \"status\"",
                             "\"version\": \"1.2.0\",\n  \"status\""}});
  }

  static fs::path Next() { return *root_ / "versions/next"; }

  // `reconnect sign` on versions/next; its exit status.
  static int Sign(const std::string& key, const std::string& role,
                  const std::string& signer, const std::string& kid) {
    auto [status, out] = RunReconnect(
        "sign " + Next().string() + " --key " + kSource + "/tests/keys/" + key +
        " --role " + role + " --signer '" + signer + "' --key_id " + kid);
    EXPECT_EQ(status, 0) << out;
    return status;
  }
  static void SignBoth() {
    Sign("safety-officer-test.pem", "clinical_safety_officer", kOfficer,
         "reconnect-test-safety-officer");
    Sign("clinical-lead-test.pem", "clinical_lead", kLead,
         "reconnect-test-clinical-lead");
  }

  // Reloads, then what Governance says was refused in versions/next.
  static std::vector<std::string> ReloadRefusals() {
    kill(server_->pid(), SIGHUP);
    EXPECT_TRUE(
        server_->WaitForEvent("rule_sets_reloaded", std::chrono::seconds(30))
            .has_value());
    v1::ListRuleSetsRequest request;
    v1::ListRuleSetsResponse response;
    grpc::ClientContext ctx;
    EXPECT_THAT(governance_->ListRuleSets(&ctx, request, &response), IsOk());
    for (const auto& refusal : response.refusals()) {
      if (refusal.dir() == Next().string()) {
        return {refusal.problems().begin(), refusal.problems().end()};
      }
    }
    return {};
  }

  // The version that answers an unpinned call.
  static std::string ServingVersion() {
    v1::EvaluateRequest request =
        testing_util::ExampleRequest("no-partner.json", "sign-off-e2e");
    v1::EvaluateResponse response;
    grpc::ClientContext ctx;
    EXPECT_THAT(decisions_->Evaluate(&ctx, request, &response), IsOk());
    return response.rule_set().version();
  }

  // The refusal of versions/next after a reload: one problem holding
  // `why`, while 1.1.0 keeps serving.
  static void ExpectRefused(const std::string& why) {
    const std::vector<std::string> problems = ReloadRefusals();
    EXPECT_THAT(problems, testing::Contains(HasSubstr(why)));
    EXPECT_EQ(ServingVersion(), "1.1.0");
  }

  static fs::path* root_;
  static ServerProcess* server_;
  static v1::Governance::Stub* governance_;
  static v1::DecisionSupport::Stub* decisions_;
};

fs::path* SignOffE2ETest::root_ = nullptr;
ServerProcess* SignOffE2ETest::server_ = nullptr;
v1::Governance::Stub* SignOffE2ETest::governance_ = nullptr;
v1::DecisionSupport::Stub* SignOffE2ETest::decisions_ = nullptr;

TEST_F(SignOffE2ETest, TheBundledVersionServesWithItsSignatures) {
  EXPECT_EQ(ServingVersion(), "1.1.0");
  v1::GetRuleSetRequest request;
  request.set_id("reconnect");
  request.set_version("1.1.0");
  v1::GetRuleSetResponse response;
  grpc::ClientContext ctx;
  ASSERT_THAT(governance_->GetRuleSet(&ctx, request, &response), IsOk());
  ASSERT_EQ(response.signatures_size(), 2);
  EXPECT_EQ(response.signatures(0).role(), "clinical_lead");
  EXPECT_EQ(response.signatures(0).signer(), kLead);
  EXPECT_EQ(response.signatures(0).algorithm(), "EdDSA");
  EXPECT_EQ(response.signatures(1).role(), "clinical_safety_officer");
  EXPECT_EQ(response.signatures(1).key_id(), "reconnect-test-safety-officer");
  EXPECT_EQ(response.signatures(1).algorithm(), "ES256");
  EXPECT_THAT(response.signatures(1).jws(), testing::StartsWith("eyJ"));
}

TEST_F(SignOffE2ETest, AnUnsignedVersionIsRefused) {
  ExpectRefused("no valid signature by the clinical_safety_officer");
}

TEST_F(SignOffE2ETest, AVersionWithoutEveryRequiredRoleIsRefused) {
  Sign("safety-officer-test.pem", "clinical_safety_officer", kOfficer,
       "reconnect-test-safety-officer");
  ExpectRefused("no valid signature by the clinical_lead");
}

TEST_F(SignOffE2ETest, AnUnknownKeyIsRefused) {
  SignBoth();
  Sign("safety-officer-test.pem", "clinical_safety_officer", kOfficer,
       "someone-elses-key");
  ExpectRefused("by key 'someone-elses-key', which the signers' JWKS");
}

TEST_F(SignOffE2ETest, AVersionChangedAfterSigningIsRefused) {
  SignBoth();
  testing_util::EditFile(
      Next() / "ruleset.json",
      {{"\"title\": \"Re-Connect:", "\"title\": \"Re-Connect, edited:"}});
  ExpectRefused("the rule set changed after it was signed");
}

TEST_F(SignOffE2ETest, AForgedSignerIsRefused) {
  SignBoth();
  testing_util::EditFile(Next() / "signatures.json",
                         {{"\"signer\": \"Re-Connect test signer: clinical "
                           "lead\"",
                           "\"signer\": \"Someone Else\""}});
  ExpectRefused("payload does not say what its fields say");
}

TEST_F(SignOffE2ETest, AMalformedFileIsRefused) {
  std::ofstream(Next() / "signatures.json") << "{\"signatures\": [";
  ExpectRefused("signatures.json is not valid JSON");
}

TEST_F(SignOffE2ETest, ASignedReloadIsAcceptedAndKept) {
  SignBoth();
  EXPECT_THAT(ReloadRefusals(), testing::IsEmpty());
  EXPECT_EQ(ServingVersion(), "1.2.0");
  v1::GetRuleSetRequest request;
  request.set_id("reconnect");
  request.set_version("1.2.0");
  v1::GetRuleSetResponse response;
  grpc::ClientContext ctx;
  ASSERT_THAT(governance_->GetRuleSet(&ctx, request, &response), IsOk());
  EXPECT_EQ(response.signatures_size(), 2);
  // The next test starts from 1.1.0 again.
  fs::remove_all(Next());
  EXPECT_THAT(ReloadRefusals(), testing::IsEmpty());
  EXPECT_EQ(ServingVersion(), "1.1.0");
}

// A key past its "exp" verifies nothing: with it, not even the bundled
// version serves, and the server says why.
TEST(SignOffStartupTest, AnExpiredKeyRefusesTheVersion) {
  char tmpl[] = "/tmp/sign_off_expired.XXXXXX";
  const fs::path root = mkdtemp(tmpl);
  nlohmann::json jwks;
  std::ifstream(kSigners) >> jwks;
  for (auto& key : jwks["keys"]) key["exp"] = 1000000000;  // 2001
  std::ofstream(root / "signers.json") << jwks.dump();
  ServerProcess server({RECONNECT_BINARY, "serve", "--rules",
                        kSource + "/rules/reconnect/1.1.0", "--listen",
                        "127.0.0.1:0", "--audit", "off", "--rule_signers",
                        (root / "signers.json").string(),
                        "--require_signatures", "clinical_safety_officer"});
  auto refused =
      server.WaitForEvent("rule_set_issue", std::chrono::seconds(30));
  ASSERT_TRUE(refused.has_value());
  EXPECT_THAT((*refused)["issue"].get<std::string>(), HasSubstr("expired at"));
  EXPECT_TRUE(
      server.WaitForEvent("no_rule_set_served", std::chrono::seconds(30))
          .has_value());
  EXPECT_EQ(server.Stop(SIGTERM, std::chrono::seconds(10)), 0);
  fs::remove_all(root);
}

TEST(SignOffStartupTest, BadSignOffFlagsAreRefused) {
  const std::string serve = "serve --rules " + kSource +
                            "/rules/reconnect/1.1.0 --listen 127.0.0.1:0 "
                            "--audit off ";
  auto [status, out] =
      RunReconnect(serve + "--require_signatures clinical_lead");
  EXPECT_EQ(status, 2);
  EXPECT_THAT(out, HasSubstr("--require_signatures needs --rule_signers"));
  std::tie(status, out) = RunReconnect(serve + "--rule_signers " + kSigners +
                                       " --require_signatures porter");
  EXPECT_EQ(status, 2);
  EXPECT_THAT(out, HasSubstr("'porter' is not a signer role"));
  std::tie(status, out) =
      RunReconnect(serve + "--rule_signers /nonexistent/signers.json");
  EXPECT_EQ(status, 2);
  EXPECT_THAT(out, HasSubstr("--rule_signers"));
}

}  // namespace
}  // namespace reconnect
