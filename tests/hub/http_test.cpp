// HTTP side of the hub: the opening handshake, bad upgrades, routing, immediate and delayed responses,
// keep-alive, the connection limit and stop_accepting.

#include <gtest/gtest.h>

// cpprestsdk would define a macro U(), which breaks Boost headers included after it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/http_client.h>

#include <future>
#include <thread>

#include "hub/support/hub_harness.hpp"
#include "hub/support/raw_client.hpp"

namespace ovalstream::hub::testing {
namespace {

struct CppRestReply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string custom_header;
};

// A GET with cpprestsdk's HTTP client (an independent HTTP implementation), bounded by `timeout`.
std::optional<CppRestReply> cpprest_get(std::uint16_t port, const std::string& path,
                                        std::chrono::milliseconds timeout = 5s) {
  web::http::client::http_client_config config;
  config.set_timeout(timeout);
  web::http::client::http_client client("http://127.0.0.1:" + std::to_string(port), config);
  auto promise = std::make_shared<std::promise<std::optional<CppRestReply>>>();
  auto future = promise->get_future();
  client.request(web::http::methods::GET, path).then([promise](pplx::task<web::http::http_response> task) {
    try {
      auto response = task.get();
      CppRestReply reply;
      reply.status = response.status_code();
      reply.body = response.extract_string(true).get();
      reply.content_type = response.headers().content_type();
      if (response.headers().has("X-Ovalstream-Test"))
        reply.custom_header = response.headers()["X-Ovalstream-Test"];
      promise->set_value(reply);
    } catch (...) {
      promise->set_value(std::nullopt);
    }
  });
  if (future.wait_for(timeout + 1s) != std::future_status::ready) return std::nullopt;
  return future.get();
}

class HttpTest : public ::testing::Test {
 protected:
  Router router() {
    return [this](const Request& request) -> Route {
      if (request.path == "/ws") return log_.handlers("test");
      if (request.path == "/hello") {
        return HttpResponse{200,
                            "application/json",
                            "{\"hello\":\"" + request.target + "\"}",
                            {{"X-Ovalstream-Test", "yes"}}};
      }
      if (request.path == "/later") {
        return std::function<void(Respond)>([](Respond respond) {
          std::thread([respond] {
            std::this_thread::sleep_for(200ms);
            respond(HttpResponse{202, "text/plain; charset=utf-8", "later\n", {}});
            respond(HttpResponse{500, "text/plain", "a second answer is ignored\n", {}});
          }).detach();
        });
      }
      if (request.path == "/echo") {
        return HttpResponse{
            200,
            "text/plain; charset=utf-8",
            request.method + " " + std::string(request.header("x-echo-header")) + " " + request.body,
            {}};
      }
      if (request.path == "/throws") throw std::runtime_error("router failure");
      return HttpResponse{404, "text/plain; charset=utf-8", "not found\n", {}};
    };
  }

  ConnectionLog log_;
};

TEST_F(HttpTest, HandshakeAnswersRfcSampleAcceptKey) {
  TestServer server(test_options(), router());
  RawClient client(server.port());
  ASSERT_TRUE(client.write_all(upgrade_request("/ws")));
  auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 101);
  EXPECT_EQ(reply->header("Sec-WebSocket-Accept"), kSampleAccept);
  EXPECT_EQ(reply->header("Upgrade"), "websocket");
  EXPECT_EQ(reply->header("Connection"), "Upgrade");
  EXPECT_EQ(log_.wait_for(1, 5s).size(), 1u);
  EXPECT_TRUE(wait_until([&] { return server.observer().opened_on("test") == 1; }, 5s));
}

TEST_F(HttpTest, UpgradeWithoutKeyIs400) {
  TestServer server(test_options(), router());
  RawClient client(server.port());
  ASSERT_TRUE(client.write_all(upgrade_request("/ws", "")));
  auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_TRUE(client.wait_for_eof(5s));
  EXPECT_EQ(server.observer().opened.load(), 0u);
}

TEST_F(HttpTest, UpgradeWithInvalidKeyIs400) {
  TestServer server(test_options(), router());
  for (std::string_view key : {"not base64!", "dGhlIHNhbXBsZSBub25j", "dGhlIHNhbXBsZSBub25jZQ=A"}) {
    RawClient client(server.port());
    ASSERT_TRUE(client.write_all(upgrade_request("/ws", key)));
    auto reply = client.read_http(5s);
    ASSERT_TRUE(reply) << key;
    EXPECT_EQ(reply->status, 400) << key;
  }
}

TEST_F(HttpTest, UpgradeWithVersion12Is400NamingVersion13) {
  TestServer server(test_options(), router());
  RawClient client(server.port());
  ASSERT_TRUE(client.write_all(upgrade_request("/ws", kSampleKey, "12")));
  auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->header("Sec-WebSocket-Version"), "13");
}

TEST_F(HttpTest, UpgradeOfUnknownPathIsRouted404) {
  TestServer server(test_options(), router());
  RawClient client(server.port());
  ASSERT_TRUE(client.write_all(upgrade_request("/nope")));
  auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->body, "not found\n");
}

