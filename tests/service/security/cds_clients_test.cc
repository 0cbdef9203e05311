#include "service/security/cds_clients.h"

#include <filesystem>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/security/auth.h"
#include "service/security/replay_cache.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::Key;
using testing_util::SignJwt;
using testing_util::WriteFile;

constexpr char kEhr[] = "https://ehr.example.org";
constexpr char kUrl[] =
    "https://cds.example.org/cds-services/reconnect-patient-view";

TEST(ReplayCacheTest, RemembersEachIdUntilItsTokenExpires) {
  ReplayCache cache(10);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time later = now + absl::Minutes(5);
  using R = ReplayCache::Result;
  EXPECT_EQ(cache.Admit(kEhr, "a", later, now), R::kFirstUse);
  EXPECT_EQ(cache.Admit(kEhr, "a", later, now + absl::Minutes(1)),
            R::kReplayed);
  // The same id from another issuer is another token.
  EXPECT_EQ(cache.Admit("https://other.example", "a", later, now),
            R::kFirstUse);
  // Issuer and id cannot be shifted into one another.
  EXPECT_EQ(cache.Admit("https://ehr.example.orga", "", later, now),
            R::kFirstUse);
  // Once its token has expired the id is forgotten (the token itself is
  // refused on expiry by then).
  EXPECT_EQ(cache.Admit(kEhr, "a", later + absl::Minutes(5),
                        later + absl::Seconds(1)),
            R::kFirstUse);
}

TEST(ReplayCacheTest, FailsClosedWhenFullOfUnexpiredIds) {
  ReplayCache cache(3);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  using R = ReplayCache::Result;
  for (const char* id : {"1", "2", "3"}) {
    EXPECT_EQ(cache.Admit(kEhr, id, now + absl::Seconds(30), now),
              R::kFirstUse);
  }
  EXPECT_EQ(cache.Admit(kEhr, "4", now + absl::Seconds(30), now), R::kFull);
  // A full cache still recognises a replay.
  EXPECT_EQ(cache.Admit(kEhr, "2", now + absl::Seconds(30), now), R::kReplayed);
  // Once those tokens expire there is room again.
  EXPECT_EQ(
      cache.Admit(kEhr, "4", now + absl::Minutes(2), now + absl::Minutes(1)),
      R::kFirstUse);
  EXPECT_EQ(cache.size(), 1u);
}

class CdsClientVerifierTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    p384_ = new Key(Key::EcP384());
    rsa_ = new Key(Key::Rsa());
    stranger_ = new Key(Key::EcP384());
  }
  static void TearDownTestSuite() {
    delete p384_;
    delete rsa_;
    delete stranger_;
  }

  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("cds-clients-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    nlohmann::json rsa_jwk = rsa_->Jwk("rsa-1");
    rsa_jwk.erase("alg");
    WriteFile((dir_ / "ehr-jwks.json").string(),
              nlohmann::json({{"keys", {p384_->Jwk("ec-1"), rsa_jwk}}}).dump());
    WriteList(nlohmann::json{
        {"clients",
         {{{"issuer", kEhr}, {"jwks_file", "ehr-jwks.json"}},
          {{"issuer", "https://sandbox.example"},
           {"jwks", {{"keys", {stranger_->Jwk("sandbox")}}}}}}}});
    CdsClientOptions options;
    options.file = (dir_ / "clients.json").string();
    options.replay_capacity = 100;
    auto verifier = CdsClientVerifier::Create(options);
    ASSERT_THAT(verifier, IsOk()) << verifier.status();
    verifier_ = *std::move(verifier);
    now_ = absl::FromUnixSeconds(1'800'000'000);
  }

  void WriteList(const nlohmann::json& list) {
    WriteFile((dir_ / "clients.json").string(), list.dump());
  }

  nlohmann::json Claims(const std::string& jti = "jti-1") const {
    const int64_t now = absl::ToUnixSeconds(now_);
    return {{"iss", kEhr}, {"sub", "ehr-client-7"},
            {"aud", kUrl}, {"exp", now + 240},
            {"iat", now},  {"jti", jti}};
  }

  std::string Bearer(const nlohmann::json& claims,
                     const std::string& alg = "ES384",
                     const std::string& kid = "ec-1") const {
    const Key& key = alg[0] == 'E' ? *p384_ : *rsa_;
    return "Bearer " +
           SignJwt({{"alg", alg}, {"typ", "JWT"}, {"kid", kid}}, claims, key);
  }

  // Why `authorization` is refused (UNAUTHENTICATED, for the log).
  std::string Why(const std::string& authorization,
                  const std::string& url = kUrl) {
    auto caller = verifier_->Verify(authorization, url, now_);
    EXPECT_THAT(caller, Not(IsOk()));
    if (caller.ok()) return "";
    EXPECT_THAT(caller.status(), StatusIs(absl::StatusCode::kUnauthenticated));
    return std::string(caller.status().message());
  }

  static Key* p384_;
  static Key* rsa_;
  static Key* stranger_;
  std::filesystem::path dir_;
  std::unique_ptr<CdsClientVerifier> verifier_;
  absl::Time now_;
};

