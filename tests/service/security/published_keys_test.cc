// Keys an EHR publishes at a JWKS URL: fetched over HTTPS from a real
// server, refreshed when they rotate, and never taken from a URL a token
// names.

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/security/cds_clients.h"
#include "service/security/https_get.h"
#include "tests/testing/https_server.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using nlohmann::json;
using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::Certificate;
using testing_util::CertificateSpec;
using testing_util::HttpsServer;
using testing_util::Key;
using testing_util::SignJwt;
using testing_util::WriteFile;

constexpr char kEhr[] = "https://ehr.example.org";
constexpr char kUrl[] =
    "https://cds.example.org/cds-services/reconnect-patient-view";

// A CA, a certificate it signs for 127.0.0.1, and a server using it.
class PublishedKeysTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_key_ = new Key(Key::EcP256());
    ca_ = new Certificate(testing_util::MakeCertificate(
        {.common_name = "test CA", .alt_names = {}, .is_ca = true}, *ca_key_,
        nullptr, *ca_key_));
    server_key_ = new Key(Key::EcP256());
    server_cert_ = new Certificate(testing_util::MakeCertificate(
        {.common_name = "jwks", .alt_names = {"IP:127.0.0.1"}}, *server_key_,
        ca_, *ca_key_));
    signing_ = new Key(Key::EcP384());
  }
  static void TearDownTestSuite() {
    delete ca_key_;
    delete ca_;
    delete server_key_;
    delete server_cert_;
    delete signing_;
  }

  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("published-keys-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    WriteFile((dir_ / "ca.pem").string(), ca_->pem);
    server_ = std::make_unique<HttpsServer>(server_cert_->pem,
                                            server_key_->PrivatePem());
    server_->Answer(200, Jwks(*signing_, "ec-1"));
    now_ = absl::Now();
  }

  static std::string Jwks(const Key& key, const std::string& kid) {
    return json({{"keys", json::array({key.Jwk(kid)})}}).dump();
  }

  // The client list: kEhr's keys at `url` (the server's by default).
  std::string List(const std::string& url = "",
                   const std::string& ca_file = "ca.pem") {
    json list = {
        {"clients",
         json::array({{{"issuer", kEhr},
                       {"jwks_url",
                        url.empty() ? server_->url("/jwks.json") : url}}})}};
    if (!ca_file.empty()) list["ca_file"] = ca_file;
    const std::string path = (dir_ / "clients.json").string();
    WriteFile(path, list.dump());
    return path;
  }

  std::unique_ptr<CdsClientVerifier> Verifier(const std::string& list) {
    CdsClientOptions options;
    options.file = list;
    options.replay_capacity = 100;
    options.jwks_retry = absl::ZeroDuration();
    options.jwks_timeout = absl::Seconds(2);
    auto verifier = CdsClientVerifier::Create(options);
    EXPECT_THAT(verifier, IsOk()) << verifier.status();
    return verifier.ok() ? *std::move(verifier) : nullptr;
  }

  std::string Bearer(const std::string& jti, const Key& key,
                     const std::string& kid, const json& extra = {}) const {
    const int64_t now = absl::ToUnixSeconds(now_);
    json header = {{"alg", "ES384"}, {"kid", kid}};
    if (extra.is_object()) header.update(extra);
    return "Bearer " + SignJwt(header,
                               {{"iss", kEhr},
                                {"aud", kUrl},
                                {"exp", now + 240},
                                {"iat", now},
                                {"jti", jti}},
                               key);
  }

  static Key* ca_key_;
  static Certificate* ca_;
  static Key* server_key_;
  static Certificate* server_cert_;
  static Key* signing_;
  std::filesystem::path dir_;
  std::unique_ptr<HttpsServer> server_;
  absl::Time now_;
};

Key* PublishedKeysTest::ca_key_ = nullptr;
Certificate* PublishedKeysTest::ca_ = nullptr;
Key* PublishedKeysTest::server_key_ = nullptr;
Certificate* PublishedKeysTest::server_cert_ = nullptr;
Key* PublishedKeysTest::signing_ = nullptr;

