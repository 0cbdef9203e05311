#ifndef RECONNECT_TESTS_TESTING_TLS_CLIENT_H_
#define RECONNECT_TESTS_TESTING_TLS_CLIENT_H_

// An HTTPS client for tests: Boost.Beast over OpenSSL, verifying the
// server against a CA the test made.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "openssl/x509.h"
#include "tests/testing/http_client.h"

namespace reconnect::testing_util {

namespace tls_client_internal {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// One TLS connection that verifies the server against `ca_file`.
class TlsClient {
 public:
  TlsClient(int port, const std::string& ca_file)
      : context_(net::ssl::context::tls_client), stream_(io_, context_) {
    context_.load_verify_file(ca_file);
    stream_.set_verify_mode(net::ssl::verify_peer);
    beast::error_code ec;
    beast::get_lowest_layer(stream_).connect(
        {net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)}, ec);
    if (!ec) stream_.handshake(net::ssl::stream_base::client, ec);
    ok_ = !ec;
    error_ = ec.message();
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  // The server certificate's common name.
  std::string PeerName() {
    X509* cert = SSL_get1_peer_certificate(stream_.native_handle());
    if (cert == nullptr) return "";
    char name[256] = {0};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name,
                              sizeof(name));
    X509_free(cert);
    return name;
  }

  // One request on the connection (kept alive); nullopt when no answer
  // came. `headers` are added as given.
  std::optional<HttpReply> Call(
      const std::string& target, const std::string& method = "GET",
      const std::string& body = "",
      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    bhttp::request<bhttp::string_body> request(bhttp::string_to_verb(method),
                                               target, 11);
    request.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.keep_alive(true);
    request.prepare_payload();
    beast::error_code ec;
    bhttp::write(stream_, request, ec);
    if (ec) return std::nullopt;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(stream_, buffer_, response, ec);
    if (ec) return std::nullopt;
    HttpReply reply;
    reply.status = response.result_int();
    for (const auto& field : response) {
      reply.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
          std::string(field.value());
    }
    reply.body = response.body();
    return reply;
  }

 private:
  net::io_context io_;
  net::ssl::context context_;
  net::ssl::stream<tcp::socket> stream_;
  beast::flat_buffer buffer_;
  bool ok_ = false;
  std::string error_;
};

}  // namespace tls_client_internal

using tls_client_internal::TlsClient;

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_TLS_CLIENT_H_
