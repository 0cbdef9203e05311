#include "service/http/http_server.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "nlohmann/json.hpp"
#include "openssl/err.h"
#include "openssl/ssl.h"
#include "service/common/files.h"
#include "service/common/log.h"

namespace reconnect::service::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

// Under load every line costs: the first refusal of a kind and every
// hundredth are logged, with the running count. Never the request's content.
void LogRefusal(std::atomic<uint64_t>& count, int status,
                std::string_view reason) {
  const uint64_t n = ++count;
  if (n == 1 || n % 100 == 0) {
    Log(LogLevel::kWarning, "http_refused",
        {{"status", status},
         {"reason", std::string(reason)},
         {"refused_total", n}});
  }
}

}  // namespace

// Whether late answers may still be posted to the connections' threads:
// closed before those threads stop, so that an answer from another thread
// (an audit commit, say) never reaches a stopped server.
struct Gate {
  absl::Mutex mu;
  bool open ABSL_GUARDED_BY(mu) = true;
};

// The TLS settings in force: replaced when the certificate files change,
// while each connection keeps the one it began with.
class TlsContext {
 public:
  explicit TlsContext(HttpTlsOptions options) : options_(std::move(options)) {}
  bool enabled() const { return !options_.cert_file.empty(); }
  // Loads the files now; the error names the file that fails.
  absl::Status Load();
  // The context to begin a connection with, re-reading the files when
  // they changed (looked at most once per refresh interval). A file that
  // fails to load is logged and the previous context stays.
  std::shared_ptr<net::ssl::context> Current();

 private:
  absl::StatusOr<std::shared_ptr<net::ssl::context>> Make() const;
  std::string Fingerprint() const {
    return absl::StrCat(FileFingerprint(options_.cert_file), "|",
                        FileFingerprint(options_.key_file));
  }

  const HttpTlsOptions options_;
  absl::Mutex mu_;
  std::shared_ptr<net::ssl::context> context_ ABSL_GUARDED_BY(mu_);
  std::string fingerprint_ ABSL_GUARDED_BY(mu_);
  absl::Time next_look_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::shared_ptr<net::ssl::context>> TlsContext::Make() const {
  auto context =
      std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  context->set_options(net::ssl::context::default_workarounds |
                       net::ssl::context::no_compression |
                       net::ssl::context::single_dh_use);
  beast::error_code ec;
  context->use_certificate_chain_file(options_.cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("the TLS certificate '", options_.cert_file,
                     "' cannot be used: ", ec.message()));
  }
  context->use_private_key_file(options_.key_file, net::ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("the TLS key '", options_.key_file,
                     "' cannot be used, or does not match the certificate",
                     ec ? absl::StrCat(": ", ec.message()) : std::string()));
  }
  return context;
}

absl::Status TlsContext::Load() {
  if (!enabled()) return absl::OkStatus();
  const std::string fingerprint = Fingerprint();
  absl::StatusOr<std::shared_ptr<net::ssl::context>> context = Make();
  if (!context.ok()) return context.status();
  absl::MutexLock lock(&mu_);
  context_ = *std::move(context);
  fingerprint_ = fingerprint;
  next_look_ = absl::Now() + options_.refresh;
  return absl::OkStatus();
}

std::shared_ptr<net::ssl::context> TlsContext::Current() {
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    if (now < next_look_) return context_;
    next_look_ = now + options_.refresh;
    if (Fingerprint() == fingerprint_) return context_;
    fingerprint_ = Fingerprint();  // a bad edit is reported once
  }
  absl::StatusOr<std::shared_ptr<net::ssl::context>> context = Make();
  absl::MutexLock lock(&mu_);
  if (!context.ok()) {
    Log(LogLevel::kError, "http_tls_reload_failed",
        {{"reason", std::string(context.status().message())}});
    return context_;
  }
  context_ = *std::move(context);
  Log(LogLevel::kInfo, "http_tls_reloaded", {});
  return context_;
}

class HttpServer::Impl {
 public:
  Impl(const HttpOptions& options, HttpHandler handler)
      : options_(options),
        handler_(std::move(handler)),
        tls_(options.tls),
        io_(options.threads),
        acceptor_(net::make_strand(io_)) {}

