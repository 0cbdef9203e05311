// A closed-loop HTTP/1.1 load generator for the CDS Hooks service calls: a
// number of keep-alive connections, each with one request in flight (HTTP/1.1
// does not interleave), for a fixed time. Prints one JSON line, as
// reconnect_load does: calls per second, latency percentiles, errors (any
// status but 200), and the CPU time per call of the generator and (with
// --server_pid) of the server.
//
//   reconnect_http_load --target HOST:PORT --path /cds-services/ID
//                       --body FILE [--connections 32] [--seconds 10]
//                       [--warmup_seconds 1] [--server_pid PID]

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/load_stats.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "nlohmann/json.hpp"
#include "tests/testing/pki.h"

ABSL_FLAG(std::string, target, "127.0.0.1:8080", "Server HOST:PORT.");
ABSL_FLAG(std::string, path, "/cds-services/reconnect-patient-view",
          "The path to POST to.");
ABSL_FLAG(std::string, body, "", "A file holding the request body (JSON).");
ABSL_FLAG(int, connections, 32, "Keep-alive connections, one call each.");
ABSL_FLAG(double, seconds, 10, "Measured duration.");
ABSL_FLAG(double, warmup_seconds, 1, "Unmeasured warm-up before it.");
ABSL_FLAG(std::string, sign_key, "",
          "A PEM EC P-384 private key: each call then carries a fresh ES384 "
          "bearer token signed with it, as a CDS Hooks client sends.");
ABSL_FLAG(std::string, issuer, "https://ehr.example.org",
          "The tokens' iss (with --sign_key).");
ABSL_FLAG(std::string, public_url, "https://cds.example.org",
          "The server's --http_public_url: the tokens' aud is it plus the "
          "path (with --sign_key).");
ABSL_FLAG(int, server_pid, 0,
          "The server's process id, to report its CPU time per call.");

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Shared {
  std::string host, port, path, body;
  // With --sign_key: the key, and the claims every token shares.
  std::unique_ptr<reconnect::testing_util::Key> key;
  std::string issuer, audience;
  // Unique to this run, so that another run's ids are not replays.
  std::string jti_prefix;
  std::atomic<int64_t> next_jti{0};
  std::atomic<bool> measuring{false};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::vector<double> latencies_us;  // guarded by mu
  int64_t errors = 0;                // guarded by mu
};

// One connection: request after request until stopping; reconnects when
// the server closes it.
void Connection(Shared& shared) {
  boost::asio::io_context io;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(shared.host, shared.port);
  std::vector<double> latencies;
  int64_t errors = 0;
  while (!shared.stopping) {
    beast::tcp_stream stream(io);
    beast::error_code ec;
    stream.connect(endpoints, ec);
    if (ec) {
      ++errors;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    beast::flat_buffer buffer;
    while (!shared.stopping) {
      http::request<http::string_body> request(http::verb::post, shared.path,
                                               11);
      request.set(http::field::host, shared.host);
      request.set(http::field::content_type, "application/json");
      if (shared.key) {
        // Signed per call, as a client does: part of what the generator's
        // CPU per call counts, not the server's.
        const int64_t now = absl::ToUnixSeconds(absl::Now());
        request.set(http::field::authorization,
                    "Bearer " + reconnect::testing_util::SignJwt(
                                    {{"alg", "ES384"}, {"kid", "bench-cds"}},
                                    {{"iss", shared.issuer},
                                     {"aud", shared.audience},
                                     {"iat", now},
                                     {"exp", now + 120},
                                     {"jti", absl::StrCat(shared.jti_prefix,
                                                          shared.next_jti++)}},
                                    *shared.key));
      }
      request.body() = shared.body;
      request.prepare_payload();
      const auto started = Clock::now();
      http::write(stream, request, ec);
      http::response<http::string_body> response;
      if (!ec) http::read(stream, buffer, response, ec);
      const double us =
          std::chrono::duration<double, std::micro>(Clock::now() - started)
              .count();
      const bool ok = !ec && response.result_int() == 200;
      if (shared.measuring) {
        if (ok) {
          latencies.push_back(us);
        } else {
          ++errors;
        }
      }
      if (ec || !response.keep_alive()) break;
    }
  }
  std::lock_guard<std::mutex> lock(shared.mu);
  shared.latencies_us.insert(shared.latencies_us.end(), latencies.begin(),
                             latencies.end());
  shared.errors += errors;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  Shared shared;
  const std::string target = absl::GetFlag(FLAGS_target);
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "reconnect_http_load: --target must be HOST:PORT\n";
    return 2;
  }
  shared.host = target.substr(0, colon);
  shared.port = target.substr(colon + 1);
  shared.path = absl::GetFlag(FLAGS_path);
  std::ifstream in(absl::GetFlag(FLAGS_body));
  std::stringstream body;
  body << in.rdbuf();
  shared.body = body.str();
  if (!in || shared.body.empty()) {
    std::cerr << "reconnect_http_load: cannot read --body "
              << absl::GetFlag(FLAGS_body) << "\n";
    return 2;
  }
  if (const std::string key = absl::GetFlag(FLAGS_sign_key); !key.empty()) {
    std::ifstream key_in(key);
    std::stringstream pem;
    pem << key_in.rdbuf();
    if (!key_in) {
      std::cerr << "reconnect_http_load: cannot read --sign_key " << key
                << "\n";
      return 2;
    }
    shared.key = std::make_unique<reconnect::testing_util::Key>(
        reconnect::testing_util::Key::FromPrivatePem(pem.str()));
    shared.issuer = absl::GetFlag(FLAGS_issuer);
    shared.jti_prefix = absl::StrCat("bench-", absl::ToUnixNanos(absl::Now()),
                                     "-", getpid(), "-");
    shared.audience = absl::GetFlag(FLAGS_public_url) + shared.path;
  }
  std::vector<std::thread> connections;
  for (int c = 0; c < absl::GetFlag(FLAGS_connections); ++c) {
    connections.emplace_back([&shared] { Connection(shared); });
  }
  auto sleep_for = [](double s) {
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
  };
  sleep_for(absl::GetFlag(FLAGS_warmup_seconds));
  reconnect::bench::Window window(absl::GetFlag(FLAGS_server_pid));
  shared.measuring = true;
  sleep_for(absl::GetFlag(FLAGS_seconds));
  shared.measuring = false;
  window.Stop();
  shared.stopping = true;
  for (auto& t : connections) t.join();
  nlohmann::json out = window.Report(shared.latencies_us, shared.errors);
  if (out.is_null()) {
    std::cerr << "reconnect_http_load: cannot read the CPU time of process "
              << absl::GetFlag(FLAGS_server_pid) << " from /proc\n";
    return 2;
  }
  out["connections"] = absl::GetFlag(FLAGS_connections);
  std::cout << out.dump() << "\n";
  return shared.errors > 0 ? 1 : 0;
}
