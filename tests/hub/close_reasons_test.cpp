// What the hub reports for metrics beyond the counts of the delivery tests: why each websocket closed
// (once, the first cause), the memory queued to clients (total and largest), and plain responses by status.

#include <gtest/gtest.h>

#include <set>

#include "hub/support/hub_harness.hpp"
#include "hub/support/raw_client.hpp"
#include "ovalstream/hub/frame.hpp"

namespace ovalstream::hub::testing {
namespace {

using Reasons = std::map<std::string, std::uint64_t>;

// Waits until the observer saw `count` closes in all; returns them by reason.
Reasons wait_for_closes(RecordingObserver& observer, std::uint64_t count) {
  wait_until(
      [&] {
        std::uint64_t seen = 0;
        for (const auto& [reason, closes] : observer.close_reasons()) seen += closes;
        return seen >= count;
      },
      10s);
  return observer.close_reasons();
}

TEST(CloseReasons, EveryReasonTheHubReportsIsDeclared) {
  // The telemetry exposes each declared reason at 0 from the start; a reason reported but not declared
  // would appear only at its first close.
  std::set<std::string> declared(std::begin(kWebSocketCloseReasons), std::end(kWebSocketCloseReasons));
  EXPECT_EQ(declared.size(), 9u);
  for (const char* reason : {"client_close", "client_gone", "ping_timeout", "slow_consumer", "message_size",
                             "frame_rate", "protocol_error", "server", "shutdown"}) {
    EXPECT_TRUE(declared.contains(reason)) << reason;
  }
}

TEST(CloseReasons, ClientCloseFrameClientGoneAndServerClose) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  RawClient closing(server.port()), vanishing(server.port()), closed_by_server(server.port());
  ASSERT_TRUE(closing.handshake());
  ASSERT_TRUE(vanishing.handshake());
  ASSERT_TRUE(closed_by_server.handshake());
  const auto connections = log.wait_for(3, 5s);
  ASSERT_EQ(connections.size(), 3u);

  ASSERT_TRUE(closing.write_all(client_frame(0x88, std::string("\x03\xe8", 2))));  // close 1000
  ASSERT_TRUE(closing.read_until_close(5s));
  vanishing.close();  // EOF, no close frame
  connections[2]->close(close_code::kGoingAway, "server shutting down");
  ASSERT_TRUE(closed_by_server.read_until_close(5s));
  closed_by_server.write_all(client_frame(0x88, std::string("\x03\xe9", 2)));  // its close answer

  const Reasons reasons = wait_for_closes(server.observer(), 3);
  EXPECT_EQ(reasons, (Reasons{{"client_close", 1}, {"client_gone", 1}, {"server", 1}}));
}

TEST(CloseReasons, PingTimeoutProtocolErrorAndMessageSize) {
  ConnectionLog log;
  ServerOptions options = test_options();
  options.ping_interval = 100ms;
  options.pong_timeout = 400ms;
  options.max_client_message_bytes = 1024;
  TestServer server(options, websocket_router(log));
  RawClient silent(server.port()), unmasked(server.port()), oversized(server.port());
  ASSERT_TRUE(silent.handshake());
  ASSERT_TRUE(unmasked.handshake());
  ASSERT_TRUE(oversized.handshake());
  // Both answer by sending before the silent one times out.
  ASSERT_TRUE(unmasked.write_all(client_frame(0x81, "{}", false)));   // clients must mask: 1002
  ASSERT_TRUE(oversized.write_all(client_frame_header(0x82, 4096)));  // a message over the bound: 1009
  // Each reads its close and hangs up rather than waiting out the close timeout.
  for (RawClient* client : {&unmasked, &oversized}) {
    EXPECT_TRUE(client->read_until_close(5s));
    client->close();
  }

  const Reasons reasons = wait_for_closes(server.observer(), 3);
  EXPECT_EQ(reasons, (Reasons{{"message_size", 1}, {"ping_timeout", 1}, {"protocol_error", 1}}));
}

TEST(CloseReasons, SlowConsumerIsReportedOnceWithItsFirstCause) {
  ConnectionLog log;
  ServerOptions options = test_options();
  options.client_queue_bytes = 256 * 1024;
  TestServer server(options, websocket_router(log));
  RawClient slow(server.port(), 4096);  // never reads
  ASSERT_TRUE(slow.handshake());
  const auto connections = log.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);
  const Frame frame = make_frame(Opcode::kBinary, text_payload(16 * 1024, 0));
  for (int i = 0; i < 10'000 && server.observer().slow_consumers.load() == 0; ++i)
    connections[0]->send(frame);
  ASSERT_EQ(server.observer().slow_consumers.load(), 1u);
  slow.close();  // the closing handshake never completes: the connection ends with an EOF
  EXPECT_EQ(wait_for_closes(server.observer(), 1), (Reasons{{"slow_consumer", 1}}));
}

TEST(QueuedBytes, TotalAndLargestFollowWhatClientsHaveNotTakenAndGoWithThem) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  RawClient slow(server.port(), 4096), fast(server.port());  // slow never reads
  ASSERT_TRUE(slow.handshake());
  ASSERT_TRUE(fast.handshake());
  auto connections = log.wait_for(2, 5s);
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_EQ(server.server().queued_bytes().total, 0u);

  // Until the kernel's buffers are full and frames queue (well under the 8 MiB bound).
  const Frame frame = make_frame(Opcode::kBinary, text_payload(16 * 1024, 0));
  for (int i = 0; i < 300 && server.server().queued_bytes().largest < 512 * 1024; ++i) {
    ASSERT_TRUE(connections[0]->send(frame));
  }
  const QueuedBytes queued = server.server().queued_bytes();
  EXPECT_GE(queued.largest, 512u * 1024);
  EXPECT_LE(queued.largest, test_options().client_queue_bytes);
  EXPECT_EQ(queued.total, queued.largest);  // the fast client has nothing queued

  slow.close();
  EXPECT_TRUE(wait_until([&] { return server.server().queued_bytes().total == 0; }, 10s));
  EXPECT_EQ(server.server().queued_bytes().largest, 0u);
}

TEST(HttpResponses, AreReportedByStatusButNotTheUpgrade) {
  ConnectionLog log;
  TestServer server(test_options(), websocket_router(log));
  for (int i = 0; i < 2; ++i) {
    RawClient client(server.port());
    ASSERT_TRUE(client.write_all("GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const auto reply = client.read_http(5s);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 404);
  }
  RawClient upgraded(server.port());
  ASSERT_TRUE(upgraded.handshake());
  RawClient plain_get_of_ws(server.port());
  ASSERT_TRUE(plain_get_of_ws.write_all("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(plain_get_of_ws.read_http(5s));  // 426: a websocket route asked without an upgrade
  EXPECT_EQ(server.observer().responses(404), 2u);
  EXPECT_EQ(server.observer().responses(426), 1u);
  EXPECT_EQ(server.observer().responses(101), 0u);
}

}  // namespace
}  // namespace ovalstream::hub::testing