TEST_F(PublishedKeysTest, KeysAreFetchedOnceAndVerifyTokens) {
  auto verifier = Verifier(List());
  ASSERT_NE(verifier, nullptr);
  EXPECT_EQ(server_->requests(), 1);
  EXPECT_THAT(verifier->Verify(Bearer("a", *signing_, "ec-1"), kUrl, now_),
              IsOk());
  // Calls never fetch; a reload with nothing due does not either.
  EXPECT_THAT(verifier->Verify(Bearer("b", *signing_, "ec-1"), kUrl, now_),
              IsOk());
  ASSERT_THAT(verifier->ReloadIfChanged(), IsOk());
  EXPECT_EQ(server_->requests(), 1);
}

TEST_F(PublishedKeysTest, ARotatedKeyIsFetchedWhenATokenNamesIt) {
  auto verifier = Verifier(List());
  ASSERT_NE(verifier, nullptr);
  Key rotated = Key::EcP384();
  server_->Answer(200, Jwks(rotated, "ec-2"));
  const std::string token = Bearer("r", rotated, "ec-2");
  EXPECT_THAT(verifier->Verify(token, kUrl, now_),
              StatusIs(absl::StatusCode::kUnauthenticated));
  ASSERT_THAT(verifier->ReloadIfChanged(), IsOk());
  EXPECT_EQ(server_->requests(), 2);
  EXPECT_THAT(verifier->Verify(token, kUrl, now_), IsOk());
  // The old key went with the rotation.
  EXPECT_THAT(verifier->Verify(Bearer("o", *signing_, "ec-1"), kUrl, now_),
              Not(IsOk()));
}

