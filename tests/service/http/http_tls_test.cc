// The HTTP server over TLS: the same exchanges as plaintext, a bounded
// handshake, certificate files checked at start and re-read when they
// rotate. The client is Boost.Beast over OpenSSL, verifying the server
// against a CA the test makes.

#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/http/http_server.h"
#include "tests/testing/http_client.h"
#include "tests/testing/pki.h"
#include "tests/testing/tls_client.h"

namespace reconnect::service::http {
namespace {

using testing::HasSubstr;
using testing_util::Certificate;
using testing_util::Key;
using testing_util::MakeCertificate;
using testing_util::TlsClient;
using testing_util::WriteFile;

// A CA and a server certificate for 127.0.0.1 in a fresh directory.
class Pki {
 public:
  explicit Pki(const std::string& name)
      : dir_(std::filesystem::path(::testing::TempDir()) /
             (name + "-" + std::to_string(getpid()))),
        ca_key_(Key::EcP256()) {
    std::filesystem::create_directories(dir_);
    ca_ = MakeCertificate({"Test CA", {}, true}, ca_key_, nullptr, ca_key_);
    WriteFile(ca_file(), ca_.pem);
    Issue("server-1");
  }
  // Writes a new server certificate with common name `cn` and its key.
  void Issue(const std::string& cn) {
    Key key = Key::EcP256();
    Certificate cert =
        MakeCertificate({cn, {"IP:127.0.0.1"}}, key, &ca_, ca_key_);
    WriteFile(key_file(), key.PrivatePem());
    WriteFile(cert_file(), cert.pem);
  }
  std::string ca_file() const { return (dir_ / "ca.pem").string(); }
  std::string cert_file() const { return (dir_ / "server.pem").string(); }
  std::string key_file() const { return (dir_ / "server-key.pem").string(); }
  HttpTlsOptions options() const {
    return {cert_file(), key_file(), absl::Seconds(60)};
  }

 private:
  std::filesystem::path dir_;
  Key ca_key_;
  Certificate ca_;
};

void Answer(HttpRequest request, Respond respond) {
  HttpResponse r;
  r.body = request.path;
  std::move(respond)(std::move(r));
}

TEST(HttpTlsTest, ServesRequestsOnOneTlsConnection) {
  Pki pki("http-tls-serve");
  HttpOptions options;
  options.tls = pki.options();
  auto server = HttpServer::Start("127.0.0.1:0", options, Answer);
  ASSERT_TRUE(server.ok()) << server.status();
  TlsClient client((*server)->port(), pki.ca_file());
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.PeerName(), "server-1");
  for (const char* path : {"/one", "/two", "/three"}) {
    auto reply = client.Call(path);
    ASSERT_TRUE(reply.has_value()) << path;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, path);
  }
}

TEST(HttpTlsTest, PlaintextToATlsListenerGetsNoAnswer) {
  Pki pki("http-tls-plain");
  HttpOptions options;
  options.tls = pki.options();
  auto server = HttpServer::Start("127.0.0.1:0", options, Answer);
  ASSERT_TRUE(server.ok()) << server.status();
  // Nothing an HTTP client could mistake for an answer: the handshake
  // fails and the connection closes.
  auto reply = testing_util::HttpCall((*server)->port(), "GET", "/x");
  EXPECT_FALSE(reply.has_value() && reply->status == 200);
}

TEST(HttpTlsTest, AStalledHandshakeIsClosedAtTheReadTimeout) {
  Pki pki("http-tls-stall");
  HttpOptions options;
  options.tls = pki.options();
  options.read_timeout = absl::Milliseconds(300);
  auto server = HttpServer::Start("127.0.0.1:0", options, Answer);
  ASSERT_TRUE(server.ok()) << server.status();
  testing_util::HttpConnection stalled((*server)->port());
  ASSERT_TRUE(stalled.connected());
  const auto start = std::chrono::steady_clock::now();
  // The server closes the connection: the read sees the end, no answer.
  EXPECT_FALSE(stalled.Read(std::chrono::seconds(5)).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(HttpTlsTest, UnusableFilesAreRefusedAtStartNamingThem) {
  Pki pki("http-tls-bad");
  HttpOptions options;
  options.tls = pki.options();
  options.tls.cert_file = pki.cert_file() + ".missing";
  auto missing = HttpServer::Start("127.0.0.1:0", options, Answer);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(),
              HasSubstr("the TLS certificate '" + options.tls.cert_file));
  // A key that is not the certificate's.
  options.tls = pki.options();
  WriteFile(pki.key_file(), Key::EcP256().PrivatePem());
  auto mismatched = HttpServer::Start("127.0.0.1:0", options, Answer);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_THAT(mismatched.status().message(),
              HasSubstr("does not match the certificate"));
}

TEST(HttpTlsTest, ARotatedCertificateIsServedToNewConnections) {
  Pki pki("http-tls-rotate");
  HttpOptions options;
  options.tls = pki.options();
  options.tls.refresh = absl::Milliseconds(100);
  auto server = HttpServer::Start("127.0.0.1:0", options, Answer);
  ASSERT_TRUE(server.ok()) << server.status();
  TlsClient before((*server)->port(), pki.ca_file());
  ASSERT_TRUE(before.ok()) << before.error();
  EXPECT_EQ(before.PeerName(), "server-1");
  pki.Issue("server-2");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  TlsClient after((*server)->port(), pki.ca_file());
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(after.PeerName(), "server-2");
  // The connection made before keeps working.
  auto reply = before.Call("/still");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->body, "/still");
  // A broken rotation keeps the certificate that works.
  WriteFile(pki.cert_file(), "not a certificate");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  TlsClient broken((*server)->port(), pki.ca_file());
  ASSERT_TRUE(broken.ok()) << broken.error();
  EXPECT_EQ(broken.PeerName(), "server-2");
}

}  // namespace
}  // namespace reconnect::service::http