Key* CdsClientVerifierTest::p384_ = nullptr;
Key* CdsClientVerifierTest::rsa_ = nullptr;
Key* CdsClientVerifierTest::stranger_ = nullptr;

TEST_F(CdsClientVerifierTest, AcceptsEs384AndRs384FromATrustedIssuer) {
  auto caller = verifier_->Verify(Bearer(Claims("a")), kUrl, now_);
  ASSERT_THAT(caller, IsOk()) << caller.status();
  EXPECT_EQ(caller->issuer, kEhr);
  EXPECT_EQ(caller->subject, "ehr-client-7");
  EXPECT_THAT(caller->Identities(), ElementsAre("cds:https://ehr.example.org"));
  auto rs384 =
      verifier_->Verify(Bearer(Claims("b"), "RS384", "rsa-1"), kUrl, now_);
  EXPECT_THAT(rs384, IsOk()) << rs384.status();
  // sub is optional; a tenant makes a more specific identity.
  nlohmann::json claims = Claims("c");
  claims.erase("sub");
  claims["tenant"] = "north";
  auto tenant = verifier_->Verify(Bearer(claims), kUrl, now_);
  ASSERT_THAT(tenant, IsOk()) << tenant.status();
  EXPECT_THAT(tenant->Identities(),
              ElementsAre("cds:https://ehr.example.org (tenant north)",
                          "cds:https://ehr.example.org"));
  EXPECT_EQ(verifier_->client_count(), 2u);
}

TEST_F(CdsClientVerifierTest, RefusesAReplayedToken) {
  const std::string token = Bearer(Claims("once"));
  EXPECT_THAT(verifier_->Verify(token, kUrl, now_), IsOk());
  EXPECT_THAT(Why(token), HasSubstr("used before"));
  // A different jti is a different token.
  EXPECT_THAT(verifier_->Verify(Bearer(Claims("twice")), kUrl, now_), IsOk());
}

TEST_F(CdsClientVerifierTest, TheAudienceMustBeTheExactUrlCalled) {
  EXPECT_THAT(Why(Bearer(Claims()), std::string(kUrl) + "/feedback"),
              HasSubstr("aud is not the URL called"));
  EXPECT_THAT(Why(Bearer(Claims()), "https://cds.example.org/cds-services"),
              HasSubstr("aud is not the URL called"));
  nlohmann::json prefix = Claims();
  prefix["aud"] = "https://cds.example.org";
  EXPECT_THAT(Why(Bearer(prefix)), HasSubstr("aud"));
  nlohmann::json list = Claims();
  list["aud"] = {"https://elsewhere.example", kUrl};
  EXPECT_THAT(verifier_->Verify(Bearer(list), kUrl, now_), IsOk());
}