TEST_F(PublishedKeysTest, AnUnreachableServerRefusesItsTokensUntilItAnswers) {
  server_->Answer(503, "");
  auto verifier = Verifier(List());
  ASSERT_NE(verifier, nullptr);  // the other clients are served meanwhile
  auto refused = verifier->Verify(Bearer("a", *signing_, "ec-1"), kUrl, now_);
  ASSERT_THAT(refused, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(refused.status().message(), HasSubstr("not been fetched yet"));
  // A failed refresh keeps the keys fetched before (none here).
  ASSERT_THAT(verifier->ReloadIfChanged(), IsOk());
  EXPECT_THAT(verifier->Verify(Bearer("b", *signing_, "ec-1"), kUrl, now_),
              Not(IsOk()));
  server_->Answer(200, Jwks(*signing_, "ec-1"));
  ASSERT_THAT(verifier->ReloadIfChanged(), IsOk());
  EXPECT_THAT(verifier->Verify(Bearer("c", *signing_, "ec-1"), kUrl, now_),
              IsOk());
  // Once fetched, a server that fails keeps the keys it gave.
  server_->Answer(500, "");
  Key other = Key::EcP384();
  EXPECT_THAT(verifier->Verify(Bearer("d", other, "ec-9"), kUrl, now_),
              Not(IsOk()));  // asks for a refresh
  ASSERT_THAT(verifier->ReloadIfChanged(), IsOk());
  EXPECT_THAT(verifier->Verify(Bearer("e", *signing_, "ec-1"), kUrl, now_),
              IsOk());
}

TEST_F(PublishedKeysTest, ATokensJkuMustBeTheAllowlistedUrl) {
  auto verifier = Verifier(List());
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(verifier->Verify(Bearer("same", *signing_, "ec-1",
                                      {{"jku", server_->url("/jwks.json")}}),
                               kUrl, now_),
              IsOk());
  auto refused =
      verifier->Verify(Bearer("other", *signing_, "ec-1",
                              {{"jku", "https://attacker.example/jwks.json"}}),
                       kUrl, now_);
  ASSERT_THAT(refused, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(refused.status().message(), HasSubstr("jku is not the JWKS URL"));
  EXPECT_EQ(server_->requests(), 1);  // nothing was fetched from it
}

TEST_F(PublishedKeysTest, AServerTheCasDoNotTrustGivesNoKeys) {
  // Without the list's ca_file the system's CAs are used: they do not know
  // the test CA.
  auto verifier = Verifier(List("", ""));
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(verifier->Verify(Bearer("a", *signing_, "ec-1"), kUrl, now_),
              Not(IsOk()));
  HttpsGetOptions get;
  auto fetched = HttpsGet(server_->url("/jwks.json"), get);
  ASSERT_THAT(fetched, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(fetched.status().message(), HasSubstr("certificate verify"));
  get.ca_file = (dir_ / "ca.pem").string();
  EXPECT_THAT(HttpsGet(server_->url("/jwks.json"), get), IsOk());
}

TEST_F(PublishedKeysTest, FetchesAreBoundedAndFailuresNamed) {
  HttpsGetOptions get;
  get.ca_file = (dir_ / "ca.pem").string();
  get.max_bytes = 64;
  auto big = HttpsGet(server_->url("/jwks.json"), get);
  ASSERT_THAT(big, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(big.status().message(), HasSubstr("larger than 64 bytes"));
  get.max_bytes = 1 << 20;
  server_->Answer(404, "no");
  auto missing = HttpsGet(server_->url("/jwks.json"), get);
  EXPECT_THAT(missing.status().message(), HasSubstr("answered 404"));
  // Not JSON keys: the list loads, the client has no keys, and says why.
  server_->Answer(200, "<html>");
  auto verifier = Verifier(List());
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(verifier->Verify(Bearer("a", *signing_, "ec-1"), kUrl, now_),
              Not(IsOk()));
  // A port nobody listens on.
  server_.reset();
  get.timeout = absl::Seconds(1);
  auto closed = HttpsGet("https://127.0.0.1:1/jwks.json", get);
  EXPECT_THAT(closed, StatusIs(absl::StatusCode::kUnavailable));
}

TEST(HttpsUrlTest, OnlyHttpsUrlsWithAHostAndPort) {
  EXPECT_THAT(CheckHttpsUrl("https://ehr.example.org/.well-known/jwks.json"),
              IsOk());
  EXPECT_THAT(CheckHttpsUrl("https://[::1]:8443/jwks"), IsOk());
  EXPECT_THAT(CheckHttpsUrl("HTTPS://ehr.example.org"), IsOk());
  for (const char* bad :
       {"http://ehr.example.org/jwks", "https://", "https:///jwks",
        "https://user:pw@ehr.example.org/jwks", "https://ehr:0/jwks",
        "https://ehr:99999/jwks", "https://[::1/jwks", "ehr.example.org"}) {
    EXPECT_THAT(CheckHttpsUrl(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(CdsClientListTest, PublishedKeysAreCheckedAsConfiguration) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      ("cds-url-list-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto why = [&dir](const json& list) {
    WriteFile((dir / "clients.json").string(), list.dump());
    CdsClientOptions options;
    options.file = (dir / "clients.json").string();
    auto v = CdsClientVerifier::Create(options);
    EXPECT_THAT(v, Not(IsOk())) << list.dump();
    return v.ok() ? std::string() : std::string(v.status().message());
  };
  EXPECT_THAT(
      why({{"clients", {{{"issuer", "a"}, {"jwks_url", "http://ehr/jwks"}}}}}),
      HasSubstr("clients[0].jwks_url 'http://ehr/jwks' is not an "
                "https:// URL"));
  EXPECT_THAT(why({{"clients",
                    {{{"issuer", "a"},
                      {"jwks_url", "https://ehr/jwks"},
                      {"jwks_file", "k.json"}}}}}),
              HasSubstr("one of jwks, jwks_file or jwks_url"));
  EXPECT_THAT(why({{"clients", json::array()}, {"ca_file", "missing.pem"}}),
              HasSubstr("ca_file"));
}

}  // namespace
}  // namespace reconnect::service
