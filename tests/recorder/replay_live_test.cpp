// Replays into live consumers: the real recording into JetStream with a running aggregator, a client
// connected mid-way ends with the live view the core computes for the whole recording; and the websocket
// replay server (`--address`), where every client gets its own full replay from the start.
#include <gtest/gtest.h>

#include "aggregator/support/aggregator_process.hpp"
#include "aggregator/support/publishing.hpp"
#include "aggregator/support/ws_clients.hpp"
#include "ovalstream/core/record_codec.hpp"
#include "ovalstream/nats/connection.hpp"
#include "ovalstream/nats/jetstream.hpp"
#include "recorder/support/recorder_process.hpp"
#include "recorder/support/replay_files.hpp"
#include "support/nats_server.hpp"
#include "support/recording.hpp"
#include "support/skips.hpp"

namespace ovalstream::recorder::itest {
namespace {

using aggregator::itest::AggregatorProcess;
using aggregator::itest::fold_frames;
using aggregator::itest::same_live_view;
using aggregator::itest::TempDir;
using aggregator::itest::wait_until;
using aggregator::itest::WsClient;
using testing::NatsServerProcess;

std::string real_recording_path() {
  return testing::shared_data_dir() + "/" + testing::kRealRecordingName;
}

// The true state after the whole recording, at positions 1..n.
core::CompetitionState whole_recording_state(const std::vector<core::PositionedEvent>& events) {
  auto state = core::make_longtrack_state(events.front().event.header.competition_id);
  for (const auto& e : events) state.apply(e.event, e.position);
  return state;
}

std::uint64_t messages_in(const nats::Connection& connection, const std::string& stream) {
  auto info = nats::stream_info(connection, stream);
  return info && info->exists ? info->messages : 0;
}

// The listening port from the "serving replays over websocket" log line.
std::uint16_t replay_port(const RecorderProcess& process) {
  const auto lines = process.log_lines_with("serving replays over websocket");
  if (lines.empty()) return 0;
  const auto at = lines.front().find("\"address\":\"");
  if (at == std::string::npos) return 0;
  const auto colon = lines.front().find(':', lines.front().find("127.0.0.1", at));
  return static_cast<std::uint16_t>(std::stoi(lines.front().substr(colon + 1)));
}

TEST(ReplayLive, RealRecordingIntoJetStreamAClientJoiningMidwayGetsTheLiveView) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_NATS_AND_RECORDING(events);
  NatsServerProcess nats;
  aggregator::itest::Publisher admin(nats.url());
  ASSERT_TRUE(nats::create_stream(admin.connection(), "VANTAGE", {"competition.>"}).ok());
  AggregatorProcess aggregator(nats.url());
  const std::string competition_id = events->front().event.header.competition_id;

  // 4 minutes of recording at x24: about 10 s.
  RecorderProcess replay(
      {"replay", "--file", real_recording_path(), "--speed", "24", "--nats-url", nats.url()});
  // Join once about half of the recording is in the stream.
  ASSERT_TRUE(wait_until([&] { return messages_in(admin.connection(), "VANTAGE") >= 250; }, 60s))
      << replay.log_tail();
  const std::uint64_t published_at_join = messages_in(admin.connection(), "VANTAGE");
  WsClient late(aggregator.websocket_url("/v1/competitions/" + competition_id));
  ASSERT_TRUE(late.connect());
  const auto code = replay.wait_exit(60s);
  ASSERT_TRUE(code) << replay.log_tail();
  ASSERT_EQ(*code, 0) << replay.log_tail();
  EXPECT_LT(published_at_join, events->size()) << "the client did not join mid-way";
  ASSERT_EQ(messages_in(admin.connection(), "VANTAGE"), events->size());

  const auto expected = whole_recording_state(*events);
  // The client's view once the last event has arrived.
  const std::string last_bytes(events->back().event.raw());
  ASSERT_TRUE(late.wait_for_last(last_bytes, 30s));
  EXPECT_TRUE(same_live_view(expected, fold_frames(competition_id, late.messages())));
  // A snapshot, not the whole history.
  EXPECT_LT(late.message_count(), events->size());
  // And the aggregator's own state view agrees with the core's.
  const auto reply = aggregator::itest::http_get(aggregator.hub_port(), "/v1/competitions/" + competition_id);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, expected.state_view_json());
}