  absl::Status Listen(const std::string& address);
  void Run() {
    Accept();
    for (int i = 0; i < options_.threads; ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
  }
  void Shutdown(absl::Duration grace);
  int port() const { return port_; }

  const HttpOptions options_;
  const HttpHandler handler_;
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  std::atomic<int> connections_{0};
  // Requests read and not yet answered.
  std::atomic<int> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> refused_{0};
  TlsContext tls_;

 private:
  void Accept();

  int port_ = 0;
  // Last but the threads: destroying it destroys the connections it still
  // holds, which use the members above.
  net::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

// One client connection: reads requests one after another (keep-alive),
// hands each to the handler, and writes its answer. Everything it does runs
// on its strand, so it needs no lock. `Stream` is the socket, or a TLS
// stream over it.
template <typename Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  // Plaintext.
  Connection(HttpServer::Impl& server, tcp::socket socket) requires(!kTls)
      : server_(server),
        stream_(std::move(socket)),
        timer_(stream_.get_executor()) {}
  // TLS, with the context it began with (kept alive with it).
  Connection(HttpServer::Impl& server, tcp::socket socket,
             std::shared_ptr<net::ssl::context> context) requires(kTls)
      : server_(server),
        context_(std::move(context)),
        stream_(std::move(socket), *context_),
        timer_(stream_.get_executor()) {}
  ~Connection() { --server_.connections_; }

  void Start(bool over_limit) {
    if constexpr (kTls) {
      // The handshake is bounded like a request: a client that opens a
      // connection and stalls holds it for the read timeout at most.
      phase_ = Phase::kHandshake;
      Arm(server_.options_.read_timeout);
      stream_.async_handshake(
          net::ssl::stream_base::server,
          [self = this->shared_from_this(), over_limit](beast::error_code ec) {
            self->Disarm();
            if (ec) {
              LogRefusal(self->server_.refused_, 0, "TLS handshake failed");
              self->Close();
              return;
            }
            self->Begin(over_limit);
          });
    } else {
      Begin(over_limit);
    }
  }

 private:
  enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting };

  tcp::socket& socket() { return beast::get_lowest_layer(stream_); }

  void Begin(bool over_limit) {
    if (over_limit) {
      Refuse(ErrorResponse(503, "throttled",
                           "the server has as many connections open as it "
                           "may; retry later"),
             "too many connections");
      return;
    }
    WaitForRequest();
  }

  void Arm(absl::Duration after) {
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(Chrono(after));
    timer_.async_wait(
        [self = this->shared_from_this(), generation](beast::error_code ec) {
          if (ec || generation != self->timer_generation_) return;
          self->OnTimeout();
        });
  }
  void Disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void OnTimeout() {
    switch (phase_) {
      case Phase::kHandshake:
      case Phase::kIdle:
      case Phase::kWriting:
        Close();
        return;
      case Phase::kReading:
        // The read ends with operation_aborted, and OnRead answers 408.
        timed_out_ = true;
        socket().cancel();
        return;
      case Phase::kHandling:
        Answer(exchange_,
               ErrorResponse(
                   503, "timeout",
                   absl::StrCat(
                       "the answer took longer than ",
                       absl::FormatDuration(server_.options_.request_deadline),
                       "; retry later")));
        return;
    }
  }

