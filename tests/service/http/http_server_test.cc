// The HTTP server's limits and answers, with the real server in process
// and handlers that answer at once, late, from another thread, or never.

#include "service/http/http_server.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/http_client.h"

namespace reconnect::service::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::HasSubstr;
using testing_util::HttpCall;
using testing_util::HttpConnection;
using testing_util::HttpReply;

// Answers every request at once with its method, path and body size.
void Echo(HttpRequest request, Respond respond) {
  HttpResponse r;
  r.body = nlohmann::json{{"method", request.method},
                          {"path", request.path},
                          {"target", request.target},
                          {"body_bytes", request.body.size()},
                          {"x_test", request.Header("x-test")}}
               .dump();
  std::move(respond)(std::move(r));
}

std::unique_ptr<HttpServer> StartServer(HttpOptions options,
                                        HttpHandler handler = Echo) {
  auto server = HttpServer::Start("127.0.0.1:0", options, std::move(handler));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

// The OperationOutcome's diagnostics in `reply`.
std::string Diagnostics(const HttpReply& reply) {
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (!j.is_object() || j.value("resourceType", "") != "OperationOutcome") {
    return "(not an OperationOutcome: " + reply.body + ")";
  }
  return j["issue"][0].value("diagnostics", "");
}

TEST(HttpServerTest, AnswersSeveralRequestsOnOneConnection) {
  auto server = StartServer({});
  ASSERT_NE(server, nullptr);
  HttpConnection c(server->port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.SendRequest("POST", "/a/b?x=1", std::string(i * 10, 'z'),
                              "X-Test: yes\r\n"));
    auto reply = c.Read(seconds(5));
    ASSERT_TRUE(reply.has_value()) << "request " << i;
    EXPECT_EQ(reply->status, 200);
    auto j = nlohmann::json::parse(reply->body);
    EXPECT_EQ(j["method"], "POST");
    EXPECT_EQ(j["path"], "/a/b");
    EXPECT_EQ(j["target"], "/a/b?x=1");
    EXPECT_EQ(j["body_bytes"], i * 10);
    EXPECT_EQ(j["x_test"], "yes");
    EXPECT_EQ(reply->headers["cache-control"], "no-store");
  }
}

TEST(HttpServerTest, DefaultsAreTheDocumentedOnes) {
  const HttpOptions o;
  EXPECT_EQ(o.max_header_bytes, 16u * 1024);
  EXPECT_EQ(o.max_body_bytes, 1024u * 1024);
  EXPECT_EQ(o.read_timeout, absl::Seconds(10));
  EXPECT_EQ(o.idle_timeout, absl::Seconds(60));
  EXPECT_EQ(o.max_connections, 512);
  EXPECT_EQ(o.request_deadline, absl::Seconds(5));
}

TEST(HttpServerTest, AHeadOverTheDefaultLimitGets431) {
  auto server = StartServer({});
  ASSERT_NE(server, nullptr);
  // Just under the default passes; just over is refused, naming the limit.
  auto ok = HttpCall(server->port(), "GET", "/", "",
                     "X-Big: " + std::string(15 * 1024, 'a') + "\r\n");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
  auto big = HttpCall(server->port(), "GET", "/", "",
                      "X-Big: " + std::string(17 * 1024, 'a') + "\r\n");
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->status, 431);
  EXPECT_THAT(Diagnostics(*big), HasSubstr("larger than 16384 bytes"));
  EXPECT_EQ(big->headers["connection"], "close");
}

TEST(HttpServerTest, ABodyOverTheDefaultLimitGets413BeforeItIsSent) {
  auto server = StartServer({});
  ASSERT_NE(server, nullptr);
  auto ok = HttpCall(server->port(), "POST", "/", std::string(1 << 20, 'a'));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
  // Only the head is sent: the declared length alone is refused.
  HttpConnection c(server->port());
  ASSERT_TRUE(
      c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577"
             "\r\n\r\n"));
  auto big = c.Read(seconds(5));
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->status, 413);
  EXPECT_THAT(Diagnostics(*big), HasSubstr("larger than 1048576 bytes"));
}

TEST(HttpServerTest, ExpectContinueIsAnswered) {
  auto server = StartServer({});
  ASSERT_NE(server, nullptr);
  HttpConnection c(server->port());
  ASSERT_TRUE(
      c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
             "Expect: 100-continue\r\n\r\n"));
  auto cont = c.Read(seconds(5));
  ASSERT_TRUE(cont.has_value());
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(c.Send("abcd"));
  auto reply = c.Read(seconds(5));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(nlohmann::json::parse(reply->body)["body_bytes"], 4);
}

TEST(HttpServerTest, MalformedRequestsGet400) {
  auto server = StartServer({});
  ASSERT_NE(server, nullptr);
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
                          "GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n"}) {
    HttpConnection c(server->port());
    ASSERT_TRUE(c.Send(bad));
    auto reply = c.Read(seconds(5));
    ASSERT_TRUE(reply.has_value()) << bad;
    EXPECT_EQ(reply->status, 400) << bad;
    EXPECT_THAT(Diagnostics(*reply), HasSubstr("not well-formed")) << bad;
  }
}

