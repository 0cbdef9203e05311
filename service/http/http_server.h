#ifndef RECONNECT_SERVICE_HTTP_HTTP_SERVER_H_
#define RECONNECT_SERVICE_HTTP_HTTP_SERVER_H_

// An HTTP/1.1 server on Boost.Beast, for the standard interfaces EHRs speak
// (CDS Hooks, FHIR). Asynchronous: a keep-alive connection that is idle
// holds no thread, only its socket and a timer. Every limit a hostile or
// careless client could push against is an option, and every refusal is an
// answer with its status (never a crash, never a silent close while a
// request is being read).

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/http/http_message.h"

namespace reconnect::service::http {

// TLS on the listener: both files, or neither (plaintext).
struct HttpTlsOptions {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
  // How often the files are looked at: certificates rotate without a
  // restart.
  absl::Duration refresh = absl::Seconds(60);
};

struct HttpOptions {
  // The largest request head (request line and headers); larger: 431.
  size_t max_header_bytes = 16 * 1024;
  // The largest request body; larger: 413, before it is read.
  size_t max_body_bytes = 1024 * 1024;
  // From a request's first byte to its last: a slower sender gets 408 and
  // the connection is closed. Also bounds writing an answer to a slow
  // reader.
  absl::Duration read_timeout = absl::Seconds(10);
  // A keep-alive connection waiting for its next request is closed after
  // this long.
  absl::Duration idle_timeout = absl::Seconds(60);
  // Connections open at once; one more is answered 503 and closed.
  int max_connections = 512;
  // From a request's last byte to its answer: a handler that has not
  // answered by then is answered 503 for it.
  absl::Duration request_deadline = absl::Seconds(5);
  // Threads running the connections.
  int threads = 2;
  HttpTlsOptions tls;
};

// Answers one request, once, from any thread.
using Respond = absl::AnyInvocable<void(HttpResponse) &&>;
// Handles one request: calls `respond` (now or later, from any thread).
// Runs on one of the server's threads, so it must not block.
using HttpHandler = std::function<void(HttpRequest, Respond)>;

class HttpServer {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one) and serves
  // `handler` until destroyed.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& address, const HttpOptions& options,
      HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Stops accepting, lets requests in flight be answered for up to
  // `grace`, then closes every connection. Idempotent.
  void Shutdown(absl::Duration grace);

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace reconnect::service::http

#endif  // RECONNECT_SERVICE_HTTP_HTTP_SERVER_H_
