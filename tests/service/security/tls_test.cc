// TLS configuration: every file is checked at start-up and a bad one is
// refused with the flag and the file named.

#include "service/security/tls.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace reconnect::service {
namespace {

using ::reconnect::testing_util::IsOk;
using ::reconnect::testing_util::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
namespace pki = ::reconnect::testing_util;

class TlsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tls_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    pki::Key ca_key = pki::Key::EcP256();
    pki::Certificate ca = pki::MakeCertificate(
        {.common_name = "test-ca", .alt_names = {}, .is_ca = true}, ca_key,
        nullptr, ca_key);
    pki::Key server_key = pki::Key::EcP256();
    pki::Certificate server = pki::MakeCertificate(
        {.common_name = "localhost", .alt_names = {"DNS:localhost"}},
        server_key, &ca, ca_key);
    pki::Key other_key = pki::Key::EcP256();
    pki::WriteFile(Path("ca.pem"), ca.pem);
    pki::WriteFile(Path("server.pem"), server.pem);
    pki::WriteFile(Path("server.key"), server_key.PrivatePem());
    pki::WriteFile(Path("other.key"), other_key.PrivatePem());
    pki::WriteFile(Path("garbage.pem"), "not a certificate\n");
    pki::WriteFile(Path("broken.pem"), server.pem +
                                           "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                           "-----END CERTIFICATE-----\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  TlsOptions Server() const {
    TlsOptions o;
    o.cert_file = Path("server.pem");
    o.key_file = Path("server.key");
    return o;
  }

  std::string dir_;
};

TEST_F(TlsConfigTest, AValidConfigurationMakesCredentials) {
  EXPECT_THAT(MakeServerCredentials(Server()), IsOk());
  TlsOptions mutual = Server();
  mutual.client_ca_file = Path("ca.pem");
  mutual.client_cert_mode = "optional";
  EXPECT_THAT(MakeServerCredentials(mutual), IsOk());
  EXPECT_THAT(MakeServerCredentials(TlsOptions{}), IsOk()) << "plaintext";
  EXPECT_THAT(MakeChannelCredentials(
                  {Path("ca.pem"), Path("server.pem"), Path("server.key")}),
              IsOk());
}

TEST_F(TlsConfigTest, EachBadSettingIsRefusedNamingTheFlagAndFile) {
  struct Case {
    const char* what;
    TlsOptions options;
    const char* expected;
  };
  auto with = [&](auto change) {
    TlsOptions o = Server();
    change(o);
    return o;
  };
  const Case cases[] = {
      {"certificate without key",
       with([](TlsOptions& o) { o.key_file.clear(); }),
       "--tls_cert and --tls_key go together"},
      {"missing certificate file",
       with([&](TlsOptions& o) { o.cert_file = Path("nope.pem"); }),
       "nope.pem"},
      {"not a certificate",
       with([&](TlsOptions& o) { o.cert_file = Path("garbage.pem"); }),
       "--tls_cert '"},
      {"a certificate that does not parse",
       with([&](TlsOptions& o) { o.cert_file = Path("broken.pem"); }),
       "certificate 2 does not parse"},
      {"not a key",
       with([&](TlsOptions& o) { o.key_file = Path("garbage.pem"); }),
       "holds no unencrypted PEM private key"},
      {"the key of another certificate",
       with([&](TlsOptions& o) { o.key_file = Path("other.key"); }),
       "--tls_key '"},
      {"an unknown client certificate mode", with([&](TlsOptions& o) {
         o.client_ca_file = Path("ca.pem");
         o.client_cert_mode = "sometimes";
       }),
       "--client_cert must be 'require' or 'optional', not 'sometimes'"},
      {"a client CA that is not a certificate",
       with([&](TlsOptions& o) { o.client_ca_file = Path("garbage.pem"); }),
       "--client_ca '"},
      {"no refresh", with([](TlsOptions& o) { o.refresh_seconds = 0; }),
       "--tls_refresh_seconds must be at least 1"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(
        MakeServerCredentials(c.options),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.expected)))
        << c.what;
  }
  TlsOptions client_ca_only;
  client_ca_only.client_ca_file = Path("ca.pem");
  EXPECT_THAT(MakeServerCredentials(client_ca_only),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("mutual TLS is TLS")));
}

TEST_F(TlsConfigTest, ClientSettingsAreCheckedToo) {
  EXPECT_THAT(MakeChannelCredentials({Path("ca.pem"), Path("server.pem"), ""}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls_cert and --tls_key go together")));
  EXPECT_THAT(MakeChannelCredentials({Path("nope.pem"), "", ""}),
              testing::Not(IsOk()));
}

}  // namespace
}  // namespace reconnect::service
