#include "service/security/jwt.h"

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/security/auth.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::Not;

using testing::HasSubstr;
using testing_util::Key;
using testing_util::SignJwt;

constexpr char kIssuer[] = "https://ehr.example/auth";
constexpr char kAudience[] = "https://cds.example/reconnect";

class JwtTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new Key(Key::Rsa());
    ec_ = new Key(Key::EcP256());
    other_ = new Key(Key::Rsa());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete other_;
  }

  void SetUp() override {
    nlohmann::json jwks = {{"keys", {rsa_->Jwk("rsa-1"), ec_->Jwk("ec-1")}}};
    auto verifier = JwtVerifier::Create(jwks.dump(), {kIssuer, kAudience});
    ASSERT_THAT(verifier, IsOk()) << verifier.status();
    verifier_ = *std::move(verifier);
    now_ = absl::FromUnixSeconds(1'800'000'000);
  }

  nlohmann::json Claims() const {
    const int64_t now = absl::ToUnixSeconds(now_);
    return {{"iss", kIssuer},   {"sub", "ehr-east"}, {"aud", kAudience},
            {"exp", now + 300}, {"iat", now},        {"jti", "token-1"}};
  }

  std::string Token(const nlohmann::json& claims, const Key& key,
                    const std::string& kid) const {
    return SignJwt({{"alg", key.is_rsa() ? "RS256" : "ES256"},
                    {"typ", "JWT"},
                    {"kid", kid}},
                   claims, key);
  }

  std::string Why(const std::string& token) const {
    auto claims = verifier_->Verify(token, now_);
    EXPECT_THAT(claims, Not(IsOk()));
    if (claims.ok()) return "";
    EXPECT_THAT(claims.status(), StatusIs(absl::StatusCode::kUnauthenticated));
    return std::string(claims.status().message());
  }

  static Key* rsa_;
  static Key* ec_;
  static Key* other_;
  std::unique_ptr<JwtVerifier> verifier_;
  absl::Time now_;
};

Key* JwtTest::rsa_ = nullptr;
Key* JwtTest::ec_ = nullptr;
Key* JwtTest::other_ = nullptr;

TEST_F(JwtTest, AcceptsRs256AndEs256) {
  for (const auto& [key, kid] :
       {std::pair<Key*, std::string>{rsa_, "rsa-1"}, {ec_, "ec-1"}}) {
    auto claims = verifier_->Verify(Token(Claims(), *key, kid), now_);
    ASSERT_THAT(claims, IsOk()) << kid << ": " << claims.status();
    EXPECT_EQ(claims->subject, "ehr-east");
    EXPECT_EQ(claims->expiry, now_ + absl::Seconds(300));
  }
}

// CDS Hooks requires ES384 and RS384 of a service: a P-384 key signs ES384,
// and an RSA key without an `alg` in its JWK verifies RS256 and RS384.
TEST(JwkSetTest, VerifiesEs384AndRs384) {
  Key p384 = Key::EcP384();
  Key rsa = Key::Rsa();
  nlohmann::json rsa_jwk = rsa.Jwk("rsa");
  rsa_jwk.erase("alg");
  auto keys = JwkSet::Parse(
      nlohmann::json({{"keys", {p384.Jwk("p384"), rsa_jwk}}}).dump());
  ASSERT_THAT(keys, IsOk()) << keys.status();
  const nlohmann::json claims = {{"iss", kIssuer}};
  for (const auto& [alg, key] : {std::pair<std::string, Key*>{"ES384", &p384},
                                 {"RS384", &rsa},
                                 {"RS256", &rsa}}) {
    auto jws = ParseCompactJws(SignJwt({{"alg", alg}}, claims, *key));
    ASSERT_THAT(jws, IsOk()) << alg;
    EXPECT_THAT((*keys)->VerifySignature(*jws), IsOk()) << alg;
  }
  // An ES384 header over a P-256 signature, and an RS384 header over an
  // RS256 signature, are refused: the header cannot choose a weaker check.
  Key p256 = Key::EcP256();
  auto wrong_curve = ParseCompactJws(SignJwt({{"alg", "ES384"}}, claims, p256));
  ASSERT_THAT(wrong_curve, IsOk());
  EXPECT_THAT((*keys)->VerifySignature(*wrong_curve), Not(IsOk()));
  std::string rs256 = SignJwt({{"alg", "RS256"}}, claims, rsa);
  std::string header;
  absl::WebSafeBase64Escape(R"({"alg":"RS384"})", &header);
  auto relabelled = ParseCompactJws(header + rs256.substr(rs256.find('.')));
  ASSERT_THAT(relabelled, IsOk());
  EXPECT_THAT((*keys)->VerifySignature(*relabelled),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("signature is invalid")));
  // A JWK whose alg pins RS256 does not verify RS384.
  nlohmann::json pinned = rsa.Jwk("pinned");
  auto only256 = JwkSet::Parse(nlohmann::json({{"keys", {pinned}}}).dump());
  ASSERT_THAT(only256, IsOk());
  auto rs384 = ParseCompactJws(SignJwt({{"alg", "RS384"}}, claims, rsa));
  ASSERT_THAT(rs384, IsOk());
  EXPECT_THAT(
      (*only256)->VerifySignature(*rs384),
      StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("no RS384 key")));
}