TEST_F(CdsClientVerifierTest, RequiresIatJtiAndAShortLife) {
  nlohmann::json claims = Claims();
  claims.erase("iat");
  EXPECT_THAT(Why(Bearer(claims)), HasSubstr("no 'iat'"));
  claims = Claims();
  claims.erase("jti");
  EXPECT_THAT(Why(Bearer(claims)), HasSubstr("no 'jti'"));
  claims = Claims();
  claims["jti"] = 7;
  EXPECT_THAT(Why(Bearer(claims)), HasSubstr("'jti' is not a non-empty"));
  claims = Claims();
  claims["jti"] = std::string(300, 'j');
  EXPECT_THAT(Why(Bearer(claims)), HasSubstr("longer than 256"));
  claims = Claims();
  claims["exp"] = absl::ToUnixSeconds(now_) + 3600;  // five minutes at most
  EXPECT_THAT(Why(Bearer(claims)), HasSubstr("valid for longer"));
  claims = Claims();
  claims["exp"] = absl::ToUnixSeconds(now_) - 120;
  EXPECT_THAT(Why(Bearer(claims)), HasSubstr("expired"));
  claims = Claims();
  claims["tenant"] = 3;
  EXPECT_THAT(Why(Bearer(claims)), HasSubstr("'tenant'"));
}

TEST_F(CdsClientVerifierTest, TrustsOnlyTheIssuersOwnKeys) {
  nlohmann::json claims = Claims();
  claims["iss"] = "https://unknown.example";
  EXPECT_THAT(Why(Bearer(claims)), HasSubstr("not a trusted CDS client"));
  // Signed by the sandbox's key but claiming to be the EHR.
  const std::string forged =
      "Bearer " +
      SignJwt({{"alg", "ES384"}, {"kid", "sandbox"}}, Claims(), *stranger_);
  EXPECT_THAT(Why(forged), HasSubstr("no ES384 key"));
  const std::string forged_no_kid =
      "Bearer " + SignJwt({{"alg", "ES384"}}, Claims(), *stranger_);
  EXPECT_THAT(Why(forged_no_kid), HasSubstr("signature is invalid"));
  // A jku in the header does not bring keys of its own.
  const std::string jku =
      "Bearer " +
      SignJwt({{"alg", "ES384"}, {"jku", "https://attacker.example/jwks.json"}},
              Claims(), *stranger_);
  EXPECT_THAT(Why(jku), HasSubstr("signature is invalid"));
  claims = Claims();
  claims.erase("iss");
  EXPECT_THAT(Why(Bearer(claims)), HasSubstr("no issuer"));
}

TEST_F(CdsClientVerifierTest, RefusesMissingAndMalformedHeaders) {
  EXPECT_THAT(Why(""), HasSubstr("no Authorization header"));
  EXPECT_THAT(Why("Basic dXNlcjpwYXNz"), HasSubstr("not a bearer token"));
  EXPECT_THAT(Why("Bearer "), HasSubstr("compact JWS"));
  EXPECT_THAT(Why("Bearer a.b.c"), HasSubstr("base64url"));
  // The scheme is case-insensitive.
  std::string lower = Bearer(Claims("lower"));
  lower.replace(0, 6, "bearer");
  EXPECT_THAT(verifier_->Verify(lower, kUrl, now_), IsOk());
}