TEST(ReplayLive, FromSeekIntoJetStreamPublishesTheSnapshotThenTheRest) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_NATS_AND_RECORDING(events);
  NatsServerProcess nats;
  aggregator::itest::Publisher admin(nats.url());
  ASSERT_TRUE(nats::create_stream(admin.connection(), "VANTAGE", {"competition.>"}).ok());
  AggregatorProcess aggregator(nats.url());
  const std::string competition_id = events->front().event.header.competition_id;
  WsClient client(aggregator.websocket_url("/v1/competitions/" + competition_id));
  ASSERT_TRUE(client.connect());
  const RecorderRun run = run_recorder(
      {"replay", "--file", real_recording_path(), "--from", "2m", "--speed", "max", "--nats-url", nats.url()},
      60s);
  ASSERT_TRUE(run.exit_code);
  ASSERT_EQ(*run.exit_code, 0) << run.output;
  EXPECT_LT(messages_in(admin.connection(), "VANTAGE"), events->size());
  const auto expected = whole_recording_state(*events);
  ASSERT_TRUE(client.wait_for_last(std::string(events->back().event.raw()), 30s));
  EXPECT_TRUE(same_live_view(expected, fold_frames(competition_id, client.messages())));
}

TEST(ReplayLive, WebSocketServerGivesEveryClientTheWholeReplayFromTheStart) {
  TempDir dir;
  const auto events = generated_events(40);
  const std::string file = write_text_file(
      dir.path(), "ws.jsonl",
      recording_text(events, std::vector<std::chrono::microseconds>(40, std::chrono::milliseconds(20))));
  // 40 events 20 ms apart at x2: about 0.4 s per replay.
  RecorderProcess server({"replay", "--file", file, "--speed", "2", "--address", "127.0.0.1:0"});
  ASSERT_TRUE(server.wait_for_log("serving replays over websocket", 20s)) << server.log_tail();
  const std::uint16_t port = replay_port(server);
  ASSERT_NE(port, 0);

  WsClient first("ws://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(first.connect());
  ASSERT_TRUE(first.wait_for_count(10, 20s));
  // The second joins while the first is mid-way, on another path: it too starts from the beginning.
  WsClient second("ws://127.0.0.1:" + std::to_string(port) + "/anything");
  ASSERT_TRUE(second.connect());
  for (WsClient* client : {&first, &second}) {
    ASSERT_TRUE(client->wait_closed(30s));
    EXPECT_EQ(client->close_code(), 1000);
    EXPECT_EQ(client->messages(), events);  // byte for byte, without _time
  }
  // A plain GET explains.
  const auto reply = aggregator::itest::http_get(port, "/");
  EXPECT_EQ(reply.status, 426);
  EXPECT_NE(reply.body.find("wscat -c ws://"), std::string::npos) << reply.body;

  server.send_signal(SIGTERM);
  const auto code = server.wait_exit(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

TEST(ReplayLive, WebSocketServerFromSendsTheSnapshotFirst) {
  const auto events = testing::load_recording(testing::kRealRecordingName);
  SKIP_WITHOUT_RECORDING(events);
  RecorderProcess server({"replay", "--file", real_recording_path(), "--speed", "max", "--from",
                          "2020-01-12T14:48:00+01:00", "--address", "127.0.0.1:0"});
  ASSERT_TRUE(server.wait_for_log("serving replays over websocket", 20s)) << server.log_tail();
  WsClient client("ws://127.0.0.1:" + std::to_string(replay_port(server)));
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.wait_closed(30s));
  EXPECT_EQ(client.close_code(), 1000);
  const auto frames = client.messages();
  ASSERT_FALSE(frames.empty());
  EXPECT_LT(frames.size(), events->size());
  EXPECT_NE(frames.front().find("CompetitionActivatedEvent"), std::string::npos);
  EXPECT_TRUE(same_live_view(whole_recording_state(*events),
                             fold_frames(events->front().event.header.competition_id, frames)));
}

TEST(ReplayLive, WebSocketServerLoops) {
  TempDir dir;
  const auto events = generated_events(5);
  const std::string file = write_text_file(
      dir.path(), "loop.jsonl",
      recording_text(events, std::vector<std::chrono::microseconds>(5, std::chrono::milliseconds(5))));
  RecorderProcess server({"replay", "--file", file, "--loop", "--address", "127.0.0.1:0"});
  ASSERT_TRUE(server.wait_for_log("serving replays over websocket", 20s)) << server.log_tail();
  WsClient client("ws://127.0.0.1:" + std::to_string(replay_port(server)));
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.wait_for_count(12, 20s));
  const auto frames = client.messages();
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(frames[i], events[i % 5]) << i;
  EXPECT_FALSE(client.closed());
}

}  // namespace
}  // namespace ovalstream::recorder::itest
