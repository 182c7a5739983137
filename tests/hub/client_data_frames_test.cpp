// Data frames from clients (text, binary, continuations): browsers cannot ping, so apps send JSON heartbeats.
// The hub reads and discards them as the original server did, within the message bound (1009) and the
// frame rate (1008), and keeps serving the connection meanwhile.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>

#include "hub/support/beast_client.hpp"
#include "hub/support/raw_client_fixture.hpp"

namespace ovalstream::hub::testing {
namespace {

constexpr std::uint8_t kFinText = 0x81;
constexpr std::uint8_t kFinBinary = 0x82;
constexpr std::uint8_t kText = 0x01;  // no FIN: a fragmented message starts
constexpr std::uint8_t kContinuation = 0x00;
constexpr std::uint8_t kFinContinuation = 0x80;
constexpr std::uint8_t kFinPing = 0x89;

constexpr std::size_t k64KiB = 64 * 1024;
const std::string kHeartbeat = R"({"type":"ping"})";

class ClientDataFramesTest : public RawClientTest {
 protected:
  explicit ClientDataFramesTest(ServerOptions options = test_options()) : RawClientTest(std::move(options)) {}

  // A ping answered proves the server parsed everything the client sent before it, and kept the connection.
  // Earlier pongs and other frames are passed over.
  static void expect_pong(RawClient& client, const std::string& payload) {
    std::optional<ServerFrame> frame;
    while ((frame = client.read_frame(5s)) && !(frame->opcode() == 0xA && frame->payload == payload)) {
      ASSERT_NE(frame->opcode(), 0x8) << "closed " << frame->close_code() << " " << frame->close_reason();
    }
    ASSERT_TRUE(frame) << "no pong for '" << payload << "'";
  }
};

TEST_F(ClientDataFramesTest, JsonHeartbeatsEvery100MsKeepTheConnectionAndItsStream) {
  RawClient client = open_client();
  const auto connections = log_.wait_for(1, 5s);
  ASSERT_EQ(connections.size(), 1u);
  // 3 s of a heartbeat every 100 ms, an event from the server after each.
  constexpr int kBeats = 30;
  for (int beat = 0; beat < kBeats; ++beat) {
    ASSERT_TRUE(client.write_all(client_frame(kFinText, kHeartbeat)));
    ASSERT_TRUE(connections[0]->send(make_text_frame(text_payload(64, beat)))) << "closed at beat " << beat;
    const auto event = client.read_frame(5s);
    ASSERT_TRUE(event) << "beat " << beat;
    ASSERT_EQ(event->opcode(), 0x1) << "beat " << beat << ": close " << event->close_code();
    EXPECT_EQ(event->payload, *text_payload(64, beat));
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(connections[0]->is_open());
  EXPECT_TRUE(wait_until([&] { return server_.observer().client_frames_discarded.load() == kBeats; }, 5s))
      << server_.observer().client_frames_discarded.load();
}

TEST_F(ClientDataFramesTest, TextBinaryAndFragmentedMessagesAreDiscardedBetweenControlFrames) {
  RawClient client = open_client();
  ASSERT_TRUE(client.write_all(
      client_frame(kFinText, kHeartbeat) + client_frame(kFinBinary, std::string("\x00\x01\x02", 3)) +
      client_frame(kFinText, "") + client_frame(kFinText, std::string("\xff\xfe", 2)) +
      client_frame(kText, "frag") + client_frame(kFinPing, "between") + client_frame(kContinuation, "ment") +
      client_frame(kFinContinuation, "ed")));
  expect_pong(client, "between");
  ASSERT_TRUE(client.write_all(client_frame(kFinPing, "after")));
  expect_pong(client, "after");
  EXPECT_EQ(server_.observer().client_frames_discarded.load(), 7u);
  const auto connections = log_.wait_for(1, 1s);
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_TRUE(connections[0]->is_open());
}

TEST_F(ClientDataFramesTest, ARealClientsTextMessagesAreDiscarded) {
  BeastClient client(server_.port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.send_text(kHeartbeat, 5s)) << client.error().message();
  ASSERT_TRUE(client.ping("after", 5s));
  client.next_message(300ms);  // pumps until the pong arrives
  ASSERT_EQ(client.pongs().size(), 1u);
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(server_.observer().client_frames_discarded.load(), 5u);
}

TEST_F(ClientDataFramesTest, ADataFrameSplitAcrossReadsAndPipelinedWithTheUpgradeIsSkipped) {
  RawClient client(server_.port());
  ASSERT_TRUE(client.write_all(upgrade_request("/ws") + client_frame(kFinText, kHeartbeat) +
                               client_frame(kFinPing, "early")));
  const auto reply = client.read_http(5s);
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 101);
  expect_pong(client, "early");
  // 1000 bytes of payload (a 16-bit length), then a ping, in pieces of 1 to 300 bytes.
  const std::string stream =
      client_frame(kFinBinary, std::string(1000, 'b')) + client_frame(kFinPing, "split");
  std::mt19937 random(13);
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t count = std::min<std::size_t>(stream.size() - at, 1 + random() % 300);
    ASSERT_TRUE(client.write_all(stream.substr(at, count)));
    at += count;
    std::this_thread::sleep_for(2ms);
  }
  expect_pong(client, "split");
}

TEST_F(ClientDataFramesTest, A64KiBFrameIsDiscardedAndOneByteMoreIsClosed1009) {
  RawClient client = open_client();
  ASSERT_TRUE(
      client.write_all(client_frame(kFinText, std::string(k64KiB, 'x')) + client_frame(kFinPing, "")));
  expect_pong(client, "");

  // Refused from the header: the server does not wait for the payload.
  auto just_over = close_after(client_frame_header(kFinText, k64KiB + 1));
  ASSERT_TRUE(just_over);
  EXPECT_EQ(just_over->close_code(), close_code::kMessageTooBig);
  auto huge = close_after(client_frame_header(kFinBinary, 1ull << 40));
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->close_code(), close_code::kMessageTooBig);
  EXPECT_EQ(server_.observer().limit_closes("message_size"), 2u);
}