  // Waits for the first bytes of the next request, at most the idle
  // timeout, before the request's read timeout starts (so 408 is only for
  // slow senders). The bytes are read through the stream, so that with TLS
  // they are what the client sent, not a record's framing, and a request
  // already buffered is read at once.
  void WaitForRequest() {
    phase_ = Phase::kIdle;
    if (server_.stopping_) {
      Close();
      return;
    }
    if (buffer_.size() > 0) {
      ReadRequest();
      return;
    }
    Arm(server_.options_.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kFirstRead),
        [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) {
            self->Close();
            return;
          }
          self->buffer_.commit(n);
          self->ReadRequest();
        });
  }

  void ReadRequest() {
    phase_ = Phase::kReading;
    timed_out_ = false;
    parser_.emplace();
    parser_->header_limit(
        static_cast<std::uint32_t>(server_.options_.max_header_bytes));
    parser_->body_limit(server_.options_.max_body_bytes);
    Arm(server_.options_.read_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) {
          self->OnHeader(ec);
        });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      OnRead(ec);
      return;
    }
    // curl and others wait for this before sending a body.
    if (absl::EqualsIgnoreCase(
            std::string((*parser_).get()[bhttp::field::expect]),
            "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(
          bhttp::status::continue_, 11);
      bhttp::async_write(stream_, *cont,
                         [self = this->shared_from_this(), cont](
                             beast::error_code ec, size_t) {
                           if (ec) {
                             self->Close();
                             return;
                           }
                           self->ReadBody();
                         });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](
                          beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    Disarm();
    if (ec == bhttp::error::end_of_stream) {
      Close();
      return;
    }
    if (timed_out_) {
      Refuse(ErrorResponse(408, "timeout",
                           absl::StrCat("the request did not arrive within ",
                                        absl::FormatDuration(
                                            server_.options_.read_timeout))),
             "slow sender");
      return;
    }
    if (ec == bhttp::error::header_limit) {
      Refuse(ErrorResponse(
                 431, "too-long",
                 absl::StrCat("the request head is larger than ",
                              server_.options_.max_header_bytes, " bytes")),
             "head too large");
      return;
    }
    if (ec == bhttp::error::body_limit) {
      Refuse(ErrorResponse(
                 413, "too-long",
                 absl::StrCat("the request body is larger than ",
                              server_.options_.max_body_bytes, " bytes")),
             "body too large");
      return;
    }
    if (ec &&
        &ec.category() ==
            &bhttp::make_error_code(bhttp::error::bad_target).category()) {
      Refuse(ErrorResponse(400, "structure",
                           absl::StrCat("the request is not well-formed "
                                        "HTTP/1.1: ",
                                        ec.message())),
             "malformed request");
      return;
    }
    if (ec) {  // the peer went away, or the socket failed
      Close();
      return;
    }
    Dispatch();
  }

  void Dispatch() {
    bhttp::request<bhttp::string_body> message = parser_->release();
    parser_.reset();
    keep_alive_ = message.keep_alive();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.path = request.target.substr(0, request.target.find('?'));
    for (const auto& field : message) {
      request.headers.emplace_back(
          absl::AsciiStrToLower(std::string(field.name_string())),
          std::string(field.value()));
    }
    request.body = std::move(message.body());
    phase_ = Phase::kHandling;
    const uint64_t exchange = ++exchange_;
    answered_ = false;
    ++server_.in_flight_;
    Arm(server_.options_.request_deadline);
    // The answer may come from any thread, even after the server has
    // gone: it holds only the gate and a weak reference, and posts to the
    // connection's strand while the gate (and so the io_context) is open.
    Respond respond = [gate = server_.gate_, weak = this->weak_from_this(),
                       exchange](HttpResponse response) mutable {
      absl::MutexLock lock(&gate->mu);
      if (!gate->open) return;
      auto self = weak.lock();
      if (self == nullptr) return;
      auto executor = self->stream_.get_executor();
      net::post(executor, [self = std::move(self), exchange,
                           response = std::move(response)]() mutable {
        self->Answer(exchange, std::move(response));
      });
    };
    try {
      server_.handler_(std::move(request), std::move(respond));
    } catch (const std::exception& e) {
      // A handler's bug must not take the process down; it is logged
      // without the request's content.
      Log(LogLevel::kError, "http_handler_failed", {{"reason", e.what()}});
      Answer(exchange, ErrorResponse(500, "exception",
                                     "the request could not be handled"));
    }
  }

  void Answer(uint64_t exchange, HttpResponse response) {
    if (exchange != exchange_ || answered_) return;
    answered_ = true;
    --server_.in_flight_;
    Disarm();
    Write(std::move(response), keep_alive_ && !server_.stopping_);
  }

  // Answers a request that was not read whole, and closes the connection.
  void Refuse(HttpResponse response, std::string_view reason) {
    LogRefusal(server_.refused_, response.status, reason);
    Write(std::move(response), /*keep_alive=*/false);
  }

  void Write(HttpResponse r, bool keep_alive) {
    phase_ = Phase::kWriting;
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(r.status));
    if (!r.content_type.empty()) {
      response_.set(bhttp::field::content_type, r.content_type);
    }
    response_.set(bhttp::field::cache_control, "no-store");
    for (const auto& [name, value] : r.headers) response_.set(name, value);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    Arm(server_.options_.read_timeout);
    bhttp::async_write(
        stream_, response_,
        [self = this->shared_from_this(), keep_alive](
            beast::error_code ec, size_t) { self->OnWrite(ec, keep_alive); });
  }

  void OnWrite(beast::error_code ec, bool keep_alive) {
    Disarm();
    if (ec || !keep_alive) {
      Close();
      return;
    }
    WaitForRequest();
  }

  // Closes the socket. With TLS, without a close_notify: every answer has
  // its length, so the client knows it got all of it, and a closing
  // handshake would be one more thing a stalled client could hold open.
  void Close() {
    Disarm();
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    socket().close(ignored);
  }

  // How much of a request the first read after an idle wait takes.
  static constexpr size_t kFirstRead = 4096;

  HttpServer::Impl& server_;
  std::shared_ptr<net::ssl::context> context_;  // TLS only
  Stream stream_;
  net::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  Phase phase_ = Phase::kIdle;
  bool timed_out_ = false;
  bool keep_alive_ = false;
  // The request being handled, and whether it has its answer.
  uint64_t exchange_ = 0;
  bool answered_ = true;
};

absl::Status HttpServer::Impl::Listen(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http_listen '", address, "' is not HOST:PORT (port 0 to 65535)"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints =
      resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--http_listen '", address,
                                                   "': cannot resolve '", host,
                                                   "': ", ec.message()));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ",
                                               address, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(io_), [this](beast::error_code ec,
                                                       tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
      return;
    }
    if (!ec) {
      // Answers are written whole; holding them back to coalesce only adds
      // latency.
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      const bool over = connections_.fetch_add(1) >= options_.max_connections;
      if (tls_.enabled()) {
        std::make_shared<Connection<net::ssl::stream<tcp::socket>>>(
            *this, std::move(socket), tls_.Current())
            ->Start(over);
      } else {
        std::make_shared<Connection<tcp::socket>>(*this, std::move(socket))
            ->Start(over);
      }
    }
    Accept();
  });
}

void HttpServer::Impl::Shutdown(absl::Duration grace) {
  if (stopping_.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  const absl::Time deadline = absl::Now() + grace;
  while (in_flight_ > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  {
    absl::MutexLock lock(&gate_->mu);
    gate_->open = false;
  }
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { impl_->Shutdown(absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& address, const HttpOptions& options,
    HttpHandler handler) {
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  if (absl::Status s = impl->tls_.Load(); !s.ok()) return s;
  if (absl::Status s = impl->Listen(address); !s.ok()) return s;
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

int HttpServer::port() const { return impl_->port(); }

void HttpServer::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }

}  // namespace reconnect::service::http
