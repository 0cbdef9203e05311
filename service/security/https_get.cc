#include "service/security/https_get.h"

#include <chrono>
#include <exception>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "openssl/ssl.h"

namespace reconnect::service {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Url {
  std::string host;
  std::string port;
  std::string target;
};

absl::StatusOr<Url> ParseUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(url), "' ", std::string(why)));
  };
  constexpr std::string_view kScheme = "https://";
  if (url.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(url.data(), kScheme.size()),
                              absl::string_view(kScheme.data()))) {
    return bad("is not an https:// URL");
  }
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('#'));
  const size_t slash = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, slash);
  Url out;
  out.target =
      slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (absl::StartsWith(out.target, "?")) out.target = "/" + out.target;
  if (authority.empty()) return bad("names no host");
  if (authority.find('@') != std::string_view::npos) {
    return bad("carries credentials; a key set URL must not");
  }
  std::string_view port;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed [");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("has text after its host");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("names no host");
  out.port = port.empty() ? "443" : std::string(port);
  int number = 0;
  if (!absl::SimpleAtoi(out.port, &number) || number < 1 || number > 65535) {
    return bad("has a port that is not 1-65535");
  }
  return out;
}

}  // namespace

absl::Status CheckHttpsUrl(std::string_view url) {
  return ParseUrl(url).status();
}

absl::StatusOr<std::string> HttpsGet(const std::string& url,
                                     const HttpsGetOptions& options) {
  absl::StatusOr<Url> parsed = ParseUrl(url);
  if (!parsed.ok()) return absl::UnavailableError(parsed.status().message());
  auto unavailable = [&](std::string_view why) {
    return absl::UnavailableError(
        absl::StrCat("fetching ", url, ": ", std::string(why)));
  };
  asio::ssl::context tls(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  if (options.ca_file.empty()) {
    tls.set_default_verify_paths(ec);
  } else {
    tls.load_verify_file(options.ca_file, ec);
  }
  if (ec) {
    return unavailable(absl::StrCat("cannot load the trusted CAs ",
                                    options.ca_file, ": ", ec.message()));
  }
  tls.set_verify_mode(asio::ssl::verify_peer);

  asio::io_context io;
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  boost::system::error_code address_ec;
  asio::ip::make_address(parsed->host, address_ec);
  // SNI names hosts, never addresses (RFC 6066).
  if (address_ec &&
      !SSL_set_tlsext_host_name(stream.native_handle(), parsed->host.c_str())) {
    return unavailable("cannot set the TLS server name");
  }
  stream.set_verify_callback(asio::ssl::host_name_verification(parsed->host));

  const auto timeout =
      std::chrono::milliseconds(absl::ToInt64Milliseconds(options.timeout));
  std::optional<absl::StatusOr<std::string>> result;
  auto fetch = [&]() -> asio::awaitable<void> {
    tcp::resolver resolver(io);
    const auto endpoints = co_await resolver.async_resolve(
        parsed->host, parsed->port, asio::use_awaitable);
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints,
                                                           asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client,
                                    asio::use_awaitable);
    http::request<http::empty_body> request(http::verb::get, parsed->target,
                                            11);
    request.set(http::field::host, parsed->host);
    request.set(http::field::accept, "application/json");
    request.set(http::field::connection, "close");
    co_await http::async_write(stream, request, asio::use_awaitable);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(options.max_bytes);
    co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
    const auto& response = parser.get();
    if (response.result() != http::status::ok) {
      result = unavailable(
          absl::StrCat("the server answered ", response.result_int()));
    } else {
      result = response.body();
    }
  };
  asio::co_spawn(io, fetch, [&](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const boost::system::system_error& e) {
      if (e.code() == http::error::body_limit) {
        result = unavailable(absl::StrCat("the answer is larger than ",
                                          options.max_bytes, " bytes"));
      } else if (e.code() == beast::error::timeout) {
        result = unavailable(absl::StrCat(
            "no answer within ", absl::FormatDuration(options.timeout)));
      } else {
        result = unavailable(e.code().message());
      }
    } catch (const std::exception& e) {
      result = unavailable(e.what());
    }
  });
  // Resolving is not covered by the stream's deadline: bound the whole run.
  io.run_for(timeout + std::chrono::seconds(1));
  if (!result) {
    return unavailable(absl::StrCat("no answer within ",
                                    absl::FormatDuration(options.timeout)));
  }
  return *std::move(result);
}

}  // namespace reconnect::service
