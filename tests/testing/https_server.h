#ifndef RECONNECT_TESTS_TESTING_HTTPS_SERVER_H_
#define RECONNECT_TESTS_TESTING_HTTPS_SERVER_H_

// A small HTTPS server on a loopback port that answers every GET with the
// status and body a test sets, counting the requests: what an EHR's JWKS
// endpoint looks like to the service.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"

namespace reconnect::testing_util {

class HttpsServer {
 public:
  // Serves with the certificate chain and key given as PEM.
  HttpsServer(const std::string& cert_pem, const std::string& key_pem)
      : tls_(boost::asio::ssl::context::tls_server),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    tls_.use_certificate_chain(boost::asio::buffer(cert_pem));
    tls_.use_private_key(boost::asio::buffer(key_pem),
                         boost::asio::ssl::context::pem);
    boost::asio::co_spawn(io_, Accept(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~HttpsServer() {
    io_.stop();
    thread_.join();
  }

  int port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port()) + path;
  }
  void Answer(int status, std::string body) {
    absl::MutexLock lock(&mu_);
    status_ = status;
    body_ = std::move(body);
  }
  // GETs answered so far.
  int requests() const { return requests_.load(); }

 private:
  boost::asio::awaitable<void> Accept() {
    while (true) {
      boost::asio::ip::tcp::socket socket =
          co_await acceptor_.async_accept(boost::asio::use_awaitable);
      boost::asio::co_spawn(io_, Handle(std::move(socket)),
                            boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> Handle(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::beast::ssl_stream<boost::asio::ip::tcp::socket> stream(
        std::move(socket), tls_);
    try {
      co_await stream.async_handshake(boost::asio::ssl::stream_base::server,
                                      boost::asio::use_awaitable);
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> request;
      co_await http::async_read(stream, buffer, request,
                                boost::asio::use_awaitable);
      ++requests_;
      http::response<http::string_body> response;
      {
        absl::MutexLock lock(&mu_);
        response.result(status_);
        response.body() = body_;
      }
      response.set(http::field::content_type, "application/json");
      response.keep_alive(false);
      response.prepare_payload();
      co_await http::async_write(stream, response, boost::asio::use_awaitable);
    } catch (const std::exception&) {
      // A client that gives up (or distrusts the certificate) ends here.
    }
  }

  boost::asio::io_context io_;
  boost::asio::ssl::context tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> requests_{0};
  absl::Mutex mu_;
  int status_ ABSL_GUARDED_BY(mu_) = 200;
  std::string body_ ABSL_GUARDED_BY(mu_) = "{}";
};

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_HTTPS_SERVER_H_