TEST(TokenTimesTest, RequiresIatWhenAsked) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const nlohmann::json no_iat = {{"exp", 1'800'000'100}};
  EXPECT_THAT(CheckTokenTimes(no_iat, now, {}), IsOk());
  TokenLifetime strict;
  strict.require_iat = true;
  strict.max_lifetime = absl::Minutes(5);
  EXPECT_THAT(CheckTokenTimes(no_iat, now, strict),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("iat")));
  const nlohmann::json long_lived = {{"exp", 1'800'000'000 + 3600},
                                     {"iat", 1'800'000'000}};
  EXPECT_THAT(CheckTokenTimes(long_lived, now, strict),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("longer than the 5m allowed")));
  auto expiry = CheckTokenTimes(
      {{"exp", 1'800'000'200}, {"iat", 1'800'000'000}}, now, strict);
  ASSERT_THAT(expiry, IsOk());
  EXPECT_EQ(*expiry, absl::FromUnixSeconds(1'800'000'200));
}

TEST_F(JwtTest, AcceptsAnAudienceListAndATokenWithoutKid) {
  nlohmann::json claims = Claims();
  claims["aud"] = {"someone-else", kAudience};
  const std::string token =
      SignJwt({{"alg", "ES256"}, {"typ", "JWT"}}, claims, *ec_);
  EXPECT_THAT(verifier_->Verify(token, now_), IsOk());
}

TEST_F(JwtTest, ChecksExpiryAndNotBeforeWithSkew) {
  nlohmann::json claims = Claims();
  claims["exp"] = absl::ToUnixSeconds(now_) - 30;  // within the 60 s skew
  EXPECT_THAT(verifier_->Verify(Token(claims, *rsa_, "rsa-1"), now_), IsOk());
  claims["exp"] = absl::ToUnixSeconds(now_) - 61;
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("expired"));
  claims = Claims();
  claims["nbf"] = absl::ToUnixSeconds(now_) + 120;
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("not valid yet"));
  claims["nbf"] = absl::ToUnixSeconds(now_) + 30;
  EXPECT_THAT(verifier_->Verify(Token(claims, *rsa_, "rsa-1"), now_), IsOk());
  claims = Claims();
  claims.erase("exp");
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("no expiry"));
  claims["exp"] = "tomorrow";
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("not a number"));
}

// A token valid for ever is as good as a password: exp may be at most the
// maximum lifetime (one hour by default) after iat, or after now without
// one.
TEST_F(JwtTest, RefusesTokensThatLiveTooLong) {
  const int64_t now = absl::ToUnixSeconds(now_);
  nlohmann::json claims = Claims();
  claims["exp"] = 1e300;
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")),
              HasSubstr("valid for longer than the 1h allowed"));
  claims["exp"] = now + 2 * 3600;
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("longer"));
  claims["exp"] = now + 3600;
  EXPECT_THAT(verifier_->Verify(Token(claims, *rsa_, "rsa-1"), now_), IsOk());
  // Without iat, the hour runs from now.
  claims.erase("iat");
  claims["exp"] = now + 2 * 3600;
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("longer"));
  // An iat in the future cannot stretch it.
  claims["iat"] = now + 10 * 3600;
  claims["exp"] = now + 10 * 3600 + 1800;
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("longer"));
  // The limit is the verifier's to set.
  JwtPolicy day{kIssuer, kAudience};
  day.max_lifetime = absl::Hours(24);
  nlohmann::json jwks = {{"keys", {rsa_->Jwk("rsa-1")}}};
  auto lenient = JwtVerifier::Create(jwks.dump(), day);
  ASSERT_THAT(lenient, IsOk());
  claims = Claims();
  claims["exp"] = now + 2 * 3600;
  EXPECT_THAT((*lenient)->Verify(Token(claims, *rsa_, "rsa-1"), now_), IsOk());
  day.max_lifetime = absl::ZeroDuration();
  EXPECT_THAT(JwtVerifier::Create(jwks.dump(), day),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--jwt_max_lifetime_seconds")));
}

