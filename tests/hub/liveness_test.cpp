// Liveness: the server pings every ping_interval; a peer from which nothing arrives within pong_timeout
// is closed, one that answers stays open (raw client answering by hand, Beast and cpprestsdk clients
// answering on their own), and so does one that sends heartbeats (data frames) instead.

#include <gtest/gtest.h>

#include "hub/support/beast_client.hpp"
#include "hub/support/cpprest_client.hpp"
#include "hub/support/hub_harness.hpp"
#include "hub/support/raw_client.hpp"

namespace ovalstream::hub::testing {
namespace {

ServerOptions fast_liveness_options() {
  ServerOptions options = test_options();
  options.ping_interval = 100ms;
  options.pong_timeout = 400ms;
  return options;
}

TEST(Liveness, SilentPeerIsPingedThenClosedWithinTheTimeout) {
  ConnectionLog log;
  TestServer server(fast_liveness_options(), websocket_router(log));
  RawClient client(server.port());
  ASSERT_TRUE(client.handshake());
  const auto opened = std::chrono::steady_clock::now();

  int pings = 0;
  std::optional<ServerFrame> close;
  while (auto frame = client.read_frame(3s)) {
    if (frame->opcode() == 0x9) ++pings;  // read, never answered
    if (frame->opcode() == 0x8) {
      close = frame;
      break;
    }
  }
  const auto closed_after = std::chrono::steady_clock::now() - opened;
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), close_code::kGoingAway);
  EXPECT_EQ(close->close_reason(), "ping timeout");
  EXPECT_GE(pings, 2);
  // pong_timeout 400 ms, plus at most one sweep tick (25 ms); generous for a loaded machine.
  EXPECT_GE(closed_after, 350ms);
  EXPECT_LT(closed_after, 2s);
  EXPECT_TRUE(client.wait_for_eof(2s));
  EXPECT_TRUE(wait_until([&] { return server.server().open_connections() == 0; }, 2s));
  // The close callback may run just after the count drops (seen under ASan): wait for it, then exactly one.
  EXPECT_TRUE(wait_until([&] { return log.closed_count() >= 1u; }, 2s));
  EXPECT_EQ(log.closed_count(), 1u);
}

TEST(Liveness, PeerThatAnswersPingsStaysOpen) {
  ConnectionLog log;
  TestServer server(fast_liveness_options(), websocket_router(log));
  RawClient client(server.port());
  ASSERT_TRUE(client.handshake());

  int pings = 0;
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    auto frame = client.read_frame(200ms);
    if (!frame) continue;
    ASSERT_NE(frame->opcode(), 0x8) << "closed although every ping was answered";
    if (frame->opcode() == 0x9) {
      ++pings;
      ASSERT_TRUE(client.write_all(client_frame(0x8A, frame->payload)));
    }
  }
  EXPECT_GE(pings, 8);  // 1.5 s at one ping per 100 ms (+ one tick)
  auto connections = log.wait_for(1, 1s);
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_TRUE(connections[0]->is_open());
}

// A browser app cannot answer pings itself (the browser does, but an app behind a proxy that eats them
// cannot tell): its JSON heartbeats are signs of life like pongs.
TEST(Liveness, HeartbeatsAloneKeepAPeerThatNeverAnswersPings) {
  ConnectionLog log;
  TestServer server(fast_liveness_options(), websocket_router(log));
  RawClient client(server.port());
  ASSERT_TRUE(client.handshake());

  int pings = 0;
  const auto until = std::chrono::steady_clock::now() + 1500ms;  // past three pong timeouts
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(client.write_all(client_frame(0x81, R"({"type":"ping"})")));
    const auto next_beat = std::chrono::steady_clock::now() + 100ms;
    for (auto now = std::chrono::steady_clock::now(); now < next_beat;
         now = std::chrono::steady_clock::now()) {
      const auto frame =
          client.read_frame(std::chrono::duration_cast<std::chrono::milliseconds>(next_beat - now) + 1ms);
      if (!frame) break;
      ASSERT_NE(frame->opcode(), 0x8) << "closed " << frame->close_code() << " " << frame->close_reason();
      if (frame->opcode() == 0x9) ++pings;  // read, never answered
    }
  }
  EXPECT_GE(pings, 8);
  auto connections = log.wait_for(1, 1s);
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_TRUE(connections[0]->is_open());
}

TEST(Liveness, RealClientsAnswerPingsAndStayOpen) {
  ConnectionLog log;
  TestServer server(fast_liveness_options(), websocket_router(log));
  CppRestClient cpprest("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws");
  ASSERT_TRUE(cpprest.connect());
  BeastClient beast(server.port());
  ASSERT_TRUE(beast.connected());

  beast.pump(1500ms);  // the Beast client answers pings while its read is pending
  EXPECT_FALSE(beast.closed()) << beast.error().message();
  EXPECT_GE(beast.pings(), 8);
  EXPECT_FALSE(cpprest.closed());
  auto connections = log.wait_for(2, 1s);
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_TRUE(connections[0]->is_open());
  EXPECT_TRUE(connections[1]->is_open());
  EXPECT_EQ(server.server().open_connections(), 2u);
}

}  // namespace
}  // namespace ovalstream::hub::testing
