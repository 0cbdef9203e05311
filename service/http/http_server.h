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

namespace reconnect::service::http {

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
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // the target up to '?'
  // Header names lower-cased, in the order sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first value of header `name` (lower case), or "".
  std::string Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Answers one request, once, from any thread.
using Respond = absl::AnyInvocable<void(HttpResponse) &&>;
// Handles one request: calls `respond` (now or later, from any thread).
// Runs on one of the server's threads, so it must not block.
using HttpHandler = std::function<void(HttpRequest, Respond)>;

// One issue of a FHIR OperationOutcome: `code` a FHIR issue-type, what is
// wrong, and where (a path into the request; empty when not one place).
struct OutcomeIssue {
  std::string code;
  std::string diagnostics;
  std::string expression;
};

// `status` with a FHIR OperationOutcome of `issues` (all errors).
HttpResponse OutcomeResponse(int status, const std::vector<OutcomeIssue>& issues);

// The answer to a request refused for one reason: `status` with a FHIR
// OperationOutcome whose issue has `code` (a FHIR issue-type) and
// `diagnostics`, and `expression` when non-empty.
HttpResponse ErrorResponse(int status, std::string_view code,
                           std::string_view diagnostics,
                           std::string_view expression = "");

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