TEST_F(ClientDataFramesTest, AFragmentedMessageOverTheBoundIsClosed1009) {
  RawClient client = open_client();
  const std::string half(k64KiB / 2, 'h');
  // Exactly the bound, in two frames: discarded.
  ASSERT_TRUE(client.write_all(client_frame(kText, half) + client_frame(kFinContinuation, half) +
                               client_frame(kFinPing, "exact")));
  expect_pong(client, "exact");
  // The next message counts from zero; one byte over the bound in its third frame: closed from that header.
  ASSERT_TRUE(client.write_all(client_frame(kText, half) + client_frame(kContinuation, half) +
                               client_frame_header(kFinContinuation, 1)));
  const auto close = client.read_until_close(5s);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), close_code::kMessageTooBig);
  EXPECT_TRUE(client.wait_for_eof(5s));
  EXPECT_EQ(server_.observer().limit_closes("message_size"), 1u);
}

TEST_F(ClientDataFramesTest, DataFramesOutOfSequenceAreClosed1002) {
  auto lone = close_after(client_frame(kFinContinuation, "rest"));
  ASSERT_TRUE(lone);
  EXPECT_EQ(lone->close_code(), close_code::kProtocolError);
  auto interleaved = close_after(client_frame(kText, "start") + client_frame(kFinText, "another"));
  ASSERT_TRUE(interleaved);
  EXPECT_EQ(interleaved->close_code(), close_code::kProtocolError);
  auto unmasked = close_after(client_frame(kFinText, kHeartbeat, /*masked=*/false));
  ASSERT_TRUE(unmasked);
  EXPECT_EQ(unmasked->close_code(), close_code::kProtocolError);
}

// The default rate: 10 frames/s over 10 s, so a bucket of 100.
TEST_F(ClientDataFramesTest, ABurstOverTheRateIsClosed1008) {
  RawClient within = open_client();
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += client_frame(kFinText, kHeartbeat);
  ASSERT_TRUE(within.write_all(hundred + client_frame(kFinPing, "within")));
  expect_pong(within, "within");

  std::string burst;
  for (int i = 0; i < 150; ++i) burst += client_frame(kFinText, kHeartbeat);
  auto close = close_after(burst);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), close_code::kPolicyViolation);
  EXPECT_EQ(server_.observer().limit_closes("frame_rate"), 1u);
  // Pings and pongs never count: the first connection answers pings still.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(within.write_all(client_frame(kFinPing, "")));
  ASSERT_TRUE(within.write_all(client_frame(kFinPing, "still")));
  expect_pong(within, "still");
}

class UnlimitedClientFrameRateTest : public ClientDataFramesTest {
 protected:
  UnlimitedClientFrameRateTest() : ClientDataFramesTest(options()) {}
  static ServerOptions options() {
    ServerOptions options = test_options();
    options.client_frame_rate = 0;
    options.max_client_message_bytes = 1000;
    return options;
  }
};

TEST_F(UnlimitedClientFrameRateTest, ZeroRateIsNoLimitAndTheBoundIsAnOption) {
  RawClient client = open_client();
  std::string many;
  for (int i = 0; i < 2000; ++i) many += client_frame(kFinText, kHeartbeat);
  ASSERT_TRUE(client.write_all(many + client_frame(kFinBinary, std::string(1000, 'x')) +
                               client_frame(kFinPing, "unlimited")));
  expect_pong(client, "unlimited");
  EXPECT_EQ(server_.observer().client_frames_discarded.load(), 2001u);
  auto close = close_after(client_frame_header(kFinBinary, 1001));
  ASSERT_TRUE(close);
  EXPECT_EQ(close->close_code(), close_code::kMessageTooBig);
}

}  // namespace
}  // namespace ovalstream::hub::testing
