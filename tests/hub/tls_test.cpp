// TLS: with options.tls the same server speaks HTTPS and WSS (self-signed certificate made at test time),
// to cpprestsdk and Beast clients; a client that never completes the TLS handshake is dropped.

#include <gtest/gtest.h>

// cpprestsdk would define a macro U(), which breaks Boost headers included after it.
#define _TURN_OFF_PLATFORM_STRING
#include <cpprest/http_client.h>

#include <openssl/ssl.h>
#include <future>

#include "hub/support/beast_client.hpp"
#include "hub/support/cpprest_client.hpp"
#include "hub/support/hub_harness.hpp"
#include "hub/support/raw_client.hpp"
#include "hub/support/self_signed.hpp"

namespace ovalstream::hub::testing {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  ServerOptions tls_options() {
    ServerOptions options = test_options();
    options.tls = make_server_tls_context();
    return options;
  }

  Router router() {
    return [this](const Request& request) -> Route {
      if (request.path == "/ws") return log_.handlers("secure");
      if (request.path == "/hello")
        return HttpResponse{200, "text/plain; charset=utf-8", "hello over tls\n", {}};
      return HttpResponse{404, "text/plain; charset=utf-8", "not found\n", {}};
    };
  }

  ConnectionLog log_;
};

TEST_F(TlsTest, CppRestWssClientReceivesFramesInOrder) {
  TestServer server(tls_options(), router());
  CppRestClient client("wss://127.0.0.1:" + std::to_string(server.port()) + "/ws");
  ASSERT_TRUE(client.connect(10s));
  auto connections = log_.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  std::vector<Payload> payloads;
  for (std::size_t size : {0, 5, 126, 40000, 70000}) payloads.push_back(text_payload(size, payloads.size()));
  std::vector<Frame> frames;
  for (const Payload& payload : payloads) frames.push_back(make_text_frame(payload));
  ASSERT_TRUE(connections[0]->send(frames));

  const auto received = client.wait_for_messages(payloads.size(), 10s);
  ASSERT_EQ(received.size(), payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) EXPECT_TRUE(received[i] == *payloads[i]) << i;
  EXPECT_EQ(server.observer().opened_on("secure"), 1u);
}

TEST_F(TlsTest, BeastSslClientReceivesManySmallFramesAndClosesCleanly) {
  TestServer server(tls_options(), router());
  boost::asio::ssl::context client_tls(boost::asio::ssl::context::tls_client);
  client_tls.set_verify_mode(boost::asio::ssl::verify_none);
  BeastTlsClient client(server.port(), "/ws", &client_tls);
  ASSERT_TRUE(client.connected()) << client.error().message();
  auto connections = log_.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  // Many small frames are coalesced into full TLS records; each must still arrive intact.
  std::vector<Frame> frames;
  for (std::size_t i = 0; i < 2000; ++i) frames.push_back(make_text_frame(text_payload(10 + i % 300, i)));
  ASSERT_TRUE(connections[0]->send(frames));
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto message = client.next_message(5s);
    ASSERT_TRUE(message) << i << ": " << client.error().message();
    ASSERT_EQ(*message, *frames[i].payload) << i;
  }

  connections[0]->close(close_code::kGoingAway, "maintenance");
  ASSERT_TRUE(client.wait_closed(5s));
  EXPECT_EQ(client.close_reason().code, close_code::kGoingAway);
  EXPECT_EQ(client.close_reason().reason, "maintenance");
  EXPECT_TRUE(wait_until([&] { return server.server().open_connections() == 0; }, 7s));
}

TEST_F(TlsTest, HttpsGetWithCppRestClient) {
  TestServer server(tls_options(), router());
  web::http::client::http_client_config config;
  config.set_validate_certificates(false);
  config.set_timeout(std::chrono::seconds(5));
  web::http::client::http_client client("https://127.0.0.1:" + std::to_string(server.port()), config);
  auto promise = std::make_shared<std::promise<std::pair<int, std::string>>>();
  auto future = promise->get_future();
  client.request(web::http::methods::GET, "/hello")
      .then([promise](pplx::task<web::http::http_response> task) {
        try {
          auto response = task.get();
          promise->set_value({response.status_code(), response.extract_string(true).get()});
        } catch (...) {
          promise->set_value({0, {}});
        }
      });
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  const auto [status, body] = future.get();
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, "hello over tls\n");
}

TEST_F(TlsTest, RenegotiationIsDisabled) {
  ServerOptions options = tls_options();
  const auto context = options.tls;
  ASSERT_EQ(SSL_CTX_get_options(context->native_handle()) & SSL_OP_NO_RENEGOTIATION, 0u)
      << "not set by the test";
  TestServer server(options, router());
  EXPECT_NE(SSL_CTX_get_options(context->native_handle()) & SSL_OP_NO_RENEGOTIATION, 0u)
      << "a client cannot make the server repeat handshakes on one connection";
}

TEST_F(TlsTest, ClientThatNeverHandshakesIsDroppedAfterTheTimeout) {
  ServerOptions options = tls_options();
  options.request_timeout = 300ms;
  TestServer server(options, router());
  RawClient client(server.port());
  ASSERT_TRUE(client.connected());
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.wait_for_eof(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);

  // Plain HTTP on the TLS port is not answered in clear text.
  RawClient plain(server.port());
  ASSERT_TRUE(plain.write_all("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto reply = plain.read_http(2s);
  EXPECT_FALSE(reply && reply->status == 200);
}

}  // namespace
}  // namespace ovalstream::hub::testing