TEST_F(CdsClientVerifierTest, ReloadsRotatedKeysAndKeepsTheOldListOnErrors) {
  Key rotated = Key::EcP384();
  const std::string token =
      "Bearer " +
      SignJwt({{"alg", "ES384"}, {"kid", "ec-2"}}, Claims("r"), rotated);
  EXPECT_THAT(Why(token), HasSubstr("no ES384 key"));
  WriteFile((dir_ / "ehr-jwks.json").string(),
            nlohmann::json({{"keys", {rotated.Jwk("ec-2")}}}).dump() + " ");
  ASSERT_THAT(verifier_->ReloadIfChanged(), IsOk());
  EXPECT_THAT(verifier_->Verify(token, kUrl, now_), IsOk());
  // A broken list is refused, naming the entry; the previous one stays.
  WriteList({{"clients", {{{"issuer", kEhr}}}}});
  EXPECT_THAT(verifier_->ReloadIfChanged(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("clients[0] must give its keys")));
  EXPECT_EQ(verifier_->client_count(), 2u);
  EXPECT_THAT(verifier_->ReloadIfChanged(), IsOk());  // reported once
}

TEST(CdsClientListTest, RefusesMistakesNamingTheEntry) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      ("cds-list-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const nlohmann::json keys = {{"keys", {Key::EcP384().Jwk("k")}}};
  auto why = [&dir](const std::string& text) {
    WriteFile((dir / "clients.json").string(), text);
    CdsClientOptions options;
    options.file = (dir / "clients.json").string();
    auto v = CdsClientVerifier::Create(options);
    EXPECT_THAT(v, Not(IsOk())) << text;
    return v.ok() ? std::string() : std::string(v.status().message());
  };
  EXPECT_THAT(why("{"), HasSubstr("is not valid JSON"));
  EXPECT_THAT(why("[]"), HasSubstr("'clients' array"));
  EXPECT_THAT(why(R"({"clients": [], "extra": 1})"),
              HasSubstr("unknown member 'extra'"));
  EXPECT_THAT(why(R"({"clients": [], "max_token_lifetime_seconds": 0})"),
              HasSubstr("from 1 to 3600"));
  EXPECT_THAT(why(R"({"clients": [7]})"), HasSubstr("clients[0] is not"));
  EXPECT_THAT(why(R"({"clients": [{"jwks": {}}]})"),
              HasSubstr("clients[0].issuer must be"));
  EXPECT_THAT(why(nlohmann::json({{"clients",
                                   {{{"issuer", "a"}, {"jwks", keys}},
                                    {{"issuer", "a"}, {"jwks", keys}}}}})
                      .dump()),
              HasSubstr("clients[1] lists the issuer 'a' a second time"));
  EXPECT_THAT(
      why(nlohmann::json(
              {{"clients", {{{"issuer", "a"}, {"jwks", keys}, {"jku", "x"}}}}})
              .dump()),
      HasSubstr("clients[0]: unknown member 'jku'"));
  EXPECT_THAT(
      why(R"({"clients": [{"issuer": "a", "jwks_file": "missing.json"}]})"),
      HasSubstr("clients[0].jwks_file"));
  EXPECT_THAT(why(R"({"clients": [{"issuer": "a", "jwks": {"keys": []}}]})"),
              HasSubstr("clients[0] ('a'): the JWKS holds no keys"));
  CdsClientOptions none;
  EXPECT_THAT(CdsClientVerifier::Create(none), Not(IsOk()));
}

TEST(PolicyTest, BindsCdsClientsWithAndWithoutATenant) {
  auto policy = Authorizer::ParsePolicy(R"({"bindings": [
      {"cds_client": "https://ehr.example.org", "roles": ["evaluator"]},
      {"cds_client": "https://ehr.example.org", "tenant": "north",
       "roles": ["evaluator", "auditor"]}
  ]})");
  ASSERT_THAT(policy, IsOk()) << policy.status();
  EXPECT_EQ(policy->count("cds:https://ehr.example.org"), 1u);
  EXPECT_EQ(policy->count("cds:https://ehr.example.org (tenant north)"), 1u);
  auto tenant_alone = Authorizer::ParsePolicy(
      R"({"bindings": [{"jwt_subject": "x", "tenant": "t", "roles": ["admin"]}]})");
  EXPECT_THAT(tenant_alone, StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("tenant goes only with "
                                               "cds_client")));
}

}  // namespace
}  // namespace reconnect::service