TEST_F(JwtTest, ChecksIssuerAudienceAndSubject) {
  nlohmann::json claims = Claims();
  claims["iss"] = "https://attacker.example";
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("issuer"));
  claims = Claims();
  claims["aud"] = "https://other-service.example";
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("audience"));
  claims.erase("aud");
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("audience"));
  claims = Claims();
  claims["sub"] = "";
  EXPECT_THAT(Why(Token(claims, *rsa_, "rsa-1")), HasSubstr("subject"));
}

TEST_F(JwtTest, RefusesBadSignaturesAndUnknownKeys) {
  // Signed by a key the JWKS does not hold, under a kid it does.
  EXPECT_THAT(Why(Token(Claims(), *other_, "rsa-1")),
              HasSubstr("signature is invalid"));
  EXPECT_THAT(Why(Token(Claims(), *rsa_, "rsa-9")), HasSubstr("no RS256 key"));
  // A payload swapped under a valid signature.
  const std::string good = Token(Claims(), *rsa_, "rsa-1");
  nlohmann::json claims = Claims();
  claims["sub"] = "admin-console";
  const std::string forged = Token(claims, *rsa_, "rsa-1");
  const std::string spliced =
      good.substr(0, good.find('.')) +
      forged.substr(forged.find('.'), forged.rfind('.') - forged.find('.')) +
      good.substr(good.rfind('.'));
  EXPECT_THAT(Why(spliced), HasSubstr("signature is invalid"));
  // An RS256 header over an EC key's kid: the algorithm must match the key.
  const std::string mixed =
      SignJwt({{"alg", "RS256"}, {"kid", "ec-1"}}, Claims(), *rsa_);
  EXPECT_THAT(Why(mixed), HasSubstr("no RS256 key"));
}

TEST_F(JwtTest, RefusesOtherAlgorithmsAndMalformedTokens) {
  const std::string good = Token(Claims(), *rsa_, "rsa-1");
  const std::string payload =
      good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  // alg none, HS256 (a JWKS public key must never be used as an HMAC key).
  std::string header;
  absl::WebSafeBase64Escape(R"({"alg":"none"})", &header);
  EXPECT_THAT(Why(header + "." + payload + "."), HasSubstr("compact JWS"));
  EXPECT_THAT(Why(header + "." + payload + ".c2ln"),
              HasSubstr("only RS256, RS384, ES256, ES384 and EdDSA"));
  absl::WebSafeBase64Escape(R"({"alg":"HS256","kid":"rsa-1"})", &header);
  EXPECT_THAT(Why(header + "." + payload + ".c2ln"),
              HasSubstr("only RS256, RS384, ES256, ES384 and EdDSA"));
  absl::WebSafeBase64Escape(R"({"alg":"RS256","crit":["exp"]})", &header);
  EXPECT_THAT(Why(header + "." + payload + ".c2ln"), HasSubstr("critical"));
  EXPECT_THAT(Why(""), HasSubstr("compact JWS"));
  EXPECT_THAT(Why("a.b"), HasSubstr("compact JWS"));
  EXPECT_THAT(Why("a.b.c.d"), HasSubstr("compact JWS"));
  EXPECT_THAT(Why("a=.b.c"), HasSubstr("base64url"));
  EXPECT_THAT(Why("bm90IGpzb24.e30.c2ln"), HasSubstr("header is not JSON"));
  EXPECT_THAT(Why(std::string(20000, 'a')), HasSubstr("too large"));
}