TEST_F(HttpTest, PlainGetOnWebSocketRouteIs426) {
  TestServer server(test_options(), router());
  RawClient client(server.port());
  ASSERT_TRUE(client.write_all("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 426);
}

TEST_F(HttpTest, ImmediateResponseWithCppRestClient) {
  TestServer server(test_options(), router());
  auto reply = cpprest_get(server.port(), "/hello?x=1");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "{\"hello\":\"/hello?x=1\"}");
  EXPECT_EQ(reply->content_type, "application/json");
  EXPECT_EQ(reply->custom_header, "yes");

  auto missing = cpprest_get(server.port(), "/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(HttpTest, DelayedResponseFromAnotherThread) {
  TestServer server(test_options(), router());
  const auto started = std::chrono::steady_clock::now();
  auto reply = cpprest_get(server.port(), "/later");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 202);
  EXPECT_EQ(reply->body, "later\n");
  EXPECT_GE(elapsed, 150ms);
}

TEST_F(HttpTest, KeepAliveAnswersSeveralRequestsOnOneConnection) {
  TestServer server(test_options(), router());
  RawClient client(server.port());
  // Two requests in one write (pipelined), then a delayed one, all on the same connection.
  ASSERT_TRUE(
      client.write_all("GET /hello?a HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = client.read_http(5s);
  auto second = client.read_http(5s);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "{\"hello\":\"/hello?a\"}");
  EXPECT_EQ(second->status, 404);
  ASSERT_TRUE(client.write_all("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto third = client.read_http(5s);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 202);
  ASSERT_TRUE(client.write_all("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto last = client.read_http(5s);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status, 200);
  EXPECT_EQ(last->header("Connection"), "close");
  EXPECT_TRUE(client.wait_for_eof(5s));
}

TEST_F(HttpTest, RequestCarriesMethodHeadersAndBody) {
  TestServer server(test_options(), router());
  RawClient client(server.port());
  ASSERT_TRUE(client.write_all(
      "POST /echo HTTP/1.1\r\nHost: x\r\nX-Echo-Header: seen\r\nContent-Length: 11\r\n\r\n{\"a\":\"b c\"}"));
  auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "POST seen {\"a\":\"b c\"}");
}

TEST_F(HttpTest, BodyOverTheLimitIs413) {
  ServerOptions options = test_options();
  options.max_request_body_bytes = 16;
  TestServer server(options, router());
  RawClient client(server.port());
  ASSERT_TRUE(client.write_all("DELETE /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n" +
                               std::string(17, 'x')));
  auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
}

TEST_F(HttpTest, RouterExceptionIs500) {
  TestServer server(test_options(), router());
  RawClient client(server.port());
  ASSERT_TRUE(client.write_all("GET /throws HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
}

TEST_F(HttpTest, MalformedRequestIs400AndOversizeHeaderIs431) {
  TestServer server(test_options(), router());
  {
    RawClient client(server.port());
    ASSERT_TRUE(client.write_all("NOT HTTP AT ALL\r\n\r\n"));
    auto reply = client.read_http(5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 400);
  }
  {
    RawClient client(server.port());
    ASSERT_TRUE(
        client.write_all("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n"));
    auto reply = client.read_http(5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 431);
  }
  // The server still serves.
  auto reply = cpprest_get(server.port(), "/hello");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(HttpTest, IdleRequestTimesOut) {
  ServerOptions options = test_options();
  options.request_timeout = 200ms;
  TestServer server(options, router());
  RawClient client(server.port());
  ASSERT_TRUE(client.write_all("GET /hello HTTP/1.1\r\n"));  // never finished
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.wait_for_eof(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(HttpTest, UpgradesOverMaxConnectionsAre503) {
  ServerOptions options = test_options();
  options.max_connections = 2;
  TestServer server(options, router());
  RawClient first(server.port()), second(server.port());
  ASSERT_TRUE(first.handshake());
  ASSERT_TRUE(second.handshake());

  RawClient third(server.port());
  ASSERT_TRUE(third.write_all(upgrade_request("/ws")));
  auto reply = third.read_http(5s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(server.observer().rejected("max_connections"), 1u);
  // The count follows the handshakes on the server's threads: wait for it rather than race it.
  EXPECT_TRUE(wait_until([&] { return server.server().open_connections() == 2; }, 5s))
      << server.server().open_connections();

  // Plain HTTP is not limited.
  auto plain = cpprest_get(server.port(), "/hello");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);

  // A closed connection frees its slot.
  first.close();
  ASSERT_TRUE(wait_until([&] { return server.server().open_connections() == 1; }, 5s));
  RawClient fourth(server.port());
  EXPECT_TRUE(fourth.handshake());
}

TEST_F(HttpTest, StopAcceptingRefusesNewConnectionsAndKeepsOpenOnes) {
  TestServer server(test_options(), router());
  RawClient open(server.port());
  ASSERT_TRUE(open.handshake());
  auto connections = log_.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  RawClient keep_alive(server.port());
  ASSERT_TRUE(keep_alive.write_all("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(keep_alive.read_http(5s));

  server.server().stop_accepting();
  EXPECT_TRUE(wait_until([&] { return !RawClient(server.port()).connected(); }, 5s));
  // An upgrade on a connection accepted before is refused too: the server is draining.
  ASSERT_TRUE(keep_alive.write_all(upgrade_request("/ws")));
  auto refused = keep_alive.read_http(5s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(server.observer().rejected("draining"), 1u);

  EXPECT_TRUE(connections[0]->send(make_text_frame(std::make_shared<const std::string>("still here"))));
  auto frame = open.read_frame(5s);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, "still here");
  EXPECT_EQ(server.server().open_connections(), 1u);
}

}  // namespace
}  // namespace ovalstream::hub::testing
