#ifndef RECONNECT_TESTS_TESTING_HTTP_CLIENT_H_
#define RECONNECT_TESTS_TESTING_HTTP_CLIENT_H_

// A small HTTP/1.1 client on plain sockets, for tests that must control the
// bytes and their timing: partial requests, slow senders, many connections,
// several requests on one connection.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace reconnect::testing_util {

struct HttpReply {
  int status = 0;
  // Names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
};

class HttpConnection {
 public:
  // Connects to 127.0.0.1:`port`; connected() says whether it did.
  explicit HttpConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~HttpConnection() {
    if (fd_ >= 0) close(fd_);
  }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(absl::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Sends a request with Host, Content-Length (for a body) and `extra`
  // header lines ("Name: value\r\n" each).
  bool SendRequest(absl::string_view method, absl::string_view target,
                   absl::string_view body = "", absl::string_view extra = "") {
    std::string head = absl::StrCat(method, " ", target,
                                    " HTTP/1.1\r\nHost: 127.0.0.1\r\n", extra);
    if (!body.empty() || method == "POST") {
      absl::StrAppend(&head, "Content-Length: ", body.size(), "\r\n");
    }
    absl::StrAppend(&head, "\r\n");
    return Send(head) && Send(body);
  }

  // Reads one response (its body by Content-Length), waiting at most
  // `timeout` in all; nullopt when none came whole.
  std::optional<HttpReply> Read(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    HttpReply reply;
    const std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    bool first = true;
    for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
      if (first) {
        first = false;
        std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
        if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &reply.status)) {
          return std::nullopt;
        }
        continue;
      }
      const size_t colon = line.find(':');
      if (colon == absl::string_view::npos) continue;
      reply.headers[absl::AsciiStrToLower(line.substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
    size_t length = 0;
    if (auto it = reply.headers.find("content-length");
        it != reply.headers.end() && !absl::SimpleAtoi(it->second, &length)) {
      return std::nullopt;
    }
    while (buffer_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  // Whether the server closes the connection within `timeout` (reading and
  // dropping whatever it sends first).
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) <=
          0) {
        return false;
      }
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[16384];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

// One request on a connection of its own, and its answer.
inline std::optional<HttpReply> HttpCall(
    int port, absl::string_view method, absl::string_view target,
    absl::string_view body = "", absl::string_view extra = "",
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  HttpConnection c(port);
  if (!c.connected() || !c.SendRequest(method, target, body, extra)) {
    return std::nullopt;
  }
  return c.Read(timeout);
}

}  // namespace reconnect::testing_util

#endif  // RECONNECT_TESTS_TESTING_HTTP_CLIENT_H_