TEST(JwksTest, RefusesUnusableKeysNamingThem) {
  auto why = [](const nlohmann::json& jwks) {
    auto v = JwtVerifier::Create(jwks.dump(), {kIssuer, kAudience});
    EXPECT_THAT(v, Not(IsOk()));
    return v.ok() ? std::string() : std::string(v.status().message());
  };
  Key small = Key::Rsa(1024);
  EXPECT_THAT(why({{"keys", {small.Jwk("small")}}}),
              HasSubstr("JWKS key 0 (kid 'small') is a 1024-bit RSA key"));
  nlohmann::json ec = Key::EcP256().Jwk("p521");
  ec["crv"] = "P-521";
  EXPECT_THAT(why({{"keys", {ec}}}),
              HasSubstr("crv other than P-256 (ES256) or P-384 (ES384)"));
  nlohmann::json short_point = Key::EcP256().Jwk("short");
  short_point["crv"] = "P-384";
  short_point.erase("alg");
  EXPECT_THAT(why({{"keys", {short_point}}}),
              HasSubstr("x or y not 48 bytes long"));
  nlohmann::json mislabelled = Key::EcP384().Jwk("mislabelled");
  mislabelled["alg"] = "ES256";
  EXPECT_THAT(why({{"keys", {mislabelled}}}),
              HasSubstr("has an alg other than ES384"));
  nlohmann::json rsa = Key::Rsa().Jwk("no-n");
  rsa.erase("n");
  EXPECT_THAT(why({{"keys", {rsa}}}), HasSubstr("no string member 'n'"));
  EXPECT_THAT(
      why({{"keys", {{{"kty", "oct"}, {"k", "c2VjcmV0"}}}}}),
      HasSubstr("only RSA (RS256, RS384), EC (ES256, ES384) and OKP (EdDSA)"));
  nlohmann::json enc = Key::EcP256().Jwk("enc");
  enc["use"] = "enc";
  EXPECT_THAT(why({{"keys", {enc}}}), HasSubstr("not for signatures"));
  EXPECT_THAT(why({{"keys", nlohmann::json::array()}}), HasSubstr("no keys"));
  EXPECT_THAT(why({{"not_keys", 1}}), HasSubstr("'keys' array"));
  auto no_issuer = JwtVerifier::Create(
      nlohmann::json({{"keys", {Key::EcP256().Jwk("a")}}}).dump(),
      {"", kAudience});
  EXPECT_THAT(no_issuer, Not(IsOk()));
}

TEST(PolicyTest, ParsesBindings) {
  auto policy = Authorizer::ParsePolicy(R"({
    // Comments are allowed, as in rule files.
    "bindings": [
      {"jwt_subject": "ehr-east", "roles": ["evaluator"]},
      {"certificate": "governance.example", "roles": ["auditor", "admin"]}
    ]
  })");
  ASSERT_THAT(policy, IsOk()) << policy.status();
  EXPECT_EQ(policy->size(), 2u);
  EXPECT_EQ(policy->count("jwt:ehr-east"), 1u);
  EXPECT_EQ(policy->count("cert:governance.example"), 1u);
}

TEST(PolicyTest, RefusesMistakesNamingTheBinding) {
  auto why = [](const std::string& text) {
    auto p = Authorizer::ParsePolicy(text);
    EXPECT_THAT(p, Not(IsOk())) << text;
    return p.ok() ? std::string() : std::string(p.status().message());
  };
  EXPECT_THAT(why("{"), HasSubstr("not valid JSON"));
  EXPECT_THAT(why("[]"), HasSubstr("'bindings' array"));
  EXPECT_THAT(why(R"({"bindings": [], "extra": 1})"),
              HasSubstr("unknown member 'extra'"));
  EXPECT_THAT(why(R"({"bindings": [{"roles": ["evaluator"]}]})"),
              HasSubstr("bindings[0] names no identity"));
  EXPECT_THAT(why(R"({"bindings": [{"jwt_subject": "a", "roles": ["evaluator"]},
                           {"jwt_subject": "b", "roles": ["superuser"]}]})"),
              HasSubstr("bindings[1].roles[0] is not a role"));
  EXPECT_THAT(why(R"({"bindings": [{"jwt_subject": "a", "roles": []}]})"),
              HasSubstr("bindings[0].roles must be a non-empty list"));
  EXPECT_THAT(why(R"({"bindings": [{"jwt_subject": "a", "certificate": "b",
                                    "roles": ["admin"]}]})"),
              HasSubstr("two identities"));
  EXPECT_THAT(why(R"({"bindings": [{"jwt_subject": "a", "roles": ["admin"]},
                                   {"jwt_subject": "a", "roles": ["auditor"]}]})"),
              HasSubstr("binds jwt:a a second time"));
  EXPECT_THAT(why(R"({"bindings": [{"user": "a", "roles": ["admin"]}]})"),
              HasSubstr("unknown member 'user'"));
}

}  // namespace
}  // namespace reconnect::service