TEST(HttpServerTest, ASlowSenderGets408AtTheDefaultReadTimeout) {
  auto server = StartServer({});
  ASSERT_NE(server, nullptr);
  HttpConnection c(server->port());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n"));
  auto reply = c.Read(seconds(20));
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 408);
  EXPECT_THAT(Diagnostics(*reply), HasSubstr("within 10s"));
  EXPECT_GE(waited, milliseconds(9500));
  EXPECT_TRUE(c.ClosedWithin(seconds(5)));
}

TEST(HttpServerTest, AnIdleConnectionIsClosedAfterTheIdleTimeout) {
  HttpOptions options;
  options.idle_timeout = absl::Milliseconds(300);
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  HttpConnection c(server->port());
  ASSERT_TRUE(c.SendRequest("GET", "/"));
  ASSERT_TRUE(c.Read(seconds(5)).has_value());
  // Silence, not 408: no request was under way.
  EXPECT_TRUE(c.ClosedWithin(seconds(5)));
}

TEST(HttpServerTest, ConnectionsOverTheLimitGet503) {
  HttpOptions options;
  options.max_connections = 3;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  std::vector<std::unique_ptr<HttpConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<HttpConnection>(server->port()));
    ASSERT_TRUE(held.back()->SendRequest("GET", "/"));
    ASSERT_TRUE(held.back()->Read(seconds(5)).has_value());
  }
  HttpConnection extra(server->port());
  ASSERT_TRUE(extra.connected());
  auto refused = extra.Read(seconds(5));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_THAT(Diagnostics(*refused), HasSubstr("as many connections"));
  // Once one closes, a new one is served.
  held.pop_back();
  std::optional<HttpReply> served;
  for (int i = 0; i < 50 && !(served && served->status == 200); ++i) {
    served = HttpCall(server->port(), "GET", "/");
    if (!served || served->status != 200) {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
}

TEST(HttpServerTest, AnAnswerLaterThanTheDeadlineIs503AndTheLateOneIsDropped) {
  HttpOptions options;
  options.request_deadline = absl::Milliseconds(200);
  std::vector<std::thread> late;
  auto server = StartServer(options, [&late](HttpRequest, Respond respond) {
    // Answers from another thread, after the deadline.
    late.emplace_back([respond = std::move(respond)]() mutable {
      std::this_thread::sleep_for(milliseconds(600));
      HttpResponse r;
      r.body = "{\"late\":true}";
      std::move(respond)(std::move(r));
    });
  });
  ASSERT_NE(server, nullptr);
  HttpConnection c(server->port());
  ASSERT_TRUE(c.SendRequest("GET", "/"));
  auto reply = c.Read(seconds(5));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 503);
  EXPECT_THAT(Diagnostics(*reply), HasSubstr("longer than 200ms"));
  // The late answer is not written after the 503.
  EXPECT_FALSE(c.Read(milliseconds(1000)).has_value());
  for (auto& t : late) t.join();
}

TEST(HttpServerTest, AnAnswerFromAnotherThreadInTimeIsWritten) {
  std::vector<std::thread> workers;
  auto server = StartServer({}, [&workers](HttpRequest, Respond respond) {
    workers.emplace_back([respond = std::move(respond)]() mutable {
      std::this_thread::sleep_for(milliseconds(50));
      HttpResponse r;
      r.status = 201;
      r.body = "{}";
      std::move(respond)(std::move(r));
    });
  });
  ASSERT_NE(server, nullptr);
  auto reply = HttpCall(server->port(), "GET", "/");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 201);
  for (auto& t : workers) t.join();
}

TEST(HttpServerTest, AHandlerThatThrowsGets500AndTheServerGoesOn) {
  std::atomic<int> calls{0};
  auto server = StartServer({}, [&calls](HttpRequest request, Respond respond) {
    if (calls++ == 0) throw std::runtime_error("a handler's bug");
    Echo(std::move(request), std::move(respond));
  });
  ASSERT_NE(server, nullptr);
  auto first = HttpCall(server->port(), "GET", "/");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 500);
  auto second = HttpCall(server->port(), "GET", "/");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 200);
}

TEST(HttpServerTest, AnswersAfterShutdownAreDroppedWithoutHarm) {
  Respond kept;
  auto server = StartServer(
      {}, [&kept](HttpRequest, Respond respond) { kept = std::move(respond); });
  ASSERT_NE(server, nullptr);
  HttpConnection c(server->port());
  ASSERT_TRUE(c.SendRequest("GET", "/"));
  std::this_thread::sleep_for(milliseconds(200));
  server->Shutdown(absl::Milliseconds(100));
  server.reset();
  ASSERT_TRUE(kept);
  std::move(kept)(HttpResponse{});  // after the server is gone
}

TEST(HttpServerTest, ABadAddressIsRefusedWithItsReason) {
  for (const char* bad : {"nohostport", "127.0.0.1:99999", "127.0.0.1:x"}) {
    auto server = HttpServer::Start(bad, {}, Echo);
    EXPECT_FALSE(server.ok()) << bad;
    EXPECT_THAT(std::string(server.status().message()), HasSubstr(bad));
  }
  auto first = HttpServer::Start("127.0.0.1:0", {}, Echo);
  ASSERT_TRUE(first.ok());
  auto taken = HttpServer::Start(
      "127.0.0.1:" + std::to_string((*first)->port()), {}, Echo);
  EXPECT_FALSE(taken.ok());
  EXPECT_THAT(std::string(taken.status().message()),
              HasSubstr("cannot listen"));
}

}  // namespace
}  // namespace reconnect::service::http
