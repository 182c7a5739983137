// What clients may send: control frames are answered (ping -> pong, close -> close), malformed frames close
// the connection with the right code, and no input crashes the server or affects other connections. Data
// frames (heartbeats) are in client_data_frames_test.cpp.

#include <gtest/gtest.h>

#include <random>

#include "hub/support/beast_client.hpp"
#include "hub/support/raw_client_fixture.hpp"

namespace ovalstream::hub::testing {
namespace {

constexpr std::uint8_t kFinClose = 0x88;
constexpr std::uint8_t kFinPing = 0x89;
constexpr std::uint8_t kFinPong = 0x8A;

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return payload;
}

using ClientFramesTest = RawClientTest;

TEST_F(ClientFramesTest, PingIsAnsweredWithPongCarryingTheSamePayload) {
  RawClient client = open_client();
  ASSERT_TRUE(client.write_all(client_frame(kFinPing, "are you there?")));
  auto pong = client.read_frame(5s);
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->first_byte, 0x8A);
  EXPECT_FALSE(pong->masked);
  EXPECT_EQ(pong->payload, "are you there?");

  // An empty ping, and a 125-byte one (the control frame maximum).
  ASSERT_TRUE(client.write_all(client_frame(kFinPing, "") + client_frame(kFinPing, std::string(125, 'p'))));
  auto empty = client.read_frame(5s);
  auto longest = client.read_frame(5s);
  ASSERT_TRUE(empty && longest);
  EXPECT_EQ(empty->payload, "");
  EXPECT_EQ(longest->payload, std::string(125, 'p'));
}

TEST_F(ClientFramesTest, BeastClientPingGetsPong) {
  BeastClient client(server_.port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.ping("beast", 5s));
  client.next_message(300ms);  // pumps until the pong arrives (no messages are expected)
  ASSERT_EQ(client.pongs().size(), 1u);
  EXPECT_EQ(client.pongs()[0], "beast");
}

TEST_F(ClientFramesTest, PingSplitAcrossReadsAndPipelinedWithUpgradeIsAnswered) {
  RawClient client(server_.port());
  // The frame arrives together with the upgrade request, then one byte at a time.
  ASSERT_TRUE(client.write_all(upgrade_request("/ws") + client_frame(kFinPing, "early")));
  auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 101);
  auto early = client.read_frame(5s);
  ASSERT_TRUE(early);
  EXPECT_EQ(early->payload, "early");

  const std::string frame = client_frame(kFinPing, "slowly");
  for (char byte : frame) {
    ASSERT_TRUE(client.write_all(std::string(1, byte)));
    std::this_thread::sleep_for(2ms);
  }
  auto pong = client.read_frame(5s);
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->payload, "slowly");
}

TEST_F(ClientFramesTest, PongIsAcceptedSilently) {
  RawClient client = open_client();
  ASSERT_TRUE(client.write_all(client_frame(kFinPong, "unsolicited")));
  EXPECT_FALSE(client.read_frame(200ms));
  auto connections = log_.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_TRUE(connections[0]->is_open());
}

TEST_F(ClientFramesTest, UnmaskedFrameIsClosed1002) {
  auto close = close_after(client_frame(kFinPing, "naked", /*masked=*/false));
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), close_code::kProtocolError);
}

TEST_F(ClientFramesTest, ReservedBitsAreClosed1002) {
  auto close = close_after(client_frame(kFinPing | 0x40, "rsv1"));
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), close_code::kProtocolError);
}

TEST_F(ClientFramesTest, UnknownOpcodeIsClosed1002) {
  auto close = close_after(client_frame(0x83, "opcode 3"));
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), close_code::kProtocolError);
}

TEST_F(ClientFramesTest, FragmentedOrLongControlFrameIsClosed1002) {
  auto fragmented = close_after(client_frame(0x09, "no FIN"));
  ASSERT_TRUE(fragmented);
  EXPECT_EQ(fragmented->close_code(), close_code::kProtocolError);
  auto long_ping = close_after(client_frame(kFinPing, std::string(126, 'p')));
  ASSERT_TRUE(long_ping);
  EXPECT_EQ(long_ping->close_code(), close_code::kProtocolError);
}

TEST_F(ClientFramesTest, ClientCloseIsEchoedThenConnectionEnds) {
  RawClient client = open_client();
  auto connections = log_.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);
  ASSERT_TRUE(client.write_all(client_frame(kFinClose, close_payload(4001, "done watching"))));
  auto close = client.read_frame(5s);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode(), 0x8);
  EXPECT_EQ(close->close_code(), 4001);
  EXPECT_TRUE(client.wait_for_eof(5s));
  EXPECT_TRUE(wait_until([&] { return log_.closed_count() == 1; }, 5s));
  EXPECT_FALSE(connections[0]->is_open());
  EXPECT_EQ(server_.observer().closed_on("test"), 1u);

  // A close without a code is answered with 1000; an invalid code with 1002.
  auto no_code = close_after(client_frame(kFinClose, ""));
  ASSERT_TRUE(no_code);
  EXPECT_EQ(no_code->close_code(), close_code::kNormal);
  auto bad_code = close_after(client_frame(kFinClose, close_payload(1005)));
  ASSERT_TRUE(bad_code);
  EXPECT_EQ(bad_code->close_code(), close_code::kProtocolError);
}

TEST_F(ClientFramesTest, BeastClientCloseCompletesTheClosingHandshake) {
  BeastClient client(server_.port());
  ASSERT_TRUE(client.connected());
  // async_close succeeds only when the server's close frame arrived (Beast aborts the pending read).
  ASSERT_TRUE(client.close(close_code::kGoingAway, 5s)) << client.error().message();
  EXPECT_EQ(client.close_reason().code, close_code::kGoingAway);
  EXPECT_TRUE(wait_until([&] { return server_.server().open_connections() == 0; }, 5s));
}

TEST_F(ClientFramesTest, GarbageNeverAffectsOtherConnections) {
  RawClient bystander = open_client();
  auto connections = log_.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);

  std::mt19937 random(20200112);
  for (int round = 0; round < 40; ++round) {
    RawClient client = open_client();
    std::string garbage(1 + random() % 400, '\0');
    for (char& byte : garbage) byte = static_cast<char>(random());
    if (round % 2 == 0) garbage = client_frame(kFinPing, "ok") + garbage;  // valid, then not
    ASSERT_TRUE(client.write_all(garbage));
    // Some wait for the server's verdict, some hang up at once (a frame may also just be incomplete).
    client.wait_for_eof(round % 4 == 0 ? 200ms : 5ms);
  }
  ASSERT_TRUE(connections[0]->send(make_text_frame(std::make_shared<const std::string>("still fine"))));
  auto frame = bystander.read_frame(5s);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, "still fine");
}

}  // namespace
}  // namespace ovalstream::hub::testing
